"""The per-procedure outcome summary (`OutcomeRow`) that the outcomes page aggregates.

One row per signed procedure and time point: the baseline (always, even when
the baseline questionnaire is missing, so the baseline row counts the
cohort) and every follow-up questionnaire task. A row holds the scores of the
submitted questionnaire (NRS, ODI, NDI, PGIC), each instrument's change from
baseline with its responder flag (`accretion.clinical.instruments.change`,
with the clinic's responder thresholds), and the strata the page groups by.

Keeping it current
    `refresh(procedure)` rebuilds one procedure's rows. It is called inside
    the transaction that changes what the rows are made of: storing a
    questionnaire response (`accretion.outcomes.services.save`) and signing
    the procedure (which creates the follow-up tasks and fixes the physician,
    the protocol consistency and the placement rate). It locks the patient's
    row (a procedure's rows also decide which of the patient's rows count the
    patient in a group, see below), so refreshes of one patient's procedures
    write one after the other; it takes no other lock, so it never waits for
    a lock its caller's code takes later. It is idempotent: running it again
    changes nothing.

Backfills
    `refresh_all(clinic=None)` rebuilds every signed procedure's rows (of one
    clinic, or of all), in batches of `batch_size` procedures, each batch in
    its own short transaction that locks the batch's patients; it also
    removes rows of procedures that are not signed. Signed procedures without
    any row are built after every `migrate` (`refresh_missing`). Run
    `accretion outcomes-refresh [--clinic SLUG]` after changing how rows are
    derived (a new stratum), or to repair; a clinic's new responder
    thresholds need no rebuild (`recompute_responders`). It is safe while the
    portal runs (each batch locks its patients as `refresh` does) and safe to
    run twice.

Which screening gives the strata
    The one that cleared the procedure: the screening the time-out's gate
    read (`TimeOut.screening`). For a procedure without that link (records
    from before it, imports) the patient's newest screening decided before
    the procedure started. A screening decided later, for another procedure,
    never changes a procedure's strata, so deciding a screening needs no
    refresh. Without a screening the indication is "unknown" and the
    structural flag is NULL.

Counting patients, not procedures
    The outcomes page shows a rate only for groups of at least 10 patients. A
    patient with several procedures has several rows at a time point, so
    counting them needs COUNT(DISTINCT patient), which makes the database
    sort every group. Instead each row carries two bitmasks (`function_first`,
    `pain_first`): bit i is set when the row is the patient's first row (by
    procedure date, then id) at its time point with a responder status and its
    value of stratum `STRATUM_FIELDS[i]`; bit `ALL_BIT` when it is the first
    with any value. SUM(mask & 2^i) / 2^i over a group is then exactly the
    number of its patients, with plain hash aggregation. The masks of all the
    patient's rows are recomputed whenever one of the patient's procedures is
    refreshed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db import connection, models, transaction
from django.db.models import ExpressionWrapper, F, Q
from django.db.models.fields.json import KT
from django.db.models.lookups import GreaterThan, GreaterThanOrEqual
from django.utils import timezone

from accretion.clinical import instruments
from accretion.clinical.aftercare import parse_follow_up_key
from accretion.clinical.errors import FieldError
from accretion.clinical.screening import SUPPORTED_DIAGNOSES
from accretion.clinics.models import Clinic
from accretion.outcomes.models import OutcomeRow, QuestionnaireResponse, QuestionnaireTask
from accretion.patients.models import Patient
from accretion.procedures.models import Procedure, Status, TimeOut
from accretion.screenings.models import Screening
from accretion.screenings.models import Status as ScreeningStatus

__all__ = ["ALL_BIT", "BASELINE", "CONSISTENT_FROM", "STRATUM_FIELDS", "STRUCTURAL_DIAGNOSES", "first_masks",
           "indication_of", "recompute_responders", "refresh", "refresh_all", "refresh_missing", "structural_of",
           "time_point_days"]

BASELINE = "baseline"
SCORED = ("nrs", "odi", "ndi", "pgic")
CHANGED = ("nrs", "odi", "ndi")
CONSISTENT_FROM = Decimal("0.9")
STRUCTURAL_DIAGNOSES = frozenset({"disc_degeneration_moderate", "disc_degeneration_severe", "disc_herniation",
                                  "spinal_stenosis"})
NO_SCREENING = "unknown"
# The strata the page groups by, in the order of the bits of function_first and pain_first.
STRATUM_FIELDS = ("indication", "target", "region", "physician_id", "consistent", "placement_confirmed", "structural",
                  "activity_level", "smoking")
ALL_BIT = len(STRATUM_FIELDS)


def time_point_days(time_point: str) -> int:
    """Approximate days after the procedure, to put time points in order: baseline 0, 2w 14, 3m 90."""
    if time_point == BASELINE:
        return 0
    try:
        number, unit = parse_follow_up_key(time_point)
    except FieldError:
        return 10**6
    return number * (7 if unit == "w" else 30)


def indication_of(diagnoses: Iterable[str] | None) -> str:
    """The first supported diagnosis as entered, "other" when none is supported, "unknown" without a screening."""
    if diagnoses is None:
        return NO_SCREENING
    return next((code for code in diagnoses if code in SUPPORTED_DIAGNOSES), "other")


def structural_of(diagnoses: Iterable[str] | None) -> bool | None:
    """Advanced disc degeneration, a herniation or stenosis among the diagnoses; None without a screening."""
    if diagnoses is None:
        return None
    return not STRUCTURAL_DIAGNOSES.isdisjoint(diagnoses)


def procedure_day(procedure: Procedure) -> date:
    return timezone.localtime(procedure.started_at).date() if procedure.started_at else procedure.planned_date


# --- Reading what the rows are made of, for a batch of procedures ----------------------------------------


@dataclass
class _Task:
    time_point: str
    due: date
    closes_on: date
    completed: bool
    scores: dict = field(default_factory=dict)  # nrs, odi, ndi, pgic, activity_level, smoking


def _number(value, kind):
    if value is None or value == "":
        return None
    try:
        return kind(Decimal(str(value))) if kind is int else float(value)
    except (ArithmeticError, ValueError, TypeError):
        return None


def _tasks(procedure_ids: list[int]) -> dict[int, dict[str, _Task]]:
    """procedure id -> time point -> task with the scores of its submitted questionnaire (two queries)."""
    tasks: dict[int, dict[str, _Task]] = defaultdict(dict)
    by_id: dict[int, _Task] = {}
    for task_id, procedure_id, time_point, due, closes_on, completed_at in (
            QuestionnaireTask.objects.filter(procedure_id__in=procedure_ids)
            .values_list("pk", "procedure_id", "time_point", "due", "closes_on", "completed_at").order_by()):
        task = _Task(time_point, due, closes_on, completed_at is not None)
        tasks[procedure_id][time_point] = by_id[task_id] = task
    responses = (QuestionnaireResponse.objects
                 .filter(task__procedure_id__in=procedure_ids, task__completed_at__isnull=False,
                         instrument__in=(*SCORED, BASELINE))
                 .annotate(value=KT("score__score"), activity=KT("answers__activity_level"),
                           smoking_code=KT("answers__smoking"))
                 .values_list("task_id", "instrument", "value", "activity", "smoking_code").order_by())
    for task_id, instrument, value, activity, smoking in responses:
        scores = by_id[task_id].scores
        if instrument == BASELINE:
            scores["activity_level"] = activity or ""
            scores["smoking"] = smoking or ""
        else:
            scores[instrument] = _number(value, int if instrument in ("nrs", "pgic") else float)
    return tasks


def _diagnoses(procedures: list[Procedure]) -> dict[int, list[str] | None]:
    """procedure id -> the diagnoses of the screening that gives its strata, None without one (two queries)."""
    cleared = dict(TimeOut.objects.filter(procedure_id__in=[p.pk for p in procedures], screening__isnull=False)
                   .values_list("procedure_id", "screening_id"))
    by_id: dict[int, list[str]] = {}
    by_patient: dict[int, list[tuple]] = defaultdict(list)  # patient -> [(decided at, diagnoses)], oldest first
    for pk, patient_id, decided_at, diagnoses in (
            Screening.objects.filter(patient_id__in={p.patient_id for p in procedures}, decided_at__isnull=False)
            .exclude(status=ScreeningStatus.DRAFT)
            .values_list("pk", "patient_id", "decided_at", "intake__diagnoses").order_by("decided_at", "pk")):
        by_id[pk] = diagnoses if isinstance(diagnoses, list) else []
        by_patient[patient_id].append((decided_at, by_id[pk]))
    chosen = {}
    for procedure in procedures:
        if procedure.pk in cleared:
            chosen[procedure.pk] = by_id.get(cleared[procedure.pk])
            continue
        cut = procedure.started_at or procedure.completed_at or procedure.signed_at
        before = [diagnoses for decided_at, diagnoses in by_patient.get(procedure.patient_id, [])
                  if cut is not None and decided_at <= cut]
        chosen[procedure.pk] = before[-1] if before else None
    return chosen


# --- Building rows -------------------------------------------------------------------------------------


def _change(instrument: str, baseline, followup, thresholds: instruments.ResponderThresholds):
    if baseline is None or followup is None:
        return None, None
    try:
        if instrument == "nrs":
            result = instruments.change("nrs", int(baseline), int(followup), thresholds)
            return int(result.change), result.responder
        result = instruments.change(instrument, Decimal(str(baseline)), Decimal(str(followup)), thresholds)
        return float(result.change), result.responder
    except instruments.InstrumentError:  # a stored score outside the scale: no change rather than a wrong one
        return None, None


def _rows(procedure: Procedure, tasks: dict[str, _Task], diagnoses, thresholds, now) -> list[dict]:
    """The procedure's rows as {field attname: value}: the baseline first, then the follow-ups in order."""
    day = procedure_day(procedure)
    baseline = tasks.get(BASELINE) or _Task(BASELINE, day, day, False)
    base = baseline.scores if baseline.completed else {}
    consistency, placement = procedure.consistency_score, procedure.placement_rate
    strata = {
        "clinic_id": procedure.clinic_id,
        "procedure_id": procedure.pk,
        "patient_id": procedure.patient_id,
        "procedure_date": day,
        "region": procedure.region,
        "indication": indication_of(diagnoses),
        "target": (procedure.targets or [""])[0] if isinstance(procedure.targets, list) else "",
        "physician_id": procedure.physician_id,
        "consistent": None if consistency is None else Decimal(consistency) >= CONSISTENT_FROM,
        "placement_confirmed": None if placement is None else Decimal(placement) == 1,
        "structural": structural_of(diagnoses),
        "activity_level": base.get("activity_level", ""),
        "smoking": base.get("smoking", ""),
        "refreshed_at": now,
        "function_first": 0,  # set by _write, which sees all the patient's rows
        "pain_first": 0,
    }
    rows = []
    for task in [baseline, *(t for key, t in tasks.items() if key != BASELINE)]:
        scores = task.scores if task.completed else {}
        row = {**strata, "time_point": task.time_point, "due": task.due, "closes_on": task.closes_on,
               "completed": task.completed}
        for name in SCORED:
            row[name] = scores.get(name)
        for name in CHANGED:
            row[f"{name}_change"], row[f"{name}_responder"] = (
                (None, None) if task.time_point == BASELINE else _change(name, base.get(name), row[name], thresholds))
        rows.append(row)
    rows.sort(key=lambda row: time_point_days(row["time_point"]))
    return rows


