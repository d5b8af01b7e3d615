"""Changing one's password and resetting a forgotten one by e-mail: Django's views, audited, never a 500."""

import re

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client

from accretion.audit.models import AuditEvent
from tests.conftest import signed_in

OLD = "correct horse battery"  # tests/conftest.py's staff
NEW = "a brand new passphrase 2026"


@pytest.fixture(autouse=True)
def _fresh_limits(fresh_cache):
    """The per-address limit of reset requests starts at zero."""


@pytest.fixture
def nurse(staff):
    return staff[("north", "nurse")]


def test_a_user_changes_the_password_and_stays_signed_in(nurse, clinics):
    client = signed_in(nurse, clinics["north"])
    page = client.get("/accounts/password/")
    assert page.status_code == 200 and "Change your password" in page.content.decode()
    assert "two-factor sign-in <mark class=\"status missing\">off</mark>" in page.content.decode()
    response = client.post("/accounts/password/", {"old_password": OLD, "new_password1": NEW,
                                                    "new_password2": NEW}, follow=True)
    assert response.status_code == 200 and "Your password was changed." in response.content.decode()
    assert response.redirect_chain[-1][0] == "/"
    assert client.get("/patients/").status_code == 200  # still signed in
    nurse.refresh_from_db()
    assert nurse.check_password(NEW) and not nurse.check_password(OLD)
    row = AuditEvent.objects.get(action="password_change")
    assert row.user_id == nurse.pk and row.clinic_id is None and "password" not in str(row.detail)


@pytest.mark.parametrize("data, field", [
    ({"old_password": "wrong one", "new_password1": NEW, "new_password2": NEW}, "old_password"),
    ({"old_password": OLD, "new_password1": NEW, "new_password2": NEW + "x"}, "new_password2"),
    ({"old_password": OLD, "new_password1": "short", "new_password2": "short"}, "new_password2"),
    ({"old_password": OLD, "new_password1": "12345678901234", "new_password2": "12345678901234"}, "new_password2"),
    ({"old_password": OLD, "new_password1": "nul\x00character pass", "new_password2": "nul\x00character pass"},
     "new_password1"),
])
def test_a_wrong_change_is_refused_at_its_field(nurse, clinics, data, field):
    response = signed_in(nurse, clinics["north"]).post("/accounts/password/", data)
    assert response.status_code == 400 and field in response.context["form"].errors
    nurse.refresh_from_db()
    assert nurse.check_password(OLD)
    assert not AuditEvent.objects.filter(action="password_change").exists()


def test_changing_needs_a_signed_in_user(db):
    response = Client().get("/accounts/password/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def _link(message) -> str:
    return re.search(r"https?://\S+", message.body).group(0)


def test_a_forgotten_password_is_reset_by_a_one_time_link(nurse, settings):
    settings.PORTAL_BASE_URL = "https://portal.example.org"
    client = Client()
    assert "Forgot your password?" in client.get("/accounts/login/").content.decode()
    response = client.post("/accounts/password-reset/", {"email": "NURSE@north.test"}, HTTP_HOST="testserver")
    assert response.status_code == 302 and response["Location"] == "/accounts/password-reset/sent/"
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["nurse@north.test"]
    link = _link(mail.outbox[0])
    assert link.startswith("https://portal.example.org/accounts/reset/")  # PORTAL_BASE_URL, not the Host header
    requested = AuditEvent.objects.get(action="password_reset_requested")
    assert requested.user_id == nurse.pk and requested.detail == {"sent": True}

    path = link.removeprefix("https://portal.example.org")
    form_page = client.get(path, follow=True)
    assert "Set a new password" in form_page.content.decode()
    set_url = form_page.redirect_chain[-1][0]  # Django moves the token out of the address
    mismatch = client.post(set_url, {"new_password1": NEW, "new_password2": "other"})
    assert mismatch.status_code == 400
    done = client.post(set_url, {"new_password1": NEW, "new_password2": NEW}, follow=True)
    assert "Your new password is set" in done.content.decode()
    nurse.refresh_from_db()
    assert nurse.check_password(NEW)
    assert AuditEvent.objects.filter(action="password_reset", user_id=nurse.pk).count() == 1

    again = Client().get(path, follow=True)  # the link works once
    assert "This link does not work any more" in again.content.decode()


def test_unknown_address_gets_the_same_answer_and_no_mail(db):
    response = Client().post("/accounts/password-reset/", {"email": "nobody@nowhere.example"})
    assert response.status_code == 302 and response["Location"] == "/accounts/password-reset/sent/"
    assert mail.outbox == [] and not AuditEvent.objects.filter(action="password_reset_requested").exists()
    wrong = Client().post("/accounts/password-reset/", {"email": "not an address"})
    assert wrong.status_code == 400 and "email" in wrong.context["form"].errors


def test_requests_are_limited_per_address_without_telling(nurse):
    client = Client()
    for _ in range(7):
        response = client.post("/accounts/password-reset/", {"email": "nurse@north.test"})
        assert response.status_code == 302 and response["Location"] == "/accounts/password-reset/sent/"
    assert len(mail.outbox) == 5
    rows = AuditEvent.objects.filter(action="password_reset_requested").order_by("id")
    assert [row.detail["sent"] for row in rows] == [True] * 5 + [False] * 2


def test_a_reset_lifts_a_lockout(nurse, settings):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/accounts/login/", {"username": "nurse@north.test", "password": "wrong"})
    assert AccessAttempt.objects.filter(username="nurse@north.test").exists()
    client.post("/accounts/password-reset/", {"email": "nurse@north.test"})
    path = re.sub(r"^https?://[^/]+", "", _link(mail.outbox[0]))
    set_url = client.get(path, follow=True).redirect_chain[-1][0]
    client.post(set_url, {"new_password1": NEW, "new_password2": NEW})
    assert not AccessAttempt.objects.filter(username="nurse@north.test").exists()
    response = Client().post("/accounts/login/", {"username": "nurse@north.test", "password": NEW})
    assert response.status_code == 302


def test_an_inactive_account_gets_no_link(nurse):
    get_user_model().objects.filter(pk=nurse.pk).update(is_active=False)
    Client().post("/accounts/password-reset/", {"email": "nurse@north.test"})
    assert mail.outbox == []
