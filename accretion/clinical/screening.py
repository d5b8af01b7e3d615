"""Spine PRP screening: a patient's intake in, a decision with findings out.

The rule set is pure and versioned: the web form, the JSON API and the
command line all call ``parse_intake`` then ``decide``. Every threshold and
window lives in ``ScreeningProtocol`` (the clinic's protocol, editable by its
medical director); every rule's severity and source lives in ``RULES``.
Sources refer to clinical-reference.md.

Unknown is never treated as no: an unanswered safety question is a finding of
its own, and a medication line that is not fully read as known drugs goes to
a physician's review.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from functools import cached_property, lru_cache
from types import MappingProxyType
from typing import Any

from . import medication_lines as _lines
from . import medications as _meds
from .antithrombotics import Antithrombotic
from .errors import FieldError

__all__ = [
    "CAUTION",
    "CONTRAINDICATION",
    "DECISIONS",
    "DEFAULT_PROTOCOL",
    "DIAGNOSES",
    "ELIGIBLE",
    "INELIGIBLE",
    "INFO",
    "MEDICATION_NAME_MAX",
    "NEURO_RED_FLAGS",
    "PLATELET_COUNT_MAX",
    "REGIONS",
    "REVIEW",
    "RULES",
    "RULES_BY_CODE",
    "SAFETY_QUESTIONS",
    "SEVERITIES",
    "SUPPORTED_DIAGNOSES",
    "TARGETS",
    "Decision",
    "FieldError",
    "Finding",
    "Intake",
    "IntakeError",
    "Medication",
    "ProtocolError",
    "Rule",
    "ScreeningProtocol",
    "decide",
    "intake_to_dict",
    "parse_intake",
    "rules_for",
]

# --------------------------------------------------------------------------
# Codes accepted in an intake
# --------------------------------------------------------------------------

REGIONS = ("cervical", "thoracic", "lumbar")
DIAGNOSES = (
    "facet_oa",
    "disc_degeneration_mild",
    "disc_degeneration_moderate",
    "disc_degeneration_severe",
    "spondylosis_nonradicular",
    "paraspinal_strain",
    "thoracolumbar_fascia_irritation",
    "post_discectomy",
    "post_fusion",
    "disc_herniation",
    "spinal_stenosis",
    "radiculopathy",
    "other",
)
SUPPORTED_DIAGNOSES = frozenset(
    {
        "facet_oa",
        "disc_degeneration_mild",
        "spondylosis_nonradicular",
        "paraspinal_strain",
        "thoracolumbar_fascia_irritation",
    }
)
TARGETS = (
    "facet_joint",
    "interspinous_ligament",
    "paraspinal_muscle",
    "thoracolumbar_fascia",
    "epidural",
    "intradiscal",
)
NEURO_RED_FLAGS = ("progressive_deficit", "cauda_equina", "myelopathy")
SAFETY_QUESTIONS = (
    "active_infection",
    "bleeding_disorder",
    "radicular_symptoms",
    "active_malignancy",
    "pregnant",
)

# Platelets are entered in 10^3/µL (= 10^9/L). A value above this is almost
# certainly a count per µL (e.g. 90000 for 90): refusing it keeps a unit slip
# from turning thrombocytopenia into a "normal" count.
PLATELET_COUNT_MAX = 5000
MEDICATION_NAME_MAX = 200

_PLAIN = {
    "progressive_deficit": "progressive neurological deficit",
    "cauda_equina": "cauda equina signs",
    "myelopathy": "myelopathy",
    "post_discectomy": "after discectomy",
    "post_fusion": "after spinal fusion",
    "epidural": "epidural",
    "intradiscal": "intradiscal",
    "disc_degeneration_moderate": "moderate disc degeneration",
    "disc_degeneration_severe": "severe disc degeneration",
    "disc_herniation": "disc herniation",
    "spinal_stenosis": "spinal stenosis",
    "active_infection": "active infection",
    "bleeding_disorder": "bleeding disorder",
    "neuro_red_flags": "neurological red flags",
    "medications": "current medications",
}

# --------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------


class IntakeError(FieldError):
    """An intake that cannot be screened as given."""


class ProtocolError(FieldError):
    """A screening protocol whose values make no sense."""


# --------------------------------------------------------------------------
# The intake
# --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Medication:
    name: str
    last_dose: date | None = None  # None: taken regularly up to now


@dataclass(frozen=True, slots=True)
class Intake:
    """A parsed, validated intake. Lists are tuples; None means not answered."""

    age: int
    region: str
    diagnoses: tuple[str, ...]
    planned_targets: tuple[str, ...]
    procedure_date: date
    active_infection: bool | None = None
    bleeding_disorder: bool | None = None
    radicular_symptoms: bool | None = None
    active_malignancy: bool | None = None
    pregnant: bool | None = None
    neuro_red_flags: tuple[str, ...] | None = None
    platelet_count: int | float | None = None
    medications: tuple[Medication, ...] | None = None
    steroid_injection_last_date: date | None = None


_INTAKE_KEYS = frozenset(f.name for f in fields(Intake))
_REQUIRED_KEYS = ("age", "region", "diagnoses", "planned_targets")
_MEDICATION_KEYS = frozenset({"name", "last_dose"})
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _shown(value: object, limit: int = 40) -> str:
    """A short, single-line, quoted rendering of a bad value for an error message."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _key_path(prefix: str, key: object) -> str:
    name = key if isinstance(key, str) else repr(key)
    name = name if name.isprintable() and len(name) <= 60 else _shown(name, 60)
    return f"{prefix}.{name}" if prefix else name


