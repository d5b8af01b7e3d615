"""Outcome instruments: ODI, NDI, NRS pain, PGIC, and responder analysis.

Pure Python (standard library only).  Scoring rules and thresholds come from
the clinical reference (section 5: outcome instruments) and are cited next to each
constant.  Percentages are exact Decimal arithmetic rounded half-up to one
decimal (36.25 -> 36.3).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext
from typing import Any

from accretion.clinical.errors import FieldError

__all__ = [
    "DEFAULT_THRESHOLDS",
    "MAX_UNANSWERED",
    "NDI_SECTIONS",
    "ODI_SECTIONS",
    "ODI_VERSION",
    "PGIC_CHOICES",
    "SECTION_COUNT",
    "ChangeResult",
    "InstrumentError",
    "NrsScore",
    "PgicScore",
    "QuestionnaireScore",
    "ResponderThresholds",
    "change",
    "ndi_band",
    "odi_band",
    "parse_answers_file",
    "score_ndi",
    "score_nrs",
    "score_odi",
    "score_pgic",
]


class InstrumentError(FieldError):
    """Invalid instrument input.  ``str(err)`` is ``"{field}: {message}"``."""


# ---------------------------------------------------------------------------
# Constants
# ---------------------------------------------------------------------------

# ODI v2.1a: Fairbank JCT, Pynsent PB. Spine 2000;25(22):2940-2952.
# 10 sections scored 0-5 (first statement 0, last 5).
ODI_VERSION = "2.1a"
ODI_SECTIONS = (
    "Pain intensity",
    "Personal care",
    "Lifting",
    "Walking",
    "Sitting",
    "Standing",
    "Sleeping",
    "Sex life",
    "Social life",
    "Travelling",
)

# NDI: Vernon H, Mior S. JMPT 1991;14(7):409-415.  10 items scored 0-5.
NDI_SECTIONS = (
    "Pain intensity",
    "Personal care",
    "Lifting",
    "Reading",
    "Headaches",
    "Concentration",
    "Work",
    "Driving",
    "Sleeping",
    "Recreation",
)

SECTION_COUNT = 10
SECTION_MAX = 5

# Missing sections: ODI % = sum / (5 x answered) x 100 (official scoring
# instructions, secondary copies); no score if more than 1 section is
# missing (awell-health/awell-score Oswestry implementation; the original
# paper's rule is unverified).  For the NDI, Vernon adds the average of the
# answered items for a missing one, which gives the same percentage; the
# same limit of one missing item is applied.
MAX_UNANSWERED = 1

# ODI bands on the percentage (Fairbank, via the asir-journal BMC table and
# PACIO FSH): 0-20 minimal, 21-40 moderate, 41-60 severe, 61-80 crippled,
# 81-100 bed-bound (or exaggerating).  Applied to the rounded score with
# "<= upper bound", so 20.0 is minimal and 20.1 moderate.
ODI_BANDS = (
    (Decimal(20), "minimal"),
    (Decimal(40), "moderate"),
    (Decimal(60), "severe"),
    (Decimal(80), "crippled"),
)
ODI_BAND_ABOVE = "bed_bound"

# NDI bands on the raw 0-50 score (Vernon, chiro.org/forms/NDI_Explain.shtml):
# 0-4 none, 5-14 mild, 15-24 moderate, 25-34 severe, >34 complete.  Applied
# to the rounded raw score with "<= upper bound", so 4.0 is none, 4.4 and 5 mild
# (a pro-rated raw score between two published integer bands takes the higher).
NDI_BANDS = (
    (Decimal(4), "none"),
    (Decimal(14), "mild"),
    (Decimal(24), "moderate"),
    (Decimal(34), "severe"),
)
NDI_BAND_ABOVE = "complete"

# NRS pain 0-10.
NRS_MIN, NRS_MAX = 0, 10
# The lowest and highest score of each instrument: means and their intervals are clipped to these.
SCALES = {"nrs": (NRS_MIN, NRS_MAX), "odi": (0, 100), "ndi": (0, 100)}

# PGIC: single 7-point item (NINDS CDE; Hurst H, Bolton J. JMPT
# 2004;27(1):26-35).  No published responder cut-off was found.
PGIC_CHOICES: Mapping[int, tuple[str, str]] = {
    1: ("very_much_improved", "Very much improved"),
    2: ("much_improved", "Much improved"),
    3: ("minimally_improved", "Minimally improved"),
    4: ("no_change", "No change"),
    5: ("minimally_worse", "Minimally worse"),
    6: ("much_worse", "Much worse"),
    7: ("very_much_worse", "Very much worse"),
}

_INSTRUMENTS = ("odi", "ndi")
_CHANGE_INSTRUMENTS = ("odi", "ndi", "nrs")
_PRECISION = 60


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    return type(value).__name__


def _round1(numerator: Decimal | int, denominator: Decimal | int) -> Decimal:
    """numerator / denominator rounded half-up to 1 decimal, exactly."""
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        quotient = Decimal(numerator) / Decimal(denominator)
        rounded = quotient.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
        return rounded.copy_abs() if rounded.is_zero() else rounded  # no "-0.0"


def _decimal(value: Any, field_name: str) -> Decimal:
    """A finite int, float or Decimal (not bool) as an exact Decimal."""
    if isinstance(value, bool):
        raise InstrumentError(field_name, "must be a number, got a boolean")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InstrumentError(field_name, "must be a finite number")
        return Decimal(str(value))
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise InstrumentError(field_name, "must be a finite number")
        return value
    raise InstrumentError(field_name, f"must be a number, got {_type_name(value)}")


def _integer(value: Any, field_name: str, low: int, high: int) -> int:
    if isinstance(value, bool):
        raise InstrumentError(field_name, f"must be a whole number from {low} to {high}, got a boolean")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InstrumentError(field_name, f"must be a whole number from {low} to {high}")
        raise InstrumentError(field_name, f"must be a whole number from {low} to {high}, got a decimal number")
    if not isinstance(value, int):
        raise InstrumentError(field_name, f"must be a whole number from {low} to {high}, got {_type_name(value)}")
    if not low <= value <= high:
        raise InstrumentError(field_name, f"must be a whole number from {low} to {high}, got {value}")
    return int(value)


def _validate_answers(answers: Any, sections: tuple[str, ...] | None = None) -> tuple[int | None, ...]:
    """10 answers, each an int 0-5 or None.  Errors name answers / answers[i] (0-based)."""
    if isinstance(answers, (str, bytes)) or not isinstance(answers, (list, tuple)):
        raise InstrumentError("answers", f"must be a list of {SECTION_COUNT} answers, got {_type_name(answers)}")
    if len(answers) != SECTION_COUNT:
        raise InstrumentError("answers", f"must have exactly {SECTION_COUNT} answers, got {len(answers)}")
    out: list[int | None] = []
    for i, value in enumerate(answers):
        field_name = f"answers[{i}]"
        where = f" (section {i + 1}: {sections[i]})" if sections else f" (section {i + 1})"
        if value is None:
            out.append(None)
            continue
        expected = f"must be a whole number from 0 to {SECTION_MAX} or null{where}"
        if isinstance(value, bool):
            raise InstrumentError(field_name, f"{expected}, got a boolean")
        if isinstance(value, float):
            raise InstrumentError(field_name, f"{expected}, got a decimal number")
        if not isinstance(value, int):
            raise InstrumentError(field_name, f"{expected}, got {_type_name(value)}")
        if not 0 <= value <= SECTION_MAX:
            raise InstrumentError(field_name, f"{expected}, got {value}")
        out.append(int(value))
    return tuple(out)


def _band(value: Decimal, bands: tuple[tuple[Decimal, str], ...], above: str) -> str:
    for upper, name in bands:
        if value <= upper:
            return name
    return above


# ---------------------------------------------------------------------------
# ODI / NDI
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class QuestionnaireScore:
    """ODI or NDI result.  ``score`` is the 0-100 percentage (1 decimal)."""

    instrument: str  # "odi" | "ndi"
    answers: tuple[int | None, ...]
    score: Decimal | None
    band: str | None
    answered: int
    reason: str | None = None
    raw: Decimal | None = None  # NDI only: raw 0-50 score (1 decimal)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "instrument": self.instrument,
            "score": None if self.score is None else float(self.score),
            "band": self.band,
            "answered": self.answered,
        }
        if self.reason is not None:
            out["reason"] = self.reason
        if self.instrument == "ndi":
            out["raw"] = None if self.raw is None else float(self.raw)
        return out


def odi_band(score: Any) -> str:
    """ODI band for a 0-100 score: minimal, moderate, severe, crippled, bed_bound."""
    value = _decimal(score, "score")
    if not 0 <= value <= 100:
        raise InstrumentError("score", "must be between 0 and 100")
    return _band(value, ODI_BANDS, ODI_BAND_ABOVE)


def ndi_band(raw: Any) -> str:
    """NDI band for a raw 0-50 score: none, mild, moderate, severe, complete."""
    value = _decimal(raw, "raw")
    if not 0 <= value <= SECTION_COUNT * SECTION_MAX:
        raise InstrumentError("raw", f"must be between 0 and {SECTION_COUNT * SECTION_MAX}")
    return _band(value, NDI_BANDS, NDI_BAND_ABOVE)


def _unscored_reason(unanswered: int) -> str:
    return (
        f"{unanswered} of {SECTION_COUNT} sections unanswered; a score needs at least "
        f"{SECTION_COUNT - MAX_UNANSWERED} answered sections"
    )


def _percentage(answers: tuple[int | None, ...]) -> tuple[int, int, int]:
    """(sum, answered, unanswered)."""
    given = [a for a in answers if a is not None]
    return sum(given), len(given), SECTION_COUNT - len(given)


def score_odi(answers: Any) -> QuestionnaireScore:
    """Oswestry Disability Index: sum / (5 x answered) x 100, 1 decimal."""
    values = _validate_answers(answers, ODI_SECTIONS)
    total, answered, unanswered = _percentage(values)
    if unanswered > MAX_UNANSWERED:
        return QuestionnaireScore("odi", values, None, None, answered, _unscored_reason(unanswered))
    score = _round1(total * 100, SECTION_MAX * answered)
    return QuestionnaireScore("odi", values, score, odi_band(score), answered)


def score_ndi(answers: Any) -> QuestionnaireScore:
    """Neck Disability Index: percentage as ODI; raw = percentage / 2 (0-50).

    ``raw`` is computed from the unrounded percentage; with one item
    missing this equals Vernon's rule of adding the average of the answered
    items.  The band is taken from the rounded raw score.
    """
    values = _validate_answers(answers, NDI_SECTIONS)
    total, answered, unanswered = _percentage(values)
    if unanswered > MAX_UNANSWERED:
        return QuestionnaireScore("ndi", values, None, None, answered, _unscored_reason(unanswered))
    score = _round1(total * 100, SECTION_MAX * answered)
    raw = _round1(total * 100, SECTION_MAX * answered * 2)
    return QuestionnaireScore("ndi", values, score, ndi_band(raw), answered, None, raw)


# ---------------------------------------------------------------------------
# NRS, PGIC
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class NrsScore:
    """Pain numeric rating scale, 0 (no pain) to 10 (worst pain)."""

    score: int

    def to_dict(self) -> dict[str, Any]:
        return {"instrument": "nrs", "score": self.score}


@dataclass(frozen=True)
class PgicScore:
    """Patient Global Impression of Change, 1 (very much improved) to 7 (very much worse)."""

    score: int

    @property
    def code(self) -> str:
        return PGIC_CHOICES[self.score][0]

    @property
    def label(self) -> str:
        return PGIC_CHOICES[self.score][1]

    def to_dict(self) -> dict[str, Any]:
        return {"instrument": "pgic", "score": self.score, "code": self.code, "label": self.label}


def score_nrs(value: Any, *, field: str = "nrs") -> NrsScore:
    """Validate an NRS pain score (whole number 0-10)."""
    return NrsScore(_integer(value, field, NRS_MIN, NRS_MAX))


def score_pgic(value: Any, *, field: str = "pgic") -> PgicScore:
    """Validate a PGIC answer (whole number 1-7) and attach its label."""
    return PgicScore(_integer(value, field, 1, 7))


# ---------------------------------------------------------------------------
# Responders
# ---------------------------------------------------------------------------

_OSTELO = "Ostelo RW et al. Spine 2008;33(1):90-94"
_VERNON = "Vernon H, Mior S. JMPT 1991;14(7):409-415; MCID 5 raw points (chiro.org NDI_Explain)"


@dataclass(frozen=True)
class ResponderThresholds:
    """Minimal important change per instrument.  A ``*_percent`` of None disables that rule.

    A patient is a responder when the improvement (baseline - follow-up)
    reaches the points threshold, or, with a baseline above 0, reaches the
    percent threshold (compared on the unrounded percentage).
    """

    odi_points: Decimal = Decimal(10)
    odi_percent: Decimal | None = Decimal(30)
    odi_source: str = _OSTELO
    nrs_points: Decimal = Decimal(2)
    nrs_percent: Decimal | None = Decimal(30)
    nrs_source: str = _OSTELO
    # NDI on the 0-100 percentage scale: 10 points = 5 raw points.
    ndi_points: Decimal = Decimal(10)
    ndi_percent: Decimal | None = None
    ndi_source: str = _VERNON

    def __post_init__(self) -> None:
        for name in _CHANGE_INSTRUMENTS:
            points_field = f"{name}_points"
            points = _decimal(getattr(self, points_field), points_field)
            if points <= 0:
                raise InstrumentError(points_field, "must be greater than 0")
            object.__setattr__(self, points_field, points)
            percent_field = f"{name}_percent"
            percent = getattr(self, percent_field)
            if percent is not None:
                percent = _decimal(percent, percent_field)
                if not 0 < percent <= 100:
                    raise InstrumentError(percent_field, "must be greater than 0 and at most 100")
                object.__setattr__(self, percent_field, percent)
            source_field = f"{name}_source"
            if not isinstance(getattr(self, source_field), str):
                raise InstrumentError(source_field, "must be a string")

    def points(self, instrument: str) -> Decimal:
        return getattr(self, f"{instrument}_points")

    def percent(self, instrument: str) -> Decimal | None:
        return getattr(self, f"{instrument}_percent")

    def rule(self) -> tuple:
        """The numbers alone (points and percents), without the sources: what decides a responder."""
        return tuple((self.points(name), self.percent(name)) for name in _CHANGE_INSTRUMENTS)

    def describe(self, instrument: str) -> str:
        """The rule in words: "at least 10 points or 30 %" (NDI points are percentage points of 0-100)."""
        text = f"at least {_plain(self.points(instrument))} points"
        percent = self.percent(instrument)
        return text if percent is None else f"{text} or {_plain(percent)} %"

    @classmethod
    def from_dict(cls, mapping: Any) -> ResponderThresholds:
        """The inverse of `to_dict`; an instrument left out keeps its default. Raises InstrumentError."""
        if not isinstance(mapping, Mapping):
            raise InstrumentError("thresholds", f"expected an object, got {_type_name(mapping)}")
        unknown = sorted(str(key) for key in mapping if key not in _CHANGE_INSTRUMENTS)
        if unknown:
            raise InstrumentError(unknown[0], "unknown instrument")
        values: dict[str, Any] = {}
        for name, rule in mapping.items():
            if not isinstance(rule, Mapping):
                raise InstrumentError(name, f"expected an object, got {_type_name(rule)}")
            extra = sorted(str(key) for key in rule if key not in ("points", "percent", "source"))
            if extra:
                raise InstrumentError(f"{name}.{extra[0]}", "unknown field")
            for key in ("points", "percent", "source"):
                if key in rule:
                    values[f"{name}_{key}"] = rule[key]
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in _CHANGE_INSTRUMENTS:
            percent = self.percent(name)
            out[name] = {
                "points": float(self.points(name)),
                "percent": None if percent is None else float(percent),
                "source": getattr(self, f"{name}_source"),
            }
        return out


DEFAULT_THRESHOLDS = ResponderThresholds()


def _plain(number: Decimal) -> str:
    """10 -> "10", 2.50 -> "2.5": a threshold as a person writes it."""
    text = f"{number:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


@dataclass(frozen=True)
class ChangeResult:
    instrument: str
    baseline: Decimal
    followup: Decimal
    change: Decimal  # baseline - follow-up; improvement is positive
    percent_change: Decimal | None  # 1 decimal; None when baseline is 0
    responder: bool

    def to_dict(self) -> dict[str, Any]:
        change_out: int | float = int(self.change) if self.instrument == "nrs" else float(self.change)
        return {
            "change": change_out,
            "percent_change": None if self.percent_change is None else float(self.percent_change),
            "responder": self.responder,
        }


def _change_value(instrument: str, value: Any, field_name: str) -> Decimal:
    if instrument == "nrs":
        return Decimal(_integer(value, field_name, NRS_MIN, NRS_MAX))
    number = _decimal(value, field_name)
    if not 0 <= number <= 100:
        raise InstrumentError(field_name, "must be between 0 and 100")
    return number


def change(
    instrument: str,
    baseline: Any,
    followup: Any,
    thresholds: ResponderThresholds = DEFAULT_THRESHOLDS,
) -> ChangeResult:
    """Change from baseline and responder status for ODI, NDI (0-100 %) or NRS (0-10)."""
    if not isinstance(instrument, str) or instrument not in _CHANGE_INSTRUMENTS:
        raise InstrumentError("instrument", "must be one of: " + ", ".join(_CHANGE_INSTRUMENTS))
    if not isinstance(thresholds, ResponderThresholds):
        raise InstrumentError("thresholds", f"must be ResponderThresholds, got {_type_name(thresholds)}")
    base = _change_value(instrument, baseline, "baseline")
    follow = _change_value(instrument, followup, "followup")
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        delta = base - follow
        if delta.is_zero():
            delta = delta.copy_abs()
        points_ok = delta >= thresholds.points(instrument)
        percent_threshold = thresholds.percent(instrument)
        if base == 0:
            percent_change = None
            percent_ok = False
        else:
            percent_change = _round1(delta * 100, base)
            # Unrounded comparison without division: delta / base x 100 >= threshold.
            percent_ok = percent_threshold is not None and delta * 100 >= percent_threshold * base
    return ChangeResult(
        instrument=instrument,
        baseline=base,
        followup=follow,
        change=delta,
        percent_change=percent_change,
        responder=bool(points_ok or percent_ok),
    )


# ---------------------------------------------------------------------------
# CLI input
# ---------------------------------------------------------------------------


def parse_answers_file(mapping: Any) -> list[int | None]:
    """Validate the CLI's ``{"answers": [...]}`` document; return the 10 answers."""
    if not isinstance(mapping, Mapping):
        raise InstrumentError("answers", f'expected an object with an "answers" list, got {_type_name(mapping)}')
    for key in mapping:
        if not isinstance(key, str):
            raise InstrumentError(repr(key), "unknown field (keys must be strings)")
    unknown = sorted(k for k in mapping if k != "answers")
    if unknown:
        raise InstrumentError(unknown[0], "unknown field")
    if "answers" not in mapping:
        raise InstrumentError("answers", "is required")
    return list(_validate_answers(mapping["answers"]))
