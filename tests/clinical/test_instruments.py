"""Tests for accretion.clinical.instruments (pure Python, no Django)."""

from __future__ import annotations

import json
import pickle
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from accretion.clinical.instruments import (
    DEFAULT_THRESHOLDS,
    PGIC_CHOICES,
    InstrumentError,
    ResponderThresholds,
    change,
    ndi_band,
    odi_band,
    parse_answers_file,
    score_ndi,
    score_nrs,
    score_odi,
    score_pgic,
)

N = None


def answers_with_sum(total: int, answered: int = 10) -> list[int | None]:
    """``answered`` sections (the rest None) whose answers add up to ``total``."""
    assert 0 <= total <= 5 * answered
    values: list[int | None] = []
    left = total
    for _ in range(answered):
        step = min(5, left)
        values.append(step)
        left -= step
    return values + [None] * (10 - answered)


# ---------------------------------------------------------------------------
# ODI
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answers", "score", "band", "answered"),
    [
        ([0] * 10, "0.0", "minimal", 10),
        ([5] * 10, "100.0", "bed_bound", 10),
        ([0] * 9 + [N], "0.0", "minimal", 9),
        ([5] * 9 + [N], "100.0", "bed_bound", 9),
        ([N] + [5] * 9, "100.0", "bed_bound", 9),
        ([2, 2, 2, 2, 2, 2, 1, 1, 1, 1], "32.0", "moderate", 10),  # 16/50
        ([2, 2, 2, 2, 2, 2, 1, 1, 1, N], "33.3", "moderate", 9),  # 15/45
        ([2, 2, 2, 2, 2, 2, 2, 1, 1, N], "35.6", "moderate", 9),  # 16/45 = 35.56
        (answers_with_sum(1, 9), "2.2", "minimal", 9),  # 1/45 = 2.22
        (answers_with_sum(8, 9), "17.8", "minimal", 9),  # 8/45 = 17.78
        # band boundaries
        (answers_with_sum(10), "20.0", "minimal", 10),
        (answers_with_sum(9, 9), "20.0", "minimal", 9),  # 9/45
        (answers_with_sum(11), "22.0", "moderate", 10),
        (answers_with_sum(10, 9), "22.2", "moderate", 9),
        (answers_with_sum(20), "40.0", "moderate", 10),
        (answers_with_sum(18, 9), "40.0", "moderate", 9),
        (answers_with_sum(21), "42.0", "severe", 10),
        (answers_with_sum(19, 9), "42.2", "severe", 9),
        (answers_with_sum(30), "60.0", "severe", 10),
        (answers_with_sum(27, 9), "60.0", "severe", 9),
        (answers_with_sum(31), "62.0", "crippled", 10),
        (answers_with_sum(28, 9), "62.2", "crippled", 9),
        (answers_with_sum(40), "80.0", "crippled", 10),
        (answers_with_sum(36, 9), "80.0", "crippled", 9),
        (answers_with_sum(41), "82.0", "bed_bound", 10),
        (answers_with_sum(37, 9), "82.2", "bed_bound", 9),
    ],
)
def test_score_odi(answers, score, band, answered):
    result = score_odi(answers)
    assert result.score == Decimal(score)
    assert str(result.score) == score
    assert result.band == band
    assert result.answered == answered
    d = result.to_dict()
    assert d == {"instrument": "odi", "score": float(score), "band": band, "answered": answered}


@pytest.mark.parametrize(
    ("answers", "answered"),
    [
        ([0] * 8 + [N, N], 8),
        ([N, 3, 3, 3, N, 3, 3, 3, 3, 3], 8),
        ([N] * 10, 0),
        ([5] + [N] * 9, 1),
    ],
)
def test_score_odi_too_many_missing(answers, answered):
    result = score_odi(answers)
    assert result.score is None and result.band is None
    assert result.answered == answered
    d = result.to_dict()
    assert d["score"] is None and d["band"] is None and d["answered"] == answered
    assert f"{10 - answered} of 10 sections unanswered" in d["reason"]
    assert "raw" not in d


