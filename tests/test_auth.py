from datetime import timedelta

import pytest
import time_machine
from django.conf import settings as django_settings
from django.test import Client
from django.utils import timezone

from accretion.audit.models import AuditEvent
from accretion.clinics.models import ApiToken
from tests.conftest import signed_in

PASSWORD = "correct horse battery"


def sign_in(client, username, password):
    return client.post("/accounts/login/", {"username": username, "password": password})


def test_sign_in_is_audited_and_lands_on_the_start_page(staff):
    client = Client()
    response = sign_in(client, "nurse@north.test", PASSWORD)
    assert response.status_code == 302 and response["Location"] == "/"
    assert AuditEvent.objects.filter(action="login", username="nurse@north.test").count() == 1


def test_wrong_password_shows_an_error_and_is_audited(staff):
    response = sign_in(Client(), "nurse@north.test", "nope")
    assert response.status_code == 200
    assert b"Please enter a correct" in response.content
    row = AuditEvent.objects.get(action="login_failed")
    assert row.user_id == staff[("north", "nurse")].pk and row.username == "nurse@north.test"


def test_five_failures_lock_the_account_for_fifteen_minutes(staff):
    client = Client()
    for _ in range(django_settings.LOGIN_FAILURE_LIMIT - 1):
        assert sign_in(client, "nurse@north.test", "wrong").status_code == 200
    locked = sign_in(client, "nurse@north.test", "wrong")
    assert locked.status_code == 403 and b"locked" in locked.content
    # Even the right password is refused while locked, from any browser.
    assert sign_in(Client(), "nurse@north.test", PASSWORD).status_code == 403
    assert AuditEvent.objects.filter(action="locked_out", username="nurse@north.test").exists()
    # Another account is not affected.
    assert sign_in(Client(), "physician@north.test", PASSWORD).status_code == 302
    with time_machine.travel(timezone.now() + timedelta(minutes=django_settings.LOCKOUT_MINUTES, seconds=5)):
        assert sign_in(Client(), "nurse@north.test", PASSWORD).status_code == 302


def test_session_ends_after_idle_minutes(staff, clinics):
    client = signed_in(staff[("north", "nurse")], clinics["north"])
    assert client.get("/patients/").status_code == 200
    with time_machine.travel(timezone.now() + timedelta(minutes=django_settings.SESSION_IDLE_MINUTES - 1)):
        assert client.get("/patients/").status_code == 200  # activity restarts the clock
    later = timezone.now() + timedelta(minutes=2 * django_settings.SESSION_IDLE_MINUTES + 1)
    with time_machine.travel(later):
        response = client.get("/patients/")
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/?next=")


def test_passwords_are_hashed_with_argon2(settings, django_user_model):
    from accretion import settings as project_settings

    settings.PASSWORD_HASHERS = project_settings.PASSWORD_HASHERS
    user = django_user_model.objects.create_user(username="a@b.test", password="long enough password")
    assert user.password.startswith("argon2")


def test_forms_need_csrf(staff):
    client = Client(enforce_csrf_checks=True)
    response = client.post("/accounts/login/", {"username": "nurse@north.test", "password": PASSWORD})
    assert response.status_code == 403


def test_security_headers_outside_debug(staff, clinics):
    assert not django_settings.DEBUG
    response = signed_in(staff[("north", "nurse")], clinics["north"]).get("/patients/", secure=True)
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert response["Strict-Transport-Security"].startswith("max-age=")
    assert response["X-Frame-Options"] == "DENY"
    assert django_settings.SESSION_COOKIE_SECURE and django_settings.CSRF_COOKIE_SECURE


# --- API tokens -------------------------------------------------------------------


def token(client, **body):
    return client.post("/api/v1/auth/token", body, content_type="application/json")


def test_token_for_the_first_or_named_clinic(staff, clinics, django_user_model):
    from accretion.clinics.models import Membership

    nurse = staff[("north", "nurse")]
    Membership.objects.create(user=nurse, clinic=clinics["south"], role="front_desk")
    client = Client()
    first = token(client, username="nurse@north.test", password=PASSWORD)
    assert first.status_code == 200 and first.json()["clinic"] == "north" and first.json()["role"] == "nurse"
    south = token(client, username="nurse@north.test", password=PASSWORD, clinic="south")
    assert south.json()["clinic"] == "south" and south.json()["role"] == "front_desk"
    assert AuditEvent.objects.filter(action="token_issued").count() == 2


@pytest.mark.parametrize(
    "body, status, field",
    [
        ({"username": "nurse@north.test", "password": "wrong"}, 401, "password"),
        ({"username": "nobody@x.test", "password": "wrong"}, 401, "password"),
        ({"username": "nurse@north.test", "password": PASSWORD, "clinic": "atlantis"}, 403, "clinic"),
        ({"username": "nurse@north.test", "password": PASSWORD, "clinic": "south"}, 403, "clinic"),
        ({"username": "nurse@north.test"}, 422, "password"),
        ({"username": "nurse@north.test", "password": 12}, 422, "password"),
        ({"username": "nurse\x00@north.test", "password": PASSWORD}, 422, "username"),
    ],
)
def test_token_bad_input(staff, body, status, field):
    response = token(Client(), **body)
    assert response.status_code == status
    assert field in [e["field"] for e in response.json()["errors"]]


def test_token_body_that_is_not_json(staff):
    response = Client().post("/api/v1/auth/token", "{username:", content_type="application/json")
    assert response.status_code == 400 and "detail" in response.json()


def test_expired_or_unknown_token_is_401(staff, clinics):
    _, raw = ApiToken.issue(staff[("north", "nurse")], clinics["north"], hours=1)
    client = Client(headers={"Authorization": f"Bearer {raw}"})
    assert client.get("/api/v1/patients").status_code == 200
    with time_machine.travel(timezone.now() + timedelta(hours=1, minutes=1)):
        assert client.get("/api/v1/patients").status_code == 401
    assert Client(headers={"Authorization": "Bearer nonsense"}).get("/api/v1/patients").status_code == 401
    assert Client().get("/api/v1/patients").status_code == 401


def test_token_stops_working_when_membership_is_removed(staff, clinics):
    nurse = staff[("north", "nurse")]
    _, raw = ApiToken.issue(nurse, clinics["north"], hours=1)
    nurse.memberships.all().delete()
    assert Client(headers={"Authorization": f"Bearer {raw}"}).get("/api/v1/patients").status_code == 401


def test_api_lockout_after_repeated_failures(staff):
    client = Client()
    for _ in range(django_settings.LOGIN_FAILURE_LIMIT):
        token(client, username="nurse@north.test", password="wrong")
    response = token(client, username="nurse@north.test", password=PASSWORD)
    assert response.status_code == 403 and "locked" in response.json()["detail"]


def test_switching_clinic_changes_scope(staff, clinics, make_patient):
    from accretion.clinics.models import Membership

    nurse = staff[("north", "nurse")]
    Membership.objects.create(user=nurse, clinic=clinics["south"], role="nurse")
    southern = make_patient(clinics["south"])
    client = signed_in(nurse, clinics["north"])
    assert client.get(f"/patients/{southern.pk}/").status_code == 404
    assert client.post("/clinic/switch/", {"clinic": clinics["south"].pk}).status_code == 302
    assert client.get(f"/patients/{southern.pk}/").status_code == 200
    # A clinic the user does not belong to is refused.
    outsider = signed_in(staff[("north", "physician")], clinics["north"])
    outsider.post("/clinic/switch/", {"clinic": clinics["south"].pk})
    assert outsider.get(f"/patients/{southern.pk}/").status_code == 404
