"""The drug-name dictionary: exact names to ingredients, the local additions, no guessing."""

import sys

import pytest

from accretion.clinical import drug_names
from accretion.clinical.drug_names import LOCAL_NAMES, fold, ingredients


@pytest.mark.parametrize(
    "name, expected",
    [
        ("eliquis", ("apixaban",)),
        ("xarelto", ("rivaroxaban",)),
        ("coumadin", ("warfarin",)),
        ("warfarin sodium", ("warfarin",)),
        ("clopidogrel bisulfate", ("clopidogrel",)),
        ("dabigatran etexilate", ("dabigatran",)),
        ("acetylsalicylic acid", ("aspirin",)),
        ("paracetamol", ("acetaminophen",)),
        ("excedrin", ("aspirin", "acetaminophen", "caffeine")),
        ("aggrenox", ("aspirin", "dipyridamole")),
        ("aspirin and extended-release dipyridamole", ("aspirin", "dipyridamole")),
        ("arthrotec", ("diclofenac", "misoprostol")),
        ("depo-medrol", ("methylprednisolone",)),
        ("ketorolac tromethamine", ("ketorolac",)),
        ("mefenamic acid", ("mefenamic acid",)),
        ("tylenol", ("acetaminophen",)),
    ],
)
def test_names_resolve_to_generic_ingredients(name, expected):
    assert ingredients(name) == expected


@pytest.mark.parametrize("name", ["eliquiss", "xarleto", "plavics", "aspirn", "", "blood thinner"])
def test_misspellings_and_unknown_names_are_not_guessed(name):
    assert ingredients(name) is None


@pytest.mark.parametrize("name", sorted(LOCAL_NAMES))
def test_every_local_name_is_needed(name):
    """A library update that learns a local name (with the same ingredients) makes the entry redundant."""
    wanted, reason = LOCAL_NAMES[name]
    assert reason
    library = drug_names._resolve_part(name) if name in drug_names._dictionary() else None
    assert library is None or set(library) != set(wanted), f"{name}: the library now gives {library}"


@pytest.mark.parametrize("name", sorted(LOCAL_NAMES))
def test_local_ingredients_that_matter_are_in_the_ingredient_table(name):
    """An ingredient that the PRP table classes must be spelt as the table spells it."""
    for ingredient in LOCAL_NAMES[name][0]:
        resolved = drug_names._resolve_part(ingredient) or (ingredient,)
        assert resolved == (ingredient,), f"{ingredient} resolves to {resolved}"
    assert set(ingredients(name)) == set(LOCAL_NAMES[name][0])


@pytest.mark.parametrize(
    "raw, folded",
    [
        ("Eliquis", "eliquis"),
        ("  Acetylsalicylic   Acid ", "acetylsalicylic acid"),
        ("Aspirína", "aspirina"),
        ("GOODY\u2019S", "goody's"),
        ("Straße", "strasse"),
    ],
)
def test_fold(raw, folded):
    assert fold(raw) == folded


def test_the_library_is_read_without_importing_its_fuzzy_index():
    drug_names._dictionary()
    assert "drug_named_entity_recognition.drugs_finder" not in sys.modules
    assert len(drug_names._dictionary()) > 100_000


def test_the_library_version_is_reported():
    assert drug_names.library_version()[0].isdigit()
