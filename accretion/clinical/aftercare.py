"""Aftercare plan for a PRP spine injection: key dates, advice and follow-ups.

Pure Python (standard library only).  Web pages, the JSON API and the CLI all
call :func:`plan` so that a patient sees the same dates everywhere.

Every patient-facing text is a stable ``code`` plus an English default text,
so a translation layer can map the code to another language later.

Sources are in the clinical reference (sections 4, 6 and 8)
and are cited next to each constant.  Where the published clinic sheets
disagree, the value is a clinic setting (:class:`AftercareProtocol`) whose
default is a starting point for the clinic's medical director, not a rule.
"""

from __future__ import annotations

import calendar
import datetime as _dt
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from accretion.clinical import followup
from accretion.clinical.errors import FieldError

__all__ = [
    "ACETAMINOPHEN_ALTERNATIVE",
    "CALL_TEXT",
    "COLD_OR_HEAT_CHOICES",
    "COLD_OR_HEAT_TEXT",
    "DEFAULT_ACTIVITY_GUIDANCE",
    "DEFAULT_FOLLOW_UPS",
    "DEFAULT_PROTOCOL",
    "NO_DRIVING_DAYS",
    "NO_SOAKING_DAYS",
    "NSAID_DAYS_MAX",
    "NSAID_DAYS_MIN",
    "SORENESS_DAYS_MAX",
    "SORENESS_DAYS_MIN",
    "WARNING_SIGNS",
    "WINDOW_LIMITS",
    "AftercareError",
    "AftercarePlan",
    "AftercareProtocol",
    "FollowUp",
    "WarningSign",
    "add_months",
    "follow_up_due",
    "parse_follow_up_key",
    "parse_protocol",
    "plan",
]


class AftercareError(FieldError):
    """Invalid aftercare input.  ``str(err)`` is ``"{field}: {message}"``."""


# ---------------------------------------------------------------------------
# Clinical constants
# ---------------------------------------------------------------------------

# NSAID avoidance after PRP.  Clinic sheets say ">= 2 weeks, the longer the
# better" (jeffreypengmd.com; sagepainmanagement.com; reference section 8).
# The default of 7 days is the clinic protocol's starting point; the medical
# director may choose 5 to 14 days.
NSAID_DAYS_DEFAULT = 7
NSAID_DAYS_MIN = 5
NSAID_DAYS_MAX = 14

# Expected injection-site soreness: worst at 2-3 days (sagepainmanagement.com;
# orthopedicspecialistsofseattle.com; reference section 8), i.e. 48-72 hours.
# Stiffness can last up to a week, so a clinic may set up to 14 days.
SORENESS_DAYS_DEFAULT = 3
SORENESS_DAYS_MIN = 1
SORENESS_DAYS_MAX = 14

# Follow-up questionnaire windows: days either side of the due date (the
# registry's defaults: weeks +/-7, up to 3 months +/-14, later +/-30; see
# accretion.clinical.followup).  The limits keep a weekly questionnaire from
# opening before the first week is over and a window from swallowing the next
# follow-up of the default schedule.
WINDOW_LIMITS = {"window_weeks_days": (1, 13), "window_3m_days": (1, 30), "window_later_days": (1, 60)}

# No driving for 24 hours after a spinal injection (sw.org spinal-injection
# sheet; UI Health; reference section 8).
NO_DRIVING_DAYS = 1

# No tub baths, pools or hot tubs: 24 h (sw.org) or 2 days (UI Health); the
# longer of the two is used (reference section 8).
NO_SOAKING_DAYS = 2

# Ice vs heat: sources conflict (reference section 8).  Heat and no ice
# (jeffreypengmd.com); moist heat first 24 h (Texas clinic); ice 20 min 3x/day
# for 48 h (orthopedicspecialistsofseattle.com); ice allowed (Sage); generic
# spine sheet: no heating pad for 24 h, ice OK (sw.org).  Hence a setting.
COLD_OR_HEAT_CHOICES = ("ice", "heat", "either")
COLD_OR_HEAT_DEFAULT = "ice"

