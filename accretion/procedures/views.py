from pathlib import Path

from django.contrib import messages
from django.db import transaction
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from accretion.audit.log import Action, record
from accretion.clinics.roles import role_has
from accretion.clinics.tenancy import get_clinic_object, requires
from accretion.outcomes import services as outcomes
from accretion.patients.models import Patient
from accretion.procedures import forms as day_forms
from accretion.procedures import schedule, services, stages
from accretion.procedures.forms import PlanProcedureForm
from accretion.procedures.models import CHECKLIST, Procedure, Status
from accretion.screenings.services import latest_screening, not_cleared, not_cleared_because


@requires("procedure.plan")
def plan_procedure(request, patient_id):
    patient = get_clinic_object(request, Patient, pk=patient_id)
    form = PlanProcedureForm(request.POST or None, clinic=request.clinic)
    screening = latest_screening(patient)
    blocked = not_cleared_because(screening)
    if blocked:
        # No path forward for a patient the screening does not clear: the reason and the way to the screening.
        record(request, Action.VIEW, patient, purpose="plan_procedure", refused=blocked)
        return render(request, "procedures/plan.html", {"patient": patient, "blocked": blocked,
                                                        "screening": screening},
                      status=409 if request.method == "POST" else 200)
    context = {"form": form, "patient": patient}
    if request.method == "POST" and form.is_valid():
        # The room or the physician already booked at an overlapping time: a warning, and "Plan anyway".
        data = form.cleaned_data
        overlaps = schedule.conflicts(request.clinic, on=data["planned_date"], start=data["start_time"],
                                      duration=data["duration_minutes"], room=data["room"],
                                      physician=data["physician"])
        seen = schedule.signature(overlaps)
        if not overlaps or request.POST.get("acknowledged") == seen:
            procedure = services.plan(request, patient, form)
            messages.success(request, "Procedure planned. Next: the cost estimate and the consent."
                             + (" It overlaps another booking of the room or the physician." if overlaps else ""))
            return redirect("procedures:detail", procedure_id=procedure.pk)
        context.update(overlaps=overlaps, acknowledge=seen)
    record(request, Action.VIEW, patient, purpose="plan_procedure")
    return render(request, "procedures/plan.html", context, status=400 if form.errors else 200)


def _procedure(request, procedure_id):
    queryset = Procedure.objects.select_related("patient", "clinic", "physician", "prep_tech", "signed_by")
    return get_clinic_object(request, queryset, pk=procedure_id)


def _day_forms(request, procedure, bound: dict):
    """The forms of the step the procedure is at that the user's role may save (`STEPS`); `bound` replaces one with
    the submitted, invalid form. A role that may not save a step sees its state on the page, read-only."""
    initial = {"version": procedure.version}
    status = procedure.status
    forms = {}
    if status == Status.PLANNED:
        forms["assign"] = day_forms.AssignForm(initial={**initial, "physician": procedure.physician_id,
                                                        "prep_tech": procedure.prep_tech_id}, clinic=procedure.clinic)
        forms["timeout"] = day_forms.TimeOutForm(initial=initial, clinic=procedure.clinic)
    if status == Status.IN_PROGRESS:
        if not hasattr(procedure, "preparation"):
            forms["preparation"] = day_forms.PreparationForm(initial=initial)
        forms["injection"] = day_forms.InjectionForm(initial={**initial, "target": (procedure.targets or [None])[0],
                                                              "levels": ", ".join(procedure.levels)},
                                                     procedure=procedure)
        forms["complete"] = day_forms.CompleteForm(initial=initial)
    if status == Status.COMPLETED:
        deviations = [(services._check_key(c), c) for c in procedure.consistency if c["status"] == "deviation"]
        forms["sign"] = day_forms.SignForm(initial=initial, deviations=deviations)
    if status == Status.SIGNED:
        forms["addendum"] = day_forms.AddendumForm()
    if status in (Status.PLANNED, Status.IN_PROGRESS):
        forms["cancel"] = day_forms.CancelForm(initial=initial)
    if status == Status.IN_PROGRESS:
        forms["remove"] = day_forms.RemoveInjectionForm(initial=initial)
    forms.update(bound)
    return {name: form for name, form in forms.items() if role_has(request.role, STEPS[name].required_permission)}


def _page(request, procedure, *, bound=None, status=200):
    procedure.refresh_from_db()
    context = {
        "procedure": procedure,
        "patient": procedure.patient,
        "stages": stages.for_procedure(procedure),
        "forms": _day_forms(request, procedure, bound or {}),
        "checklist": CHECKLIST,
        "injections": list(procedure.injections.select_related("recorded_by")),
        "preparation": getattr(procedure, "preparation", None),
        "timeout": getattr(procedure, "timeout", None),
        "addenda": list(procedure.addenda.select_related("author")),
        "follow_ups": list(procedure.follow_ups.all()),
        # A later screening that no longer clears the patient stops a planned procedure here, and on Today.
        "blocked": not_cleared(procedure.patient) if procedure.status == Status.PLANNED else "",
    }
    return render(request, "procedures/detail.html", context, status=status)


@requires("patient.view")
def procedure_detail(request, procedure_id):
    procedure = _procedure(request, procedure_id)
    record(request, Action.VIEW, procedure)
    return _page(request, procedure)


@require_GET
@requires("patient.view")
def injection_image(request, procedure_id, injection_id):
    """The image stored with an injection: PNG and JPEG shown in the browser, DICOM downloaded (audited)."""
    procedure = _procedure(request, procedure_id)
    injection = get_object_or_404(procedure.injections.exclude(image=""), pk=injection_id)
    try:
        stored = injection.image.open("rb")
    except FileNotFoundError:
        raise Http404("The image file is missing from the storage.") from None
    record(request, Action.VIEW, injection, patient_id=procedure.patient_id, image=injection.image.name)
    name = Path(injection.image.name).name
    if injection.dicom_headers:
        return FileResponse(stored, as_attachment=True, filename=name, content_type="application/dicom")
    response = FileResponse(stored, filename=name)  # PNG or JPEG: checked by its first bytes at upload
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"
    response["Cache-Control"] = "private, no-store"
    return response