@pytest.mark.parametrize(
    ("score", "band"),
    [
        (0, "minimal"),
        (20, "minimal"),
        (Decimal("20.0"), "minimal"),
        (20.1, "moderate"),
        (40, "moderate"),
        (40.1, "severe"),
        (60, "severe"),
        (60.1, "crippled"),
        (80, "crippled"),
        (80.1, "bed_bound"),
        (100, "bed_bound"),
    ],
)
def test_odi_band(score, band):
    assert odi_band(score) == band


@pytest.mark.parametrize("score", [-0.1, 100.1, True, "20", None, float("nan")])
def test_odi_band_rejects(score):
    with pytest.raises(InstrumentError):
        odi_band(score)


# ---------------------------------------------------------------------------
# NDI
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answers", "score", "raw", "band"),
    [
        ([0] * 10, "0.0", "0.0", "none"),
        ([5] * 10, "100.0", "50.0", "complete"),
        (answers_with_sum(4), "8.0", "4.0", "none"),
        (answers_with_sum(5), "10.0", "5.0", "mild"),
        (answers_with_sum(14), "28.0", "14.0", "mild"),
        (answers_with_sum(15), "30.0", "15.0", "moderate"),
        (answers_with_sum(24), "48.0", "24.0", "moderate"),
        (answers_with_sum(25), "50.0", "25.0", "severe"),
        (answers_with_sum(34), "68.0", "34.0", "severe"),
        (answers_with_sum(35), "70.0", "35.0", "complete"),
        # One missing: raw = sum x 10/9 (Vernon: add the average of the others).
        (answers_with_sum(4, 9), "8.9", "4.4", "mild"),  # raw from unrounded %: 4.44 -> 4.4, not 8.9/2 = 4.45 -> 4.5
        (answers_with_sum(3, 9), "6.7", "3.3", "none"),
        (answers_with_sum(5, 9), "11.1", "5.6", "mild"),
        (answers_with_sum(13, 9), "28.9", "14.4", "moderate"),  # 14.4 is above the 14 bound
        (answers_with_sum(7, 9), "15.6", "7.8", "mild"),
        (answers_with_sum(45, 9), "100.0", "50.0", "complete"),
    ],
)
def test_score_ndi(answers, score, raw, band):
    result = score_ndi(answers)
    assert str(result.score) == score
    assert str(result.raw) == raw
    assert result.band == band
    assert result.to_dict() == {
        "instrument": "ndi",
        "score": float(score),
        "band": band,
        "answered": sum(a is not None for a in answers),
        "raw": float(raw),
    }


def test_score_ndi_too_many_missing():
    d = score_ndi([1, 1, 1, 1, 1, 1, 1, 1, N, N]).to_dict()
    assert d["score"] is None and d["raw"] is None and d["band"] is None
    assert d["answered"] == 8
    assert isinstance(d["reason"], str) and d["reason"]


@pytest.mark.parametrize(
    ("raw", "band"),
    [
        (0, "none"),
        (4, "none"),
        (4.4, "mild"),  # above the "<= 4" bound
        (4.5, "mild"),
        (5, "mild"),
        (14, "mild"),
        (14.5, "moderate"),
        (15, "moderate"),
        (24, "moderate"),
        (24.5, "severe"),
        (34, "severe"),
        (34.5, "complete"),
        (50, "complete"),
    ],
)
def test_ndi_band(raw, band):
    assert ndi_band(raw) == band


@pytest.mark.parametrize("raw", [-1, 50.1, False, "4", None])
def test_ndi_band_rejects(raw):
    with pytest.raises(InstrumentError):
        ndi_band(raw)


