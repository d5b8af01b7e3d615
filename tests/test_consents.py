import base64
import json
import subprocess
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone

from accretion.audit.models import AuditEvent
from accretion.consents import pricing
from accretion.consents.models import Consent, ConsentWithdrawal, Estimate, ImmutableError, PriceList
from accretion.procedures.models import Procedure
from tests.conftest import screened as screen
from tests.conftest import signed_in

# A real (tiny) PNG and the strokes signature_pad reports for a drawn line.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
SIGNATURE = "data:image/png;base64," + base64.b64encode(PNG).decode()
STROKES = json.dumps([{"points": [{"x": 1, "y": 1}, {"x": 40, "y": 12}], "penColor": "#000"}])
PRICES = {"currency": "USD", "consultation": "250.00", "prp_kit": "450.00", "injection_target": "300.00",
          "additional_level": "150.00", "image_guidance": "200.00", "follow_up_visit": "95.50"}


@pytest.fixture
def setup(clinics, staff, make_patient):
    north = clinics["north"]
    patient = make_patient(north, email="rosa@example.org", preferred_language="es",
                           given_name="Rosa", family_name="Martínez")
    PriceList.objects.create(clinic=north, **PRICES)
    procedure = Procedure.objects.create(
        clinic=north, patient=patient, planned_date=timezone.localdate() + timedelta(days=10), region="lumbar",
        targets=["facet_joint", "interspinous_ligament"], levels=["L4-L5", "L5-S1"], kits=1,
        created_by=staff[("north", "nurse")],
    )
    return {"patient": patient, "procedure": procedure, "north": north}


def estimate(client, procedure, **extra):
    return client.post(f"/procedures/{procedure.pk}/estimate/", {"kits": 1, "follow_up_visits": 2,
                                                                   "consultation": "on", **extra})


def sign(client, procedure, lang="es", remote_addr="127.0.0.1", **overrides):
    page = client.get(f"/procedures/{procedure.pk}/consent/", {"lang": lang})
    assert page.status_code == 200, page.content[:500]
    data = {
        "document_sha256": page.context["form"].initial["document_sha256"],
        "sections": [s.code for s in page.context["sections"]],
        "signed_by": "patient", "typed_name": "Rosa Martínez", "signature": SIGNATURE, "strokes": STROKES,
        "explained": "on", "education_offered": "on",
    }
    data.update(overrides)
    return client.post(f"/procedures/{procedure.pk}/consent/?lang={lang}", data, REMOTE_ADDR=remote_addr)


# --- pricing (pure) ---------------------------------------------------------------


def test_quote_lines_and_exact_total():
    counts = pricing.quantities(targets=2, levels=3, kits=2, consultation=True, follow_up_visits=2)
    assert counts == {"consultation": 1, "prp_kit": 2, "injection_target": 2, "additional_level": 2,
                      "image_guidance": 1, "follow_up_visit": 2}
    prices = {k: Decimal(v) for k, v in PRICES.items() if k != "currency"}
    quote = pricing.quote(prices, counts, "USD")
    assert [line.amount for line in quote.lines] == [Decimal("250.00"), Decimal("900.00"), Decimal("600.00"),
                                                     Decimal("300.00"), Decimal("200.00"), Decimal("191.00")]
    assert quote.total == Decimal("2441.00") and isinstance(quote.total, Decimal)


@pytest.mark.parametrize("kwargs, field", [
    ({"targets": 0}, "targets"), ({"kits": 0}, "kits"), ({"follow_up_visits": -1}, "follow_up_visits"),
    ({"levels": 1.5}, "levels"), ({"kits": True}, "kits"),
])
def test_quantities_refuse_nonsense(kwargs, field):
    base = {"targets": 1, "levels": 1, "kits": 1, "consultation": True, "follow_up_visits": 0}
    with pytest.raises(pricing.EstimateError) as error:
        pricing.quantities(**{**base, **kwargs})
    assert error.value.field == field