_FIELDS = [f for f in OutcomeRow._meta.concrete_fields if not f.primary_key]
_NAMES = [f.attname for f in _FIELDS]
_COMPARED = [name for name in _NAMES if name != "refreshed_at"]  # a row is rewritten only when one of these changes


def first_masks(rows: Iterable[tuple]) -> dict:
    """{row key: (function_first, pain_first)} for ALL the rows of some patients.

    `rows` are (key, patient id, time point, procedure date, procedure id, function known, pain known,
    *values of STRATUM_FIELDS). Only rows of the same patient and time point are compared, so the rows of
    every patient concerned must all be given.
    """
    groups: dict[tuple, list[tuple]] = defaultdict(list)
    for row in rows:
        groups[(row[1], row[2])].append(row)
    masks = {}
    for group in groups.values():
        group.sort(key=lambda row: (row[3], row[4]))
        result = {row[0]: [0, 0] for row in group}
        for kind in (0, 1):
            seen: list[set] = [set() for _ in STRATUM_FIELDS]
            first = True
            for row in group:
                if not row[5 + kind]:
                    continue
                mask = 0
                for bit, value in enumerate(row[7:]):
                    if value not in seen[bit]:
                        seen[bit].add(value)
                        mask |= 1 << bit
                if first:
                    mask |= 1 << ALL_BIT
                    first = False
                result[row[0]][kind] = mask
        masks.update({key: (function, pain) for key, (function, pain) in result.items()})
    return masks


