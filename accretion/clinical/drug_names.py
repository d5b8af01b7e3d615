"""Drug names as clinics write them -> the ingredients they contain.

The names come from the drug-named-entity-recognition library (Fast Data
Science, MIT licence): an offline dictionary of about 107,000 generic and
brand names built from DrugBank, MedlinePlus and NHS lists, each resolved to
a canonical drug. Its own ``find_drugs`` builds a fuzzy-matching index of
every name when it is imported (about 2 s and 350 MB per process) and we want
no fuzzy matching (a misspelling must not silently become another drug), so
this module reads the library's dictionary file itself, once per process and
only when a name is first looked up (about 0.4 s, 50 MB).

On top of the library sits a short table of names it lacks or resolves to a
product that matters less for PRP (``LOCAL_NAMES``), each with its reason;
a test fails when a library update makes an entry unnecessary.

A canonical name can be a combination ("aspirin/paracetamol/caffeine",
"aspirin and extended-release dipyridamole"): it is split into its parts and
each part is resolved again, with salts ("sodium", "bisulfate") and release
forms ("extended-release") taken off, so that a product counts by every
ingredient.
"""

from __future__ import annotations

import bz2
import importlib.metadata
import importlib.util
import pickle
import re
import unicodedata
from collections.abc import Mapping
from functools import cache, lru_cache
from pathlib import Path
from types import MappingProxyType

__all__ = [
    "LIBRARY",
    "LOCAL_NAMES",
    "RELEASE_FORMS",
    "SALTS",
    "drugbank_id",
    "fold",
    "ingredients",
    "library_version",
]

LIBRARY = "drug-named-entity-recognition"
_PACKAGE = "drug_named_entity_recognition"
_DATA_FILE = "drug_ner_dictionary.pkl.bz2"

# Salt and ester words: part of a drug's chemical name, never a different drug.
SALTS = frozenset(
    """
    sodium potassium calcium magnesium disodium dipotassium bisulfate besylate mesylate
    maleate tartrate bitartrate succinate hemisuccinate acetate phosphate sulfate sulphate
    hydrochloride hcl hydrobromide hbr citrate fumarate tromethamine etexilate axetil
    bromide dihydrate monohydrate trihydrate anhydrous lysinate pivalate propionate valerate
    dipropionate
    """.split()  # noqa: SIM905 (a word list reads best as text)
)
# Release and coating forms, written out or abbreviated.
RELEASE_FORMS = frozenset(
    """
    er xr sr cr dr ec xl la ir odt cd extended-release delayed-release enteric-coated
    controlled-release sustained-release immediate-release modified-release extended
    delayed enteric coated controlled sustained immediate modified release
    """.split()  # noqa: SIM905 (a word list reads best as text)
)

# Names the library lacks, or resolves to a product other than the one a spine
# clinic's patient most likely means. Ingredients are names the library knows.
LOCAL_NAMES: Mapping[str, tuple[tuple[str, ...], str]] = MappingProxyType(
    {
        "asa": (("aspirin",), "the common abbreviation of acetylsalicylic acid; not in the library"),
        "bayer": (("aspirin",), "only 'bayer aspirin' is in the library"),
        "bufferin": (("aspirin",), "buffered aspirin; not in the library"),
        "anacin": (("aspirin", "caffeine"), "aspirin with caffeine; not in the library"),
        "bc": (("aspirin", "caffeine"), "BC headache powder; not in the library"),
        "goody's": (("aspirin", "acetaminophen", "caffeine"), "Goody's headache powder; not in the library"),
        "goodys": (("aspirin", "acetaminophen", "caffeine"), "Goody's headache powder, written without the apostrophe"),
        "alka-seltzer": (("aspirin",), "Alka-Seltzer Original is aspirin with antacids; the library has only the anti-gas product"),
        "alka seltzer": (("aspirin",), "the same, written without the hyphen"),
        "vazalore": (("aspirin",), "liquid-filled aspirin capsule; not in the library"),
        "durlaza": (("aspirin",), "extended-release aspirin; not in the library"),
        "percodan": (("oxycodone", "aspirin"), "oxycodone with aspirin; not in the library"),
        "fiorinal": (("butalbital", "aspirin", "caffeine"), "butalbital with aspirin and caffeine; not in the library"),
        "fioricet": (("butalbital", "acetaminophen", "caffeine"), "butalbital with acetaminophen; not in the library"),
        "jantoven": (("warfarin",), "a warfarin brand; not in the library"),
        "percocet": (("oxycodone", "acetaminophen"), "oxycodone with acetaminophen; not in the library"),
        "norco": (("hydrocodone", "acetaminophen"), "hydrocodone with acetaminophen; not in the library"),
        "vicodin": (("hydrocodone", "acetaminophen"), "hydrocodone with acetaminophen; not in the library"),
        "lortab": (("hydrocodone", "acetaminophen"), "hydrocodone with acetaminophen; not in the library"),
        "ultracet": (("tramadol", "acetaminophen"), "tramadol with acetaminophen; not in the library"),
        "naprelan": (("naproxen",), "controlled-release naproxen; not in the library"),
        "vivlodex": (("meloxicam",), "a meloxicam capsule; not in the library"),
        "zipsor": (("diclofenac",), "a diclofenac capsule; not in the library"),
        "tivorbex": (("indomethacin",), "an indomethacin capsule; not in the library"),
        "prelone": (("prednisolone",), "a prednisolone syrup; not in the library"),
        "multivitamin": (("multivitamin",), "a multivitamin; not in the library"),
        "multivitamins": (("multivitamin",), "the same, plural"),
        "iron": (("iron",), "an iron supplement; only its salts are in the library"),
        "calcium": (("calcium",), "a calcium supplement; only its salts are in the library"),
        "potassium": (("potassium",), "a potassium supplement; only its salts are in the library"),
        "glucosamine": (("glucosamine",), "a glucosamine supplement; not in the library"),
    }
)