def test_missing_price_names_the_item():
    with pytest.raises(pricing.EstimateError, match="Follow-up visit"):
        pricing.quote({"consultation": Decimal(1)}, {"consultation": 1, "follow_up_visit": 1}, "USD")


# --- estimate pages ------------------------------------------------------------------


def test_front_desk_builds_an_estimate(setup, staff):
    screen(setup["patient"])
    desk = signed_in(staff[("north", "front_desk")], setup["north"])
    assert estimate(desk, setup["procedure"]).status_code == 302
    saved = Estimate.objects.get()
    # 250 + 450 + 2 x 300 + 1 additional level x 150 + 200 + 2 x 95.50
    assert saved.total == Decimal("1841.00") and saved.currency == "USD"
    assert [line.code for line in saved.lines.all()] == list(pricing.ITEMS)
    assert AuditEvent.objects.filter(action="create", object_type="consents.estimate",
                                     patient_id=setup["patient"].pk).exists()
    with pytest.raises(ImmutableError):
        saved.save()


def test_estimate_bad_input_changes_nothing(setup, staff):
    screen(setup["patient"])
    desk = signed_in(staff[("north", "front_desk")], setup["north"])
    assert estimate(desk, setup["procedure"], follow_up_visits=-1).status_code == 400
    assert estimate(desk, setup["procedure"], kits="x").status_code == 400
    PriceList.objects.filter(clinic=setup["north"]).update(follow_up_visit=None)
    missing = estimate(desk, setup["procedure"])
    assert missing.status_code == 400 and "no price for" in missing.content.decode()
    assert Estimate.objects.count() == 0


def test_price_list_edits_are_validated(setup, staff):
    admin = signed_in(staff[("north", "clinic_admin")], setup["north"])
    bad = admin.post("/clinic/prices/", {**PRICES, "prp_kit": "-5", "currency": "dollars"})
    assert bad.status_code == 400 and set(bad.context["form"].errors) == {"prp_kit", "currency"}
    assert admin.post("/clinic/prices/", {**PRICES, "prp_kit": "475.25", "currency": "eur"}).status_code == 302
    prices = PriceList.objects.get(clinic=setup["north"])
    assert (prices.prp_kit, prices.currency) == (Decimal("475.25"), "EUR")


# --- consent ----------------------------------------------------------------------


def test_consent_is_signed_stored_exactly_and_immutable(setup, staff):
    screen(setup["patient"])
    nurse = signed_in(staff[("north", "nurse")], setup["north"])
    estimate(nurse, setup["procedure"])
    response = sign(nurse, setup["procedure"], lang="es", remote_addr="10.0.0.7")
    consent = Consent.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/consents/{consent.pk}/"
    assert consent.language == "es" and "normalmente no las cubre el seguro" in consent.document_html
    assert consent.document_sha256 == Consent.digest(consent.document_html)
    assert bytes(consent.signature_png) == PNG and consent.signed_from == "10.0.0.7"
    assert consent.explained_by == staff[("north", "nurse")] and consent.education_version
    assert "expectations" not in consent.sections_confirmed  # no structural diagnosis was flagged
    consent.patient_typed_name = "Someone else"
    with pytest.raises(ImmutableError):
        consent.save()
    with pytest.raises(ImmutableError):
        consent.delete()
    assert AuditEvent.objects.filter(action="create", object_type="consents.consent").count() == 1


def test_structural_expectation_section_appears_when_screening_raised_it(setup, staff):
    screen(setup["patient"], findings=[{"code": "STRUCTURAL_EXPECTATION", "severity": "caution", "message": "",
                                        "source": ""}], diagnoses=["facet_oa", "disc_herniation"])
    nurse = signed_in(staff[("north", "nurse")], setup["north"])
    estimate(nurse, setup["procedure"])
    page = nurse.get(f"/procedures/{setup['procedure'].pk}/consent/", {"lang": "en"})
    assert "expectations" in [s.code for s in page.context["sections"]]
    assert "not a structural cure" in page.content.decode() and "a disc herniation" in page.content.decode()
    # Leaving that section unconfirmed refuses the signature and stores nothing.
    sections = [s.code for s in page.context["sections"] if s.code != "expectations"]
    refused = sign(nurse, setup["procedure"], lang="en", sections=sections)
    assert refused.status_code == 400 and "confirm every section" in refused.content.decode()
    assert Consent.objects.count() == 0