def _mask_input(key, row: dict) -> tuple:
    return (key, row["patient_id"], row["time_point"], row["procedure_date"], row["procedure_id"],
            row["odi_responder"] is not None or row["ndi_responder"] is not None, row["nrs_responder"] is not None,
            *(row[name] for name in STRATUM_FIELDS))


def _upsert_sql() -> str:
    """INSERT ... ON CONFLICT (procedure, time point) DO UPDATE: the same statement on PostgreSQL and SQLite
    (the one Django's bulk_create(update_conflicts=True) writes)."""
    quote = connection.ops.quote_name
    columns = [quote(f.column) for f in _FIELDS]
    keys = {quote(OutcomeRow._meta.get_field(name).column) for name in ("procedure", "time_point")}
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c not in keys)
    return (f"INSERT INTO {quote(OutcomeRow._meta.db_table)} ({', '.join(columns)}) "
            f"VALUES ({', '.join(['%s'] * len(columns))}) "
            f"ON CONFLICT ({quote('procedure_id')}, {quote('time_point')}) DO UPDATE SET {updates}")


def _upsert(rows: list[dict]) -> None:
    """One statement run for many rows (executemany): the drivers parse it once, with no per-field ORM work."""
    ops = connection.ops
    adapt = {}
    for model_field in _FIELDS:
        if isinstance(model_field, models.DateTimeField):
            adapt[model_field.attname] = ops.adapt_datetimefield_value
        elif isinstance(model_field, models.DateField):
            adapt[model_field.attname] = ops.adapt_datefield_value
    with connection.cursor() as cursor:
        cursor.executemany(_upsert_sql(), [[adapt[name](row[name]) if name in adapt else row[name] for name in _NAMES]
                                           for row in rows])


