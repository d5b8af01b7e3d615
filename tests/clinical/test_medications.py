"""Drug catalog: names, classes and reference hold intervals."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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
    identify,
    lookup,
    normalize_name,
)

BRANDS = [
    ("Eliquis", "apixaban"),
    ("Xarelto", "rivaroxaban"),
    ("Coumadin", "warfarin"),
    ("Jantoven", "warfarin"),
    ("Plavix", "clopidogrel"),
    ("Brilinta", "ticagrelor"),
    ("Effient", "prasugrel"),
    ("Pradaxa", "dabigatran"),
    ("Savaysa", "edoxaban"),
    ("Lovenox", "enoxaparin"),
    ("Fragmin", "dalteparin"),
    ("Arixtra", "fondaparinux"),
    ("Advil", "ibuprofen"),
    ("Motrin", "ibuprofen"),
    ("Aleve", "naproxen"),
    ("Naprosyn", "naproxen"),
    ("Mobic", "meloxicam"),
    ("Celebrex", "celecoxib"),
    ("Voltaren", "diclofenac"),
    ("Toradol", "ketorolac"),
    ("Indocin", "indomethacin"),
    ("Medrol", "methylprednisolone"),
    ("Deltasone", "prednisone"),
    ("Decadron", "dexamethasone"),
    ("Aggrenox", "dipyridamole"),
    ("Persantine", "dipyridamole"),
    ("Pletal", "cilostazol"),
    ("Bayer", "aspirin"),
    ("Ecotrin", "aspirin"),
    ("ASA", "aspirin"),
    ("acetylsalicylic acid", "aspirin"),
    ("Sintrom", "acenocoumarol"),
]

CLASSES = {
    ANTICOAGULANT: {
        "warfarin", "acenocoumarol", "apixaban", "rivaroxaban", "edoxaban",
        "dabigatran", "enoxaparin", "dalteparin", "heparin", "fondaparinux",
    },
    ANTIPLATELET: {
        "aspirin", "clopidogrel", "prasugrel", "ticagrelor", "dipyridamole", "cilostazol",
    },
    NSAID: {
        "ibuprofen", "naproxen", "diclofenac", "meloxicam", "celecoxib", "ketorolac",
        "indomethacin", "etodolac", "nabumetone", "ketoprofen", "piroxicam", "oxaprozin",
    },
    SYSTEMIC_STEROID: {
        "prednisone", "prednisolone", "methylprednisolone", "dexamethasone", "hydrocortisone",
    },
}


@pytest.mark.parametrize("brand, generic", BRANDS)
def test_brand_names_map_to_their_generic(brand, generic):
    assert lookup(brand).generic == generic


@pytest.mark.parametrize("brand, generic", BRANDS)
def test_brand_names_ignore_case_and_spacing(brand, generic):
    assert lookup(f"  {brand.upper()}\t").generic == generic
    assert lookup(brand.lower()).generic == generic


@pytest.mark.parametrize("drug_class, generics", sorted(CLASSES.items()))
def test_each_class_holds_exactly_the_listed_drugs(drug_class, generics):
    assert {d.generic for d in drugs_in_class(drug_class)} == generics
    for generic in generics:
        assert lookup(generic).drug_class == drug_class


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
    "name, generic",
    [
        ("Eliquis 5 mg", "apixaban"),
        ("aspirin 81mg", "aspirin"),
        ("Xarelto 20", "rivaroxaban"),
        ("Coumadin 2.5 mg", "warfarin"),
        ("Jantoven 2,5 mg", "warfarin"),
        ("LOVENOX 40 MG", "enoxaparin"),
        ("Arixtra 2.5mg", "fondaparinux"),
        ("Medrol 4 mg", "methylprednisolone"),
        ("heparin 5000 units", "heparin"),
        ("acetylsalicylic acid 100 mg", "aspirin"),
        ("dexamethasone 500 µg", "dexamethasone"),
    ],
)
def test_a_trailing_strength_is_tolerated(name, generic):
    assert lookup(name).generic == generic


@pytest.mark.parametrize(
    "name",
    [
        "",
        "   ",
        "5 mg",
        "Tylenol",
        "acetaminophen 500 mg",
        "Eliquis twice daily",  # only a strength is cut, not free text
        "plavix 75 mg and eliquis 5 mg",  # two drugs in one entry stay unknown
        "plavix and eliquis",
        "eliquis 5 mg bid",
        "not aspirin",
        "aspirin-free",
    ],
)
def test_unknown_names_are_not_guessed(name):
    assert lookup(name) is None
    assert identify(name) == ()


def test_aggrenox_carries_both_antiplatelets():
    assert [d.generic for d in identify("Aggrenox")] == ["dipyridamole", "aspirin"]
    assert lookup("aggrenox").generic == "dipyridamole"


@pytest.mark.parametrize(
    "generic", sorted(CLASSES[ANTICOAGULANT] | CLASSES[ANTIPLATELET])
)
def test_every_antithrombotic_has_a_sourced_hold_reference(generic):
    hold = CATALOG[generic].hold
    assert hold is not None
    assert hold.summary and hold.source
    assert "clinical-reference.md §3c" in hold.source
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


def test_every_catalog_name_resolves_to_its_own_drug():
    for drug in CATALOG.values():
        for name in (drug.generic, *drug.brands):
            assert lookup(name) is drug, name


def test_unknown_class_is_refused():
    with pytest.raises(ValueError):
        drugs_in_class("antibiotic")


def test_catalog_cannot_be_changed_at_run_time():
    with pytest.raises(TypeError):
        meds.CATALOG["tylenol"] = CATALOG["aspirin"]  # type: ignore[index]


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_lookup_never_raises_and_agrees_with_identify(name):
    found = identify(name)
    assert lookup(name) == (found[0] if found else None)
    assert identify(name) == identify(" " + name.upper() + " ") or not name.isascii()
