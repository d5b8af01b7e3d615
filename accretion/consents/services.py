"""Estimates and consents: one code path per use case for pages and API."""

import base64
import binascii
import json

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone

from accretion.audit.log import Action, client_address, record
from accretion.clinical import names
from accretion.consents import document, pricing, texts
from accretion.consents.models import (
    Consent,
    ConsentWithdrawal,
    Estimate,
    EstimateLine,
    PriceList,
    Relationship,
    SignedBy,
)
from accretion.screenings.services import latest_screening, not_cleared

MAX_SIGNATURE_BYTES = 300_000
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


class Refused(Exception):
    """A request that must change nothing, with the reason to show."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def estimate_blocker(procedure) -> str:
    """Why no estimate may be built now ("" when one may): the same screening rule as the consent."""
    blocked = not_cleared(procedure.patient)
    return f"No estimate can be built. {blocked}" if blocked else ""


def create_estimate(request, procedure, *, consultation: bool, follow_up_visits: int, kits: int) -> Estimate:
    blocked = estimate_blocker(procedure)
    if blocked:
        raise Refused(blocked)
    price_list = PriceList.objects.filter(clinic=procedure.clinic).first()
    if price_list is None:
        raise Refused("This clinic has no price list yet; a clinic administrator sets it under Prices.")
    try:
        counts = pricing.quantities(targets=len(procedure.targets), levels=len(procedure.levels), kits=kits,
                                    consultation=consultation, follow_up_visits=follow_up_visits)
        quote = pricing.quote(price_list.prices(), counts, price_list.currency)
    except pricing.EstimateError as error:
        raise Refused(error.message[0].upper() + error.message[1:] + ".", field=error.field) from None
    with transaction.atomic():
        estimate = Estimate.objects.create(clinic=procedure.clinic, procedure=procedure, currency=quote.currency,
                                           total=quote.total, created_by=request.user)
        EstimateLine.objects.bulk_create(
            EstimateLine(estimate=estimate, position=i, code=line.code, description=line.description,
                         unit_price=line.unit_price, quantity=line.quantity, amount=line.amount)
            for i, line in enumerate(quote.lines)
        )
        record(request, Action.CREATE, estimate, patient_id=procedure.patient_id, total=str(quote.total),
               currency=quote.currency)
    return estimate


def consent_blockers(procedure) -> list[str]:
    """Why a consent cannot be taken now (empty when it can)."""
    reasons = []
    blocked = not_cleared(procedure.patient)
    if blocked:
        reasons.append(blocked)
    if not procedure.estimates.exists():
        reasons.append("There is no cost estimate for this procedure yet: build one first.")
    if active_consent(procedure) is not None:
        reasons.append("This procedure already has a signed consent; withdraw it first to take a new one.")
    return reasons


def active_consent(procedure):
    return procedure.consents.filter(withdrawal__isnull=True).first()


def prepare_document(procedure, language: str):
    estimate = procedure.estimates.prefetch_related("lines").first()
    lines = [{"code": l.code, "unit_price": l.unit_price, "quantity": l.quantity, "amount": l.amount}
             for l in estimate.lines.all()]
    structural = document.structural_diagnoses(latest_screening(procedure.patient))
    sections = document.render(language, clinic=procedure.clinic, procedure=procedure, estimate=estimate,
                               lines=lines, structural=structural)
    return estimate, sections, document.as_html(language, sections)


def decode_signature(data_url: str, strokes: str, language: str = "en") -> bytes:
    prefix = "data:image/png;base64,"
    try:
        drawn = json.loads(strokes or "[]")
    except (ValueError, RecursionError):  # not JSON, or nested beyond reason: no signature
        drawn = []
    if not isinstance(drawn, list) or not any(
            isinstance(s, dict) and isinstance(s.get("points"), list) and len(s["points"]) >= 2 for s in drawn):
        raise Refused(texts.error("sign_here", language), field="signature")
    unreadable = Refused(texts.error("unreadable", language), field="signature")
    if not data_url.startswith(prefix):
        raise unreadable
    try:
        png = base64.b64decode(data_url[len(prefix):], validate=True)
    except (binascii.Error, ValueError):
        raise unreadable from None
    if not png.startswith(PNG_MAGIC) or len(png) > MAX_SIGNATURE_BYTES:
        raise unreadable
    return png


def signer_errors(patient, *, signed_by: str, typed_name: str, representative_name: str = "",
                  representative_relationship: str = "", representative_relationship_other: str = "",
                  language: str = "en") -> dict:
    """Who signs and under which name, field by field: empty when the signer is recorded properly.

    The patient signs under their registered name (``clinical.names.matches``); a legally authorised
    representative gives their full name and relationship to the patient ("other" in words). The messages are
    in `language` (the consent's).
    """
    errors = {}
    if signed_by == SignedBy.PATIENT:
        if not typed_name.strip():
            errors["typed_name"] = texts.error("typed_name_required", language)
        elif not names.matches(typed_name, patient.given_name, patient.family_name):
            errors["typed_name"] = texts.error("typed_name_mismatch", language,
                                               name=f"{patient.given_name} {patient.family_name}")
    elif signed_by == SignedBy.REPRESENTATIVE:
        if not representative_name.strip():
            errors["representative_name"] = texts.error("representative_name", language)
        if representative_relationship not in Relationship.values:
            errors["representative_relationship"] = texts.error("representative_relationship", language)
        elif representative_relationship == Relationship.OTHER and not representative_relationship_other.strip():
            errors["representative_relationship_other"] = texts.error("representative_relationship_other", language)
    else:
        errors["signed_by"] = texts.error("signed_by", language)
    return errors


def sign_consent(request, procedure, *, language: str, shown_sha256: str, sections: list[str], typed_name: str,
                 signature_png: bytes, education: dict | None, signed_by: str = SignedBy.PATIENT,
                 representative_name: str = "", representative_relationship: str = "",
                 representative_relationship_other: str = "") -> Consent:
    signer = {"signed_by": signed_by, "typed_name": typed_name, "representative_name": representative_name,
              "representative_relationship": representative_relationship,
              "representative_relationship_other": representative_relationship_other}
    errors = signer_errors(procedure.patient, **signer, language=language)
    if errors:
        field, message = next(iter(errors.items()))
        raise Refused(message, field=field)
    by_representative = signed_by == SignedBy.REPRESENTATIVE
    with transaction.atomic():
        # Lock the procedure so two tablets cannot both sign it.
        type(procedure).objects.select_for_update().get(pk=procedure.pk)
        blockers = consent_blockers(procedure)
        if blockers:
            raise Refused(" ".join(blockers))
        estimate, rendered, html = prepare_document(procedure, language)
        digest = Consent.digest(html)
        if shown_sha256 != digest:
            raise Refused("The consent document changed while it was open (for example a new estimate). "
                          "Please read it again and sign.")
        missing = [s.title for s in rendered if s.code not in sections]
        if missing:
            raise Refused(texts.error("sections", language, items="; ".join(missing)), field="sections")
        consent = Consent.objects.create(
            clinic=procedure.clinic, patient=procedure.patient, procedure=procedure, estimate=estimate,
            language=language, document_version=texts.DOCUMENT_VERSION[language], document_html=html,
            document_sha256=digest, education_version=(education or {}).get("version", ""),
            education_sha256=(education or {}).get("sha256", ""), sections_confirmed=[s.code for s in rendered],
            signed_by=signed_by, patient_typed_name="" if by_representative else " ".join(typed_name.split()),
            representative_name=" ".join(representative_name.split()) if by_representative else "",
            representative_relationship=representative_relationship if by_representative else "",
            representative_relationship_other=(
                representative_relationship_other.strip()
                if by_representative and representative_relationship == Relationship.OTHER else ""),
            signature_png=signature_png, signed_at=timezone.now(), signed_from=client_address(request),
            explained_by=request.user,
        )
        signer_detail = {"relationship": representative_relationship} if by_representative else {}
        record(request, Action.CREATE, consent, document_sha256=digest, language=language, signed_by=signed_by,
               **signer_detail)
    return consent


def withdraw(request, consent: Consent, reason: str, *, confirmed: bool) -> ConsentWithdrawal:
    """Record that the patient withdraws a consent: the reason is required, and the staff member confirms it."""
    if not reason.strip():
        raise Refused("Give the reason the patient withdraws this consent.", field="reason")
    if not confirmed:
        raise Refused("Confirm that the patient withdraws this consent.", field="confirm")
    with transaction.atomic():
        Consent.objects.select_for_update().filter(pk=consent.pk).first()  # two withdrawals at once: one waits
        if ConsentWithdrawal.objects.filter(consent=consent).exists():
            raise Refused("This consent was already withdrawn.")
        withdrawal = ConsentWithdrawal.objects.create(consent=consent, reason=reason.strip(), recorded_by=request.user,
                                                      client_address=client_address(request))
        record(request, Action.UPDATE, consent, withdrawn=True, reason=withdrawal.reason)
    return withdrawal


def email_pdf(request, consent: Consent, pdf: bytes) -> None:
    patient = consent.patient
    if not patient.email:
        raise Refused("This patient has no e-mail address; add one on the patient's record, or print the PDF.")
    subject = {"en": "Your signed consent", "es": "Su consentimiento firmado"}[consent.language]
    body = {"en": f"Attached is a copy of the consent you signed at {consent.clinic.name}.",
            "es": f"Adjuntamos una copia del consentimiento que firmó en {consent.clinic.name}."}[consent.language]
    message = EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [patient.email])
    message.attach(f"consent-{consent.pk}.pdf", pdf, "application/pdf")
    message.send()
    record(request, Action.EXPORT, consent, channel="email")