# ---------------------------------------------------------------------------
# answers validation
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("scorer", [score_odi, score_ndi])
@pytest.mark.parametrize(
    ("answers", "field"),
    [
        ([0] * 9, "answers"),
        ([0] * 11, "answers"),
        ([], "answers"),
        (None, "answers"),
        ("0123456789", "answers"),
        (b"0123456789", "answers"),
        ({i: 0 for i in range(10)}, "answers"),
        (5, "answers"),
        (iter([0] * 10), "answers"),
        ([0, 0, 0, 6, 0, 0, 0, 0, 0, 0], "answers[3]"),
        ([0, 0, 0, -1, 0, 0, 0, 0, 0, 0], "answers[3]"),
        ([True, 0, 0, 0, 0, 0, 0, 0, 0, 0], "answers[0]"),
        ([0, 0, 0, 0, 0, 0, 0, 0, 0, False], "answers[9]"),
        ([0, 0, 2.5, 0, 0, 0, 0, 0, 0, 0], "answers[2]"),
        ([0, 0, 2.0, 0, 0, 0, 0, 0, 0, 0], "answers[2]"),
        ([0, 0, float("nan"), 0, 0, 0, 0, 0, 0, 0], "answers[2]"),
        ([0, 0, "3", 0, 0, 0, 0, 0, 0, 0], "answers[2]"),
        ([0, 0, Decimal(3), 0, 0, 0, 0, 0, 0, 0], "answers[2]"),
        ([0, 0, [3], 0, 0, 0, 0, 0, 0, 0], "answers[2]"),
    ],
)
def test_bad_answers(scorer, answers, field):
    with pytest.raises(InstrumentError) as info:
        scorer(answers)
    err = info.value
    assert err.field == field
    assert str(err) == f"{err.field}: {err.message}"
    assert "\n" not in str(err)


def test_bad_answer_message_names_the_section():
    with pytest.raises(InstrumentError) as info:
        score_odi([0, 0, 0, 0, 0, 0, 0, 9, 0, 0])
    assert "section 8: Sex life" in info.value.message
    with pytest.raises(InstrumentError) as info:
        score_ndi([0, 0, 0, 0, 0, 0, 0, 9, 0, 0])
    assert "section 8: Driving" in info.value.message


def test_tuple_answers_accepted():
    assert score_odi(tuple([1] * 10)).score == Decimal("20.0")


# ---------------------------------------------------------------------------
# NRS and PGIC
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("value", list(range(11)))
def test_score_nrs_valid(value):
    assert score_nrs(value).to_dict() == {"instrument": "nrs", "score": value}


@pytest.mark.parametrize("value", [-1, 11, 2.5, 3.0, True, "3", None, float("inf")])
def test_score_nrs_invalid(value):
    with pytest.raises(InstrumentError) as info:
        score_nrs(value)
    assert info.value.field == "nrs"
    with pytest.raises(InstrumentError) as info:
        score_nrs(value, field="pain_now")
    assert info.value.field == "pain_now"


@pytest.mark.parametrize(
    ("value", "code", "label"),
    [
        (1, "very_much_improved", "Very much improved"),
        (2, "much_improved", "Much improved"),
        (3, "minimally_improved", "Minimally improved"),
        (4, "no_change", "No change"),
        (5, "minimally_worse", "Minimally worse"),
        (6, "much_worse", "Much worse"),
        (7, "very_much_worse", "Very much worse"),
    ],
)
def test_score_pgic(value, code, label):
    result = score_pgic(value)
    assert result.to_dict() == {"instrument": "pgic", "score": value, "code": code, "label": label}
    assert PGIC_CHOICES[value] == (code, label)


@pytest.mark.parametrize("value", [0, 8, -1, 1.0, True, "1", None])
def test_score_pgic_invalid(value):
    with pytest.raises(InstrumentError) as info:
        score_pgic(value)
    assert info.value.field == "pgic"


# ---------------------------------------------------------------------------
# change and responders
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("instrument", "baseline", "followup", "delta", "percent", "responder"),
    [
        # ODI: 10 points or 30 %
        ("odi", 50, 41, 9, 18.0, False),
        ("odi", 50, 40, 10, 20.0, True),
        ("odi", 60, 50.1, 9.9, 16.5, False),
        ("odi", 30, 21, 9, 30.0, True),  # exactly 30 %
        ("odi", 30, 21.03, 8.97, 29.9, False),  # 29.9 %
        ("odi", 30, 21.01, 8.99, 30.0, False),  # 29.97 % displays as 30.0 but is below 30
        ("odi", 20, 14, 6, 30.0, True),
        ("odi", 35.6, 25.6, 10, 28.1, True),  # exact decimals: 35.6 - 25.6 == 10
        ("odi", 40, 50, -10, -25.0, False),  # worse
        ("odi", 0, 0, 0, None, False),  # baseline 0: no percentage
        ("odi", 0, 10, -10, None, False),
        ("odi", 100, 0, 100, 100.0, True),
        # NRS: 2 points or 30 %
        ("nrs", 10, 9, 1, 10.0, False),
        ("nrs", 10, 8, 2, 20.0, True),
        ("nrs", 3, 2, 1, 33.3, True),  # 1 point but 33 %
        ("nrs", 4, 3, 1, 25.0, False),
        ("nrs", 10, 7, 3, 30.0, True),
        ("nrs", 0, 0, 0, None, False),
        ("nrs", 0, 2, -2, None, False),
        ("nrs", 8, 8, 0, 0.0, False),
        ("nrs", 2, 0, 2, 100.0, True),
        # NDI: 10 percentage points (5 raw) only
        ("ndi", 40, 30, 10, 25.0, True),
        ("ndi", 40, 30.1, 9.9, 24.8, False),
        ("ndi", 20, 12, 8, 40.0, False),  # 40 % but no percent rule for NDI
        ("ndi", 0, 0, 0, None, False),
    ],
)
def test_change(instrument, baseline, followup, delta, percent, responder):
    result = change(instrument, baseline, followup)
    assert result.change == Decimal(str(delta))
    d = result.to_dict()
    assert d == {"change": delta, "percent_change": percent, "responder": responder}
    assert set(d) == {"change", "percent_change", "responder"}
    assert isinstance(d["change"], int if instrument == "nrs" else float)
    assert json.loads(json.dumps(d)) == d


