"""Tests for the questionnaire files and accretion.outcomes.questionnaires (no database)."""

from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest
from fhir.resources.R4B.questionnaire import Questionnaire

from accretion.clinical import instruments as scoring
from accretion.clinical.errors import FieldError
from accretion.languages import LANGUAGES
from accretion.outcomes import questionnaires as q

IDS = ("nrs", "odi", "ndi", "pgic", "baseline", "safety")
FILES = [(i, lang) for i in IDS for lang in LANGUAGES]
LOINC_PANELS = {"odi": "97908-8", "ndi": "82226-2"}  # clinical reference section 7
R4_ITEM_TYPES = {"group", "display", "boolean", "decimal", "integer", "date", "dateTime", "time", "string", "text",
                 "url", "choice", "open-choice", "attachment", "reference", "quantity"}


def _raw(instrument_id, language):
    with (q.DIRECTORY / f"{instrument_id}.{language}.json").open(encoding="utf-8") as handle:
        return json.load(handle)


def _all_items(nodes):
    for node in nodes:
        yield node
        yield from _all_items(node.get("item", []))


def _structure(questionnaire):
    return [(i["linkId"], i["type"], [code for code, _ in i["options"]], i["required"], i["min"], i["max"])
            for i in q.items(questionnaire)]


# ---------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------


def test_exactly_the_shipped_files_exist():
    shipped = sorted(p.name for p in q.DIRECTORY.glob("*.json"))
    assert shipped == sorted(f"{i}.{lang}.json" for i, lang in FILES)
    assert set(q.INSTRUMENTS) == set(IDS)


@pytest.mark.parametrize("instrument_id,language", FILES)
def test_file_is_a_valid_r4_questionnaire(instrument_id, language):
    data = _raw(instrument_id, language)
    parsed = Questionnaire.model_validate(data)
    assert parsed.id == f"{instrument_id}-{language}"
    assert data["resourceType"] == "Questionnaire"
    assert data["url"] == f"urn:accretion:questionnaire:{instrument_id}"
    assert data["status"] == "active"
    assert data["language"] == language
    assert re.fullmatch(r"\d{4}\.\d+", data["version"])
    assert data["title"].strip() and data["description"].strip()
    # The model does not check code values: do it here.
    link_ids = []
    for node in _all_items(data["item"]):
        assert node["type"] in R4_ITEM_TYPES, node["linkId"]
        assert node["text"].strip(), node["linkId"]
        link_ids.append(node["linkId"])
        for option in node.get("answerOption", ()):
            assert option["valueCoding"]["code"] and option["valueCoding"]["display"].strip()
    assert len(link_ids) == len(set(link_ids)), "linkIds must be unique"


@pytest.mark.parametrize("instrument_id", IDS)
def test_languages_share_link_ids_types_and_codes(instrument_id):
    english = q.load(instrument_id, "en")
    for language in LANGUAGES:
        other = q.load(instrument_id, language)
        assert _structure(other) == _structure(english)
        assert other.get("code") == english.get("code")
        assert other["url"] == english["url"] and other["version"] == english["version"]
        if language != "en":
            assert [i["text"] for i in q.items(other)] != [i["text"] for i in q.items(english)]
            if any(i["options"] for i in q.items(english)):
                assert [i["options"] for i in q.items(other)] != [i["options"] for i in q.items(english)]


@pytest.mark.parametrize("instrument_id", IDS)
def test_loinc_panel_codes(instrument_id):
    codes = [c["code"] for c in _raw(instrument_id, "en").get("code", [])]
    assert codes == ([LOINC_PANELS[instrument_id]] if instrument_id in LOINC_PANELS else [])
    for c in _raw(instrument_id, "en").get("code", []):
        assert c["system"] == "http://loinc.org"


@pytest.mark.parametrize("instrument_id,sections", [("odi", scoring.ODI_SECTIONS), ("ndi", scoring.NDI_SECTIONS)])
@pytest.mark.parametrize("language", LANGUAGES)
def test_odi_ndi_have_ten_sections_coded_0_to_5(instrument_id, sections, language):
    data = q.load(instrument_id, language)
    assert len(data["item"]) == 10
    listed = q.items(data)
    assert [i["linkId"] for i in listed] == [f"{instrument_id}-{n}" for n in range(1, 11)]
    for item in listed:
        assert item["type"] == "choice"
        assert [code for code, _ in item["options"]] == ["0", "1", "2", "3", "4", "5"]
        assert len({display for _, display in item["options"]}) == 6
    if language == "en":
        for item, name in zip(listed, sections):
            assert item["text"].lower().startswith(name.lower().replace("travelling", "traveling"))


