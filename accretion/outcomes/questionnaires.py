"""The patient questionnaires: FHIR R4 Questionnaire files, which to ask when, and checking answers.

The files live in ``questionnaires/<id>.<language>.json`` beside this module,
one per instrument and language (``odi.es.json``).  Both languages of an
instrument have the same linkIds, item types and answer codes; only the texts
differ.  Standard library only: the files are plain JSON (the tests check them
against the ``fhir.resources`` R4B model).

Answers are a ``{linkId: value}`` dict with JSON-ready values:

* ``choice``: the option's code, as a string (``"3"``, ``"never"``);
* ``integer``: an int (not a bool, a float or a numeric string: the web form
  converts what the patient typed, and a string at this point is a caller bug);
* ``decimal``: an int or float (or ``Decimal``), not a bool or a string;
  returned as given, a ``Decimal`` as a float;
* ``boolean``: ``True`` or ``False``;
* ``string`` / ``text``: a string of at most 1000 characters (or the item's
  ``maxLength`` if smaller) without NUL.

An answer of ``None`` means unanswered and is left out.  Missing answers are
allowed (partial saves); ``missing_required`` lists what a submission still
lacks.
"""

from __future__ import annotations

import copy
import json
import math
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from accretion.clinical import instruments as scoring
from accretion.clinical.aftercare import parse_follow_up_key
from accretion.clinical.errors import FieldError
from accretion.clinical.screening import REGIONS
from accretion.languages import DEFAULT_LANGUAGE, LANGUAGES

__all__ = [
    "DIRECTORY",
    "INSTRUMENTS",
    "TEXT_MAX",
    "Instrument",
    "instruments_for",
    "items",
    "load",
    "missing_required",
    "score",
    "validate_answers",
]

DIRECTORY = Path(__file__).with_name("questionnaires")
TEXT_MAX = 1000
MIN_VALUE = "http://hl7.org/fhir/StructureDefinition/minValue"
MAX_VALUE = "http://hl7.org/fhir/StructureDefinition/maxValue"

# Item types that take an answer (R4 Questionnaire.item.type); "group" items are
# walked into, "display" items are text only and are not listed by items().
ANSWER_TYPES = ("choice", "integer", "decimal", "boolean", "string", "text")

BASELINE = "baseline"
ALL_REGIONS = tuple(REGIONS)  # cervical, thoracic, lumbar


@dataclass(frozen=True)
class Instrument:
    """One questionnaire: where and when it is asked.

    ``when`` is ``"all"`` (baseline and every follow-up), ``"baseline"``
    (before the procedure only) or ``"follow_up"`` (follow-ups only).
    ``loinc`` is the panel code and ``score_loinc`` the score's code, where
    one exists (clinical reference section 7; confirm on loinc.org).
    """

    id: str
    title: str
    regions: tuple[str, ...]
    when: str
    loinc: str | None = None
    score_loinc: str | None = None

    def applies(self, region: str, time_point: str) -> bool:
        if region not in self.regions:
            return False
        if self.when == "all":
            return True
        return (time_point == BASELINE) == (self.when == BASELINE)


# In the order a patient is asked them.
INSTRUMENTS: dict[str, Instrument] = {
    i.id: i
    for i in (
        Instrument("nrs", "Pain intensity, numeric rating scale 0-10 (past week)", ALL_REGIONS, "all",
                   score_loinc="72514-3"),
        Instrument("odi", "Oswestry Disability Index v2.1a", ("lumbar", "thoracic"), "all",
                   loinc="97908-8", score_loinc="97909-6"),
        Instrument("ndi", "Neck Disability Index", ("cervical",), "all", loinc="82226-2", score_loinc="82237-9"),
        Instrument("pgic", "Patient Global Impression of Change", ALL_REGIONS, "follow_up"),
        Instrument("baseline", "Activity and general health", ALL_REGIONS, "baseline"),
        Instrument("safety", "Safety check since the injection", ALL_REGIONS, "follow_up"),
    )
}


def instruments_for(region: str, time_point: str) -> list[str]:
    """The instrument ids to ask for a procedure in `region` at `time_point`, in order.

    `time_point` is ``"baseline"`` or a follow-up key such as ``"2w"`` or ``"3m"``.
    Raises FieldError (``region`` or ``time_point``) for anything else.
    """
    if not isinstance(region, str) or region not in ALL_REGIONS:
        raise FieldError("region", f"unknown region {region!r}; expected one of {', '.join(ALL_REGIONS)}")
    if time_point != BASELINE:
        parse_follow_up_key(time_point, "time_point")
    return [i.id for i in INSTRUMENTS.values() if i.applies(region, time_point)]


