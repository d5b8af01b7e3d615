"""Two-factor sign-in with an authenticator app: set up, sign in in two steps, clinic policy, API, operator reset."""

import io
import re
import time
from base64 import b32decode

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from accretion.audit.models import AuditEvent
from accretion.clinics.models import Clinic
from accretion.clinics.roles import ROLE_NAMES
from tests.conftest import signed_in

PASSWORD = "correct horse battery"  # tests/conftest.py's staff


def code_for(device: TOTPDevice, offset_steps: int = 0) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + offset_steps * device.step
    return f"{totp.token():06d}"


def unthrottle(device: TOTPDevice) -> None:
    """A person waits a few seconds after a wrong code; a test resets django-otp's delay instead."""
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_count=0, throttling_failure_timestamp=None)
    device.refresh_from_db()


def enrolled(user) -> TOTPDevice:
    key = "3132333435363738393031323334353637383930"
    return TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True, key=key)


def sign_in(client, username, password=PASSWORD):
    return client.post("/accounts/login/", {"username": username, "password": password})


@pytest.fixture(autouse=True)
def _no_leftover_throttles(settings, fresh_cache):
    settings.OTP_TOTP_THROTTLE_FACTOR = 60  # a wrong code holds the next one back for a minute, even on a slow run


def test_setting_it_up_with_the_scanned_key(clinics, staff):
    nurse = staff[("north", "nurse")]
    client = signed_in(nurse, clinics["north"])
    page = client.get("/accounts/two-factor/")
    html = page.content.decode()
    assert page.status_code == 200 and 'src="data:image/svg+xml' in html
    key = re.search(r'<code class="key">([A-Z2-7 ]+)</code>', html).group(1).replace(" ", "")
    device = TOTPDevice.objects.get(user=nurse, confirmed=False)
    assert b32decode(key) == device.bin_key  # the key shown is the device's
    wrong = client.post("/accounts/two-factor/", {"code": "000000" if code_for(device) != "000000" else "111111"})
    assert wrong.status_code == 400 and not TOTPDevice.objects.filter(user=nurse, confirmed=True).exists()
    assert client.post("/accounts/two-factor/", {"code": "12ab56"}).status_code == 400
    too_soon = client.post("/accounts/two-factor/", {"code": code_for(device)})
    assert too_soon.status_code == 400 and "wait a few seconds" in too_soon.content.decode()
    unthrottle(device)
    done = client.post("/accounts/two-factor/", {"code": code_for(device)}, follow=True)
    assert "Two-factor sign-in is on" in done.content.decode()
    assert TOTPDevice.objects.filter(user=nurse, confirmed=True).count() == 1
    row = AuditEvent.objects.get(action="two_factor_change")
    assert row.user_id == nurse.pk and row.clinic_id is None and row.detail == {"enabled": True,
                                                                                "recovery_codes": "new"}


def test_signing_in_asks_for_the_code_after_the_password(clinics, staff):
    nurse = staff[("north", "nurse")]
    device = enrolled(nurse)
    client = Client()
    first = sign_in(client, "nurse@north.test")
    assert first.status_code == 302 and first["Location"] == "/accounts/two-factor/verify/"
    assert client.get("/patients/").status_code == 302  # not signed in yet
    assert not AuditEvent.objects.filter(action="login").exists()
    wrong = client.post("/accounts/two-factor/verify/", {"code": "999999" if code_for(device) != "999999" else "0"})
    assert wrong.status_code == 400
    assert AuditEvent.objects.filter(action="login_failed", detail__reason="two-factor code").count() == 1
    unthrottle(device)
    done = client.post("/accounts/two-factor/verify/", {"code": code_for(device)})
    assert done.status_code == 302 and done["Location"] == "/"
    assert client.get("/patients/").status_code == 200
    assert AuditEvent.objects.filter(action="login", user_id=nurse.pk).count() == 1


def test_five_wrong_codes_send_back_to_the_password(clinics, staff):
    enrolled(staff[("north", "nurse")])
    client = Client()
    sign_in(client, "nurse@north.test")
    for _ in range(5):
        response = client.post("/accounts/two-factor/verify/", {"code": "000001"})
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    assert client.get("/accounts/two-factor/verify/").status_code == 302  # nothing pending any more


