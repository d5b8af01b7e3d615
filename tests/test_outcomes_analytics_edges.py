"""Outcome figures at their edges: date ranges and repeat patients, which screening gives the strata, open
questionnaires in the funnel, adverse events of a range, rounding, and small groups that must stay hidden."""

import io
from datetime import date, timedelta

import pytest
from django.core.management import call_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accretion.adverse_events.models import AdverseEvent
from accretion.clinical.aftercare import follow_up_due
from accretion.clinical.statistics import rounded
from accretion.outcomes import analytics, summary
from accretion.outcomes.analytics import Rate, suppress_complements
from accretion.outcomes.models import OutcomeRow
from accretion.procedures.models import Procedure, TimeOut
from accretion.screenings.models import Screening
from tests.test_outcomes_analytics import DAY, TODAY, build, noon, north_report, physicians, registry  # noqa: F401 - fixtures
from tests.test_practice import centrifuge, imaging, lot

BASE = {"nrs": 7, "disability": 50}
BETTER = {"3m": {"nrs": 3, "disability": 30}}


@pytest.fixture
def kit_setup(clinics):
    north = clinics["north"]
    return {"kit_lot": lot(north), "centrifuge": centrifuge(north), "imaging_unit": imaging(north)}


def three_months(report) -> analytics.TimePoint:
    return {t.key: t for t in report.responder_time_points}["3m"]


# --- Counting patients under a date range ---------------------------------------------------------------


def test_a_start_date_counts_the_patients_whose_earlier_procedure_lies_before_it(clinics, staff, make_patient):
    """Ten patients treated in 2025 and again in 2026: from 2026 on, ten procedures of ten patients."""
    north, nurse = clinics["north"], staff[("north", "nurse")]
    for _ in range(10):
        patient = make_patient(north)
        build(north, patient, staff_user=nurse, day=date(2025, 3, 1), baseline=BASE, follow_ups=BETTER)
        build(north, patient, staff_user=nurse, day=DAY, baseline=BASE, follow_ups=BETTER)
    function = three_months(north_report(clinics, date_from=date(2026, 1, 1))).function
    assert (function.n, function.patients, function.text) == (10, 10, "100 % (10/10)")
    everything = three_months(north_report(clinics)).function
    assert (everything.n, everything.patients) == (20, 10)  # per procedure; the small-group rule counts patients
    indication = {s.key: s for s in north_report(clinics, date_from=date(2026, 1, 1)).strata}["indication"]
    assert [(v.code, v.cell("3m")[0].patients) for v in indication.values] == [("facet_oa", 10)]


@pytest.mark.django_db
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 400), st.booleans(), st.sampled_from(["never", "current"])),
                min_size=1, max_size=14),
       st.integers(0, 420))
def test_both_ways_of_counting_patients_agree(clinics, staff, make_patient, procedures, cut):
    """The first-row masks (fast) and COUNT(DISTINCT) give the same figures wherever the masks apply."""
    north, nurse = clinics["north"], staff[("north", "nurse")]
    OutcomeRow.objects.all().delete()
    patients = [make_patient(north) for _ in range(4)]
    for who, offset, improved, smoking in procedures:
        build(north, patients[who], staff_user=nurse, day=date(2025, 1, 1) + timedelta(days=offset),
              baseline={**BASE, "smoking": smoking}, follow_ups=BETTER if improved else {"3m": BASE})
    rows = OutcomeRow.objects.filter(clinic=north)
    for chosen in (rows, analytics.Filters(date_to=date(2025, 1, 1) + timedelta(days=cut)).rows(rows)):
        assert analytics.by_time_point(chosen, DAY, masks=True) == analytics.by_time_point(chosen, DAY, masks=False)
        assert analytics.by_stratum(chosen, masks=True) == analytics.by_stratum(chosen, masks=False)


# --- Which screening gives the strata ---------------------------------------------------------------------