def _check_text(value: str, path: str) -> None:
    if "\x00" in value:
        raise IntakeError(path, "contains a NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise IntakeError(path, "contains a character that is not valid text") from None


def _parse_date(value: object, path: str) -> date:
    if isinstance(value, datetime):
        raise IntakeError(path, "must be a date (YYYY-MM-DD), not a date and time")
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        raise IntakeError(path, f"must be a date string YYYY-MM-DD, not {_type_name(value)}")
    _check_text(value, path)
    if not _ISO_DATE.fullmatch(value):
        raise IntakeError(path, f"must be a date in the form YYYY-MM-DD, got {_shown(value)}")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise IntakeError(path, f"{_shown(value)} is not a real calendar date") from None


def _type_name(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, Mapping):
        return "an object"
    return f"a {type(value).__name__}"


def _parse_bool(value: object, path: str) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    raise IntakeError(path, f"must be true, false or null, not {_type_name(value)}")


def _parse_list(value: object, path: str) -> list | tuple:
    if not isinstance(value, (list, tuple)):
        raise IntakeError(path, f"must be a list, not {_type_name(value)}")
    return value


def _parse_codes(value: object, path: str, allowed: tuple[str, ...]) -> tuple[str, ...]:
    """A list of codes; repeats are dropped, first-seen order kept."""
    items = _parse_list(value, path)
    allowed_set = frozenset(allowed)
    seen: dict[str, None] = {}
    for i, item in enumerate(items):
        item_path = f"{path}[{i}]"
        if not isinstance(item, str):
            raise IntakeError(item_path, f"must be a code string, not {_type_name(item)}")
        _check_text(item, item_path)
        if item not in allowed_set:
            raise IntakeError(
                item_path, f"unknown code {_shown(item)}; expected one of {', '.join(allowed)}"
            )
        seen.setdefault(item, None)
    return tuple(seen)


def _parse_age(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise IntakeError("age", f"must be a whole number of years, not {_type_name(value)}")
    if not 0 <= value <= 130:
        raise IntakeError("age", f"must be between 0 and 130 years, got {value}")
    return value


def _parse_region(value: object) -> str:
    if not isinstance(value, str):
        raise IntakeError("region", f"must be a code string, not {_type_name(value)}")
    _check_text(value, "region")
    if value not in REGIONS:
        raise IntakeError(
            "region", f"unknown code {_shown(value)}; expected one of {', '.join(REGIONS)}"
        )
    return value


def _parse_platelets(value: object) -> int | float | None:
    path = "platelet_count"
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise IntakeError(path, f"must be a number (10^3/µL), not {_type_name(value)}")
    if isinstance(value, float) and not math.isfinite(value):
        raise IntakeError(path, "must be a finite number")
    if value < 0:
        raise IntakeError(path, "cannot be negative")
    if value > PLATELET_COUNT_MAX:
        raise IntakeError(
            path,
            f"{value} is too high for a count in 10^3/µL; enter thousands per µL "
            "(250 for 250,000/µL)",
        )
    return value


def _parse_medications(value: object, procedure_date: date) -> tuple[Medication, ...] | None:
    if value is None:
        return None
    items = _parse_list(value, "medications")
    parsed = []
    for i, item in enumerate(items):
        path = f"medications[{i}]"
        if not isinstance(item, Mapping):
            raise IntakeError(path, f"must be an object with a name, not {_type_name(item)}")
        for key in item:
            if key not in _MEDICATION_KEYS:
                raise IntakeError(_key_path(path, key), "unknown field")
        if "name" not in item or item["name"] is None:
            raise IntakeError(f"{path}.name", "is required")
        name = item["name"]
        if not isinstance(name, str):
            raise IntakeError(f"{path}.name", f"must be a string, not {_type_name(name)}")
        _check_text(name, f"{path}.name")
        if len(name) > MEDICATION_NAME_MAX:
            raise IntakeError(
                f"{path}.name", f"is longer than {MEDICATION_NAME_MAX} characters"
            )
        name = name.strip()
        if not name:
            raise IntakeError(f"{path}.name", "is empty")
        last = item.get("last_dose")
        last_dose = None
        if last is not None:
            last_dose = _parse_date(last, f"{path}.last_dose")
            if last_dose > procedure_date:
                raise IntakeError(
                    f"{path}.last_dose",
                    f"{last_dose.isoformat()} is after the procedure date "
                    f"{procedure_date.isoformat()}",
                )
        parsed.append(Medication(name, last_dose))
    return tuple(parsed)


def parse_intake(data: Mapping[str, Any], *, today: date) -> Intake:
    """Validate an intake (the JSON shape) and return it as an ``Intake``.

    ``today`` is the default procedure date. Raises ``IntakeError`` naming
    the first field at fault.
    """
    if isinstance(today, datetime):
        today = today.date()
    if not isinstance(today, date):
        raise TypeError("today must be a datetime.date")
    if not isinstance(data, Mapping):
        raise IntakeError("$", f"the intake must be a JSON object, not {_type_name(data)}")
    for key in data:
        if key not in _INTAKE_KEYS:
            raise IntakeError(_key_path("", key), "unknown field")
    for key in _REQUIRED_KEYS:
        if data.get(key) is None:
            raise IntakeError(key, "is required")

    # Fields are checked in the order of the JSON shape, so the first error is stable.
    raw_date = data.get("procedure_date")
    procedure_date = today if raw_date is None else _parse_date(raw_date, "procedure_date")
    age = _parse_age(data["age"])
    region = _parse_region(data["region"])
    diagnoses = _parse_codes(data["diagnoses"], "diagnoses", DIAGNOSES)
    planned_targets = _parse_codes(data["planned_targets"], "planned_targets", TARGETS)
    if not planned_targets:
        raise IntakeError("planned_targets", "must name at least one target")
    answers = {key: _parse_bool(data.get(key), key) for key in SAFETY_QUESTIONS}
    flags = data.get("neuro_red_flags")
    if flags is not None:
        flags = _parse_codes(flags, "neuro_red_flags", NEURO_RED_FLAGS)
    platelet_count = _parse_platelets(data.get("platelet_count"))
    medications = _parse_medications(data.get("medications"), procedure_date)
    steroid_raw = data.get("steroid_injection_last_date")
    steroid_date = None
    if steroid_raw is not None:
        steroid_date = _parse_date(steroid_raw, "steroid_injection_last_date")
        if steroid_date > procedure_date:
            raise IntakeError(
                "steroid_injection_last_date",
                f"{steroid_date.isoformat()} is after the procedure date "
                f"{procedure_date.isoformat()}",
            )

    return Intake(
        age=age,
        region=region,
        diagnoses=diagnoses,
        planned_targets=planned_targets,
        procedure_date=procedure_date,
        neuro_red_flags=flags,
        platelet_count=platelet_count,
        medications=medications,
        steroid_injection_last_date=steroid_date,
        **answers,
    )


def intake_to_dict(intake: Intake) -> dict[str, Any]:
    """The intake in its JSON shape; ``parse_intake`` reads it back unchanged."""

    def iso(d: date | None) -> str | None:
        return None if d is None else d.isoformat()

    return {
        "procedure_date": intake.procedure_date.isoformat(),
        "age": intake.age,
        "region": intake.region,
        "diagnoses": list(intake.diagnoses),
        "planned_targets": list(intake.planned_targets),
        "active_infection": intake.active_infection,
        "bleeding_disorder": intake.bleeding_disorder,
        "radicular_symptoms": intake.radicular_symptoms,
        "active_malignancy": intake.active_malignancy,
        "pregnant": intake.pregnant,
        "neuro_red_flags": (
            None if intake.neuro_red_flags is None else list(intake.neuro_red_flags)
        ),
        "platelet_count": intake.platelet_count,
        "medications": (
            None
            if intake.medications is None
            else [{"name": m.name, "last_dose": iso(m.last_dose)} for m in intake.medications]
        ),
        "steroid_injection_last_date": iso(intake.steroid_injection_last_date),
    }


# --------------------------------------------------------------------------
# The protocol: every threshold and window, editable by the medical director
# --------------------------------------------------------------------------

_NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,39}")
_PLATELET_THRESHOLD_MAX = 1000
_WINDOW_MAX_DAYS = 365
_PLATELET_FIELDS = ("platelet_contraindication_below", "platelet_review_below")
_WINDOW_FIELDS = (
    "nsaid_window_days",
    "systemic_steroid_window_days",
    "steroid_injection_window_days",
    "antithrombotic_current_window_days",
)


@dataclass(frozen=True)
class ScreeningProtocol:
    """Thresholds (platelets in 10^3/µL) and windows (whole days before the procedure)."""

    name: str = "default"
    version: str = "2026.2"
    platelet_contraindication_below: int | float = 100
    platelet_review_below: int | float = 150
    nsaid_window_days: int = 7
    systemic_steroid_window_days: int = 14
    steroid_injection_window_days: int = 30
    antithrombotic_current_window_days: int = 30

    def __post_init__(self) -> None:
        for key in ("name", "version"):
            value = getattr(self, key)
            if not isinstance(value, str) or not _NAME_PATTERN.fullmatch(value):
                raise ProtocolError(
                    key, "must be 1-40 letters, digits, dots, dashes or underscores"
                )
        for key in _PLATELET_FIELDS:
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ProtocolError(key, "must be a number (10^3/µL)")
            if not (math.isfinite(value) and 0 <= value <= _PLATELET_THRESHOLD_MAX):
                raise ProtocolError(key, f"must be between 0 and {_PLATELET_THRESHOLD_MAX}")
        if self.platelet_review_below < self.platelet_contraindication_below:
            raise ProtocolError(
                "platelet_review_below",
                "cannot be below platelet_contraindication_below",
            )
        for key in _WINDOW_FIELDS:
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, int):
                raise ProtocolError(key, "must be a whole number of days")
            if not 0 <= value <= _WINDOW_MAX_DAYS:
                raise ProtocolError(key, f"must be between 0 and {_WINDOW_MAX_DAYS} days")

    def _parameters(self) -> dict[str, Any]:
        params: dict[str, Any] = {k: float(getattr(self, k)) for k in _PLATELET_FIELDS}
        params.update({k: getattr(self, k) for k in _WINDOW_FIELDS})
        return params

    @cached_property
    def ruleset(self) -> str:
        """``name-version``, plus a hash of the parameters when they differ from the default."""
        base = f"{self.name}-{self.version}"
        params = self._parameters()
        if params == _DEFAULT_PARAMETERS:
            return base
        canonical = json.dumps(params, sort_keys=True, separators=(",", ":"))
        return f"{base}+{hashlib.sha256(canonical.encode()).hexdigest()[:8]}"

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ScreeningProtocol:
        """Build from a mapping; missing keys take the default. Raises ``ProtocolError``."""
        if not isinstance(data, Mapping):
            raise ProtocolError("$", "the protocol must be a JSON object")
        known = {f.name for f in fields(cls)}
        for key in data:
            if key not in known:
                raise ProtocolError(_key_path("", key), "unknown field")
        return cls(**data)


