"""The aftercare handout of a procedure (page, PDF, calendar file) and the clinic's aftercare settings."""

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET

from accretion.aftercare.calendar import build_calendar
from accretion.aftercare.forms import AftercareSettingsForm, overrides
from accretion.aftercare.texts import LANGUAGE_NAMES, LANGUAGES, handout, pick_language
from accretion.audit.log import Action, changes, record
from accretion.clinical.aftercare import plan
from accretion.clinics.tenancy import get_clinic_object, requires
from accretion.pdf import pdf_response, render_pdf
from accretion.procedures.models import Procedure
from accretion.screenings.services import latest_screening


def _procedure(request, procedure_id):
    return get_clinic_object(request, Procedure.objects.select_related("patient", "clinic"), pk=procedure_id)


def _language(request, procedure) -> str:
    return pick_language(request.GET.get("lang"), procedure.patient.preferred_language)


def handout_url(name: str, procedure_id: int, lang: str | None = None) -> str:
    url = reverse(f"aftercare:{name}", kwargs={"procedure_id": procedure_id})
    return f"{url}?{urlencode({'lang': lang})}" if lang else url


def _screening(procedure):
    """The screening that cleared the procedure at its time-out, else the patient's latest."""
    timeout = getattr(procedure, "timeout", None)
    if timeout is not None and timeout.screening_id:
        return timeout.screening
    return latest_screening(procedure.patient)


def _context(procedure, lang):
    clinic = procedure.clinic
    the_plan = plan(procedure.planned_date, clinic.get_aftercare_protocol())
    screening = _screening(procedure)
    decisions = screening.hold_decisions() if screening else []
    pending = screening.current_antithrombotics() if screening else []
    return {
        "procedure": procedure,
        "patient": procedure.patient,
        "clinic": clinic,
        "plan": the_plan,
        "h": handout(the_plan, lang, clinic, decisions, pending),
        "decisions": decisions,
        "lang": lang,
    }


@requires("patient.view")
@require_GET
def handout_page(request, procedure_id):
    procedure = _procedure(request, procedure_id)
    lang = _language(request, procedure)
    context = _context(procedure, lang)
    record(request, Action.VIEW, procedure, document="aftercare_handout", lang=lang)
    context["languages"] = [
        {"code": code, "name": LANGUAGE_NAMES[code], "url": handout_url("handout", procedure.pk, code),
         "current": code == lang, "preferred": code == procedure.patient.preferred_language}
        for code in LANGUAGES
    ]
    context["pdf_url"] = handout_url("pdf", procedure.pk, lang)
    context["ics_url"] = handout_url("ics", procedure.pk, lang)
    return render(request, "aftercare/handout.html", context)


@requires("patient.view")
@require_GET
def handout_pdf(request, procedure_id):
    procedure = _procedure(request, procedure_id)
    lang = _language(request, procedure)
    data = render_pdf("aftercare/handout_pdf.html", _context(procedure, lang), request)
    record(request, Action.EXPORT, procedure, document="aftercare_handout", format="pdf", lang=lang)
    return pdf_response(data, f"aftercare-{procedure.pk}-{lang}.pdf")


@requires("patient.view")
@require_GET
def handout_ics(request, procedure_id):
    procedure = _procedure(request, procedure_id)
    lang = _language(request, procedure)
    context = _context(procedure, lang)
    data = build_calendar(procedure, context["plan"], lang, procedure.clinic, decisions=context["decisions"])
    record(request, Action.EXPORT, procedure, document="aftercare_calendar", format="ics", lang=lang)
    response = HttpResponse(data, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="aftercare-{procedure.pk}-{lang}.ics"'
    return response


@requires("protocol.manage")
def clinic_settings(request):
    clinic = request.clinic
    current = clinic.get_aftercare_protocol()
    form = AftercareSettingsForm(request.POST if request.method == "POST" else None, current=current)
    if request.method == "POST":
        protocol = form.protocol()
        if protocol is not None:
            before = dict(clinic.aftercare_protocol or {})
            clinic.aftercare_protocol = overrides(protocol)
            clinic.save(update_fields=["aftercare_protocol"])
            changed = sorted(k for k in set(before) | set(clinic.aftercare_protocol)
                             if before.get(k) != clinic.aftercare_protocol.get(k))
            record(request, Action.UPDATE, clinic, object_type="clinics.aftercare_protocol", changed=changed,
                   changes=changes(current.to_dict(), protocol.to_dict()))
            messages.success(request, "Aftercare settings saved. Handouts and calendar files use them from now on.")
            return redirect("aftercare:settings")
    return render(request, "aftercare/settings.html", {"form": form, "protocol": current},
                  status=400 if form.errors else 200)
