"""The clinic's responder thresholds: stored in the clinic protocol with their sources, used by the summary, and
applied to earlier follow-ups in the database when they change (checked against the pure rule)."""

import threading
from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accretion.audit.models import AuditEvent
from accretion.clinical import instruments
from accretion.clinical.instruments import DEFAULT_THRESHOLDS, InstrumentError, ResponderThresholds
from accretion.outcomes import summary
from accretion.outcomes.models import OutcomeRow
from accretion.procedures.models import Procedure
from tests.conftest import signed_in
from tests.test_outcomes_analytics import DAY, build

URL = "/clinic/responder-thresholds/"


# --- The pure rule's round trip and words ---------------------------------------------------------------------

sources = st.text(st.characters(exclude_characters="\x00", exclude_categories=("Cs",)), max_size=20)  # as forms allow
tenths = st.integers(min_value=1, max_value=1000).map(lambda n: Decimal(n) / 10)
thresholds = st.builds(
    ResponderThresholds,
    odi_points=tenths, odi_percent=st.none() | tenths, odi_source=sources,
    ndi_points=tenths, ndi_percent=st.none() | tenths, ndi_source=sources,
    nrs_points=tenths.filter(lambda d: d <= 10), nrs_percent=st.none() | tenths, nrs_source=sources,
)


@given(thresholds)
def test_thresholds_survive_their_stored_form(value):
    assert ResponderThresholds.from_dict(value.to_dict()) == value


def test_thresholds_in_words():
    assert DEFAULT_THRESHOLDS.describe("odi") == "at least 10 points or 30 %"
    assert DEFAULT_THRESHOLDS.describe("ndi") == "at least 10 points"
    assert ResponderThresholds(nrs_points=Decimal("2.5"), nrs_percent=None).describe("nrs") == "at least 2.5 points"
    assert ResponderThresholds.from_dict({}) == DEFAULT_THRESHOLDS


@pytest.mark.parametrize("stored, field", [
    ([], "thresholds"), ({"pain": {}}, "pain"), ({"odi": 10}, "odi"), ({"odi": {"points": 10, "minimum": 1}},
                                                                      "odi.minimum"),
    ({"odi": {"points": "ten"}}, "odi_points"), ({"nrs": {"percent": 0}}, "nrs_percent"),
    ({"ndi": {"points": -1}}, "ndi_points"), ({"odi": {"source": 3}}, "odi_source"),
])
def test_a_damaged_stored_protocol_names_its_field(stored, field):
    with pytest.raises(InstrumentError) as error:
        ResponderThresholds.from_dict(stored)
    assert error.value.field == field


# --- Recomputing in the database agrees with the pure rule -----------------------------------------------------

@pytest.fixture
def one_procedure(clinics, staff, make_patient):
    north = clinics["north"]
    return build(north, make_patient(north), staff_user=staff[("north", "nurse")], refresh=False)


def _row(procedure, index, name, baseline, followup, flag):
    change = baseline - followup
    values = {"nrs": None, "odi": None, "ndi": None}
    values[name] = int(followup) if name == "nrs" else float(followup)
    return OutcomeRow(clinic_id=procedure.clinic_id, procedure=procedure, patient_id=procedure.patient_id,
                      procedure_date=DAY, time_point=f"t{index}", due=DAY, closes_on=DAY, completed=True,
                      region="lumbar", indication="facet_oa", target="facet_joint",
                      **values, **{f"{name}_change": int(change) if name == "nrs" else float(change),
                                   f"{name}_responder": flag})


scores = st.integers(min_value=0, max_value=1000).map(lambda n: Decimal(n) / 10)
pairs = st.one_of(
    st.tuples(st.sampled_from(["odi", "ndi"]), scores, scores),
    st.tuples(st.just("nrs"), st.integers(0, 10), st.integers(0, 10)),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rule=thresholds, cases=st.lists(pairs, min_size=1, max_size=25))
def test_database_recompute_matches_the_pure_rule(one_procedure, rule, cases):
    clinic = one_procedure.clinic
    with transaction.atomic():
        OutcomeRow.objects.filter(procedure=one_procedure).delete()
        expected = {}
        rows = []
        for index, (name, baseline, followup) in enumerate(cases):
            answer = instruments.change(name, baseline, followup, rule).responder
            expected[f"t{index}"] = (name, answer)
            rows.append(_row(one_procedure, index, name, baseline, followup, not answer))  # every flag wrong
        OutcomeRow.objects.bulk_create(rows)
        clinic.outcome_protocol = rule.to_dict()
        clinic.save()
        assert summary.recompute_responders(clinic) == len(cases)
        for row in OutcomeRow.objects.filter(procedure=one_procedure):
            name, answer = expected[row.time_point]
            assert getattr(row, f"{name}_responder") is answer, (name, row.time_point, rule.to_dict())
        assert summary.recompute_responders(clinic) == 0  # nothing left to change