def test_odi_section_8_and_ndi_driving_may_be_skipped():
    odi = {i["linkId"]: i["required"] for i in q.items(q.load("odi", "en"))}
    assert odi.pop("odi-8") is False and all(odi.values())
    assert q.items(q.load("odi", "en"))[7]["text"] == "Sex life (if applicable)"
    ndi = {i["linkId"]: i["required"] for i in q.items(q.load("ndi", "en"))}
    assert ndi.pop("ndi-8") is False and all(ndi.values())


def test_odi_names_its_version():
    for language in LANGUAGES:
        data = q.load("odi", language)
        assert "v2.1a" in data["title"] and "2.1a" in data["purpose"]
    assert scoring.ODI_VERSION == "2.1a"


@pytest.mark.parametrize("instrument_id", ["odi", "ndi"])
def test_copyright_notes(instrument_id):
    english = q.load(instrument_id, "en")["copyright"]
    assert "copyrighted instrument" in english and "licence" in english
    spanish = q.load(instrument_id, "es")["copyright"]
    assert "derechos de autor" in spanish and "licencia" in spanish
    assert "traducción de trabajo propia del proyecto" in spanish and "validada" in spanish
    for other in ("nrs", "pgic", "baseline", "safety"):
        assert "copyright" not in q.load(other, "en")


@pytest.mark.parametrize("language", LANGUAGES)
def test_nrs_is_one_integer_0_to_10_with_anchors(language):
    (item,) = q.items(q.load("nrs", language))
    assert (item["linkId"], item["type"], item["min"], item["max"]) == ("nrs", "integer", 0, 10)
    assert "0" in item["text"] and "10" in item["text"]
    raw = _raw("nrs", language)["item"][0]
    urls = {e["url"] for e in raw["extension"]}
    assert {q.MIN_VALUE, q.MAX_VALUE} <= urls
    assert q.MIN_VALUE == "http://hl7.org/fhir/StructureDefinition/minValue"
    assert q.MAX_VALUE == "http://hl7.org/fhir/StructureDefinition/maxValue"
    assert raw["code"][0]["code"] == "72514-3"


def test_pgic_labels_match_the_scorer():
    (item,) = q.items(q.load("pgic", "en"))
    assert item["type"] == "choice"
    assert item["options"] == [(str(n), label) for n, (_, label) in scoring.PGIC_CHOICES.items()]
    (spanish,) = q.items(q.load("pgic", "es"))
    assert [code for code, _ in spanish["options"]] == [str(n) for n in range(1, 8)]


def test_baseline_and_safety_items():
    baseline = {i["linkId"]: i for i in q.items(q.load("baseline", "en"))}
    assert list(baseline) == ["activity_level", "smoking", "height_cm", "weight_kg", "general_health"]
    assert [c for c, _ in baseline["activity_level"]["options"]] == ["sedentary", "light", "moderate", "vigorous"]
    assert [c for c, _ in baseline["smoking"]["options"]] == ["never", "former", "current"]
    assert [c for c, _ in baseline["general_health"]["options"]] == ["excellent", "very_good", "good", "fair", "poor"]
    for link in ("height_cm", "weight_kg"):
        assert baseline[link]["type"] == "decimal"
        assert baseline[link]["min"] is not None and baseline[link]["max"] is not None
    safety = {i["linkId"]: i for i in q.items(q.load("safety", "en"))}
    flags = ["fever", "infection_signs", "new_weakness_numbness", "bowel_bladder_change", "emergency_visit"]
    assert list(safety) == [*flags, "details"]
    assert all(safety[f]["type"] == "boolean" for f in flags)
    assert safety["details"]["type"] == "text" and safety["details"]["required"] is False
    assert safety["details"]["max_length"] == 1000


def test_safety_link_ids_match_the_adverse_event_report():
    services = pytest.importorskip("accretion.adverse_events.services")
    flags = {i["linkId"] for i in q.items(q.load("safety", "en")) if i["type"] == "boolean"}
    assert set(services.SAFETY_QUESTIONS) == flags


# ---------------------------------------------------------------------------
# load()
# ---------------------------------------------------------------------------


def test_load_unknown_instrument_or_language_raises_key_error_naming_it():
    with pytest.raises(KeyError, match="sf36"):
        q.load("sf36", "en")
    with pytest.raises(KeyError, match="fr"):
        q.load("odi", "fr")
    with pytest.raises(KeyError):
        q.load(None, "en")