def test_percent_change_rounds_half_up():
    # 3 / 8 = 37.5 %; 1 / 16 x 100 = 6.25 -> 6.3
    assert change("odi", 8, 5).to_dict()["percent_change"] == 37.5
    assert change("odi", 16, 15).percent_change == Decimal("6.3")
    assert change("odi", 16, 17).percent_change == Decimal("-6.3")


def test_no_negative_zero():
    d = change("odi", 30, 30.01).to_dict()
    assert str(d["percent_change"]) == "0.0"


def test_custom_thresholds():
    strict = ResponderThresholds(odi_points=15, odi_percent=None, ndi_percent=30, nrs_points=3, nrs_percent=50)
    assert change("odi", 50, 36, strict).responder is False  # 14 points, percent rule off
    assert change("odi", 50, 35, strict).responder is True
    assert change("ndi", 20, 14, strict).responder is True  # 30 %
    assert change("nrs", 6, 4, strict).responder is False  # 2 points, 33 %
    assert change("nrs", 6, 3, strict).responder is True
    assert strict.odi_points == Decimal(15)


def test_default_thresholds_and_sources():
    t = DEFAULT_THRESHOLDS
    assert (t.odi_points, t.odi_percent) == (10, 30)
    assert (t.nrs_points, t.nrs_percent) == (2, 30)
    assert (t.ndi_points, t.ndi_percent) == (10, None)
    assert "Ostelo" in t.odi_source and "Ostelo" in t.nrs_source and "Vernon" in t.ndi_source
    d = t.to_dict()
    assert d["odi"] == {"points": 10.0, "percent": 30.0, "source": t.odi_source}
    assert d["ndi"]["percent"] is None
    assert json.loads(json.dumps(d)) == d


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"odi_points": 0}, "odi_points"),
        ({"odi_points": -1}, "odi_points"),
        ({"nrs_points": True}, "nrs_points"),
        ({"odi_percent": 0}, "odi_percent"),
        ({"nrs_percent": 101}, "nrs_percent"),
        ({"ndi_points": float("nan")}, "ndi_points"),
        ({"ndi_source": None}, "ndi_source"),
    ],
)
def test_threshold_validation(kwargs, field):
    with pytest.raises(InstrumentError) as info:
        ResponderThresholds(**kwargs)
    assert info.value.field == field


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (("foo", 10, 5), "instrument"),
        (("ODI", 10, 5), "instrument"),
        (("pgic", 1, 2), "instrument"),
        ((None, 1, 2), "instrument"),
        (("odi", 100.1, 5), "baseline"),
        (("odi", -1, 5), "baseline"),
        (("odi", 50, 101), "followup"),
        (("odi", True, 5), "baseline"),
        (("odi", "50", 5), "baseline"),
        (("odi", None, 5), "baseline"),
        (("odi", float("nan"), 5), "baseline"),
        (("ndi", 50, float("inf")), "followup"),
        (("ndi", 50, -0.1), "followup"),
        (("nrs", 11, 5), "baseline"),
        (("nrs", 5, -1), "followup"),
        (("nrs", 5.5, 5), "baseline"),
        (("nrs", 5, False), "followup"),
    ],
)
def test_change_validation(args, field):
    with pytest.raises(InstrumentError) as info:
        change(*args)
    assert info.value.field == field