_DEFAULT_PARAMETERS = ScreeningProtocol()._parameters()
DEFAULT_PROTOCOL = ScreeningProtocol()

# --------------------------------------------------------------------------
# The rules: the one place that holds each code's severity and source
# --------------------------------------------------------------------------

CONTRAINDICATION = "contraindication"
REVIEW = "review"
CAUTION = "caution"
INFO = "info"
SEVERITIES = (CONTRAINDICATION, REVIEW, CAUTION, INFO)

ELIGIBLE = "eligible"
INELIGIBLE = "ineligible"
DECISIONS = (ELIGIBLE, REVIEW, INELIGIBLE)  # from best to worst

_REF = "clinical-reference.md"
_MEDSCAPE = "Medscape, Le QD 2018; yesprpkit.com"


@dataclass(frozen=True, slots=True)
class Rule:
    code: str
    severity: str
    description: str  # when it fires, in plain words
    source: str


# (code, severity, description template, source). Table order = report order
# within a severity. Templates take the protocol's fields.
_RULE_TABLE: tuple[tuple[str, str, str, str], ...] = (
    (
        "ACTIVE_INFECTION",
        CONTRAINDICATION,
        "The patient has an active infection.",
        (f"{_REF} §4: septicaemia and local infection at the site are absolute "
        f"contraindications ({_MEDSCAPE})"),
    ),
    (
        "BLEEDING_DISORDER",
        CONTRAINDICATION,
        "The patient has a bleeding disorder.",
        (f"{_REF} §4: platelet dysfunction syndrome is an absolute contraindication "
        f"({_MEDSCAPE}); haemorrhagic disorder is a trial exclusion (NCT04816747)"),
    ),
    (
        "THROMBOCYTOPENIA",
        CONTRAINDICATION,
        "The platelet count is below {platelet_contraindication_below} x10^3/µL.",
        (f"{_REF} §4: thrombocytopenia with platelets <100,000/µL is a relative "
        f"contraindication, critical thrombocytopenia an absolute one ({_MEDSCAPE}); "
        "ruling it out below the threshold is clinic protocol"),
    ),
    (
        "NEURO_RISK",
        CONTRAINDICATION,
        ("Any neurological red flag is present: progressive deficit, cauda equina "
        "signs or myelopathy."),
        ("clinic protocol: red flags need urgent assessment, not an elective "
        f"injection (no PRP-specific source in {_REF}; cf. §8 warning signs)"),
    ),
    (
        "PLATELETS_LOW",
        REVIEW,
        ("The platelet count is at least {platelet_contraindication_below} but below "
        "{platelet_review_below} x10^3/µL."),
        (f"{_REF} §1: normal blood platelets 150,000-450,000/µL (secondary); the "
        "review band is clinic protocol"),
    ),
    (
        "ANTICOAGULANT",
        REVIEW,
        ("The patient takes an anticoagulant regularly or took one fewer than "
        "{antithrombotic_current_window_days} days before the procedure date."),
        (f"{_REF} §3c: ASRA 2018 pain guideline (Narouze et al., RAPM 2018;43:225-262) "
        "with proxy values labelled; §4: antithrombotic regimen is a trial exclusion "
        "(NCT04816747); the 'current' window is clinic protocol"),
    ),
    (
        "ANTIPLATELET",
        REVIEW,
        ("The patient takes an antiplatelet regularly or took one fewer than "
        "{antithrombotic_current_window_days} days before the procedure date."),
        (f"{_REF} §3c: ASRA 2018 pain guideline (Narouze et al., RAPM 2018;43:225-262) "
        "with proxy values labelled; §4: antithrombotic regimen is a trial exclusion "
        "(NCT04816747); the 'current' window is clinic protocol"),
    ),
    (
        "POST_SURGICAL",
        REVIEW,
        "The patient has had a discectomy or a spinal fusion.",
        f"{_REF} §4: prior spine surgery is a trial exclusion (NCT04816747)",
    ),
    (
        "TARGET_INVESTIGATIONAL",
        REVIEW,
        "An epidural or intradiscal injection is planned.",
        (f"{_REF} §6: intradiscal and epidural PRP trials are mixed (Dutch intradiscal "
        "RCT 2024: no difference at 12 months, one spondylodiscitis; Bise 2020, "
        "Xu 2021: no difference from steroid); §3b: intermediate or neuraxial "
        "bleeding-risk procedures (VERIFY)"),
    ),
    (
        "NO_SUPPORTED_INDICATION",
        REVIEW,
        ("None of the diagnoses is a supported indication (facet osteoarthritis, "
        "mild disc degeneration, non-radicular spondylosis, paraspinal strain, "
        "thoracolumbar fascia irritation)."),
        f"clinic protocol (indication list set by the medical director; cf. {_REF} §6)",
    ),
    (
        "RADICULAR",
        REVIEW,
        "Radiculopathy is diagnosed or the patient reports radicular symptoms.",
        ("clinic protocol: the supported indications are non-radicular; "
        f"transforaminal PRP trials are mixed ({_REF} §6: Xu 2021, Saraf 2023, "
        "Gupta 2024)"),
    ),
    (
        "DEGENERATION_ADVANCED",
        REVIEW,
        "Disc degeneration is moderate or severe.",
        f"{_REF} §4: Pfirrmann grade IV-V is a trial exclusion (NCT04816747)",
    ),
    (
        "MALIGNANCY",
        REVIEW,
        "The patient has an active malignancy.",
        (f"{_REF} §4: cancer, especially haematopoietic or bone, is a relative "
        f"contraindication ({_MEDSCAPE}); spinal tumour is a trial exclusion "
        "(NCT04816747)"),
    ),
    (
        "PREGNANCY",
        REVIEW,
        "The patient is pregnant.",
        (f"{_REF} §4: pregnancy is a trial exclusion (NCT04822753; SIJ PRP trial, "
        "trialx 251600) and listed as a contraindication by a clinic (secondary)"),
    ),
    (
        "MISSING_SAFETY_DATA",
        REVIEW,
        ("Active infection, bleeding disorder, neurological red flags or current "
        "medications were not answered. Unknown is never treated as no."),
        "clinic protocol",
    ),
    (
        "MEDICATION_UNRECOGNIZED",
        REVIEW,
        ("A medication line names no drug the system can identify, or has words it cannot read "
        "as a drug or as dose, route or frequency text. Unknown is never treated as no."),
        ("clinic protocol: an unidentified medicine may be an anticoagulant or antiplatelet "
        f"({_REF} §3c); names are read with a drug-name dictionary, never guessed"),
    ),
    (
        "NSAID_RECENT",
        CAUTION,
        ("An NSAID is taken regularly or was last taken fewer than "
        "{nsaid_window_days} days before the procedure date."),
        (f"{_REF} §4: regular NSAID use within 48 h is a relative contraindication "
        f"({_MEDSCAPE}); clinics stop NSAIDs 4 days to 1 week before (Orthopedic "
        "Specialists of Seattle; secretmedspa.com, secondary); the window is "
        "clinic protocol"),
    ),
    (
        "STEROID_RECENT",
        CAUTION,
        ("A systemic corticosteroid is taken regularly or was last taken fewer than "
        "{systemic_steroid_window_days} days before, or a steroid injection was "
        "given fewer than {steroid_injection_window_days} days before the procedure "
        "date."),
        (f"{_REF} §4: systemic corticosteroids within 2 weeks and a corticosteroid "
        f"injection at the site within 1 month are relative contraindications "
        f"({_MEDSCAPE})"),
    ),
    (
        "STRUCTURAL_EXPECTATION",
        CAUTION,
        ("Disc herniation or spinal stenosis is diagnosed: PRP does not reverse "
        "them, so expectations must be discussed and documented at consent."),
        (f"{_REF} §4: herniation and stenosis are trial exclusions (NCT04816747); "
        "consent discussion is clinic protocol"),
    ),

)


