"""Does the name typed on a consent belong to the patient as registered?

A consent is a legal record: the name the patient types must be the name the
clinic registered, not "Mickey Mouse". The comparison forgives how a name is
typed on a tablet, never which name it is.

Forgiven (both the registered and the typed name are read the same way):

- case: "MARGARET QUINLAN", "margaret quinlan";
- accents and diacritics: "Jose Nunez" for "José Núñez" (Unicode NFKD, combining
  marks dropped), and the few Latin letters NFKD does not split: "Lukasz" for
  "Łukasz", "Soren" for "Søren", "Strasse" for "Straße", "Aesa" for "Æsa";
- spacing: leading, trailing and repeated spaces, tabs, non-breaking spaces;
- punctuation inside a name: hyphens, apostrophes and periods are word breaks,
  and the words of one registered name may be typed together or apart, so
  "O'Brien", "O’Brien", "OBrien" and "O Brien" are all the same family name,
  as are "Mary-Ann", "Mary Ann" and "MaryAnn", or "St. John" and "St John".

Order and extra words: the registered given name and the registered family
name must each be typed in full, as separate words, in either order
("Quinlan Margaret" and "Quinlan, Margaret" are accepted, as clinics and some
cultures write the family name first). Further words are allowed anywhere:
a middle name ("Margaret Anne Quinlan") or a second family name
("José Núñez García") the registration left out.

Never a match: a different name ("Mickey Mouse"), a near miss ("Margaret
Quinn", "Margret Quinlan"), only one of the two names ("Margaret"),
initials ("M. Quinlan"), the two names run together ("MargaretQuinlan"), or an
empty name on either side. Nothing is guessed: there is no fuzzy matching, so
a typo is refused and the patient types it again.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["fold", "matches", "phone_digits", "search_key", "words"]

# Latin letters that NFKD keeps whole (no combining mark to drop), written as
# the plain letters a person types without them. After casefold().
_LETTERS = str.maketrans({"ł": "l", "ø": "o", "đ": "d", "ħ": "h", "ı": "i", "ŀ": "l", "þ": "th", "æ": "ae",
                          "œ": "oe", "ð": "d"})
_WORD = re.compile(r"[^\W_]+")  # letters and digits; everything else (spaces, - ' . ,) separates words
MAX_WORDS = 30


def fold(text: str) -> str:
    """The text without case, accents or the letters NFKD keeps whole: 'Łukasz Núñez' -> 'lukasz nunez'."""
    # NFKD before casefolding too: a compatibility letter (e.g. "ℌ") decomposes to a capital that is then folded.
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", text or "").casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).translate(_LETTERS)


def words(text: str) -> list[str]:
    """The folded words of a name: "  O'Brien-Smith " -> ['o', 'brien', 'smith']."""
    return _WORD.findall(fold(text))


SEARCH_KEY_LENGTH = 600  # what the patient's stored search column holds


def search_key(text: str) -> str:
    """What patient search compares: the folded words, one space apart: ' Núñez-GÓMEZ ' -> 'nunez gomez'.

    Patients store `search_key(given + " " + family)`; a query is split into the same words, and each must
    occur in it. Folding twice changes nothing (the stored key is itself a valid query).
    """
    return " ".join(words(text))[:SEARCH_KEY_LENGTH].rstrip()


def phone_digits(text: str) -> str:
    """The ASCII digits of a phone number: '+1 (555) 010-1' -> '15550101'; the rest is how it was typed."""
    return "".join(ch for ch in text or "" if "0" <= ch <= "9")


def _spans(typed: list[str], name: str) -> list[range]:
    """Each run of consecutive typed words that, written together, is the (compact) registered name."""
    found = []
    for start in range(len(typed)):
        joined = ""
        for end in range(start, len(typed)):
            joined += typed[end]
            if joined == name:
                found.append(range(start, end + 1))
            if not name.startswith(joined):
                break
    return found


def matches(typed: str, given_name: str, family_name: str) -> bool:
    """True when `typed` is the patient's registered name (see the module notes for what is forgiven)."""
    given, family = "".join(words(given_name)), "".join(words(family_name))
    typed_words = words(typed)
    if not given or not family or not typed_words or len(typed_words) > MAX_WORDS:
        return False
    return any(set(g).isdisjoint(f) for g in _spans(typed_words, given) for f in _spans(typed_words, family))
