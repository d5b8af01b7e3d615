"""The ingredient table: classes, DrugBank ids and reference hold intervals."""

import pytest

from accretion.clinical import drug_names
from accretion.clinical import medications as meds
from accretion.clinical.medications import (
    ANTICOAGULANT,
    ANTIPLATELET,
    CATALOG,
    GUIDELINE,
    NOT_FOUND,
    NSAID,
    PROXY,
    SYSTEMIC_STEROID,
    drugs_in_class,
    normalize_name,
)

CLASSES = {
    ANTICOAGULANT: {
        "warfarin", "acenocoumarol", "apixaban", "rivaroxaban", "edoxaban",
        "dabigatran", "enoxaparin", "dalteparin", "heparin", "fondaparinux",
        "tinzaparin", "phenprocoumon", "betrixaban", "argatroban", "bivalirudin", "desirudin",
    },
    ANTIPLATELET: {
        "aspirin", "clopidogrel", "prasugrel", "ticagrelor", "dipyridamole", "cilostazol",
        "ticlopidine", "vorapaxar",
    },
    NSAID: {
        "ibuprofen", "naproxen", "diclofenac", "meloxicam", "celecoxib", "ketorolac",
        "indomethacin", "etodolac", "nabumetone", "ketoprofen", "piroxicam", "oxaprozin",
        "flurbiprofen", "fenoprofen", "mefenamic acid", "meclofenamate", "sulindac", "tolmetin",
        "diflunisal", "salsalate", "dexketoprofen", "aceclofenac", "lornoxicam", "etoricoxib",
    },
    SYSTEMIC_STEROID: {
        "prednisone", "prednisolone", "methylprednisolone", "dexamethasone", "hydrocortisone",
        "triamcinolone", "betamethasone", "cortisone", "deflazacort",
    },
}


@pytest.mark.parametrize("drug_class, generics", sorted(CLASSES.items()))
def test_each_class_holds_exactly_the_listed_drugs(drug_class, generics):
    assert {d.generic for d in drugs_in_class(drug_class)} == generics
    for generic in generics:
        assert CATALOG[generic].drug_class == drug_class


@pytest.mark.parametrize("generic", sorted(CATALOG))
def test_every_ingredient_is_a_name_the_dictionary_resolves_to_itself(generic):
    """The table and the drug-name dictionary speak of the same ingredient."""
    assert drug_names.ingredients(generic) == (generic,)
    known = drug_names.drugbank_id(generic)
    assert known is None or known == CATALOG[generic].drugbank_id
    assert CATALOG[generic].drugbank_id.startswith("DB")


def test_catalog_has_no_other_drugs():
    assert set(CATALOG) == set().union(*CLASSES.values())


@pytest.mark.parametrize(
    "raw, normalized",
    [
        ("Eliquis", "eliquis"),
        ("  Acetylsalicylic   Acid ", "acetylsalicylic acid"),
        ("ASA\n", "asa"),
        ("STRASSE", "strasse"),
        ("Straße", "strasse"),  # casefold, not lower
    ],
)
def test_normalize_name(raw, normalized):
    assert normalize_name(raw) == normalized


@pytest.mark.parametrize(
    "generic", sorted(CLASSES[ANTICOAGULANT] | CLASSES[ANTIPLATELET])
)
def test_every_antithrombotic_has_a_sourced_hold_reference(generic):
    hold = CATALOG[generic].hold
    assert hold is not None
    assert hold.summary and hold.source
    assert "clinical-reference.md" in hold.source and "§3c" in hold.source
    assert hold.kind in (GUIDELINE, PROXY, NOT_FOUND)
    assert hold.label in hold.describe() and hold.source in hold.describe()


@pytest.mark.parametrize(
    "generic, kind, fragment",
    [
        ("warfarin", GUIDELINE, "5 days with a normal INR"),
        ("acenocoumarol", GUIDELINE, "3 days with a normal INR"),
        ("aspirin", GUIDELINE, "6 days for primary prevention"),
        ("cilostazol", GUIDELINE, "2 days before high-risk"),
        ("dipyridamole", GUIDELINE, "2 days before high-risk"),
        ("enoxaparin", GUIDELINE, "therapeutic dose 24 h"),
        ("dalteparin", GUIDELINE, "24 h"),
        ("heparin", GUIDELINE, "IV heparin: 6 h"),
        ("clopidogrel", PROXY, "7 days"),
        ("ticagrelor", PROXY, "5-7 days"),
        ("prasugrel", PROXY, "7-10 days"),
        ("apixaban", PROXY, "72 h"),
        ("rivaroxaban", PROXY, "72 h"),
        ("dabigatran", PROXY, "72-120 h"),
        ("fondaparinux", PROXY, "36-42 h"),
        ("edoxaban", NOT_FOUND, "no hold interval found"),
    ],
)
def test_hold_values_and_their_kind_match_the_reference(generic, kind, fragment):
    hold = CATALOG[generic].hold
    assert hold.kind == kind
    assert fragment in hold.summary


def test_proxy_values_are_labelled_as_such():
    assert "PROXY" in CATALOG["apixaban"].hold.describe()
    assert "not from the ASRA pain-procedure table" in CATALOG["clopidogrel"].hold.label
    assert "PROXY" not in CATALOG["warfarin"].hold.describe()
    assert "Narouze" in CATALOG["warfarin"].hold.source


@pytest.mark.parametrize("generic", sorted(CLASSES[SYSTEMIC_STEROID]))
def test_steroids_carry_no_hold_reference(generic):
    assert CATALOG[generic].hold is None


def test_unknown_class_is_refused():
    with pytest.raises(ValueError):
        drugs_in_class("antibiotic")


def test_catalog_cannot_be_changed_at_run_time():
    with pytest.raises(TypeError):
        meds.CATALOG["tylenol"] = CATALOG["aspirin"]  # type: ignore[index]