def test_strata_come_from_the_screening_the_time_out_read(clinics, staff, make_patient, kit_setup):
    """A screening decided after the time-out (for a next procedure) does not give this one's strata."""
    north, nurse = clinics["north"], staff[("north", "nurse")]
    patient = make_patient(north)
    procedure = build(north, patient, staff_user=nurse, baseline=BASE, refresh=False)  # screened: facet_oa
    cleared = Screening.objects.get(patient=patient)
    TimeOut.objects.create(procedure=procedure, screening=cleared, performed_by=nurse, **kit_setup)
    Screening.objects.create(clinic=north, patient=patient, status="decided", decision="eligible",
                             intake={"diagnoses": ["disc_herniation"]}, decided_at=noon(DAY - timedelta(days=1)),
                             created_by=nurse)  # decided before the time-out, but not the one it read
    Procedure.objects.filter(pk=procedure.pk).update(signed_at=noon(DAY + timedelta(days=5)))
    summary.refresh(procedure)
    row = OutcomeRow.objects.get(procedure=procedure, time_point="baseline")
    assert (row.indication, row.structural) == ("facet_oa", False)


def test_without_a_time_out_link_the_screening_decided_before_the_procedure_started(clinics, staff, make_patient):
    north, nurse = clinics["north"], staff[("north", "nurse")]
    patient = make_patient(north)
    procedure = build(north, patient, staff_user=nurse, baseline=BASE, refresh=False)  # facet_oa on day -20
    Screening.objects.create(clinic=north, patient=patient, status="decided", decision="eligible",
                             intake={"diagnoses": ["disc_herniation"]}, decided_at=noon(DAY) + timedelta(hours=2),
                             created_by=nurse)  # two hours after the start, before signing
    summary.refresh(procedure)
    assert OutcomeRow.objects.get(procedure=procedure, time_point="baseline").indication == "facet_oa"


def test_a_later_screening_never_fills_in_the_strata_of_an_unscreened_procedure(clinics, staff, make_patient):
    north, nurse = clinics["north"], staff[("north", "nurse")]
    patient = make_patient(north)
    procedure = build(north, patient, staff_user=nurse, baseline=BASE, diagnoses=None)
    Screening.objects.create(clinic=north, patient=patient, status="decided", decision="eligible",
                             intake={"diagnoses": ["spinal_stenosis"]}, decided_at=noon(DAY + timedelta(days=120)),
                             created_by=nurse)
    summary.refresh(procedure)  # as the next answer saved would
    row = OutcomeRow.objects.get(procedure=procedure, time_point="baseline")
    assert (row.indication, row.structural) == ("unknown", None)


# --- The funnel, adverse events of a range ------------------------------------------------------------------


@pytest.mark.parametrize("days_after_due,closed,text", [(0, 0, "—"), (7, 0, "—"), (8, 10, "0 %")])
def test_an_open_questionnaire_is_not_yet_missed(clinics, staff, make_patient, days_after_due, closed, text):
    """The 3-month window closes 7 days after its due day (the test tasks' window): missed only after that."""
    north, nurse = clinics["north"], staff[("north", "nurse")]
    for _ in range(10):
        build(north, make_patient(north), staff_user=nurse, baseline=BASE)
    today = follow_up_due(DAY, "3m") + timedelta(days=days_after_due)
    report = analytics.report(OutcomeRow.objects.filter(clinic=north), AdverseEvent.objects.none(), today=today)
    three = {t.key: t for t in report.time_points}["3m"]
    assert (three.planned, three.closed, three.completion_text) == (10, closed, text)


def test_adverse_events_of_a_range_are_those_of_its_procedures(clinics, staff, make_patient):
    north, nurse = clinics["north"], staff[("north", "nurse")]
    january = build(north, make_patient(north), staff_user=nurse, day=date(2026, 1, 31), baseline=BASE)
    february = build(north, make_patient(north), staff_user=nurse, day=date(2026, 2, 3), baseline=BASE)
    unsigned = Procedure.objects.create(clinic=north, patient=make_patient(north), planned_date=date(2026, 1, 20),
                                        region="lumbar", targets=["facet_joint"], levels=["L4-L5"],
                                        status="in_progress", created_by=nurse)
    for procedure, onset, event_type in [(january, date(2026, 2, 2), "infection"),  # in: its procedure is
                                         (february, date(2026, 2, 4), "vasovagal"),  # out
                                         (unsigned, date(2026, 1, 20), "vasovagal"),  # in: by onset
                                         (None, date(2026, 2, 5), "nerve_injury")]:  # out: by onset
        AdverseEvent.objects.create(clinic=north, patient=procedure.patient if procedure else january.patient,
                                    procedure=procedure, event_type=event_type, ctcae_grade=2, onset=onset,
                                    outcome="recovered")
    report = north_report(clinics, date_from=date(2026, 1, 1), date_to=date(2026, 1, 31))
    assert report.procedures == 1
    assert sorted((row.event_type, row.total) for row in report.events) == [("infection", 1), ("vasovagal", 1)]
    assert north_report(clinics).event_totals["total"] == 4