_COMBINATION = re.compile(r"\s*(?:/|\+|,\s*and\s+|,|\s+and\s+|\s+with\s+)\s*")


def fold(text: str) -> str:
    """Case-folded, accents removed, inner whitespace collapsed: 'Aspirina  Bayér' -> 'aspirina bayer'."""
    decomposed = unicodedata.normalize("NFKD", text.replace("\u2019", "'"))
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(plain.casefold().split())


def library_version() -> str:
    try:
        return importlib.metadata.version(LIBRARY)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def _data_path() -> Path:
    # find_spec locates the package without importing it (its import builds the fuzzy index).
    spec = importlib.util.find_spec(_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"the {LIBRARY} package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / _DATA_FILE


@cache
def _load() -> tuple[Mapping[str, tuple[str, ...]], Mapping[str, str]]:
    """The library's names (folded) -> canonical drugs, and canonical drug -> DrugBank id. Once per process."""
    # The file is the installed library's own data, trusted as its code is.
    with bz2.open(_data_path(), "rb") as handle:
        data = pickle.load(handle)
    names: dict[str, tuple[str, ...]] = {}
    for variant, canonicals in data["drug_variant_to_canonical"].items():
        key = fold(variant) if not variant.isascii() else variant
        names.setdefault(key, tuple(fold(c) for c in canonicals))
    ids = {fold(canonical): entry["drugbank_id"] for canonical, entry in data["drug_canonical_to_data"].items()
           if entry.get("drugbank_id")}
    return MappingProxyType(names), MappingProxyType(ids)


def _dictionary() -> Mapping[str, tuple[str, ...]]:
    return _load()[0]


def drugbank_id(generic: str) -> str | None:
    """The DrugBank id the library gives a generic name, if it gives one."""
    return _load()[1].get(generic)


def _strip(words: list[str]) -> list[str]:
    """A name without its salt and release-form words (never all of it)."""
    kept = [w for w in words if w not in SALTS and w not in RELEASE_FORMS]
    return kept or words


@lru_cache(maxsize=8192)
def _resolve_part(part: str, depth: int = 0) -> tuple[str, ...]:
    """One ingredient name (or a combination's part) -> the generic names it stands for."""
    words = part.split()
    plain = " ".join(_strip(words))
    for candidate in (part, plain):
        canonicals = _dictionary().get(candidate)
        if canonicals is None:
            continue
        found: list[str] = []
        for canonical in canonicals:
            parts = [p for p in _COMBINATION.split(canonical) if p]
            if len(parts) == 1:
                stripped = " ".join(_strip(parts[0].split()))
                # A salt's canonical name ("methylprednisolone acetate") resolves to its base
                # when the library knows the base; the base is the ingredient.
                if stripped != parts[0] and depth < 2 and _dictionary().get(stripped):
                    found.extend(_resolve_part(stripped, depth + 1))
                else:
                    found.append(stripped)
            elif depth < 2:
                for sub in parts:
                    found.extend(_resolve_part(sub, depth + 1) or (" ".join(_strip(sub.split())),))
        return tuple(dict.fromkeys(found))
    return ()


@lru_cache(maxsize=65536)
def ingredients(name: str) -> tuple[str, ...] | None:
    """The generic ingredients of an exactly written name (folded), or None if the name is unknown.

    'eliquis' -> ('apixaban',); 'excedrin' -> ('aspirin', 'acetaminophen', 'caffeine');
    'eliquiss' -> None: no guessing.
    """
    local = LOCAL_NAMES.get(name)
    if local is not None:
        return tuple(dict.fromkeys(g for ing in local[0] for g in (_resolve_part(ing) or (ing,))))
    if name not in _dictionary():
        return None
    return _resolve_part(name) or None
