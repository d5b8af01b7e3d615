import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from accretion.clinics.models import Clinic
from accretion.jobs.worker import run_queued
from accretion.outcomes import services
from accretion.outcomes.sms import LocmemSMSBackend
from accretion.patients.models import Patient
from accretion.procedures.models import FollowUp, Procedure

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PHONE = {"width": 390, "height": 844}


def test_a_patient_reporting_new_weakness_on_a_phone_is_sent_to_the_emergency_department(
        live_server, browser, shot, django_user_model, settings):
    settings.SMS_BACKEND = "accretion.outcomes.sms.LocmemSMSBackend"
    LocmemSMSBackend.outbox = []
    clinic = Clinic.objects.create(slug="north", name="North Spine & Pain Center", phone="+1 (555) 010-2000",
                                   on_call_email="oncall@north.test", on_call_phone="+15550102999")
    patient = Patient.objects.create(clinic=clinic, mrn="N1", given_name="Luz", family_name="Quintero",
                                     date_of_birth="1960-04-02", sex="female", preferred_language="es")
    nurse = django_user_model.objects.create_user(username="n@x.test", password="x")
    today = timezone.localdate()
    procedure = Procedure.objects.create(clinic=clinic, patient=patient, planned_date=today, region="lumbar",
                                         targets=["facet_joint"], levels=["L4-L5"], status="signed", created_by=nurse)
    FollowUp.objects.create(clinic=clinic, procedure=procedure, key="2w", due=today)
    task = services.schedule_follow_ups(procedure)[0]

    page = browser.new_context(viewport=PHONE, has_touch=True, is_mobile=True, locale="es-MX").new_page()
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(live_server.url + services.link(task) + "?lang=es")
    expect(page.get_by_role("heading", name="Sus preguntas de seguimiento")).to_be_visible()
    page.locator("input[name='nrs__nrs']").fill("6")
    for section in range(1, 11):
        page.locator(f"input[name='odi__odi-{section}'][value='2']").check()
    page.locator("input[name='pgic__pgic'][value='4']").check()
    for question in ("fever", "infection_signs", "bowel_bladder_change", "emergency_visit"):
        page.locator(f"input[name='safety__{question}'][value='no']").check()
    page.locator("input[name='safety__new_weakness_numbness'][value='yes']").check()
    page.get_by_role("button", name="Enviar mis respuestas").click()

    advice = page.get_by_role("alert")
    expect(advice.get_by_role("heading", name="Actúe ahora")).to_be_visible()
    expect(advice).to_contain_text("Vaya ahora mismo a una sala de emergencias (o llame al 911).")
    expect(advice).to_contain_text("debilidad o adormecimiento nuevos en un brazo o una pierna")
    expect(advice).to_contain_text("Después llame a North Spine & Pain Center para avisarles: +1 (555) 010-2000.")
    expect(advice.get_by_role("button", name="Llamar al 911")).to_have_attribute("href", "tel:911")
    expect(advice.get_by_role("button", name="Llamar a la clínica: +1 (555) 010-2000")).to_have_attribute(
        "href", "tel:+1 (555) 010-2000")
    expect(page.get_by_text("Gracias. Sus respuestas se enviaron a su clínica.")).to_be_visible()
    # The advice is the first thing on the screen, above the fold of a phone.
    box = advice.bounding_box()
    assert box["y"] < 100 and box["y"] + box["height"] < PHONE["height"], box
    shot(page, "45-red-flag-emergency-es")
    assert errors == [], errors
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    # The alert was queued with the answers; the worker sends it, without the patient's name.
    assert mail.outbox == [] and [path for path, _ in run_queued().ran] == [
        "accretion.outcomes.alerts.send_red_flag_alert"]
    assert [m.to for m in mail.outbox] == [["oncall@north.test"]] and len(LocmemSMSBackend.outbox) == 1
    assert "Quintero" not in mail.outbox[0].body and "Quintero" not in LocmemSMSBackend.outbox[0][1]