COLD_OR_HEAT_TEXT: Mapping[str, str] = {
    "ice": (
        "For the first 48 to 72 hours, you may put an ice pack wrapped in a "
        "cloth on the injection area for up to 20 minutes, up to 3 times a "
        "day. Never put ice directly on the skin."
    ),
    "heat": (
        "Use gentle warmth, such as a warm moist towel, on the injection area "
        "for up to 20 minutes, up to 4 times a day during the first week. Do "
        "not use ice, and do not sleep on a heating pad."
    ),
    "either": (
        "You may use an ice pack or gentle warmth, whichever feels better, for "
        "up to 20 minutes at a time, a few times a day. Protect the skin with "
        "a cloth, and do not sleep on a heating pad."
    ),
}

# Activity: avoid strenuous or repetitive activity for 1 week
# (jeffreypengmd.com; reference section 8).  Editable by the clinic.
ACTIVITY_GUIDANCE_DEFAULT_CODE = "activity_default"
ACTIVITY_GUIDANCE_CUSTOM_CODE = "activity_custom"
DEFAULT_ACTIVITY_GUIDANCE = (
    "Take it easy for the first 2 days; light everyday activity such as "
    "walking is fine. For 1 week, avoid strenuous exercise, heavy lifting and "
    "repeated bending or twisting, then increase activity gradually as your "
    "clinician advises."
)
ACTIVITY_GUIDANCE_MAX_LENGTH = 2000

# Acetaminophen is allowed while NSAIDs are avoided (jeffreypengmd.com;
# sagepainmanagement.com; reference section 8).  Prescribed aspirin or
# antithrombotics are a prescriber's decision (reference section 3).
ACETAMINOPHEN_ALTERNATIVE: Mapping[str, str] = {
    "code": "acetaminophen_unless_contraindicated",
    "text": (
        "Until the date shown, do not take anti-inflammatory pain medicines "
        "(NSAIDs) such as ibuprofen or naproxen. For pain, use acetaminophen "
        "(Tylenol) as directed on the label, unless a doctor has told you not "
        "to take it. Do not stop aspirin or any blood thinner prescribed for "
        "your heart or circulation without asking the doctor who prescribed it."
    ),
}

# Whom to contact for each warning sign.
CALL_TEXT: Mapping[str, str] = {
    "clinic": "Call the clinic the same day. If the clinic is closed, go to an emergency department.",
    "emergency": "Go to the nearest emergency department now.",
}


@dataclass(frozen=True)
class WarningSign:
    """A symptom that needs attention, with whom to contact."""

    code: str
    text: str
    call: str  # "clinic" | "emergency"

    def to_dict(self) -> dict[str, str]:
        return {
            "code": self.code,
            "text": self.text,
            "call": self.call,
            "call_text": CALL_TEXT[self.call],
        }


# Fever threshold: temperature > 101 degrees F (jeffreypengmd.com;
# orthopedicspecialistsofseattle.com; phillysmartpain.com).  101 F = 38.3 C.
FEVER_THRESHOLD_C = "38.3"
FEVER_THRESHOLD_F = "101"

# Warning signs (reference section 8): fever/chills, redness, drainage
# (Peng; Seattle; Philly Smart Pain); new arm/leg weakness or numbness and
# loss of bowel or bladder control (Philly Smart Pain; UI Health -> ER;
# sw.org: worsening numbness -> ER); severe headache (First State Spine);
# neck stiffness -> ER (UI Health).
WARNING_SIGNS: tuple[WarningSign, ...] = (
    WarningSign(
        code="fever",
        text=(f"Fever above {FEVER_THRESHOLD_C} \u00b0C ({FEVER_THRESHOLD_F} \u00b0F), or shaking chills."),
        call="clinic",
    ),
    WarningSign(
        code="redness_or_drainage",
        text=(
            "Redness that spreads, swelling that keeps getting worse, or pus or other drainage from the injection site."
        ),
        call="clinic",
    ),
    WarningSign(
        code="new_weakness_or_numbness",
        text="New weakness or numbness in an arm or leg, or numbness that keeps getting worse.",
        call="emergency",
    ),
    WarningSign(
        code="bowel_or_bladder",
        text="Loss of bowel or bladder control, or being unable to pass urine or stool.",
        call="emergency",
    ),
    WarningSign(
        code="headache_or_stiff_neck",
        text="Severe headache or a stiff neck.",
        call="emergency",
    ),
)

