"""The clinic's outcomes: the analytics page, its PDF report, and the de-identified CSV export.

Every page is scoped to the active clinic and needs `outcomes.view` (the
row-level CSV export `outcomes.export`); each
view of the figures and each export is written to the audit log. The figures
come from `accretion.outcomes.analytics` (aggregate queries over the outcome
summary), the plots from `accretion.outcomes.plots`.
"""

import csv
from dataclasses import dataclass

from django import forms
from django.conf import settings
from django.http import StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.views.decorators.http import require_GET

from accretion.adverse_events.models import AdverseEvent
from accretion.audit.log import Action, record
from accretion.clinical import instruments
from accretion.clinical.screening import DIAGNOSES, REGIONS, SUPPORTED_DIAGNOSES, TARGETS
from accretion.clinics.tenancy import clinic_objects, requires
from accretion.outcomes import analytics, plots
from accretion.outcomes.models import OutcomeRow
from accretion.pdf import pdf_response, render_pdf


class FilterForm(forms.Form):
    date_from = forms.DateField(label="Procedures from", required=False,
                                widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label="to", required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", "The end of the range is before its start.")
        return data

    def filters(self) -> analytics.Filters | None:
        """The procedures asked for; None when a date is wrong (then nothing is shown or exported)."""
        if not self.is_bound:
            return analytics.Filters()
        if not self.is_valid():
            return None
        return analytics.Filters(self.cleaned_data.get("date_from"), self.cleaned_data.get("date_to"))


def _filters(request) -> tuple[FilterForm, analytics.Filters | None]:
    form = FilterForm(request.GET or None)
    return form, form.filters()


def _wrong_dates(request, form):
    """The page with the form's errors and no figures (400): a wrong range never widens to all procedures."""
    return render(request, "outcomes/analytics.html", {"form": form, "report": None}, status=400)


def _report(request, filters):
    return analytics.report(clinic_objects(request, OutcomeRow), clinic_objects(request, AdverseEvent), filters)


def _query(request) -> str:
    return request.GET.urlencode()


def responder_rules(clinic) -> dict[str, str]:
    """The clinic's responder thresholds in words, for the page, the report and the data dictionary."""
    thresholds = clinic.get_responder_thresholds()
    sources = dict.fromkeys(getattr(thresholds, f"{name}_source") for name in ("odi", "ndi", "nrs"))
    return {**{name: thresholds.describe(name) for name in ("odi", "ndi", "nrs")},
            "sources": "; ".join(source for source in sources if source),
            "own": thresholds.rule() != instruments.DEFAULT_THRESHOLDS.rule()}


@require_GET
@requires("outcomes.view")
def outcomes(request):
    """Completion, mean scores, responders (overall and by stratum) and adverse events of the clinic."""
    form, filters = _filters(request)
    if filters is None:
        return _wrong_dates(request, form)
    report = _report(request, filters)
    record(request, Action.VIEW, object_type="outcomes.analytics", filters=filters.to_dict(),
           procedures=report.procedures)
    context = {"form": form, "report": report, "plots": plots.render_all(report) if report.has_data else {},
               "query": _query(request), "too_few": analytics.TOO_FEW,
               "grade_headings": analytics.GRADE_HEADINGS, "rules": responder_rules(request.clinic)}
    return render(request, "outcomes/analytics.html", context)


@require_GET
@requires("outcomes.view")
def report_pdf(request):
    """The same figures as a printable PDF report."""
    form, filters = _filters(request)
    if filters is None:
        return _wrong_dates(request, form)
    report = _report(request, filters)
    context = {"report": report, "plots": plots.render_all(report) if report.has_data else {},
               "clinic": request.clinic, "generated_at": timezone.localtime(), "too_few": analytics.TOO_FEW,
               "grade_headings": analytics.GRADE_HEADINGS, "user": request.user,
               "rules": responder_rules(request.clinic), "pdf": True}
    data = render_pdf("outcomes/analytics_pdf.html", context, request=request)
    record(request, Action.EXPORT, object_type="outcomes.report", filters=filters.to_dict(),
           procedures=report.procedures, format="pdf")  # once the report exists
    return pdf_response(data, f"outcomes-{request.clinic.slug}-{timezone.localdate():%Y-%m-%d}.pdf")


# --- De-identified export ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    name: str
    kind: str
    meaning: str
    values: tuple = ()  # the codes the column holds, shown as codes after the meaning


def _pseudonym(kind: str, value) -> str:
    """A stable code for an id: an HMAC with EXPORT_PSEUDONYM_KEY, not reversible without that key."""
    if value is None:
        return ""
    return salted_hmac("accretion.outcomes.export", f"{kind}:{value}",
                       secret=settings.EXPORT_PSEUDONYM_KEY).hexdigest()[:16]


def _flag(value) -> str:
    return "" if value is None else ("1" if value else "0")


def _number(value) -> str:
    if value is None:
        return ""
    return f"{value:g}" if isinstance(value, float) else str(value)


COLUMNS = [
    Column("procedure_code", "text (16 hex)", "Pseudonymous code of the procedure: the same in every export from "
                                              "this portal, not the record's id; links the rows of one procedure."),
    Column("patient_code", "text (16 hex)", "Pseudonymous code of the patient: links the procedures of one patient."),
    Column("procedure_year", "integer", "Year the procedure was performed (no full dates are exported)."),
    Column("time_point", "text", "baseline, or the follow-up: 2w, 6w, 3m, 6m, 12m (weeks or months after the "
                                 "procedure)."),
    Column("days_due_after_procedure", "integer", "Days from the procedure to the questionnaire's due date (the "
                                                  "baseline is due on the planned day: 0, or negative when the "
                                                  "procedure took place later)."),
    Column("completed", "0/1", "1 when the patient (or staff on their behalf) submitted the questionnaire."),
    Column("nrs", "integer 0-10", "Pain, numeric rating scale over the past week (0 no pain, 10 worst)."),
    Column("odi", "number 0-100", "Oswestry Disability Index v2.1a, percent (lumbar and thoracic procedures)."),
    Column("ndi", "number 0-100", "Neck Disability Index, percent (cervical procedures)."),
    Column("pgic", "integer 1-7", "Patient Global Impression of Change (1 very much improved, 7 very much worse); "
                                  "follow-ups only."),
    Column("nrs_change", "integer", "Baseline NRS minus this NRS (improvement is positive)."),
    Column("nrs_responder", "0/1", "NRS improved by {nrs} (the clinic's responder thresholds)."),
    Column("odi_change", "number", "Baseline ODI minus this ODI, in points (improvement is positive)."),
    Column("odi_responder", "0/1", "ODI improved by {odi} (the clinic's responder thresholds)."),
    Column("ndi_change", "number", "Baseline NDI minus this NDI, in percentage points (improvement is positive)."),
    Column("ndi_responder", "0/1", "NDI improved by {ndi} on the 0-100 scale (10 points are 5 raw points; the "
                                   "clinic's responder thresholds)."),
    Column("region", "text", "Region of the procedure:", tuple(REGIONS)),
    Column("indication", "text", "First supported diagnosis of the screening that cleared the procedure at its "
                                 "time-out; other when none is supported; unknown without a screening. Diagnoses:",
           tuple(c for c in DIAGNOSES if c in SUPPORTED_DIAGNOSES)),
    Column("target", "text", "First planned injection target:", tuple(TARGETS)),
    Column("physician_code", "text (16 hex)", "Pseudonymous code of the operating physician."),
    Column("protocol_consistent", "0/1", "1 when the protocol consistency score is at least 0.9."),
    Column("placement_confirmed", "0/1", "1 when every injection's placement was confirmed (contrast spread or "
                                         "ultrasound)."),
    Column("structural", "0/1", "1 when the screening lists moderate or severe disc degeneration, a disc herniation "
                                "or spinal stenosis."),
    Column("activity_level", "text", "Baseline answer: sedentary, light, moderate or vigorous."),
    Column("smoking", "text", "Baseline answer: never, former or current."),
]
EXPORT_FIELDS = ["procedure_id", "patient_id", "procedure_date", "time_point", "due", "completed", "nrs", "odi", "ndi",
                 "pgic", "nrs_change", "nrs_responder", "odi_change", "odi_responder", "ndi_change", "ndi_responder",
                 "region", "indication", "target", "physician_id", "consistent", "placement_confirmed", "structural",
                 "activity_level", "smoking"]
EMPTY = "Blank: not answered, not scored, or no baseline to compare with."


def export_row(values: tuple) -> list[str]:
    (procedure_id, patient_id, procedure_date, time_point, due, completed, nrs, odi, ndi, pgic, nrs_change,
     nrs_responder, odi_change, odi_responder, ndi_change, ndi_responder, region, indication, target, physician_id,
     consistent, placement, structural, activity, smoking) = values
    return [_pseudonym("procedure", procedure_id), _pseudonym("patient", patient_id), str(procedure_date.year),
            time_point, str((due - procedure_date).days), _flag(completed), _number(nrs), _number(odi),
            _number(ndi), _number(pgic), _number(nrs_change), _flag(nrs_responder), _number(odi_change),
            _flag(odi_responder), _number(ndi_change), _flag(ndi_responder), region, indication, target,
            _pseudonym("physician", physician_id), _flag(consistent), _flag(placement), _flag(structural), activity,
            smoking]


class _Echo:
    def write(self, value):
        return value


@require_GET
@requires("outcomes.export")
def export_csv(request):
    """De-identified rows, one per procedure and time point; the columns are described on the data dictionary."""
    form, filters = _filters(request)
    if filters is None:
        return _wrong_dates(request, form)
    rows = filters.rows(clinic_objects(request, OutcomeRow)).order_by("procedure_date", "procedure_id", "due")
    count = rows.count()
    record(request, Action.EXPORT, object_type="outcomes.export", filters=filters.to_dict(), rows=count,
           format="csv")
    writer = csv.writer(_Echo())

    def lines():
        yield writer.writerow([column.name for column in COLUMNS])
        for values in rows.values_list(*EXPORT_FIELDS).iterator(chunk_size=5000):
            yield writer.writerow(export_row(values))

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (f'attachment; filename="outcomes-{request.clinic.slug}-'
                                       f'{timezone.localdate():%Y-%m-%d}.csv"')
    return response


@require_GET
@requires("outcomes.view")
def data_dictionary(request):
    """What each column of the CSV export means (no patient data on this page)."""
    rules = responder_rules(request.clinic)
    columns = [Column(c.name, c.kind, c.meaning.format(**rules), c.values) if c.name.endswith("_responder") else c
               for c in COLUMNS]
    return render(request, "outcomes/analytics_dictionary.html", {"columns": columns, "empty": EMPTY,
                                                                  "too_few": analytics.TOO_FEW, "rules": rules})