# --- Rounding and small groups ----------------------------------------------------------------------------


def test_rates_round_half_up_like_the_scores():
    assert Rate(40, 25, 40).text == "63 % (25/40)"
    assert Rate(8, 1, 8).too_few and Rate(16, 2, 16).text == "13 % (2/16)"  # 12.5 %
    assert (rounded(62.5), rounded(2.25, 1), rounded(-0.04, 1), rounded(99.95, 1)) == ("63", "2.3", "0.0", "100.0")


def test_one_small_group_hides_the_next_smallest_so_it_cannot_be_subtracted():
    small, middle, large = Rate(2, 0, 2), Rate(12, 10, 12), Rate(30, 20, 30)
    assert [r.text for r in suppress_complements([large, small, middle])] == ["67 % (20/30)", "too few", "hidden"]
    two_small = [large, small, Rate(3, 1, 3)]
    assert suppress_complements(two_small) == two_small  # the two small ones protect each other
    assert suppress_complements([small]) == [small]  # nothing to subtract from
    assert suppress_complements([large, middle, Rate()]) == [large, middle, Rate()]  # a group without data


def test_a_small_smokers_group_cannot_be_worked_out_from_the_page(clinics, staff, make_patient):
    north, nurse = clinics["north"], staff[("north", "nurse")]
    for i in range(12):
        smoker = i >= 10
        build(north, make_patient(north), staff_user=nurse, baseline={**BASE, "smoking": "current" if smoker else "never"},
              follow_ups={"3m": BASE} if smoker else BETTER)
    report = north_report(clinics)
    assert three_months(report).function.text == "83 % (10/12)"
    smoking = {v.code: v.cell("3m")[0] for v in {s.key: s for s in report.strata}["smoking"].values}
    assert (smoking["current"].text, smoking["never"].text) == ("too few", "hidden")
    assert smoking["never"].proportion is None and smoking["never"].suppressed


# --- A database from before the summary ---------------------------------------------------------------------


def test_migrate_builds_the_rows_of_signed_procedures_that_have_none(clinics, staff, make_patient, capsys):
    north, nurse = clinics["north"], staff[("north", "nurse")]
    procedures = [build(north, make_patient(north), staff_user=nurse, baseline=BASE, follow_ups=BETTER)
                  for _ in range(3)]
    before = sorted(OutcomeRow.objects.values_list("procedure_id", "time_point", "odi_responder"))
    OutcomeRow.objects.filter(procedure__in=procedures[:2]).delete()
    call_command("migrate", verbosity=1, stdout=io.StringIO())
    assert "built the rows of 2 signed procedures that had none" in capsys.readouterr().out
    assert sorted(OutcomeRow.objects.values_list("procedure_id", "time_point", "odi_responder")) == before
    call_command("migrate", verbosity=1, stdout=io.StringIO())
    assert "had none" not in capsys.readouterr().out  # nothing left to build


def test_cervical_procedures_count_the_neck_disability_index_as_function(registry, clinics):  # noqa: F811
    south = clinics["south"]
    report = analytics.report(OutcomeRow.objects.filter(clinic=south), AdverseEvent.objects.filter(clinic=south),
                              today=TODAY)
    three = {t.key: t for t in report.time_points}["3m"]
    assert (three.means["ndi"].n, three.means["ndi"].mean, three.means["odi"]) == (11, 0.0, None)
    assert (three.function.text, three.pain.text) == ("100 % (11/11)", "100 % (11/11)")
    baseline = {t.key: t for t in report.time_points}["baseline"]
    assert baseline.means["ndi"].mean == 80.0
    region = {s.key: s for s in report.strata}["region"]
    assert [(v.code, v.cell("3m")[0].text) for v in region.values] == [("cervical", "100 % (11/11)")]