# Follow-up schedule: the union of PRP spine trial schedules suggests
# baseline, 1 wk, 4-6 wk, 3, 6 and 12 mo (reference section 6).  A 2-week
# wound/side-effect check is added by the clinic protocol.
DEFAULT_FOLLOW_UPS: tuple[str, ...] = ("2w", "6w", "3m", "6m", "12m")
FOLLOW_UP_WEEKS_MAX = 104
FOLLOW_UP_MONTHS_MAX = 60
FOLLOW_UPS_MAX = 20

_FOLLOW_UP_RE = re.compile(r"([1-9][0-9]{0,2})([wm])")


# ---------------------------------------------------------------------------
# Date helpers
# ---------------------------------------------------------------------------


def add_months(day: _dt.date, months: int) -> _dt.date:
    """Add calendar months; a day missing from the target month becomes its last day.

    ``add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)``.
    ``months`` may be negative.  Raises ``OverflowError`` outside years 1-9999.
    """
    if isinstance(months, bool) or not isinstance(months, int):
        raise TypeError("months must be an int")
    if not isinstance(day, _dt.date) or isinstance(day, _dt.datetime):
        raise TypeError("day must be a datetime.date")
    index = day.year * 12 + (day.month - 1) + months
    year, month0 = divmod(index, 12)
    if not _dt.MINYEAR <= year <= _dt.MAXYEAR:
        raise OverflowError("date out of range")
    month = month0 + 1
    last = calendar.monthrange(year, month)[1]
    return _dt.date(year, month, min(day.day, last))


def parse_follow_up_key(key: Any, field_name: str = "follow_ups") -> tuple[int, str]:
    """Validate a follow-up key such as ``"2w"`` or ``"12m"``; return ``(n, unit)``."""
    if not isinstance(key, str):
        raise AftercareError(field_name, f"must be a string like '2w' or '3m', got {_type_name(key)}")
    match = _FOLLOW_UP_RE.fullmatch(key)
    if match is None:
        raise AftercareError(
            field_name,
            "must be <n>w (weeks) or <n>m (months), e.g. '2w' or '3m', with no leading zero",
        )
    n, unit = int(match.group(1)), match.group(2)
    if unit == "w" and not 1 <= n <= FOLLOW_UP_WEEKS_MAX:
        raise AftercareError(field_name, f"weeks must be between 1 and {FOLLOW_UP_WEEKS_MAX}")
    if unit == "m" and not 1 <= n <= FOLLOW_UP_MONTHS_MAX:
        raise AftercareError(field_name, f"months must be between 1 and {FOLLOW_UP_MONTHS_MAX}")
    return n, unit


def follow_up_due(procedure_date: _dt.date, key: str) -> _dt.date:
    """Due date of one follow-up: weeks add 7 days each, months are calendar months."""
    n, unit = parse_follow_up_key(key)
    if unit == "w":
        return procedure_date + _dt.timedelta(days=7 * n)
    return add_months(procedure_date, n)


# ---------------------------------------------------------------------------
# Protocol (clinic settings)
# ---------------------------------------------------------------------------


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    return type(value).__name__


def _check_int(value: Any, field_name: str, low: int, high: int) -> int:
    if isinstance(value, bool):
        raise AftercareError(field_name, "must be a whole number, got a boolean")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise AftercareError(field_name, "must be a finite whole number")
        raise AftercareError(field_name, "must be a whole number, got a decimal number")
    if not isinstance(value, int):
        raise AftercareError(field_name, f"must be a whole number, got {_type_name(value)}")
    if not low <= value <= high:
        raise AftercareError(field_name, f"must be between {low} and {high}, got {value}")
    return value