def _number(value: float) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def rules_for(protocol: ScreeningProtocol = DEFAULT_PROTOCOL) -> tuple[Rule, ...]:
    """The rule catalog with the protocol's thresholds written into the descriptions."""
    values = {k: _number(v) for k, v in protocol.to_dict().items()}
    return tuple(Rule(c, s, d.format(**values), src) for c, s, d, src in _RULE_TABLE)


RULES: tuple[Rule, ...] = rules_for(DEFAULT_PROTOCOL)
RULES_BY_CODE: Mapping[str, Rule] = MappingProxyType({r.code: r for r in RULES})

_SEVERITY_RANK = {s: i for i, s in enumerate(SEVERITIES)}
_ORDER = {r.code: (_SEVERITY_RANK[r.severity], i) for i, r in enumerate(RULES)}

# --------------------------------------------------------------------------
# The decision
# --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Finding:
    code: str
    severity: str
    message: str
    source: str

    def to_dict(self) -> dict[str, str]:
        return {
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "source": self.source,
        }


@dataclass(frozen=True, slots=True)
class Decision:
    decision: str  # ELIGIBLE, REVIEW or INELIGIBLE
    ruleset: str
    findings: tuple[Finding, ...] = field(default=())
    medications: tuple[_lines.Reading, ...] = field(default=())  # each line as it was read
    # The anticoagulants and antiplatelets of the ANTICOAGULANT and ANTIPLATELET findings.
    antithrombotics: tuple[Antithrombotic, ...] = field(default=())

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(f.code for f in self.findings)

    def to_dict(self) -> dict[str, Any]:
        return {
            "decision": self.decision,
            "ruleset": self.ruleset,
            "findings": [f.to_dict() for f in self.findings],
            "medications": [m.to_dict() for m in self.medications],
            "antithrombotics": [a.to_dict() for a in self.antithrombotics],
        }


