from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import expect

from accretion.consents.models import Consent
from accretion.patients.models import Patient
from accretion.procedures.models import Procedure
from accretion.screenings.models import Screening

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
TABLET = {"width": 820, "height": 1180}


def test_estimate_then_consent_signed_on_a_tablet_then_spanish_handout(live_server, browser, sign_in, shot):
    call_command("demo", stdout=open("/dev/null", "w"))
    patient = Patient.objects.filter(clinic__slug="north", preferred_language="es",
                                     procedures__isnull=True).order_by("mrn").first()
    nurse_user = patient.clinic.memberships.get(role="nurse").user
    Screening.objects.create(clinic=patient.clinic, patient=patient, created_by=nurse_user, status="decided",
                             decision="eligible", findings=[], intake={"diagnoses": ["facet_oa"]},
                             ruleset="default-2026.1", decided_at=timezone.now())
    procedure = Procedure.objects.create(
        clinic=patient.clinic, patient=patient, planned_date=timezone.localdate() + timedelta(days=14),
        region="lumbar", targets=["facet_joint"], levels=["L4-L5", "L5-S1"], kits=1, created_by=nurse_user)

    desk = browser.new_page()
    sign_in(desk, "front_desk@north.demo")
    desk.goto(f"{live_server.url}/procedures/{procedure.pk}/")
    desk.get_by_role("button", name="Build the estimate").click()
    desk.get_by_label("Follow-up visits included").fill("2")
    desk.get_by_role("button", name="Save estimate").click()
    expect(desk.get_by_text("Estimated total (self-pay)")).to_be_visible()
    shot(desk, "20-estimate")

    tablet = browser.new_context(viewport=TABLET, has_touch=True).new_page()
    errors = []
    tablet.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    sign_in(tablet, "nurse@north.demo")
    tablet.goto(f"{live_server.url}/procedures/{procedure.pk}/consent/")
    expect(tablet.get_by_role("heading", name="Consentimiento para una inyección")).to_be_visible()
    for box in tablet.get_by_label("He leído esta sección y me respondieron mis preguntas.").all():
        box.check()
    tablet.get_by_label("Su nombre completo").fill(patient.full_name)
    # Draw the signature with the mouse: a few strokes across the canvas.
    canvas = tablet.locator("canvas[data-signature-pad]")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    tablet.mouse.move(box["x"] + 30, box["y"] + box["height"] * 0.6)
    tablet.mouse.down()
    for step in range(1, 12):
        tablet.mouse.move(box["x"] + 30 + step * 35, box["y"] + box["height"] * (0.3 if step % 2 else 0.7), steps=4)
    tablet.mouse.up()
    tablet.get_by_label("I explained this consent").check()
    shot(tablet, "21-consent-tablet")
    tablet.get_by_role("button", name="Firmar el consentimiento").click()
    expect(tablet.get_by_text("Signed and valid.")).to_be_visible()
    shot(tablet, "22-consent-signed")
    assert errors == [], errors
    consent = Consent.objects.get()
    assert consent.language == "es" and len(bytes(consent.signature_png)) > 500

    # The aftercare handout opens in Spanish for this patient.
    tablet.goto(f"{live_server.url}/procedures/{procedure.pk}/aftercare/")
    expect(tablet.locator("article.handout")).to_have_attribute("lang", "es")
    expect(tablet.get_by_text("no tome AINE", exact=False).first).to_be_visible()
    shot(tablet, "23-handout-es")