@dataclass(frozen=True)
class AftercareProtocol:
    """A clinic's aftercare settings.  Validated on construction."""

    nsaid_days: int = NSAID_DAYS_DEFAULT
    soreness_days: int = SORENESS_DAYS_DEFAULT
    cold_or_heat: str = COLD_OR_HEAT_DEFAULT
    activity_guidance: str = DEFAULT_ACTIVITY_GUIDANCE
    follow_ups: tuple[str, ...] = DEFAULT_FOLLOW_UPS
    window_weeks_days: int = followup.DEFAULT_WINDOWS[0][2]
    window_3m_days: int = followup.DEFAULT_WINDOWS[1][2]
    window_later_days: int = followup.DEFAULT_WINDOWS[2][2]

    def __post_init__(self) -> None:
        _check_int(self.nsaid_days, "nsaid_days", NSAID_DAYS_MIN, NSAID_DAYS_MAX)
        _check_int(self.soreness_days, "soreness_days", SORENESS_DAYS_MIN, SORENESS_DAYS_MAX)
        for name, (low, high) in WINDOW_LIMITS.items():
            _check_int(getattr(self, name), name, low, high)

        if not isinstance(self.cold_or_heat, str):
            raise AftercareError("cold_or_heat", f"must be a string, got {_type_name(self.cold_or_heat)}")
        if self.cold_or_heat not in COLD_OR_HEAT_CHOICES:
            raise AftercareError("cold_or_heat", "must be one of: " + ", ".join(COLD_OR_HEAT_CHOICES))

        if not isinstance(self.activity_guidance, str):
            raise AftercareError("activity_guidance", f"must be a string, got {_type_name(self.activity_guidance)}")
        if not self.activity_guidance.strip():
            raise AftercareError("activity_guidance", "must not be blank")
        if len(self.activity_guidance) > ACTIVITY_GUIDANCE_MAX_LENGTH:
            raise AftercareError("activity_guidance", f"must be at most {ACTIVITY_GUIDANCE_MAX_LENGTH} characters")

        follow_ups = self.follow_ups
        if isinstance(follow_ups, list):
            follow_ups = tuple(follow_ups)
            object.__setattr__(self, "follow_ups", follow_ups)
        if not isinstance(follow_ups, tuple):
            raise AftercareError("follow_ups", f"must be a list of keys, got {_type_name(follow_ups)}")
        if not follow_ups:
            raise AftercareError("follow_ups", "must list at least one follow-up")
        if len(follow_ups) > FOLLOW_UPS_MAX:
            raise AftercareError("follow_ups", f"must list at most {FOLLOW_UPS_MAX} follow-ups")
        seen: set[str] = set()
        for i, key in enumerate(follow_ups):
            parse_follow_up_key(key, f"follow_ups[{i}]")
            if key in seen:
                raise AftercareError(f"follow_ups[{i}]", f"duplicate follow-up '{key}'")
            seen.add(key)

    def to_dict(self) -> dict[str, Any]:
        return {
            "nsaid_days": self.nsaid_days,
            "soreness_days": self.soreness_days,
            "cold_or_heat": self.cold_or_heat,
            "activity_guidance": self.activity_guidance,
            "follow_ups": list(self.follow_ups),
            **{name: getattr(self, name) for name in WINDOW_LIMITS},
        }

    @property
    def windows(self) -> tuple[tuple[str, int, int], ...]:
        """The questionnaire windows in `accretion.clinical.followup.window`'s form."""
        (weeks, up_to_weeks, _), (months, up_to_3, _), (_, later, _) = followup.DEFAULT_WINDOWS
        return ((weeks, up_to_weeks, self.window_weeks_days), (months, up_to_3, self.window_3m_days),
                (months, later, self.window_later_days))


DEFAULT_PROTOCOL = AftercareProtocol()

_PROTOCOL_FIELDS = ("nsaid_days", "soreness_days", "cold_or_heat", "activity_guidance", "follow_ups", *WINDOW_LIMITS)


def parse_protocol(mapping: Any) -> AftercareProtocol:
    """Build an :class:`AftercareProtocol` from a JSON-like mapping.

    Every key is optional (a missing key or ``null`` takes the default);
    unknown keys are rejected.  Raises :class:`AftercareError`.
    """
    if not isinstance(mapping, Mapping):
        raise AftercareError("protocol", f"must be an object, got {_type_name(mapping)}")
    for key in mapping:
        if not isinstance(key, str):
            raise AftercareError(repr(key), "unknown field (keys must be strings)")
    unknown = sorted(k for k in mapping if k not in _PROTOCOL_FIELDS)
    if unknown:
        raise AftercareError(unknown[0], "unknown field")
    values = {k: mapping[k] for k in _PROTOCOL_FIELDS if mapping.get(k) is not None}
    if "follow_ups" in values:
        follow_ups = values["follow_ups"]
        if not isinstance(follow_ups, (list, tuple)):
            raise AftercareError("follow_ups", f"must be a list of keys, got {_type_name(follow_ups)}")
        values["follow_ups"] = tuple(follow_ups)
    return AftercareProtocol(**values)


