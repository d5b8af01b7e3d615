"""Screening: intake parsing, every rule with its boundaries, the protocol, properties."""

import json
import math
import re
from dataclasses import replace
from datetime import date, timedelta

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from accretion.clinical import medications
from accretion.clinical.screening import (
    CAUTION,
    CONTRAINDICATION,
    DECISIONS,
    DEFAULT_PROTOCOL,
    DIAGNOSES,
    ELIGIBLE,
    INELIGIBLE,
    NEURO_RED_FLAGS,
    REGIONS,
    REVIEW,
    RULES,
    RULES_BY_CODE,
    SEVERITIES,
    TARGETS,
    Decision,
    FieldError,
    Intake,
    IntakeError,
    Medication,
    ProtocolError,
    ScreeningProtocol,
    decide,
    intake_to_dict,
    parse_intake,
    rules_for,
)

TODAY = date(2026, 3, 1)
PROCEDURE = date(2026, 3, 10)
ABSENT = object()

TABLE_ORDER = [
    "ACTIVE_INFECTION",
    "BLEEDING_DISORDER",
    "THROMBOCYTOPENIA",
    "NEURO_RISK",
    "PLATELETS_LOW",
    "ANTICOAGULANT",
    "ANTIPLATELET",
    "POST_SURGICAL",
    "TARGET_INVESTIGATIONAL",
    "NO_SUPPORTED_INDICATION",
    "RADICULAR",
    "DEGENERATION_ADVANCED",
    "MALIGNANCY",
    "PREGNANCY",
    "MISSING_SAFETY_DATA",
    "MEDICATION_UNRECOGNIZED",
    "NSAID_RECENT",
    "STEROID_RECENT",
    "STRUCTURAL_EXPECTATION",
]


def intake_data(**overrides):
    """A complete intake that screens eligible with no findings, then the overrides."""
    data = {
        "procedure_date": PROCEDURE.isoformat(),
        "age": 55,
        "region": "lumbar",
        "diagnoses": ["facet_oa"],
        "planned_targets": ["facet_joint"],
        "active_infection": False,
        "bleeding_disorder": False,
        "radicular_symptoms": False,
        "active_malignancy": False,
        "pregnant": False,
        "neuro_red_flags": [],
        "platelet_count": 250,
        "medications": [],
        "steroid_injection_last_date": None,
    }
    for key, value in overrides.items():
        if value is ABSENT:
            data.pop(key, None)
        else:
            data[key] = value
    return data


def screen(protocol=DEFAULT_PROTOCOL, **overrides):
    return decide(parse_intake(intake_data(**overrides), today=TODAY), protocol)


def days_before(n, procedure=PROCEDURE):
    return (procedure - timedelta(days=n)).isoformat()


def med(name, last_dose_days=None):
    """A medication entry; None = taken regularly."""
    last = None if last_dose_days is None else days_before(last_dose_days)
    return {"name": name, "last_dose": last}


def codes(decision):
    return [f.code for f in decision.findings]


def finding(decision, code):
    (found,) = [f for f in decision.findings if f.code == code]
    return found


# --------------------------------------------------------------------------
# The baseline and the rule catalog
# --------------------------------------------------------------------------


def test_baseline_intake_is_eligible_with_no_findings():
    result = screen()
    assert result.decision == ELIGIBLE
    assert result.findings == ()
    assert result.ruleset == "default-2026.2"
    assert result.to_dict() == {"decision": "eligible", "ruleset": "default-2026.2", "findings": [],
                                "medications": [], "antithrombotics": []}


def test_rules_catalog_lists_every_code_in_table_order():
    assert [r.code for r in RULES] == TABLE_ORDER
    assert set(RULES_BY_CODE) == set(TABLE_ORDER)


@pytest.mark.parametrize(
    "code, severity",
    [(c, CONTRAINDICATION) for c in TABLE_ORDER[:4]]
    + [(c, REVIEW) for c in TABLE_ORDER[4:16]]
    + [(c, CAUTION) for c in TABLE_ORDER[16:19]],
)
def test_rule_severities(code, severity):
    assert RULES_BY_CODE[code].severity == severity


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.code)
def test_every_rule_has_plain_description_and_source(rule):
    assert rule.description.endswith(".")
    assert "{" not in rule.description
    assert "clinical-reference.md" in rule.source or rule.source.startswith("clinic protocol")


def test_rules_for_a_protocol_writes_its_thresholds():
    protocol = ScreeningProtocol(platelet_contraindication_below=80, nsaid_window_days=3)
    described = {r.code: r.description for r in rules_for(protocol)}
    assert "below 80 x10^3/µL" in described["THROMBOCYTOPENIA"]
    assert "fewer than 3 days" in described["NSAID_RECENT"]
    assert "below 100 x10^3/µL" in RULES_BY_CODE["THROMBOCYTOPENIA"].description


# --------------------------------------------------------------------------
# Each code, with its boundaries
# --------------------------------------------------------------------------

