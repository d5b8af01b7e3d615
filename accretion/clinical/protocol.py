"""Procedure protocol: the clinic's per-target rules, and how a procedure measures up.

Pure Python (standard library only).  The clinic's medical director sets,
for each injection target, a volume range, a minimum concentration factor,
the accepted image-guidance modalities, the longest time from blood draw to
injection and a fluoroscopy dose-area-product (DAP) reference level.  A
completed procedure is checked against that protocol: every check is a pass
or a deviation, and the consistency score is checks passed / checks made.

Units: volumes in mL, concentration factor as a multiple of the baseline
platelet count (as derived in ``preparation``), time in whole minutes, DAP in
Gy·cm².

Checks (``check``):

* per injection: ``VOLUME_RANGE``, ``GUIDANCE_MODALITY`` and, for a
  fluoroscopy-guided injection with a recorded DAP whose target has a
  reference level, ``DAP_REFERENCE``;
* once per distinct target: ``CONCENTRATION_FACTOR`` and
  ``DRAW_TO_INJECTION`` (one preparation serves every target).  A value that
  was not recorded is a deviation: the check could not be shown to pass;
* an injection into a target the protocol does not cover gets the single
  deviation ``TARGET_NOT_IN_PROTOCOL`` and no other check.

Boundaries are inclusive: a volume exactly at the minimum or maximum, a
concentration factor exactly at the minimum, a time exactly at the limit and
a DAP exactly at the reference level all pass.

Placement confirmation (injection accuracy) is not a protocol check; it is
reported on its own by ``placement_rate`` so that outcome analytics can
stratify by it and by the consistency score independently.

Only the intradiscal volume of 1-3 mL is backed by a PRP source
(clinical-reference.md §2: PMC6394242 Table 4).  Every other value in
``EXAMPLE_PROTOCOL`` is an example for the medical director to set, and its
``source`` says so.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from accretion.clinical.errors import FieldError
from accretion.clinical.screening import TARGETS

__all__ = [
    "CHECK_CODES",
    "DEVIATION",
    "EXAMPLE_PROTOCOL",
    "EXAMPLE_SOURCE",
    "MODALITIES",
    "PASS",
    "TARGETS",
    "TARGET_LABELS",
    "Check",
    "Consistency",
    "InjectionFacts",
    "PreparationFacts",
    "ProcedureProtocol",
    "ProtocolError",
    "TargetProtocol",
    "check",
    "placement_rate",
]


class ProtocolError(FieldError):
    """Invalid protocol or procedure facts.  ``str(err)`` is ``"{field}: {message}"``."""


# ---------------------------------------------------------------------------
# Constants
# ---------------------------------------------------------------------------

MODALITIES = ("fluoroscopy", "ultrasound")

# Plain-English target names for messages (the order of TARGETS).
TARGET_LABELS: Mapping[str, str] = {
    "facet_joint": "Facet joint",
    "interspinous_ligament": "Interspinous ligament",
    "paraspinal_muscle": "Paraspinal muscle",
    "thoracolumbar_fascia": "Thoracolumbar fascia",
    "epidural": "Epidural space",
    "intradiscal": "Intervertebral disc",
}
assert tuple(TARGET_LABELS) == TARGETS

PASS = "pass"
DEVIATION = "deviation"

VOLUME_RANGE = "VOLUME_RANGE"
GUIDANCE_MODALITY = "GUIDANCE_MODALITY"
DAP_REFERENCE = "DAP_REFERENCE"
CONCENTRATION_FACTOR = "CONCENTRATION_FACTOR"
DRAW_TO_INJECTION = "DRAW_TO_INJECTION"
TARGET_NOT_IN_PROTOCOL = "TARGET_NOT_IN_PROTOCOL"
CHECK_CODES = (
    VOLUME_RANGE,
    GUIDANCE_MODALITY,
    DAP_REFERENCE,
    CONCENTRATION_FACTOR,
    DRAW_TO_INJECTION,
    TARGET_NOT_IN_PROTOCOL,
)

EXAMPLE_SOURCE = "Example value for the medical director to set"

# Plausibility limits on protocol values.  They catch unit slips (a DAP typed
# in mGy·cm², a time typed in seconds), not clinical judgement.
MAX_VOLUME_ML = Decimal(50)
MAX_CONCENTRATION_FACTOR = Decimal(100)
MAX_MINUTES = 24 * 60
MAX_DAP = Decimal(1000)  # Gy·cm²
# At most this many decimal places, so that the JSON numbers of ``to_dict``
# carry every protocol value exactly.
MAX_DECIMAL_PLACES = 3

# Room for a clinic slug (up to 40 characters) plus a fingerprint and a counter.
_VERSION_PATTERN = re.compile(r"[A-Za-z0-9._-]{1,100}")
_VERSION_RULE = "must be 1-100 letters, digits, dots, dashes or underscores"

_NUMBER_FIELDS = ("volume_min_ml", "volume_max_ml", "min_concentration_factor")
_TARGET_FIELDS = (
    "volume_min_ml",
    "volume_max_ml",
    "min_concentration_factor",
    "modalities",
    "max_draw_to_injection_minutes",
    "dap_reference",
    "source",
)
_TARGET_OPTIONAL = ("dap_reference",)
_PROTOCOL_FIELDS = ("version", "targets")


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    return type(value).__name__


def _to_decimal(value: Any, field_name: str) -> Decimal:
    """A JSON number (int or float, not bool) or a Decimal, finite."""
    if isinstance(value, bool):
        raise ProtocolError(field_name, "must be a number, got a boolean")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ProtocolError(field_name, "must be a finite number")
        return Decimal(str(value))  # shortest repr: 1.5 stays exactly 1.5
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ProtocolError(field_name, "must be a finite number")
        return value
    raise ProtocolError(field_name, f"must be a number, got {_type_name(value)}")


def _to_whole(value: Any, field_name: str, unit: str) -> int:
    """A whole number given as int, or as an integral float/Decimal."""
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        raise ProtocolError(field_name, f"must be a whole number of {unit}, got {_type_name(value)}")
    number = _to_decimal(value, field_name)
    if number != number.to_integral_value():
        raise ProtocolError(field_name, f"must be a whole number of {unit}")
    return int(number)


def _protocol_number(value: Any, field_name: str, maximum: Decimal, unit: str) -> Decimal:
    number = _to_decimal(value, field_name)
    if number <= 0:
        raise ProtocolError(field_name, "must be greater than 0")
    if number > maximum:
        raise ProtocolError(field_name, f"must be at most {maximum}{unit}")
    exponent = number.normalize().as_tuple().exponent
    if isinstance(exponent, int) and exponent < -MAX_DECIMAL_PLACES:
        raise ProtocolError(field_name, f"must have at most {MAX_DECIMAL_PLACES} decimal places")
    return number


def _number_out(value: Decimal) -> int | float:
    """JSON-ready number: int when integral, else float."""
    if value == value.to_integral_value():
        return int(value)
    return float(value)


def _round2(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _fmt(value: Decimal) -> str:
    """1.50 -> "1.5", 100 -> "100" (never scientific notation)."""
    return format(value.normalize(), "f")


def _fmt_factor(value: Decimal) -> str:
    """Concentration factors keep at least one decimal: 2 -> "2.0"."""
    text = _fmt(value)
    return text if "." in text else f"{text}.0"


def _label(target: str) -> str:
    return TARGET_LABELS.get(target, target.replace("_", " ").capitalize())


def _modality_text(modalities: Sequence[str]) -> str:
    return " or ".join(m.replace("_", " ") for m in modalities)


def _key_path(prefix: str, key: Any) -> str:
    if not isinstance(key, str):
        key = repr(key)
    return f"{prefix}.{key}" if prefix else key


# ---------------------------------------------------------------------------
# Protocol
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TargetProtocol:
    """The protocol for one target.  Validated on construction.

    Numbers given as int, float or Decimal are stored as exact Decimals.
    Errors name the field alone (``volume_max_ml``); ``ProcedureProtocol.from_dict``
    prefixes them with the JSON path (``targets.facet_joint.volume_max_ml``).
    """

    volume_min_ml: Decimal
    volume_max_ml: Decimal
    min_concentration_factor: Decimal
    modalities: tuple[str, ...]
    max_draw_to_injection_minutes: int
    dap_reference: Decimal | None  # Gy·cm²; only meaningful with fluoroscopy
    source: str

    def __post_init__(self) -> None:
        limits = {
            "volume_min_ml": (MAX_VOLUME_ML, " mL"),
            "volume_max_ml": (MAX_VOLUME_ML, " mL"),
            "min_concentration_factor": (MAX_CONCENTRATION_FACTOR, ""),
        }
        for name in _NUMBER_FIELDS:
            value = getattr(self, name)
            if value is None:
                raise ProtocolError(name, "is required")
            maximum, unit = limits[name]
            object.__setattr__(self, name, _protocol_number(value, name, maximum, unit))
        if self.volume_max_ml < self.volume_min_ml:
            raise ProtocolError("volume_max_ml", "must not be less than volume_min_ml")

        modalities = self.modalities
        if modalities is None:
            raise ProtocolError("modalities", "is required")
        if isinstance(modalities, (str, bytes)) or not isinstance(modalities, Sequence):
            raise ProtocolError("modalities", f"must be a list, got {_type_name(modalities)}")
        if not modalities:
            raise ProtocolError("modalities", "must list at least one of: " + ", ".join(MODALITIES))
        seen: set[str] = set()
        for i, modality in enumerate(modalities):
            path = f"modalities[{i}]"
            if not isinstance(modality, str):
                raise ProtocolError(path, f"must be a string, got {_type_name(modality)}")
            if modality not in MODALITIES:
                raise ProtocolError(path, f"unknown modality {modality!r}; use one of: " + ", ".join(MODALITIES))
            if modality in seen:
                raise ProtocolError(path, f"{modality} is listed twice")
            seen.add(modality)
        # Canonical order, so that the fingerprint does not depend on it.
        object.__setattr__(self, "modalities", tuple(m for m in MODALITIES if m in seen))

        minutes = self.max_draw_to_injection_minutes
        if minutes is None:
            raise ProtocolError("max_draw_to_injection_minutes", "is required")
        minutes = _to_whole(minutes, "max_draw_to_injection_minutes", "minutes")
        if minutes <= 0:
            raise ProtocolError("max_draw_to_injection_minutes", "must be greater than 0")
        if minutes > MAX_MINUTES:
            raise ProtocolError("max_draw_to_injection_minutes", f"must be at most {MAX_MINUTES} minutes")
        object.__setattr__(self, "max_draw_to_injection_minutes", minutes)

        if self.dap_reference is not None:
            dap = _protocol_number(self.dap_reference, "dap_reference", MAX_DAP, " Gy·cm²")
            if "fluoroscopy" not in seen:
                raise ProtocolError("dap_reference", "must be null when fluoroscopy is not an accepted modality")
            object.__setattr__(self, "dap_reference", dap)

        source = self.source
        if not isinstance(source, str):
            raise ProtocolError("source", f"must be a string, got {_type_name(source)}")
        source = " ".join(source.split())
        if not source:
            raise ProtocolError("source", f"is required: a citation, or {EXAMPLE_SOURCE!r}")
        object.__setattr__(self, "source", source)

    @property
    def volume_text(self) -> str:
        return f"{_fmt(self.volume_min_ml)}–{_fmt(self.volume_max_ml)} mL"

    def to_dict(self) -> dict[str, Any]:
        return {
            "volume_min_ml": _number_out(self.volume_min_ml),
            "volume_max_ml": _number_out(self.volume_max_ml),
            "min_concentration_factor": _number_out(self.min_concentration_factor),
            "modalities": list(self.modalities),
            "max_draw_to_injection_minutes": self.max_draw_to_injection_minutes,
            "dap_reference": None if self.dap_reference is None else _number_out(self.dap_reference),
            "source": self.source,
        }

    @classmethod
    def from_dict(cls, data: Any, path: str = "") -> TargetProtocol:
        """Validate a JSON-like mapping; errors carry ``path`` as their prefix."""
        if not isinstance(data, Mapping):
            raise ProtocolError(path or "target", f"must be an object, got {_type_name(data)}")
        for key in data:
            if key not in _TARGET_FIELDS:
                raise ProtocolError(_key_path(path, key), "unknown field")
        for name in _TARGET_FIELDS:
            if name not in _TARGET_OPTIONAL and data.get(name) is None:
                raise ProtocolError(_key_path(path, name), "is required")
        values = {name: data.get(name) for name in _TARGET_FIELDS}
        try:
            return cls(**values)
        except ProtocolError as error:
            raise ProtocolError(_key_path(path, error.field), error.message) from None


class _FrozenTargets(Mapping[str, TargetProtocol]):
    """A read-only, hashable, picklable mapping in the order of TARGETS."""

    __slots__ = ("_items",)

    def __init__(self, items: Mapping[str, TargetProtocol]) -> None:
        ordered = tuple((name, items[name]) for name in TARGETS if name in items)
        object.__setattr__(self, "_items", ordered)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("the protocol's targets are read-only")

    def __getitem__(self, key: str) -> TargetProtocol:
        for name, value in self._items:
            if name == key:
                return value
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return (name for name, _ in self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __hash__(self) -> int:
        return hash(self._items)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Mapping):
            return dict(self._items) == dict(other.items())
        return NotImplemented

    def __repr__(self) -> str:
        return f"{{{', '.join(f'{name!r}: {value!r}' for name, value in self._items)}}}"

    def __reduce__(self) -> tuple[Any, ...]:
        return (_FrozenTargets, (dict(self._items),))


@dataclass(frozen=True)
class ProcedureProtocol:
    """The clinic's procedure protocol: a version and the rules per target.

    ``targets`` need not cover every target; an injection into a target it
    does not cover is a ``TARGET_NOT_IN_PROTOCOL`` deviation.
    """

    version: str
    targets: Mapping[str, TargetProtocol]

    def __post_init__(self) -> None:
        version = self.version
        if not isinstance(version, str) or not _VERSION_PATTERN.fullmatch(version):
            raise ProtocolError("version", _VERSION_RULE)
        targets = self.targets
        if not isinstance(targets, Mapping):
            raise ProtocolError("targets", f"must be an object, got {_type_name(targets)}")
        if not targets:
            raise ProtocolError("targets", "must cover at least one target")
        for name, value in targets.items():
            if name not in TARGETS:
                raise ProtocolError(_key_path("targets", name), "unknown target; use one of: " + ", ".join(TARGETS))
            if not isinstance(value, TargetProtocol):
                raise ProtocolError(f"targets.{name}", f"must be a TargetProtocol, got {_type_name(value)}")
        object.__setattr__(self, "targets", _FrozenTargets(targets))

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "targets": {name: target.to_dict() for name, target in self.targets.items()},
        }

    @classmethod
    def from_dict(cls, data: Any) -> ProcedureProtocol:
        """Validate a JSON-like mapping into a protocol.

        Checks, in order: the mapping, unknown keys, ``version``, ``targets``
        (unknown targets, then each target's unknown keys, missing keys and
        values in the order of ``TargetProtocol``).  The first problem raises
        :class:`ProtocolError` naming its JSON path.
        """
        if not isinstance(data, Mapping):
            raise ProtocolError("protocol", f"must be an object, got {_type_name(data)}")
        for key in data:
            if key not in _PROTOCOL_FIELDS:
                raise ProtocolError(_key_path("", key), "unknown field")
        for name in _PROTOCOL_FIELDS:
            if data.get(name) is None:
                raise ProtocolError(name, "is required")
        version = data["version"]
        if not isinstance(version, str) or not _VERSION_PATTERN.fullmatch(version):
            raise ProtocolError("version", _VERSION_RULE)
        raw_targets = data["targets"]
        if not isinstance(raw_targets, Mapping):
            raise ProtocolError("targets", f"must be an object, got {_type_name(raw_targets)}")
        for name in raw_targets:
            if name not in TARGETS:
                raise ProtocolError(_key_path("targets", name), "unknown target; use one of: " + ", ".join(TARGETS))
        targets = {
            name: TargetProtocol.from_dict(raw_targets[name], f"targets.{name}")
            for name in TARGETS
            if name in raw_targets
        }
        return cls(version=version, targets=targets)

    @property
    def fingerprint(self) -> str:
        """First 16 hex digits of the SHA-256 of the canonical JSON of ``to_dict()``.

        Equal protocols give equal fingerprints whatever the key order or the
        way a number was written (1.5, 1.50, Decimal("1.500")); any change of
        a value, the version or a source text changes it.
        """
        canonical = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


def _example(volume_min: str, volume_max: str, modalities: tuple[str, ...], dap: str | None,
             source: str = EXAMPLE_SOURCE) -> TargetProtocol:
    return TargetProtocol(
        volume_min_ml=Decimal(volume_min),
        volume_max_ml=Decimal(volume_max),
        min_concentration_factor=Decimal("2.0"),
        modalities=modalities,
        max_draw_to_injection_minutes=60,
        dap_reference=None if dap is None else Decimal(dap),
        source=source,
    )


_BOTH = ("fluoroscopy", "ultrasound")

# The demo clinic's protocol.  Every value is an example for the medical
# director to set, except the intradiscal volume (1-3 mL per disc), which is
# the range of the intradiscal PRP studies in clinical-reference.md §2.
EXAMPLE_PROTOCOL = ProcedureProtocol(
    version="example-1",
    targets={
        "facet_joint": _example("0.5", "1.5", _BOTH, "5"),
        "interspinous_ligament": _example("0.5", "2", _BOTH, "5"),
        "paraspinal_muscle": _example("1", "4", _BOTH, "5"),
        "thoracolumbar_fascia": _example("1", "4", ("ultrasound",), None),
        "epidural": _example("1", "3", ("fluoroscopy",), "5"),
        "intradiscal": _example(
            "1",
            "3",
            ("fluoroscopy",),
            "5",
            source=(
                "Volume 1–3 mL per disc: PMC6394242 Table 4, intradiscal PRP studies "
                "(clinical-reference.md §2). Concentration factor, guidance, time from draw "
                "and DAP reference: example values for the medical director to set"
            ),
        ),
    },
)


# ---------------------------------------------------------------------------
# Procedure facts
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class InjectionFacts:
    """One injection as documented: target, guidance, volume, placement, DAP.

    ``guidance`` is the modality used (``fluoroscopy``, ``ultrasound``, or any
    other code such as ``ct`` or ``landmark``, which the protocol does not
    accept).  ``dose_area_product`` is in Gy·cm², ``None`` when not recorded.
    """

    target: str
    guidance: str
    volume_ml: Decimal
    placement_confirmed: bool
    dose_area_product: Decimal | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.target, str):
            raise ProtocolError("target", f"must be a string, got {_type_name(self.target)}")
        if self.target not in TARGETS:
            raise ProtocolError("target", "unknown target; use one of: " + ", ".join(TARGETS))
        if not isinstance(self.guidance, str):
            raise ProtocolError("guidance", f"must be a string, got {_type_name(self.guidance)}")
        guidance = self.guidance.strip().lower()
        if not guidance:
            raise ProtocolError("guidance", "is required")
        object.__setattr__(self, "guidance", guidance)
        if self.volume_ml is None:
            raise ProtocolError("volume_ml", "is required")
        volume = _to_decimal(self.volume_ml, "volume_ml")
        if volume <= 0:
            raise ProtocolError("volume_ml", "must be greater than 0")
        object.__setattr__(self, "volume_ml", volume)
        if not isinstance(self.placement_confirmed, bool):
            raise ProtocolError(
                "placement_confirmed", f"must be true or false, got {_type_name(self.placement_confirmed)}"
            )
        if self.dose_area_product is not None:
            dap = _to_decimal(self.dose_area_product, "dose_area_product")
            if dap < 0:
                raise ProtocolError("dose_area_product", "must not be negative")
            object.__setattr__(self, "dose_area_product", dap)


@dataclass(frozen=True)
class PreparationFacts:
    """The preparation used for the procedure; ``None`` = not recorded.

    ``concentration_factor`` as derived by ``preparation.derive`` (PRP
    platelets / baseline platelets); ``minutes_from_draw_to_injection`` in
    whole minutes.
    """

    concentration_factor: Decimal | None
    minutes_from_draw_to_injection: int | None

    def __post_init__(self) -> None:
        if self.concentration_factor is not None:
            factor = _to_decimal(self.concentration_factor, "concentration_factor")
            if factor <= 0:
                raise ProtocolError("concentration_factor", "must be greater than 0")
            object.__setattr__(self, "concentration_factor", factor)
        if self.minutes_from_draw_to_injection is not None:
            minutes = _to_whole(self.minutes_from_draw_to_injection, "minutes_from_draw_to_injection", "minutes")
            if minutes < 0:
                raise ProtocolError("minutes_from_draw_to_injection", "must not be negative")
            object.__setattr__(self, "minutes_from_draw_to_injection", minutes)


# ---------------------------------------------------------------------------
# Checks
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    """One rule applied once.

    ``index`` is the 0-based position of the injection in the list given to
    :func:`check` (messages say "injection {index + 1}"); it is ``None`` for
    the once-per-target checks.  ``expected`` and ``actual`` are short texts
    with units; ``actual`` is ``None`` when the value was not recorded.
    """

    code: str
    target: str
    index: int | None
    status: str  # PASS | DEVIATION
    expected: str
    actual: str | None
    message: str

    @property
    def passed(self) -> bool:
        return self.status == PASS

    @property
    def key(self) -> str:
        """Stable identifier within one procedure, e.g. ``VOLUME_RANGE:facet_joint:1``.

        Lets a deviation's reason be stored against the check it explains.
        """
        return f"{self.code}:{self.target}:{'-' if self.index is None else self.index}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "target": self.target,
            "index": self.index,
            "status": self.status,
            "expected": self.expected,
            "actual": self.actual,
            "message": self.message,
        }


@dataclass(frozen=True)
class Consistency:
    """The checks of one procedure against one protocol."""

    protocol_version: str
    protocol_fingerprint: str
    checks: tuple[Check, ...]

    @property
    def checks_made(self) -> int:
        return len(self.checks)

    @property
    def checks_passed(self) -> int:
        return sum(1 for c in self.checks if c.passed)

    @property
    def score(self) -> Decimal | None:
        """Checks passed / checks made, rounded half-up to 2 decimals; ``None`` if none made."""
        if not self.checks:
            return None
        return _round2(Decimal(self.checks_passed) / Decimal(self.checks_made))

    @property
    def deviations(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if not c.passed)

    def unexplained(self, reasons: Mapping[str, str]) -> tuple[Check, ...]:
        """Deviations with no non-blank reason in ``reasons`` (keyed by :attr:`Check.key`).

        Signing should wait until this is empty.
        """
        out = []
        for deviation in self.deviations:
            reason = reasons.get(deviation.key)
            if not isinstance(reason, str) or not reason.strip():
                out.append(deviation)
        return tuple(out)

    def to_dict(self) -> dict[str, Any]:
        score = self.score
        return {
            "protocol_version": self.protocol_version,
            "protocol_fingerprint": self.protocol_fingerprint,
            "score": None if score is None else float(score),
            "checks_made": self.checks_made,
            "checks_passed": self.checks_passed,
            "checks": [c.to_dict() for c in self.checks],
        }


def _injection_checks(index: int, injection: InjectionFacts, rules: TargetProtocol) -> list[Check]:
    target = injection.target
    where = f"{_label(target)}, injection {index + 1}"
    out: list[Check] = []

    volume = injection.volume_ml
    expected = rules.volume_text
    actual = f"{_fmt(volume)} mL"
    if volume < rules.volume_min_ml:
        status, message = DEVIATION, f"{where}: {actual} is below the protocol's {expected}."
    elif volume > rules.volume_max_ml:
        status, message = DEVIATION, f"{where}: {actual} is above the protocol's {expected}."
    else:
        status, message = PASS, f"{where}: {actual} is within the protocol's {expected}."
    out.append(Check(VOLUME_RANGE, target, index, status, expected, actual, message))

    guidance = injection.guidance
    expected = _modality_text(rules.modalities)
    actual = guidance.replace("_", " ")
    if guidance in rules.modalities:
        status, message = PASS, f"{where}: {actual} guidance is accepted by the protocol ({expected})."
    else:
        status, message = DEVIATION, f"{where}: {actual} guidance is not accepted by the protocol ({expected})."
    out.append(Check(GUIDANCE_MODALITY, target, index, status, expected, actual, message))

    dap, reference = injection.dose_area_product, rules.dap_reference
    if guidance == "fluoroscopy" and dap is not None and reference is not None:
        expected = f"at most {_fmt(reference)} Gy·cm²"
        actual = f"{_fmt(dap)} Gy·cm²"
        if dap > reference:
            status = DEVIATION
            message = (
                f"{where}: dose-area product {actual} is above the protocol's reference level "
                f"of {_fmt(reference)} Gy·cm²."
            )
        else:
            status = PASS
            message = (
                f"{where}: dose-area product {actual} is within the protocol's reference level "
                f"of {_fmt(reference)} Gy·cm²."
            )
        out.append(Check(DAP_REFERENCE, target, index, status, expected, actual, message))
    return out


def _target_checks(target: str, preparation: PreparationFacts, rules: TargetProtocol) -> list[Check]:
    where = _label(target)
    out: list[Check] = []

    factor, minimum = preparation.concentration_factor, rules.min_concentration_factor
    wanted = f"{_fmt_factor(minimum)}×"
    expected = f"at least {wanted}"
    if factor is None:
        actual = None
        status = DEVIATION
        message = f"{where}: concentration factor not recorded; the protocol asks for at least {wanted}."
    else:
        actual = f"{_fmt_factor(factor)}×"
        if factor < minimum:
            status = DEVIATION
            message = f"{where}: concentration factor {actual} is below the protocol's minimum of {wanted}."
        else:
            status = PASS
            message = f"{where}: concentration factor {actual} meets the protocol's minimum of {wanted}."
    out.append(Check(CONCENTRATION_FACTOR, target, None, status, expected, actual, message))

    minutes, limit = preparation.minutes_from_draw_to_injection, rules.max_draw_to_injection_minutes
    expected = f"at most {limit} min"
    if minutes is None:
        actual = None
        status = DEVIATION
        message = f"{where}: time from draw to injection not recorded; the protocol allows at most {limit} minutes."
    else:
        actual = f"{minutes} min"
        if minutes > limit:
            status = DEVIATION
            message = (
                f"{where}: {minutes} minutes from draw to injection is longer than the protocol's {limit} minutes."
            )
        else:
            status = PASS
            message = f"{where}: {minutes} minutes from draw to injection is within the protocol's {limit} minutes."
    out.append(Check(DRAW_TO_INJECTION, target, None, status, expected, actual, message))
    return out


def check(
    protocol: ProcedureProtocol,
    preparation: PreparationFacts,
    injections: Sequence[InjectionFacts],
) -> Consistency:
    """Check a completed procedure against ``protocol``.

    Order of the checks: each injection's own checks in the order given
    (``VOLUME_RANGE``, ``GUIDANCE_MODALITY``, ``DAP_REFERENCE`` or the single
    ``TARGET_NOT_IN_PROTOCOL``), then, for each covered target in the order of
    its first injection, ``CONCENTRATION_FACTOR`` and ``DRAW_TO_INJECTION``.
    Placement confirmation is not checked here (see :func:`placement_rate`).
    """
    if not isinstance(protocol, ProcedureProtocol):
        raise ProtocolError("protocol", f"must be a ProcedureProtocol, got {_type_name(protocol)}")
    if not isinstance(preparation, PreparationFacts):
        raise ProtocolError("preparation", f"must be a PreparationFacts, got {_type_name(preparation)}")
    if isinstance(injections, (str, bytes)) or not isinstance(injections, Sequence):
        raise ProtocolError("injections", f"must be a list, got {_type_name(injections)}")
    for i, injection in enumerate(injections):
        if not isinstance(injection, InjectionFacts):
            raise ProtocolError(f"injections[{i}]", f"must be an InjectionFacts, got {_type_name(injection)}")

    checks: list[Check] = []
    covered_in_order: list[str] = []
    for index, injection in enumerate(injections):
        target = injection.target
        rules = protocol.targets.get(target)
        if rules is None:
            covered = ", ".join(_label(t).lower() for t in protocol.targets)
            checks.append(
                Check(
                    TARGET_NOT_IN_PROTOCOL,
                    target,
                    index,
                    DEVIATION,
                    f"one of: {covered}",
                    _label(target).lower(),
                    f"{_label(target)}, injection {index + 1}: the protocol sets no values for this target.",
                )
            )
            continue
        checks.extend(_injection_checks(index, injection, rules))
        if target not in covered_in_order:
            covered_in_order.append(target)
    for target in covered_in_order:
        checks.extend(_target_checks(target, preparation, protocol.targets[target]))

    return Consistency(
        protocol_version=protocol.version,
        protocol_fingerprint=protocol.fingerprint,
        checks=tuple(checks),
    )


def placement_rate(injections: Sequence[InjectionFacts]) -> Decimal | None:
    """Injections with confirmed placement / all injections (2 decimals, half-up); ``None`` if none."""
    if isinstance(injections, (str, bytes)) or not isinstance(injections, Sequence):
        raise ProtocolError("injections", f"must be a list, got {_type_name(injections)}")
    for i, injection in enumerate(injections):
        if not isinstance(injection, InjectionFacts):
            raise ProtocolError(f"injections[{i}]", f"must be an InjectionFacts, got {_type_name(injection)}")
    if not injections:
        return None
    confirmed = sum(1 for injection in injections if injection.placement_confirmed)
    return _round2(Decimal(confirmed) / Decimal(len(injections)))