def _finding(code: str, message: str) -> Finding:
    rule = RULES_BY_CODE[code]
    return Finding(code, rule.severity, message, rule.source)


# Findings whose wording never changes are built once.
_ACTIVE_INFECTION = _finding(
    "ACTIVE_INFECTION",
    "The patient has an active infection. PRP must not be injected until the "
    "infection has cleared.",
)
_BLEEDING_DISORDER = _finding(
    "BLEEDING_DISORDER",
    "The patient has a bleeding disorder. PRP injection is ruled out.",
)
_NO_SUPPORTED_INDICATION = _finding(
    "NO_SUPPORTED_INDICATION",
    "None of the diagnoses is on the clinic's list of supported indications for "
    "spine PRP (facet osteoarthritis, mild disc degeneration, non-radicular "
    "spondylosis, paraspinal strain, thoracolumbar fascia irritation). A "
    "physician must decide whether to go ahead.",
)
_MALIGNANCY = _finding(
    "MALIGNANCY",
    "The patient has an active cancer. A physician must review before PRP.",
)
_PREGNANCY = _finding(
    "PREGNANCY",
    "The patient is pregnant. A physician must review before PRP.",
)
_RADICULAR = {
    key: _finding(
        "RADICULAR",
        f"{what}. The clinic's PRP indications are for non-radicular pain; a "
        "physician must review.",
    )
    for key, what in (
        ((True, False), "Radiculopathy is diagnosed"),
        ((False, True), ("The patient reports radicular symptoms (pain, numbness or "
         "tingling spreading down an arm or leg)")),
        ((True, True), ("Radiculopathy is diagnosed and the patient reports "
         "radicular symptoms")),
    )
}

