"""Tests for accretion.clinical.mrn (pure Python, no Django)."""

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from accretion.clinical.errors import FieldError
from accretion.clinical.mrn import format_mrn, validate_pattern


@pytest.mark.parametrize("pattern, seq, year, mrn", [
    ("NC-{year}-{seq:05}", 42, 2026, "NC-2026-00042"),
    ("{seq}", 7, 2026, "7"),
    ("nc{seq:03}", 1, 2026, "NC001"),
    ("A/{year}/{seq}", 123456, 2031, "A/2031/123456"),
    ("X{seq:02}", 12345, 2026, "X12345"),  # wider than the padding: every digit kept
    ("{year}.{seq:012}", 1, 1999, "1999.000000000001"),
])
def test_format(pattern, seq, year, mrn):
    assert validate_pattern(pattern) == pattern
    assert format_mrn(pattern, seq, year) == mrn


@pytest.mark.parametrize("pattern, message", [
    ("NC-{year}", "needs {seq}"),
    ("NC-{yaer}-{seq}", "Unknown placeholder {yaer}"),
    ("NC-{seq:5}", "Unknown placeholder {seq:5}"),
    ("NC-{seq:013}", "Unknown placeholder"),
    ("NC-{id}", "Unknown placeholder {id}"),
    ("NC {seq}", "only letters, digits"),
    ("NC-{seq", "Unmatched"),
    ("NC-}{seq}", "Unmatched"),
    ("-{seq}", "starts with a letter or a digit"),
    ("A" * 30 + "{seq}", "longer than 32"),
    ("NÇ-{seq}", "only letters, digits"),
])
def test_bad_patterns_are_refused_with_a_reason(pattern, message):
    with pytest.raises(FieldError) as error:
        validate_pattern(pattern)
    assert error.value.field == "mrn_pattern" and message in error.value.message


def test_empty_means_no_pattern():
    assert validate_pattern("  ") == ""


@given(st.integers(min_value=1, max_value=10**6), st.integers(min_value=1, max_value=10**6),
       st.integers(min_value=1900, max_value=2999))
def test_different_numbers_give_different_mrns_that_are_valid_mrns(a, b, year):
    pattern = "NC-{year}-{seq:05}"
    first, second = format_mrn(pattern, a, year), format_mrn(pattern, b, year)
    assert (first == second) == (a == b)
    assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9\-/.]{0,31}", first)


def test_numbers_start_at_one():
    with pytest.raises(FieldError):
        format_mrn("{seq}", 0, 2026)