def _write(procedures: list[Procedure], rows: list[dict]) -> None:
    """Make the stored rows of `procedures` equal to `rows`, and correct the masks of their patients' other rows.

    One read of all the patients' rows; then only what changes is written: stale rows deleted, new or changed
    rows upserted, other rows' masks updated.
    """
    ids = {p.pk for p in procedures}
    stored: dict[tuple, dict] = {}  # (procedure, time point) -> row, for these procedures
    others: dict[int, dict] = {}  # id -> row, of the patients' other procedures
    for values in (OutcomeRow.objects.filter(patient_id__in={p.patient_id for p in procedures}).order_by()
                   .values("pk", *_NAMES)):
        if values["procedure_id"] in ids:
            stored[(values["procedure_id"], values["time_point"])] = values
        else:
            others[values["pk"]] = values
    masks = first_masks([_mask_input(("new", row["procedure_id"], row["time_point"]), row) for row in rows]
                        + [_mask_input(pk, row) for pk, row in others.items()])
    for row in rows:
        row["function_first"], row["pain_first"] = masks[("new", row["procedure_id"], row["time_point"])]
    keep = {(row["procedure_id"], row["time_point"]) for row in rows}
    stale = [row["pk"] for key, row in stored.items() if key not in keep]
    if stale:
        OutcomeRow.objects.filter(pk__in=stale).delete()
    changed = [row for row in rows if (old := stored.get((row["procedure_id"], row["time_point"]))) is None
               or any(old[name] != row[name] for name in _COMPARED)]
    moved = [(*masks[pk], pk) for pk, row in others.items() if masks[pk] != (row["function_first"], row["pain_first"])]
    if changed:
        _upsert(changed)
    if moved:
        quote = connection.ops.quote_name
        with connection.cursor() as cursor:
            cursor.executemany(f"UPDATE {quote(OutcomeRow._meta.db_table)} SET {quote('function_first')} = %s, "
                               f"{quote('pain_first')} = %s WHERE {quote('id')} = %s", moved)