_POST_SURGICAL_CODES = ("post_discectomy", "post_fusion")
_INVESTIGATIONAL_TARGETS = ("epidural", "intradiscal")
_ADVANCED_CODES = ("disc_degeneration_moderate", "disc_degeneration_severe")
_STRUCTURAL_CODES = ("disc_herniation", "spinal_stenosis")
_POST_SURGICAL_SET = frozenset(_POST_SURGICAL_CODES)
_INVESTIGATIONAL_SET = frozenset(_INVESTIGATIONAL_TARGETS)
_ADVANCED_SET = frozenset(_ADVANCED_CODES)
_STRUCTURAL_SET = frozenset(_STRUCTURAL_CODES)
_NEURO_SET = frozenset(NEURO_RED_FLAGS)


def _named(codes: tuple[str, ...], present: frozenset[str] | tuple[str, ...]) -> str:
    """The present codes, in their canonical order, in plain words."""
    return " and ".join(_PLAIN[c] for c in codes if c in present)


_MULTI_CODE_FINDINGS: dict[tuple[str, frozenset[str]], Finding] = {}


def _code_finding(code: str, present: frozenset[str], build) -> Finding:
    """Findings that depend only on which codes are present, built once per combination."""
    key = (code, present)
    found = _MULTI_CODE_FINDINGS.get(key)
    if found is None:
        found = _MULTI_CODE_FINDINGS[key] = _finding(code, build(present))
    return found


def _post_surgical_message(present: frozenset[str]) -> str:
    return (
        f"Previous spine surgery ({_named(_POST_SURGICAL_CODES, present)}). "
        "A physician must review before PRP."
    )


def _investigational_message(present: frozenset[str]) -> str:
    return (
        f"Planned {_named(_INVESTIGATIONAL_TARGETS, present)} injection: PRP at this "
        "target is still investigational and carries a higher procedure risk. "
        "A physician must review."
    )


def _advanced_message(present: frozenset[str]) -> str:
    return (
        f"Diagnosis of {_named(_ADVANCED_CODES, present)}: outside the clinic's "
        "indication for mild degeneration. A physician must review."
    )


def _structural_message(present: frozenset[str]) -> str:
    return (
        f"Diagnosis of {_named(_STRUCTURAL_CODES, present)}: PRP does not reverse "
        f"{'them' if len(present) > 1 else 'it'}. "
        "Discuss realistic expectations with the patient and document this at consent."
    )


def _neuro_message(present: frozenset[str]) -> str:
    return (
        f"Neurological red flag: {_named(NEURO_RED_FLAGS, present)}. This needs "
        "urgent medical assessment; an elective PRP injection is ruled out."
    )