# ---------------------------------------------------------------------------
# Plan
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class FollowUp:
    key: str
    due: _dt.date

    def to_dict(self) -> dict[str, str]:
        return {"key": self.key, "due": self.due.isoformat()}


@dataclass(frozen=True)
class AftercarePlan:
    procedure_date: _dt.date
    soreness_expected_through: _dt.date
    nsaid_avoid_through: _dt.date
    no_driving_through: _dt.date
    no_soaking_through: _dt.date
    cold_or_heat: str
    activity_guidance: str
    activity_guidance_is_default: bool
    warning_signs: tuple[WarningSign, ...] = field(default=WARNING_SIGNS)
    follow_ups: tuple[FollowUp, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "procedure_date": self.procedure_date.isoformat(),
            "soreness_expected_through": self.soreness_expected_through.isoformat(),
            "nsaid_avoid_through": self.nsaid_avoid_through.isoformat(),
            "no_driving_through": self.no_driving_through.isoformat(),
            "no_soaking_through": self.no_soaking_through.isoformat(),
            "cold_or_heat": {"code": self.cold_or_heat, "text": COLD_OR_HEAT_TEXT[self.cold_or_heat]},
            "activity_guidance": {
                "code": (
                    ACTIVITY_GUIDANCE_DEFAULT_CODE
                    if self.activity_guidance_is_default
                    else ACTIVITY_GUIDANCE_CUSTOM_CODE
                ),
                "text": self.activity_guidance,
            },
            "acetaminophen_alternative": dict(ACETAMINOPHEN_ALTERNATIVE),
            "warning_signs": [sign.to_dict() for sign in self.warning_signs],
            "follow_ups": [f.to_dict() for f in self.follow_ups],
        }


def _coerce_date(value: Any) -> _dt.date:
    if isinstance(value, _dt.datetime):
        raise AftercareError("procedure_date", "must be a date without a time")
    if isinstance(value, _dt.date):
        return value
    if isinstance(value, str):
        if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
            raise AftercareError("procedure_date", "must be an ISO date YYYY-MM-DD")
        try:
            return _dt.date.fromisoformat(value)
        except ValueError:
            raise AftercareError("procedure_date", "is not a valid calendar date") from None
    raise AftercareError("procedure_date", f"must be a date, got {_type_name(value)}")


def plan(procedure_date: _dt.date | str, protocol: AftercareProtocol = DEFAULT_PROTOCOL) -> AftercarePlan:
    """Aftercare plan for a procedure on ``procedure_date`` (a date or ISO string).

    All ``*_through`` dates are inclusive: the restriction or expectation
    applies up to and including that day.  Follow-ups are sorted by due date
    (protocol order breaks ties).
    """
    if not isinstance(protocol, AftercareProtocol):
        raise AftercareError("protocol", f"must be an AftercareProtocol, got {_type_name(protocol)}")
    day = _coerce_date(procedure_date)
    try:
        follow_ups = [FollowUp(key, follow_up_due(day, key)) for key in protocol.follow_ups]
        td = _dt.timedelta
        result = AftercarePlan(
            procedure_date=day,
            soreness_expected_through=day + td(days=protocol.soreness_days),
            nsaid_avoid_through=day + td(days=protocol.nsaid_days),
            no_driving_through=day + td(days=NO_DRIVING_DAYS),
            no_soaking_through=day + td(days=NO_SOAKING_DAYS),
            cold_or_heat=protocol.cold_or_heat,
            activity_guidance=protocol.activity_guidance,
            activity_guidance_is_default=protocol.activity_guidance == DEFAULT_ACTIVITY_GUIDANCE,
            warning_signs=WARNING_SIGNS,
            follow_ups=tuple(sorted(follow_ups, key=lambda f: f.due)),
        )
    except OverflowError:
        raise AftercareError("procedure_date", "is too late: follow-up dates pass the year 9999") from None
    return result
