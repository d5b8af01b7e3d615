"""A clinic's MRN pattern: the medical record numbers the portal hands out when registration leaves MRN empty.

A pattern is literal text with placeholders:

- ``{seq}``: the clinic's next number (1, 2, 3, ...), required;
- ``{seq:0N}``: the same, zero-padded to N digits (N from 1 to 12): ``{seq:05}`` -> ``00042``;
- ``{year}``: the four-digit year of registration.

Example: ``NC-{year}-{seq:05}`` -> ``NC-2026-00042``. The literal text may use letters, digits, ``-``, ``/`` and
``.`` (what an MRN may contain); letters are upper-cased like every MRN. The number counts up across years.
"""

from __future__ import annotations

import re

from accretion.clinical.errors import FieldError

__all__ = ["EXAMPLE", "PLACEHOLDERS", "format_mrn", "validate_pattern"]

EXAMPLE = "NC-{year}-{seq:05}"
PLACEHOLDERS = ("{seq}", "{seq:0N}", "{year}")
MAX_LENGTH = 32  # Patient.mrn
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_LITERAL = re.compile(r"[A-Za-z0-9\-/.]*")
_SEQ = re.compile(r"seq(?::0([1-9]|1[0-2]))?")


def validate_pattern(pattern: str, field: str = "mrn_pattern") -> str:
    """The pattern, stripped, or FieldError naming what is wrong. An empty pattern is valid (no generation)."""
    pattern = (pattern or "").strip()
    if not pattern:
        return ""
    has_seq = False
    for part_index, part in enumerate(_PLACEHOLDER.split(pattern)):
        if part_index % 2:  # inside braces
            if _SEQ.fullmatch(part):
                has_seq = True
            elif part != "year":
                raise FieldError(field, f"Unknown placeholder {{{part}}}: use {', '.join(PLACEHOLDERS)} "
                                        "(N is 1 to 12).")
        elif "{" in part or "}" in part:
            raise FieldError(field, "Unmatched { or } in the pattern.")
        elif not _LITERAL.fullmatch(part):
            raise FieldError(field, "Outside the placeholders, use only letters, digits, - / and . "
                                    "(what an MRN may contain).")
    if not has_seq:
        raise FieldError(field, "The pattern needs {seq} (or {seq:05}, ...), the number that makes each MRN unique.")
    first = format_mrn(pattern, 1, 2000)
    if not first[0].isalnum():
        raise FieldError(field, "An MRN starts with a letter or a digit.")
    if len(format_mrn(pattern, 10**6, 2000)) > MAX_LENGTH:
        raise FieldError(field, f"MRNs from this pattern would be longer than {MAX_LENGTH} characters.")
    return pattern


def format_mrn(pattern: str, seq: int, year: int) -> str:
    """The MRN for number `seq` registered in `year`: format_mrn("NC-{year}-{seq:05}", 42, 2026) == "NC-2026-00042".

    `pattern` must be valid (validate_pattern); `seq` is at least 1."""
    if seq < 1:
        raise FieldError("seq", "MRN numbers start at 1.")

    def fill(match: re.Match) -> str:
        name = match[1]
        if name == "year":
            return f"{year:04d}"
        width = _SEQ.fullmatch(name)[1]
        return f"{seq:0{width}d}" if width else str(seq)

    return _PLACEHOLDER.sub(fill, pattern).upper()