def _missing_message(present: frozenset[str]) -> str:
    order = ("active_infection", "bleeding_disorder", "neuro_red_flags", "medications")
    listed = ", ".join(_PLAIN[k] for k in order if k in present)
    return (
        f"Not answered: {listed}. Unknown is not the same as no: get these answers "
        "before the procedure."
    )


def _display(name: str) -> str:
    """A medication name as typed, on one line, quoted."""
    text = " ".join(name.split())
    if not text.isprintable():
        text = "".join(ch if ch.isprintable() else "\ufffd" for ch in text)
    return f'"{text}"'


@lru_cache(maxsize=4096)
def _entered_as(name: str, generic: str) -> tuple[str | None, str]:
    """The name as typed (None when it is just the generic name), and the line with its spacing squashed."""
    return None if _meds.normalize_name(name) == generic else _display(name), " ".join(name.split())


def _when(days: int | None) -> str:
    if days is None:
        return "taken regularly"
    if days == 0:
        return "last taken on the procedure day"
    if days == 1:
        return "last taken 1 day before the procedure date"
    return f"last taken {days} days before the procedure date"


class _Exposure:
    """The most recent use of one drug across the intake's entries."""

    __slots__ = ("days", "drug", "lines", "names")

    def __init__(self, drug: _meds.Drug, name: str, days: int | None) -> None:
        self.drug = drug
        self.days = days  # None: taken regularly
        self.names: set[str] = set()
        self.lines: dict[str, None] = {}  # the lines as entered, in order
        self._note(name)

    def _note(self, name: str) -> None:
        shown, line = _entered_as(name, self.drug.generic)
        if shown is not None:
            self.names.add(shown)
        self.lines.setdefault(line, None)

    def antithrombotic(self) -> Antithrombotic:
        return Antithrombotic(self.drug.generic, self.drug.drug_class, tuple(self.lines))

    def add(self, name: str, days: int | None) -> None:
        if self.days is not None and (days is None or days < self.days):
            self.days = days
        self._note(name)

    def phrase(self) -> str:
        entered = f" (entered as {', '.join(sorted(self.names))})" if self.names else ""
        return f"{self.drug.generic}{entered}, {_when(self.days)}"

    def current(self, window: int) -> bool:
        return self.days is None or self.days < window


def _antithrombotic_message(kind: str, current: list[_Exposure]) -> str:
    plural = "s" if len(current) > 1 else ""
    drugs = "; ".join(e.phrase() for e in current)
    refs = "; ".join(
        f"{e.drug.generic}: {e.drug.hold.describe() if e.drug.hold else 'none recorded'}"
        for e in current
    )
    return (
        f"Current {kind}{plural}: {drugs}. Bleeding risk: a physician must review "
        f"and decide whether, and for how long, to hold {'them' if plural else 'it'}. "
        f"The patient must not stop {'them' if plural else 'it'} on their own. "
        f"Reference hold interval{plural}, for the physician only and not an "
        f"instruction: {refs}."
    )


def _nsaid_message(current: list[_Exposure], window: int) -> str:
    drugs = "; ".join(e.phrase() for e in current)
    return (
        f"Anti-inflammatory (NSAID) use within {window} days of the procedure: {drugs}. "
        "NSAIDs may weaken the platelet response; the physician decides whether to "
        "postpone or ask for a break."
    )


def _steroid_message(
    current: list[_Exposure], window: int, injection_days: int | None, injection_window: int
) -> str:
    parts = []
    if current:
        drugs = "; ".join(e.phrase() for e in current)
        parts.append(f"Systemic steroid within {window} days of the procedure: {drugs}.")
    if injection_days is not None:
        parts.append(
            f"Steroid injection {injection_days} day{'s' if injection_days != 1 else ''} "
            f"before the procedure date (within {injection_window} days)."
        )
    parts.append("Steroids may weaken the healing response; the physician decides.")
    return " ".join(parts)


def _unread_entry(reading: _lines.Reading) -> str:
    shown = _display(reading.entered)
    if not reading.ingredients:
        return shown
    return f"{shown} (not read: {', '.join(reading.unread)})"


def _unrecognized_message(entries: dict[str, None]) -> str:
    return (
        f"Medication not identified: {'; '.join(sorted(entries))}. A physician must check what it is "
        "and whether it affects bleeding or healing before the procedure; misspelt names are "
        "not guessed."
    )


def _by_order(finding: Finding) -> tuple[int, int]:
    return _ORDER[finding.code]


