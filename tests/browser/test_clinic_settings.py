import pytest
from playwright.sync_api import expect

from accretion.clinics.models import Clinic

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery"  # tests/conftest.py's staff


def test_clinic_admin_corrects_the_phone_and_finds_every_setting(live_server, browser, staff, sign_in, shot):
    page = browser.new_page()
    sign_in(page, "clinic_admin@north.test", PASSWORD)
    page.get_by_role("link", name="Settings").click()
    expect(page.get_by_role("heading", name="Clinic settings")).to_be_visible()
    page.get_by_label("Phone for patients").fill("call the front desk")
    page.get_by_role("button", name="Save details").click()
    expect(page.get_by_text("at least 7 digits")).to_be_visible()
    shot(page, "80-clinic-settings-error")
    page.get_by_label("Phone for patients").fill("+1 (555) 010-0199")
    page.get_by_role("button", name="Save details").click()
    expect(page.get_by_text("Clinic details saved.")).to_be_visible()
    assert Clinic.objects.get(slug="north").phone == "+1 (555) 010-0199"
    expect(page.get_by_text("example values")).to_be_visible()
    shot(page, "81-clinic-settings")
    page.get_by_role("link", name="Procedure protocol").click()
    expect(page.get_by_role("heading", name="Procedure protocol")).to_be_visible()
