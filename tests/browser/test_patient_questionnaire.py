import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accretion.clinics.models import Clinic
from accretion.outcomes import services
from accretion.outcomes.models import QuestionnaireResponse
from accretion.procedures.models import FollowUp, Procedure

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PHONE = {"width": 390, "height": 844}


def test_a_patient_answers_on_a_phone_in_spanish(live_server, browser, shot, django_user_model):
    clinic = Clinic.objects.create(slug="north", name="North Spine & Pain Center", phone="+1 (555) 010-2000")
    from accretion.patients.models import Patient

    patient = Patient.objects.create(clinic=clinic, mrn="N1", given_name="Luz", family_name="Quintero",
                                     date_of_birth="1960-04-02", sex="female", preferred_language="es")
    nurse = django_user_model.objects.create_user(username="n@x.test", password="x")
    today = timezone.localdate()
    procedure = Procedure.objects.create(clinic=clinic, patient=patient, planned_date=today, region="lumbar",
                                         targets=["facet_joint"], levels=["L4-L5"], status="signed", created_by=nurse)
    FollowUp.objects.create(clinic=clinic, procedure=procedure, key="6w", due=today)
    task = services.schedule_follow_ups(procedure)[0]

    page = browser.new_context(viewport=PHONE, has_touch=True, is_mobile=True).new_page()
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" and "status of 400" not in m.text else None)
    page.goto(live_server.url + services.link(task))
    expect(page.get_by_role("heading", name="Sus preguntas de seguimiento")).to_be_visible()
    expect(page.get_by_text("Quintero")).to_have_count(0)  # nothing of the record beyond the questions
    page.locator("input[name='nrs__nrs']").fill("5")
    page.get_by_role("button", name="Guardar y terminar después").click()
    expect(page.get_by_text("Sus respuestas están guardadas")).to_be_visible()
    shot(page, "40-saved")

    page.goto(live_server.url + services.link(task))  # coming back later: the answer is still there
    expect(page.locator("input[name='nrs__nrs']")).to_have_value("5")
    for section in range(1, 11):
        page.locator(f"input[name='odi__odi-{section}'][value='1']").check()
    page.locator("input[name='pgic__pgic'][value='2']").check()
    for question in ("fever", "infection_signs", "new_weakness_numbness", "bowel_bladder_change", "emergency_visit"):
        page.locator(f"input[name='safety__{question}'][value='no']").check()
    shot(page, "41-answered")
    page.get_by_role("button", name="Enviar mis respuestas").click()
    expect(page.get_by_text("Gracias. Sus respuestas se enviaron a su clínica.")).to_be_visible()
    shot(page, "42-thanks")
    assert errors == [], errors
    assert QuestionnaireResponse.objects.get(task=task, instrument="odi").score["score"] == 20.0
    # The page is usable on a phone: nothing wider than the screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
