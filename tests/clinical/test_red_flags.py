import json
from pathlib import Path

import pytest

from accretion.clinical import red_flags
from accretion.clinical.red_flags import CALL_CLINIC, EMERGENCY, assess

QUESTIONNAIRES = Path(__file__).resolve().parents[2] / "accretion" / "outcomes" / "questionnaires"
ALL_NO = {"fever": False, "infection_signs": False, "new_weakness_numbness": False, "bowel_bladder_change": False,
          "emergency_visit": False}


@pytest.mark.parametrize("language", ["en", "es"])
def test_every_red_flag_is_a_yes_no_question_of_the_safety_questionnaire(language):
    items = {item["linkId"]: item for item in
             json.loads((QUESTIONNAIRES / f"safety.{language}.json").read_text())["item"]}
    for link_id in red_flags.RED_FLAGS:
        assert items[link_id]["type"] == "boolean"
    assert set(red_flags.LABELS) == set(red_flags.RED_FLAGS)


@pytest.mark.parametrize("answers", [ALL_NO, {}, None, {**ALL_NO, "details": "a bit sore"},
                                     {key: None for key in ALL_NO}, {"emergency_visit": True}])
def test_no_red_flag(answers):
    result = assess(answers)
    assert not result and result.flags == () and result.urgency is None


@pytest.mark.parametrize("flag, urgency", [("fever", CALL_CLINIC), ("infection_signs", CALL_CLINIC),
                                           ("new_weakness_numbness", EMERGENCY), ("bowel_bladder_change", EMERGENCY)])
def test_one_red_flag(flag, urgency):
    result = assess({**ALL_NO, flag: True})
    assert result and result.flags == (flag,) and result.urgency == urgency


def test_several_red_flags_take_the_most_urgent_in_questionnaire_order():
    result = assess({**ALL_NO, "bowel_bladder_change": True, "fever": True, "infection_signs": True})
    assert result.flags == ("fever", "infection_signs", "bowel_bladder_change")
    assert result.urgency == EMERGENCY
    assert result.emergency_flags == ("bowel_bladder_change",)
    assert result.call_clinic_flags == ("fever", "infection_signs")
    assert result.labels() == ["fever or shaking chills", "signs of infection at the injection site",
                               "new bowel or bladder change"]


def test_fever_and_infection_signs_without_neurological_signs_call_the_clinic():
    result = assess({"fever": True, "infection_signs": True, "new_weakness_numbness": False,
                     "bowel_bladder_change": None})
    assert result.flags == ("fever", "infection_signs") and result.urgency == CALL_CLINIC


def test_only_an_exact_yes_is_a_flag():
    # Unanswered (None), no (False) and anything that is not True (a stray string or number) raise no flag.
    result = assess({"fever": None, "infection_signs": "yes", "new_weakness_numbness": 1,
                     "bowel_bladder_change": True})
    assert result.flags == ("bowel_bladder_change",) and result.urgency == EMERGENCY


def test_unknown_link_ids_are_ignored():
    assert not assess({"headache": True, "details": "weak legs"})
