"""MRNs numbered by the clinic's pattern when registration leaves MRN empty."""

import threading

import pytest
from django.db import close_old_connections, connections
from django.test import Client
from django.utils import timezone

from accretion.clinics.models import Clinic, MrnCounter
from accretion.patients.models import Patient
from tests.conftest import api_client, signed_in

NEW = {"mrn": "", "given_name": "Rosa", "family_name": "Martínez", "date_of_birth": "1961-02-28", "sex": "female",
       "phone": "", "email": "", "preferred_language": "es"}
DETAILS = {"name": "North Spine", "phone": "+1 555 0100"}


@pytest.fixture
def admin(clinics, staff):
    return signed_in(staff[("north", "clinic_admin")], clinics["north"])


@pytest.fixture
def desk(staff, clinics):
    return signed_in(staff[("north", "front_desk")], clinics["north"])


def set_pattern(clinic, pattern):
    Clinic.objects.filter(pk=clinic.pk).update(mrn_pattern=pattern)


def test_the_admin_sets_a_pattern_on_the_settings_page(admin, clinics):
    page = admin.get("/clinic/").content.decode()
    assert 'name="mrn_pattern"' in page and "{seq:05}" in page and "{year}" in page
    response = admin.post("/clinic/", {**DETAILS, "mrn_pattern": " NC-{year}-{seq:05} "})
    assert response.status_code == 302
    assert Clinic.objects.get(pk=clinics["north"].pk).mrn_pattern == "NC-{year}-{seq:05}"


@pytest.mark.parametrize("pattern, message", [
    ("NC-{year}", "needs {seq}"),
    ("NC-{yr}-{seq}", "Unknown placeholder {yr}"),
    ("NC {seq}", "only letters, digits"),
    ("NC-{seq", "Unmatched"),
    ("X" * 61, "at most 60 characters"),
    ("NC\x00{seq}", "Null characters"),
])
def test_a_bad_pattern_is_refused_at_its_field(admin, clinics, pattern, message):
    response = admin.post("/clinic/", {**DETAILS, "mrn_pattern": pattern})
    assert response.status_code == 400
    assert message in " ".join(response.context["form"].errors["mrn_pattern"])
    assert Clinic.objects.get(pk=clinics["north"].pk).mrn_pattern == ""


def test_an_empty_mrn_is_numbered_by_the_pattern(desk, clinics, make_patient):
    set_pattern(clinics["north"], "NC-{year}-{seq:05}")
    year = timezone.localdate().year
    make_patient(clinics["north"], mrn=f"NC-{year}-00002")  # typed by hand earlier: its number is skipped
    form = desk.get("/patients/new/").content.decode()
    assert "Leave empty to number the patient" in form
    numbers = []
    for given in ("Rosa", "Ana", "Luz"):
        assert desk.post("/patients/new/", dict(NEW, given_name=given)).status_code == 302
        numbers.append(Patient.objects.get(given_name=given).mrn)
    assert numbers == [f"NC-{year}-00001", f"NC-{year}-00003", f"NC-{year}-00004"]
    typed = desk.post("/patients/new/", dict(NEW, given_name="Eva", mrn="hand-1"))  # a typed MRN is kept
    assert typed.status_code == 302 and Patient.objects.get(given_name="Eva").mrn == "HAND-1"
    assert MrnCounter.objects.get(clinic=clinics["north"]).last == 4


def test_without_a_pattern_mrn_stays_required_with_a_clear_error(desk, clinics):
    response = desk.post("/patients/new/", NEW)
    assert response.status_code == 400
    error = response.context["form"].errors["mrn"][0]
    assert "required" in error and "no MRN pattern" in error and "Clinic settings" in error
    assert Patient.objects.count() == 0


def test_each_clinic_counts_on_its_own(clinics, staff):
    set_pattern(clinics["north"], "N{seq:03}")
    set_pattern(clinics["south"], "N{seq:03}")
    for slug in ("north", "south", "north"):
        client = signed_in(staff[(slug, "front_desk")], clinics[slug])
        assert client.post("/patients/new/", NEW).status_code == 302
    assert sorted(Patient.objects.values_list("clinic__slug", "mrn")) == [
        ("north", "N001"), ("north", "N002"), ("south", "N001")]


def test_an_edit_cannot_blank_the_mrn(desk, clinics, make_patient):
    set_pattern(clinics["north"], "N{seq}")
    patient = make_patient(clinics["north"], mrn="KEEP-1")
    data = dict(NEW, mrn="", version=1)
    response = desk.post(f"/patients/{patient.pk}/edit/", data)
    assert response.status_code == 400 and response.context["form"].errors["mrn"]
    assert Patient.objects.get(pk=patient.pk).mrn == "KEEP-1"


def test_the_api_numbers_a_patient_when_mrn_is_omitted(clinics, staff):
    client = api_client(staff[("north", "front_desk")], clinics["north"])
    body = {k: v for k, v in NEW.items() if k != "mrn"}
    refused = client.post("/api/v1/patients", body, content_type="application/json")
    assert refused.status_code == 422 and "no MRN pattern" in refused.json()["errors"][0]["message"]
    set_pattern(clinics["north"], "API-{seq:04}")
    created = client.post("/api/v1/patients", body, content_type="application/json")
    assert created.status_code == 201 and created.json()["mrn"] == "API-0001"
    again = client.post("/api/v1/patients", dict(body, mrn=""), content_type="application/json")
    assert again.status_code == 201 and again.json()["mrn"] == "API-0002"


@pytest.mark.django_db(transaction=True)
def test_registrations_at_once_get_distinct_mrns(clinics, staff):
    set_pattern(clinics["north"], "C{seq:04}")
    user = staff[("north", "front_desk")]
    count = 6
    start = threading.Barrier(count)
    statuses, errors = [], []

    def register(number):
        try:
            client = Client()
            client.force_login(user)
            start.wait(timeout=10)
            response = client.post("/patients/new/", dict(NEW, given_name=f"P{number}"))
            statuses.append(response.status_code)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(repr(error))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=register, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    close_old_connections()
    assert errors == [] and statuses == [302] * count
    mrns = sorted(Patient.objects.filter(clinic=clinics["north"]).values_list("mrn", flat=True))
    assert mrns == [f"C{n:04d}" for n in range(1, count + 1)]