@pytest.mark.parametrize("overrides, message", [
    ({"strokes": "[]", "signature": ""}, "Please sign in the box"),
    ({"signature": "data:image/png;base64,not-base64!!"}, "could not be read"),
    ({"signature": "data:image/jpeg;base64," + base64.b64encode(PNG).decode()}, "could not be read"),
    ({"typed_name": ""}, "This field is required"),
    ({"signed_by": ""}, "This field is required"),
    ({"signed_by": "neighbour"}, "Select a valid choice"),
    ({"explained": ""}, "must confirm it"),
    ({"document_sha256": "0" * 64}, "changed while it was open"),
])
def test_bad_signatures_are_refused_and_nothing_is_stored(setup, staff, overrides, message):
    screen(setup["patient"])
    nurse = signed_in(staff[("north", "nurse")], setup["north"])
    estimate(nurse, setup["procedure"])
    response = sign(nurse, setup["procedure"], lang="en", **overrides)
    assert response.status_code == 400 and message in response.content.decode()
    assert Consent.objects.count() == 0


def test_consent_is_refused_when_ineligible_unscreened_or_already_signed(setup, staff):
    nurse = signed_in(staff[("north", "nurse")], setup["north"])
    url = f"/procedures/{setup['procedure'].pk}/consent/"
    unscreened = nurse.get(url)
    assert unscreened.status_code == 409 and "no completed screening" in unscreened.content.decode()
    screen(setup["patient"], decision="ineligible",
           findings=[{"code": "ACTIVE_INFECTION", "severity": "contraindication", "message": "", "source": ""}])
    ineligible = nurse.get(url)
    assert ineligible.status_code == 409 and "ACTIVE_INFECTION" in ineligible.content.decode()
    screen(setup["patient"])  # a newer, eligible screening
    estimate(nurse, setup["procedure"])
    assert sign(nurse, setup["procedure"]).status_code == 302
    twice = nurse.get(url)
    assert twice.status_code == 409 and "already has a signed consent" in twice.content.decode()
    assert Consent.objects.count() == 1


def test_withdrawal_is_a_new_dated_record_and_allows_a_new_consent(setup, staff):
    screen(setup["patient"])
    nurse = signed_in(staff[("north", "nurse")], setup["north"])
    estimate(nurse, setup["procedure"])
    sign(nurse, setup["procedure"])
    consent = Consent.objects.get()
    nurse.post(f"/consents/{consent.pk}/withdraw/", {"reason": "Wants to think it over.", "confirm": "on"})
    withdrawal = ConsentWithdrawal.objects.get()
    assert withdrawal.consent == consent and withdrawal.reason == "Wants to think it over."
    again = nurse.post(f"/consents/{consent.pk}/withdraw/", {"reason": "twice", "confirm": "on"})
    assert again.status_code == 302 and ConsentWithdrawal.objects.count() == 1
    assert sign(nurse, setup["procedure"]).status_code == 302
    assert Consent.objects.count() == 2


# --- who signs: the patient under their registered name, or a representative -------


def _ready(setup, staff):
    screen(setup["patient"])
    nurse = signed_in(staff[("north", "nurse")], setup["north"])
    estimate(nurse, setup["procedure"])
    return nurse