RULE_CASES = [
    # (id, overrides, the only code expected, decision)
    ("infection", {"active_infection": True}, "ACTIVE_INFECTION", INELIGIBLE),
    ("bleeding", {"bleeding_disorder": True}, "BLEEDING_DISORDER", INELIGIBLE),
    ("platelets 0", {"platelet_count": 0}, "THROMBOCYTOPENIA", INELIGIBLE),
    ("platelets 99", {"platelet_count": 99}, "THROMBOCYTOPENIA", INELIGIBLE),
    ("platelets 99.9", {"platelet_count": 99.9}, "THROMBOCYTOPENIA", INELIGIBLE),
    ("platelets 100", {"platelet_count": 100}, "PLATELETS_LOW", REVIEW),
    ("platelets 149", {"platelet_count": 149}, "PLATELETS_LOW", REVIEW),
    ("platelets 149.9", {"platelet_count": 149.9}, "PLATELETS_LOW", REVIEW),
    ("progressive deficit", {"neuro_red_flags": ["progressive_deficit"]}, "NEURO_RISK", INELIGIBLE),
    ("cauda equina", {"neuro_red_flags": ["cauda_equina"]}, "NEURO_RISK", INELIGIBLE),
    ("myelopathy", {"neuro_red_flags": ["myelopathy"]}, "NEURO_RISK", INELIGIBLE),
    ("warfarin regular", {"medications": [med("warfarin")]}, "ANTICOAGULANT", REVIEW),
    ("heparin 0 days", {"medications": [med("heparin", 0)]}, "ANTICOAGULANT", REVIEW),
    ("apixaban 29 days", {"medications": [med("apixaban", 29)]}, "ANTICOAGULANT", REVIEW),
    ("aspirin regular", {"medications": [med("aspirin")]}, "ANTIPLATELET", REVIEW),
    ("clopidogrel 29 days", {"medications": [med("clopidogrel", 29)]}, "ANTIPLATELET", REVIEW),
    ("discectomy", {"diagnoses": ["facet_oa", "post_discectomy"]}, "POST_SURGICAL", REVIEW),
    ("fusion", {"diagnoses": ["facet_oa", "post_fusion"]}, "POST_SURGICAL", REVIEW),
    ("epidural", {"planned_targets": ["epidural"]}, "TARGET_INVESTIGATIONAL", REVIEW),
    ("intradiscal", {"planned_targets": ["facet_joint", "intradiscal"]},
     "TARGET_INVESTIGATIONAL", REVIEW),
    ("no diagnosis", {"diagnoses": []}, "NO_SUPPORTED_INDICATION", REVIEW),
    ("other only", {"diagnoses": ["other"]}, "NO_SUPPORTED_INDICATION", REVIEW),
    ("radicular symptoms", {"radicular_symptoms": True}, "RADICULAR", REVIEW),
    ("radiculopathy", {"diagnoses": ["facet_oa", "radiculopathy"]}, "RADICULAR", REVIEW),
    ("moderate", {"diagnoses": ["facet_oa", "disc_degeneration_moderate"]},
     "DEGENERATION_ADVANCED", REVIEW),
    ("severe", {"diagnoses": ["facet_oa", "disc_degeneration_severe"]},
     "DEGENERATION_ADVANCED", REVIEW),
    ("malignancy", {"active_malignancy": True}, "MALIGNANCY", REVIEW),
    ("pregnant", {"pregnant": True}, "PREGNANCY", REVIEW),
    ("infection unknown", {"active_infection": None}, "MISSING_SAFETY_DATA", REVIEW),
    ("bleeding unknown", {"bleeding_disorder": ABSENT}, "MISSING_SAFETY_DATA", REVIEW),
    ("flags unknown", {"neuro_red_flags": None}, "MISSING_SAFETY_DATA", REVIEW),
    ("medications unknown", {"medications": ABSENT}, "MISSING_SAFETY_DATA", REVIEW),
    ("ibuprofen regular", {"medications": [med("ibuprofen")]}, "NSAID_RECENT", ELIGIBLE),
    ("naproxen 0 days", {"medications": [med("naproxen", 0)]}, "NSAID_RECENT", ELIGIBLE),
    ("meloxicam 6 days", {"medications": [med("meloxicam", 6)]}, "NSAID_RECENT", ELIGIBLE),
    ("prednisone regular", {"medications": [med("prednisone")]}, "STEROID_RECENT", ELIGIBLE),
    ("dexamethasone 13 days", {"medications": [med("dexamethasone", 13)]},
     "STEROID_RECENT", ELIGIBLE),
    ("injection 0 days", {"steroid_injection_last_date": days_before(0)},
     "STEROID_RECENT", ELIGIBLE),
    ("injection 29 days", {"steroid_injection_last_date": days_before(29)},
     "STEROID_RECENT", ELIGIBLE),
    ("herniation", {"diagnoses": ["facet_oa", "disc_herniation"]},
     "STRUCTURAL_EXPECTATION", ELIGIBLE),
    ("stenosis", {"diagnoses": ["facet_oa", "spinal_stenosis"]},
     "STRUCTURAL_EXPECTATION", ELIGIBLE),
    ("unknown drug", {"medications": [med("Eliquiss")]}, "MEDICATION_UNRECOGNIZED", REVIEW),
    ("unread word beside a known drug", {"medications": [med("Tylenol and eliquiss")]},
     "MEDICATION_UNRECOGNIZED", REVIEW),
]


@pytest.mark.parametrize(
    "overrides, code, decision", [c[1:] for c in RULE_CASES], ids=[c[0] for c in RULE_CASES]
)
def test_each_rule_fires_alone(overrides, code, decision):
    result = screen(**overrides)
    assert codes(result) == [code]
    assert result.decision == decision
    found = result.findings[0]
    assert found.severity == RULES_BY_CODE[code].severity
    assert found.source == RULES_BY_CODE[code].source
    assert found.message and "\n" not in found.message


NOT_FIRING = [
    ("platelets 150", {"platelet_count": 150}),
    ("platelets 450", {"platelet_count": 450}),
    ("platelets not measured", {"platelet_count": None}),
    ("anticoagulant 30 days", {"medications": [med("warfarin", 30)]}),
    ("antiplatelet 30 days", {"medications": [med("clopidogrel", 30)]}),
    ("antiplatelet 200 days", {"medications": [med("aspirin", 200)]}),
    ("nsaid 7 days", {"medications": [med("ibuprofen", 7)]}),
    ("nsaid 30 days", {"medications": [med("Aleve", 30)]}),
    ("steroid 14 days", {"medications": [med("prednisone", 14)]}),
    ("injection 30 days", {"steroid_injection_last_date": days_before(30)}),
    ("injection 400 days", {"steroid_injection_last_date": days_before(400)}),
    ("radicular symptoms no", {"radicular_symptoms": False}),
    ("radicular symptoms unknown", {"radicular_symptoms": None}),
    ("malignancy unknown", {"active_malignancy": None}),
    ("pregnancy unknown", {"pregnant": ABSENT}),
    ("mild degeneration", {"diagnoses": ["disc_degeneration_mild"]}),
    ("every supported indication",
     {"diagnoses": ["facet_oa", "disc_degeneration_mild", "spondylosis_nonradicular",
                    "paraspinal_strain", "thoracolumbar_fascia_irritation"]}),
    ("every soft-tissue target",
     {"planned_targets": ["facet_joint", "interspinous_ligament", "paraspinal_muscle",
                          "thoracolumbar_fascia"]}),
    ("cervical", {"region": "cervical"}),
    ("thoracic", {"region": "thoracic"}),
    ("procedure date defaults", {"procedure_date": ABSENT}),
]


@pytest.mark.parametrize("overrides", [c[1] for c in NOT_FIRING], ids=[c[0] for c in NOT_FIRING])
def test_boundaries_and_non_triggers_leave_the_intake_eligible(overrides):
    result = screen(**overrides)
    assert codes(result) == []
    assert result.decision == ELIGIBLE


@pytest.mark.parametrize(
    "procedure, last_dose, days",
    [
        (date(2026, 3, 1), date(2026, 2, 23), 6),  # across February, not a leap year
        (date(2024, 3, 1), date(2024, 2, 23), 7),  # across 29 February 2024
        (date(2027, 1, 2), date(2026, 12, 27), 6),  # across a year end
        (date(2026, 5, 1), date(2026, 4, 25), 6),  # across a 30-day month
        (date(2024, 3, 6), date(2024, 2, 28), 7),
        (date(2026, 3, 6), date(2026, 2, 28), 6),
    ],
)
def test_nsaid_window_counts_calendar_days(procedure, last_dose, days):
    result = screen(
        procedure_date=procedure.isoformat(),
        medications=[{"name": "Advil", "last_dose": last_dose.isoformat()}],
    )
    if days < 7:
        assert codes(result) == ["NSAID_RECENT"]
        assert f"last taken {days} days before" in result.findings[0].message
    else:
        assert codes(result) == []


