from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accretion.adverse_events import services
from accretion.adverse_events.forms import AdverseEventForm, FilterForm, JudgementForm
from accretion.adverse_events.models import AdverseEvent
from accretion.audit.log import Action, record
from accretion.audit.models import AuditEvent
from accretion.clinics.roles import role_has
from accretion.clinics.tenancy import clinic_objects, get_clinic_object, requires
from accretion.patients.models import Patient

PAGE_SIZE = 25
BANNER_SIZE = 20


@requires("adverse_event.record")
def event_new(request, patient_id):
    patient = get_clinic_object(request, Patient, pk=patient_id)
    form = AdverseEventForm(request.POST or None, patient=patient)
    if request.method == "POST" and form.is_valid():
        event = services.record_event(request, patient, form.cleaned_data)
        if event.serious:
            messages.warning(request, "Serious adverse event recorded. It is listed as an alert on the clinic's "
                                      "adverse events page until a physician judges it.")
        else:
            messages.success(request, "Adverse event recorded.")
        return redirect("adverse_events:detail", event_id=event.pk)
    if request.method != "POST":
        record(request, Action.VIEW, patient, purpose="record_adverse_event")
    return render(request, "adverse_events/form.html", {"form": form, "patient": patient},
                  status=400 if form.errors else 200)


def _event(request, event_id):
    queryset = AdverseEvent.objects.select_related("patient", "procedure", "reported_by", "judged_by")
    return get_clinic_object(request, queryset, pk=event_id)


def _detail(request, event, judgement_form=None, status=200):
    if judgement_form is None:
        judgement_form = JudgementForm.for_event(event)
    # Templates' `can.<name>` cannot spell a permission whose area has an underscore, so the view asks.
    context = {"event": event, "patient": event.patient, "judgement_form": judgement_form,
               "can_judge": role_has(request.role, "adverse_event.judge"), "alert_failures": _alert_failures(event)}
    return render(request, "adverse_events/detail.html", context, status=status)


def _alert_failures(event):
    """Red-flag alerts about a patient report that could not be sent (accretion.outcomes.alerts)."""
    if event.source != "patient_report":
        return []
    return list(AuditEvent.objects.filter(object_type=event._meta.label_lower, object_id=str(event.pk),
                                          action=Action.ALERT_FAILED).order_by("id"))


@requires("patient.view")
def event_detail(request, event_id):
    event = _event(request, event_id)
    record(request, Action.VIEW, event)
    return _detail(request, event)


@requires("adverse_event.judge")
@require_POST
def event_judge(request, event_id):
    event = _event(request, event_id)
    form = JudgementForm(request.POST)
    if not form.is_valid():
        return _detail(request, event, form, status=400)
    data = form.cleaned_data
    try:
        services.judge(request, event, relatedness=data["relatedness"], ctcae_grade=data["ctcae_grade"],
                       serious=data["serious"], outcome=data["outcome"], version=data["version"])
    except services.EditConflict as conflict:
        event = _event(request, event_id)
        fresh = JudgementForm.for_event(event)
        fresh.conflict = conflict.message
        return _detail(request, event, fresh, status=409)
    messages.success(request, f"Judgement recorded: {data['relatedness']}.")
    return redirect("adverse_events:detail", event_id=event.pk)


@requires("patient.view")
def event_list(request):
    events = clinic_objects(request, AdverseEvent).select_related("patient", "procedure")
    form = FilterForm(request.GET or None)
    page = Paginator(form.filter(events).order_by("-created_at", "-id"), PAGE_SIZE).get_page(request.GET.get("page"))
    alerts = services.serious_unjudged(events).order_by("created_at", "id")  # waiting longest first
    alert_count = alerts.count()
    alerts = list(alerts[:BANNER_SIZE])
    shown = sorted({e.pk for e in page.object_list} | {e.pk for e in alerts})
    if shown:
        record(request, Action.LIST, object_type="adverse_events.adverseevent", ids=shown,
               filters=form.query_string())
    context = {"form": form, "page": page, "alerts": alerts, "alert_count": alert_count,
               "query": form.query_string()}
    return render(request, "adverse_events/list.html", context)