@pytest.mark.parametrize("baseline, followup, responder", [
    ("50", "35", True),     # exactly 30 %
    ("50", "35.1", False),  # 29.8 %
    ("33.3", "23.3", True),  # 30.03 %
    ("33.3", "23.4", False),  # 29.7 %
    ("0", "0", False),       # no baseline to take a share of
])
def test_percent_boundaries_in_the_database(one_procedure, baseline, followup, responder):
    clinic = one_procedure.clinic
    clinic.outcome_protocol = ResponderThresholds(odi_points=Decimal(50)).to_dict()  # only the percent rule can pass
    clinic.save()
    OutcomeRow.objects.filter(procedure=one_procedure).delete()
    _row(one_procedure, 0, "odi", Decimal(baseline), Decimal(followup), not responder).save()
    summary.recompute_responders(clinic)
    assert OutcomeRow.objects.get(procedure=one_procedure, time_point="t0").odi_responder is responder


def test_rows_without_a_change_keep_no_status(one_procedure):
    summary.refresh(one_procedure)
    clinic = one_procedure.clinic
    clinic.outcome_protocol = ResponderThresholds(odi_points=Decimal("0.1")).to_dict()
    clinic.save()
    summary.recompute_responders(clinic)
    unknown = OutcomeRow.objects.filter(procedure=one_procedure, odi_change__isnull=True)
    assert unknown.exists() and not unknown.exclude(odi_responder=None).exists()


# --- The summary uses the clinic's thresholds --------------------------------------------------------------------

def test_refresh_uses_the_clinics_thresholds(clinics, staff, make_patient):
    north, south = clinics["north"], clinics["south"]
    north.outcome_protocol = ResponderThresholds(odi_points=Decimal(15), odi_percent=None).to_dict()
    north.save()
    answers = {"baseline": {"nrs": 7, "disability": 50}, "follow_ups": {"3m": {"nrs": 5, "disability": 38}}}
    strict = build(north, make_patient(north), staff_user=staff[("north", "nurse")], **answers)
    default = build(south, make_patient(south), staff_user=staff[("south", "nurse")], **answers)
    # 12 points of 50 (24 %): a responder by the default 10 points, not by north's 15 points without a percent rule
    assert OutcomeRow.objects.get(procedure=strict, time_point="3m").odi_responder is False
    assert OutcomeRow.objects.get(procedure=default, time_point="3m").odi_responder is True


# --- The page -----------------------------------------------------------------------------------------------------

@pytest.fixture
def admin(clinics, staff):
    return signed_in(staff[("north", "clinic_admin")], clinics["north"])


def _form(**change):
    data = {"odi_points": "10", "odi_percent": "30", "odi_source": "Ostelo 2008",
            "ndi_points": "10", "ndi_percent": "", "ndi_source": "Vernon 1991",
            "nrs_points": "2", "nrs_percent": "30", "nrs_source": "Ostelo 2008"}
    data.update(change)
    return data


def test_admin_changes_thresholds_and_earlier_follow_ups_follow(admin, clinics, staff, make_patient):
    north, south = clinics["north"], clinics["south"]
    answers = {"baseline": {"nrs": 7, "disability": 50}, "follow_ups": {"3m": {"nrs": 5, "disability": 38}}}
    mine = build(north, make_patient(north), staff_user=staff[("north", "nurse")], **answers)
    theirs = build(south, make_patient(south), staff_user=staff[("south", "nurse")], **answers)
    page = admin.get(URL)
    assert page.status_code == 200 and "The clinic uses the published defaults" in page.content.decode()

    response = admin.post(URL, _form(odi_points="15", odi_percent="", odi_source="Medical director, 2026-11"),
                          follow=True)
    html = response.content.decode()
    assert response.status_code == 200 and "Responder thresholds saved; 1 responder status" in html
    north.refresh_from_db()
    assert north.get_responder_thresholds().describe("odi") == "at least 15 points"
    assert north.get_responder_thresholds().odi_source == "Medical director, 2026-11"
    assert OutcomeRow.objects.get(procedure=mine, time_point="3m").odi_responder is False
    assert OutcomeRow.objects.get(procedure=theirs, time_point="3m").odi_responder is True  # another clinic
    audit = AuditEvent.objects.get(object_type="clinics.outcome_protocol")
    assert audit.detail["before"]["odi"]["points"] == 10 and audit.detail["after"]["odi"]["points"] == 15
    assert audit.detail["responder_flags_changed"] == 1

    outcomes = admin.get("/outcomes/").content.decode()
    assert "ODI (at least 15 points)" in outcomes and "the clinic's own thresholds" in outcomes
    dictionary = admin.get("/outcomes/data-dictionary/").content.decode()
    assert "ODI improved by at least 15 points" in dictionary

    restored = admin.post(URL, {"restore": "1"}, follow=True)
    assert "1 responder status of earlier follow-ups recomputed" in restored.content.decode()
    north.refresh_from_db()
    assert north.outcome_protocol == {} and north.get_responder_thresholds() == DEFAULT_THRESHOLDS
    assert OutcomeRow.objects.get(procedure=mine, time_point="3m").odi_responder is True