@pytest.mark.parametrize(
    "procedure, last_dose, current",
    [
        (date(2027, 1, 2), date(2026, 12, 4), True),  # 29 days across a year end
        (date(2027, 1, 2), date(2026, 12, 3), False),  # 30 days
        (date(2024, 3, 1), date(2024, 2, 1), True),  # 29 days in a leap February
        (date(2024, 3, 1), date(2024, 1, 31), False),  # 30 days
        (date(2026, 3, 1), date(2026, 1, 31), True),  # 29 days, February has 28
        (date(2026, 3, 1), date(2026, 1, 30), False),
    ],
)
def test_antithrombotic_current_window_across_month_and_year_ends(procedure, last_dose, current):
    result = screen(
        procedure_date=procedure.isoformat(),
        medications=[{"name": "Plavix", "last_dose": last_dose.isoformat()}],
    )
    assert codes(result) == (["ANTIPLATELET"] if current else [])


@pytest.mark.parametrize(
    "procedure, injection, days",
    [
        (date(2024, 3, 1), date(2024, 1, 31), 30),  # leap year
        (date(2024, 3, 1), date(2024, 2, 1), 29),
        (date(2026, 1, 10), date(2025, 12, 11), 30),  # across a year end
        (date(2026, 1, 10), date(2025, 12, 12), 29),
        (date(2026, 3, 30), date(2026, 2, 28), 30),  # February has 28 days
        (date(2026, 3, 30), date(2026, 3, 1), 29),
    ],
)
def test_steroid_injection_window_across_month_ends(procedure, injection, days):
    result = screen(
        procedure_date=procedure.isoformat(),
        steroid_injection_last_date=injection.isoformat(),
    )
    if days < 30:
        assert codes(result) == ["STEROID_RECENT"]
        assert f"{days} days before" in result.findings[0].message
    else:
        assert codes(result) == []


@pytest.mark.parametrize("days, fires", [(0, True), (13, True), (14, False), (15, False)])
def test_systemic_steroid_window(days, fires):
    result = screen(medications=[med("Medrol", days)])
    assert codes(result) == (["STEROID_RECENT"] if fires else [])


@pytest.mark.parametrize("days, fires", [(0, True), (6, True), (7, False), (8, False)])
def test_nsaid_window(days, fires):
    result = screen(medications=[med("Mobic", days)])
    assert codes(result) == (["NSAID_RECENT"] if fires else [])


@pytest.mark.parametrize("name", ["warfarin", "Xarelto", "Lovenox", "Plavix", "Brilinta"])
@pytest.mark.parametrize("days, fires", [(0, True), (29, True), (30, False), (31, False)])
def test_antithrombotic_window(name, days, fires):
    result = screen(medications=[med(name, days)])
    assert (len(result.findings) == 1) == fires
    assert result.decision == (REVIEW if fires else ELIGIBLE)


# --------------------------------------------------------------------------
# Messages
# --------------------------------------------------------------------------


def test_anticoagulant_message_names_drug_days_and_reference():
    result = screen(medications=[med("Eliquis 5 mg", 2)])
    message = finding(result, "ANTICOAGULANT").message
    assert "apixaban" in message
    assert '"Eliquis 5 mg"' in message
    assert "last taken 2 days before the procedure date" in message
    assert "72 h before a neuraxial block" in message
    assert "PROXY" in message
    assert "not an instruction" in message
    assert "PAUSE" in message


def test_regular_use_is_stated():
    message = finding(screen(medications=[med("Coumadin")]), "ANTICOAGULANT").message
    assert "warfarin" in message and "taken regularly" in message
    assert "5 days with a normal INR" in message and "Narouze" in message


def test_dose_on_the_procedure_day_is_day_zero():
    message = finding(screen(medications=[med("aspirin", 0)]), "ANTIPLATELET").message
    assert "on the procedure day" in message


def test_every_anticoagulant_is_named_once_in_alphabetical_order():
    result = screen(
        medications=[med("Xarelto", 3), med("warfarin"), med("Coumadin", 10), med("Tylenol"), med("eliquiss")]
    )
    assert codes(result) == ["ANTICOAGULANT", "MEDICATION_UNRECOGNIZED"]
    message = finding(result, "ANTICOAGULANT").message
    assert message.index("rivaroxaban") < message.index("warfarin")
    assert message.count("warfarin (") == 1
    # Regular use wins over a dated dose of the same drug.
    assert 'warfarin (entered as "Coumadin"), taken regularly' in message


def test_most_recent_dose_wins_across_entries():
    result = screen(medications=[med("Plavix", 40), med("clopidogrel", 12)])
    message = finding(result, "ANTIPLATELET").message
    assert "last taken 12 days before" in message


def test_aggrenox_names_both_antiplatelets():
    message = finding(screen(medications=[med("Aggrenox", 1)]), "ANTIPLATELET").message
    assert "aspirin" in message and "dipyridamole" in message


def test_antiplatelet_and_anticoagulant_are_separate_findings():
    result = screen(medications=[med("Plavix"), med("Eliquis"), med("Advil", 1)])
    assert codes(result) == ["ANTICOAGULANT", "ANTIPLATELET", "NSAID_RECENT"]
    assert "clopidogrel" not in finding(result, "ANTICOAGULANT").message


def test_steroid_message_combines_tablet_and_injection():
    result = screen(
        medications=[med("Deltasone", 3)], steroid_injection_last_date=days_before(10)
    )
    message = finding(result, "STEROID_RECENT").message
    assert "prednisone" in message and "10 days before" in message


def test_unrecognized_names_are_listed_once_each():
    result = screen(medications=[med("Tylenol"), med("metfromin 500 mg"), med("zzyzx"), med("  zzyzx ")])
    message = finding(result, "MEDICATION_UNRECOGNIZED").message
    assert '"zzyzx"' in message and '"metfromin 500 mg"' in message
    assert message.count("zzyzx") == 1
    assert "Tylenol" not in message  # acetaminophen is a drug the dictionary knows
    assert result.decision == REVIEW


def test_unrecognized_name_is_shown_on_one_line():
    result = screen(medications=[med("zzyzx\noil\tcapsules")])
    message = finding(result, "MEDICATION_UNRECOGNIZED").message
    assert '"zzyzx oil capsules"' in message


def test_the_decision_lists_the_current_antithrombotics_with_their_lines():
    result = screen(medications=[med("Eliquis 5 mg bid"), med("Baby aspirin", 3), med("apixaban 5 mg"),
                                 med("Plavix", 40), med("Advil")])
    assert result.to_dict()["antithrombotics"] == [
        {"generic": "apixaban", "class": "anticoagulant", "entered": ["Eliquis 5 mg bid", "apixaban 5 mg"]},
        {"generic": "aspirin", "class": "antiplatelet", "entered": ["Baby aspirin"]},
    ]  # clopidogrel was stopped 40 days ago: not current; ibuprofen is no antithrombotic
    assert result.antithrombotics[0].name == "Eliquis 5 mg bid (apixaban)"