# ---------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------


@cache
def _read(instrument_id: str, language: str) -> dict[str, Any]:
    path = DIRECTORY / f"{instrument_id}.{language}.json"
    if not path.is_file() and language != DEFAULT_LANGUAGE:
        path = DIRECTORY / f"{instrument_id}.{DEFAULT_LANGUAGE}.json"
    with path.open(encoding="utf-8") as handle:
        return json.load(handle)


def _questionnaire(instrument_id: Any, language: Any = DEFAULT_LANGUAGE) -> dict[str, Any]:
    """The cached, shared JSON: never hand it out without copying."""
    if not isinstance(instrument_id, str) or instrument_id not in INSTRUMENTS:
        raise KeyError(f"unknown questionnaire {instrument_id!r}; expected one of {', '.join(INSTRUMENTS)}")
    if not isinstance(language, str) or language not in LANGUAGES:
        raise KeyError(f"unknown language {language!r}; expected one of {', '.join(LANGUAGES)}")
    return _read(instrument_id, language)


def load(instrument_id: str, language: str = DEFAULT_LANGUAGE) -> dict[str, Any]:
    """The FHIR Questionnaire of an instrument in a language, as a dict (a fresh copy each call).

    Raises KeyError naming an unknown instrument id or language.  A language
    whose file is missing falls back to English (every shipped instrument has
    both files).
    """
    return copy.deepcopy(_questionnaire(instrument_id, language))


# ---------------------------------------------------------------------------
# Items
# ---------------------------------------------------------------------------


def _extension(item: dict[str, Any], url: str) -> int | float | None:
    for extension in item.get("extension", ()):
        if extension.get("url") == url:
            for key in ("valueInteger", "valueDecimal"):
                if key in extension:
                    return extension[key]
    return None


def _walk(nodes: list[dict[str, Any]]):
    for node in nodes:
        if node.get("type") == "group":
            yield from _walk(node.get("item", []))
        elif node.get("type") in ANSWER_TYPES:
            yield node


def items(questionnaire: dict[str, Any]) -> list[dict[str, Any]]:
    """The questions of a Questionnaire dict, flat and in order.

    Each is ``{"linkId", "type", "text", "prefix", "options": [(code, display)],
    "required", "min", "max", "max_length"}``; ``min``/``max`` come from the
    minValue/maxValue extensions (None when absent), ``options`` is empty for
    types other than choice, ``max_length`` is set for string and text items.
    Group items are walked into; display items are left out.
    """
    out = []
    for node in _walk(questionnaire.get("item", [])):
        kind = node["type"]
        max_length = None
        if kind in ("string", "text"):
            max_length = min(node.get("maxLength", TEXT_MAX), TEXT_MAX)
        out.append({
            "linkId": node["linkId"],
            "type": kind,
            "text": node.get("text", ""),
            "prefix": node.get("prefix"),
            "options": [(o["valueCoding"]["code"], o["valueCoding"].get("display", o["valueCoding"]["code"]))
                        for o in node.get("answerOption", ()) if "valueCoding" in o],
            "required": bool(node.get("required", False)),
            "min": _extension(node, MIN_VALUE),
            "max": _extension(node, MAX_VALUE),
            "max_length": max_length,
        })
    return out


@cache
def _items_by_link(instrument_id: str) -> dict[str, dict[str, Any]]:
    """linkId -> item of the English file (the structure is the same in every language)."""
    return {item["linkId"]: item for item in items(_questionnaire(instrument_id))}


# ---------------------------------------------------------------------------
# Answers
# ---------------------------------------------------------------------------


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    return type(value).__name__


def _range_text(item: dict[str, Any]) -> str:
    low, high = item["min"], item["max"]
    if low is not None and high is not None:
        return f" from {low} to {high}"
    if low is not None:
        return f" of at least {low}"
    if high is not None:
        return f" of at most {high}"
    return ""


def _in_range(value: Decimal, item: dict[str, Any]) -> bool:
    low, high = item["min"], item["max"]
    if low is not None and value < Decimal(str(low)):
        return False
    return high is None or value <= Decimal(str(high))