def _refresh_locked(procedures: list[Procedure]) -> int:
    """Rebuild the rows of these procedures (their patients locked by the caller); returns their row count."""
    signed = [p for p in procedures if p.status == Status.SIGNED]
    rows = []
    if signed:
        tasks, diagnoses, now = _tasks([p.pk for p in signed]), _diagnoses(signed), timezone.now()
        thresholds = _thresholds({p.clinic_id for p in signed})
        rows = [row for p in signed
                for row in _rows(p, tasks.get(p.pk, {}), diagnoses[p.pk], thresholds[p.clinic_id], now)]
    _write(procedures, rows)
    return len(rows)


def _thresholds(clinic_ids: set[int]) -> dict[int, instruments.ResponderThresholds]:
    """The clinics' responder thresholds, held until the caller commits.

    On PostgreSQL a key-share lock on the clinic rows: a clinic administrator saving new thresholds (which locks
    the clinic row FOR UPDATE and recomputes every flag) waits for this refresh to commit, or this refresh waits
    for the save and reads the new thresholds; either way no row keeps a flag of the old rule. Refreshes do not
    wait for each other, nor for other edits of the clinic row (those take no FOR UPDATE). SQLite runs one
    writing transaction at a time, which gives the same order.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT 1 FROM {connection.ops.quote_name(Clinic._meta.db_table)} "
                           "WHERE id = ANY(%s) ORDER BY id FOR KEY SHARE", [sorted(clinic_ids)])
    return {clinic.pk: clinic.get_responder_thresholds() for clinic in Clinic.objects.filter(pk__in=clinic_ids)}


def _lock_patients(patient_ids: Iterable[int]) -> None:
    list(Patient.objects.select_for_update().filter(pk__in=sorted(set(patient_ids))).order_by("pk")
         .values_list("pk", flat=True))


# --- Public ---------------------------------------------------------------------------------------------


# Stored scores are floats of at most one decimal and thresholds have at most two, so two different exact
# values of the compared quantities are at least 0.001 apart; this tolerance only absorbs float rounding.
_TOLERANCE = 1e-6


def _meets(instrument: str, thresholds: instruments.ResponderThresholds) -> Q:
    """SQL for `instruments.change(...).responder` from a row's follow-up score and change (baseline = both)."""
    change = F(f"{instrument}_change")
    condition = Q(GreaterThanOrEqual(change, float(thresholds.points(instrument)) - _TOLERANCE))
    percent = thresholds.percent(instrument)
    if percent is not None:
        baseline = F(instrument) + change
        # change / baseline x 100 >= percent, without division, as the pure rule compares it
        condition |= Q(GreaterThan(baseline, 0)) & Q(
            GreaterThanOrEqual(ExpressionWrapper(change * 100.0 - baseline * float(percent),
                                                 output_field=models.FloatField()), -_TOLERANCE))
    return condition