def test_the_code_step_cannot_be_reached_without_the_password(db):
    response = Client().get("/accounts/two-factor/verify/")
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"


def test_a_clinic_that_requires_it_sends_members_to_set_it_up(clinics, staff):
    north = clinics["north"]
    Clinic.objects.filter(pk=north.pk).update(two_factor_roles=ROLE_NAMES)
    client = Client()
    sign_in(client, "nurse@north.test")
    response = client.get("/patients/")
    assert response.status_code == 302 and response["Location"] == "/accounts/two-factor/"
    assert client.get("/accounts/two-factor/").status_code == 200  # the way out is open
    device = TOTPDevice.objects.get(user=staff[("north", "nurse")], confirmed=False)
    client.post("/accounts/two-factor/", {"code": code_for(device)})
    assert client.get("/patients/").status_code == 200  # verified in this session
    south = signed_in(staff[("south", "nurse")], clinics["south"])
    assert south.get("/patients/").status_code == 200  # another clinic's policy is its own


def test_the_admin_cannot_require_it_before_having_it(clinics, staff):
    admin_user = staff[("north", "clinic_admin")]
    admin = signed_in(admin_user, clinics["north"])
    data = {"name": "North Spine", "phone": "", "two_factor_roles": ["clinic_admin", "physician"]}
    refused = admin.post("/clinic/", data)
    assert refused.status_code == 400 and "for yourself first" in refused.content.decode()
    assert Clinic.objects.get(pk=clinics["north"].pk).two_factor_roles == []
    # Requiring it of other roles only needs nothing of the administrator.
    assert admin.post("/clinic/", {**data, "two_factor_roles": ["physician"]}).status_code == 302
    device = TOTPDevice.objects.create(user=admin_user, name="Authenticator app", confirmed=False)
    admin.post("/accounts/two-factor/", {"code": code_for(device)})
    assert admin.post("/clinic/", {**data, "two_factor_roles": ["physician", "clinic_admin"]}).status_code == 302
    assert Clinic.objects.get(pk=clinics["north"].pk).two_factor_roles == ["physician", "clinic_admin"]


def test_turning_it_off_needs_a_code_and_the_clinics_consent(clinics, staff):
    nurse = staff[("north", "nurse")]
    device = enrolled(nurse)
    client = signed_in(nurse, clinics["north"])
    assert client.post("/accounts/two-factor/", {"action": "off", "code": "000001"}).status_code == 400
    unthrottle(device)
    Clinic.objects.filter(pk=clinics["north"].pk).update(two_factor_roles=ROLE_NAMES)
    kept = client.post("/accounts/two-factor/", {"action": "off", "code": code_for(device)}, follow=True)
    assert "requires two-factor sign-in; it stays on" in kept.content.decode()
    assert TOTPDevice.objects.filter(user=nurse).exists()


def test_api_tokens_need_the_code_too(clinics, staff):
    device = enrolled(staff[("north", "physician")])
    client = Client()
    body = {"username": "physician@north.test", "password": PASSWORD}
    missing = client.post("/api/v1/auth/token", body, content_type="application/json")
    assert missing.status_code == 401 and missing.json()["errors"][0]["field"] == "code"
    ok = client.post("/api/v1/auth/token", {**body, "code": code_for(device)}, content_type="application/json")
    assert ok.status_code == 200 and ok.json()["token"]
    Clinic.objects.filter(pk=clinics["north"].pk).update(two_factor_roles=ROLE_NAMES)
    refused = client.post("/api/v1/auth/token", {"username": "nurse@north.test", "password": PASSWORD},
                          content_type="application/json")
    assert refused.status_code == 403 and refused.json()["errors"][0]["field"] == "code"


def test_an_operator_turns_it_off_after_a_lost_phone(clinics, staff):

    nurse = staff[("north", "nurse")]
    enrolled(nurse)
    call_command("two-factor", "off", "Nurse@North.test", stdout=io.StringIO())
    assert not TOTPDevice.objects.filter(user=nurse).exists()
    assert AuditEvent.objects.get(action="two_factor_change").detail["enabled"] is False
    with pytest.raises(CommandError) as error:
        call_command("two-factor", "off", "nobody@example.org")
    assert "no account 'nobody@example.org'" in str(error.value)