def test_load_returns_a_copy_of_the_cached_file():
    first = q.load("odi", "en")
    first["item"].clear()
    first["title"] = "changed"
    again = q.load("odi", "en")
    assert len(again["item"]) == 10 and again["title"] != "changed"


def test_language_falls_back_to_english_when_a_file_is_missing(tmp_path, monkeypatch):
    (tmp_path / "nrs.en.json").write_text(json.dumps(_raw("nrs", "en")), encoding="utf-8")
    monkeypatch.setattr(q, "DIRECTORY", tmp_path)
    q._read.cache_clear()
    try:
        assert q.load("nrs", "es")["language"] == "en"
    finally:
        monkeypatch.undo()
        q._read.cache_clear()
    assert q.load("nrs", "es")["language"] == "es"


# ---------------------------------------------------------------------------
# instruments_for()
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("region,time_point,expected", [
    ("lumbar", "baseline", ["nrs", "odi", "baseline"]),
    ("thoracic", "baseline", ["nrs", "odi", "baseline"]),
    ("cervical", "baseline", ["nrs", "ndi", "baseline"]),
    ("lumbar", "2w", ["nrs", "odi", "pgic", "safety"]),
    ("thoracic", "6m", ["nrs", "odi", "pgic", "safety"]),
    ("cervical", "3m", ["nrs", "ndi", "pgic", "safety"]),
    ("cervical", "12m", ["nrs", "ndi", "pgic", "safety"]),
])
def test_instruments_for(region, time_point, expected):
    assert q.instruments_for(region, time_point) == expected


@pytest.mark.parametrize("region,time_point,field", [
    ("sacral", "baseline", "region"),
    (None, "3m", "region"),
    ("lumbar", "3 months", "time_point"),
    ("lumbar", "03m", "time_point"),
    ("lumbar", "", "time_point"),
    ("lumbar", None, "time_point"),
])
def test_instruments_for_refuses_unknown_region_or_time_point(region, time_point, field):
    with pytest.raises(FieldError) as caught:
        q.instruments_for(region, time_point)
    assert caught.value.field == field


def test_instrument_table():
    assert list(q.INSTRUMENTS) == list(IDS)
    assert q.INSTRUMENTS["odi"].regions == ("lumbar", "thoracic")
    assert q.INSTRUMENTS["ndi"].regions == ("cervical",)
    assert {i.when for i in q.INSTRUMENTS.values()} == {"all", "baseline", "follow_up"}
    assert q.INSTRUMENTS["odi"].loinc == "97908-8" and q.INSTRUMENTS["odi"].score_loinc == "97909-6"
    assert q.INSTRUMENTS["ndi"].loinc == "82226-2" and q.INSTRUMENTS["ndi"].score_loinc == "82237-9"
    assert q.INSTRUMENTS["nrs"].score_loinc == "72514-3"


# ---------------------------------------------------------------------------
# validate_answers()
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("instrument_id,answers,field", [
    ("odi", {"odi-1": "6"}, "odi-1"),
    ("odi", {"odi-2": 3}, "odi-2"),            # codes are strings
    ("odi", {"odi-1": "1", "odi-11": "0"}, "odi-11"),
    ("ndi", {"odi-1": "1"}, "odi-1"),           # another instrument's linkId
    ("nrs", {"nrs": 11}, "nrs"),
    ("nrs", {"nrs": -1}, "nrs"),
    ("nrs", {"nrs": "3"}, "nrs"),              # integers must be ints, not numeric strings
    ("nrs", {"nrs": 3.0}, "nrs"),
    ("nrs", {"nrs": True}, "nrs"),
    ("pgic", {"pgic": "0"}, "pgic"),
    ("pgic", {"pgic": "8"}, "pgic"),
    ("baseline", {"height_cm": 300}, "height_cm"),
    ("baseline", {"weight_kg": "70"}, "weight_kg"),
    ("baseline", {"weight_kg": float("nan")}, "weight_kg"),
    ("baseline", {"weight_kg": True}, "weight_kg"),
    ("baseline", {"smoking": "sometimes"}, "smoking"),
    ("safety", {"fever": "yes"}, "fever"),
    ("safety", {"fever": 1}, "fever"),
    ("safety", {"details": "fever\x00"}, "details"),
    ("safety", {"details": "x" * 1001}, "details"),
    ("safety", {"details": 5}, "details"),
    ("safety", {"unknown": True}, "unknown"),
])
def test_validate_answers_refuses_bad_answers(instrument_id, answers, field):
    with pytest.raises(FieldError) as caught:
        q.validate_answers(instrument_id, answers)
    assert caught.value.field == field
    assert str(caught.value).startswith(f"{field}: ")


