"""A clinic administrator lifts a member's sign-in lock from the staff page."""

from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accretion.audit.chain import verify
from accretion.audit.models import AuditEvent
from accretion.clinics.models import Membership
from tests.conftest import signed_in

PASSWORD = "correct horse battery"


def sign_in(client, username, password):
    return client.post("/accounts/login/", {"username": username, "password": password})


def lock(username):
    client = Client()
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        sign_in(client, username, "wrong")
    assert sign_in(Client(), username, PASSWORD).status_code == 403  # refused while locked (and counted)


def test_an_administrator_unlocks_a_locked_member(staff, clinics):
    lock("nurse@north.test")
    admin = signed_in(staff[("north", "clinic_admin")], clinics["north"])
    page = admin.get("/members/").content.decode()
    assert f"({settings.LOGIN_FAILURE_LIMIT + 1} failed sign-ins, the last at" in page
    assert page.count(">Unlock</button>") == 1
    nurse = Membership.objects.get(user=staff[("north", "nurse")], clinic=clinics["north"])
    response = admin.post(f"/members/{nurse.pk}/unlock/", follow=True)
    assert response.status_code == 200 and "Pat Nurse can sign in again." in response.content.decode()
    assert ">Unlock</button>" not in response.content.decode()
    assert sign_in(Client(), "nurse@north.test", PASSWORD).status_code == 302
    row = AuditEvent.objects.get(action="unlock")
    assert row.username == "clinic_admin@north.test" and row.clinic_id == clinics["north"].pk
    assert row.detail["member"] == "nurse@north.test" and row.detail["failures"] == settings.LOGIN_FAILURE_LIMIT + 1
    assert verify().ok


def test_another_clinics_administrator_cannot_unlock(staff, clinics):
    lock("nurse@north.test")
    south_admin = signed_in(staff[("south", "clinic_admin")], clinics["south"])
    nurse = Membership.objects.get(user=staff[("north", "nurse")], clinic=clinics["north"])
    assert south_admin.post(f"/members/{nurse.pk}/unlock/").status_code == 404
    assert "nurse@north.test" not in south_admin.get("/members/").content.decode()
    physician = signed_in(staff[("north", "physician")], clinics["north"])
    assert physician.post(f"/members/{nurse.pk}/unlock/").status_code == 403
    assert sign_in(Client(), "nurse@north.test", PASSWORD).status_code == 403  # still locked
    assert not AuditEvent.objects.filter(action="unlock").exists()


def test_unlock_is_post_only(staff, clinics):
    admin = signed_in(staff[("north", "clinic_admin")], clinics["north"])
    nurse = Membership.objects.get(user=staff[("north", "nurse")], clinic=clinics["north"])
    assert admin.get(f"/members/{nurse.pk}/unlock/").status_code == 405


def test_a_few_failures_are_not_a_lock(staff, clinics):
    client = Client()
    for _ in range(settings.LOGIN_FAILURE_LIMIT - 1):
        sign_in(client, "nurse@north.test", "wrong")
    admin = signed_in(staff[("north", "clinic_admin")], clinics["north"])
    assert "Locked" not in admin.get("/members/").content.decode()


def test_the_staff_page_checks_locks_in_one_query(staff, clinics, django_user_model):
    admin = signed_in(staff[("north", "clinic_admin")], clinics["north"])

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert admin.get("/members/").status_code == 200
        return len(ctx.captured_queries)

    lock("nurse@north.test")
    before = count()
    for i in range(5):
        user = django_user_model.objects.create_user(f"extra{i}@north.test", password=PASSWORD)
        Membership.objects.create(user=user, clinic=clinics["north"], role="nurse")
        lock(f"extra{i}@north.test")
    assert count() == before
