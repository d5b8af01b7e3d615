"""Tests for accretion.clinical.aftercare (pure Python, no Django)."""

from __future__ import annotations

import calendar
import datetime as dt
import json
import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st

from accretion.clinical import aftercare, followup
from accretion.clinical.aftercare import (
    DEFAULT_ACTIVITY_GUIDANCE,
    DEFAULT_PROTOCOL,
    AftercareError,
    AftercareProtocol,
    add_months,
    follow_up_due,
    parse_follow_up_key,
    parse_protocol,
    plan,
)

D = dt.date

PLAN_KEYS = {
    "procedure_date",
    "soreness_expected_through",
    "nsaid_avoid_through",
    "no_driving_through",
    "no_soaking_through",
    "cold_or_heat",
    "activity_guidance",
    "acetaminophen_alternative",
    "warning_signs",
    "follow_ups",
}


# ---------------------------------------------------------------------------
# add_months
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (D(2026, 11, 30), 3, D(2027, 2, 28)),
        (D(2027, 11, 30), 3, D(2028, 2, 29)),
        (D(2026, 1, 31), 1, D(2026, 2, 28)),
        (D(2028, 1, 31), 1, D(2028, 2, 29)),
        (D(2026, 12, 31), 12, D(2027, 12, 31)),
        (D(2026, 3, 31), 1, D(2026, 4, 30)),
        (D(2026, 5, 31), 6, D(2026, 11, 30)),
        (D(2026, 8, 31), 6, D(2027, 2, 28)),
        (D(2028, 2, 29), 12, D(2029, 2, 28)),
        (D(2028, 2, 29), 48, D(2032, 2, 29)),
        (D(2026, 12, 15), 1, D(2027, 1, 15)),
        (D(2026, 1, 15), 0, D(2026, 1, 15)),
        (D(2026, 1, 15), 60, D(2031, 1, 15)),
        (D(2026, 3, 31), -1, D(2026, 2, 28)),
        (D(2026, 1, 15), -1, D(2025, 12, 15)),
    ],
)
def test_add_months(start, months, expected):
    assert add_months(start, months) == expected


@pytest.mark.parametrize("months", [1.0, "1", True, None])
def test_add_months_rejects_non_int_months(months):
    with pytest.raises(TypeError):
        add_months(D(2026, 1, 1), months)


@pytest.mark.parametrize("day", ["2026-01-01", dt.datetime(2026, 1, 1), None])
def test_add_months_rejects_non_date(day):
    with pytest.raises(TypeError):
        add_months(day, 1)


def test_add_months_overflow():
    with pytest.raises(OverflowError):
        add_months(D(9999, 12, 1), 1)
    with pytest.raises(OverflowError):
        add_months(D(1, 1, 1), -1)


@given(st.dates(min_value=D(1900, 1, 1), max_value=D(2200, 12, 31)), st.integers(-600, 600))
def test_add_months_properties(start, months):
    result = add_months(start, months)
    # Month arithmetic is exact.
    assert (result.year * 12 + result.month) - (start.year * 12 + start.month) == months
    # The day is kept, or clamped to the month's last day.
    last = calendar.monthrange(result.year, result.month)[1]
    assert result.day == min(start.day, last)


@given(st.dates(min_value=D(1900, 1, 1), max_value=D(2200, 12, 31)), st.integers(0, 60), st.integers(0, 60))
def test_add_months_never_skips_past_month_end(start, a, b):
    # Adding in two steps never lands after adding in one step.
    assert add_months(add_months(start, a), b) <= add_months(start, a + b)


# ---------------------------------------------------------------------------
# follow-up keys
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("1w", (1, "w")),
        ("2w", (2, "w")),
        ("104w", (104, "w")),
        ("1m", (1, "m")),
        ("12m", (12, "m")),
        ("60m", (60, "m")),
    ],
)
def test_parse_follow_up_key_valid(key, expected):
    assert parse_follow_up_key(key) == expected