def _check(item: dict[str, Any], value: Any) -> Any:
    """The cleaned answer, or FieldError naming the linkId."""
    link_id, kind = item["linkId"], item["type"]
    if kind == "choice":
        codes = [code for code, _ in item["options"]]
        if not isinstance(value, str) or value not in codes:
            shown = repr(value) if isinstance(value, str) else _type_name(value)
            raise FieldError(link_id, f"must be one of the codes {', '.join(codes)}, got {shown}")
        return value
    if kind == "integer":
        expected = f"must be a whole number{_range_text(item)}"
        if isinstance(value, bool) or not isinstance(value, int):
            raise FieldError(link_id, f"{expected}, got {_type_name(value)}")
        if not _in_range(Decimal(value), item):
            raise FieldError(link_id, f"{expected}, got {value}")
        return value
    if kind == "decimal":
        expected = f"must be a number{_range_text(item)}"
        if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
            raise FieldError(link_id, f"{expected}, got {_type_name(value)}")
        if (isinstance(value, float) and not math.isfinite(value)) or (
            isinstance(value, Decimal) and not value.is_finite()
        ):
            raise FieldError(link_id, f"{expected}, got a value that is not a finite number")
        if not _in_range(Decimal(str(value)), item):
            raise FieldError(link_id, f"{expected}, got {value}")
        return float(value) if isinstance(value, Decimal) else value
    if kind == "boolean":
        if not isinstance(value, bool):
            raise FieldError(link_id, f"must be true or false, got {_type_name(value)}")
        return value
    # string, text
    limit = item["max_length"] or TEXT_MAX
    if not isinstance(value, str):
        raise FieldError(link_id, f"must be text, got {_type_name(value)}")
    if len(value) > limit:
        raise FieldError(link_id, f"must be at most {limit} characters, got {len(value)}")
    if "\x00" in value:
        raise FieldError(link_id, "must not contain a NUL character")
    return value


def validate_answers(instrument_id: str, answers: dict[str, Any]) -> dict[str, Any]:
    """Check every answer against the instrument's questionnaire; return the cleaned answers.

    Answers are checked in the order given; the first bad one raises
    ``FieldError(linkId, message)``.  A linkId the questionnaire does not have
    is refused; unanswered questions (absent, or None) are allowed and left out
    of the result.  The result is JSON-ready and in questionnaire order.
    Raises KeyError for an unknown instrument id.
    """
    by_link = _items_by_link(_known(instrument_id))
    if not isinstance(answers, dict):
        raise FieldError("answers", f"must be an object of answers by linkId, got {_type_name(answers)}")
    cleaned: dict[str, Any] = {}
    for link_id, value in answers.items():
        if not isinstance(link_id, str) or link_id not in by_link:
            raise FieldError(str(link_id), f"is not a question of the {instrument_id} questionnaire")
        if value is None:
            continue
        cleaned[link_id] = _check(by_link[link_id], value)
    return {link_id: cleaned[link_id] for link_id in by_link if link_id in cleaned}


def missing_required(instrument_id: str, answers: dict[str, Any]) -> list[str]:
    """The linkIds of required questions without an answer, in questionnaire order."""
    by_link = _items_by_link(_known(instrument_id))
    return [link_id for link_id, item in by_link.items() if item["required"] and answers.get(link_id) is None]


def _known(instrument_id: Any) -> str:
    if not isinstance(instrument_id, str) or instrument_id not in INSTRUMENTS:
        raise KeyError(f"unknown questionnaire {instrument_id!r}; expected one of {', '.join(INSTRUMENTS)}")
    return instrument_id


# ---------------------------------------------------------------------------
# Scores
# ---------------------------------------------------------------------------


def _sections(instrument_id: str, answers: dict[str, Any]) -> list[int | None]:
    """ODI/NDI answers as the 10-value list the scorer takes, in linkId order (odi-1 ... odi-10)."""
    link_ids = sorted(_items_by_link(instrument_id), key=lambda link: int(link.rsplit("-", 1)[1]))
    return [None if answers.get(link) is None else int(answers[link]) for link in link_ids]


def score(instrument_id: str, answers: dict[str, Any]) -> dict[str, Any] | None:
    """The instrument's score as a JSON-ready dict, or None.

    ODI and NDI always give a dict (``score`` None, with a ``reason``, when
    more than one section is unanswered); NRS and PGIC give None while
    unanswered; the baseline and safety questionnaires have no score.
    Answers are validated first (FieldError as in ``validate_answers``).
    """
    cleaned = validate_answers(instrument_id, answers)
    if instrument_id == "odi":
        return scoring.score_odi(_sections("odi", cleaned)).to_dict()
    if instrument_id == "ndi":
        return scoring.score_ndi(_sections("ndi", cleaned)).to_dict()
    if instrument_id == "nrs":
        return None if "nrs" not in cleaned else scoring.score_nrs(cleaned["nrs"]).to_dict()
    if instrument_id == "pgic":
        return None if "pgic" not in cleaned else scoring.score_pgic(int(cleaned["pgic"])).to_dict()
    return None