def test_a_known_drug_of_no_class_gives_no_finding():
    result = screen(medications=[med("Tylenol Extra Strength 500 mg"), med("lisinopril 10 mg daily"),
                                 med("Percocet 5/325 q6h prn")])
    assert codes(result) == [] and result.decision == ELIGIBLE
    assert [m.classes for m in result.medications] == [(), (), ()]


def test_the_decision_shows_how_each_line_was_read():
    result = screen(medications=[med("Excedrin Migraine", 2), med("eliquiss")])
    assert result.to_dict()["medications"] == [
        {"entered": "Excedrin Migraine", "ingredients": ["aspirin", "acetaminophen", "caffeine"],
         "classes": ["antiplatelet"], "unread": []},
        {"entered": "eliquiss", "ingredients": [], "classes": [], "unread": ["eliquiss"]},
    ]


@pytest.mark.parametrize(
    "line, expected",
    [
        ("eliquis 5mg BID", ["ANTICOAGULANT"]),
        ("Xarelto 20 mg daily with supper", ["ANTICOAGULANT"]),
        ("Eliquis (apixaban) 5 mg PO BID", ["ANTICOAGULANT"]),
        ("warfarin sodium 5 mg", ["ANTICOAGULANT"]),
        ("clopidogrel bisulfate 75 mg", ["ANTIPLATELET"]),
        ("Brilinta 90 mg twice a day", ["ANTIPLATELET"]),
        ("Baby aspirin", ["ANTIPLATELET"]),
        ("Excedrin Migraine", ["ANTIPLATELET"]),
        ("Medrol 4 mg dose pack", ["STEROID_RECENT"]),
        ("Tylenol Extra Strength 500 mg", []),
    ],
)
def test_the_medication_lines_clinics_type(line, expected):
    """Each of these was 'unrecognised' and eligible before names were read from the dictionary."""
    result = screen(medications=[med(line)])
    assert codes(result) == expected
    assert result.decision == (REVIEW if expected and expected[0].startswith("ANTI") else ELIGIBLE)


@pytest.mark.parametrize(
    "name, code",
    [
        ("ELIQUIS", "ANTICOAGULANT"),
        ("xarelto", "ANTICOAGULANT"),
        ("Jantoven", "ANTICOAGULANT"),
        ("  sintrom  ", "ANTICOAGULANT"),
        ("PLAVIX", "ANTIPLATELET"),
        ("Ecotrin", "ANTIPLATELET"),
        ("asa", "ANTIPLATELET"),
        ("Acetylsalicylic  Acid", "ANTIPLATELET"),
        ("aspirin 81 mg", "ANTIPLATELET"),
        ("Persantine", "ANTIPLATELET"),
        ("MOTRIN", "NSAID_RECENT"),
        ("toradol", "NSAID_RECENT"),
        ("Decadron", "STEROID_RECENT"),
        ("medrol 4 mg", "STEROID_RECENT"),
        ("Eliqis", "MEDICATION_UNRECOGNIZED"),
        ("blood thinner", "MEDICATION_UNRECOGNIZED"),
    ],
)
def test_brand_names_and_case(name, code):
    assert codes(screen(medications=[med(name)])) == [code]


@pytest.mark.parametrize("name", ["Tylenol", "sertraline", "Zoloft 50 mg", "gabapentin 300 mg tid"])
def test_known_drugs_of_no_class_give_no_finding(name):
    assert codes(screen(medications=[med(name)])) == []


@pytest.mark.parametrize(
    "overrides, plain_words",
    [
        ({"active_infection": None}, ["active infection"]),
        ({"bleeding_disorder": None}, ["bleeding disorder"]),
        ({"neuro_red_flags": ABSENT}, ["neurological red flags"]),
        ({"medications": None}, ["current medications"]),
        (
            {"active_infection": ABSENT, "bleeding_disorder": None,
             "neuro_red_flags": None, "medications": ABSENT},
            ["active infection", "bleeding disorder", "neurological red flags",
             "current medications"],
        ),
    ],
)
def test_missing_safety_data_lists_each_unknown(overrides, plain_words):
    result = screen(**overrides)
    assert codes(result) == ["MISSING_SAFETY_DATA"]
    message = result.findings[0].message
    for words in ["active infection", "bleeding disorder", "neurological red flags",
                  "current medications"]:
        assert (words in message) == (words in plain_words), words
    positions = [message.index(w) for w in plain_words]
    assert positions == sorted(positions)


def test_empty_medication_list_is_an_answer_but_absent_is_not():
    assert codes(screen(medications=[])) == []
    assert codes(screen(medications=ABSENT)) == ["MISSING_SAFETY_DATA"]
    assert codes(screen(medications=None)) == ["MISSING_SAFETY_DATA"]


def test_empty_red_flag_list_is_an_answer_but_absent_is_not():
    assert codes(screen(neuro_red_flags=[])) == []
    assert codes(screen(neuro_red_flags=ABSENT)) == ["MISSING_SAFETY_DATA"]


def test_unknown_never_counts_as_no_even_with_a_contraindication():
    result = screen(active_infection=True, bleeding_disorder=None)
    assert codes(result) == ["ACTIVE_INFECTION", "MISSING_SAFETY_DATA"]
    assert result.decision == INELIGIBLE


def test_radicular_message_says_why():
    both = finding(screen(diagnoses=["facet_oa", "radiculopathy"], radicular_symptoms=True),
                   "RADICULAR").message
    assert "diagnosed" in both and "reports" in both
    assert "reports" not in finding(screen(diagnoses=["facet_oa", "radiculopathy"]),
                                    "RADICULAR").message


def test_multi_code_messages_name_each_code_in_canonical_order():
    result = screen(
        diagnoses=["spinal_stenosis", "post_fusion", "disc_herniation", "post_discectomy"],
        planned_targets=["intradiscal", "epidural"],
        neuro_red_flags=["myelopathy", "cauda_equina"],
    )
    assert "after discectomy and after spinal fusion" in finding(result, "POST_SURGICAL").message
    assert "epidural and intradiscal" in finding(result, "TARGET_INVESTIGATIONAL").message
    assert "disc herniation and spinal stenosis: PRP does not reverse them" in finding(
        result, "STRUCTURAL_EXPECTATION").message
    assert "cauda equina signs and myelopathy" in finding(result, "NEURO_RISK").message


def test_platelet_message_gives_the_count_and_threshold():
    assert "Platelet count 87.5 x10^3/µL is below 100" in finding(
        screen(platelet_count=87.5), "THROMBOCYTOPENIA").message