@pytest.mark.parametrize(
    "key",
    ["0w", "0m", "105w", "61m", "02w", "2d", "w", "m", "", " 2w", "2w ", "2W", "-1w", "1.5m", "1000w", "2", "2wk"],
)
def test_parse_follow_up_key_invalid(key):
    with pytest.raises(AftercareError) as info:
        parse_follow_up_key(key)
    assert info.value.field == "follow_ups"


@pytest.mark.parametrize("key", [2, None, True, ["2w"]])
def test_parse_follow_up_key_wrong_type(key):
    with pytest.raises(AftercareError):
        parse_follow_up_key(key)


@pytest.mark.parametrize(
    ("start", "key", "expected"),
    [
        (D(2026, 11, 30), "2w", D(2026, 12, 14)),
        (D(2026, 11, 30), "6w", D(2027, 1, 11)),
        (D(2026, 11, 30), "3m", D(2027, 2, 28)),
        (D(2026, 11, 30), "6m", D(2027, 5, 30)),
        (D(2026, 11, 30), "12m", D(2027, 11, 30)),
        (D(2026, 12, 31), "12m", D(2027, 12, 31)),
        (D(2026, 1, 31), "1m", D(2026, 2, 28)),
        (D(2026, 1, 1), "104w", D(2026, 1, 1) + dt.timedelta(days=728)),
        (D(2026, 1, 31), "60m", D(2031, 1, 31)),
    ],
)
def test_follow_up_due(start, key, expected):
    assert follow_up_due(start, key) == expected


# ---------------------------------------------------------------------------
# plan
# ---------------------------------------------------------------------------


def test_plan_default_dates():
    p = plan(D(2026, 11, 30))
    assert p.procedure_date == D(2026, 11, 30)
    assert p.soreness_expected_through == D(2026, 12, 3)
    assert p.nsaid_avoid_through == D(2026, 12, 7)
    assert p.no_driving_through == D(2026, 12, 1)
    assert p.no_soaking_through == D(2026, 12, 2)
    assert p.cold_or_heat == "ice"
    assert [(f.key, f.due) for f in p.follow_ups] == [
        ("2w", D(2026, 12, 14)),
        ("6w", D(2027, 1, 11)),
        ("3m", D(2027, 2, 28)),
        ("6m", D(2027, 5, 30)),
        ("12m", D(2027, 11, 30)),
    ]


def test_plan_to_dict_shape_and_json():
    d = plan(D(2027, 11, 30)).to_dict()
    assert set(d) == PLAN_KEYS
    assert d["procedure_date"] == "2027-11-30"
    assert d["soreness_expected_through"] == "2027-12-03"
    assert d["nsaid_avoid_through"] == "2027-12-07"
    assert d["no_driving_through"] == "2027-12-01"
    assert d["no_soaking_through"] == "2027-12-02"
    assert d["follow_ups"] == [
        {"key": "2w", "due": "2027-12-14"},
        {"key": "6w", "due": "2028-01-11"},
        {"key": "3m", "due": "2028-02-29"},
        {"key": "6m", "due": "2028-05-30"},
        {"key": "12m", "due": "2028-11-30"},
    ]
    assert d["cold_or_heat"]["code"] == "ice"
    assert "20 minutes" in d["cold_or_heat"]["text"]
    assert d["activity_guidance"] == {"code": "activity_default", "text": DEFAULT_ACTIVITY_GUIDANCE}
    assert d["acetaminophen_alternative"]["code"] == "acetaminophen_unless_contraindicated"
    assert "acetaminophen" in d["acetaminophen_alternative"]["text"]
    # JSON-ready: round-trips through json unchanged.
    assert json.loads(json.dumps(d)) == d


def test_plan_accepts_iso_string():
    assert plan("2026-11-30") == plan(D(2026, 11, 30))


@pytest.mark.parametrize(
    "value",
    ["2026-02-30", "2026-13-01", "30/11/2026", "2026-11-30T10:00", "", "20261130", 20261130, None, 3.5],
)
def test_plan_rejects_bad_dates(value):
    with pytest.raises(AftercareError) as info:
        plan(value)
    assert info.value.field == "procedure_date"


def test_plan_rejects_datetime():
    with pytest.raises(AftercareError) as info:
        plan(dt.datetime(2026, 11, 30, 9, 0))
    assert info.value.field == "procedure_date"


