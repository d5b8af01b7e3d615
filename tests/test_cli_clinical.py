"""The clinical command-line tools (screen, aftercare, preparation, score), run as the installed `accretion`.

Every run points DATABASE_URL at a PostgreSQL that cannot be reached: a
command that opened a database connection would fail, so each passing run
shows that the command needs no database.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ACCRETION = Path(sys.executable).with_name("accretion")
NO_DATABASE = "postgres://nobody@127.0.0.1:1/none"


def run(*args, env, stdin=None):
    return subprocess.run(
        [str(ACCRETION), *map(str, args)],
        check=False,
        input=stdin,
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        timeout=60,
    )


def ok_json(result):
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    return json.loads(result.stdout)


@pytest.fixture
def env():
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST_"))}
    environment.update(DATABASE_URL=NO_DATABASE, DEBUG="true")
    return environment


def write(path: Path, content) -> Path:
    path.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
    return path


def intake(**overrides):
    """A fully answered lumbar facet intake of a patient on apixaban (Eliquis), taken regularly."""
    data = {
        "procedure_date": "2026-12-01",
        "age": 64,
        "region": "lumbar",
        "diagnoses": ["facet_oa"],
        "planned_targets": ["facet_joint"],
        "active_infection": False,
        "bleeding_disorder": False,
        "radicular_symptoms": False,
        "active_malignancy": False,
        "pregnant": False,
        "neuro_red_flags": [],
        "platelet_count": 240,
        "medications": [{"name": "Eliquis 5 mg"}],
    }
    data.update(overrides)
    return data


def preparation(**overrides):
    """A leukocyte-rich, calcium-activated PRP at exactly 5x baseline platelets."""
    data = {
        "whole_blood_ml": 54,
        "baseline_platelets": 220,
        "prp_platelets": 1100,
        "prp_volume_ml": 6,
        "injected_ml": 4,
        "baseline_wbc": 6.5,
        "prp_wbc": 12,
        "baseline_neutrophils": 4,
        "prp_neutrophils": 2.5,
        "activation": "calcium_chloride",
    }
    data.update(overrides)
    return data


def test_the_environment_really_has_no_database(env):
    # A command that does need the database fails here, one line, exit 1.
    result = run("showmigrations", env=env)
    assert result.returncode == 1 and "Traceback" not in result.stderr


# ---------------------------------------------------------------------------
# screen
# ---------------------------------------------------------------------------


def test_screen_apixaban_is_review_with_anticoagulant(env, tmp_path):
    decision = ok_json(run("screen", write(tmp_path / "intake.json", intake()), env=env))
    assert list(decision) == ["decision", "ruleset", "findings", "medications", "antithrombotics"]
    assert decision["medications"] == [
        {"entered": "Eliquis 5 mg", "ingredients": ["apixaban"], "classes": ["anticoagulant"], "unread": []}]
    assert decision["decision"] == "review"
    assert decision["ruleset"] == "default-2026.2"
    [finding] = decision["findings"]
    assert list(finding) == ["code", "severity", "message", "source"]
    assert finding["code"] == "ANTICOAGULANT" and finding["severity"] == "review"
    assert finding["message"].startswith('Current anticoagulant: apixaban (entered as "Eliquis 5 mg"), taken regularly.')
    assert finding["source"].startswith("clinical-reference.md §3c: ASRA 2018")


def test_screen_text_is_a_readable_list(env, tmp_path):
    result = run("screen", "--text", write(tmp_path / "intake.json", intake()), env=env)
    assert result.returncode == 0 and result.stderr == ""
    lines = result.stdout.splitlines()
    assert lines[:3] == ["Decision: review", "Ruleset:  default-2026.2", "Findings: 1"]
    assert lines[4] == "1. review: ANTICOAGULANT"
    block = " ".join(line.strip() for line in lines[5:])
    assert block.startswith('Current anticoagulant: apixaban (entered as "Eliquis 5 mg"), taken regularly.')
    assert lines[-2:] == ["Medications as read:", "- 'Eliquis 5 mg': apixaban [anticoagulant]"]
    assert "Source: clinical-reference.md §3c: ASRA 2018" in block
    assert all(len(line) <= 79 for line in lines)
    assert not result.stdout.lstrip().startswith("{")


def test_screen_reads_standard_input_and_exits_0_when_ineligible(env):
    low_platelets = {
        "procedure_date": "2026-12-01",
        "age": 50,
        "region": "cervical",
        "diagnoses": ["spinal_stenosis"],
        "planned_targets": ["epidural"],
        "platelet_count": 80,
    }
    result = run("screen", "-", env=env, stdin=json.dumps(low_platelets))
    decision = ok_json(result)
    assert decision["decision"] == "ineligible"
    assert [f["code"] for f in decision["findings"]] == [
        "THROMBOCYTOPENIA",
        "TARGET_INVESTIGATIONAL",
        "NO_SUPPORTED_INDICATION",
        "MISSING_SAFETY_DATA",
        "STRUCTURAL_EXPECTATION",
    ]
    # ensure_ascii=False: the unit is printed as is, not as \u00b5.
    assert "Platelet count 80 x10^3/µL is below 100" in result.stdout


# ---------------------------------------------------------------------------
# aftercare
# ---------------------------------------------------------------------------


def test_aftercare_json_dates(env):
    plan = ok_json(run("aftercare", "--procedure-date", "2026-11-30", "--json", env=env))
    assert list(plan) == [
        "procedure_date",
        "soreness_expected_through",
        "nsaid_avoid_through",
        "no_driving_through",
        "no_soaking_through",
        "cold_or_heat",
        "activity_guidance",
        "acetaminophen_alternative",
        "warning_signs",
        "follow_ups",
    ]
    assert plan["procedure_date"] == "2026-11-30"
    assert plan["soreness_expected_through"] == "2026-12-03"
    assert plan["nsaid_avoid_through"] == "2026-12-07"
    assert plan["no_driving_through"] == "2026-12-01"
    assert plan["no_soaking_through"] == "2026-12-02"
    # 6 weeks = 42 days; 3 months from 30 November ends on the last day of February 2027.
    assert plan["follow_ups"] == [
        {"key": "2w", "due": "2026-12-14"},
        {"key": "6w", "due": "2027-01-11"},
        {"key": "3m", "due": "2027-02-28"},
        {"key": "6m", "due": "2027-05-30"},
        {"key": "12m", "due": "2027-11-30"},
    ]
    assert plan["warning_signs"][0]["code"] == "fever" and "38.3 °C" in plan["warning_signs"][0]["text"]


def test_aftercare_text_with_the_longest_nsaid_break(env):
    result = run("aftercare", "--procedure-date", "2026-11-30", "--nsaid-days", "14", env=env)
    assert result.returncode == 0 and result.stderr == ""
    lines = result.stdout.splitlines()
    assert lines[0] == "Aftercare plan for a procedure on 2026-11-30"
    [nsaid] = [line for line in lines if line.lstrip().startswith("No NSAIDs")]
    assert nsaid.endswith("2026-12-14")
    assert "Pain relief (no NSAIDs through 2026-12-14):" in lines
    assert "Warning signs:" in lines and "  - Severe headache or a stiff neck." in lines
    assert "Fever above 38.3 °C (101 °F), or shaking chills." in result.stdout
    follow_ups = lines[lines.index("Follow-up visits:") + 1 :]
    assert [line.split() for line in follow_ups] == [
        ["2", "weeks", "due", "2026-12-14"],
        ["6", "weeks", "due", "2027-01-11"],
        ["3", "months", "due", "2027-02-28"],
        ["6", "months", "due", "2027-05-30"],
        ["12", "months", "due", "2027-11-30"],
    ]


# ---------------------------------------------------------------------------
# preparation
# ---------------------------------------------------------------------------


def test_preparation_derived_values(env, tmp_path):
    result = run("preparation", write(tmp_path / "prep.json", preparation()), env=env)
    # concentration 1100 / 220 = 5.00 (exactly 5x: Mishra A); dose 1100 x 4 / 1000 = 4.40 billion;
    # recovery 1100 x 6 / (220 x 54) = 55.55...% -> 55.6; WBC 12 > 6.5: rich (A), neutrophils
    # 2.5 < 4: beta; 750 < 1100 <= 1250: P3; calcium chloride: activated (x, Mishra type 2).
    assert ok_json(result) == {
        "concentration_factor": 5.0,
        "dose_billion": 4.4,
        "recovery_percent": 55.6,
        "leukocytes": "rich",
        "paw": "P3-x-Aβ",
        "mishra": "2A",
    }
    assert '"paw": "P3-x-Aβ"' in result.stdout
    assert list(json.loads(result.stdout)) == [
        "concentration_factor", "dose_billion", "recovery_percent", "leukocytes", "paw", "mishra",
    ]


# ---------------------------------------------------------------------------
# score
# ---------------------------------------------------------------------------


def test_score_odi_with_one_missing_section(env, tmp_path):
    answers = write(tmp_path / "odi.json", {"answers": [3, 2, 2, 1, 3, 2, 1, None, 2, 3]})
    result = ok_json(run("score", "odi", answers, env=env))
    # 19 points over 9 answered sections: 19 / 45 = 42.2 %, in the 41-60 band.
    assert result == {"instrument": "odi", "score": 42.2, "band": "severe", "answered": 9}
    assert list(result) == ["instrument", "score", "band", "answered"]


def test_score_ndi_from_standard_input(env):
    result = run("score", "ndi", "-", env=env, stdin=json.dumps({"answers": [2, 1, 1, 2, 3, 1, 2, 1, 2, 1]}))
    # 16 of 50 raw points = 32 %, raw 16 is in the 15-24 band.
    assert ok_json(result) == {"instrument": "ndi", "score": 32.0, "band": "moderate", "answered": 10, "raw": 16.0}


def test_score_with_two_missing_sections_is_null_with_a_reason(env, tmp_path):
    answers = write(tmp_path / "odi.json", {"answers": [3, None, 2, None, 1, 2, 2, 1, 0, 1]})
    result = ok_json(run("score", "odi", answers, env=env))
    assert result["score"] is None and result["band"] is None and result["answered"] == 8
    assert result["reason"].startswith("2 of 10 sections unanswered")


def test_score_change_odi_responder(env):
    result = ok_json(run("score", "change", "odi", "--baseline", "40", "--followup", "28", env=env))
    # 12 points (at least 10) and 12 / 40 = 30 % (at least 30 %).
    assert result == {"change": 12, "percent_change": 30.0, "responder": True}
    assert list(result) == ["change", "percent_change", "responder"]


def test_score_change_nrs_whole_points(env):
    result = ok_json(run("score", "change", "nrs", "--baseline", "7", "--followup", "5", env=env))
    # 2 points reach the NRS threshold although 2 / 7 = 28.6 % is under 30 %.
    assert result == {"change": 2, "percent_change": 28.6, "responder": True}
    assert isinstance(result["change"], int)


# ---------------------------------------------------------------------------
# Bad input: exit 2, one line on stderr naming the field, no traceback
# ---------------------------------------------------------------------------

BAD_INPUTS = {
    # id: (arguments, {file name: content}, expected on the stderr line)
    "screen-unknown-code": (
        ["screen", "{intake.json}"],
        {"intake.json": intake(diagnoses=["facet_oa", "unicorn"])},
        "CommandError: diagnoses[1]: unknown code 'unicorn'",
    ),
    "screen-wrong-type": (
        ["screen", "{intake.json}"],
        {"intake.json": intake(age="64")},
        "CommandError: age: must be a whole number of years, not a string",
    ),
    "screen-malformed-date": (
        ["screen", "{intake.json}"],
        {"intake.json": intake(procedure_date="01/12/2026")},
        "CommandError: procedure_date: must be a date in the form YYYY-MM-DD",
    ),
    "screen-impossible-date": (
        ["screen", "--text", "{intake.json}"],
        {"intake.json": intake(procedure_date="2026-02-30")},
        "CommandError: procedure_date: '2026-02-30' is not a real calendar date",
    ),
    "screen-negative-count": (
        ["screen", "{intake.json}"],
        {"intake.json": intake(platelet_count=-5)},
        "CommandError: platelet_count: cannot be negative",
    ),
    "screen-last-dose-after-procedure": (
        ["screen", "{intake.json}"],
        {"intake.json": intake(medications=[{"name": "Eliquis 5 mg", "last_dose": "2026-12-02"}])},
        "CommandError: medications[0].last_dose: 2026-12-02 is after the procedure date 2026-12-01",
    ),
    "screen-malformed-json": (
        ["screen", "{intake.json}"],
        {"intake.json": '{"age": 64, "region": "lumbar",\n'},
        "intake.json: malformed JSON: Expecting property name enclosed in double quotes (line 2, column 1)",
    ),
    "screen-missing-file": (
        ["screen", "{absent.json}"],
        {},
        "absent.json: cannot read the file: No such file or directory",
    ),
    "aftercare-malformed-date": (
        ["aftercare", "--procedure-date", "30/11/2026"],
        {},
        "CommandError: --procedure-date: must be an ISO date YYYY-MM-DD",
    ),
    "aftercare-impossible-date": (
        ["aftercare", "--procedure-date", "2026-02-30", "--json"],
        {},
        "CommandError: --procedure-date: is not a valid calendar date",
    ),
    "aftercare-nsaid-days-out-of-range": (
        ["aftercare", "--procedure-date", "2026-11-30", "--nsaid-days", "4"],
        {},
        "CommandError: --nsaid-days: must be between 5 and 14, got 4",
    ),
    "preparation-zero-count": (
        ["preparation", "{prep.json}"],
        {"prep.json": preparation(prp_platelets=0)},
        "CommandError: prp_platelets: must be greater than 0",
    ),
    "preparation-negative-volume": (
        ["preparation", "{prep.json}"],
        {"prep.json": preparation(injected_ml=-2)},
        "CommandError: injected_ml: must be greater than 0",
    ),
    "preparation-more-prp-than-blood": (
        ["preparation", "{prep.json}"],
        {"prep.json": preparation(prp_volume_ml=60)},
        "CommandError: prp_volume_ml: must not be more than whole_blood_ml",
    ),
    "preparation-more-injected-than-produced": (
        ["preparation", "{prep.json}"],
        {"prep.json": preparation(injected_ml=7)},
        "CommandError: injected_ml: must not be more than prp_volume_ml",
    ),
    "preparation-unknown-activation": (
        ["preparation", "{prep.json}"],
        {"prep.json": preparation(activation="sunlight")},
        "CommandError: activation: must be one of: none, calcium_chloride, thrombin, other",
    ),
    "preparation-malformed-json": (
        ["preparation", "{prep.json}"],
        {"prep.json": "{whole_blood_ml: 54}"},
        "prep.json: malformed JSON: Expecting property name enclosed in double quotes (line 1, column 2)",
    ),
    "score-value-out-of-range": (
        ["score", "odi", "{answers.json}"],
        {"answers.json": {"answers": [3, 2, 2, 6, 3, 2, 1, 0, 2, 3]}},
        "CommandError: answers[3]: must be a whole number from 0 to 5 or null (section 4), got 6",
    ),
    "score-not-ten-answers": (
        ["score", "ndi", "{answers.json}"],
        {"answers.json": {"answers": [1, 1, 1, 1, 1, 1, 1, 1, 1]}},
        "CommandError: answers: must have exactly 10 answers, got 9",
    ),
    "score-malformed-file": (
        ["score", "odi", "{answers.json}"],
        {"answers.json": '{"answers": [1, 2, ]}'},
        "answers.json: malformed JSON: Expecting value (line 1, column 20)",
    ),
    "score-change-not-a-number": (
        ["score", "change", "odi", "--baseline", "forty", "--followup", "28"],
        {},
        "CommandError: --baseline: must be a number, got 'forty'",
    ),
    "score-change-out-of-range": (
        ["score", "change", "ndi", "--baseline", "40", "--followup", "140"],
        {},
        "CommandError: --followup: must be between 0 and 100",
    ),
    "score-change-nrs-not-whole": (
        ["score", "change", "nrs", "--baseline", "7", "--followup", "3.5"],
        {},
        "CommandError: --followup: must be a whole number from 0 to 10, got a decimal number",
    ),
    "usage-unknown-option": (
        ["score", "change", "odi", "--baseline", "40", "--followup", "28", "--frobnicate"],
        {},
        "accretion score: error: unrecognized arguments: --frobnicate",
    ),
    "usage-missing-option-of-a-subcommand": (
        ["score", "change", "odi", "--baseline", "40"],
        {},
        "accretion score change: error: the following arguments are required: --followup",
    ),
    "usage-missing-required-option": (
        ["aftercare", "--nsaid-days", "7"],
        {},
        "accretion aftercare: error: the following arguments are required: --procedure-date",
    ),
}


@pytest.mark.parametrize("arguments, files, expected", BAD_INPUTS.values(), ids=BAD_INPUTS.keys())
def test_bad_input_is_one_line_and_exit_2(env, tmp_path, arguments, files, expected):
    for name, content in files.items():
        write(tmp_path / name, content)
    args = [str(tmp_path / a[1:-1]) if a.startswith("{") else a for a in arguments]
    result = run(*args, env=env)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.endswith("\n") and result.stderr.count("\n") == 1, result.stderr
    assert expected in result.stderr
    assert result.stdout == ""
