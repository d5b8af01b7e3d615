"""Finding patients without accents, numbering one by the clinic's pattern, unlocking a member, and reading
what an edit changed on the audit page."""

import pytest
from django.conf import settings
from playwright.sync_api import expect

from accretion.clinics.models import Clinic
from accretion.patients.models import Patient
from tests.conftest import screened

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery"  # tests/conftest.py's staff
SIZES = {"phone": (390, 844), "tablet": (820, 1180), "desktop": (1280, 900)}


@pytest.mark.parametrize("size", SIZES)
def test_search_and_filter_patients(live_server, browser, staff, clinics, make_patient, sign_in, shot, size):
    width, height = SIZES[size]
    north = clinics["north"]
    lucia = make_patient(north, given_name="Lucía", family_name="Gómez", phone="+1 (555) 010-1234")
    screened(lucia, "eligible")
    screened(make_patient(north, given_name="Pedro", family_name="GOMEZ"), "review")
    make_patient(north, given_name="Jürgen", family_name="Müller")
    page = browser.new_page(viewport={"width": width, "height": height})
    sign_in(page, "front_desk@north.test", PASSWORD)
    page.goto(f"{live_server.url}/patients/")
    page.get_by_label("Search patients").fill("gomez")
    expect(page.locator("#results tbody tr")).to_have_count(2)
    page.get_by_label("Screening").select_option("review")
    expect(page.locator("#results tbody tr")).to_have_count(1)
    expect(page.locator("#results")).to_contain_text("Pedro")
    expect(page.locator("#results")).to_contain_text("Needs review")
    shot(page, f"90-patient-search-filter-{size}")
    page.get_by_label("Screening").select_option("")
    page.get_by_label("Search patients").fill("(555) 010-1")
    expect(page.locator("#results tbody tr")).to_have_count(1)
    expect(page.locator("#results")).to_contain_text("Lucía")
    page.goto(f"{live_server.url}/patients/?procedure=planned&days=lots")
    expect(page.get_by_text("Enter a whole number.")).to_be_visible()
    shot(page, f"91-patient-filter-error-{size}")
    page.close()


def test_register_by_pattern_unlock_and_read_the_change(live_server, browser, staff, clinics, make_patient, sign_in,
                                                       shot):
    Clinic.objects.filter(pk=clinics["north"].pk).update(mrn_pattern="NC-{year}-{seq:05}")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    sign_in(page, "front_desk@north.test", PASSWORD)
    page.goto(f"{live_server.url}/patients/new/")
    expect(page.get_by_text("Leave empty to number the patient")).to_be_visible()
    page.get_by_label("Given name").fill("Rosa")
    page.get_by_label("Family name").fill("Martínez")
    page.get_by_label("Date of birth").fill("1961-02-28")
    page.get_by_label("Sex").select_option("female")
    page.get_by_role("button", name="Register patient").click()
    expect(page.get_by_text("Rosa Martínez is registered.")).to_be_visible()
    patient = Patient.objects.get(given_name="Rosa")
    assert patient.mrn.startswith("NC-") and patient.mrn.endswith("-00001")
    page.goto(f"{live_server.url}/patients/{patient.pk}/edit/")
    page.get_by_label("Family name").fill("Martínez Gómez")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text("Changes saved.")).to_be_visible()

    locked = browser.new_page()
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        sign_in(locked, "nurse@north.test", "wrong password")
    expect(locked.get_by_text("locked")).to_be_visible()

    admin = browser.new_page(viewport={"width": 390, "height": 844})
    sign_in(admin, "clinic_admin@north.test", PASSWORD)
    admin.goto(f"{live_server.url}/members/")
    expect(admin.get_by_text("Locked")).to_be_visible()
    shot(admin, "92-members-locked-phone")
    admin.get_by_role("button", name="Unlock").click()
    expect(admin.get_by_text("Pat Nurse can sign in again.")).to_be_visible()
    sign_in(locked, "nurse@north.test", PASSWORD)
    expect(locked.get_by_role("heading", name="Today", exact=True)).to_be_visible()

    admin.set_viewport_size({"width": 1280, "height": 900})
    admin.goto(f"{live_server.url}/audit/")
    admin.get_by_label("Patient (MRN or name)").fill("MARTINEZ")
    admin.get_by_role("button", name="Filter").click()
    expect(admin.get_by_text("Martínez → Martínez Gómez")).to_be_visible()
    shot(admin, "93-audit-changes-desktop")
    admin.set_viewport_size({"width": 390, "height": 844})
    shot(admin, "94-audit-changes-phone")
