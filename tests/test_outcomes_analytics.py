"""Outcome analytics: the summary table, the aggregate figures, the page, the PDF report and the CSV export.

The hand-computed registry (`registry` fixture): 12 signed lumbar procedures of
12 patients in clinic north, done on 2026-01-10, the report made on
2026-12-01 (so the 12-month questionnaires are not due yet).

* Baseline: all 12 answered, NRS 7 and ODI 50 each; activity "moderate" for
  P1-P10, "sedentary" for P11-P12; smoking "never".
* 2 weeks and 6 weeks: P1-P11 answered (NRS 6, ODI 44).
* 3 months: P1-P10 answered:
      NRS  2  3  4  5  6  7  4  5  6  8   -> n 10, sum 50, sum of squares 280
      ODI 20 30 40 42 44 50 36 38 46 60
  NRS responders (improved by >= 2 points or >= 30 %): P1 P2 P3 P4 P7 P8 = 6 of 10.
  ODI responders (>= 10 points or >= 30 %): P1 P2 P3 P7 P8 = 5 of 10.
* 6 months: P1-P8 answered (NRS 4, ODI 30): 8 patients, "too few".
* Physician A operated P1-P9, physician B P10-P12: at 3 months A has 9 patients ("too few").

Clinic south has its own procedures, which must never show in north's figures.
"""

import csv
import io
import math
import os
import shutil
import subprocess
import uuid
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accretion.adverse_events.models import AdverseEvent
from accretion.audit.models import AuditEvent
from accretion.clinical import statistics
from accretion.clinical.aftercare import DEFAULT_FOLLOW_UPS, follow_up_due
from accretion.outcomes import analytics, plots, questionnaires, services, summary
from accretion.outcomes.analytics_views import COLUMNS
from accretion.outcomes.models import OutcomeRow, QuestionnaireResponse, QuestionnaireTask
from accretion.procedures.models import FollowUp, Procedure
from accretion.screenings.models import Screening
from tests.conftest import signed_in

DAY = date(2026, 1, 10)
TODAY = date(2026, 12, 1)
ZONE = ZoneInfo(settings.TIME_ZONE)
NRS_3M = [2, 3, 4, 5, 6, 7, 4, 5, 6, 8]
ODI_3M = [20, 30, 40, 42, 44, 50, 36, 38, 46, 60]
T_975_DF9 = 2.2621571627409915  # Student's t, 97.5th percentile, 9 degrees of freedom (published tables)


def noon(day: date) -> datetime:
    return datetime.combine(day, time(12), tzinfo=ZONE)