def test_a_session_opened_before_the_app_was_set_up_must_sign_in_again(clinics, staff):
    nurse = staff[("north", "nurse")]
    stolen = Client()
    sign_in(stolen, "nurse@north.test")  # the password alone, while the account had no app
    assert stolen.get("/patients/").status_code == 200
    enrolled(nurse)
    response = stolen.get("/patients/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert stolen.get("/patients/").status_code == 302  # signed out


def test_the_code_must_follow_the_password_within_five_minutes(clinics, staff):
    import time_machine

    device = enrolled(staff[("north", "nurse")])
    client = Client()
    sign_in(client, "nurse@north.test")
    with time_machine.travel(time.time() + 301, tick=False):
        response = client.post("/accounts/two-factor/verify/", {"code": code_for(device)})
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"


def test_two_pending_devices_from_two_open_pages_are_no_error(clinics, staff):
    nurse = staff[("north", "nurse")]
    for _ in range(2):
        TOTPDevice.objects.create(user=nurse, name="Authenticator app", confirmed=False)
    client = signed_in(nurse, clinics["north"])
    assert client.get("/accounts/two-factor/").status_code == 200
    device = TOTPDevice.objects.filter(user=nurse, confirmed=False).order_by("pk").first()
    assert "Your recovery codes" in client.post("/accounts/two-factor/", {"code": code_for(device)}).content.decode()
    assert list(TOTPDevice.objects.filter(user=nurse).values_list("confirmed", flat=True)) == [True]


def test_any_clinic_that_requires_it_keeps_it_on(clinics, staff):
    from accretion.clinics.models import Membership

    nurse = staff[("north", "nurse")]
    Membership.objects.create(user=nurse, clinic=clinics["south"], role="nurse")
    Clinic.objects.filter(pk=clinics["south"].pk).update(two_factor_roles=ROLE_NAMES)
    device = enrolled(nurse)
    client = Client()
    sign_in(client, "nurse@north.test")
    client.post("/accounts/two-factor/verify/", {"code": code_for(device)})
    unthrottle(device)
    kept = client.post("/accounts/two-factor/", {"action": "off", "code": code_for(device, offset_steps=1)},
                       follow=True)
    assert "South Spine requires two-factor sign-in; it stays on." in kept.content.decode()
    assert TOTPDevice.objects.filter(user=nurse, confirmed=True).exists()


def test_fhir_and_api_honour_the_clinics_requirement(clinics, staff):
    from accretion.clinics.models import ApiToken

    north = clinics["north"]
    _, raw = ApiToken.issue(staff[("north", "nurse")], north, hours=1)  # issued before the clinic required it
    session = Client()
    sign_in(session, "nurse@north.test")
    Clinic.objects.filter(pk=north.pk).update(two_factor_roles=ROLE_NAMES)
    token = Client(headers={"Authorization": f"Bearer {raw}"})
    assert token.get("/api/v1/patients").status_code == 403
    fhir = token.get("/fhir/r4/Patient")
    assert fhir.status_code == 403 and fhir.json()["issue"][0]["code"] == "security"
    by_session = session.get("/fhir/r4/Patient")
    assert by_session.status_code == 403 and by_session.json()["issue"][0]["code"] == "security"


def test_setting_it_up_ends_the_accounts_api_tokens(clinics, staff):
    from accretion.clinics.models import ApiToken

    nurse = staff[("north", "nurse")]
    ApiToken.issue(nurse, clinics["north"], hours=1)
    client = signed_in(nurse, clinics["north"])
    client.get("/accounts/two-factor/")
    client.post("/accounts/two-factor/", {"code": code_for(TOTPDevice.objects.get(user=nurse))})
    assert not ApiToken.objects.filter(user=nurse).exists()


def codes_on(page) -> list[str]:
    return re.findall(r"<li><code>([a-z2-7-]{19})</code></li>", page.content.decode())


def test_turning_it_on_shows_ten_recovery_codes_once_and_each_signs_in_once(clinics, staff):
    nurse = staff[("north", "nurse")]
    client = signed_in(nurse, clinics["north"])
    client.get("/accounts/two-factor/")
    device = TOTPDevice.objects.get(user=nurse, confirmed=False)
    shown = client.post("/accounts/two-factor/", {"code": code_for(device)})
    codes = codes_on(shown)
    assert shown.status_code == 200 and len(set(codes)) == 10
    assert "no-store" in shown["Cache-Control"]
    assert codes_on(client.get("/accounts/two-factor/")) == []  # never shown again
    assert "10 recovery codes left" in client.get("/accounts/two-factor/").content.decode()

    lost_phone = Client()
    sign_in(lost_phone, "nurse@north.test")
    typed = codes[0].upper().replace("-", " ")  # as a person may type it
    entered = lost_phone.post("/accounts/two-factor/verify/", {"code": typed}, follow=True)
    assert entered.status_code == 200 and "signed in with a recovery code; 9 left" in entered.content.decode()
    assert lost_phone.get("/patients/").status_code == 200
    used = AuditEvent.objects.get(action="recovery_code_used")
    assert used.user_id == nurse.pk and used.detail == {"left": 9}

    again = Client()
    sign_in(again, "nurse@north.test")
    refused = again.post("/accounts/two-factor/verify/", {"code": codes[0]})
    assert refused.status_code == 400 and "used already" in refused.content.decode()
    assert again.get("/patients/").status_code == 302
    assert AuditEvent.objects.filter(action="login_failed", detail__reason="two-factor code").count() == 1
    nonsense = again.post("/accounts/two-factor/verify/", {"code": "not a code!"})
    assert nonsense.status_code == 400 and "16 letters and digits" in nonsense.content.decode()


def test_new_recovery_codes_end_the_old_ones_and_turning_it_off_removes_them(clinics, staff):
    from django_otp.plugins.otp_static.models import StaticToken

    from accretion.clinics.two_factor import new_recovery_codes

    nurse = staff[("north", "nurse")]
    device = enrolled(nurse)
    old = new_recovery_codes(nurse)
    client = Client()
    sign_in(client, "nurse@north.test")
    client.post("/accounts/two-factor/verify/", {"code": code_for(device)})
    unthrottle(device)
    wrong = client.post("/accounts/two-factor/", {"action": "recovery", "recovery-code": "000001"})
    assert wrong.status_code == 400 and codes_on(wrong) == []
    unthrottle(device)
    renewed = client.post("/accounts/two-factor/", {"action": "recovery", "recovery-code": code_for(device, 1)})
    new = codes_on(renewed)
    assert len(new) == 10 and not set(new) & set(old)
    stored = set(StaticToken.objects.filter(device__user=nurse).values_list("token", flat=True))
    assert stored == {code.replace("-", "") for code in new}
    TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1)  # a later code, as a minute later
    unthrottle(device)
    off = client.post("/accounts/two-factor/", {"action": "off", "code": code_for(device)}, follow=True)
    assert "Two-factor sign-in is off" in off.content.decode()
    assert not StaticToken.objects.filter(device__user=nurse).exists()

    enrolled(nurse)
    new_recovery_codes(nurse)
    call_command("two-factor", "off", "nurse@north.test", stdout=io.StringIO())
    assert not StaticToken.objects.filter(device__user=nurse).exists()


def test_a_clinic_may_require_it_of_some_roles_only(clinics, staff):
    north = clinics["north"]
    Clinic.objects.filter(pk=north.pk).update(two_factor_roles=["physician", "prep_tech"])
    physician, nurse = Client(), Client()
    sign_in(physician, "physician@north.test")
    sign_in(nurse, "nurse@north.test")
    assert physician.get("/patients/")["Location"] == "/accounts/two-factor/"
    assert "requires two-factor sign-in for your role" in physician.get("/accounts/two-factor/").content.decode()
    assert nurse.get("/patients/").status_code == 200

    def token(username):
        return Client().post("/api/v1/auth/token", {"username": username, "password": PASSWORD},
                             content_type="application/json")

    refused = token("physician@north.test")
    assert refused.status_code == 403 and refused.json()["errors"][0]["field"] == "code"
    assert token("nurse@north.test").status_code == 200
    # The settings page lists the roles, ticked as stored.
    admin = signed_in(staff[("north", "clinic_admin")], north)
    page = admin.get("/clinic/").content.decode()
    assert re.search(r'value="physician"[^>]*checked', page) and not re.search(r'value="nurse"[^>]*checked', page)
