import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import expect

from accretion.adverse_events.models import AdverseEvent
from accretion.audit.models import AuditEvent
from accretion.patients.models import Patient
from accretion.procedures.models import Procedure

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_nurse_records_a_serious_event_admin_is_alerted_physician_judges(live_server, browser, sign_in, shot):
    call_command("demo", stdout=io.StringIO())
    patient = Patient.objects.filter(clinic__slug="north").order_by("mrn").first()
    nurse_user = patient.clinic.memberships.get(role="nurse").user
    five_days_ago = timezone.localdate() - timedelta(days=5)
    procedure = Procedure.objects.create(clinic=patient.clinic, patient=patient, planned_date=five_days_ago,
                                         region="lumbar", targets=["facet_joint"], levels=["L4-L5"],
                                         created_by=nurse_user)

    nurse = browser.new_page()
    sign_in(nurse, "nurse@north.demo")
    nurse.goto(f"{live_server.url}/patients/{patient.pk}/adverse-events/new/")
    expect(nurse.get_by_role("heading", name="Record an adverse event")).to_be_visible()
    nurse.get_by_label("Procedure").select_option(label=f"Lumbar PRP on {five_days_ago:%Y-%m-%d} (planned)")
    nurse.get_by_label("Type").select_option("infection")
    # First try an onset before the procedure: refused at the field, nothing saved.
    nurse.get_by_label("Onset date").fill((five_days_ago - timedelta(days=1)).isoformat())
    nurse.get_by_label("CTCAE grade").select_option("3")
    nurse.get_by_label("Outcome").select_option("recovering")
    nurse.get_by_label("Serious adverse event").check()
    nurse.get_by_label("Description").fill(
        "Fever 38.9 °C and redness at the L4-L5 entry site; admitted for IV antibiotics.")
    nurse.get_by_role("button", name="Record event").click()
    expect(nurse.get_by_text("The onset cannot be before the procedure")).to_be_visible()
    shot(nurse, "20-onset-refused")
    assert AdverseEvent.objects.count() == 0

    nurse.get_by_label("Onset date").fill((five_days_ago + timedelta(days=2)).isoformat())
    shot(nurse, "21-record-form")
    nurse.get_by_role("button", name="Record event").click()
    expect(nurse.get_by_role("heading", name="Adverse event: Infection")).to_be_visible()
    expect(nurse.get_by_text("Serious adverse event recorded.")).to_be_visible()
    expect(nurse.get_by_text("Waiting for a physician's judgement of relatedness.")).to_be_visible()
    expect(nurse.get_by_role("button", name="Record judgement")).to_have_count(0)
    shot(nurse, "22-recorded")
    event_url = nurse.url

    admin = browser.new_context().new_page()
    sign_in(admin, "clinic_admin@north.demo")
    expect(admin.get_by_role("heading", name="Today", exact=True)).to_be_visible()  # the alert is on the start page
    banner = admin.locator("section.serious-alerts")
    expect(banner.get_by_text("1 serious adverse event not yet judged by a physician")).to_be_visible()
    expect(banner.get_by_role("link", name=f"{patient.full_name} ({patient.mrn}): Infection, grade 3")).to_be_visible()
    shot(admin, "23-admin-start-page-alert")

    physician = browser.new_context().new_page()
    sign_in(physician, "physician@north.demo")
    physician.locator("section.serious-alerts").get_by_role("link").first.click()
    assert physician.url == event_url
    physician.get_by_label("Possible", exact=True).check()
    shot(physician, "24-judgement-form")
    physician.get_by_role("button", name="Record judgement").click()
    expect(physician.get_by_text("Judgement recorded: possible.")).to_be_visible()
    expect(physician.locator("dl.facts").get_by_text("Possible")).to_be_visible()
    shot(physician, "25-judged")

    admin.reload()
    expect(admin.get_by_text("No serious adverse event is waiting for a physician's judgement.")).to_be_visible()
    admin.get_by_role("link", name="Safety").click()
    expect(admin.locator("table.adverse-events").get_by_role("cell", name="Possible")).to_be_visible()
    shot(admin, "26-admin-after-judgement")

    event = AdverseEvent.objects.get()
    assert (event.relatedness, event.serious, event.ctcae_grade, event.procedure_id) == (
        "possible", True, 3, procedure.pk)
    assert AuditEvent.objects.filter(object_type="adverse_events.adverseevent", object_id=str(event.pk),
                                     action__in=["create", "update"]).count() == 2