# --------------------------------------------------------------------------
# Precedence and ordering
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "overrides, decision",
    [
        ({"active_infection": True, "pregnant": True, "medications": [med("Advil")]}, INELIGIBLE),
        ({"platelet_count": 50, "diagnoses": []}, INELIGIBLE),
        ({"neuro_red_flags": ["cauda_equina"], "medications": None}, INELIGIBLE),
        ({"pregnant": True, "medications": [med("Advil"), med("Tylenol")]}, REVIEW),
        ({"platelet_count": 120, "steroid_injection_last_date": days_before(2)}, REVIEW),
        ({"medications": [med("Advil"), med("Tylenol")],
          "diagnoses": ["facet_oa", "disc_herniation"]}, ELIGIBLE),
    ],
)
def test_contraindication_beats_review_beats_eligible(overrides, decision):
    assert screen(**overrides).decision == decision


def test_everything_at_once_is_ordered_by_severity_then_table():
    result = screen(
        active_infection=True,
        bleeding_disorder=True,
        platelet_count=10,
        neuro_red_flags=["myelopathy"],
        medications=[med("Tylenoll"), med("Advil"), med("Medrol"), med("Plavix"), med("Eliquis")],
        diagnoses=["radiculopathy", "disc_herniation", "post_fusion", "disc_degeneration_severe"],
        planned_targets=["intradiscal"],
        active_malignancy=True,
        pregnant=True,
    )
    expected = [c for c in TABLE_ORDER if c not in ("PLATELETS_LOW", "MISSING_SAFETY_DATA")]
    assert codes(result) == expected
    assert result.decision == INELIGIBLE
    ranks = [SEVERITIES.index(f.severity) for f in result.findings]
    assert ranks == sorted(ranks)


def test_to_dict_is_json_ready():
    result = screen(pregnant=True, medications=[med("Advil", 2)])
    as_dict = result.to_dict()
    assert json.loads(json.dumps(as_dict)) == as_dict
    assert as_dict["decision"] == REVIEW
    assert [f["code"] for f in as_dict["findings"]] == ["PREGNANCY", "NSAID_RECENT"]
    assert set(as_dict["findings"][0]) == {"code", "severity", "message", "source"}


def test_decide_is_deterministic():
    data = intake_data(medications=[med("Advil", 2), med("Eliquis")], pregnant=True)
    first = decide(parse_intake(data, today=TODAY))
    second = decide(parse_intake(data, today=TODAY))
    assert first == second and first.to_dict() == second.to_dict()


# --------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------


def test_parse_builds_a_frozen_intake_with_tuples():
    intake = parse_intake(
        intake_data(medications=[med("Advil", 2)], neuro_red_flags=["myelopathy"]), today=TODAY
    )
    assert isinstance(intake, Intake)
    assert intake.diagnoses == ("facet_oa",)
    assert intake.planned_targets == ("facet_joint",)
    assert intake.neuro_red_flags == ("myelopathy",)
    assert intake.medications == (Medication("Advil", PROCEDURE - timedelta(days=2)),)
    with pytest.raises(AttributeError):
        intake.age = 3  # type: ignore[misc]


def test_procedure_date_defaults_to_today():
    assert parse_intake(intake_data(procedure_date=ABSENT), today=TODAY).procedure_date == TODAY
    assert parse_intake(intake_data(procedure_date=None), today=TODAY).procedure_date == TODAY


def test_last_dose_is_checked_against_the_default_procedure_date():
    data = intake_data(procedure_date=ABSENT, medications=[{"name": "Advil", "last_dose": "2026-03-02"}])
    with pytest.raises(IntakeError) as err:
        parse_intake(data, today=TODAY)
    assert err.value.field == "medications[0].last_dose"


def test_minimal_intake_parses_with_unknowns():
    intake = parse_intake(
        {"age": 40, "region": "cervical", "diagnoses": [], "planned_targets": ["facet_joint"]},
        today=TODAY,
    )
    assert intake.medications is None and intake.neuro_red_flags is None
    assert intake.active_infection is None and intake.platelet_count is None


def test_medication_names_are_trimmed_and_last_dose_optional():
    intake = parse_intake(intake_data(medications=[{"name": "  Advil  "}]), today=TODAY)
    assert intake.medications == (Medication("Advil", None),)


def test_repeated_codes_are_kept_once():
    intake = parse_intake(
        intake_data(diagnoses=["facet_oa", "other", "facet_oa"],
                    planned_targets=["facet_joint", "facet_joint"]),
        today=TODAY,
    )
    assert intake.diagnoses == ("facet_oa", "other")
    assert intake.planned_targets == ("facet_joint",)


@pytest.mark.parametrize("age", [0, 130])
def test_age_limits_are_inclusive(age):
    assert parse_intake(intake_data(age=age), today=TODAY).age == age


def test_name_of_exactly_200_characters_is_accepted():
    name = "x" * 200
    assert parse_intake(intake_data(medications=[{"name": name}]), today=TODAY).medications[0].name == name


def test_date_objects_are_accepted_from_python_callers():
    intake = parse_intake(intake_data(procedure_date=PROCEDURE), today=TODAY)
    assert intake.procedure_date == PROCEDURE


def _with(**overrides):
    return intake_data(**overrides)