def test_validate_answers_stops_at_the_first_bad_answer():
    with pytest.raises(FieldError) as caught:
        q.validate_answers("odi", {"odi-1": "1", "odi-2": "9", "odi-3": "x"})
    assert caught.value.field == "odi-2"


def test_validate_answers_refuses_a_non_dict():
    with pytest.raises(FieldError) as caught:
        q.validate_answers("odi", ["1"] * 10)
    assert caught.value.field == "answers"
    with pytest.raises(KeyError):
        q.validate_answers("sf36", {})


def test_validate_answers_accepts_good_and_partial_answers():
    assert q.validate_answers("odi", {}) == {}
    assert q.validate_answers("odi", {"odi-3": "2", "odi-1": "0", "odi-8": None}) == {"odi-1": "0", "odi-3": "2"}
    assert q.validate_answers("nrs", {"nrs": 0}) == {"nrs": 0}
    assert q.validate_answers("nrs", {"nrs": 10}) == {"nrs": 10}
    assert q.validate_answers("pgic", {"pgic": "7"}) == {"pgic": "7"}
    baseline = {"activity_level": "light", "smoking": "former", "height_cm": 172.5, "weight_kg": Decimal("80.2"),
                "general_health": "very_good"}
    assert q.validate_answers("baseline", baseline) == {**baseline, "weight_kg": 80.2}
    assert q.validate_answers("baseline", {"height_cm": 50, "weight_kg": 350}) == {"height_cm": 50, "weight_kg": 350}
    safety = {"fever": False, "infection_signs": False, "new_weakness_numbness": True, "bowel_bladder_change": False,
              "emergency_visit": False, "details": "Numb left foot since Tuesday. ñ é"}
    assert q.validate_answers("safety", safety) == safety
    assert q.validate_answers("safety", {"details": "x" * 1000})["details"] == "x" * 1000
    json.dumps(q.validate_answers("baseline", baseline))  # JSON-ready


def test_missing_required():
    assert q.missing_required("odi", {f"odi-{n}": "1" for n in range(1, 11) if n != 8}) == []
    assert q.missing_required("odi", {"odi-1": "1"}) == [f"odi-{n}" for n in (2, 3, 4, 5, 6, 7, 9, 10)]
    assert q.missing_required("safety", {"fever": False}) == [
        "infection_signs", "new_weakness_numbness", "bowel_bladder_change", "emergency_visit"]


# ---------------------------------------------------------------------------
# score()
# ---------------------------------------------------------------------------


def test_odi_score_with_one_section_missing_matches_the_scorer():
    answers = {f"odi-{n}": str(v) for n, v in zip(range(1, 11), [3, 2, 1, 4, 0, 5, 2, 0, 1, 3]) if n != 8}
    expected = scoring.score_odi([3, 2, 1, 4, 0, 5, 2, None, 1, 3]).to_dict()
    assert q.score("odi", answers) == expected
    assert expected["score"] == 46.7  # 21 / 45


def test_odi_score_uses_link_id_order_not_answer_order():
    answers = {"odi-10": "5", "odi-1": "0", **{f"odi-{n}": "0" for n in range(2, 10)}}
    assert q.score("odi", answers) == scoring.score_odi([0] * 9 + [5]).to_dict()


def test_ndi_score_matches_the_scorer_and_too_many_missing_gives_no_score():
    answers = {f"ndi-{n}": "2" for n in range(1, 11)}
    assert q.score("ndi", answers) == scoring.score_ndi([2] * 10).to_dict()
    unscored = q.score("ndi", {"ndi-1": "2"})
    assert unscored["score"] is None and "reason" in unscored


def test_nrs_pgic_and_unscored_instruments():
    assert q.score("nrs", {"nrs": 7}) == {"instrument": "nrs", "score": 7}
    assert q.score("nrs", {}) is None
    assert q.score("pgic", {"pgic": "2"}) == scoring.score_pgic(2).to_dict()
    assert q.score("pgic", {}) is None
    assert q.score("baseline", {"smoking": "never"}) is None
    assert q.score("safety", {"fever": True}) is None
    with pytest.raises(FieldError):
        q.score("odi", {"odi-1": "6"})
    json.dumps(q.score("odi", {f"odi-{n}": "1" for n in range(1, 11)}))