def test_plan_rejects_non_protocol():
    with pytest.raises(AftercareError) as info:
        plan(D(2026, 1, 1), {"nsaid_days": 7})
    assert info.value.field == "protocol"


def test_plan_date_overflow_is_an_aftercare_error():
    with pytest.raises(AftercareError) as info:
        plan(D(9999, 6, 1))
    assert info.value.field == "procedure_date"


def test_plan_uses_protocol_settings():
    protocol = AftercareProtocol(
        nsaid_days=14, soreness_days=7, cold_or_heat="heat", activity_guidance="Walk daily.", follow_ups=("1m",)
    )
    p = plan(D(2026, 1, 31), protocol)
    assert p.nsaid_avoid_through == D(2026, 2, 14)
    assert p.soreness_expected_through == D(2026, 2, 7)
    # Fixed rules do not depend on the protocol.
    assert p.no_driving_through == D(2026, 2, 1)
    assert p.no_soaking_through == D(2026, 2, 2)
    d = p.to_dict()
    assert d["cold_or_heat"]["code"] == "heat"
    assert d["activity_guidance"] == {"code": "activity_custom", "text": "Walk daily."}
    assert d["follow_ups"] == [{"key": "1m", "due": "2026-02-28"}]


@pytest.mark.parametrize("choice", ["ice", "heat", "either"])
def test_cold_or_heat_choices_have_text(choice):
    d = plan(D(2026, 5, 1), AftercareProtocol(cold_or_heat=choice)).to_dict()
    assert d["cold_or_heat"] == {"code": choice, "text": aftercare.COLD_OR_HEAT_TEXT[choice]}


def test_follow_ups_sorted_by_due_date():
    p = plan(D(2026, 3, 1), AftercareProtocol(follow_ups=("12m", "3m", "2w")))
    assert [f.key for f in p.follow_ups] == ["2w", "3m", "12m"]


def test_follow_ups_same_day_keep_protocol_order():
    # 2026-02-01 + 1 month == + 4 weeks == 2026-03-01.
    p = plan(D(2026, 2, 1), AftercareProtocol(follow_ups=("4w", "1m")))
    assert [(f.key, f.due) for f in p.follow_ups] == [("4w", D(2026, 3, 1)), ("1m", D(2026, 3, 1))]
    p = plan(D(2026, 2, 1), AftercareProtocol(follow_ups=("1m", "4w")))
    assert [f.key for f in p.follow_ups] == ["1m", "4w"]


# ---------------------------------------------------------------------------
# warning signs
# ---------------------------------------------------------------------------


def test_warning_signs():
    signs = plan(D(2026, 1, 1)).to_dict()["warning_signs"]
    by_code = {s["code"]: s for s in signs}
    assert list(by_code) == [
        "fever",
        "redness_or_drainage",
        "new_weakness_or_numbness",
        "bowel_or_bladder",
        "headache_or_stiff_neck",
    ]
    assert "38.3 \u00b0C" in by_code["fever"]["text"] and "101 \u00b0F" in by_code["fever"]["text"]
    assert by_code["fever"]["call"] == "clinic"
    assert by_code["redness_or_drainage"]["call"] == "clinic"
    assert by_code["new_weakness_or_numbness"]["call"] == "emergency"
    assert by_code["bowel_or_bladder"]["call"] == "emergency"
    assert by_code["headache_or_stiff_neck"]["call"] == "emergency"
    for sign in signs:
        assert set(sign) == {"code", "text", "call", "call_text"}
        assert sign["call_text"] == aftercare.CALL_TEXT[sign["call"]]
        assert sign["text"] and "\n" not in sign["text"]


# ---------------------------------------------------------------------------
# protocol validation
# ---------------------------------------------------------------------------


def test_default_protocol():
    assert AftercareProtocol() == DEFAULT_PROTOCOL
    assert DEFAULT_PROTOCOL.to_dict() == {
        "nsaid_days": 7,
        "soreness_days": 3,
        "cold_or_heat": "ice",
        "activity_guidance": DEFAULT_ACTIVITY_GUIDANCE,
        "follow_ups": ["2w", "6w", "3m", "6m", "12m"],
        "window_weeks_days": 7,
        "window_3m_days": 14,
        "window_later_days": 30,
    }
    assert DEFAULT_PROTOCOL.windows == followup.DEFAULT_WINDOWS


