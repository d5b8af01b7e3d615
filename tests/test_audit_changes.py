"""The audit page finds rows by a patient's MRN or name, and shows what an edit changed: field: old → new."""

from datetime import date

import pytest

from accretion.audit.chain import verify
from accretion.audit.log import changes
from accretion.audit.models import AuditEvent
from tests.conftest import signed_in

PRICES = {"currency": "USD", "consultation": "250.00", "prp_kit": "450.00", "injection_target": "300.00",
          "additional_level": "150.00", "image_guidance": "200.00", "follow_up_visit": "95.50"}


@pytest.fixture
def admin(staff, clinics):
    return signed_in(staff[("north", "clinic_admin")], clinics["north"])


def test_changes_keeps_only_what_differs_as_json():
    assert changes({"a": 1, "b": date(2026, 1, 2), "c": "x"}, {"a": 1, "b": date(2026, 1, 3), "c": "y"}) == {
        "b": ["2026-01-02", "2026-01-03"], "c": ["x", "y"]}
    assert changes({"t": {"facet": {"ml": 2}}}, {"t": {"facet": {"ml": 3}}, "n": True}) == {
        "n": [None, True], "t.facet.ml": [2, 3]}
    assert changes({"a": 1}, {"a": 1}) == {}


def test_a_demographics_edit_shows_old_and_new_values(staff, clinics, make_patient, admin):
    patient = make_patient(clinics["north"], mrn="NC-7", given_name="Rosa", family_name="Martínez",
                           phone="555 0101", date_of_birth=date(1961, 2, 28))
    desk = signed_in(staff[("north", "front_desk")], clinics["north"])
    edit = {"mrn": "NC-7", "given_name": "Rosa", "family_name": "Martínez Gómez", "date_of_birth": "1961-03-01",
            "sex": "female", "phone": "555 0101", "email": "", "preferred_language": "en", "version": 1}
    assert desk.post(f"/patients/{patient.pk}/edit/", edit).status_code == 302
    row = AuditEvent.objects.get(action="update", object_type="patients.patient")
    assert row.detail["changes"] == {"date_of_birth": ["1961-02-28", "1961-03-01"],
                                     "family_name": ["Martínez", "Martínez Gómez"]}
    page = admin.get("/audit/", {"action": "update"}).content.decode()
    assert "<code>family_name</code>: Martínez → Martínez Gómez" in page
    assert "<code>date_of_birth</code>: 1961-02-28 → 1961-03-01" in page
    assert verify().ok  # the JSON detail is covered by the hash and still verifies


def test_clinic_settings_roles_prices_and_protocols_record_their_changes(admin, staff, clinics):
    admin.post("/clinic/", {"name": "North Spine & Pain", "phone": "+1 555 0100", "mrn_pattern": "N{seq}"})
    nurse = staff[("north", "nurse")].memberships.get()
    admin.post(f"/members/{nurse.pk}/", {"role": "physician"})
    admin.post("/clinic/prices/", PRICES)
    admin.post("/clinic/prices/", {**PRICES, "prp_kit": "475.00"})
    admin.post("/clinic/screening-protocol/", {
        "platelet_contraindication_below": "100", "platelet_review_below": "220", "nsaid_window_days": "7",
        "systemic_steroid_window_days": "14", "steroid_injection_window_days": "30",
        "antithrombotic_current_window_days": "30"})
    rows = {row.object_type: row for row in AuditEvent.objects.exclude(detail__changes=None)}
    assert rows["clinics.clinic"].detail["changes"] == {"name": ["North Spine", "North Spine & Pain"],
                                                        "mrn_pattern": ["", "N{seq}"]}
    assert rows["clinics.membership"].detail["changes"] == {"role": ["nurse", "physician"]}
    assert AuditEvent.objects.filter(object_type="consents.pricelist").latest("id").detail["changes"] == {
        "prp_kit": ["450.00", "475.00"]}
    protocol = rows["clinics.screening_protocol"].detail["changes"]
    assert protocol["platelet_review_below"][1] == 220
    page = admin.get("/audit/").content.decode()
    assert "<code>role</code>: nurse → physician" in page and "<code>mrn_pattern</code>: (empty) → N{seq}" in page
    assert "<code>prp_kit</code>: 450.00 → 475.00" in page
    assert verify().ok


def test_adding_a_member_never_logs_the_password(admin):
    admin.post("/members/", {"email": "new@north.test", "role": "nurse", "password": "a long secret passphrase"})
    row = AuditEvent.objects.get(action="permission_change")
    assert row.detail["changes"] == {"role": [None, "nurse"]}
    assert "passphrase" not in str(AuditEvent.objects.values_list("detail", flat=True)[::1])


def test_the_audit_page_finds_a_patients_rows_by_mrn_or_name(staff, clinics, make_patient, admin):
    gomez = make_patient(clinics["north"], mrn="NC-2026-00042", given_name="Lucía", family_name="Gómez")
    other = make_patient(clinics["north"], mrn="NC-2026-00043", given_name="Ada", family_name="Lovelace")
    theirs = make_patient(clinics["south"], mrn="NC-2026-00042", given_name="Lucía", family_name="Gómez")
    nurse = signed_in(staff[("north", "nurse")], clinics["north"])
    for patient in (gomez, other):
        nurse.get(f"/patients/{patient.pk}/")
    signed_in(staff[("south", "nurse")], clinics["south"]).get(f"/patients/{theirs.pk}/")

    def found(who):
        response = admin.get("/audit/", {"who": who})
        assert response.status_code == 200
        return {row.patient_id for row in response.context["page"].object_list}

    assert found("gomez") == found("GÓMEZ") == found("lucia") == found("nc-2026-00042") == {gomez.pk}
    assert found("NC-2026") == {gomez.pk, other.pk}
    assert found("nobody") == set() and found("-") == set()
    assert admin.get("/audit/", {"who": "x" * 500}).status_code == 200  # too long: a field error, no crash
    assert admin.get("/audit/", {"who": "a\x00b"}).status_code == 200