@pytest.mark.parametrize("typed", ["Mickey Mouse", "Rosa Martín", "Rosa", "R. Martínez", "Rosa Quinlan"])
def test_a_name_that_is_not_the_patients_is_refused_and_nothing_is_stored(setup, staff, typed):
    nurse = _ready(setup, staff)
    response = sign(nurse, setup["procedure"], lang="en", typed_name=typed)
    assert response.status_code == 400
    errors = response.context["form"].errors["typed_name"]
    assert errors == [("The typed name must match the patient's name as registered: Rosa Martínez. If someone else "
                       "signs for the patient, choose legally authorised representative.")]
    assert "registered: Rosa Martínez" in response.content.decode()
    assert Consent.objects.count() == 0
    assert not AuditEvent.objects.filter(action="create", object_type="consents.consent").exists()


@pytest.mark.parametrize("typed, stored", [
    ("ROSA  MARTINEZ", "ROSA MARTINEZ"), (" rosa martínez ", "rosa martínez"), ("Martínez, Rosa", "Martínez, Rosa"),
    ("Rosa Elena Martinez", "Rosa Elena Martinez"),
])
def test_case_accent_and_spacing_variants_of_the_patients_name_are_accepted(setup, staff, typed, stored):
    nurse = _ready(setup, staff)
    assert sign(nurse, setup["procedure"], typed_name=typed).status_code == 302
    consent = Consent.objects.get()
    assert (consent.signed_by, consent.patient_typed_name, consent.representative_name) == ("patient", stored, "")
    page = nurse.get(f"/consents/{consent.pk}/").content.decode()
    assert f"Firmado por:</strong> {stored}" in page and "representante legalmente autorizado" not in page


def test_the_service_refuses_a_mismatched_name_whoever_calls_it(setup, staff, rf):
    from accretion.consents import services

    _ready(setup, staff)
    request = rf.post("/")
    request.user = staff[("north", "nurse")]
    with pytest.raises(services.Refused) as refused:
        services.sign_consent(request, setup["procedure"], language="en", shown_sha256="x", sections=[],
                              typed_name="Mickey Mouse", signature_png=PNG, education=None)
    assert refused.value.field == "typed_name" and "Rosa Martínez" in str(refused.value)
    with pytest.raises(services.Refused) as refused:
        services.sign_consent(request, setup["procedure"], language="en", shown_sha256="x", sections=[],
                              typed_name="", signature_png=PNG, education=None, signed_by="representative",
                              representative_name="Carmen Martínez", representative_relationship="cousin")
    assert refused.value.field == "representative_relationship"
    assert Consent.objects.count() == 0


REPRESENTATIVE = {"signed_by": "representative", "typed_name": "", "representative_name": "Carmen  Martínez",
                  "representative_relationship": "legal_guardian"}


@pytest.mark.parametrize("lang, line", [
    ("es", "Firmado por Carmen Martínez, tutor legal, representante legalmente autorizado de Rosa Martínez"),
    ("en", "Signed by Carmen Martínez, legal guardian, legally authorised representative of Rosa Martínez"),
])
def test_a_legally_authorised_representative_signs_and_it_shows_on_page_and_pdf(setup, staff, tmp_path, lang, line):
    nurse = _ready(setup, staff)
    # Whatever was typed in the patient's name box is not kept when the representative signs.
    response = sign(nurse, setup["procedure"], lang=lang, **{**REPRESENTATIVE, "typed_name": "Mickey Mouse"})
    assert response.status_code == 302
    consent = Consent.objects.get()
    assert (consent.signed_by, consent.representative_name, consent.representative_relationship,
            consent.patient_typed_name, consent.signer_name) == (
        "representative", "Carmen Martínez", "legal_guardian", "", "Carmen Martínez")
    assert AuditEvent.objects.get(action="create", object_type="consents.consent").detail["signed_by"] == \
        "representative"
    assert line in nurse.get(f"/consents/{consent.pk}/").content.decode()
    pdf = " ".join(_pdf_text(nurse.get(f"/consents/{consent.pk}/consent.pdf").content, tmp_path).split())
    assert line in pdf