@pytest.mark.parametrize("name, low, high", [("window_weeks_days", 1, 13), ("window_3m_days", 1, 30),
                                             ("window_later_days", 1, 60)])
def test_questionnaire_window_limits(name, low, high):
    assert getattr(parse_protocol({name: low}), name) == low
    assert getattr(parse_protocol({name: high}), name) == high
    for wrong in (low - 1, high + 1, True, 7.5, "7"):
        with pytest.raises(AftercareError) as error:
            parse_protocol({name: wrong})
        assert error.value.field == name


@pytest.mark.parametrize("key, due, opens, closes", [
    ("2w", dt.date(2027, 2, 14), dt.date(2027, 2, 4), dt.date(2027, 2, 24)),  # weeks: +/-10
    ("3m", dt.date(2027, 2, 28), dt.date(2027, 2, 7), dt.date(2027, 3, 21)),  # up to 3 months: +/-21, February
    ("12m", dt.date(2027, 12, 31), dt.date(2027, 11, 16), dt.date(2028, 2, 14)),  # later: +/-45, the year's end
])
def test_a_clinics_windows_place_the_questionnaire(key, due, opens, closes):
    protocol = parse_protocol({"window_weeks_days": 10, "window_3m_days": 21, "window_later_days": 45})
    window = followup.window(key, due, protocol.windows)
    assert (window.opens, window.closes) == (opens, closes)


def test_parse_protocol_empty_and_null_use_defaults():
    assert parse_protocol({}) == DEFAULT_PROTOCOL
    assert parse_protocol({"nsaid_days": None, "follow_ups": None}) == DEFAULT_PROTOCOL


def test_parse_protocol_round_trip():
    protocol = parse_protocol(
        {
            "nsaid_days": 10,
            "soreness_days": 2,
            "cold_or_heat": "either",
            "activity_guidance": "Rest.",
            "follow_ups": ["1w", "3m"],
        }
    )
    assert protocol.follow_ups == ("1w", "3m")
    assert parse_protocol(protocol.to_dict()) == protocol
    assert json.loads(json.dumps(protocol.to_dict())) == protocol.to_dict()


@pytest.mark.parametrize(
    ("mapping", "field"),
    [
        ({"nsaid_days": 4}, "nsaid_days"),
        ({"nsaid_days": 15}, "nsaid_days"),
        ({"nsaid_days": 0}, "nsaid_days"),
        ({"nsaid_days": -7}, "nsaid_days"),
        ({"nsaid_days": True}, "nsaid_days"),
        ({"nsaid_days": 7.0}, "nsaid_days"),
        ({"nsaid_days": 7.5}, "nsaid_days"),
        ({"nsaid_days": float("nan")}, "nsaid_days"),
        ({"nsaid_days": float("inf")}, "nsaid_days"),
        ({"nsaid_days": "7"}, "nsaid_days"),
        ({"soreness_days": 0}, "soreness_days"),
        ({"soreness_days": 15}, "soreness_days"),
        ({"soreness_days": False}, "soreness_days"),
        ({"cold_or_heat": "cold"}, "cold_or_heat"),
        ({"cold_or_heat": "ICE"}, "cold_or_heat"),
        ({"cold_or_heat": 1}, "cold_or_heat"),
        ({"activity_guidance": ""}, "activity_guidance"),
        ({"activity_guidance": "   \n "}, "activity_guidance"),
        ({"activity_guidance": "x" * 2001}, "activity_guidance"),
        ({"activity_guidance": 5}, "activity_guidance"),
        ({"follow_ups": []}, "follow_ups"),
        ({"follow_ups": "2w"}, "follow_ups"),
        ({"follow_ups": {"2w": 1}}, "follow_ups"),
        ({"follow_ups": ["1w"] + [f"{n}m" for n in range(1, 21)]}, "follow_ups"),
        ({"follow_ups": ["2w", "0m"]}, "follow_ups[1]"),
        ({"follow_ups": ["2w", "2w"]}, "follow_ups[1]"),
        ({"follow_ups": ["2w", 3]}, "follow_ups[1]"),
        ({"follow_ups": ["105w"]}, "follow_ups[0]"),
        ({"follow_ups": ["61m"]}, "follow_ups[0]"),
        ({"nsaid_day": 7}, "nsaid_day"),
        ({"zzz": 1, "aaa": 2}, "aaa"),
        ({1: 7}, "1"),
    ],
)
def test_parse_protocol_errors(mapping, field):
    with pytest.raises(AftercareError) as info:
        parse_protocol(mapping)
    err = info.value
    assert err.field == field
    assert str(err) == f"{err.field}: {err.message}"
    assert "\n" not in str(err)