def recompute_responders(clinic) -> int:
    """Set the responder flags of the clinic's rows by its current thresholds; returns the flags changed.

    A flag depends only on the row's change and score, so this is six UPDATEs in the database (per instrument,
    the rows that become responders and those that stop being), not a rebuild; the first-row masks count rows
    with a known status, which thresholds do not change. Call it in the transaction that saves the thresholds.
    """
    thresholds = clinic.get_responder_thresholds()
    rows = OutcomeRow.objects.filter(clinic=clinic)
    now, changed = timezone.now(), 0
    for name in CHANGED:
        known = rows.filter(**{f"{name}_change__isnull": False, f"{name}__isnull": False})
        meets = _meets(name, thresholds)
        changed += known.filter(meets, **{f"{name}_responder": False}).update(
            **{f"{name}_responder": True, "refreshed_at": now})
        changed += known.filter(~meets, **{f"{name}_responder": True}).update(
            **{f"{name}_responder": False, "refreshed_at": now})
    return changed


def refresh(procedure: Procedure) -> int:
    """Rebuild the outcome rows of one procedure from its tasks, responses and strata; returns the row count.

    Call it inside the transaction that stored the change (it joins it; alone it runs in its own).
    A procedure that is not signed has no rows.
    """
    with transaction.atomic():
        _lock_patients([procedure.patient_id])
        return _refresh_locked([Procedure.objects.get(pk=procedure.pk)])


def refresh_all(clinic=None, *, batch_size: int = 2000, log: Callable[[str], None] | None = None) -> dict:
    """Rebuild the rows of every signed procedure (of `clinic`, or of all clinics); for backfills.

    Returns {"procedures": signed procedures refreshed, "rows": their rows (only those that differ from the
    stored ones are written), "removed": rows of unsigned procedures removed}. Each batch is one transaction
    that locks its procedures' patients.
    """
    procedures = Procedure.objects.all() if clinic is None else Procedure.objects.filter(clinic=clinic)
    orphans = OutcomeRow.objects.filter(~Q(procedure__status=Status.SIGNED))
    if clinic is not None:
        orphans = orphans.filter(clinic=clinic)
    with transaction.atomic():
        unsigned = list(Procedure.objects.filter(pk__in=orphans.values("procedure_id")))
        _lock_patients(p.patient_id for p in unsigned)
        removed = orphans.count()
        _refresh_locked(unsigned)  # deletes their rows and corrects the masks of the patients' other rows
    done, written = _refresh_batches(procedures.filter(status=Status.SIGNED), batch_size, log)
    return {"procedures": done, "rows": written, "removed": removed}


def refresh_missing(*, batch_size: int = 2000, log: Callable[[str], None] | None = None) -> int:
    """Build the rows of signed procedures that have none (a database from before the summary, or an
    import); run after every `migrate`. Returns how many procedures it built."""
    missing = Procedure.objects.filter(status=Status.SIGNED).exclude(
        models.Exists(OutcomeRow.objects.filter(procedure=models.OuterRef("pk"), time_point=BASELINE)))
    if not missing.exists():
        return 0
    return _refresh_batches(Procedure.objects.filter(pk__in=list(missing.values_list("pk", flat=True))),
                            batch_size, log)[0]


def _refresh_batches(signed: models.QuerySet, batch_size: int, log) -> tuple[int, int]:
    """Refresh these signed procedures in batches, in order of id; returns (procedures, rows)."""
    signed = signed.order_by("pk")
    last, done, written = 0, 0, 0
    while True:
        ids = list(signed.filter(pk__gt=last).values_list("pk", flat=True)[:batch_size])
        if not ids:
            break
        with transaction.atomic():
            _lock_patients(signed.filter(pk__in=ids).values_list("patient_id", flat=True))
            batch = list(Procedure.objects.filter(pk__in=ids).order_by("pk")
                         .only("pk", "clinic", "patient", "status", "planned_date", "started_at", "completed_at",
                               "signed_at", "region", "targets", "physician", "consistency_score",
                               "placement_rate"))
            written += _refresh_locked(batch)
        done += len(ids)
        last = ids[-1]
        if log:
            log(f"  {done:,} procedures, {written:,} rows")
    return done, written