def disability_answers(instrument: str, score: int) -> dict:
    """Ten answers whose ODI or NDI percentage is `score` (an even number 0-100)."""
    total = score // 2
    values = [total // 10 + (1 if i < total % 10 else 0) for i in range(10)]
    return {f"{instrument}-{i + 1}": str(v) for i, v in enumerate(values)}


def answers_for(instrument: str, values: dict) -> dict | None:
    if instrument == "nrs":
        return {"nrs": values["nrs"]} if "nrs" in values else None
    if instrument in ("odi", "ndi"):
        return disability_answers(instrument, values["disability"]) if "disability" in values else None
    if instrument == "pgic":
        return {"pgic": str(values.get("pgic", 2))}
    if instrument == "baseline":
        return {"activity_level": values.get("activity", "moderate"), "smoking": values.get("smoking", "never"),
                "height_cm": 170, "weight_kg": 70, "general_health": "good"}
    if instrument == "safety":
        return {k: False for k in ("fever", "infection_signs", "new_weakness_numbness", "bowel_bladder_change",
                                   "emergency_visit")}
    return None


def build(clinic, patient, *, staff_user, physician=None, region="lumbar", targets=("facet_joint",), day=DAY,
          baseline=None, follow_ups=None, consistency="0.95", placement="1.00", diagnoses=("facet_oa",),
          refresh=True) -> Procedure:
    """A signed procedure with its questionnaire tasks; `baseline` and `follow_ups[key]` are the answered scores
    ({"nrs": 7, "disability": 50, "activity": "moderate", "smoking": "never"}); a task left out is unanswered."""
    follow_ups = follow_ups or {}
    procedure = Procedure.objects.create(
        clinic=clinic, patient=patient, planned_date=day, region=region, targets=list(targets),
        levels=["C5-C6"] if region == "cervical" else ["L4-L5"], status="signed", physician=physician,
        started_at=noon(day), completed_at=noon(day), signed_at=noon(day) + timedelta(hours=1),
        consistency_score=None if consistency is None else Decimal(consistency),
        placement_rate=None if placement is None else Decimal(placement), created_by=staff_user)
    if diagnoses is not None:
        Screening.objects.create(clinic=clinic, patient=patient, status="decided", decision="eligible",
                                 intake={"diagnoses": list(diagnoses)}, decided_at=noon(day - timedelta(days=20)),
                                 created_by=staff_user)
    plan = [("baseline", day, baseline)] + [(key, follow_up_due(day, key), follow_ups.get(key))
                                            for key in DEFAULT_FOLLOW_UPS]
    FollowUp.objects.bulk_create(FollowUp(clinic=clinic, procedure=procedure, key=key, due=due)
                                 for key, due, _ in plan[1:])
    tasks = QuestionnaireTask.objects.bulk_create(
        QuestionnaireTask(clinic=clinic, patient=patient, procedure=procedure, time_point=key, due=due,
                          opens_on=due - timedelta(days=7), closes_on=due + timedelta(days=7),
                          instruments=questionnaires.instruments_for(region, key), nonce="n",
                          token_digest=f"test:{uuid.uuid4().hex}", completed_at=noon(due) if values else None)
        for key, due, values in plan)
    responses = []
    for task, (_, _, values) in zip(tasks, plan):
        if not values:
            continue
        for instrument in task.instruments:
            answers = answers_for(instrument, values)
            if answers is not None:
                responses.append(QuestionnaireResponse(task=task, instrument=instrument, answers=answers,
                                                       score=questionnaires.score(instrument, answers)))
    QuestionnaireResponse.objects.bulk_create(responses)
    if refresh:
        summary.refresh(procedure)
    return procedure


@pytest.fixture
def physicians(staff, django_user_model):
    from accretion.clinics.models import Membership

    a = staff[("north", "physician")]
    a.first_name, a.last_name = "Alma", "Quist"
    a.save()
    b = django_user_model.objects.create_user(username="second@north.test", first_name="Bruno", last_name="Vale")
    Membership.objects.create(user=b, clinic=a.memberships.get().clinic, role="physician")
    return a, b


@pytest.fixture
def registry(clinics, staff, make_patient, physicians):
    north = clinics["north"]
    nurse = staff[("north", "nurse")]
    a, b = physicians
    procedures = []
    for i in range(12):
        number = i + 1
        follow_ups = {}
        if number <= 11:
            follow_ups["2w"] = follow_ups["6w"] = {"nrs": 6, "disability": 44}
        if number <= 10:
            follow_ups["3m"] = {"nrs": NRS_3M[i], "disability": ODI_3M[i]}
        if number <= 8:
            follow_ups["6m"] = {"nrs": 4, "disability": 30}
        baseline = {"nrs": 7, "disability": 50, "activity": "moderate" if number <= 10 else "sedentary"}
        procedures.append(build(north, make_patient(north, family_name=f"Registry{number}", mrn=f"NR{number:04d}"),
                                staff_user=nurse, physician=a if number <= 9 else b, baseline=baseline,
                                follow_ups=follow_ups))
    # Clinic south: 11 cervical procedures whose figures differ everywhere.
    south = clinics["south"]
    for i in range(11):
        build(south, make_patient(south, family_name=f"Southern{i}"), staff_user=staff[("south", "nurse")],
              physician=staff[("south", "physician")], region="cervical", targets=("paraspinal_muscle",),
              baseline={"nrs": 10, "disability": 80, "activity": "vigorous", "smoking": "current"},
              follow_ups={"3m": {"nrs": 0, "disability": 0}})
    AdverseEvent.objects.create(clinic=south, patient=south_patient(south),
                                event_type="nerve_injury", ctcae_grade=3, serious=True, onset=date(2026, 2, 1),
                                outcome="recovering")
    AdverseEvent.objects.create(clinic=north, patient=procedures[0].patient, procedure=procedures[0],
                                event_type="injection_site_flare", ctcae_grade=1, onset=date(2026, 1, 12),
                                outcome="recovered")
    AdverseEvent.objects.create(clinic=north, patient=procedures[1].patient, procedure=procedures[1],
                                event_type="injection_site_flare", ctcae_grade=2, onset=date(2026, 1, 13),
                                outcome="recovered")
    AdverseEvent.objects.create(clinic=north, patient=procedures[2].patient, procedure=procedures[2],
                                event_type="infection", ctcae_grade=3, serious=True, onset=date(2026, 1, 20),
                                outcome="recovered")
    return procedures


def south_patient(south):
    return Procedure.objects.filter(clinic=south).first().patient


def north_report(clinics, **filters):
    return analytics.report(OutcomeRow.objects.filter(clinic=clinics["north"]),
                            AdverseEvent.objects.filter(clinic=clinics["north"]), analytics.Filters(**filters),
                            today=TODAY)


# --- Statistics (pure) ------------------------------------------------------------------------------------


def test_t_quantiles_match_published_tables():
    for df, expected in [(1, 12.7062047362), (2, 4.3026527297), (9, 2.2621571627), (11, 2.2009851601),
                         (30, 2.0422724563), (120, 1.9799304050)]:
        assert statistics.t_quantile(0.975, df) == pytest.approx(expected, abs=1e-9)
    assert statistics.t_quantile(0.025, 9) == pytest.approx(-2.2621571627, abs=1e-9)


def test_mean_interval_from_count_sum_and_squares():
    ci = statistics.mean_ci(10, 50, 280)
    assert (ci.n, ci.mean) == (10, 5.0)
    assert ci.sd == pytest.approx(math.sqrt(30 / 9), abs=1e-12)
    half = T_975_DF9 * math.sqrt(30 / 9) / math.sqrt(10)
    assert (ci.low, ci.high) == (pytest.approx(5 - half, abs=1e-9), pytest.approx(5 + half, abs=1e-9))
    assert statistics.mean_ci(0, 0, 0) is None
    assert statistics.mean_ci(1, 4, 16).low is None
    same = statistics.mean_ci(12, 84, 588)  # twelve 7s
    assert (same.mean, same.low, same.high) == (7.0, 7.0, 7.0)


def test_wilson_interval():
    share = statistics.proportion(5, 10)
    assert share.rate == 0.5
    assert (share.low, share.high) == (pytest.approx(0.2365931, abs=1e-6), pytest.approx(0.7634069, abs=1e-6))
    assert statistics.proportion(0, 0) is None
    assert statistics.proportion(0, 12).low == 0.0


# --- The summary table ------------------------------------------------------------------------------------


def test_summary_rows_of_a_procedure(registry):
    first = registry[0]
    rows = {row.time_point: row for row in OutcomeRow.objects.filter(procedure=first)}
    assert set(rows) == {"baseline", "2w", "6w", "3m", "6m", "12m"}
    three = rows["3m"]
    assert (three.completed, three.nrs, three.odi, three.ndi, three.pgic) == (True, 2, 20.0, None, 2)
    assert (three.nrs_change, three.nrs_responder, three.odi_change, three.odi_responder) == (5, True, 30.0, True)
    assert (three.ndi_change, three.ndi_responder) == (None, None)
    assert (three.region, three.indication, three.target, three.consistent, three.placement_confirmed,
            three.structural, three.activity_level, three.smoking) == (
        "lumbar", "facet_oa", "facet_joint", True, True, False, "moderate", "never")
    assert three.due == follow_up_due(DAY, "3m") and three.procedure_date == DAY
    assert rows["baseline"].nrs_change is None and rows["baseline"].nrs == 7
    twelve = rows["12m"]
    assert (twelve.completed, twelve.nrs, twelve.nrs_responder) == (False, None, None)
    # The tenth patient's 3-month NRS went from 7 to 8: no responder; ODI from 50 to 60: change -10.
    tenth = OutcomeRow.objects.get(procedure=registry[9], time_point="3m")
    assert (tenth.nrs_change, tenth.nrs_responder, tenth.odi_change, tenth.odi_responder) == (-1, False, -10.0, False)


def test_strata_from_screening_and_procedure(clinics, staff, make_patient):
    north, nurse = clinics["north"], staff[("north", "nurse")]
    structural = build(north, make_patient(north), staff_user=nurse, consistency="0.85", placement="0.50",
                       diagnoses=("disc_herniation", "paraspinal_strain", "facet_oa"),
                       targets=("intradiscal", "facet_joint"))
    unsupported = build(north, make_patient(north), staff_user=nurse, consistency=None, placement=None,
                        diagnoses=("post_fusion",))
    unscreened = build(north, make_patient(north), staff_user=nurse, diagnoses=None)
    strata = lambda p: OutcomeRow.objects.filter(procedure=p).values_list(
        "indication", "target", "consistent", "placement_confirmed", "structural").distinct().get()
    assert strata(structural) == ("paraspinal_strain", "intradiscal", False, False, True)
    assert strata(unsupported) == ("other", "facet_joint", None, None, False)
    assert strata(unscreened) == ("unknown", "facet_joint", True, True, None)
    # A screening for a later procedure does not change this one's strata.
    Screening.objects.create(clinic=north, patient=structural.patient, status="decided", decision="eligible",
                             intake={"diagnoses": ["facet_oa"]}, decided_at=noon(DAY + timedelta(days=60)),
                             created_by=nurse)
    summary.refresh(structural)
    assert strata(structural)[0] == "paraspinal_strain"


def test_refresh_is_idempotent(registry):
    def snapshot():
        return list(OutcomeRow.objects.order_by("pk").values_list(
            "pk", "procedure_id", "time_point", "completed", "nrs", "odi", "nrs_change", "odi_responder",
            "indication", "physician_id", "activity_level", "function_first", "pain_first", "refreshed_at"))

    before = snapshot()
    assert len(before) == 12 * 6 + 11 * 6
    for procedure in registry[:3]:
        assert summary.refresh(procedure) == 6
        assert summary.refresh(procedure) == 6
    assert snapshot() == before
    result = summary.refresh_all()
    assert (result["procedures"], result["rows"], result["removed"]) == (23, 138, 0)
    assert snapshot() == before


def test_refresh_all_backfills_and_removes_rows_of_unsigned_procedures(registry, clinics):
    OutcomeRow.objects.filter(clinic=clinics["north"]).delete()
    Procedure.objects.filter(pk=registry[11].pk).update(status="completed")  # as if never signed
    out = io.StringIO()
    call_command("outcomes-refresh", "--clinic", "north", stdout=out)
    assert "11 signed procedures, 66 rows" in out.getvalue()
    assert OutcomeRow.objects.filter(clinic=clinics["north"]).count() == 66
    summary.refresh(registry[11])
    assert not OutcomeRow.objects.filter(procedure=registry[11]).exists()
    assert OutcomeRow.objects.filter(clinic=clinics["south"]).count() == 66


def test_refresh_command_refuses_an_unknown_clinic(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="no clinic with the slug 'nowhere'"):
        call_command("outcomes-refresh", "--clinic", "nowhere")
    with pytest.raises(CommandError, match="--batch-size must be at least 1"):
        call_command("outcomes-refresh", "--batch-size", "0")


def test_saving_a_response_updates_the_summary(clinics, staff, make_patient):
    """services.save refreshes the summary in its transaction; signing creates the rows."""
    north = clinics["north"]
    procedure = build(north, make_patient(north), staff_user=staff[("north", "nurse")],
                      baseline={"nrs": 8, "disability": 60}, follow_ups={})
    task = QuestionnaireTask.objects.get(procedure=procedure, time_point="2w")
    row = OutcomeRow.objects.get(procedure=procedure, time_point="2w")
    assert (row.completed, row.nrs) == (False, None)
    answers = {"nrs": {"nrs": 3}, "odi": disability_answers("odi", 30), "pgic": {"pgic": "2"},
               "safety": answers_for("safety", {})}
    with time_machine.travel(noon(task.due), tick=False):
        services.save(task, answers, submit=True, mode="phone", user=staff[("north", "nurse")])
    row.refresh_from_db()
    assert (row.completed, row.nrs, row.odi, row.nrs_change, row.nrs_responder, row.odi_change,
            row.odi_responder) == (True, 3, 30.0, 5, True, 30.0, True)


def test_a_partial_save_is_not_an_outcome(clinics, staff, make_patient):
    north = clinics["north"]
    procedure = build(north, make_patient(north), staff_user=staff[("north", "nurse")],
                      baseline={"nrs": 8, "disability": 60})
    task = QuestionnaireTask.objects.get(procedure=procedure, time_point="6w")
    with time_machine.travel(noon(task.due), tick=False):
        services.save(task, {"nrs": {"nrs": 1}}, submit=False, mode="phone")
    summary.refresh(procedure)
    row = OutcomeRow.objects.get(procedure=procedure, time_point="6w")
    assert (row.completed, row.nrs, row.nrs_responder) == (False, None, None)


def test_only_signed_procedures_have_rows(clinics, staff, make_patient):
    north = clinics["north"]
    planned = Procedure.objects.create(clinic=north, patient=make_patient(north), planned_date=DAY, region="lumbar",
                                       targets=["facet_joint"], levels=["L4-L5"], created_by=staff[("north", "nurse")])
    services.schedule_baseline(planned)
    assert summary.refresh(planned) == 0
    assert not OutcomeRow.objects.filter(procedure=planned).exists()


# --- The figures ------------------------------------------------------------------------------------------


def test_funnel_counts(registry, clinics):
    report = north_report(clinics)
    assert [(t.key, t.planned, t.closed, t.completed) for t in report.time_points] == [
        ("baseline", 12, 12, 12), ("2w", 12, 12, 11), ("6w", 12, 12, 11), ("3m", 12, 12, 10),
        ("6m", 12, 12, 8), ("12m", 12, 0, 0)]
    assert report.procedures == 12
    assert [t.completion_text for t in report.time_points] == ["100 %", "92 %", "92 %", "83 %", "67 %", "—"]


def test_means_and_confidence_interval_at_three_months(registry, clinics):
    three = next(t for t in north_report(clinics).time_points if t.key == "3m")
    nrs = three.means["nrs"]
    half = T_975_DF9 * math.sqrt((280 - 50 ** 2 / 10) / 9) / math.sqrt(10)
    assert (nrs.n, nrs.mean) == (10, 5.0)
    assert (nrs.low, nrs.high) == (pytest.approx(5 - half, abs=1e-9), pytest.approx(5 + half, abs=1e-9))
    odi = three.means["odi"]
    mean = sum(ODI_3M) / 10
    sd = math.sqrt(sum((v - mean) ** 2 for v in ODI_3M) / 9)
    assert (odi.n, odi.mean) == (10, pytest.approx(40.6, abs=1e-9))
    assert odi.high - odi.mean == pytest.approx(T_975_DF9 * sd / math.sqrt(10), abs=1e-9)
    assert three.means["ndi"] is None
    assert {c["name"]: (c["n"], c["mean"], c["interval"]) for c in three.mean_cells}["nrs"] == (10, "5.0", "3.7–6.3")
    baseline = north_report(clinics).time_points[0].means["nrs"]
    assert (baseline.n, baseline.mean, baseline.low, baseline.high) == (12, 7.0, 7.0, 7.0)


def test_responder_rates_overall_and_too_few(registry, clinics):
    by_key = {t.key: t for t in north_report(clinics).responder_time_points}
    assert (by_key["3m"].function.n, by_key["3m"].function.responders, by_key["3m"].function.patients) == (10, 5, 10)
    assert by_key["3m"].function.text == "50 % (5/10)"
    assert by_key["3m"].pain.text == "60 % (6/10)"
    assert by_key["3m"].function.interval == "24–76 %"
    assert by_key["6m"].function.text == "too few" and by_key["6m"].function.proportion is None
    assert by_key["12m"].function.text == "no data"


def test_responder_rates_by_stratum(registry, clinics, physicians):
    strata = {s.key: s for s in north_report(clinics).strata}
    assert [s.key for s in strata.values()] == ["indication", "target", "region", "physician", "consistent",
                                                "placement_confirmed", "structural", "activity_level", "smoking"]
    activity = {v.code: v for v in strata["activity_level"].values}
    assert list(activity) == ["moderate"]  # the two sedentary patients have no 3-month scores
    function, pain = activity["moderate"].cell("3m")
    assert (function.text, pain.text) == ("50 % (5/10)", "60 % (6/10)")
    doctors = {v.label: v for v in strata["physician"].values}
    assert set(doctors) == {"Alma Quist", "Bruno Vale"}
    nine, _ = doctors["Alma Quist"].cell("3m")
    assert (nine.n, nine.patients, nine.text, nine.percent) == (9, 9, "too few", None)
    assert doctors["Bruno Vale"].cell("3m")[0].text == "too few"
    assert strata["region"].values[0].label == "Lumbar"
    assert strata["indication"].values[0].label == "Facet joint osteoarthritis"


def test_too_few_counts_patients_not_procedures(clinics, staff, make_patient):
    """Ten 3-month answers from nine patients (one patient had two procedures) are still too few."""
    north, nurse = clinics["north"], staff[("north", "nurse")]
    patients = [make_patient(north) for _ in range(9)]
    answered = {"3m": {"nrs": 3, "disability": 30}}
    for patient in patients:
        build(north, patient, staff_user=nurse, baseline={"nrs": 7, "disability": 50}, follow_ups=answered)
    second = build(north, patients[0], staff_user=nurse, day=DAY + timedelta(days=40),
                   baseline={"nrs": 8, "disability": 60}, follow_ups=answered, targets=("intradiscal",))
    three = {t.key: t for t in north_report(clinics).responder_time_points}["3m"]
    assert (three.function.n, three.function.patients, three.function.text) == (10, 9, "too few")
    targets = {v.code: v.cell("3m")[0] for v in
               {s.key: s for s in north_report(clinics).strata}["target"].values}
    assert (targets["facet_joint"].patients, targets["intradiscal"].patients) == (9, 1)
    # A tenth patient: now a rate.
    build(north, make_patient(north), staff_user=nurse, baseline={"nrs": 7, "disability": 50}, follow_ups=answered)
    three = {t.key: t for t in north_report(clinics).responder_time_points}["3m"]
    assert (three.function.n, three.function.patients, three.function.text) == (11, 10, "100 % (11/11)")
    # The first procedure is no longer answered at 3 months: the second one now counts the patient.
    first = Procedure.objects.filter(patient=patients[0]).order_by("planned_date").first()
    QuestionnaireTask.objects.filter(procedure=first, time_point="3m").update(completed_at=None)
    summary.refresh(first)
    three = {t.key: t for t in north_report(clinics).responder_time_points}["3m"]
    assert (three.function.n, three.function.patients) == (10, 10)
    mask = OutcomeRow.objects.get(procedure=second, time_point="3m").function_first
    assert mask == (1 << summary.ALL_BIT) | ((1 << summary.ALL_BIT) - 1)


def test_first_masks():
    fields = len(summary.STRATUM_FIELDS)
    same = ("facet_oa", "facet_joint", "lumbar", 1, True, True, False, "light", "never")
    other_target = ("facet_oa", "intradiscal", "lumbar", 1, True, True, False, "light", "never")
    rows = [  # id, patient, time point, procedure date, procedure id, function known, pain known, strata
        (1, 7, "3m", date(2026, 1, 1), 10, True, True, *same),
        (2, 7, "3m", date(2026, 3, 1), 11, True, False, *other_target),
        (3, 7, "6m", date(2026, 3, 1), 11, False, True, *other_target),
        (4, 8, "3m", date(2026, 2, 1), 12, True, True, *same),
    ]
    masks = summary.first_masks(rows)
    everything = (1 << (fields + 1)) - 1
    assert masks[1] == (everything, everything)
    assert masks[2] == (1 << summary.STRATUM_FIELDS.index("target"), 0)  # only new as a target
    assert masks[3] == (0, everything)  # the first with a pain status at 6 months
    assert masks[4] == (everything, everything)  # another patient


def test_adverse_events_by_type_and_grade(registry, clinics):
    report = north_report(clinics)
    assert [(e.event_type, e.by_grade, e.total, e.serious) for e in report.events] == [
        ("injection_site_flare", [1, 1, 0, 0, 0], 2, 0), ("infection", [0, 0, 1, 0, 0], 1, 1)]
    assert report.event_totals == {"by_grade": [1, 1, 1, 0, 0], "total": 3, "serious": 1}


def test_date_range_filter(registry, clinics, staff, make_patient):
    north = clinics["north"]
    build(north, make_patient(north), staff_user=staff[("north", "nurse")], day=date(2025, 6, 1),
          baseline={"nrs": 5, "disability": 40})
    assert north_report(clinics).procedures == 13
    report = north_report(clinics, date_from=date(2026, 1, 1), date_to=date(2026, 1, 31))
    assert report.procedures == 12
    assert sum(e.total for e in report.events) == 3
    assert north_report(clinics, date_to=date(2025, 12, 31)).procedures == 1
    assert north_report(clinics, date_from=date(2026, 2, 1)).events == []


def test_plots_are_deterministic_svg_with_text(registry, clinics):
    report = north_report(clinics)
    for draw in (plots.trajectories_svg, plots.funnel_svg, plots.responders_svg):
        first, second = draw(report), draw(report)
        assert first == second
        assert first.lstrip().startswith("<?xml") and "<svg" in first
        assert "<text" in first  # text kept as text: selectable
        assert "<dc:date>" not in first
    assert "too few" in plots.responders_svg(report)
    assert "3 mo" in plots.trajectories_svg(report) and "Baseline" in plots.trajectories_svg(report)
    empty = analytics.report(OutcomeRow.objects.none(), AdverseEvent.objects.none(), today=TODAY)
    assert "<svg" in plots.trajectories_svg(empty) and "<svg" in plots.funnel_svg(empty)


# --- Pages ------------------------------------------------------------------------------------------------


@pytest.fixture
def page_at_today():
    with time_machine.travel(noon(TODAY), tick=False):
        yield


def test_page_shows_the_figures_and_is_audited(registry, clinics, staff, page_at_today):
    client = signed_in(staff[("north", "physician")], clinics["north"])
    response = client.get("/outcomes/")
    assert response.status_code == 200
    body = response.content.decode()
    for heading in ("Follow-up completion", "Mean scores over time", "Responders at 3, 6 and 12 months",
                    "Responders by stratum", "Adverse events by type and grade"):
        assert heading in body
    assert body.count('src="data:image/svg+xml;base64,') == 3
    assert "50 % (5/10)" in body and "too few" in body
    assert "Registry1" not in body and "NR0001" not in body  # aggregates only
    event = AuditEvent.objects.filter(action="view", object_type="outcomes.analytics").get()
    assert event.clinic_id == clinics["north"].pk and event.detail["procedures"] == 12


@pytest.mark.parametrize("url", ["/outcomes/", "/outcomes/report.pdf", "/outcomes/export.csv"])
@pytest.mark.parametrize("query,error", [({"date_from": "2026-02-01", "date_to": "2026-01-01"},
                                          "The end of the range is before its start."),
                                         ({"date_from": "not-a-date"}, "Enter a valid date.")])
def test_a_wrong_date_range_shows_its_error_and_never_widens_to_everything(registry, clinics, staff, page_at_today,
                                                                          url, query, error):
    client = signed_in(staff[("north", "physician")], clinics["north"])
    response = client.get(url, query)
    assert response.status_code == 400 and response["Content-Type"].startswith("text/html")
    body = response.content.decode()
    assert error in body and "Correct the dates above" in body
    assert response.context["report"] is None and "/outcomes/export.csv" not in body
    assert not AuditEvent.objects.filter(object_type__startswith="outcomes.").exists()  # nothing shown or exported


def test_a_one_day_range_links_its_exports(registry, clinics, staff, page_at_today):
    client = signed_in(staff[("north", "physician")], clinics["north"])
    filtered = client.get("/outcomes/", {"date_from": "2026-01-10", "date_to": "2026-01-10"})
    assert filtered.context["report"].procedures == 12 and "procedures from 2026-01-10 to 2026-01-10" in \
        filtered.content.decode()
    assert 'href="/outcomes/report.pdf?date_from=2026-01-10&amp;date_to=2026-01-10"' in filtered.content.decode()


def test_page_query_count_does_not_grow_with_data(registry, clinics, staff, make_patient, page_at_today, settings):
    # The plots' cache in this process's memory: with CACHE_URL=db:// a plot drawn afresh after the data changed
    # costs a get and a set (and their savepoints) there, a cached one a get; neither grows with the data.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                                   "LOCATION": "query-count"}}
    client = signed_in(staff[("north", "physician")], clinics["north"])
    client.get("/outcomes/")  # warm caches (content types, sessions)

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/outcomes/").status_code == 200
        return len(queries)

    small = count()
    north, nurse, physician = clinics["north"], staff[("north", "nurse")], staff[("north", "physician")]
    for i in range(108):
        build(north, make_patient(north), staff_user=nurse, physician=physician, day=DAY + timedelta(days=i % 30),
              region=("lumbar", "cervical", "thoracic")[i % 3], targets=(("facet_joint",), ("intradiscal",))[i % 2],
              baseline={"nrs": 6 + i % 4, "disability": 40 + 2 * (i % 10), "activity": ("light", "moderate")[i % 2],
                        "smoking": ("never", "former", "current")[i % 3]},
              follow_ups={"3m": {"nrs": i % 8, "disability": 2 * (i % 20)}, "6m": {"nrs": 3, "disability": 20}},
              consistency=("0.95", "0.70", None)[i % 3], placement=("1.00", "0.50")[i % 2],
              diagnoses=(("facet_oa",), ("disc_degeneration_severe", "paraspinal_strain"))[i % 2])
    assert OutcomeRow.objects.filter(clinic=north, time_point="baseline").count() == 120
    large = count()
    assert large == small
    assert small <= 25


def test_another_clinics_data_never_appears(registry, clinics, staff, page_at_today):
    client = signed_in(staff[("south", "physician")], clinics["south"])
    south = client.get("/outcomes/")
    assert south.context["report"].procedures == 11
    assert "Alma Quist" not in south.content.decode()
    north = signed_in(staff[("north", "physician")], clinics["north"]).get("/outcomes/")
    report = north.context["report"]
    assert report.procedures == 12
    assert {s.key: [v.code for v in s.values] for s in report.strata}["region"] == ["lumbar"]
    assert all(t.means["ndi"] is None for t in report.time_points)  # south's cervical NDI scores are not here
    assert "Nerve injury" not in north.content.decode()
    csv_rows = list(csv.reader(io.StringIO(b"".join(
        signed_in(staff[("north", "physician")], clinics["north"]).get("/outcomes/export.csv").streaming_content)
        .decode())))
    assert len(csv_rows) == 1 + 12 * 6
    assert {row[16] for row in csv_rows[1:]} == {"lumbar"}


@pytest.mark.parametrize("role,see,export", [("auditor", 200, 403), ("clinic_admin", 200, 200), ("nurse", 200, 403),
                                              ("physician", 200, 200), ("front_desk", 403, 403),
                                              ("prep_tech", 403, 403)])
def test_who_may_see_and_who_may_export_outcomes(registry, clinics, staff, role, see, export):
    client = signed_in(staff[("north", role)], clinics["north"])
    for url in ("/outcomes/", "/outcomes/report.pdf", "/outcomes/data-dictionary/"):
        assert client.get(url).status_code == see, url
    assert client.get("/outcomes/export.csv").status_code == export
    if see == 200:
        assert ("/outcomes/export.csv" in client.get("/outcomes/").content.decode()) == (export == 200)


def test_signed_out_is_sent_to_sign_in(db):
    from django.test import Client

    response = Client().get("/outcomes/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_csv_export_is_de_identified_and_audited(registry, clinics, staff, page_at_today):
    client = signed_in(staff[("north", "clinic_admin")], clinics["north"])
    response = client.get("/outcomes/export.csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith('attachment; filename="outcomes-north-')
    text = b"".join(response.streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == [c.name for c in COLUMNS] == [
        "procedure_code", "patient_code", "procedure_year", "time_point", "days_due_after_procedure", "completed",
        "nrs", "odi", "ndi", "pgic", "nrs_change", "nrs_responder", "odi_change", "odi_responder", "ndi_change",
        "ndi_responder", "region", "indication", "target", "physician_code", "protocol_consistent",
        "placement_confirmed", "structural", "activity_level", "smoking"]
    assert len(rows) == 72
    first = registry[0]
    row = next(r for r in rows if r["time_point"] == "3m" and r["nrs"] == "2")
    assert {k: v for k, v in row.items() if not k.endswith("_code")} == {
        "procedure_year": "2026", "time_point": "3m",
        "days_due_after_procedure": str((follow_up_due(DAY, "3m") - DAY).days),
        "completed": "1", "nrs": "2", "odi": "20", "ndi": "", "pgic": "2", "nrs_change": "5", "nrs_responder": "1",
        "odi_change": "30", "odi_responder": "1", "ndi_change": "", "ndi_responder": "", "region": "lumbar",
        "indication": "facet_oa", "target": "facet_joint", "protocol_consistent": "1", "placement_confirmed": "1",
        "structural": "0", "activity_level": "moderate", "smoking": "never"}
    assert len(row["procedure_code"]) == 16 and row["procedure_code"] != str(first.pk)
    assert len({r["procedure_code"] for r in rows}) == 12 and len({r["patient_code"] for r in rows}) == 12
    for procedure in registry:
        patient = procedure.patient
        for identifier in (patient.family_name, patient.given_name, patient.mrn, patient.date_of_birth.isoformat(),
                           f"{patient.date_of_birth:%m/%d/%Y}"):
            assert identifier not in text
    assert "2026-01-10" not in text
    event = AuditEvent.objects.filter(action="export", object_type="outcomes.export").get()
    assert event.detail["rows"] == 72 and event.detail["format"] == "csv"
    assert event.user_id == staff[("north", "clinic_admin")].pk and event.clinic_id == clinics["north"].pk
    # Same codes in a second export: rows of one procedure can be followed across exports.
    again = list(csv.DictReader(io.StringIO(b"".join(client.get("/outcomes/export.csv").streaming_content).decode())))
    assert [r["procedure_code"] for r in again] == [r["procedure_code"] for r in rows]


def test_data_dictionary_describes_every_column(registry, clinics, staff):
    body = signed_in(staff[("north", "nurse")], clinics["north"]).get("/outcomes/data-dictionary/").content.decode()
    for column in COLUMNS:
        assert f"<code>{column.name}</code>" in body


def test_pdf_report(registry, clinics, staff, page_at_today, tmp_path):
    client = signed_in(staff[("north", "clinic_admin")], clinics["north"])
    response = client.get("/outcomes/report.pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert AuditEvent.objects.filter(action="export", object_type="outcomes.report").count() == 1
    assert shutil.which("pdftotext"), "pdftotext is missing: apt-get install poppler-utils"
    folder = Path(os.environ.get("SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    pdf = folder / "outcomes-report.pdf"
    pdf.write_bytes(response.content)
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], check=True,
                          capture_output=True).stdout.decode()
    for heading in ("Outcomes report", "Follow-up completion", "Mean scores over time",
                    "Responders at 3, 6 and 12 months", "Responders by stratum", "Adverse events by type and grade"):
        assert heading in text
    assert "50 % (5/10)" in text and "too few" in text and "North Spine" in text
    assert "Registry1" not in text and "NR0001" not in text
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile", str(pdf),
                    str(folder / "outcomes-report-page1")], check=True)
    assert (folder / "outcomes-report-page1.png").stat().st_size > 10_000  # plots drawn, not an empty page


def test_pdf_with_no_data_renders(clinics, staff):
    response = signed_in(staff[("north", "physician")], clinics["north"]).get("/outcomes/report.pdf")
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