BAD_INPUT = [
    # (id, data, field)
    ("list", [], "$"),
    ("string", "age=5", "$"),
    ("null", None, "$"),
    ("unknown key", _with(weight=80), "weight"),
    ("unknown key with NUL", _with(**{"we\x00ight": 1}), "'we\\x00ight'"),
    ("unknown medication key", _with(medications=[{"name": "Advil", "dose": "5"}]),
     "medications[0].dose"),
    ("missing age", _with(age=ABSENT), "age"),
    ("missing region", _with(region=ABSENT), "region"),
    ("missing diagnoses", _with(diagnoses=ABSENT), "diagnoses"),
    ("missing targets", _with(planned_targets=ABSENT), "planned_targets"),
    ("null age", _with(age=None), "age"),
    ("null diagnoses", _with(diagnoses=None), "diagnoses"),
    ("empty targets", _with(planned_targets=[]), "planned_targets"),
    ("age bool", _with(age=True), "age"),
    ("age string", _with(age="55"), "age"),
    ("age float", _with(age=55.0), "age"),
    ("age negative", _with(age=-1), "age"),
    ("age too old", _with(age=131), "age"),
    ("region unknown", _with(region="sacral"), "region"),
    ("region case", _with(region="Lumbar"), "region"),
    ("region number", _with(region=3), "region"),
    ("region NUL", _with(region="lumbar\x00"), "region"),
    ("diagnoses string", _with(diagnoses="facet_oa"), "diagnoses"),
    ("diagnoses object", _with(diagnoses={"facet_oa": True}), "diagnoses"),
    ("diagnosis unknown", _with(diagnoses=["facet_oa", "sciatica"]), "diagnoses[1]"),
    ("diagnosis number", _with(diagnoses=[1]), "diagnoses[0]"),
    ("diagnosis NUL", _with(diagnoses=["facet_oa\x00"]), "diagnoses[0]"),
    ("targets string", _with(planned_targets="facet_joint"), "planned_targets"),
    ("target unknown", _with(planned_targets=["facet_joint", "sacroiliac"]), "planned_targets[1]"),
    ("flags string", _with(neuro_red_flags="myelopathy"), "neuro_red_flags"),
    ("flag unknown", _with(neuro_red_flags=["weakness"]), "neuro_red_flags[0]"),
    ("flag bool", _with(neuro_red_flags=[True]), "neuro_red_flags[0]"),
    ("infection string", _with(active_infection="yes"), "active_infection"),
    ("bleeding int", _with(bleeding_disorder=0), "bleeding_disorder"),
    ("radicular int", _with(radicular_symptoms=1), "radicular_symptoms"),
    ("malignancy string", _with(active_malignancy="false"), "active_malignancy"),
    ("pregnant list", _with(pregnant=[]), "pregnant"),
    ("platelets string", _with(platelet_count="250"), "platelet_count"),
    ("platelets bool", _with(platelet_count=True), "platelet_count"),
    ("platelets negative", _with(platelet_count=-1), "platelet_count"),
    ("platelets negative float", _with(platelet_count=-0.5), "platelet_count"),
    ("platelets NaN", _with(platelet_count=math.nan), "platelet_count"),
    ("platelets inf", _with(platelet_count=math.inf), "platelet_count"),
    ("platelets -inf", _with(platelet_count=-math.inf), "platelet_count"),
    ("platelets per µL", _with(platelet_count=90000), "platelet_count"),
    ("platelets huge int", _with(platelet_count=10**400), "platelet_count"),
    ("procedure impossible", _with(procedure_date="2026-02-30"), "procedure_date"),
    ("procedure not leap", _with(procedure_date="2027-02-29"), "procedure_date"),
    ("procedure month 13", _with(procedure_date="2026-13-01"), "procedure_date"),
    ("procedure US format", _with(procedure_date="03/10/2026"), "procedure_date"),
    ("procedure compact", _with(procedure_date="20260310"), "procedure_date"),
    ("procedure week date", _with(procedure_date="2026-W11-2"), "procedure_date"),
    ("procedure datetime", _with(procedure_date="2026-03-10T09:00"), "procedure_date"),
    ("procedure padded", _with(procedure_date=" 2026-03-10"), "procedure_date"),
    ("procedure number", _with(procedure_date=20260310), "procedure_date"),
    ("procedure NUL", _with(procedure_date="2026-03-10\x00"), "procedure_date"),
    ("procedure unicode digits", _with(procedure_date="２０２６-03-10"), "procedure_date"),
    ("medications string", _with(medications="aspirin"), "medications"),
    ("medications object", _with(medications={"name": "aspirin"}), "medications"),
    ("medication string", _with(medications=[med("Advil"), "aspirin"]), "medications[1]"),
    ("medication null", _with(medications=[None]), "medications[0]"),
    ("medication no name", _with(medications=[{"last_dose": None}]), "medications[0].name"),
    ("medication null name", _with(medications=[{"name": None}]), "medications[0].name"),
    ("medication name number", _with(medications=[{"name": 81}]), "medications[0].name"),
    ("medication name empty", _with(medications=[{"name": ""}]), "medications[0].name"),
    ("medication name blank", _with(medications=[{"name": "   "}]), "medications[0].name"),
    ("medication name too long", _with(medications=[{"name": "x" * 201}]), "medications[0].name"),
    ("medication name NUL", _with(medications=[med("Advil"), {"name": "aspi\x00rin"}]),
     "medications[1].name"),
    ("medication name surrogate", _with(medications=[{"name": "aspirin\ud800"}]),
     "medications[0].name"),
    ("last dose impossible", _with(medications=[med("Advil"), {"name": "Plavix",
                                                                "last_dose": "2025-02-29"}]),
     "medications[1].last_dose"),
    ("last dose after procedure", _with(medications=[{"name": "Plavix",
                                                      "last_dose": "2026-03-11"}]),
     "medications[0].last_dose"),
    ("last dose number", _with(medications=[{"name": "Plavix", "last_dose": 3}]),
     "medications[0].last_dose"),
    ("last dose NUL", _with(medications=[{"name": "Plavix", "last_dose": "\x00"}]),
     "medications[0].last_dose"),
    ("injection impossible", _with(steroid_injection_last_date="2026-04-31"),
     "steroid_injection_last_date"),
    ("injection after procedure", _with(steroid_injection_last_date="2026-03-11"),
     "steroid_injection_last_date"),
    ("injection bool", _with(steroid_injection_last_date=False), "steroid_injection_last_date"),
]


@pytest.mark.parametrize("data, field", [c[1:] for c in BAD_INPUT], ids=[c[0] for c in BAD_INPUT])
def test_bad_input_names_the_field(data, field):
    with pytest.raises(IntakeError) as caught:
        parse_intake(data, today=TODAY)
    err = caught.value
    assert err.field == field
    assert err.message and "\n" not in err.message and "\x00" not in err.message
    assert str(err) == f"{field}: {err.message}"
    assert isinstance(err, ValueError) and isinstance(err, FieldError)


def test_first_error_follows_the_order_of_the_json_shape():
    data = intake_data(age=-3, planned_targets=[], medications="x", procedure_date="bad")
    with pytest.raises(IntakeError) as caught:
        parse_intake(data, today=TODAY)
    assert caught.value.field == "procedure_date"
    data["procedure_date"] = PROCEDURE.isoformat()
    with pytest.raises(IntakeError) as caught:
        parse_intake(data, today=TODAY)
    assert caught.value.field == "age"


def test_parse_requires_a_date_for_today():
    with pytest.raises(TypeError):
        parse_intake(intake_data(), today="2026-03-01")  # type: ignore[arg-type]


def test_intake_error_pickles():
    import pickle

    err = IntakeError("age", "must be a whole number")
    again = pickle.loads(pickle.dumps(err))
    assert (again.field, again.message, str(again)) == (err.field, err.message, str(err))


def test_round_trip_of_a_full_intake():
    intake = parse_intake(
        intake_data(
            medications=[med("Advil", 2), med("Eliquis")],
            neuro_red_flags=None,
            platelet_count=131.5,
            steroid_injection_last_date=days_before(40),
            pregnant=None,
        ),
        today=TODAY,
    )
    as_dict = intake_to_dict(intake)
    assert json.loads(json.dumps(as_dict)) == as_dict
    assert parse_intake(as_dict, today=date(1999, 1, 1)) == intake


# --------------------------------------------------------------------------
# The protocol
# --------------------------------------------------------------------------


