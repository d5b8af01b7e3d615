import io
import unicodedata
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


def draw_signature(page):
    """A few strokes across the signature box with the mouse."""
    canvas = page.locator("canvas[data-signature-pad]")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    page.mouse.move(box["x"] + 30, box["y"] + box["height"] * 0.6)
    page.mouse.down()
    for step in range(1, 12):
        page.mouse.move(box["x"] + 30 + step * 35, box["y"] + box["height"] * (0.3 if step % 2 else 0.7), steps=4)
    page.mouse.up()


def test_estimate_then_consent_signed_on_a_tablet_then_withdrawn_and_signed_by_a_representative(live_server, browser, sign_in, shot):
    call_command("demo", stdout=io.StringIO())
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
    # A refused form comes back as 400 on purpose; any other console error is a fault.
    tablet.on("console", lambda m: errors.append(m.text) if m.type == "error" and "status of 400" not in m.text
              else None)
    sign_in(tablet, "nurse@north.demo")
    tablet.goto(f"{live_server.url}/procedures/{procedure.pk}/consent/")
    expect(tablet.get_by_role("heading", name="Consentimiento para una inyección")).to_be_visible()
    for box in tablet.get_by_label("He leído esta sección y me respondieron mis preguntas.").all():
        box.check()
    # Another name is refused, and the staff member sees the name as registered.
    tablet.get_by_label("Su nombre completo").fill("Mickey Mouse")
    draw_signature(tablet)
    tablet.get_by_label("I explained this consent").check()
    tablet.get_by_role("button", name="Firmar el consentimiento").click()
    expect(tablet.get_by_text(f"debe coincidir con el nombre registrado del paciente: {patient.full_name}").first).to_be_visible()
    shot(tablet, "21-consent-wrong-name")
    assert Consent.objects.count() == 0
    # The patient's own name, typed in capitals and without accents, is accepted.
    typed = unicodedata.normalize("NFKD", patient.full_name).encode("ascii", "ignore").decode().upper()
    tablet.get_by_label("Su nombre completo").fill(typed)
    draw_signature(tablet)
    shot(tablet, "21-consent-tablet")
    tablet.get_by_role("button", name="Firmar el consentimiento").click()
    expect(tablet.get_by_text("Signed and valid.")).to_be_visible()
    shot(tablet, "22-consent-signed")
    assert errors == [], errors
    consent = Consent.objects.get()
    assert consent.language == "es" and len(bytes(consent.signature_png)) > 500
    assert consent.signed_by == "patient" and consent.patient_typed_name == typed

    # Withdrawal needs a reason and the staff member's confirmation.
    tablet.get_by_text("Record that the patient withdraws this consent").click()
    tablet.get_by_label("Reason the patient gives").fill("Her daughter, her guardian, signs for her.")
    tablet.get_by_role("button", name="Record withdrawal").click()
    expect(tablet.get_by_text("Confirm that the patient withdraws this consent.")).to_be_visible()
    assert not Consent.objects.get().withdrawn
    tablet.get_by_label("I confirm the patient withdraws this consent").check()
    tablet.get_by_role("button", name="Record withdrawal").click()
    expect(tablet.get_by_text("Reason: Her daughter, her guardian, signs for her.")).to_be_visible()

    # A legally authorised representative signs the new consent: name and relationship are required.
    tablet.goto(f"{live_server.url}/procedures/{procedure.pk}/consent/")
    expect(tablet.get_by_label("Nombre completo del representante")).to_be_hidden()
    for box in tablet.get_by_label("He leído esta sección y me respondieron mis preguntas.").all():
        box.check()
    tablet.get_by_label("Un representante legalmente autorizado del paciente").check()
    expect(tablet.get_by_label("Su nombre completo")).to_be_hidden()
    tablet.get_by_label("Nombre completo del representante").fill("Lucía Ortega")
    tablet.get_by_label("Relación con el paciente").select_option(label="Otra")
    tablet.get_by_role("button", name="Firmar el consentimiento").click()
    expect(tablet.get_by_text("Diga qué relación tiene el representante con el paciente.").first).to_be_visible()
    tablet.get_by_label("Relación con el paciente").select_option(label="Tutor legal")
    expect(tablet.get_by_label("Relación, en sus palabras")).to_be_hidden()
    draw_signature(tablet)
    tablet.get_by_label("I explained this consent").check()
    shot(tablet, "24-consent-representative")
    tablet.get_by_role("button", name="Firmar el consentimiento").click()
    expect(tablet.get_by_text("Signed and valid.")).to_be_visible()
    line = f"Firmado por Lucía Ortega, tutor legal, representante legalmente autorizado de {patient.full_name}"
    expect(tablet.get_by_text(line)).to_be_visible()
    shot(tablet, "25-consent-representative-signed")
    representative = Consent.objects.filter(withdrawal__isnull=True).get()
    assert (representative.signed_by, representative.representative_name,
            representative.representative_relationship) == ("representative", "Lucía Ortega", "legal_guardian")
    assert errors == [], errors

    # The aftercare handout opens in Spanish for this patient.
    tablet.goto(f"{live_server.url}/procedures/{procedure.pk}/aftercare/")
    expect(tablet.locator("article.handout")).to_have_attribute("lang", "es")
    expect(tablet.get_by_text("no tome AINE", exact=False).first).to_be_visible()
    shot(tablet, "23-handout-es")