@pytest.mark.parametrize("change, field, message", [
    ({"odi_points": "0"}, "odi_points", "greater than or equal to 0.1"),
    ({"nrs_points": "11"}, "nrs_points", "less than or equal to 10"),
    ({"ndi_percent": "150"}, "ndi_percent", "less than or equal to 100"),
    ({"odi_percent": "ten"}, "odi_percent", "Enter a number."),
    ({"odi_points": "10.25"}, "odi_points", "no more than 1 decimal place"),
    ({"nrs_source": ""}, "nrs_source", "This field is required."),
    ({"odi_source": "Ostelo\x002008"}, "odi_source", "Null characters are not allowed."),
])
def test_wrong_thresholds_are_refused_at_their_field(admin, clinics, change, field, message):
    response = admin.post(URL, _form(**change))
    assert response.status_code == 400
    assert message in " ".join(response.context["form"].errors[field])
    clinics["north"].refresh_from_db()
    assert clinics["north"].outcome_protocol == {}
    assert not AuditEvent.objects.filter(object_type="clinics.outcome_protocol").exists()


@pytest.mark.parametrize("role", ["physician", "nurse", "auditor", "front_desk"])
def test_only_the_clinic_admin_sets_thresholds(clinics, staff, role):
    client = signed_in(staff[("north", role)], clinics["north"])
    assert client.get(URL).status_code == 403
    assert client.post(URL, _form(odi_points="20")).status_code == 403
    clinics["north"].refresh_from_db()
    assert clinics["north"].outcome_protocol == {}


def test_a_recompute_changes_flags_only_not_rows_or_masks(admin, clinics, staff, make_patient):
    north = clinics["north"]
    build(north, make_patient(north), staff_user=staff[("north", "nurse")],
          baseline={"nrs": 7, "disability": 50}, follow_ups={"3m": {"nrs": 5, "disability": 38}})
    before = list(OutcomeRow.objects.order_by("pk").values_list("pk", "function_first", "pain_first"))
    flags = list(OutcomeRow.objects.order_by("pk").values_list("odi_responder", "nrs_responder"))
    response = admin.post(URL, _form(odi_points="40", nrs_points="9"))
    assert response.status_code == 302
    assert list(OutcomeRow.objects.order_by("pk").values_list("pk", "function_first", "pain_first")) == before
    after = list(OutcomeRow.objects.order_by("pk").values_list("odi_responder", "nrs_responder"))
    assert after != flags and (True, True) not in after  # 12 and 2 points no longer make a responder
    assert Procedure.objects.filter(status="signed").count() == 1


def test_default_numbers_with_another_source_are_not_called_the_clinics_own(admin, clinics):
    response = admin.post(URL, _form(odi_source="Ostelo 2008, as adopted by our medical director"), follow=True)
    assert "The clinic uses the published defaults" in response.content.decode()
    assert "Restore the published defaults" in response.content.decode()  # the source was stored
    assert "the clinic's own thresholds" not in admin.get("/outcomes/").content.decode()
    assert admin.post(URL, _form(odi_points="2.50"), follow=True).status_code == 200  # trailing zero: one decimal
    clinics["north"].refresh_from_db()
    assert clinics["north"].get_responder_thresholds().describe("odi") == "at least 2.5 points or 30 %"


@pytest.mark.django_db(transaction=True)
def test_a_refresh_and_a_thresholds_save_take_turns(clinics, staff, make_patient):
    """PostgreSQL: a save waits for a refresh that has read the old thresholds (else its rows keep the old rule)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("SQLite runs one writing transaction at a time")
    north = clinics["north"]
    locked, release, saved = threading.Event(), threading.Event(), threading.Event()

    def refresh_reading_thresholds():
        try:
            with transaction.atomic():
                summary._thresholds({north.pk})
                locked.set()
                release.wait(10)
        finally:
            connection.close()

    def save():
        try:
            signed_in(staff[("north", "clinic_admin")], north).post(URL, _form(odi_points="20"))
            saved.set()
        finally:
            connection.close()

    refresher = threading.Thread(target=refresh_reading_thresholds)
    refresher.start()
    assert locked.wait(10)
    saver = threading.Thread(target=save)
    saver.start()
    assert not saved.wait(1.0)  # the save waits for the refresh's transaction
    release.set()
    refresher.join(10)
    assert saved.wait(10)
    saver.join(10)
    north.refresh_from_db()
    assert north.get_responder_thresholds().describe("odi") == "at least 20 points or 30 %"
