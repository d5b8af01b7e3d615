import base64
from typing import ClassVar

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils import translation
from django.views.decorators.http import require_POST

from accretion import languages
from accretion.audit.log import Action, changes, record
from accretion.clinics.tenancy import get_clinic_object, requires
from accretion.consents import services, texts
from accretion.consents.forms import EstimateForm, PriceListForm, WithdrawForm
from accretion.consents.models import Consent, PriceList, Relationship, SignedBy
from accretion.consents.pricing import ITEMS
from accretion.education.content import shown as education_shown
from accretion.pdf import pdf_response, render_pdf
from accretion.procedures.models import Procedure


@requires("prices.manage")
def price_list(request):
    instance = PriceList.objects.filter(clinic=request.clinic).first() or PriceList(clinic=request.clinic)
    form = PriceListForm(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        saved = form.save()
        record(request, Action.UPDATE, saved, object_type="consents.pricelist",
               changes=changes({name: form.initial.get(name) for name in form.changed_data},
                               {name: form.cleaned_data[name] for name in form.changed_data}))
        messages.success(request, "Prices saved. New estimates use them; signed estimates keep theirs.")
        return redirect("consents:prices")
    stored = PriceList.objects.filter(pk=instance.pk).select_related("clinic").first() if instance.pk else None
    shown = [(label, getattr(stored, code)) for code, label in ITEMS.items()] if stored else []
    return render(request, "consents/prices.html", {"form": form, "price_list": stored, "shown": shown},
                  status=400 if form.errors else 200)


@requires("estimate.create")
def estimate_new(request, procedure_id):
    procedure = get_clinic_object(request, Procedure.objects.select_related("patient"), pk=procedure_id)
    form = EstimateForm(request.POST or None, initial={"kits": procedure.kits})
    if request.method == "POST" and form.is_valid():
        try:
            services.create_estimate(request, procedure, **form.cleaned_data)
        except services.Refused as refused:
            form.add_error(refused.field if refused.field in form.fields else None, str(refused))
        else:
            messages.success(request, "Estimate saved.")
            return redirect("procedures:detail", procedure_id=procedure.pk)
    blocked = services.estimate_blocker(procedure)
    context = {"form": form, "procedure": procedure, "patient": procedure.patient, "blocked": blocked,
               "has_prices": PriceList.objects.filter(clinic=request.clinic).exists()}
    record(request, Action.VIEW, procedure, purpose="estimate")  # the page shows the patient and procedure
    status = 409 if blocked and request.method == "POST" else 400 if form.errors else 200
    return render(request, "consents/estimate.html", context, status=status)


class ConsentForm(forms.Form):
    """The consent: every error is found in one submit (sections, signer, signature, countersignature), and the
    drawn signature and the ticked sections come back with the page, so a refused form is never signed twice."""

    document_sha256 = forms.CharField(max_length=64, widget=forms.HiddenInput)
    sections = forms.MultipleChoiceField(choices=[(c, c) for c in texts.SECTION_TITLES], required=False,
                                         widget=forms.CheckboxSelectMultiple)
    signed_by = forms.ChoiceField(choices=SignedBy.choices, initial=SignedBy.PATIENT, widget=forms.RadioSelect)
    typed_name = forms.CharField(max_length=200, required=False)
    representative_name = forms.CharField(max_length=200, required=False)
    representative_relationship = forms.ChoiceField(choices=[("", "—"), *Relationship.choices], required=False)
    representative_relationship_other = forms.CharField(max_length=100, required=False)
    signature = forms.CharField(max_length=500_000, required=False, widget=forms.HiddenInput)
    strokes = forms.CharField(max_length=500_000, required=False, widget=forms.HiddenInput)
    education_offered = forms.BooleanField(required=False)
    explained = forms.BooleanField(
        label="I explained this consent to the patient and answered their questions (countersignature).",
        error_messages={"required": "The staff member who explained the consent must confirm it."},
    )

    # Where the error summary links to, per field.
    ANCHORS: ClassVar[dict] = {"signed_by": "signer", "signature": "signature-pad", "explained": "id_explained"}

    def __init__(self, *args, patient, language="en", sections=(), countersigned=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.patient = patient
        self.language = language
        self.document_sections = list(sections)
        self.signature_png = None
        if countersigned:  # patient mode: the staff member confirmed the explanation when handing over
            del self.fields["explained"]
        self.fields["representative_relationship"].choices = [("", "—")] + [
            (code, texts.pick(words, language)[:1].upper() + texts.pick(words, language)[1:])
            for code, words in texts.RELATIONSHIPS.items()]

    def clean(self):
        data = super().clean()
        if "signed_by" in data:
            for field, message in services.signer_errors(self.patient, **self.signer(data),
                                                         language=self.language).items():
                self.add_error(field, message)
        ticked = set(data.get("sections") or ())
        missing = [s for s in self.document_sections if s.code not in ticked]
        if missing and "sections" not in self.errors:
            self.add_error("sections", texts.error("sections", self.language,
                                                   items="; ".join(s.title for s in missing)))
        if "signature" not in self.errors and "strokes" not in self.errors:
            try:
                self.signature_png = services.decode_signature(data.get("signature", ""), data.get("strokes", ""),
                                                               self.language)
            except services.Refused as refused:
                self.add_error("signature", str(refused))
        return data

    def missing_sections(self) -> set[str]:
        ticked = set(self.data.getlist("sections")) if self.is_bound else set()
        return {s.code for s in self.document_sections if s.code not in ticked}

    def summary(self) -> list[dict]:
        """Every error, in the order of the page, with the anchor of its field."""
        rows = [{"anchor": "", "message": message} for message in self.non_field_errors()]
        missing = [s.code for s in self.document_sections if s.code in self.missing_sections()]
        for name in self.fields:
            for message in self.errors.get(name, ()):
                anchor = f"section-{missing[0]}" if name == "sections" and missing else \
                    self.ANCHORS.get(name, f"id_{name}")
                rows.append({"anchor": anchor, "message": message})
        return rows

    @staticmethod
    def signer(data) -> dict:
        return {key: data.get(key, "") for key in ("signed_by", "typed_name", "representative_name",
                                                    "representative_relationship",
                                                    "representative_relationship_other")}


def sign_page(request, procedure, *, language, template, countersigned=False, extra=None):
    """The consent form of `procedure` in `language`: (response, the signed consent or None).

    The staff page (`consent_sign`) and patient mode (accretion/kiosk) both serve it; in patient mode the
    staff member confirmed the explanation when handing the screen over (`countersigned`). Django's own
    messages ("This field is required.") come in the consent's language too."""
    with translation.override(language):
        return _sign_page(request, procedure, language=language, template=template, countersigned=countersigned,
                          extra=extra)


def _sign_page(request, procedure, *, language, template, countersigned, extra):
    patient = procedure.patient
    blockers = services.consent_blockers(procedure)
    if blockers:
        return render(request, "consents/blocked.html", {"procedure": procedure, "patient": patient,
                                                         "blockers": blockers}, status=409), None
    estimate, sections, html = services.prepare_document(procedure, language)
    form = ConsentForm(request.POST or None, initial={"document_sha256": Consent.digest(html)}, patient=patient,
                       language=language, sections=sections, countersigned=countersigned)
    education = education_shown(language)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            consent = services.sign_consent(
                request, procedure, language=language, shown_sha256=data["document_sha256"],
                sections=data["sections"], signature_png=form.signature_png,
                education=education if data["education_offered"] else None, **ConsentForm.signer(data),
            )
        except services.Refused as refused:
            form.add_error(refused.field if refused.field in form.fields else None, str(refused))
        else:
            return None, consent
    context = {
        "procedure": procedure, "patient": patient, "estimate": estimate, "sections": sections, "form": form,
        "language": language, "other_language": "es" if language == "en" else "en",
        "ui": {key: texts.pick(value, language) for key, value in texts.UI.items()},
        "education_label": texts.pick(texts.UI["education"], language).format(version=education["version"]),
        "confirmed": set(form.data.getlist("sections")) if form.is_bound else set(),
        "unconfirmed": form.missing_sections() if form.errors else set(),
        "summary": form.summary() if form.errors else [],
        "summary_title": texts.error("summary", language),
        "section_error": texts.error("section", language),
        **(extra or {}),
    }
    record(request, Action.VIEW, procedure, purpose="consent", language=language)  # the document names the patient
    return render(request, template, context, status=400 if form.errors else 200), None


@requires("consent.obtain")
def consent_sign(request, procedure_id):
    procedure = get_clinic_object(request, Procedure.objects.select_related("patient", "clinic"), pk=procedure_id)
    language = languages.pick(request.GET.get("lang"), procedure.patient.preferred_language)
    response, consent = sign_page(request, procedure, language=language, template="consents/sign.html")
    if consent is None:
        return response
    messages.success(request, "Consent signed.")
    return redirect("consents:detail", consent_id=consent.pk)


def _consent(request, consent_id):
    queryset = Consent.objects.select_related("patient", "procedure", "explained_by", "clinic", "withdrawal")
    return get_clinic_object(request, queryset, pk=consent_id)


def _signature_data_url(consent):
    return "data:image/png;base64," + base64.b64encode(bytes(consent.signature_png)).decode()


def _signer_context(consent) -> dict:
    """What the page and the PDF say about who signed."""
    ui = {k: texts.pick(v, consent.language) for k, v in texts.UI.items()}
    line = ""
    if consent.by_representative:
        line = texts.representative_line(
            consent.language, name=consent.representative_name, relationship=consent.representative_relationship,
            other=consent.representative_relationship_other, patient=consent.patient.full_name)
    return {"consent": consent, "patient": consent.patient, "signature": _signature_data_url(consent), "ui": ui,
            "representative_line": line}


def _detail(request, consent, withdraw_form, status=200):
    record(request, Action.VIEW, consent)
    return render(request, "consents/detail.html", {**_signer_context(consent), "withdraw_form": withdraw_form},
                  status=status)


@requires("patient.view")
def consent_detail(request, consent_id):
    return _detail(request, _consent(request, consent_id), WithdrawForm())


def _pdf(request, consent):
    return render_pdf("consents/pdf.html", _signer_context(consent), request)


@requires("patient.view")
def consent_pdf(request, consent_id):
    consent = _consent(request, consent_id)
    data = _pdf(request, consent)
    record(request, Action.EXPORT, consent, format="pdf")
    return pdf_response(data, f"consent-{consent.pk}.pdf")


@requires("consent.obtain")
@require_POST
def consent_email(request, consent_id):
    consent = _consent(request, consent_id)
    try:
        services.email_pdf(request, consent, _pdf(request, consent))
    except services.Refused as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, f"The PDF was sent to {consent.patient.email}.")
    return redirect("consents:detail", consent_id=consent.pk)


@requires("consent.obtain")
@require_POST
def consent_withdraw(request, consent_id):
    consent = _consent(request, consent_id)
    form = WithdrawForm(request.POST)
    if form.is_valid():
        try:
            services.withdraw(request, consent, form.cleaned_data["reason"], confirmed=form.cleaned_data["confirm"])
        except services.Refused as refused:
            if refused.field not in form.fields:
                messages.error(request, str(refused))
                return redirect("consents:detail", consent_id=consent.pk)
            form.add_error(refused.field, str(refused))
        else:
            messages.success(request, "The withdrawal of consent is recorded.")
            return redirect("consents:detail", consent_id=consent.pk)
    return _detail(request, consent, form, status=400)
