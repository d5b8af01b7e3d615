import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import expect

from accretion.patients.models import Patient
from accretion.procedures.models import Procedure

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SAFETY = [
    "Active infection (systemic, or at or near the injection site)",
    "Bleeding disorder (coagulopathy, platelet dysfunction)",
    "Radicular symptoms (pain, numbness or weakness along a nerve root)",
    "Active malignancy",
    "Pregnant",
]


def test_nurse_screens_a_patient_on_apixaban_and_a_physician_reviews(live_server, browser, sign_in, shot):
    call_command("demo", stdout=io.StringIO())
    patient = Patient.objects.filter(clinic__slug="north").order_by("mrn").first()

    nurse = browser.new_page()
    sign_in(nurse, "nurse@north.demo")
    nurse.goto(f"{live_server.url}/patients/{patient.pk}/")
    nurse.get_by_role("button", name="New screening").click()
    nurse.get_by_label("Region").select_option("lumbar")
    nurse.get_by_label("Facet joint osteoarthritis").check()
    nurse.get_by_label("Facet joint", exact=True).check()
    for question in SAFETY:
        nurse.get_by_role("radiogroup", name=question).get_by_label("No", exact=True).check()
    nurse.get_by_label("None of these (assessed)").check()
    nurse.get_by_label("Platelet count (×10³/µL)").fill("215")
    nurse.get_by_role("textbox", name="Medications").fill("Eliquis")
    shot(nurse, "10-intake")
    nurse.get_by_role("button", name="Screen").click()
    expect(nurse.get_by_role("heading", name="Screening: Physician review needed")).to_be_visible()
    expect(nurse.get_by_text("Current anticoagulant: apixaban")).to_be_visible()
    expect(nurse.get_by_text("Waiting for a physician's review.")).to_be_visible()
    shot(nurse, "11-decision-review")
    screening_url = nurse.url

    physician = browser.new_context().new_page()
    sign_in(physician, "physician@north.demo")
    physician.goto(screening_url)
    physician.get_by_label("Reason for ANTICOAGULANT").fill("Apixaban held 3 days before, restart next day; agreed with cardiology.")
    plan = physician.get_by_role("group", name="Eliquis (apixaban)")
    plan.get_by_label("Hold it").check()
    today = timezone.localdate()
    plan.get_by_label("Last dose before the procedure").fill((today - timedelta(days=3)).isoformat())
    plan.get_by_label("Restart on").fill((today + timedelta(days=1)).isoformat())
    physician.get_by_label("Proceed", exact=True).check()
    shot(physician, "12-review-form")
    physician.get_by_role("button", name="Record review").click()
    expect(physician.get_by_text("Review recorded.")).to_be_visible()
    expect(physician.get_by_role("heading", name="Physician review: proceed")).to_be_visible()
    expect(physician.get_by_text(f"restart on {(today + timedelta(days=1)).isoformat()}")).to_be_visible()
    expect(physician.get_by_text("Physician's reason: Apixaban held 3 days")).to_be_visible()
    shot(physician, "12-reviewed")

    physician.get_by_role("link", name="Back to the timeline").click()
    section = physician.locator("#timeline-screenings")
    expect(section.get_by_text("Physician review needed")).to_be_visible()
    expect(section.get_by_text("proceed")).to_be_visible()
    shot(physician, "13-timeline")


def test_a_later_ineligible_screening_blocks_todays_procedure_and_planning(live_server, browser, sign_in, shot):
    call_command("demo", stdout=io.StringIO())
    procedure = Procedure.objects.filter(clinic__slug="north", planned_date=timezone.localdate()).first()
    patient = procedure.patient

    nurse = browser.new_page()
    sign_in(nurse, "nurse@north.demo")
    nurse.goto(f"{live_server.url}/patients/{patient.pk}/screenings/new/")
    nurse.get_by_label("Region").select_option("lumbar")
    nurse.get_by_label("Facet joint osteoarthritis").check()
    nurse.get_by_label("Facet joint", exact=True).check()
    for question in SAFETY:
        answer = "Yes" if question.startswith("Active infection") else "No"
        nurse.get_by_role("radiogroup", name=question).get_by_label(answer, exact=True).check()
    nurse.get_by_label("None of these (assessed)").check()
    nurse.get_by_label("Platelet count (×10³/µL)").fill("215")
    nurse.get_by_role("button", name="Screen").click()
    expect(nurse.get_by_role("heading", name="Screening: Not eligible")).to_be_visible()

    nurse.goto(f"{live_server.url}/")
    blocked = nurse.locator("#blocked + p + ul")
    expect(blocked.get_by_role("link", name=f"{patient.family_name}, {patient.given_name}")).to_be_visible()
    shot(nurse, "14-today-blocked")
    blocked.get_by_role("link", name=f"{patient.family_name}, {patient.given_name}").click()
    expect(nurse.get_by_text("Blocked: this procedure cannot go ahead.")).to_be_visible()
    expect(nurse.get_by_text("ACTIVE_INFECTION").first).to_be_visible()
    shot(nurse, "15-procedure-blocked")

    nurse.goto(f"{live_server.url}/patients/{patient.pk}/")
    nurse.get_by_role("button", name="Plan a procedure").click()
    expect(nurse.get_by_text(f"A procedure cannot be planned for {patient.full_name}.")).to_be_visible()
    expect(nurse.get_by_label("Planned date")).to_have_count(0)
    shot(nurse, "16-plan-refused")
    nurse.get_by_role("button", name="Open the latest screening").click()
    expect(nurse.get_by_role("heading", name="Screening: Not eligible")).to_be_visible()