def test_a_representative_of_another_relationship_says_which(setup, staff):
    nurse = _ready(setup, staff)
    other = {**REPRESENTATIVE, "representative_relationship": "other", "representative_relationship_other": "hija"}
    assert sign(nurse, setup["procedure"], **other).status_code == 302
    consent = Consent.objects.get()
    assert consent.representative_relationship_other == "hija"
    assert "Firmado por Carmen Martínez, hija, representante legalmente autorizado de Rosa Martínez" in \
        nurse.get(f"/consents/{consent.pk}/").content.decode()


@pytest.mark.parametrize("overrides, field, message", [
    ({"representative_name": "  "}, "representative_name", "Give the representative's full name."),
    ({"representative_relationship": ""}, "representative_relationship", "Choose the representative's relationship"),
    ({"representative_relationship": "neighbour"}, "representative_relationship", "Select a valid choice"),
    ({"representative_relationship": "other"}, "representative_relationship_other", "Say how the representative"),
])
def test_a_representative_without_name_or_relationship_is_refused(setup, staff, overrides, field, message):
    nurse = _ready(setup, staff)
    response = sign(nurse, setup["procedure"], lang="en", **{**REPRESENTATIVE, **overrides})
    assert response.status_code == 400
    assert message in " ".join(response.context["form"].errors[field])
    assert Consent.objects.count() == 0


def test_the_database_refuses_a_consent_without_a_recorded_signer(setup, staff):
    from django.db import IntegrityError, transaction

    nurse = _ready(setup, staff)
    sign(nurse, setup["procedure"])
    signed = Consent.objects.get()
    fields = {f.name: getattr(signed, f.name) for f in Consent._meta.concrete_fields if f.name != "id"}
    for bad in ({"patient_typed_name": ""},
                {"signed_by": "representative"},
                {"signed_by": "representative", "patient_typed_name": "", "representative_name": "Carmen"},
                {"representative_name": "Carmen", "representative_relationship": "parent"},
                {"signed_by": "representative", "patient_typed_name": "", "representative_name": "Carmen",
                 "representative_relationship": "other"}):
        with pytest.raises(IntegrityError), transaction.atomic():
            Consent.objects.create(**{**fields, **bad})


def test_the_sign_page_offers_both_signers_in_the_patients_language(setup, staff):
    nurse = _ready(setup, staff)
    page = nurse.get(f"/procedures/{setup['procedure'].pk}/consent/", {"lang": "es"}).content.decode()
    assert "Quién firma" in page and "Un representante legalmente autorizado del paciente" in page
    assert "Tutor legal" in page and "Apoderado para decisiones de salud" in page


# --- withdrawal -------------------------------------------------------------------


@pytest.mark.parametrize("data, field, message", [
    ({"confirm": "on"}, "reason", "Give the reason the patient withdraws this consent."),
    ({"reason": "   ", "confirm": "on"}, "reason", "Give the reason the patient withdraws this consent."),
    ({"reason": "Changed her mind."}, "confirm", "Confirm that the patient withdraws this consent."),
    ({"reason": "x" * 1001, "confirm": "on"}, "reason", "at most 1000 characters"),
])
def test_withdrawal_without_reason_or_confirmation_is_refused(setup, staff, data, field, message):
    nurse = _ready(setup, staff)
    sign(nurse, setup["procedure"])
    consent = Consent.objects.get()
    response = nurse.post(f"/consents/{consent.pk}/withdraw/", data)
    assert response.status_code == 400
    assert message in " ".join(response.context["withdraw_form"].errors[field])
    assert message.replace("'", "&#x27;") in response.content.decode()
    assert ConsentWithdrawal.objects.count() == 0
    assert not AuditEvent.objects.filter(action="update", object_type="consents.consent").exists()


