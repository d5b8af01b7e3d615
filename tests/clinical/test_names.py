"""Tests for accretion.clinical.names (pure Python, no Django)."""

import unicodedata

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from accretion.clinical.names import fold, matches, phone_digits, search_key, words


@pytest.mark.parametrize("typed, given_name, family_name", [
    ("Margaret Quinlan", "Margaret", "Quinlan"),
    ("margaret  quinlan", "Margaret", "Quinlan"),
    ("MARGARET QUINLAN", "Margaret", "Quinlan"),
    ("  Margaret\tQuinlan \u00a0", "Margaret", "Quinlan"),
    ("Quinlan, Margaret", "Margaret", "Quinlan"),
    ("Quinlan Margaret", "Margaret", "Quinlan"),
    ("Margaret Anne Quinlan", "Margaret", "Quinlan"),
    ("Jose Nunez", "José", "Núñez"),
    ("JOSÉ NÚÑEZ", "Jose", "Nunez"),
    ("José Núñez García", "José", "Núñez"),
    ("Rosa Martinez", "Rosa", "Martínez"),
    ("Sean O'Brien", "Seán", "O'Brien"),
    ("Sean OBrien", "Seán", "O'Brien"),
    ("Sean O Brien", "Seán", "O'Brien"),
    ("Sean O’Brien", "Seán", "O'Brien"),
    ("Sean O'Brien", "Sean", "OBrien"),
    ("Mary-Ann Smith-Jones", "Mary Ann", "Smith Jones"),
    ("Mary Ann Smith Jones", "Mary-Ann", "Smith-Jones"),
    ("MaryAnn Smith-Jones", "Mary-Ann", "Smith-Jones"),
    ("Peter St. John", "Peter", "St John"),
    ("Peter St.John", "Peter", "St. John"),
    ("Lukasz Wojcik", "Łukasz", "Wójcik"),
    ("Soren Kierkegaard", "Søren", "Kierkegaard"),
    ("Hans Strasse", "Hans", "Straße"),
    ("François d'Alembert", "Francois", "D'Alembert"),
    ("Nguyễn Văn An", "An", "Nguyễn"),
    ("Lee Lee", "Lee", "Lee"),
])
def test_same_person(typed, given_name, family_name):
    assert matches(typed, given_name, family_name)


@pytest.mark.parametrize("typed, given_name, family_name", [
    ("Mickey Mouse", "Margaret", "Quinlan"),
    ("Margaret Quinn", "Margaret", "Quinlan"),
    ("Margret Quinlan", "Margaret", "Quinlan"),
    ("Margaret Quinlann", "Margaret", "Quinlan"),
    ("Margaret", "Margaret", "Quinlan"),
    ("Quinlan", "Margaret", "Quinlan"),
    ("M. Quinlan", "Margaret", "Quinlan"),
    ("Maggie Quinlan", "Margaret", "Quinlan"),
    ("MargaretQuinlan", "Margaret", "Quinlan"),
    ("", "Margaret", "Quinlan"),
    ("   ", "Margaret", "Quinlan"),
    ("-'.", "Margaret", "Quinlan"),
    ("Margaret Quinlan", "", "Quinlan"),
    ("Margaret Quinlan", "Margaret", ""),
    ("Lee", "Lee", "Lee"),
    ("Mary Smith", "Mary Ann", "Smith"),
    ("Jose Nunez", "José", "Núñes"),
    ("Rosa Martínez", "Margaret", "Quinlan"),
])
def test_different_or_incomplete_name(typed, given_name, family_name):
    assert not matches(typed, given_name, family_name)


def test_fold_and_words():
    assert fold("ŁUKASZ Núñez Straße") == "lukasz nunez strasse"
    assert words("  O'Brien-Smith ,  St. John ") == ["o", "brien", "smith", "st", "john"]
    assert words(None) == [] and words("") == []


def test_a_very_long_typed_name_is_not_searched():
    assert not matches("Margaret Quinlan " + "x " * 100, "Margaret", "Quinlan")


# --- properties: how the real name is typed never matters, which name does -------

