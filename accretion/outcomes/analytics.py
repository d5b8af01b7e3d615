"""A clinic's outcome analytics: aggregate queries over the outcome summary (`OutcomeRow`).

Every figure is computed by the database with GROUP BY over one table (the
summary, or the adverse events); Python only post-processes the aggregated
rows (a few dozen), never the patients' rows. The number of queries is fixed:

1. per time point: questionnaires planned, closed (window over, or answered)
   and completed (the attrition funnel), COUNT, SUM and SUM of squares of
   NRS, ODI and NDI (means with 95 % confidence intervals,
   `accretion.clinical.statistics`), and the responders;
2. responders at 3, 6 and 12 months in each value of each stratum (indication,
   target, region, physician, protocol consistency, placement, structural
   severity, activity level, smoking);
3. the physicians' names;
4. adverse events by type and grade.

Responders follow `accretion.clinical.instruments.change` (stored in the
summary): *function* is ODI for lumbar and thoracic procedures and NDI for
cervical ones, *pain* is the NRS. Rates are per procedure (a patient treated
twice counts twice); a rate is shown only when at least `TOO_FEW` (10)
distinct patients have a baseline and a follow-up score, otherwise it is "too
few", and when exactly one group of a stratum is "too few" the next smallest
is "hidden" (`suppress_complements`), so no small group can be worked out by
subtraction.

Counting patients: COUNT(DISTINCT patient) makes the database sort every
group. Without a start date the summary's first-row masks count them with
plain hash aggregation instead (`accretion.outcomes.summary.first_masks`;
three queries for the nine strata); from a start date on, where a patient's
first row may lie before the range, COUNT(DISTINCT) (one query per stratum).
The queries use only COUNT, SUM, bitwise AND and filtered aggregates, which
SQLite and PostgreSQL both run; there is no database-specific SQL here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from django.contrib.auth import get_user_model
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Sum
from django.utils import timezone

from accretion.adverse_events.models import GRADE_SHORT, EventType
from accretion.clinical import statistics
from accretion.clinical.aftercare import parse_follow_up_key
from accretion.clinical.errors import FieldError
from accretion.clinical.instruments import SCALES
from accretion.clinical.screening import DIAGNOSES, REGIONS, SUPPORTED_DIAGNOSES, TARGETS
from accretion.clinical.statistics import rounded
from accretion.outcomes import questionnaires
from accretion.outcomes.summary import ALL_BIT, BASELINE, CONSISTENT_FROM, STRATUM_FIELDS, time_point_days
from accretion.procedures.models import TARGET_LABELS
from accretion.screenings.forms import LABELS as DIAGNOSIS_LABELS

__all__ = ["RESPONDER_TIME_POINTS", "STRATA", "TOO_FEW", "Filters", "Rate", "Report", "report", "time_point_label"]

RESPONDER_TIME_POINTS = ("3m", "6m", "12m")
TOO_FEW = 10  # fewer patients than this in a group: "too few" instead of a rate
MEASURES = (("nrs", "Pain, NRS 0-10"), ("odi", "Oswestry Disability Index, 0-100"),
            ("ndi", "Neck Disability Index, 0-100"))
GRADES = (1, 2, 3, 4, 5)

FUNCTION_KNOWN = Q(odi_responder__isnull=False) | Q(ndi_responder__isnull=False)
FUNCTION_YES = Q(odi_responder=True) | Q(ndi_responder=True)
PAIN_KNOWN = Q(nrs_responder__isnull=False)
PAIN_YES = Q(nrs_responder=True)


def time_point_label(key: str, short: bool = False) -> str:
    """"Baseline", "2 weeks", "3 months", "1 month"; short: "2 wk", "3 mo"."""
    if key == BASELINE:
        return "Baseline"
    try:
        number, unit = parse_follow_up_key(key)
    except FieldError:
        return key
    weeks = unit == "w"
    if short:
        return f"{number} {'wk' if weeks else 'mo'}"
    unit = "week" if weeks else "month"
    return f"{number} {unit}{'' if number == 1 else 's'}"


# --- Results -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    """Procedures performed from `date_from` to `date_to` (both optional, inclusive)."""

    date_from: date | None = None
    date_to: date | None = None

    def rows(self, queryset: QuerySet) -> QuerySet:
        if self.date_from:
            queryset = queryset.filter(procedure_date__gte=self.date_from)
        if self.date_to:
            queryset = queryset.filter(procedure_date__lte=self.date_to)
        return queryset

    def events(self, events: QuerySet, rows: QuerySet) -> QuerySet:
        """The adverse events of the procedures in range (by the procedure's date, as `rows`); events without a
        signed procedure (none given, or one stopped before signing) by their onset. `rows`: all the clinic's."""
        if not (self.date_from or self.date_to):
            return events
        # EXISTS on the summary's (procedure, time point) key: an index probe per event, whatever the registry's size.
        procedure = rows.filter(time_point=BASELINE, procedure_id=OuterRef("procedure_id"))  # if it is signed
        onset = Q()
        if self.date_from:
            onset &= Q(onset__gte=self.date_from)
        if self.date_to:
            onset &= Q(onset__lte=self.date_to)
        unsigned = Q(procedure__isnull=True) | ~Exists(procedure)
        return events.filter(Exists(self.rows(procedure)) | (unsigned & onset))

    @property
    def keeps_first_rows(self) -> bool:
        """Whether each patient's first row of every group is among the rows when any of the group's are.

        True without a start date: the rows are then all of a patient's rows up to some date, so the
        summary's first-row masks count patients exactly (`summary.first_masks`); from a start date on, a
        patient's first row may lie before it, and patients are counted with COUNT(DISTINCT).
        """
        return self.date_from is None

    def describe(self) -> str:
        if self.date_from and self.date_to:
            return f"procedures from {self.date_from:%Y-%m-%d} to {self.date_to:%Y-%m-%d}"
        if self.date_from:
            return f"procedures from {self.date_from:%Y-%m-%d}"
        if self.date_to:
            return f"procedures up to {self.date_to:%Y-%m-%d}"
        return "all procedures"

    def to_dict(self) -> dict:
        return {"from": self.date_from.isoformat() if self.date_from else None,
                "to": self.date_to.isoformat() if self.date_to else None}


@dataclass(frozen=True)
class Rate:
    """Responders among procedures with a baseline and a follow-up score; `patients` distinct patients.

    `hidden`: shown without its figures although it has enough patients, because it is the one other group
    that keeps a "too few" group from being worked out by subtraction (`suppress_complements`).
    """

    n: int = 0
    responders: int = 0
    patients: int = 0
    hidden: bool = False

    @property
    def too_few(self) -> bool:
        return self.patients < TOO_FEW

    @property
    def suppressed(self) -> bool:
        """Data that are not shown: too few patients, or hidden to protect a group that has too few."""
        return self.n > 0 and (self.too_few or self.hidden)

    @property
    def proportion(self) -> statistics.Proportion | None:
        return None if self.too_few or self.hidden else statistics.proportion(self.responders, self.n)

    @property
    def percent(self) -> float | None:
        share = self.proportion
        return None if share is None else 100 * share.rate

    @property
    def text(self) -> str:
        if self.n == 0:
            return "no data"
        if self.too_few:
            return "too few"
        if self.hidden:
            return "hidden"
        return f"{rounded(self.percent)} % ({self.responders}/{self.n})"

    @property
    def interval(self) -> str:
        share = self.proportion
        return "" if share is None else f"{rounded(100 * share.low)}–{rounded(100 * share.high)} %"


def suppress_complements(rates: list[Rate]) -> list[Rate]:
    """The groups of one stratum at one time point, with the smallest shown group hidden when exactly one group
    has too few patients: otherwise the overall figures minus the shown groups would give that group's.

    Groups without data do not count; a stratum with one group has nothing to subtract.
    """
    small = [rate for rate in rates if rate.n and rate.too_few]
    shown = [rate for rate in rates if rate.n and not rate.too_few]
    if len(small) != 1 or not shown:
        return rates
    smallest = min(shown, key=lambda rate: (rate.patients, rate.n))
    return [Rate(rate.n, rate.responders, rate.patients, hidden=True) if rate is smallest else rate
            for rate in rates]


@dataclass
class TimePoint:
    key: str
    planned: int  # rows: the procedures that have this questionnaire
    closed: int  # of those, the ones whose window has closed by today, or answered already
    completed: int
    means: dict[str, statistics.MeanCI | None]
    function: Rate
    pain: Rate

    @property
    def label(self) -> str:
        return time_point_label(self.key)

    @property
    def completion(self) -> statistics.Proportion | None:
        return statistics.proportion(self.completed, self.closed)

    @property
    def mean_cells(self) -> list[dict]:
        """For the tables: per measure, n, the mean and its 95 % interval as text ("—" without scores)."""
        cells = []
        for name, _ in MEASURES:
            m = self.means.get(name)
            cells.append({"name": name, "n": m.n if m else 0, "mean": rounded(m.mean, 1) if m else "—",
                          "interval": f"{rounded(m.low, 1)}–{rounded(m.high, 1)}" if m and m.low is not None else ""})
        return cells

    @property
    def completion_text(self) -> str:
        share = self.completion
        return "—" if share is None else f"{rounded(100 * share.rate)} %"


@dataclass
class StratumValue:
    code: object
    label: str
    cells: dict[str, tuple[Rate, Rate]] = field(default_factory=dict)  # time point -> (function, pain)

    def cell(self, time_point: str) -> tuple[Rate, Rate]:
        return self.cells.get(time_point, (Rate(), Rate()))

    @property
    def columns(self) -> list[tuple[str, Rate, Rate]]:
        return [(key, *self.cell(key)) for key in RESPONDER_TIME_POINTS]


@dataclass
class Stratum:
    key: str
    title: str
    values: list[StratumValue]


@dataclass
class EventRow:
    event_type: str
    label: str
    by_grade: list[int]
    total: int
    serious: int


@dataclass
class Report:
    filters: Filters
    today: date
    time_points: list[TimePoint]
    strata: list[Stratum]
    events: list[EventRow]

    @property
    def procedures(self) -> int:
        """The cohort: signed procedures (every one has a baseline row)."""
        return next((t.planned for t in self.time_points if t.key == BASELINE), 0)

    @property
    def responder_time_points(self) -> list[TimePoint]:
        by_key = {t.key: t for t in self.time_points}
        return [by_key.get(key) or TimePoint(key, 0, 0, 0, {}, Rate(), Rate()) for key in RESPONDER_TIME_POINTS]

    @property
    def event_totals(self) -> dict:
        return {"by_grade": [sum(row.by_grade[i] for row in self.events) for i in range(len(GRADES))],
                "total": sum(row.total for row in self.events), "serious": sum(row.serious for row in self.events)}

    @property
    def has_data(self) -> bool:
        return self.procedures > 0


# --- Strata --------------------------------------------------------------------------------------------


def _choice_labels(instrument: str, link_id: str) -> dict[str, str]:
    item = next(i for i in questionnaires.items(questionnaires.load(instrument)) if i["linkId"] == link_id)
    return dict(item["options"])


@dataclass(frozen=True)
class StratumDefinition:
    key: str  # the OutcomeRow column
    title: str
    order: tuple = ()  # the codes in the order shown; others follow, sorted by label
    labels: dict = field(default_factory=dict)

    def label(self, code) -> str:
        return self.labels.get(code, str(code) if code not in (None, "") else "Not recorded")

    @property
    def column(self) -> str:
        """The OutcomeRow column (the physician's id for "physician")."""
        return "physician_id" if self.key == "physician" else self.key


ACTIVITY_LABELS = {"sedentary": "Sedentary", "light": "Light activity", "moderate": "Moderate activity",
                   "vigorous": "Vigorous activity"}
SMOKING_LABELS = {"never": "Never smoked", "former": "Former smoker", "current": "Current smoker"}


def _short_labels(instrument: str, link_id: str, short: dict[str, str]) -> dict[str, str]:
    """The questionnaire's answer codes in its order, with short labels (the code's own wording otherwise)."""
    return {code: short.get(code, text) for code, text in _choice_labels(instrument, link_id).items()}


def _strata() -> tuple[StratumDefinition, ...]:
    yes_no_none = (True, False, None)
    activity = _short_labels("baseline", "activity_level", ACTIVITY_LABELS)
    smoking = _short_labels("baseline", "smoking", SMOKING_LABELS)
    supported = tuple(code for code in DIAGNOSES if code in SUPPORTED_DIAGNOSES)
    threshold = f"{CONSISTENT_FROM:.1f}"
    return (
        StratumDefinition("indication", "Indication (first supported diagnosis)", (*supported, "other", "unknown"),
                          {**{c: DIAGNOSIS_LABELS.get(c, c) for c in supported},
                           "other": "No supported diagnosis", "unknown": "Not screened"}),
        StratumDefinition("target", "Target (first planned)", TARGETS, dict(TARGET_LABELS)),
        StratumDefinition("region", "Region", REGIONS, {r: r.title() for r in REGIONS}),
        StratumDefinition("physician", "Operating physician", (), {None: "Not recorded"}),
        StratumDefinition("consistent", "Protocol consistency", yes_no_none,
                          {True: f"Score ≥ {threshold}", False: f"Score below {threshold}", None: "Not scored"}),
        StratumDefinition("placement_confirmed", "Needle placement", yes_no_none,
                          {True: "Every placement confirmed", False: "Not every placement confirmed",
                           None: "Not recorded"}),
        StratumDefinition("structural", "Structural severity", yes_no_none,
                          {True: "Advanced degeneration or structural diagnosis",
                           False: "No advanced or structural diagnosis", None: "Not screened"}),
        StratumDefinition("activity_level", "Activity level (baseline)", (*activity, ""),
                          {**activity, "": "Not answered"}),
        StratumDefinition("smoking", "Smoking (baseline)", (*smoking, ""), {**smoking, "": "Not answered"}),
    )


STRATA = _strata()
assert [d.column for d in STRATA] == list(STRATUM_FIELDS), "STRATA and STRATUM_FIELDS must list the same columns"


# --- Queries -------------------------------------------------------------------------------------------


def _aggregates(bits: Iterable[int], masks: bool) -> dict:
    """Responders, and patients for each stratum bit (summary.STRATUM_FIELDS; ALL_BIT: the whole group).

    masks: patients are counted by summing the summary's first-row flags (`summary.first_masks`), which is
    exact for all of a patient's rows up to some date; otherwise by COUNT(DISTINCT patient), and then a query
    must group by one stratum only.
    """
    aggregates = {"function_n": Count("pk", filter=FUNCTION_KNOWN), "function_yes": Count("pk", filter=FUNCTION_YES),
                  "pain_n": Count("pk", filter=PAIN_KNOWN), "pain_yes": Count("pk", filter=PAIN_YES)}
    for bit in bits:
        if masks:
            aggregates[f"function_patients_{bit}"] = Sum(F("function_first").bitand(1 << bit))
            aggregates[f"pain_patients_{bit}"] = Sum(F("pain_first").bitand(1 << bit))
        else:
            aggregates[f"function_patients_{bit}"] = Count("patient", distinct=True, filter=FUNCTION_KNOWN)
            aggregates[f"pain_patients_{bit}"] = Count("patient", distinct=True, filter=PAIN_KNOWN)
    return aggregates


def _rates(row: dict, bit: int, masks: bool) -> tuple[Rate, Rate]:
    shift = bit if masks else 0
    return (Rate(row["function_n"], row["function_yes"], (row[f"function_patients_{bit}"] or 0) >> shift),
            Rate(row["pain_n"], row["pain_yes"], (row[f"pain_patients_{bit}"] or 0) >> shift))


def by_time_point(rows: QuerySet, today: date, masks: bool = True) -> list[TimePoint]:
    """Funnel, means and responders at every time point: one GROUP BY time_point."""
    aggregates = {
        "planned": Count("pk"),
        "closed": Count("pk", filter=Q(closes_on__lt=today) | Q(completed=True)),
        "completed_count": Count("pk", filter=Q(completed=True)),
        **_aggregates([ALL_BIT], masks),
    }
    for name, _ in MEASURES:
        aggregates[f"{name}_n"] = Count(name)
        aggregates[f"{name}_sum"] = Sum(name)
        aggregates[f"{name}_squares"] = Sum(F(name) * F(name))
    result = []
    for row in rows.order_by().values("time_point").annotate(**aggregates):
        means = {name: statistics.mean_ci(row[f"{name}_n"], row[f"{name}_sum"] or 0, row[f"{name}_squares"] or 0,
                                          scale=SCALES[name])
                 for name, _ in MEASURES}
        function, pain = _rates(row, ALL_BIT, masks)
        result.append(TimePoint(row["time_point"], row["planned"], row["closed"], row["completed_count"], means,
                                function, pain))
    result.sort(key=lambda t: (time_point_days(t.key), t.key))
    return result


def _physician_labels(ids: Iterable[int]) -> dict[int, str]:
    ids = [i for i in ids if i is not None]
    users = get_user_model().objects.filter(pk__in=ids).values_list("pk", "first_name", "last_name", "username")
    return {pk: f"{first} {last}".strip() or username for pk, first, last, username in users}


# With the masks, the strata are grouped together, three queries instead of nine: each stratum's figures are
# sums over the others' values. Each query returns at most (product of its strata's code lists) x 3 time
# points rows, whatever the number of patients. With COUNT(DISTINCT), one query per stratum.
STRATUM_QUERIES = (("indication", "target", "region"),
                   ("consistent", "placement_confirmed", "structural", "smoking"),
                   ("activity_level", "physician_id"))
assert sorted(c for q in STRATUM_QUERIES for c in q) == sorted(STRATUM_FIELDS)


def stratum_query(rows: QuerySet, columns: tuple[str, ...], masks: bool = True) -> QuerySet:
    """Responders and patients at 3, 6 and 12 months, GROUP BY these strata and the time point."""
    if not masks and len(columns) != 1:
        raise ValueError("COUNT(DISTINCT patient) over several strata at once would count per combination")
    return (rows.filter(time_point__in=RESPONDER_TIME_POINTS).filter(FUNCTION_KNOWN | PAIN_KNOWN).order_by()
            .values(*columns, "time_point")
            .annotate(**_aggregates([STRATUM_FIELDS.index(c) for c in columns], masks)))


def by_stratum(rows: QuerySet, masks: bool = True) -> list[Stratum]:
    """Responders at 3, 6 and 12 months in each value of each stratum: three GROUP BY queries (nine without
    the masks)."""
    totals: dict[str, dict] = {column: {} for column in STRATUM_FIELDS}  # column -> (value, time point) -> sums
    for columns in STRATUM_QUERIES if masks else [(column,) for column in STRATUM_FIELDS]:
        for row in stratum_query(rows, columns, masks):
            for column in columns:
                function, pain = _rates(row, STRATUM_FIELDS.index(column), masks)
                sums = totals[column].setdefault((row[column], row["time_point"]), [0] * 6)
                for index, value in enumerate((function.n, function.responders, function.patients, pain.n,
                                               pain.responders, pain.patients)):
                    sums[index] += value
    physicians = {code for code, _ in totals["physician_id"]}
    names = _physician_labels(physicians)
    result = []
    for definition in STRATA:
        values: dict[object, StratumValue] = {}
        for (code, time_point), sums in totals[definition.column].items():
            label = names.get(code, definition.label(code)) if definition.key == "physician" else definition.label(code)
            value = values.setdefault(code, StratumValue(code, label))
            value.cells[time_point] = (Rate(*sums[:3]), Rate(*sums[3:]))
        for time_point in RESPONDER_TIME_POINTS:
            in_order = list(values.values())
            function = suppress_complements([v.cell(time_point)[0] for v in in_order])
            pain = suppress_complements([v.cell(time_point)[1] for v in in_order])
            for value, cell in zip(in_order, zip(function, pain)):
                if time_point in value.cells:
                    value.cells[time_point] = cell
        rank = {code: index for index, code in enumerate(definition.order)}
        result.append(Stratum(definition.key, definition.title,
                              sorted(values.values(), key=lambda v: (rank.get(v.code, len(rank)), v.label))))
    return result


def adverse_events(events: QuerySet) -> list[EventRow]:
    """Adverse events by type and CTCAE grade: one GROUP BY."""
    table: dict[str, EventRow] = {}
    labels = dict(EventType.choices)
    grouped = (events.order_by().values("event_type", "ctcae_grade")
               .annotate(n=Count("pk"), serious_count=Count("pk", filter=Q(serious=True))))
    for row in grouped:
        entry = table.setdefault(row["event_type"], EventRow(row["event_type"], labels.get(row["event_type"],
                                                                                          row["event_type"]),
                                                             [0] * len(GRADES), 0, 0))
        if row["ctcae_grade"] in GRADES:
            entry.by_grade[GRADES.index(row["ctcae_grade"])] += row["n"]
        entry.total += row["n"]
        entry.serious += row["serious_count"]
    order = {code: index for index, code in enumerate(labels)}
    return sorted(table.values(), key=lambda r: order.get(r.event_type, len(order)))


def report(rows: QuerySet, events: QuerySet, filters: Filters = Filters(), today: date | None = None) -> Report:
    """Everything the outcomes page and the PDF show, from the clinic's summary rows and adverse events.

    `rows` and `events` must already be scoped to the clinic (`clinic_objects`).
    """
    today = today or timezone.localdate()
    chosen, masks = filters.rows(rows), filters.keeps_first_rows
    return Report(filters=filters, today=today, time_points=by_time_point(chosen, today, masks),
                  strata=by_stratum(chosen, masks), events=adverse_events(filters.events(events, rows)))


GRADE_HEADINGS = [f"{grade} · {GRADE_SHORT[grade]}" for grade in GRADES]
