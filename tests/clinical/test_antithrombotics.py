"""The physician's hold and restart decisions for anticoagulants and antiplatelets."""

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accretion.clinical.antithrombotics import (
    CONTINUE,
    HOLD,
    HOLD_WITHIN_DAYS,
    RESTART_NOTE_MAX,
    RESTART_WITHIN_DAYS,
    Antithrombotic,
    HoldDecision,
    parse_plan,
)
from accretion.clinical.errors import FieldError

PROCEDURE = date(2028, 3, 1)  # the day after a leap day
APIXABAN = Antithrombotic("apixaban", "anticoagulant", ("Eliquis 5 mg bid",))
ASPIRIN = Antithrombotic("aspirin", "antiplatelet", ("aspirin",))


def hold(last="2028-02-26", restart="2028-03-03", note=""):
    return {"action": HOLD, "last_dose": last, "restart_on": restart, "restart_note": note}


def day(offset):
    return (PROCEDURE + timedelta(days=offset)).isoformat()


def test_a_hold_and_a_continue_in_the_screenings_order():
    plan = parse_plan({"aspirin": {"action": CONTINUE}, "apixaban": hold()}, [APIXABAN, ASPIRIN], PROCEDURE)
    assert [d.action for d in plan] == [HOLD, CONTINUE]
    assert plan[0].last_dose == date(2028, 2, 26) and plan[0].restart_on == date(2028, 3, 3)
    assert plan[0].drug.name == "Eliquis 5 mg bid (apixaban)" and plan[1].drug.name == "aspirin"


@pytest.mark.parametrize(
    "last, restart, ok",
    [
        (day(0), day(0), True),  # last dose and restart on the procedure day
        (day(1), day(2), False),  # a last dose after the procedure
        (day(-HOLD_WITHIN_DAYS), day(1), True),
        (day(-HOLD_WITHIN_DAYS - 1), day(1), False),
        (day(-3), day(-1), False),  # a restart before the procedure
        (day(-3), day(RESTART_WITHIN_DAYS), True),
        (day(-3), day(RESTART_WITHIN_DAYS + 1), False),
        ("2028-02-29", day(2), True),  # a leap day
        ("2027-02-29", day(2), False),  # not a calendar date
        ("29/02/2028", day(2), False),
    ],
)
def test_hold_dates_at_their_edges(last, restart, ok):
    if ok:
        (decision,) = parse_plan({"apixaban": hold(last, restart)}, [APIXABAN], PROCEDURE)
        assert decision.action == HOLD
    else:
        with pytest.raises(FieldError) as caught:
            parse_plan({"apixaban": hold(last, restart)}, [APIXABAN], PROCEDURE)
        assert caught.value.field.startswith("antithrombotics.apixaban.")


def test_restart_instructions_may_stand_in_for_a_date():
    (decision,) = parse_plan({"apixaban": hold(restart="", note="  Restart the morning after\nif no bleeding ")},
                             [APIXABAN], PROCEDURE)
    assert decision.restart_on is None and decision.restart_note == "Restart the morning after if no bleeding"


@pytest.mark.parametrize(
    "raw, field",
    [
        ({}, "antithrombotics.apixaban.action"),  # every current drug needs a decision
        ({"apixaban": {"action": "stop"}}, "antithrombotics.apixaban.action"),
        ({"apixaban": "hold"}, "antithrombotics.apixaban.action"),
        ({"apixaban": hold(last="")}, "antithrombotics.apixaban.last_dose"),
        ({"apixaban": hold(restart="", note="")}, "antithrombotics.apixaban.restart_on"),
        ({"apixaban": hold(note="x" * (RESTART_NOTE_MAX + 1))}, "antithrombotics.apixaban.restart_note"),
        ({"apixaban": hold(note="a\x00b")}, "antithrombotics.apixaban.restart_note"),
        ({"apixaban": {"action": CONTINUE, "restart_on": day(2)}}, "antithrombotics.apixaban.restart_on"),
        ({"apixaban": {"action": CONTINUE, "last_dose": day(-2)}}, "antithrombotics.apixaban.last_dose"),
        ({"apixaban": {"action": HOLD, "dose": 5}}, "antithrombotics.apixaban.dose"),
        ({"apixaban": hold(), "warfarin": hold()}, "antithrombotics.warfarin"),
        ([], "antithrombotics"),
    ],
)
def test_bad_plans_name_the_field(raw, field):
    with pytest.raises(FieldError) as caught:
        parse_plan(raw, [APIXABAN], PROCEDURE)
    assert caught.value.field == field
    assert caught.value.message and "\n" not in caught.value.message


def test_no_antithrombotics_no_plan():
    assert parse_plan(None, [], PROCEDURE) == ()


@settings(max_examples=200, deadline=None)
@given(
    st.integers(-HOLD_WITHIN_DAYS, 0),
    st.one_of(st.none(), st.integers(0, RESTART_WITHIN_DAYS)),
    st.text(alphabet=st.characters(exclude_categories=("Cs", "Cc")), max_size=RESTART_NOTE_MAX),
)
def test_a_valid_hold_survives_a_round_trip(last, restart, note):
    if restart is None and not note.split():
        note = "as told"
    raw = {"apixaban": hold(day(last), None if restart is None else day(restart), note)}
    (decision,) = parse_plan(raw, [APIXABAN], PROCEDURE)
    assert HoldDecision.from_dict(decision.to_dict()) == decision