def test_default_protocol_values():
    assert DEFAULT_PROTOCOL.to_dict() == {
        "name": "default",
        "version": "2026.2",
        "platelet_contraindication_below": 100,
        "platelet_review_below": 150,
        "nsaid_window_days": 7,
        "systemic_steroid_window_days": 14,
        "steroid_injection_window_days": 30,
        "antithrombotic_current_window_days": 30,
    }
    assert DEFAULT_PROTOCOL.ruleset == "default-2026.2"


@pytest.mark.parametrize(
    "change",
    [
        {"platelet_contraindication_below": 80},
        {"platelet_review_below": 140},
        {"nsaid_window_days": 3},
        {"systemic_steroid_window_days": 28},
        {"steroid_injection_window_days": 90},
        {"antithrombotic_current_window_days": 10},
    ],
)
def test_changed_threshold_changes_the_ruleset(change):
    protocol = ScreeningProtocol(**change)
    assert re.fullmatch(r"default-2026\.2\+[0-9a-f]{8}", protocol.ruleset)
    assert ScreeningProtocol(**change).ruleset == protocol.ruleset  # stable
    assert screen(protocol).ruleset == protocol.ruleset


def test_different_parameters_give_different_hashes():
    rulesets = {
        ScreeningProtocol(nsaid_window_days=n).ruleset for n in range(60)
    } | {ScreeningProtocol(platelet_review_below=v).ruleset for v in (100, 120, 150.5, 200)}
    assert len(rulesets) == 64


def test_renamed_protocol_with_default_thresholds_has_no_hash():
    assert ScreeningProtocol(name="clinic-north", version="3").ruleset == "clinic-north-3"
    assert ScreeningProtocol(platelet_contraindication_below=100.0).ruleset == "default-2026.2"


def test_the_hash_is_pinned():
    # A stored screening must keep naming the same parameters across releases.
    protocol = ScreeningProtocol(nsaid_window_days=5)
    assert protocol.ruleset == ScreeningProtocol.from_dict(protocol.to_dict()).ruleset
    assert protocol.ruleset.endswith("+" + _expected_hash(protocol))


def _expected_hash(protocol):
    import hashlib

    params = {
        "antithrombotic_current_window_days": protocol.antithrombotic_current_window_days,
        "nsaid_window_days": protocol.nsaid_window_days,
        "platelet_contraindication_below": float(protocol.platelet_contraindication_below),
        "platelet_review_below": float(protocol.platelet_review_below),
        "steroid_injection_window_days": protocol.steroid_injection_window_days,
        "systemic_steroid_window_days": protocol.systemic_steroid_window_days,
    }
    canonical = json.dumps(params, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:8]


@pytest.mark.parametrize(
    "change, overrides, default_codes, changed_codes",
    [
        ({"platelet_contraindication_below": 120}, {"platelet_count": 110},
         ["PLATELETS_LOW"], ["THROMBOCYTOPENIA"]),
        ({"platelet_review_below": 200}, {"platelet_count": 180}, [], ["PLATELETS_LOW"]),
        ({"nsaid_window_days": 3}, {"medications": [med("Advil", 4)]}, ["NSAID_RECENT"], []),
        ({"systemic_steroid_window_days": 28}, {"medications": [med("Medrol", 20)]},
         [], ["STEROID_RECENT"]),
        ({"steroid_injection_window_days": 90},
         {"steroid_injection_last_date": days_before(60)}, [], ["STEROID_RECENT"]),
        ({"antithrombotic_current_window_days": 7}, {"medications": [med("Plavix", 10)]},
         ["ANTIPLATELET"], []),
    ],
)
def test_changed_protocol_moves_the_outcome_at_the_new_threshold(
    change, overrides, default_codes, changed_codes
):
    protocol = ScreeningProtocol(**change)
    assert codes(screen(**overrides)) == default_codes
    assert codes(screen(protocol, **overrides)) == changed_codes


def test_protocol_round_trips_through_a_dict():
    protocol = ScreeningProtocol(name="north", version="2", nsaid_window_days=5,
                                 platelet_review_below=140.5)
    assert ScreeningProtocol.from_dict(protocol.to_dict()) == protocol
    assert ScreeningProtocol.from_dict({}) == DEFAULT_PROTOCOL
    assert ScreeningProtocol.from_dict({"nsaid_window_days": 5}).nsaid_window_days == 5