LETTERS = st.sampled_from(list("abcdefghijklmnopqrstuvwxyzáéíóúñüçàèøłßäöå"))
NAME = st.lists(LETTERS, min_size=2, max_size=12).map("".join)
PART = st.lists(NAME, min_size=1, max_size=2).map(" ".join)  # a given or family name of one or two words
SPACE = st.lists(st.sampled_from([" ", "  ", "\t", "\u00a0"]), min_size=1, max_size=3).map("".join)


def _strip_accents(text):
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


@given(given_name=PART, family_name=PART, data=st.data())
def test_case_accents_and_spacing_of_the_real_name_always_match(given_name, family_name, data):
    typed = f"{given_name} {family_name}"
    if data.draw(st.booleans(), label="strip accents"):
        typed = _strip_accents(typed)
    if data.draw(st.booleans(), label="decomposed"):
        typed = unicodedata.normalize("NFD", typed)
    cases = data.draw(st.lists(st.booleans(), min_size=len(typed), max_size=len(typed)), label="upper")
    typed = "".join(c.upper() if up else c for c, up in zip(typed, cases))
    gaps = [data.draw(SPACE, label="gap") for _ in typed.split(" ")]
    typed = data.draw(SPACE) + "".join(w + g for w, g in zip(typed.split(" "), gaps))
    assert matches(typed, given_name, family_name)
    if data.draw(st.booleans(), label="registered capitalised"):
        assert matches(typed, given_name.title(), family_name.upper())


@given(given_name=PART, family_name=PART, middle=NAME, family_first=st.booleans())
def test_a_middle_name_and_family_name_first_still_match(given_name, family_name, middle, family_first):
    typed = f"{family_name}, {given_name} {middle}" if family_first else f"{given_name} {middle} {family_name}"
    assert matches(typed, given_name, family_name)


@given(given_name=PART, family_name=PART, other=PART)
def test_another_family_name_never_matches(given_name, family_name, other):
    compact = "".join(words(family_name))
    assume("".join(words(other)) != compact)
    assume(compact not in "".join(words(given_name)) + "".join(words(other)))
    assert not matches(f"{given_name} {other}", given_name, family_name)


@given(given_name=PART, family_name=PART)
def test_one_name_alone_never_matches(given_name, family_name):
    assume("".join(words(family_name)) not in "".join(words(given_name)))
    assert not matches(given_name, given_name, family_name)


def test_the_module_imports_nothing_from_django():
    import subprocess
    import sys

    code = "import sys, accretion.clinical.names; print(any(m.startswith('django') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


# Patient search keys (the stored Patient.search_name and the words of a query).

@given(st.text(max_size=80))
def test_search_key_is_idempotent(text):
    key = search_key(text)
    assert search_key(key) == key
    assert key == key.strip() and "  " not in key


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=20), st.data())
def test_accents_and_case_do_not_change_the_search_key(plain, data):
    accents = "\u0301\u0300\u0308\u0303\u0327\u030c"
    decorated = "".join(ch + data.draw(st.sampled_from(["", *accents]), label="mark") for ch in plain)
    decorated = unicodedata.normalize("NFC", decorated)
    if data.draw(st.booleans(), label="upper"):
        decorated = decorated.upper()
    assert search_key(decorated) == search_key(plain) == plain


@pytest.mark.parametrize("a, b, key", [("Gómez", "gomez", "gomez"), ("GÓMEZ", "Gomez", "gomez"),
                                       ("Müller", "MULLER", "muller"), ("Núñez", "nunez", "nunez"),
                                       ("Łukasz Søren", "lukasz soren", "lukasz soren"),
                                       ("  José   María ", "jose maria", "jose maria"),
                                       ("O'Brien-Smith", "o brien smith", "o brien smith"), ("ñ", "n", "n")])
def test_search_key_examples(a, b, key):
    assert search_key(a) == search_key(b) == key


@given(st.text(max_size=40))
def test_phone_digits_keeps_only_ascii_digits_in_order(text):
    digits = phone_digits(text)
    assert digits == phone_digits(digits) and all(ch in "0123456789" for ch in digits)
    assert digits == "".join(ch for ch in text if ch in "0123456789")


def test_phone_digits_examples():
    assert phone_digits("+1 (555) 010-1") == phone_digits("1 555 0101") == "15550101"