def test_withdrawal_reason_is_stored_audited_and_shown_on_page_and_pdf(setup, staff, tmp_path):
    nurse = _ready(setup, staff)
    sign(nurse, setup["procedure"])
    consent = Consent.objects.get()
    response = nurse.post(f"/consents/{consent.pk}/withdraw/", {"reason": " Wants a second opinion. ", "confirm": "on"})
    assert response.status_code == 302
    assert ConsentWithdrawal.objects.get().reason == "Wants a second opinion."
    event = AuditEvent.objects.get(action="update", object_type="consents.consent")
    assert event.detail == {"withdrawn": True, "reason": "Wants a second opinion."}
    assert "Reason: Wants a second opinion." in nurse.get(f"/consents/{consent.pk}/").content.decode()
    pdf = " ".join(_pdf_text(nurse.get(f"/consents/{consent.pk}/consent.pdf").content, tmp_path).split())
    assert "RETIRADO" in pdf and "Motivo: Wants a second opinion." in pdf  # the patient's language (es)


def _pdf_text(data: bytes, tmp_path) -> str:
    path = tmp_path / "consent.pdf"
    path.write_bytes(data)
    subprocess.run(["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1", str(path), str(tmp_path / "page")], check=True)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


@pytest.mark.parametrize("lang, phrases", [
    ("en", ["Consent to a platelet-rich plasma", "usually not covered by health insurance", "$1,841.00", "Signed by"]),
    ("es", ["Consentimiento para una inyección", "normalmente no las cubre el seguro", "Firmado por", "Riesgos"]),
])
def test_pdf_copy_in_both_languages(setup, staff, tmp_path, lang, phrases):
    screen(setup["patient"])
    nurse = signed_in(staff[("north", "nurse")], setup["north"])
    estimate(nurse, setup["procedure"])
    sign(nurse, setup["procedure"], lang=lang)
    consent = Consent.objects.get()
    response = nurse.get(f"/consents/{consent.pk}/consent.pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = " ".join(_pdf_text(response.content, tmp_path).split())
    for phrase in phrases:
        assert phrase in text, phrase
    assert consent.document_sha256 in text.replace(" ", "") or consent.document_sha256[:20] in text
    assert (tmp_path / "page-1.png").exists()
    assert AuditEvent.objects.filter(action="export", object_type="consents.consent").count() == 1


def test_email_pdf_and_patient_without_email(setup, staff):
    screen(setup["patient"])
    nurse = signed_in(staff[("north", "nurse")], setup["north"])
    estimate(nurse, setup["procedure"])
    sign(nurse, setup["procedure"])
    consent = Consent.objects.get()
    nurse.post(f"/consents/{consent.pk}/email/")
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.to == ["rosa@example.org"] and sent.subject == "Su consentimiento firmado"
    assert sent.attachments[0][0] == f"consent-{consent.pk}.pdf" and sent.attachments[0][1].startswith(b"%PDF")
    type(setup["patient"]).objects.filter(pk=setup["patient"].pk).update(email="")
    response = nurse.post(f"/consents/{consent.pk}/email/", follow=True)
    assert "has no e-mail address" in response.content.decode() and len(mail.outbox) == 1


def test_planning_refuses_levels_of_another_region_and_past_dates(setup, staff):
    screen(setup["patient"])
    nurse = signed_in(staff[("north", "nurse")], setup["north"])
    url = f"/patients/{setup['patient'].pk}/procedures/new/"
    base = {"planned_date": (date.today() + timedelta(days=7)).isoformat(), "region": "lumbar",
            "targets": ["facet_joint"], "levels": "L4-L5", "kits": 1}
    wrong = nurse.post(url, {**base, "levels": "C5-C6"})
    assert wrong.status_code == 400 and "Not a lumbar level: C5-C6" in wrong.context["form"].errors["levels"][0]
    past = nurse.post(url, {**base, "planned_date": "2020-01-01"})
    assert past.status_code == 400 and "past" in past.context["form"].errors["planned_date"][0]
    assert nurse.post(url, {**base, "levels": "l4-l5, L5/S1"}).status_code == 302
    assert Procedure.objects.filter(patient=setup["patient"]).latest("id").levels == ["L4-L5", "L5-S1"]
