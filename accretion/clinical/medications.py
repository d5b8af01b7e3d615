"""Drug catalog for PRP screening: name -> drug class and reference hold interval.

Four classes matter for a spine PRP intake: anticoagulants and antiplatelets
(bleeding risk at the needle), NSAIDs and systemic corticosteroids (they may
blunt the platelet response). A name is matched after normalisation (trimmed,
case-folded, inner whitespace collapsed); a trailing strength such as
"Eliquis 5 mg" is tolerated. Anything else is *not* guessed: an unknown name
stays unknown so a clinician looks at it.

Hold intervals are references for the physician, never instructions to the
patient. Values come from clinical-reference.md §3c. The ASRA 2018
pain-procedure table could be read only in part, so several drugs carry proxy
values from other contexts; those are labelled as proxies.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType
from typing import Mapping

__all__ = [
    "ANTICOAGULANT",
    "ANTIPLATELET",
    "NSAID",
    "SYSTEMIC_STEROID",
    "DRUG_CLASSES",
    "GUIDELINE",
    "PROXY",
    "NOT_FOUND",
    "HoldReference",
    "Drug",
    "CATALOG",
    "ALIASES",
    "normalize_name",
    "identify",
    "lookup",
    "drugs_in_class",
]

ANTICOAGULANT = "anticoagulant"
ANTIPLATELET = "antiplatelet"
NSAID = "nsaid"
SYSTEMIC_STEROID = "systemic_steroid"
DRUG_CLASSES = (ANTICOAGULANT, ANTIPLATELET, NSAID, SYSTEMIC_STEROID)

# Kinds of hold reference, so a page can label them.
GUIDELINE = "guideline"  # ASRA 2018 pain-procedure table (as tabulated by UpToDate)
PROXY = "proxy"  # a value from another context or a secondary source
NOT_FOUND = "not_found"  # no value found in the reference

_ASRA_PAIN = (
    "ASRA 2018 interventional pain guideline (Narouze S et al., Reg Anesth Pain "
    "Med 2018;43(3):225-262) as tabulated by UpToDate (clinical-reference.md §3c)"
)
_ASRA_NEURAXIAL = (
    "ASRA 2018 regional-anaesthesia (neuraxial block) values, secondary summary "
    "(clinical-reference.md §3c, proxy table)"
)
_PAUSE = (
    "PAUSE protocol for general surgery, Blood Adv 2020 "
    "(clinical-reference.md §3c, proxy table)"
)


@dataclass(frozen=True, slots=True)
class HoldReference:
    """A reference hold interval with its source; for the physician, not an instruction."""

    summary: str
    source: str
    kind: str  # GUIDELINE, PROXY or NOT_FOUND

    @property
    def label(self) -> str:
        if self.kind == GUIDELINE:
            return "ASRA 2018 pain-procedure table"
        if self.kind == PROXY:
            return "PROXY value, not from the ASRA pain-procedure table"
        return "no value found in the reference"

    def describe(self) -> str:
        """One line: label, values and source."""
        return f"[{self.label}] {self.summary} (source: {self.source})"


@dataclass(frozen=True, slots=True)
class Drug:
    generic: str
    drug_class: str
    brands: tuple[str, ...]
    hold: HoldReference | None = None


def _asra(summary: str) -> HoldReference:
    return HoldReference(summary, _ASRA_PAIN, GUIDELINE)


def _proxy(summary: str, source: str) -> HoldReference:
    return HoldReference(summary, source, PROXY)


_NSAID_5_HALF_LIVES = _asra(
    "NSAIDs in general: 5 half-lives before high-risk procedures; "
    "no hold for intermediate- or low-risk; restart after 24 h"
)


def _nsaid_hold(days: str) -> HoldReference:
    return _asra(
        f"{days} before high-risk procedures; no hold for intermediate- or "
        "low-risk; restart after 24 h"
    )


_DRUGS: tuple[Drug, ...] = (
    # Anticoagulants
    Drug(
        "warfarin",
        ANTICOAGULANT,
        ("Coumadin", "Jantoven", "Marevan"),
        _asra(
            "5 days with a normal INR before high- and intermediate-risk "
            "procedures; low-risk: no hold, shared assessment; restart after 6 h"
        ),
    ),
    Drug(
        "acenocoumarol",
        ANTICOAGULANT,
        ("Sintrom",),
        _asra(
            "3 days with a normal INR before high- and intermediate-risk "
            "procedures; low-risk: no hold, shared assessment; restart after 24 h"
        ),
    ),
    Drug(
        "apixaban",
        ANTICOAGULANT,
        ("Eliquis",),
        _proxy(
            "72 h before a neuraxial block; general surgery: 1 day (low bleeding "
            "risk) or 2 days (high bleeding risk)",
            f"{_ASRA_NEURAXIAL}; {_PAUSE}",
        ),
    ),
    Drug(
        "rivaroxaban",
        ANTICOAGULANT,
        ("Xarelto",),
        _proxy(
            "72 h before a neuraxial block, restart after 6 h; general surgery: "
            "1 day (low bleeding risk) or 2 days (high bleeding risk)",
            f"{_ASRA_NEURAXIAL}; adx-public Rivaroxaban (Xarelto) table "
            f"(secondary); {_PAUSE}",
        ),
    ),
    Drug(
        "edoxaban",
        ANTICOAGULANT,
        ("Savaysa", "Lixiana"),
        HoldReference(
            "no hold interval found: not in the retrieved part of the ASRA "
            "pain-procedure table, and the PAUSE protocol did not study edoxaban",
            "clinical-reference.md §3c",
            NOT_FOUND,
        ),
    ),
    Drug(
        "dabigatran",
        ANTICOAGULANT,
        ("Pradaxa",),
        _proxy(
            "72-120 h before a neuraxial block depending on kidney function; "
            "general surgery: CrCl >=50 mL/min 1 day (low bleeding risk) or "
            "2 days (high), CrCl <50 mL/min 2 or 4 days",
            f"{_ASRA_NEURAXIAL}; {_PAUSE}",
        ),
    ),
    Drug(
        "enoxaparin",
        ANTICOAGULANT,
        ("Lovenox", "Clexane"),
        _asra(
            "prophylactic dose 12 h, therapeutic dose 24 h before procedures of "
            "any risk level; restart after 4 h (low-risk) or 12-24 h "
            "(intermediate- or high-risk)"
        ),
    ),
    Drug(
        "dalteparin",
        ANTICOAGULANT,
        ("Fragmin",),
        _asra(
            "24 h before procedures of any risk level; restart after 4 h "
            "(low-risk) or 12-24 h (intermediate- or high-risk)"
        ),
    ),
    Drug(
        "heparin",
        ANTICOAGULANT,
        ("heparin sodium", "unfractionated heparin", "UFH"),
        _asra(
            "IV heparin: 6 h before procedures of any risk level, restart after "
            "2 h; subcutaneous 2-3 times daily: 24 h before high-risk, 6 h before "
            "intermediate- or low-risk, restart after 2 h (low/intermediate) "
            "or 6 h (high)"
        ),
    ),
    Drug(
        "fondaparinux",
        ANTICOAGULANT,
        ("Arixtra",),
        _proxy("36-42 h before a neuraxial block", _ASRA_NEURAXIAL),
    ),
    # Antiplatelets
    Drug(
        "aspirin",
        ANTIPLATELET,
        ("Bayer", "Ecotrin", "ASA", "acetylsalicylic acid"),
        _asra(
            "high-risk procedures: 6 days for primary prevention, shared "
            "assessment for secondary prevention; intermediate-risk: shared "
            "assessment and risk stratification; low-risk: no hold; restart "
            "after 24 h"
        ),
    ),
    Drug(
        "clopidogrel",
        ANTIPLATELET,
        ("Plavix",),
        _proxy(
            "7 days before pain procedures; 5-7 days before a neuraxial block",
            "Faubel, thepainsource.com (secondary); Orthopedic Specialists of "
            f"Seattle PRP instructions (clinic practice); {_ASRA_NEURAXIAL}",
        ),
    ),
    Drug(
        "prasugrel",
        ANTIPLATELET,
        ("Effient", "Efient"),
        _proxy("7-10 days before a neuraxial block", _ASRA_NEURAXIAL),
    ),
    Drug(
        "ticagrelor",
        ANTIPLATELET,
        ("Brilinta", "Brilique"),
        _proxy("5-7 days before a neuraxial block", _ASRA_NEURAXIAL),
    ),
    Drug(
        "dipyridamole",
        ANTIPLATELET,
        ("Persantine", "Aggrenox"),
        _asra(
            "2 days before high-risk procedures; no hold for intermediate- or "
            "low-risk"
        ),
    ),
    Drug(
        "cilostazol",
        ANTIPLATELET,
        ("Pletal",),
        _asra(
            "2 days before high-risk procedures; no hold for intermediate- or "
            "low-risk; restart after 24 h"
        ),
    ),
    # NSAIDs (hold values from the same ASRA table, high-risk column)
    Drug("ibuprofen", NSAID, ("Advil", "Motrin"), _nsaid_hold("1 day")),
    Drug("naproxen", NSAID, ("Aleve", "Naprosyn", "Anaprox"), _nsaid_hold("4 days")),
    Drug("diclofenac", NSAID, ("Voltaren", "Cataflam"), _nsaid_hold("1 day")),
    Drug("meloxicam", NSAID, ("Mobic",), _nsaid_hold("4 days")),
    Drug("celecoxib", NSAID, ("Celebrex",), _NSAID_5_HALF_LIVES),
    Drug("ketorolac", NSAID, ("Toradol",), _nsaid_hold("1 day")),
    Drug("indomethacin", NSAID, ("Indocin",), _nsaid_hold("2 days")),
    Drug("etodolac", NSAID, ("Lodine",), _nsaid_hold("2 days")),
    Drug("nabumetone", NSAID, ("Relafen",), _nsaid_hold("6 days")),
    Drug("ketoprofen", NSAID, (), _NSAID_5_HALF_LIVES),
    Drug("piroxicam", NSAID, ("Feldene",), _nsaid_hold("10 days")),
    Drug("oxaprozin", NSAID, ("Daypro",), _nsaid_hold("10 days")),
    # Systemic corticosteroids
    Drug("prednisone", SYSTEMIC_STEROID, ("Deltasone", "Rayos")),
    Drug("prednisolone", SYSTEMIC_STEROID, ("Orapred", "Prelone")),
    Drug("methylprednisolone", SYSTEMIC_STEROID, ("Medrol", "Solu-Medrol")),
    Drug("dexamethasone", SYSTEMIC_STEROID, ("Decadron",)),
    Drug("hydrocortisone", SYSTEMIC_STEROID, ("Cortef",)),
)

# Combination products: one name, several drugs. Aggrenox is dipyridamole
# with aspirin; both are antiplatelets and both belong in the message.
_COMBINATIONS: dict[str, tuple[str, ...]] = {
    "aggrenox": ("dipyridamole", "aspirin"),
}


def normalize_name(name: str) -> str:
    """Trim, case-fold and collapse inner whitespace."""
    return " ".join(name.split()).casefold()


CATALOG: Mapping[str, Drug] = MappingProxyType({d.generic: d for d in _DRUGS})


def _build_aliases() -> Mapping[str, tuple[Drug, ...]]:
    aliases: dict[str, tuple[Drug, ...]] = {}
    for drug in _DRUGS:
        for alias in (drug.generic, *drug.brands):
            key = normalize_name(alias)
            if key in aliases:
                raise ValueError(f"medication alias {alias!r} defined twice")
            aliases[key] = (drug,)
    for alias, generics in _COMBINATIONS.items():
        aliases[normalize_name(alias)] = tuple(CATALOG[g] for g in generics)
    return MappingProxyType(aliases)


# Normalised name -> the drugs it stands for (first = the main one).
ALIASES: Mapping[str, tuple[Drug, ...]] = _build_aliases()

# A trailing strength: "eliquis 5 mg", "aspirin 81mg", "xarelto 20".
# The name part holds no digit, so "plavix 75 mg and eliquis 5 mg" is not
# cut down to one drug; it stays unrecognised for a clinician to read.
_TRAILING_DOSE = re.compile(
    r"(?P<name>[^\d]+?)\s*\d+(?:[.,]\d+)?\s*"
    r"(?:mg|mcg|\u00b5g|\u03bcg|ug|g|iu|units?|ml)?",
)


@lru_cache(maxsize=4096)
def identify(name: str) -> tuple[Drug, ...]:
    """The drugs a medication name stands for; () when the name is unknown."""
    key = normalize_name(name)
    found = ALIASES.get(key)
    if found is not None:
        return found
    match = _TRAILING_DOSE.fullmatch(key)
    if match:
        return ALIASES.get(match["name"].rstrip(), ())
    return ()


def lookup(name: str) -> Drug | None:
    """The main drug a name stands for (a brand, a generic or an alias), or None."""
    found = identify(name)
    return found[0] if found else None


def drugs_in_class(drug_class: str) -> tuple[Drug, ...]:
    """Every catalog drug of one class, in catalog order."""
    if drug_class not in DRUG_CLASSES:
        raise ValueError(f"unknown drug class {drug_class!r}")
    return tuple(d for d in _DRUGS if d.drug_class == drug_class)
