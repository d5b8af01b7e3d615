"""PRP preparation record: validation, derived values and classification codes.

Pure Python (standard library only).  Units: cell counts in 10^3/uL
(e.g. a platelet count of 250 means 250,000/uL), volumes in mL.

Derived values (reference section 1, "Minimum preparation-record fields"):

* concentration factor = PRP platelets / baseline platelets (2 decimals)
* dose (billions) = PRP platelets x injected mL / 1000 (2 decimals).
  10^3/uL = 10^6/mL, so count x mL is in millions; / 1000 gives billions
  (the DEPA "dose", Magalon J et al. BMJ Open Sport Exerc Med 2016;2:e000060)
* recovery (%) = (PRP platelets x PRP volume) / (baseline platelets x whole
  blood volume) x 100 (1 decimal; DEPA "efficiency")
* PAW code (DeLong JM, Russell RP, Mazzocca AD. Arthroscopy 2012;28(7):998-1009)
* Mishra type (Mishra 2010/2012, as tabulated in PMC8044532 Table 1)

All arithmetic is exact Decimal arithmetic; displayed values are rounded
half-up (36.25 -> 36.3).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext
from typing import Any

from accretion.clinical.errors import FieldError

__all__ = [
    "ACTIVATIONS",
    "MISHRA_REGEX",
    "PAW_REGEX",
    "DerivedValues",
    "PreparationError",
    "PreparationInput",
    "derive",
    "parse_preparation",
    "paw_platelet_band",
]


class PreparationError(FieldError):
    """Invalid preparation input.  ``str(err)`` is ``"{field}: {message}"``."""


# ---------------------------------------------------------------------------
# Constants
# ---------------------------------------------------------------------------

# Activation (reference section 1, minimum record fields: none / CaCl2 /
# thrombin / other).  PAW marks exogenous activation with "x"; anything but
# "none" is exogenous.  Mishra "activated" = thrombin/CaCl2; "other" exogenous
# activation is also counted as activated.
ACTIVATIONS = ("none", "calcium_chloride", "thrombin", "other")

# PAW platelet bands (DeLong 2012; PMC6394242 Table 1): P1 <= baseline;
# P2 > baseline to 750,000/uL; P3 > 750,000 to 1,250,000/uL; P4 > 1,250,000/uL.
PAW_P2_MAX = Decimal(750)  # 10^3/uL
PAW_P3_MAX = Decimal(1250)  # 10^3/uL

# Mishra subtype A = >= 5x baseline platelets, B = < 5x (Mishra 2010 blog;
# PMC8044532 Table 1).  Compared on the exact ratio, not the displayed
# (rounded) concentration factor: 4.996x is B although it displays as 5.00.
MISHRA_A_MIN_FACTOR = Decimal(5)

PAW_REGEX = r"P[1-4](-x)?-[AB][\u03b1\u03b2]?"
MISHRA_REGEX = r"[1-4][AB]"

# Plausibility limits that catch unit mistakes (e.g. a count typed per uL
# instead of per 10^3/uL).  Normal blood platelets are 150-450 x10^3/uL
# (reference section 1); commercial PRP rarely exceeds a few thousand.
MAX_WHOLE_BLOOD_ML = Decimal(1000)
# Smallest accepted positive count or volume (1/uL or 1 uL); keeps every
# derived value within a bounded number of digits.
MIN_POSITIVE = Decimal("0.001")
MAX_PLATELETS = Decimal(20000)  # 10^3/uL = 2 x 10^7/uL
MAX_WBC = Decimal(1000)  # 10^3/uL

_REQUIRED = (
    "whole_blood_ml",
    "baseline_platelets",
    "prp_platelets",
    "prp_volume_ml",
    "injected_ml",
    "baseline_wbc",
    "prp_wbc",
)
_OPTIONAL = ("baseline_neutrophils", "prp_neutrophils", "activation")
_FIELDS = _REQUIRED + _OPTIONAL

_PRECISION = 60  # far more digits than any bounded input product needs


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
        raise PreparationError(field_name, "must be a number, got a boolean")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise PreparationError(field_name, "must be a finite number")
        # str() gives the shortest repr, so 36.25 stays exactly 36.25.
        return Decimal(str(value))
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise PreparationError(field_name, "must be a finite number")
        return value
    raise PreparationError(field_name, f"must be a number, got {_type_name(value)}")


def _number_out(value: Decimal) -> int | float:
    """JSON-ready echo of an input: int when integral, else float."""
    if value == value.to_integral_value():
        return int(value)
    return float(value)


def _round(value: Decimal, places: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def _check_max(name: str, number: Decimal) -> None:
    """Plausibility limits that catch unit mistakes."""
    if name == "whole_blood_ml":
        if number > MAX_WHOLE_BLOOD_ML:
            raise PreparationError(name, f"must be at most {MAX_WHOLE_BLOOD_ML} mL")
    elif name.endswith("_platelets"):
        if number > MAX_PLATELETS:
            raise PreparationError(
                name, f"must be at most {MAX_PLATELETS} (x10^3/uL); enter counts in thousands per uL"
            )
    elif (name.endswith(("_wbc", "_neutrophils"))) and number > MAX_WBC:
        raise PreparationError(name, f"must be at most {MAX_WBC} (x10^3/uL); enter counts in thousands per uL")


# ---------------------------------------------------------------------------
# Input
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PreparationInput:
    """A validated preparation record (counts 10^3/uL, volumes mL).

    Validated on construction: numbers given as int, float or Decimal are
    stored as exact Decimals; bad values raise :class:`PreparationError`.
    """

    whole_blood_ml: Decimal
    baseline_platelets: Decimal
    prp_platelets: Decimal
    prp_volume_ml: Decimal
    injected_ml: Decimal
    baseline_wbc: Decimal
    prp_wbc: Decimal
    baseline_neutrophils: Decimal | None = None
    prp_neutrophils: Decimal | None = None
    activation: str = "none"

    def __post_init__(self) -> None:
        for name in _REQUIRED:
            value = getattr(self, name)
            if value is None:
                raise PreparationError(name, "is required")
            number = _to_decimal(value, name)
            if number <= 0:
                raise PreparationError(name, "must be greater than 0")
            if number < MIN_POSITIVE:
                raise PreparationError(name, f"must be at least {MIN_POSITIVE}")
            _check_max(name, number)
            object.__setattr__(self, name, number)

        for name in ("baseline_neutrophils", "prp_neutrophils"):
            value = getattr(self, name)
            if value is None:
                continue
            number = _to_decimal(value, name)
            if number < 0:
                raise PreparationError(name, "must not be negative")
            _check_max(name, number)
            object.__setattr__(self, name, number)

        activation = self.activation
        if not isinstance(activation, str):
            raise PreparationError("activation", f"must be a string, got {_type_name(activation)}")
        if activation not in ACTIVATIONS:
            raise PreparationError("activation", "must be one of: " + ", ".join(ACTIVATIONS))

        # Cross-field rules.
        if self.prp_volume_ml > self.whole_blood_ml:
            raise PreparationError("prp_volume_ml", "must not be more than whole_blood_ml")
        if self.injected_ml > self.prp_volume_ml:
            raise PreparationError("injected_ml", "must not be more than prp_volume_ml")
        base_n, prp_n = self.baseline_neutrophils, self.prp_neutrophils
        if (base_n is None) != (prp_n is None):
            missing = "prp_neutrophils" if prp_n is None else "baseline_neutrophils"
            raise PreparationError(missing, "give both neutrophil counts or neither")
        if base_n is not None and base_n > self.baseline_wbc:
            raise PreparationError("baseline_neutrophils", "must not be more than baseline_wbc")
        if prp_n is not None and prp_n > self.prp_wbc:
            raise PreparationError("prp_neutrophils", "must not be more than prp_wbc")

    @property
    def has_neutrophils(self) -> bool:
        return self.baseline_neutrophils is not None and self.prp_neutrophils is not None

    @property
    def activated(self) -> bool:
        """Exogenous activation (PAW "x"; Mishra "activated")."""
        return self.activation != "none"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {name: _number_out(getattr(self, name)) for name in _REQUIRED}
        for name in ("baseline_neutrophils", "prp_neutrophils"):
            value = getattr(self, name)
            out[name] = None if value is None else _number_out(value)
        out["activation"] = self.activation
        return out


def parse_preparation(mapping: Any) -> PreparationInput:
    """Validate a JSON-like mapping into a :class:`PreparationInput`.

    Checks, in order: the mapping itself, unknown keys, missing required
    keys, then each field in the order listed on :class:`PreparationInput`
    (type, finiteness, range), then cross-field rules.  The first problem
    raises :class:`PreparationError`.  ``null`` counts as absent, so an
    optional key given as ``null`` takes its default.
    """
    if not isinstance(mapping, Mapping):
        raise PreparationError("preparation", f"must be an object, got {_type_name(mapping)}")
    for key in mapping:
        if not isinstance(key, str):
            raise PreparationError(repr(key), "unknown field (keys must be strings)")
    unknown = sorted(k for k in mapping if k not in _FIELDS)
    if unknown:
        raise PreparationError(unknown[0], "unknown field")
    for name in _REQUIRED:
        if mapping.get(name) is None:
            raise PreparationError(name, "is required")
    values = {name: mapping[name] for name in _FIELDS if mapping.get(name) is not None}
    return PreparationInput(**values)


# ---------------------------------------------------------------------------
# Derived values
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DerivedValues:
    concentration_factor: Decimal  # 2 decimals
    dose_billion: Decimal  # 2 decimals
    recovery_percent: Decimal  # 1 decimal
    leukocytes: str  # "rich" | "poor"
    paw: str
    mishra: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "concentration_factor": float(self.concentration_factor),
            "dose_billion": float(self.dose_billion),
            "recovery_percent": float(self.recovery_percent),
            "leukocytes": self.leukocytes,
            "paw": self.paw,
            "mishra": self.mishra,
        }


def paw_platelet_band(prp_platelets: Decimal, baseline_platelets: Decimal) -> str:
    """PAW platelet band P1..P4 (DeLong 2012)."""
    if prp_platelets <= baseline_platelets:
        return "P1"
    if prp_platelets <= PAW_P2_MAX:
        return "P2"
    if prp_platelets <= PAW_P3_MAX:
        return "P3"
    return "P4"


def derive(inp: PreparationInput) -> DerivedValues:
    """Derived values and classification codes for a validated record."""
    if not isinstance(inp, PreparationInput):
        raise PreparationError("preparation", f"must be a PreparationInput, got {_type_name(inp)}")
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        ratio = inp.prp_platelets / inp.baseline_platelets
        concentration_factor = _round(ratio, 2)
        dose_billion = _round(inp.prp_platelets * inp.injected_ml / 1000, 2)
        recovery = (inp.prp_platelets * inp.prp_volume_ml * 100) / (inp.baseline_platelets * inp.whole_blood_ml)
        recovery_percent = _round(recovery, 1)
        # Exact comparison without division: prp >= 5 x baseline.
        factor_a = inp.prp_platelets >= MISHRA_A_MIN_FACTOR * inp.baseline_platelets

    wbc_rich = inp.prp_wbc > inp.baseline_wbc
    leukocytes = "rich" if wbc_rich else "poor"

    # PAW: P band, "x" if exogenously activated, A/B for WBC, alpha/beta for
    # neutrophils only when both neutrophil counts are known.
    parts = [paw_platelet_band(inp.prp_platelets, inp.baseline_platelets)]
    if inp.activated:
        parts.append("x")
    white = "A" if wbc_rich else "B"
    base_n, prp_n = inp.baseline_neutrophils, inp.prp_neutrophils
    if base_n is not None and prp_n is not None:
        white += "\u03b1" if prp_n > base_n else "\u03b2"
    parts.append(white)
    paw = "-".join(parts)

    # Mishra: 1 rich/not activated, 2 rich/activated, 3 poor/not activated,
    # 4 poor/activated; subtype A if >= 5x baseline platelets else B.
    mishra_type = (1 if wbc_rich else 3) + (1 if inp.activated else 0)
    mishra = f"{mishra_type}{'A' if factor_a else 'B'}"

    return DerivedValues(
        concentration_factor=concentration_factor,
        dose_billion=dose_billion,
        recovery_percent=recovery_percent,
        leukocytes=leukocytes,
        paw=paw,
        mishra=mishra,
    )