def _step(request, procedure, name, form, action, success):
    """Validate `form`; run `action(procedure, form)`; on refusal show the reason at the form."""
    if form.is_valid():
        try:
            action(procedure, form)
        except services.Refused as refused:
            form.add_error(refused.field if refused.field in form.fields else None, str(refused))
        else:
            messages.success(request, success)
            return redirect("procedures:detail", procedure_id=procedure.pk)
    return _page(request, procedure, bound={name: form}, status=409 if _is_conflict(form) else 400)


def _is_conflict(form):
    return any("Someone else saved" in str(e) for e in form.non_field_errors())


def _version(form):
    return form.cleaned_data["version"]


@requires("procedure.record")
@require_POST
def assign_team(request, procedure_id):
    procedure = _procedure(request, procedure_id)
    form = day_forms.AssignForm(request.POST, clinic=procedure.clinic)
    return _step(request, procedure, "assign", form,
                 lambda p, f: services.assign(request, p, physician=f.cleaned_data["physician"],
                                              prep_tech=f.cleaned_data["prep_tech"], version=_version(f)),
                 "Team assigned.")


@requires("procedure.record")
@require_POST
def timeout(request, procedure_id):
    procedure = _procedure(request, procedure_id)
    form = day_forms.TimeOutForm(request.POST, clinic=procedure.clinic)
    return _step(request, procedure, "timeout", form,
                 lambda p, f: services.run_timeout(request, p, confirmed=f.cleaned_data["confirmed"],
                                                   kit_lot=f.cleaned_data["kit_lot"],
                                                   centrifuge=f.cleaned_data["centrifuge"],
                                                   imaging_unit=f.cleaned_data["imaging_unit"], version=_version(f)),
                 "Time-out complete: the procedure is in progress.")


@requires("preparation.record")
@require_POST
def preparation(request, procedure_id):
    procedure = _procedure(request, procedure_id)
    form = day_forms.PreparationForm(request.POST)
    return _step(request, procedure, "preparation", form,
                 lambda p, f: services.record_preparation(request, p, f.record_data(), version=_version(f)),
                 "Preparation recorded; one kit was taken from stock.")


@requires("procedure.record")
@require_POST
def injection(request, procedure_id):
    procedure = _procedure(request, procedure_id)
    form = day_forms.InjectionForm(request.POST, request.FILES, procedure=procedure)
    return _step(request, procedure, "injection", form,
                 lambda p, f: services.add_injection(request, p, f.record_data(), version=_version(f)),
                 "Injection recorded.")


@requires("procedure.record")
@require_POST
def remove_injection(request, procedure_id, injection_id):
    procedure = _procedure(request, procedure_id)
    injection = get_object_or_404(procedure.injections, pk=injection_id)
    form = day_forms.RemoveInjectionForm(request.POST)
    form.injection_id = injection.pk  # the row whose confirmation failed opens again
    return _step(request, procedure, "remove", form,
                 lambda p, f: services.remove_injection(request, p, injection.pk, version=_version(f)),
                 "Injection row removed.")


@requires("procedure.record")
@require_POST
def complete(request, procedure_id):
    procedure = _procedure(request, procedure_id)
    form = day_forms.CompleteForm(request.POST)
    return _step(request, procedure, "complete", form,
                 lambda p, f: services.complete(request, p, injected_at=f.cleaned_data["injected_at"],
                                                version=_version(f)),
                 "Procedure completed. The operating physician can now review the checks and sign.")


@requires("procedure.sign")
@require_POST
def sign(request, procedure_id):
    procedure = _procedure(request, procedure_id)
    deviations = [(services._check_key(c), c) for c in procedure.consistency if c["status"] == "deviation"]
    form = day_forms.SignForm(request.POST, deviations=deviations)
    return _step(request, procedure, "sign", form,
                 lambda p, f: services.sign(request, p, reasons=f.reasons(), version=_version(f)),
                 "Record signed. The aftercare plan and follow-up schedule are ready.")


@requires("procedure.sign")
@require_POST
def addendum(request, procedure_id):
    procedure = _procedure(request, procedure_id)
    form = day_forms.AddendumForm(request.POST)
    return _step(request, procedure, "addendum", form,
                 lambda p, f: services.add_addendum(request, p, f.cleaned_data["text"]), "Addendum added.")


@requires("procedure.record")
@require_POST
def cancel(request, procedure_id):
    procedure = _procedure(request, procedure_id)
    form = day_forms.CancelForm(request.POST)
    return _step(request, procedure, "cancel", form, _cancel_with_questionnaires(request), "Procedure cancelled.")


def _cancel_with_questionnaires(request):
    def cancel_both(procedure, form):
        reason = form.cleaned_data["reason"]
        with transaction.atomic():
            services.cancel(request, procedure, reason=reason, version=_version(form))
            outcomes.cancel_tasks(procedure, f"The procedure was cancelled: {reason.strip()}", request)
    return cancel_both


# Each form of the procedure page and the view that saves it: a form is built only for a role holding that view's
# permission (tests/test_pages_by_role.py checks every page of the portal the same way).
STEPS = {"assign": assign_team, "timeout": timeout, "preparation": preparation, "injection": injection,
         "remove": remove_injection, "complete": complete, "sign": sign, "addendum": addendum, "cancel": cancel}
