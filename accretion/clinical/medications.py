"""The ingredients that matter to a spine PRP intake, their class and reference hold interval.

Four classes matter: anticoagulants and antiplatelets (bleeding risk at the
needle), NSAIDs and systemic corticosteroids (they may blunt the platelet
response). This table is the project's own, curated for PRP; it is keyed by
generic ingredient name with its DrugBank id. Which brand or product a
clinic's medication line names, and which ingredients that product contains,
comes from a drug-name dictionary (``drug_names``, ``medication_lines``);
an ingredient not in this table matters to none of the four classes.

Hold intervals are references for the physician, never instructions to the
patient. Values come from clinical-reference.md §3c. The ASRA 2018
pain-procedure table could be read only in part, so several drugs carry proxy
values from other contexts; those are labelled as proxies, and drugs with no
value found say so.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

__all__ = [
    "ANTICOAGULANT",
    "ANTIPLATELET",
    "CATALOG",
    "DRUG_CLASSES",
    "GUIDELINE",
    "NOT_FOUND",
    "NSAID",
    "PROXY",
    "SYSTEMIC_STEROID",
    "Drug",
    "HoldReference",
    "drugs_in_class",
    "normalize_name",
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
    generic: str  # the ingredient's generic name, as the drug-name dictionary resolves it
    drug_class: str
    drugbank_id: str
    hold: HoldReference | None = None


def _asra(summary: str) -> HoldReference:
    return HoldReference(summary, _ASRA_PAIN, GUIDELINE)


def _proxy(summary: str, source: str) -> HoldReference:
    return HoldReference(summary, source, PROXY)


def _not_found(what: str) -> HoldReference:
    return HoldReference(
        f"no hold interval found for {what} in the retrieved part of the ASRA pain-procedure "
        "table or the proxy sources",
        "clinical-reference.md §3c",
        NOT_FOUND,
    )


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
        "DB00682",
        _asra(
            "5 days with a normal INR before high- and intermediate-risk "
            "procedures; low-risk: no hold, shared assessment; restart after 6 h"
        ),
    ),
    Drug(
        "acenocoumarol",
        ANTICOAGULANT,
        "DB01418",
        _asra(
            "3 days with a normal INR before high- and intermediate-risk "
            "procedures; low-risk: no hold, shared assessment; restart after 24 h"
        ),
    ),
    Drug(
        "apixaban",
        ANTICOAGULANT,
        "DB06605",
        _proxy(
            "72 h before a neuraxial block; general surgery: 1 day (low bleeding "
            "risk) or 2 days (high bleeding risk)",
            f"{_ASRA_NEURAXIAL}; {_PAUSE}",
        ),
    ),
    Drug(
        "rivaroxaban",
        ANTICOAGULANT,
        "DB06228",
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
        "DB09075",
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
        "DB14726",
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
        "DB01225",
        _asra(
            "prophylactic dose 12 h, therapeutic dose 24 h before procedures of "
            "any risk level; restart after 4 h (low-risk) or 12-24 h "
            "(intermediate- or high-risk)"
        ),
    ),
    Drug(
        "dalteparin",
        ANTICOAGULANT,
        "DB06779",
        _asra(
            "24 h before procedures of any risk level; restart after 4 h "
            "(low-risk) or 12-24 h (intermediate- or high-risk)"
        ),
    ),
    Drug(
        "heparin",
        ANTICOAGULANT,
        "DB01109",
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
        "DB00569",
        _proxy("36-42 h before a neuraxial block", _ASRA_NEURAXIAL),
    ),
    Drug("tinzaparin", ANTICOAGULANT, "DB06822", _not_found("tinzaparin")),
    Drug("phenprocoumon", ANTICOAGULANT, "DB00946", _not_found("phenprocoumon")),
    Drug("betrixaban", ANTICOAGULANT, "DB12364", _not_found("betrixaban")),
    Drug("argatroban", ANTICOAGULANT, "DB00278", _not_found("argatroban")),
    Drug("bivalirudin", ANTICOAGULANT, "DB00006", _not_found("bivalirudin")),
    Drug("desirudin", ANTICOAGULANT, "DB11095", _not_found("desirudin")),
    # Antiplatelets
    Drug(
        "aspirin",
        ANTIPLATELET,
        "DB00945",
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
        "DB00758",
        _proxy(
            "7 days before pain procedures; 5-7 days before a neuraxial block",
            "Faubel, thepainsource.com (secondary); Orthopedic Specialists of "
            f"Seattle PRP instructions (clinic practice); {_ASRA_NEURAXIAL}",
        ),
    ),
    Drug(
        "prasugrel",
        ANTIPLATELET,
        "DB06209",
        _proxy("7-10 days before a neuraxial block", _ASRA_NEURAXIAL),
    ),
    Drug(
        "ticagrelor",
        ANTIPLATELET,
        "DB08816",
        _proxy("5-7 days before a neuraxial block", _ASRA_NEURAXIAL),
    ),
    Drug(
        "dipyridamole",
        ANTIPLATELET,
        "DB00975",
        _asra(
            "2 days before high-risk procedures; no hold for intermediate- or "
            "low-risk"
        ),
    ),
    Drug(
        "cilostazol",
        ANTIPLATELET,
        "DB01166",
        _asra(
            "2 days before high-risk procedures; no hold for intermediate- or "
            "low-risk; restart after 24 h"
        ),
    ),
    Drug("ticlopidine", ANTIPLATELET, "DB00208", _not_found("ticlopidine")),
    Drug("vorapaxar", ANTIPLATELET, "DB09030", _not_found("vorapaxar")),
    # NSAIDs (hold values from the same ASRA table, high-risk column)
    Drug("ibuprofen", NSAID, "DB01050", _nsaid_hold("1 day")),
    Drug("naproxen", NSAID, "DB00788", _nsaid_hold("4 days")),
    Drug("diclofenac", NSAID, "DB00586", _nsaid_hold("1 day")),
    Drug("meloxicam", NSAID, "DB00814", _nsaid_hold("4 days")),
    Drug("celecoxib", NSAID, "DB00482", _NSAID_5_HALF_LIVES),
    Drug("ketorolac", NSAID, "DB00465", _nsaid_hold("1 day")),
    Drug("indomethacin", NSAID, "DB00328", _nsaid_hold("2 days")),
    Drug("etodolac", NSAID, "DB00749", _nsaid_hold("2 days")),
    Drug("nabumetone", NSAID, "DB00461", _nsaid_hold("6 days")),
    Drug("ketoprofen", NSAID, "DB01009", _NSAID_5_HALF_LIVES),
    Drug("piroxicam", NSAID, "DB00554", _nsaid_hold("10 days")),
    Drug("oxaprozin", NSAID, "DB00991", _nsaid_hold("10 days")),
    # No drug-specific value in the table: its general NSAID rule applies.
    Drug("flurbiprofen", NSAID, "DB00712", _NSAID_5_HALF_LIVES),
    Drug("fenoprofen", NSAID, "DB00573", _NSAID_5_HALF_LIVES),
    Drug("mefenamic acid", NSAID, "DB00784", _NSAID_5_HALF_LIVES),
    Drug("meclofenamate", NSAID, "DB00939", _NSAID_5_HALF_LIVES),
    Drug("sulindac", NSAID, "DB00605", _NSAID_5_HALF_LIVES),
    Drug("tolmetin", NSAID, "DB00500", _NSAID_5_HALF_LIVES),
    Drug("diflunisal", NSAID, "DB00861", _NSAID_5_HALF_LIVES),
    Drug("salsalate", NSAID, "DB01399", _NSAID_5_HALF_LIVES),
    Drug("dexketoprofen", NSAID, "DB09214", _NSAID_5_HALF_LIVES),
    Drug("aceclofenac", NSAID, "DB06736", _NSAID_5_HALF_LIVES),
    Drug("lornoxicam", NSAID, "DB06725", _NSAID_5_HALF_LIVES),
    Drug("etoricoxib", NSAID, "DB01628", _NSAID_5_HALF_LIVES),
    # Systemic corticosteroids
    Drug("prednisone", SYSTEMIC_STEROID, "DB00635"),
    Drug("prednisolone", SYSTEMIC_STEROID, "DB00860"),
    Drug("methylprednisolone", SYSTEMIC_STEROID, "DB00959"),
    Drug("dexamethasone", SYSTEMIC_STEROID, "DB01234"),
    Drug("hydrocortisone", SYSTEMIC_STEROID, "DB00741"),
    Drug("triamcinolone", SYSTEMIC_STEROID, "DB00620"),
    Drug("betamethasone", SYSTEMIC_STEROID, "DB00443"),
    Drug("cortisone", SYSTEMIC_STEROID, "DB14681"),
    Drug("deflazacort", SYSTEMIC_STEROID, "DB11921"),
)
# Not in the table on purpose: budesonide and fluticasone (inhaled, nasal or
# gut-acting, little systemic effect), acetaminophen (not an NSAID).


def normalize_name(name: str) -> str:
    """Trim, case-fold and collapse inner whitespace."""
    return " ".join(name.split()).casefold()


def _build_catalog() -> Mapping[str, Drug]:
    catalog: dict[str, Drug] = {}
    for drug in _DRUGS:
        if drug.generic in catalog:
            raise ValueError(f"ingredient {drug.generic!r} defined twice")
        catalog[drug.generic] = drug
    return MappingProxyType(catalog)


# Generic ingredient name -> its entry.
CATALOG: Mapping[str, Drug] = _build_catalog()


def drugs_in_class(drug_class: str) -> tuple[Drug, ...]:
    """Every catalog drug of one class, in catalog order."""
    if drug_class not in DRUG_CLASSES:
        raise ValueError(f"unknown drug class {drug_class!r}")
    return tuple(d for d in _DRUGS if d.drug_class == drug_class)
