import io

import pytest
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import expect

from accretion.clinics.models import Clinic
from accretion.practice.demo import load_demo
from accretion.practice.models import TrainingRecord

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _demo_practice():
    call_command("demo", stdout=io.StringIO())
    today = timezone.localdate()
    for clinic in Clinic.objects.all():
        load_demo(clinic, {m.role: m.user for m in clinic.memberships.select_related("user")}, today)


def test_clinic_admin_records_a_completion_and_sees_the_status_change(live_server, browser, sign_in, shot):
    _demo_practice()
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors = []
    # Script errors and CSP violations; a 400 answer to an invalid form is expected.
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" and "status of 400" not in m.text else None)
    sign_in(page, "clinic_admin@north.demo")
    page.goto(f"{live_server.url}/practice/training/")
    expect(page.get_by_role("heading", name="Staff training")).to_be_visible()
    nurse_row = page.locator("table.training tbody tr").filter(has_text="Nurse North")
    expect(nurse_row.locator("mark.status.expiring")).to_have_count(1)
    expect(nurse_row.locator("mark.status.current")).to_have_count(2)
    shot(page, "practice-01-training")

    page.get_by_label("Only problems").check()  # the form submits itself on change
    expect(page).to_have_url(f"{live_server.url}/practice/training/?problems=on")
    expect(page.locator("table.training tbody tr").filter(has_text="Physician North")).to_have_count(0)
    expect(nurse_row).to_have_count(1)
    shot(page, "practice-02-problems")

    # A completion in the future is refused at the field.
    page.get_by_label("Staff member").select_option(label="Nurse North (Nurse)")
    page.get_by_label("Training module").select_option("emergency_protocols")
    tomorrow = timezone.localdate() + timezone.timedelta(days=1)
    page.get_by_label("Completed on").fill(tomorrow.isoformat())
    page.get_by_role("button", name="Record training").click()
    expect(page.get_by_text("The completion date cannot be in the future.")).to_be_visible()
    shot(page, "practice-03-field-error")

    today = timezone.localdate()
    page.get_by_label("Completed on").fill(today.isoformat())
    page.get_by_role("button", name="Record training").click()
    expect(page.get_by_text("Training recorded for Nurse North: Emergency protocols")).to_be_visible()
    nurse_row = page.locator("table.training tbody tr").filter(has_text="Nurse North").first
    expect(nurse_row.locator("mark.status.expiring")).to_have_count(0)
    expect(nurse_row.locator("mark.status.current")).to_have_count(3)
    row = TrainingRecord.objects.filter(user__username="nurse@north.demo", module="emergency_protocols").latest("id")
    expect(nurse_row).to_contain_text(f"valid through {row.expires_on:%Y-%m-%d}")
    assert row.verified_by.username == "clinic_admin@north.demo" and row.completed_on == today
    shot(page, "practice-04-recorded")

    page.get_by_role("link", name="Equipment").click()
    expect(page.get_by_role("cell", name="K123456")).to_be_visible()
    shot(page, "practice-05-equipment")
    page.get_by_role("row").filter(has_text="Fluoroscopy").get_by_role("button", name="Edit").click()
    page.get_by_label("In service").uncheck()
    page.get_by_label("FDA 510(k) number").fill("K123456")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text("leave it empty for imaging units")).to_be_visible()
    shot(page, "practice-06-equipment-edit-error")
    page.get_by_label("FDA 510(k) number").fill("")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("row").filter(has_text="Fluoroscopy")).to_contain_text("is out of service.")
    shot(page, "practice-07-equipment-out-of-service")

    page.get_by_role("link", name="PRP kit inventory").click()
    expect(page.get_by_text("is out of stock")).to_be_visible()
    shot(page, "practice-08-kits")
    page.get_by_role("row").filter(has_text="N25C042").get_by_role("button", name="Correct stock").click()
    page.get_by_label("Kits counted on the shelf").fill("10")
    page.get_by_role("button", name="Save the count").click()
    expect(page.get_by_text("This field is required.")).to_be_visible()
    shot(page, "practice-09-kit-adjust-error")
    page.get_by_label("Reason for the correction").fill("Two kits damaged in storage")
    page.get_by_role("button", name="Save the count").click()
    expect(page.get_by_text("Stock of lot N25C042 corrected to 10.")).to_be_visible()
    assert errors == [], errors


def test_a_nurse_reads_the_training_page_without_forms(live_server, browser, sign_in, shot):
    _demo_practice()
    page = browser.new_page()
    sign_in(page, "nurse@north.demo")
    page.goto(f"{live_server.url}/practice/training/")
    expect(page.get_by_role("heading", name="Staff training")).to_be_visible()
    expect(page.get_by_role("button", name="Record training")).to_have_count(0)
    shot(page, "practice-10-nurse-view")
