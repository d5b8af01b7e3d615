"""A medication line as a clinic types it -> the ingredients it names and their classes.

'Eliquis (apixaban) 5 mg PO BID', 'warfarin sodium 5 mg', 'Baby aspirin',
'Excedrin Migraine': the line is cut into words; the longest run of words that
is a drug name (``drug_names``) is taken as a drug; what is left must be text
that never names a drug (strengths, units, forms, routes, frequencies, salts,
release forms, and a purpose after "for"). A word that is neither is *unread*:
the line is then not fully recognised and a clinician must look at it, so a
misspelt or unknown drug beside a known one is never passed over. Nothing is
guessed: 'eliquiss' is not Eliquis.

Classes come from the project's own ingredient table (``medications``), so a
combination product counts by every ingredient (aspirin in Excedrin is an
antiplatelet) and acetaminophen counts as none.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from . import drug_names
from .medications import CATALOG, DRUG_CLASSES, Drug

__all__ = ["SIG_WORDS", "Reading", "read"]

# Words of a medication line that never name a drug: the sig (dose, route,
# frequency, timing), product qualifiers, and small joining words. A word here
# is never looked up alone, but may be part of a longer drug name ("vitamin d").
SIG_WORDS = frozenset(
    """
    mg mcg ug g gm gram grams milligram milligrams microgram micrograms ml cc l iu u unit units meq mmol kg lb lbs
    tab tabs tablet tablets cap caps capsule capsules pill pills caplet caplets gelcap gelcaps geltab
    geltabs softgel softgels liqui-gels liquigels chewable chew chews lozenge film strip patch patches
    vial pen syringe inj injection injections shot shots infusion dose doses dosing pack pak dosepak
    dosepack kit packet packets powder powders solution susp suspension liquid syrup elixir drop drops
    cream ointment gel lotion foam spray sprays puff puffs inhaler neb nebulizer suppository supp
    po oral orally by mouth sl sublingual buccal iv im sc sq subq subcut subcutaneous subcutaneously
    intramuscular intravenous topical topically td transdermal pr rectal rectally inh inhaled nasal
    intranasal ophthalmic eye eyes ear ears otic vaginal apply applied
    qd od bid tid qid qod qam qpm qhs hs ac pc prn qw qwk qweek q-day
    daily nightly weekly monthly once twice thrice times x every other day days week weeks month months
    hour hours hr hrs h morning mornings evening evenings night nights noon afternoon bedtime am pm
    breakfast lunch dinner supper meal meals food snack water milk with without before after empty
    stomach needed as directed if when per each then until taper tapering schedule
    one two three four five six half quarter whole
    a an the and or plus of to up in on at from also only
    take takes taking taken use uses using used currently current regularly regular usual usually
    extra strength maximum max low high adult adults child children children's childrens kids
    junior infant baby migraine arthritis back pain relief tension headache sinus brand generic otc rx
    coated enteric release extended delayed controlled sustained immediate ib ds es
    mon tue tues wed thu thur thurs fri sat sun monday tuesday wednesday thursday friday saturday sunday
    mwf
    """.split()  # noqa: SIM905 (a word list reads best as text)
)
_PURPOSE = "for"  # "Tylenol for back pain": what follows names a purpose
_PATTERNS = re.compile(r"q\d+(?:-\d+)?h|x\d+|\d+x|\d+(?:st|nd|rd|th)|\d+(?:[.,]\d+)?%?")
_NUMBER_UNIT = re.compile(r"(\d+(?:[.,]\d+)?)([a-z%]+)")
_TOKEN = re.compile(r"[a-z0-9%]+(?:['.\-][a-z0-9%]+)*")
_LONGEST_NAME = 6  # words; longer dictionary names are combinations spelt out


def _sig(word: str) -> bool:
    return (
        len(word) == 1  # a letter alone never names a drug ("M/W/F"); it may be part of one ("vitamin d")
        or word in SIG_WORDS
        or word in drug_names.SALTS
        or word in drug_names.RELEASE_FORMS
        or _PATTERNS.fullmatch(word) is not None
    )


def _words(line: str) -> list[str | None]:
    """The line's words, folded; None stands for a number (it breaks a name)."""
    words: list[str | None] = []
    for token in _TOKEN.findall(drug_names.fold(line)):
        if _PATTERNS.fullmatch(token) and not token[0].isalpha():
            words.append(None)
            continue
        number_unit = _NUMBER_UNIT.fullmatch(token)
        if number_unit:  # "5mg", "81mg"
            words.extend((None, number_unit[2]))
            continue
        if "." in token:
            undotted = token.replace(".", "")
            if _sig(undotted):  # "q.d.", "a.m."
                words.append(undotted)
                continue
            words.extend(part for part in token.split(".") if part)
            continue
        words.append(token)
    return words


@dataclass(frozen=True, slots=True)
class Reading:
    """What one medication line was read as."""

    entered: str
    ingredients: tuple[str, ...]  # generic names, in the order the line names them
    classes: tuple[str, ...]  # of DRUG_CLASSES, in that order
    unread: tuple[str, ...] = ()  # words that are neither a drug nor dose text
    # Worked out once (a reading is cached and screened many times):
    recognized: bool = field(init=False, repr=False, compare=False)
    """Every drug-like word of the line is a drug the dictionary knows."""
    drugs: tuple[Drug, ...] = field(init=False, repr=False, compare=False)
    """The ingredients that matter to PRP screening (the project's table)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "recognized", bool(self.ingredients) and not self.unread)
        object.__setattr__(self, "drugs", tuple(CATALOG[i] for i in self.ingredients if i in CATALOG))

    def to_dict(self) -> dict:
        return {
            "entered": self.entered,
            "ingredients": list(self.ingredients),
            "classes": list(self.classes),
            "unread": list(self.unread),
        }


def _match(words: list[str | None], start: int) -> tuple[int, tuple[str, ...]] | None:
    """The longest drug name starting at ``start``: (its length in words, its ingredients)."""
    end = min(len(words), start + _LONGEST_NAME)
    for stop in range(end, start, -1):
        span = words[start:stop]
        if None in span:
            continue
        if stop - start == 1 and _sig(span[0]):
            return None
        found = drug_names.ingredients(" ".join(span))  # type: ignore[arg-type]
        if found:
            return stop - start, found
    return None


@lru_cache(maxsize=65536)
def read(line: str) -> Reading:
    """Read one medication line. Pure and cached: the same line always reads the same."""
    entered = " ".join(line.split())
    words = _words(line)
    found: list[str] = []
    unread: list[str] = []
    purpose = False
    i = 0
    while i < len(words):
        word = words[i]
        if word is None:
            i += 1
            continue
        matched = _match(words, i)
        if matched is not None:
            length, ingredients = matched
            found.extend(ingredients)
            i += length
            continue
        if ("-" in word or "'" in word) and not _sig(word):
            # "ec-naprosyn", "aspirin-free": read the parts
            words[i : i + 1] = [part for part in re.split(r"['\-]", word) if part]
            continue
        if word == _PURPOSE:
            purpose = True
        elif not purpose and not _sig(word):
            unread.append(word)
        i += 1
    ingredients = tuple(dict.fromkeys(found))
    present = {CATALOG[g].drug_class for g in ingredients if g in CATALOG}
    classes = tuple(c for c in DRUG_CLASSES if c in present)
    return Reading(entered, ingredients, classes, tuple(dict.fromkeys(unread)))