def test_change_rejects_bad_thresholds():
    with pytest.raises(InstrumentError) as info:
        change("odi", 50, 40, {"odi_points": 10})
    assert info.value.field == "thresholds"


# ---------------------------------------------------------------------------
# CLI answers file
# ---------------------------------------------------------------------------


def test_parse_answers_file():
    assert parse_answers_file({"answers": [0, 1, 2, 3, 4, 5, None, 0, 1, 2]}) == [0, 1, 2, 3, 4, 5, None, 0, 1, 2]


@pytest.mark.parametrize(
    ("document", "field"),
    [
        ({}, "answers"),
        ([0] * 10, "answers"),
        (None, "answers"),
        ("answers", "answers"),
        ({"answers": None}, "answers"),
        ({"answers": "0000000000"}, "answers"),
        ({"answers": [0] * 9}, "answers"),
        ({"answers": [0, 0, 0, 7, 0, 0, 0, 0, 0, 0]}, "answers[3]"),
        ({"answers": [0, 0, 0, 2.5, 0, 0, 0, 0, 0, 0]}, "answers[3]"),
        ({"answers": [0, 0, 0, True, 0, 0, 0, 0, 0, 0]}, "answers[3]"),
        ({"answers": [0] * 10, "instrument": "odi"}, "instrument"),
        ({1: 2, "answers": [0] * 10}, "1"),
    ],
)
def test_parse_answers_file_errors(document, field):
    with pytest.raises(InstrumentError) as info:
        parse_answers_file(document)
    assert info.value.field == field


def test_error_format_and_pickle():
    err = InstrumentError("answers[3]", "must be a whole number from 0 to 5 or null")
    assert str(err) == "answers[3]: must be a whole number from 0 to 5 or null"
    copy = pickle.loads(pickle.dumps(err))
    assert (copy.field, copy.message) == (err.field, err.message)


# ---------------------------------------------------------------------------
# properties
# ---------------------------------------------------------------------------

answer_lists = st.lists(st.one_of(st.none(), st.integers(0, 5)), min_size=10, max_size=10)


@given(answer_lists)
def test_score_in_range_and_scored_iff_at_most_one_missing(answers):
    result = score_odi(answers)
    missing = answers.count(None)
    assert (result.score is not None) == (missing <= 1)
    if result.score is not None:
        assert 0 <= result.score <= 100
        assert result.band == odi_band(result.score)
        assert "reason" not in result.to_dict()
        exact = Fraction(sum(a for a in answers if a is not None) * 100, 5 * (10 - missing))
        assert abs(Fraction(result.score) - exact) <= Fraction(1, 20)
    else:
        assert result.band is None and result.to_dict()["reason"]


@given(answer_lists, st.randoms(use_true_random=False))
def test_permuting_answers_never_changes_the_score(answers, rnd):
    shuffled = list(answers)
    rnd.shuffle(shuffled)
    for scorer in (score_odi, score_ndi):
        a, b = scorer(answers), scorer(shuffled)
        assert (a.score, a.band, a.answered, a.raw) == (b.score, b.band, b.answered, b.raw)


@given(answer_lists)
def test_odi_and_ndi_percentages_agree(answers):
    odi, ndi = score_odi(answers), score_ndi(answers)
    assert odi.score == ndi.score
    assert odi.answered == ndi.answered
    if ndi.raw is not None:
        assert 0 <= ndi.raw <= 50
        assert abs(ndi.raw * 2 - ndi.score) <= Decimal("0.1")
        assert ndi.band == ndi_band(ndi.raw)


scores_0_100 = st.decimals(min_value=0, max_value=100, places=1)


@given(scores_0_100, scores_0_100)
def test_change_properties(baseline, followup):
    result = change("odi", baseline, followup)
    assert result.change == baseline - followup
    if baseline == 0:
        assert result.percent_change is None
    else:
        assert result.percent_change <= 100
    if result.responder:
        assert result.change > 0
    # Improving more never loses responder status.
    if followup > 0 and result.responder:
        assert change("odi", baseline, followup - Decimal("0.1")).responder