@pytest.mark.parametrize("value", [None, [], "nsaid_days=7", 7])
def test_parse_protocol_requires_mapping(value):
    with pytest.raises(AftercareError) as info:
        parse_protocol(value)
    assert info.value.field == "protocol"


@pytest.mark.parametrize(("nsaid_days", "soreness_days"), [(5, 1), (14, 14), (7, 3)])
def test_protocol_range_edges_are_valid(nsaid_days, soreness_days):
    protocol = AftercareProtocol(nsaid_days=nsaid_days, soreness_days=soreness_days)
    p = plan(D(2026, 1, 1), protocol)
    assert p.nsaid_avoid_through == D(2026, 1, 1) + dt.timedelta(days=nsaid_days)
    assert p.soreness_expected_through == D(2026, 1, 1) + dt.timedelta(days=soreness_days)


def test_protocol_constructor_validates_and_freezes():
    with pytest.raises(AftercareError):
        AftercareProtocol(nsaid_days=30)
    protocol = AftercareProtocol(follow_ups=["2w", "3m"])  # a list is stored as a tuple
    assert protocol.follow_ups == ("2w", "3m")
    hash(protocol)
    with pytest.raises(AttributeError):
        protocol.nsaid_days = 9  # type: ignore[misc]


def test_error_format_and_pickle():
    err = AftercareError("nsaid_days", "must be between 5 and 14")
    assert str(err) == "nsaid_days: must be between 5 and 14"
    assert isinstance(err, ValueError)
    copy = pickle.loads(pickle.dumps(err))
    assert (copy.field, copy.message) == (err.field, err.message)
    assert str(AftercareError("a", "line one\nline two")) == "a: line one line two"


# ---------------------------------------------------------------------------
# properties
# ---------------------------------------------------------------------------

follow_up_keys = st.one_of(
    st.integers(1, 104).map(lambda n: f"{n}w"),
    st.integers(1, 60).map(lambda n: f"{n}m"),
)

protocols = st.builds(
    AftercareProtocol,
    nsaid_days=st.integers(5, 14),
    soreness_days=st.integers(1, 14),
    cold_or_heat=st.sampled_from(["ice", "heat", "either"]),
    activity_guidance=st.text(min_size=1, max_size=50).filter(lambda s: s.strip()),
    follow_ups=st.lists(follow_up_keys, min_size=1, max_size=20, unique=True).map(tuple),
)


@given(st.dates(min_value=D(1950, 1, 1), max_value=D(2100, 12, 31)), protocols)
def test_plan_properties(day, protocol):
    p = plan(day, protocol)
    d = p.to_dict()
    assert set(d) == PLAN_KEYS
    assert p.no_driving_through < p.no_soaking_through
    assert day < p.soreness_expected_through and day < p.nsaid_avoid_through
    dues = [f.due for f in p.follow_ups]
    assert dues == sorted(dues)
    assert all(due > day for due in dues)
    assert sorted(f.key for f in p.follow_ups) == sorted(protocol.follow_ups)
    for f in p.follow_ups:
        n, unit = parse_follow_up_key(f.key)
        if unit == "w":
            assert (f.due - day).days == 7 * n
        else:
            assert f.due == add_months(day, n)
    assert json.loads(json.dumps(d)) == d


@given(protocols)
def test_protocol_round_trip(protocol):
    assert parse_protocol(protocol.to_dict()) == protocol