def decide(intake: Intake, protocol: ScreeningProtocol = DEFAULT_PROTOCOL) -> Decision:
    """Screen one intake under a protocol. Pure: same input, same decision."""
    p = protocol
    out: list[Finding] = []
    add = out.append
    diagnoses = intake.diagnoses
    procedure_date = intake.procedure_date

    if intake.active_infection is True:
        add(_ACTIVE_INFECTION)
    if intake.bleeding_disorder is True:
        add(_BLEEDING_DISORDER)

    platelets = intake.platelet_count
    if platelets is not None:
        if platelets < p.platelet_contraindication_below:
            add(
                _finding(
                    "THROMBOCYTOPENIA",
                    f"Platelet count {_number(platelets)} x10^3/µL is below "
                    f"{_number(p.platelet_contraindication_below)}: too low for PRP.",
                )
            )
        elif platelets < p.platelet_review_below:
            add(
                _finding(
                    "PLATELETS_LOW",
                    f"Platelet count {_number(platelets)} x10^3/µL is below "
                    f"{_number(p.platelet_review_below)} (low). A physician must review.",
                )
            )

    flags = intake.neuro_red_flags
    if flags:
        add(_code_finding("NEURO_RISK", _NEURO_SET.intersection(flags), _neuro_message))

    medications = intake.medications
    steroids: list[_Exposure] = []
    readings: tuple[_lines.Reading, ...] = ()
    antithrombotics: tuple[Antithrombotic, ...] = ()
    if medications:
        exposures: dict[str, _Exposure] = {}
        unknown: dict[str, None] = {}
        readings = tuple(_lines.read(med.name) for med in medications)
        for med, reading in zip(medications, readings):
            if not reading.recognized:
                unknown.setdefault(_unread_entry(reading), None)
            last = med.last_dose
            days = None if last is None else (procedure_date - last).days
            for drug in reading.drugs:
                exposure = exposures.get(drug.generic)
                if exposure is None:
                    exposures[drug.generic] = _Exposure(drug, med.name, days)
                else:
                    exposure.add(med.name, days)
        if exposures:
            anticoagulants, antiplatelets, nsaids = [], [], []
            antithrombotic_window = p.antithrombotic_current_window_days
            for generic in sorted(exposures):
                exposure = exposures[generic]
                cls = exposure.drug.drug_class
                if cls == _meds.ANTICOAGULANT:
                    if exposure.current(antithrombotic_window):
                        anticoagulants.append(exposure)
                elif cls == _meds.ANTIPLATELET:
                    if exposure.current(antithrombotic_window):
                        antiplatelets.append(exposure)
                elif cls == _meds.NSAID:
                    if exposure.current(p.nsaid_window_days):
                        nsaids.append(exposure)
                elif exposure.current(p.systemic_steroid_window_days):
                    steroids.append(exposure)
            antithrombotics = tuple(e.antithrombotic() for e in (*anticoagulants, *antiplatelets))
            if anticoagulants:
                add(_finding("ANTICOAGULANT", _antithrombotic_message("anticoagulant", anticoagulants)))
            if antiplatelets:
                add(_finding("ANTIPLATELET", _antithrombotic_message("antiplatelet", antiplatelets)))
            if nsaids:
                add(_finding("NSAID_RECENT", _nsaid_message(nsaids, p.nsaid_window_days)))
        if unknown:
            add(_finding("MEDICATION_UNRECOGNIZED", _unrecognized_message(unknown)))

    injection = intake.steroid_injection_last_date
    injection_days = None
    if injection is not None:
        days = (procedure_date - injection).days
        if days < p.steroid_injection_window_days:
            injection_days = days
    if steroids or injection_days is not None:
        add(
            _finding(
                "STEROID_RECENT",
                _steroid_message(
                    steroids,
                    p.systemic_steroid_window_days,
                    injection_days,
                    p.steroid_injection_window_days,
                ),
            )
        )

    present = frozenset(diagnoses)
    if not _POST_SURGICAL_SET.isdisjoint(present):
        add(_code_finding("POST_SURGICAL", present & _POST_SURGICAL_SET, _post_surgical_message))
    targets = intake.planned_targets
    if not _INVESTIGATIONAL_SET.isdisjoint(targets):
        add(
            _code_finding(
                "TARGET_INVESTIGATIONAL",
                _INVESTIGATIONAL_SET.intersection(targets),
                _investigational_message,
            )
        )
    if SUPPORTED_DIAGNOSES.isdisjoint(present):
        add(_NO_SUPPORTED_INDICATION)
    radiculopathy = "radiculopathy" in present
    symptoms = intake.radicular_symptoms is True
    if radiculopathy or symptoms:
        add(_RADICULAR[(radiculopathy, symptoms)])
    if not _ADVANCED_SET.isdisjoint(present):
        add(_code_finding("DEGENERATION_ADVANCED", present & _ADVANCED_SET, _advanced_message))
    if intake.active_malignancy is True:
        add(_MALIGNANCY)
    if intake.pregnant is True:
        add(_PREGNANCY)

    missing = []
    if intake.active_infection is None:
        missing.append("active_infection")
    if intake.bleeding_disorder is None:
        missing.append("bleeding_disorder")
    if flags is None:
        missing.append("neuro_red_flags")
    if medications is None:
        missing.append("medications")
    if missing:
        add(_code_finding("MISSING_SAFETY_DATA", frozenset(missing), _missing_message))

    if not _STRUCTURAL_SET.isdisjoint(present):
        add(_code_finding("STRUCTURAL_EXPECTATION", present & _STRUCTURAL_SET, _structural_message))

    out.sort(key=_by_order)
    severities = {f.severity for f in out}
    if CONTRAINDICATION in severities:
        outcome = INELIGIBLE
    elif REVIEW in severities:
        outcome = REVIEW
    else:
        outcome = ELIGIBLE
    return Decision(outcome, p.ruleset, tuple(out), readings, antithrombotics)