@pytest.mark.parametrize(
    "data, field",
    [
        ([], "$"),
        ({"platelet_review_below": 90}, "platelet_review_below"),
        ({"platelet_contraindication_below": 160}, "platelet_review_below"),
        ({"platelet_contraindication_below": -1}, "platelet_contraindication_below"),
        ({"platelet_contraindication_below": math.nan}, "platelet_contraindication_below"),
        ({"platelet_review_below": math.inf}, "platelet_review_below"),
        ({"platelet_review_below": "150"}, "platelet_review_below"),
        ({"platelet_review_below": True}, "platelet_review_below"),
        ({"nsaid_window_days": -1}, "nsaid_window_days"),
        ({"systemic_steroid_window_days": 7.5}, "systemic_steroid_window_days"),
        ({"steroid_injection_window_days": True}, "steroid_injection_window_days"),
        ({"antithrombotic_current_window_days": 10_000}, "antithrombotic_current_window_days"),
        ({"name": ""}, "name"),
        ({"name": "my clinic"}, "name"),
        ({"version": "1+2"}, "version"),
        ({"version": None}, "version"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_nonsense_protocols_are_refused(data, field):
    with pytest.raises(ProtocolError) as caught:
        ScreeningProtocol.from_dict(data)
    assert caught.value.field == field
    assert str(caught.value) == f"{field}: {caught.value.message}"
    assert not isinstance(caught.value, IntakeError)


def test_equal_thresholds_leave_no_review_band():
    protocol = ScreeningProtocol(platelet_review_below=100)
    assert codes(screen(protocol, platelet_count=100)) == []
    assert codes(screen(protocol, platelet_count=99)) == ["THROMBOCYTOPENIA"]


# --------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------

_KNOWN_NAMES = sorted(set(medications.CATALOG) | {"Aggrenox", "Eliquis", "Plavix", "Advil", "Medrol", "Tylenol"})
_safe_text = st.text(
    alphabet=st.characters(exclude_categories=("Cs",), exclude_characters="\x00"),
    min_size=1,
    max_size=200,
).map(str.strip).filter(bool)
_names = st.one_of(
    st.sampled_from(_KNOWN_NAMES),
    st.sampled_from(_KNOWN_NAMES).map(lambda n: f"  {n.upper()} 5 mg"),
    _safe_text,
)
_answers = st.sampled_from([True, False, None])


@st.composite
def intakes(draw):
    procedure = draw(st.dates(date(2000, 1, 1), date(2100, 12, 31)))
    earlier = st.integers(0, 400).map(lambda n: procedure - timedelta(days=n))
    meds_list = draw(
        st.none() | st.lists(st.builds(Medication, _names.map(str.strip).filter(bool),
                                       st.none() | earlier), max_size=6)
    )
    return Intake(
        age=draw(st.integers(0, 130)),
        region=draw(st.sampled_from(REGIONS)),
        diagnoses=tuple(draw(st.lists(st.sampled_from(DIAGNOSES), unique=True))),
        planned_targets=tuple(draw(st.lists(st.sampled_from(TARGETS), min_size=1, unique=True))),
        procedure_date=procedure,
        active_infection=draw(_answers),
        bleeding_disorder=draw(_answers),
        radicular_symptoms=draw(_answers),
        active_malignancy=draw(_answers),
        pregnant=draw(_answers),
        neuro_red_flags=draw(
            st.none() | st.lists(st.sampled_from(NEURO_RED_FLAGS), unique=True).map(tuple)
        ),
        platelet_count=draw(
            st.none() | st.integers(0, 5000) | st.floats(0, 5000, allow_nan=False)
        ),
        medications=None if meds_list is None else tuple(meds_list),
        steroid_injection_last_date=draw(st.none() | earlier),
    )


_RANK = {d: i for i, d in enumerate(DECISIONS)}


@settings(max_examples=300, deadline=None)
@given(intakes())
def test_round_trip_through_json(intake):
    as_dict = intake_to_dict(intake)
    assert parse_intake(json.loads(json.dumps(as_dict)), today=date(2000, 1, 1)) == intake
    assert parse_intake(as_dict, today=date(2000, 1, 1)) == intake


@settings(max_examples=400, deadline=None)
@given(intakes())
def test_decide_never_raises_and_is_well_formed(intake):
    result = decide(intake)
    assert isinstance(result, Decision)
    assert result.decision in DECISIONS
    found = codes(result)
    assert len(found) == len(set(found))
    assert found == [c for c in TABLE_ORDER if c in found]
    severities = {f.severity for f in result.findings}
    expected = (
        INELIGIBLE if CONTRAINDICATION in severities
        else REVIEW if REVIEW in severities
        else ELIGIBLE
    )
    assert result.decision == expected
    for f in result.findings:
        assert f.severity == RULES_BY_CODE[f.code].severity
        assert f.source == RULES_BY_CODE[f.code].source
        assert "\n" not in f.message
    json.dumps(result.to_dict())


CONTRAINDICATIONS = [
    lambda x: replace(x, active_infection=True),
    lambda x: replace(x, bleeding_disorder=True),
    lambda x: replace(x, platelet_count=min(x.platelet_count or 99, 99)),
    lambda x: replace(x, neuro_red_flags=tuple(dict.fromkeys((*(x.neuro_red_flags or ()),
                                                               "cauda_equina")))),
]


@settings(max_examples=300, deadline=None)
@given(intakes(), st.sampled_from(range(len(CONTRAINDICATIONS))))
def test_adding_a_contraindication_never_improves_the_decision(intake, which):
    before = decide(intake)
    after = decide(CONTRAINDICATIONS[which](intake))
    assert after.decision == INELIGIBLE
    assert _RANK[after.decision] >= _RANK[before.decision]
    # Other findings stay, except those the change itself answers or replaces.
    assert set(codes(before)) - {"PLATELETS_LOW", "MISSING_SAFETY_DATA"} <= set(codes(after))


REVIEW_TRIGGERS = [
    lambda x: replace(x, pregnant=True),
    lambda x: replace(x, active_malignancy=True),
    lambda x: replace(x, radicular_symptoms=True),
    lambda x: replace(x, planned_targets=tuple(dict.fromkeys((*x.planned_targets, "epidural")))),
    lambda x: replace(x, medications=(*(x.medications or ()), Medication("Eliquis", None))),
    lambda x: replace(x, bleeding_disorder=None if x.bleeding_disorder is False
                      else x.bleeding_disorder, pregnant=True),
    lambda x: replace(x, medications=None, pregnant=True),
]


@settings(max_examples=300, deadline=None)
@given(intakes(), st.sampled_from(range(len(REVIEW_TRIGGERS))))
def test_adding_a_review_finding_never_improves_the_decision(intake, which):
    before = decide(intake)
    after = decide(REVIEW_TRIGGERS[which](intake))
    assert _RANK[after.decision] >= max(_RANK[before.decision], _RANK[REVIEW])


@settings(max_examples=300, deadline=None)
@given(intakes(), st.randoms(use_true_random=False))
def test_decision_does_not_depend_on_list_order(intake, rng):
    def shuffled(items):
        if items is None:
            return None
        items = list(items)
        rng.shuffle(items)
        return tuple(items)

    permuted = replace(
        intake,
        diagnoses=shuffled(intake.diagnoses),
        planned_targets=shuffled(intake.planned_targets),
        neuro_red_flags=shuffled(intake.neuro_red_flags),
        medications=shuffled(intake.medications),
    )
    assert set(codes(decide(permuted))) == set(codes(decide(intake)))
    assert decide(permuted).findings == decide(intake).findings  # messages too
    # The readings follow the order of the lines as entered.
    assert sorted(decide(permuted).medications, key=repr) == sorted(decide(intake).medications, key=repr)


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(_json_values)
def test_arbitrary_json_is_refused_with_intake_error_only(value):
    try:
        parse_intake(value, today=TODAY)
    except IntakeError as err:
        assert "\n" not in err.message
    else:  # pragma: no cover - random JSON is never a valid intake
        pytest.fail("random JSON was accepted")


@settings(max_examples=500, deadline=None)
@given(
    intakes(),
    st.sampled_from(sorted(intake_data())),
    _json_values,
)
def test_one_corrupted_field_parses_or_raises_intake_error(intake, key, value):
    data = intake_to_dict(intake)
    data[key] = value
    try:
        parsed = parse_intake(data, today=intake.procedure_date)
    except IntakeError as err:
        assert err.field.split("[")[0].split(".")[0] == key
        return
    assert decide(parsed).decision in DECISIONS


@settings(max_examples=200, deadline=None)
@given(
    st.integers(0, 365), st.integers(0, 365), st.integers(0, 365), st.integers(0, 365),
    st.integers(0, 1000), st.integers(0, 1000),
)
def test_ruleset_changes_exactly_when_parameters_change(nsaid, steroid, injection, current,
                                                        low, high):
    assume(low <= high)
    protocol = ScreeningProtocol(
        platelet_contraindication_below=low,
        platelet_review_below=high,
        nsaid_window_days=nsaid,
        systemic_steroid_window_days=steroid,
        steroid_injection_window_days=injection,
        antithrombotic_current_window_days=current,
    )
    params = protocol.to_dict()
    del params["name"], params["version"]
    is_default = params == {k: v for k, v in DEFAULT_PROTOCOL.to_dict().items()
                            if k not in ("name", "version")}
    assert (protocol.ruleset == "default-2026.2") == is_default
