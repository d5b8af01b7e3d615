from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from accretion.audit.log import Action, changes, record
from accretion.clinical import screening as rules
from accretion.clinical.errors import FieldError
from accretion.clinics.tenancy import get_clinic_object, requires
from accretion.patients.models import Patient
from accretion.screenings import services
from accretion.screenings.forms import LABELS, IntakeForm, ProtocolForm, ReviewForm
from accretion.screenings.models import Screening


def _intake_page(request, patient, screening=None):
    today = timezone.localdate()
    if screening is not None:
        initial = IntakeForm.initial_from(screening.intake)
    else:
        initial = {"age": patient.age_on(today), "procedure_date": today}
    form = IntakeForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            if "save_draft" in request.POST:
                screening = services.save_draft(request, patient, form.intake(), screening)
                messages.success(request, "Draft saved. You can come back to it from the patient's timeline.")
                return redirect("screenings:edit", screening_id=screening.pk)
            outcome = form.decide(request.clinic.get_screening_protocol(), today)
            if outcome is not None:
                screening = services.store_decision(request, patient, *outcome, screening=screening)
                return redirect("screenings:detail", screening_id=screening.pk)
        except services.ScreeningClosed as closed:
            messages.error(request, str(closed))
            return redirect("screenings:detail", screening_id=screening.pk)
    status = 400 if form.errors else 200
    record(request, Action.VIEW, screening or patient, purpose="screening_intake")  # the page shows the record
    context = {"form": form, "patient": patient, "screening": screening}
    return render(request, "screenings/intake.html", context, status=status)


@requires("screening.record")
def screening_new(request, patient_id):
    patient = get_clinic_object(request, Patient, pk=patient_id)
    return _intake_page(request, patient)


@requires("screening.record")
def screening_edit(request, screening_id):
    screening = get_clinic_object(request, Screening.objects.select_related("patient"), pk=screening_id)
    if not screening.is_draft:
        messages.info(request, "This screening has been decided; it can no longer be edited.")
        return redirect("screenings:detail", screening_id=screening.pk)
    return _intake_page(request, screening.patient, screening)


@requires("patient.view")
def screening_detail(request, screening_id):
    screening = get_clinic_object(
        request, Screening.objects.select_related("patient", "created_by", "reviewed_by"), pk=screening_id
    )
    record(request, Action.VIEW, screening)
    review_form = _review_form(screening) if screening.needs_review else None
    return render(request, "screenings/detail.html", _detail_context(screening, review_form))


CLASS_LABELS = {"anticoagulant": "anticoagulant", "antiplatelet": "antiplatelet", "nsaid": "NSAID",
                "systemic_steroid": "systemic steroid"}


def _detail_context(screening, review_form):
    return {
        "screening": screening,
        "patient": screening.patient,
        "review_form": review_form,
        "labels": LABELS,
        "intake_rows": _intake_rows(screening.intake),
        "medication_rows": [{**m, "class_labels": [CLASS_LABELS.get(c, c) for c in m["classes"]]}
                            for m in screening.medication_readings],
        "hold_decisions": screening.hold_decisions(),
    }


def _review_form(screening, data=None):
    return ReviewForm(data, findings=screening.findings, antithrombotics=screening.current_antithrombotics())


@requires("screening.review")
@require_POST
def screening_review(request, screening_id):
    screening = get_clinic_object(request, Screening.objects.select_related("patient"), pk=screening_id)
    form = _review_form(screening, request.POST)
    if not form.is_valid():
        return render(request, "screenings/detail.html", _detail_context(screening, form), status=400)
    try:
        services.record_review(request, screening, form.cleaned_data["outcome"], form.reasons(), form.plan())
    except FieldError as error:
        form.add_plan_error(error)
        return render(request, "screenings/detail.html", _detail_context(screening, form), status=400)
    except services.ScreeningClosed as closed:
        messages.error(request, str(closed))
    else:
        messages.success(request, "Review recorded.")
    return redirect("screenings:detail", screening_id=screening.pk)


@requires("patient.view")
def rule_catalog(request):
    protocol = request.clinic.get_screening_protocol()
    return render(request, "screenings/catalog.html", {"rules": rules.rules_for(protocol), "protocol": protocol})


@requires("protocol.manage")
def clinic_protocol(request):
    clinic = request.clinic
    current = clinic.get_screening_protocol()
    form = ProtocolForm(request.POST or None, initial=current.to_dict())
    if request.method == "POST" and form.is_valid():
        protocol = form.protocol()
        if protocol is not None:
            changed = {k: v for k, v in protocol.to_dict().items() if v != rules.DEFAULT_PROTOCOL.to_dict().get(k)}
            clinic.screening_protocol = changed
            clinic.save(update_fields=["screening_protocol"])
            record(request, Action.UPDATE, clinic, object_type="clinics.screening_protocol", ruleset=protocol.ruleset,
                   changes=changes(current.to_dict(), protocol.to_dict()))
            messages.success(request, f"Screening protocol saved: new decisions use ruleset {protocol.ruleset}.")
            return redirect("screenings:protocol")
    return render(request, "screenings/protocol.html", {"form": form, "protocol": current},
                  status=400 if form.errors else 200)


def _intake_rows(intake):
    """The intake as (question, answer) pairs in plain words, for the record page."""
    def words(value):
        if value is None:
            return "not asked / unknown"
        if value is True:
            return "yes"
        if value is False:
            return "no"
        if isinstance(value, list):
            if not value:
                return "none"
            return ", ".join(
                (f"{v['name']} (last dose {v['last_dose'] or 'regularly'})" if isinstance(v, dict) else LABELS.get(v, v))
                for v in value
            )
        return LABELS.get(value, str(value))

    names = ["procedure_date", "age", "region", "diagnoses", "planned_targets", "active_infection", "bleeding_disorder",
             "radicular_symptoms", "active_malignancy", "pregnant", "neuro_red_flags", "platelet_count", "medications",
             "steroid_injection_last_date"]
    return [(name.replace("_", " ").capitalize(), words(intake.get(name))) for name in names if name in intake]
