import io
from datetime import date

import pytest
from django.core.management import call_command
from icalendar import Calendar
from playwright.sync_api import expect

from accretion.clinics.models import Clinic
from accretion.patients.models import Patient
from accretion.procedures.models import Procedure

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_nurse_opens_the_spanish_handout_and_switches_to_english(live_server, browser, sign_in, shot):
    call_command("demo", stdout=io.StringIO())
    patient = Patient.objects.filter(clinic__slug="north", preferred_language="es").order_by("mrn").first()
    procedure = Procedure.objects.create(
        clinic=patient.clinic, patient=patient, planned_date=date(2027, 11, 30), region="lumbar",
        targets=["facet_joint"], levels=["L4-L5"], created_by=patient.clinic.memberships.get(role="physician").user,
    )

    nurse = browser.new_page()
    errors = []
    nurse.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    nurse.on("pageerror", lambda e: errors.append(str(e)))
    sign_in(nurse, "nurse@north.demo")
    nurse.goto(f"{live_server.url}/procedures/{procedure.pk}/")
    section = nurse.locator("#stage-aftercare")
    expect(section.get_by_role("heading", name="Aftercare handout")).to_be_visible()
    shot(nurse, "aftercare-01-procedure-section")

    section.get_by_role("button", name="Handout in Español").click()
    expect(nurse.get_by_role("heading", name="Cuidados después de su inyección de PRP en la columna")).to_be_visible()
    handout = nurse.locator("article.handout")
    expect(handout).to_have_attribute("lang", "es")
    expect(handout.get_by_text("martes, 30 de noviembre de 2027").first).to_be_visible()
    expect(handout.get_by_role("row", name="3 meses martes, 29 de febrero de 2028")).to_be_visible()
    expect(handout.get_by_text("Fiebre de más de 38.3 °C (101 °F), o escalofríos con temblores.")).to_be_visible()
    questions = "¿Tiene preguntas? Llame a North Spine & Pain Center al +1 (555) 010-2000."
    expect(handout.get_by_text(questions)).to_be_visible()
    expect(nurse.get_by_role("button", name="Download PDF")).to_be_visible()
    expect(nurse.get_by_role("button", name="Add to calendar (.ics)")).to_be_visible()
    shot(nurse, "aftercare-02-handout-es")

    # The downloads answer with the document in the language shown.
    pdf_button = nurse.get_by_role("button", name="Download PDF")
    pdf = nurse.request.get(live_server.url + pdf_button.get_attribute("href"))
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
    ics_button = nurse.get_by_role("button", name="Add to calendar (.ics)")
    ics = nurse.request.get(live_server.url + ics_button.get_attribute("href"))
    assert ics.status == 200
    summaries = [str(e["SUMMARY"]) for e in Calendar.from_ical(ics.body()).walk("VEVENT")]
    assert "No tomar AINE (ibuprofeno, naproxeno)" in summaries

    nurse.get_by_role("navigation", name="Handout language").get_by_role("link", name="English").click()
    expect(nurse.get_by_role("heading", name="Aftercare after your PRP spine injection")).to_be_visible()
    expect(nurse.locator("article.handout")).to_have_attribute("lang", "en")
    expect(nurse.get_by_role("row", name="3 months Tuesday, February 29, 2028")).to_be_visible()
    expect(nurse.get_by_text("Cuidados después")).to_have_count(0)
    shot(nurse, "aftercare-03-handout-en")

    nurse.emulate_media(media="print")
    expect(nurse.get_by_role("button", name="Download PDF")).to_be_hidden()
    shot(nurse, "aftercare-04-handout-en-print")
    assert errors == [], errors  # no CSP violations or script errors


def test_clinic_admin_sets_the_nsaid_days_with_an_error_at_the_field(live_server, browser, sign_in, shot):
    call_command("demo", stdout=io.StringIO())
    admin = browser.new_page()
    errors = []
    # A 400 answer to an invalid form is expected; anything else is not.
    admin.on("console",
             lambda m: errors.append(m.text) if m.type == "error" and "status of 400" not in m.text else None)
    sign_in(admin, "clinic_admin@north.demo")
    admin.goto(f"{live_server.url}/clinic/aftercare-settings/")
    expect(admin.get_by_role("heading", name="Aftercare settings")).to_be_visible()
    days = admin.get_by_label("Days without NSAIDs after the injection")
    expect(days).to_have_value("7")
    days.fill("15")
    admin.get_by_role("button", name="Save aftercare settings").click()
    expect(admin.get_by_text("Ensure this value is less than or equal to 14.")).to_be_visible()
    shot(admin, "aftercare-05-settings-error")
    admin.get_by_label("Days without NSAIDs after the injection").fill("10")
    admin.get_by_label("Heat").check()
    admin.get_by_role("button", name="Save aftercare settings").click()
    expect(admin.get_by_text("Aftercare settings saved.")).to_be_visible()
    expect(admin.get_by_label("Days without NSAIDs after the injection")).to_have_value("10")
    shot(admin, "aftercare-06-settings-saved")
    assert errors == [], errors
    assert Clinic.objects.get(slug="north").aftercare_protocol == {"nsaid_days": 10, "cold_or_heat": "heat"}
