"""Tests for accretion.clinical.protocol (pure Python, no Django)."""

from __future__ import annotations

import copy
import dataclasses
import json
import pickle
import re
from collections import Counter
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from accretion.clinical.errors import FieldError
from accretion.clinical.protocol import (
    CHECK_CODES,
    DEVIATION,
    EXAMPLE_PROTOCOL,
    EXAMPLE_SOURCE,
    MODALITIES,
    PASS,
    TARGETS,
    Check,
    Consistency,
    InjectionFacts,
    PreparationFacts,
    ProcedureProtocol,
    ProtocolError,
    TargetProtocol,
    check,
    placement_rate,
)

D = Decimal


# ---------------------------------------------------------------------------
# Builders
# ---------------------------------------------------------------------------


def rules(**overrides) -> TargetProtocol:
    """Facet-joint-like rules: 0.5-1.5 mL, CF >= 2.0, both modalities, 60 min, DAP 5 Gy·cm²."""
    base = {
        "volume_min_ml": D("0.5"),
        "volume_max_ml": D("1.5"),
        "min_concentration_factor": D("2.0"),
        "modalities": ("fluoroscopy", "ultrasound"),
        "max_draw_to_injection_minutes": 60,
        "dap_reference": D("5"),
        "source": EXAMPLE_SOURCE,
    }
    base.update(overrides)
    return TargetProtocol(**base)


def protocol(version: str = "test-1", **targets: TargetProtocol) -> ProcedureProtocol:
    return ProcedureProtocol(version=version, targets=targets or {"facet_joint": rules()})


def inj(target="facet_joint", guidance="fluoroscopy", volume="1.0", confirmed=True, dap=None) -> InjectionFacts:
    return InjectionFacts(
        target=target,
        guidance=guidance,
        volume_ml=D(volume) if isinstance(volume, str) else volume,
        placement_confirmed=confirmed,
        dose_area_product=D(dap) if isinstance(dap, str) else dap,
    )


def prep(cf="3.0", minutes=30) -> PreparationFacts:
    return PreparationFacts(concentration_factor=D(cf) if isinstance(cf, str) else cf,
                            minutes_from_draw_to_injection=minutes)


def only(result: Consistency, code: str) -> list[Check]:
    return [c for c in result.checks if c.code == code]


def one(result: Consistency, code: str) -> Check:
    found = only(result, code)
    assert len(found) == 1, found
    return found[0]


def protocol_dict() -> dict:
    """A valid protocol as JSON (facet joint and intradiscal)."""
    return {
        "version": "test-1",
        "targets": {
            "facet_joint": {
                "volume_min_ml": 0.5,
                "volume_max_ml": 1.5,
                "min_concentration_factor": 2,
                "modalities": ["fluoroscopy", "ultrasound"],
                "max_draw_to_injection_minutes": 60,
                "dap_reference": 5,
                "source": EXAMPLE_SOURCE,
            },
            "intradiscal": {
                "volume_min_ml": 1,
                "volume_max_ml": 3,
                "min_concentration_factor": 2,
                "modalities": ["fluoroscopy"],
                "max_draw_to_injection_minutes": 60,
                "dap_reference": None,
                "source": "PMC6394242 Table 4",
            },
        },
    }


# ---------------------------------------------------------------------------
# Checks at their boundaries
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("volume", "status", "word"),
    [
        ("0.5", PASS, "within"),  # exactly the minimum
        ("1.5", PASS, "within"),  # exactly the maximum
        ("1.0", PASS, "within"),
        ("0.50", PASS, "within"),
        ("1.500", PASS, "within"),
        ("0.49", DEVIATION, "below"),
        ("0.499", DEVIATION, "below"),
        ("1.51", DEVIATION, "above"),
        ("1.501", DEVIATION, "above"),
        ("0.01", DEVIATION, "below"),
        ("10", DEVIATION, "above"),
    ],
)
def test_volume_range(volume, status, word):
    result = check(protocol(), prep(), [inj(volume=volume)])
    c = one(result, "VOLUME_RANGE")
    assert (c.status, c.target, c.index) == (status, "facet_joint", 0)
    assert c.expected == "0.5–1.5 mL"
    assert c.actual == f"{D(volume).normalize():f} mL"
    assert f" is {word} the protocol's 0.5–1.5 mL." in c.message
    assert c.message.startswith("Facet joint, injection 1: ")


def test_volume_message_names_the_injection_by_its_position():
    result = check(protocol(), prep(), [inj(volume="1"), inj(volume="2.5")])
    second = next(c for c in only(result, "VOLUME_RANGE") if c.index == 1)
    assert second.status == DEVIATION
    assert second.message == "Facet joint, injection 2: 2.5 mL is above the protocol's 0.5–1.5 mL."


def test_volume_range_with_equal_minimum_and_maximum():
    p = protocol(facet_joint=rules(volume_min_ml=1, volume_max_ml=1))
    assert one(check(p, prep(), [inj(volume="1")]), "VOLUME_RANGE").status == PASS
    assert one(check(p, prep(), [inj(volume="1.001")]), "VOLUME_RANGE").status == DEVIATION
    assert one(check(p, prep(), [inj(volume="0.999")]), "VOLUME_RANGE").status == DEVIATION


@pytest.mark.parametrize(
    ("accepted", "guidance", "status"),
    [
        (("fluoroscopy", "ultrasound"), "fluoroscopy", PASS),
        (("fluoroscopy", "ultrasound"), "ultrasound", PASS),
        (("fluoroscopy",), "fluoroscopy", PASS),
        (("fluoroscopy",), "ultrasound", DEVIATION),
        (("ultrasound",), "fluoroscopy", DEVIATION),
        (("ultrasound",), "ultrasound", PASS),
        (("fluoroscopy", "ultrasound"), "ct", DEVIATION),
        (("fluoroscopy", "ultrasound"), "landmark", DEVIATION),
        (("fluoroscopy", "ultrasound"), " Ultrasound ", PASS),  # recorded with stray case/space
    ],
)
def test_guidance_modality(accepted, guidance, status):
    dap = D(5) if "fluoroscopy" in accepted else None
    p = protocol(facet_joint=rules(modalities=accepted, dap_reference=dap))
    c = one(check(p, prep(), [inj(guidance=guidance)]), "GUIDANCE_MODALITY")
    assert c.status == status
    assert c.expected == " or ".join(accepted)
    assert c.actual == guidance.strip().lower()
    verdict = "is accepted" if status == PASS else "is not accepted"
    assert c.message == (
        f"Facet joint, injection 1: {guidance.strip().lower()} guidance {verdict} by the protocol ({c.expected})."
    )


@pytest.mark.parametrize(
    ("guidance", "dap", "reference", "status"),
    [
        ("fluoroscopy", "5", "5", PASS),  # equal to the reference level
        ("fluoroscopy", "4.99", "5", PASS),
        ("fluoroscopy", "0", "5", PASS),
        ("fluoroscopy", "5.01", "5", DEVIATION),
        ("fluoroscopy", "5.001", "5", DEVIATION),
        ("fluoroscopy", "50", "5", DEVIATION),
        ("fluoroscopy", "2.5", "2.5", PASS),
        ("fluoroscopy", None, "5", None),  # no DAP recorded: no check
        ("fluoroscopy", "6", None, None),  # no reference level: no check
        ("ultrasound", "6", "5", None),  # not fluoroscopy: no check
        ("ct", "6", "5", None),
    ],
)
def test_dap_reference(guidance, dap, reference, status):
    p = protocol(facet_joint=rules(dap_reference=None if reference is None else D(reference)))
    result = check(p, prep(), [inj(guidance=guidance, dap=dap)])
    found = only(result, "DAP_REFERENCE")
    if status is None:
        assert found == []
        return
    (c,) = found
    assert (c.status, c.index) == (status, 0)
    assert c.expected == f"at most {D(reference).normalize():f} Gy·cm²"
    assert c.actual == f"{D(dap).normalize():f} Gy·cm²"
    word = "within" if status == PASS else "above"
    assert c.message == (
        f"Facet joint, injection 1: dose-area product {c.actual} is {word} the protocol's reference level "
        f"of {D(reference).normalize():f} Gy·cm²."
    )


@pytest.mark.parametrize(
    ("cf", "minimum", "status", "actual"),
    [
        ("2.0", "2.0", PASS, "2.0×"),  # exactly the minimum
        ("2", "2.0", PASS, "2.0×"),
        ("2.00", "2", PASS, "2.0×"),
        ("2.01", "2.0", PASS, "2.01×"),
        ("1.99", "2.0", DEVIATION, "1.99×"),
        ("1.999", "2", DEVIATION, "1.999×"),
        ("5.5", "2.5", PASS, "5.5×"),
        ("2.49", "2.5", DEVIATION, "2.49×"),
        (None, "2.0", DEVIATION, None),  # not recorded: cannot be shown to pass
    ],
)
def test_concentration_factor(cf, minimum, status, actual):
    p = protocol(facet_joint=rules(min_concentration_factor=D(minimum)))
    c = one(check(p, prep(cf=cf), [inj()]), "CONCENTRATION_FACTOR")
    assert (c.status, c.index, c.actual) == (status, None, actual)
    wanted = f"{D(minimum).normalize():f}"
    wanted = wanted if "." in wanted else wanted + ".0"
    assert c.expected == f"at least {wanted}×"
    if cf is None:
        assert c.message == f"Facet joint: concentration factor not recorded; the protocol asks for at least {wanted}×."
    elif status == PASS:
        assert c.message == f"Facet joint: concentration factor {actual} meets the protocol's minimum of {wanted}×."
    else:
        assert c.message == f"Facet joint: concentration factor {actual} is below the protocol's minimum of {wanted}×."


@pytest.mark.parametrize(
    ("minutes", "limit", "status"),
    [
        (60, 60, PASS),  # exactly the limit
        (61, 60, DEVIATION),  # one minute over
        (59, 60, PASS),
        (0, 60, PASS),
        (1, 1, PASS),
        (2, 1, DEVIATION),
        (1440, 1440, PASS),
        (None, 60, DEVIATION),  # not recorded
    ],
)
def test_draw_to_injection(minutes, limit, status):
    p = protocol(facet_joint=rules(max_draw_to_injection_minutes=limit))
    c = one(check(p, prep(minutes=minutes), [inj()]), "DRAW_TO_INJECTION")
    assert (c.status, c.index) == (status, None)
    assert c.expected == f"at most {limit} min"
    if minutes is None:
        assert c.actual is None
        assert c.message == (
            f"Facet joint: time from draw to injection not recorded; the protocol allows at most {limit} minutes."
        )
    else:
        assert c.actual == f"{minutes} min"
        word = "is within" if status == PASS else "is longer than"
        assert c.message == (
            f"Facet joint: {minutes} minutes from draw to injection {word} the protocol's {limit} minutes."
        )


def test_preparation_checks_once_per_distinct_target():
    p = protocol(facet_joint=rules(), paraspinal_muscle=rules(volume_min_ml=1, volume_max_ml=4))
    injections = [
        inj("paraspinal_muscle", volume="2"),
        inj("facet_joint"),
        inj("paraspinal_muscle", volume="3"),
        inj("facet_joint"),
    ]
    result = check(p, prep(), injections)
    for code in ("CONCENTRATION_FACTOR", "DRAW_TO_INJECTION"):
        found = only(result, code)
        # In the order of each target's first injection.
        assert [c.target for c in found] == ["paraspinal_muscle", "facet_joint"]
        assert all(c.index is None for c in found)
    assert [c.index for c in only(result, "VOLUME_RANGE")] == [0, 1, 2, 3]
    assert [c.index for c in only(result, "GUIDANCE_MODALITY")] == [0, 1, 2, 3]
    assert result.checks_made == 4 * 2 + 2 * 2


def test_each_target_is_checked_against_its_own_limits():
    p = protocol(
        facet_joint=rules(min_concentration_factor=D("4"), max_draw_to_injection_minutes=30),
        paraspinal_muscle=rules(min_concentration_factor=D("2"), max_draw_to_injection_minutes=90),
    )
    result = check(p, prep(cf="3", minutes=45), [inj("facet_joint"), inj("paraspinal_muscle", volume="1")])
    statuses = {(c.code, c.target): c.status for c in result.checks if c.index is None}
    assert statuses == {
        ("CONCENTRATION_FACTOR", "facet_joint"): DEVIATION,
        ("DRAW_TO_INJECTION", "facet_joint"): DEVIATION,
        ("CONCENTRATION_FACTOR", "paraspinal_muscle"): PASS,
        ("DRAW_TO_INJECTION", "paraspinal_muscle"): PASS,
    }


def test_check_order_and_codes():
    result = check(protocol(), prep(), [inj(dap="1"), inj(guidance="ultrasound", dap="1")])
    assert [(c.code, c.index) for c in result.checks] == [
        ("VOLUME_RANGE", 0),
        ("GUIDANCE_MODALITY", 0),
        ("DAP_REFERENCE", 0),
        ("VOLUME_RANGE", 1),
        ("GUIDANCE_MODALITY", 1),
        ("CONCENTRATION_FACTOR", None),
        ("DRAW_TO_INJECTION", None),
    ]
    assert {c.code for c in result.checks} <= set(CHECK_CODES)
    assert result.score == D("1.00")
    assert result.deviations == ()


def test_target_not_in_protocol():
    p = protocol(facet_joint=rules())
    result = check(p, prep(cf=None, minutes=None), [inj("facet_joint"), inj("intradiscal", volume="99", dap="99")])
    uncovered = [c for c in result.checks if c.target == "intradiscal"]
    assert len(uncovered) == 1  # a single deviation, and no other check for that target
    (c,) = uncovered
    assert (c.code, c.status, c.index) == ("TARGET_NOT_IN_PROTOCOL", DEVIATION, 1)
    assert c.message == "Intervertebral disc, injection 2: the protocol sets no values for this target."
    assert c.expected == "one of: facet joint"
    assert c in result.deviations


def test_only_uncovered_targets():
    result = check(protocol(), prep(), [inj("epidural"), inj("epidural")])
    assert [(c.code, c.index) for c in result.checks] == [("TARGET_NOT_IN_PROTOCOL", 0), ("TARGET_NOT_IN_PROTOCOL", 1)]
    assert result.score == D("0.00")


def test_no_injections_no_checks():
    result = check(EXAMPLE_PROTOCOL, prep(cf=None, minutes=None), [])
    assert result.checks == ()
    assert result.score is None
    assert result.deviations == ()
    assert result.to_dict()["score"] is None


def test_placement_is_not_a_protocol_check():
    injections = [inj(confirmed=True), inj(volume="2", confirmed=True)]
    unconfirmed = [dataclasses.replace(i, placement_confirmed=False) for i in injections]
    a, b = check(protocol(), prep(), injections), check(protocol(), prep(), unconfirmed)
    assert a == b
    assert all("placement" not in c.code.lower() for c in a.checks)


@pytest.mark.parametrize(
    ("confirmed", "rate"),
    [
        ([], None),
        ([True], D("1.00")),
        ([False], D("0.00")),
        ([True, False], D("0.50")),
        ([True, False, False], D("0.33")),
        ([True, True, False], D("0.67")),
        ([True] * 5 + [False] * 3, D("0.63")),  # 0.625 rounds half-up
        ([True] + [False] * 7, D("0.13")),  # 0.125 rounds half-up
    ],
)
def test_placement_rate(confirmed, rate):
    result = placement_rate([inj(confirmed=c) for c in confirmed])
    assert result == rate
    if rate is not None:
        assert result.as_tuple().exponent == -2


# ---------------------------------------------------------------------------
# Score
# ---------------------------------------------------------------------------


def _consistency(passed: int, made: int) -> Consistency:
    checks = tuple(
        Check("VOLUME_RANGE", "facet_joint", i, PASS if i < passed else DEVIATION, "e", "a", "m")
        for i in range(made)
    )
    return Consistency(protocol_version="v", protocol_fingerprint="f", checks=checks)


@pytest.mark.parametrize(
    ("passed", "made", "score"),
    [
        (2, 3, "0.67"),
        (1, 3, "0.33"),
        (0, 0, None),
        (0, 1, "0.00"),
        (3, 3, "1.00"),
        (1, 8, "0.13"),  # 0.125 half-up
        (5, 8, "0.63"),  # 0.625 half-up
        (3, 8, "0.38"),  # 0.375 half-up
        (1, 200, "0.01"),  # 0.005 half-up
        (199, 200, "1.00"),  # 0.995 half-up: all but one passed still shows 1.00
        (1, 201, "0.00"),
        (7, 9, "0.78"),
    ],
)
def test_score_rounding(passed, made, score):
    result = _consistency(passed, made)
    assert result.score == (None if score is None else D(score))
    assert (result.checks_passed, result.checks_made) == (passed, made)
    assert len(result.deviations) == made - passed


def test_score_from_real_checks():
    # One covered injection whose four checks pass, plus two injections into an uncovered target:
    # 4 of 6 = 0.67.
    p = protocol(thoracolumbar_fascia=rules(modalities=("ultrasound",), dap_reference=None))
    covered = inj("thoracolumbar_fascia", guidance="ultrasound")
    result = check(p, prep(), [covered, inj("facet_joint"), inj("epidural")])
    assert (result.checks_passed, result.checks_made, result.score) == (4, 6, D("0.67"))
    # Volume, guidance and CF pass, draw-to-injection is one minute over: 3 of 4.
    assert check(p, prep(minutes=61), [covered]).score == D("0.75")
    # Two in-range injections, one out of range, one uncovered: 5 of 7 = 0.714...
    three = check(
        p,
        prep(),
        [inj("thoracolumbar_fascia", "ultrasound", "9"), inj("facet_joint"), covered],
    )
    assert (three.checks_passed, three.checks_made, three.score) == (5, 7, D("0.71"))


def test_consistency_to_dict_is_json():
    result = check(EXAMPLE_PROTOCOL, prep(cf="1.5", minutes=61), [inj(volume="2.5", dap="6"), inj("epidural")])
    data = json.loads(json.dumps(result.to_dict()))
    assert data["protocol_version"] == EXAMPLE_PROTOCOL.version
    assert data["protocol_fingerprint"] == EXAMPLE_PROTOCOL.fingerprint
    assert data["checks_made"] == len(data["checks"]) == result.checks_made
    assert data["checks_passed"] == result.checks_passed
    assert D(str(data["score"])) == result.score
    assert data["checks"][0] == {
        "code": "VOLUME_RANGE",
        "target": "facet_joint",
        "index": 0,
        "status": "deviation",
        "expected": "0.5–1.5 mL",
        "actual": "2.5 mL",
        "message": "Facet joint, injection 1: 2.5 mL is above the protocol's 0.5–1.5 mL.",
    }
    assert {c["status"] for c in data["checks"]} <= {"pass", "deviation"}


def test_deviation_reasons():
    result = check(protocol(), prep(minutes=90), [inj(volume="2")])
    keys = [d.key for d in result.deviations]
    assert keys == ["VOLUME_RANGE:facet_joint:0", "DRAW_TO_INJECTION:facet_joint:-"]
    assert result.unexplained({}) == result.deviations
    assert result.unexplained({keys[0]: "Larger joint on imaging", keys[1]: "   "}) == (result.deviations[1],)
    assert result.unexplained({k: "Documented" for k in keys}) == ()
    # Keys are unique within a procedure.
    busy_injections = [inj(dap="1"), inj(dap="1"), inj("intradiscal", volume="2"), inj("epidural")]
    busy = check(EXAMPLE_PROTOCOL, prep(), busy_injections)
    assert len({c.key for c in busy.checks}) == busy.checks_made


# ---------------------------------------------------------------------------
# Protocol: round trip, validation, fingerprint
# ---------------------------------------------------------------------------


def test_round_trip_example_protocol():
    data = EXAMPLE_PROTOCOL.to_dict()
    assert json.loads(json.dumps(data)) == data
    again = ProcedureProtocol.from_dict(json.loads(json.dumps(data)))
    assert again == EXAMPLE_PROTOCOL
    assert again.to_dict() == data
    assert again.fingerprint == EXAMPLE_PROTOCOL.fingerprint
    assert hash(again) == hash(EXAMPLE_PROTOCOL)


def test_version_fits_a_clinic_slug_and_a_fingerprint():
    version = f"{'a' * 40}-{EXAMPLE_PROTOCOL.fingerprint}"
    assert ProcedureProtocol(version=version, targets={"facet_joint": rules()}).version == version
    assert protocol(version="x" * 100).version == "x" * 100


def test_round_trip_test_protocol():
    p = ProcedureProtocol.from_dict(protocol_dict())
    assert p.to_dict() == protocol_dict()
    assert p.targets["facet_joint"].volume_min_ml == D("0.5")
    assert isinstance(p.targets["facet_joint"].volume_min_ml, Decimal)
    assert p.targets["intradiscal"].dap_reference is None
    assert list(p.targets) == ["facet_joint", "intradiscal"]


def test_from_dict_normalises():
    data = protocol_dict()
    facet = data["targets"]["facet_joint"]
    facet["modalities"] = ["ultrasound", "fluoroscopy"]
    facet["max_draw_to_injection_minutes"] = 60.0
    facet["source"] = "  Example value\nfor the medical director   to set "
    del data["targets"]["intradiscal"]["dap_reference"]  # optional
    data["targets"] = dict(reversed(list(data["targets"].items())))
    p = ProcedureProtocol.from_dict(data)
    assert p.targets["facet_joint"].modalities == ("fluoroscopy", "ultrasound")
    assert p.targets["facet_joint"].max_draw_to_injection_minutes == 60
    assert p.targets["facet_joint"].source == EXAMPLE_SOURCE
    assert list(p.targets) == ["facet_joint", "intradiscal"]
    assert p == ProcedureProtocol.from_dict(protocol_dict())


def _set(path: str, value):
    """A mutation of protocol_dict(): set (or with ``...`` delete) the value at a dotted path."""

    def mutate(data):
        *parents, last = path.split(".")
        node = data
        for part in parents:
            node = node[part]
        if value is ...:
            del node[last]
        else:
            node[last] = value
        return data

    return mutate


F = "targets.facet_joint"
PROTOCOL_ERRORS = [
    # (mutation, field, message fragment)
    (lambda d: [], "protocol", "must be an object"),
    (lambda d: None, "protocol", "must be an object"),
    (_set("extra", 1), "extra", "unknown field"),
    (_set("fingerprint", "abc"), "fingerprint", "unknown field"),
    (_set("version", ...), "version", "is required"),
    (_set("version", None), "version", "is required"),
    (_set("version", ""), "version", "must be 1-100"),
    (_set("version", "has space"), "version", "must be 1-100"),
    (_set("version", "x" * 101), "version", "must be 1-100"),
    (_set("version", 3), "version", "must be 1-100"),
    (_set("targets", ...), "targets", "is required"),
    (_set("targets", []), "targets", "must be an object"),
    (_set("targets", {}), "targets", "must cover at least one target"),
    (_set("targets.sacroiliac_joint", {}), "targets.sacroiliac_joint", "unknown target"),
    (_set("targets.facet_joint", 1), F, "must be an object"),
    (_set("targets.facet_joint", None), F, "must be an object"),
    (_set(f"{F}.volume_ml", 1), f"{F}.volume_ml", "unknown field"),
    (_set(f"{F}.volume_min_ml", ...), f"{F}.volume_min_ml", "is required"),
    (_set(f"{F}.volume_max_ml", ...), f"{F}.volume_max_ml", "is required"),
    (_set(f"{F}.min_concentration_factor", ...), f"{F}.min_concentration_factor", "is required"),
    (_set(f"{F}.modalities", ...), f"{F}.modalities", "is required"),
    (_set(f"{F}.max_draw_to_injection_minutes", ...), f"{F}.max_draw_to_injection_minutes", "is required"),
    (_set(f"{F}.source", ...), f"{F}.source", "is required"),
    (_set(f"{F}.volume_min_ml", None), f"{F}.volume_min_ml", "is required"),
    # min <= max
    (_set(f"{F}.volume_min_ml", 1.6), f"{F}.volume_max_ml", "must not be less than volume_min_ml"),
    (_set(f"{F}.volume_max_ml", 0.49), f"{F}.volume_max_ml", "must not be less than volume_min_ml"),
    # positive, finite numbers with at most 3 decimals and a plausible size
    (_set(f"{F}.volume_min_ml", 0), f"{F}.volume_min_ml", "must be greater than 0"),
    (_set(f"{F}.volume_min_ml", -0.5), f"{F}.volume_min_ml", "must be greater than 0"),
    (_set(f"{F}.volume_max_ml", 0), f"{F}.volume_max_ml", "must be greater than 0"),
    (_set(f"{F}.volume_max_ml", 50.5), f"{F}.volume_max_ml", "must be at most 50 mL"),
    (_set(f"{F}.volume_min_ml", True), f"{F}.volume_min_ml", "must be a number, got a boolean"),
    (_set(f"{F}.volume_min_ml", "0.5"), f"{F}.volume_min_ml", "must be a number, got str"),
    (_set(f"{F}.volume_min_ml", [0.5]), f"{F}.volume_min_ml", "must be a number, got list"),
    (_set(f"{F}.volume_min_ml", float("nan")), f"{F}.volume_min_ml", "must be a finite number"),
    (_set(f"{F}.volume_max_ml", float("inf")), f"{F}.volume_max_ml", "must be a finite number"),
    (_set(f"{F}.volume_max_ml", D("NaN")), f"{F}.volume_max_ml", "must be a finite number"),
    (_set(f"{F}.volume_min_ml", 0.0005), f"{F}.volume_min_ml", "at most 3 decimal places"),
    (_set(f"{F}.min_concentration_factor", 0), f"{F}.min_concentration_factor", "must be greater than 0"),
    (_set(f"{F}.min_concentration_factor", -2), f"{F}.min_concentration_factor", "must be greater than 0"),
    (_set(f"{F}.min_concentration_factor", 101), f"{F}.min_concentration_factor", "must be at most 100"),
    (_set(f"{F}.min_concentration_factor", 2.0001), f"{F}.min_concentration_factor", "at most 3 decimal places"),
    (_set(f"{F}.min_concentration_factor", False), f"{F}.min_concentration_factor", "got a boolean"),
    # modalities: a non-empty list of known, distinct modalities
    (_set(f"{F}.modalities", []), f"{F}.modalities", "must list at least one of: fluoroscopy, ultrasound"),
    (_set(f"{F}.modalities", "fluoroscopy"), f"{F}.modalities", "must be a list, got str"),
    (_set(f"{F}.modalities", {"fluoroscopy": 1}), f"{F}.modalities", "must be a list, got dict"),
    (_set(f"{F}.modalities", ["fluoroscopy", "ct"]), f"{F}.modalities[1]", "unknown modality 'ct'"),
    (_set(f"{F}.modalities", ["Ultrasound"]), f"{F}.modalities[0]", "unknown modality"),
    (_set(f"{F}.modalities", ["ultrasound", "ultrasound"]), f"{F}.modalities[1]", "listed twice"),
    (_set(f"{F}.modalities", [1]), f"{F}.modalities[0]", "must be a string, got int"),
    # minutes: a positive whole number up to a day
    (_set(f"{F}.max_draw_to_injection_minutes", 0), f"{F}.max_draw_to_injection_minutes", "greater than 0"),
    (_set(f"{F}.max_draw_to_injection_minutes", -5), f"{F}.max_draw_to_injection_minutes", "greater than 0"),
    (_set(f"{F}.max_draw_to_injection_minutes", 60.5), f"{F}.max_draw_to_injection_minutes", "whole number"),
    (_set(f"{F}.max_draw_to_injection_minutes", "60"), f"{F}.max_draw_to_injection_minutes", "whole number"),
    (_set(f"{F}.max_draw_to_injection_minutes", True), f"{F}.max_draw_to_injection_minutes", "whole number"),
    (_set(f"{F}.max_draw_to_injection_minutes", 1441), f"{F}.max_draw_to_injection_minutes", "at most 1440"),
    # DAP reference: positive, plausible, and only with fluoroscopy
    (_set(f"{F}.dap_reference", 0), f"{F}.dap_reference", "must be greater than 0"),
    (_set(f"{F}.dap_reference", -1), f"{F}.dap_reference", "must be greater than 0"),
    (_set(f"{F}.dap_reference", 5000), f"{F}.dap_reference", "must be at most 1000 Gy·cm²"),
    (_set(f"{F}.dap_reference", "5"), f"{F}.dap_reference", "must be a number"),
    (_set(f"{F}.modalities", ["ultrasound"]), f"{F}.dap_reference", "must be null when fluoroscopy"),
    # source
    (_set(f"{F}.source", ""), f"{F}.source", "is required"),
    (_set(f"{F}.source", " \n "), f"{F}.source", "is required"),
    (_set(f"{F}.source", 1), f"{F}.source", "must be a string"),
    # errors in a later target carry that target's path
    (_set("targets.intradiscal.volume_max_ml", 0.5), "targets.intradiscal.volume_max_ml", "must not be less"),
]


@pytest.mark.parametrize(("mutate", "field", "fragment"), PROTOCOL_ERRORS)
def test_protocol_validation_errors(mutate, field, fragment):
    data = mutate(protocol_dict())
    with pytest.raises(ProtocolError) as info:
        ProcedureProtocol.from_dict(data)
    error = info.value
    assert isinstance(error, FieldError)
    assert error.field == field
    assert fragment in error.message
    assert str(error) == f"{field}: {error.message}"
    assert "\n" not in str(error)


def test_non_string_keys_are_refused():
    data = protocol_dict()
    data[1] = "x"
    with pytest.raises(ProtocolError) as info:
        ProcedureProtocol.from_dict(data)
    assert (info.value.field, info.value.message) == ("1", "unknown field")
    data = protocol_dict()
    data["targets"]["facet_joint"][None] = 1
    with pytest.raises(ProtocolError) as info:
        ProcedureProtocol.from_dict(data)
    assert info.value.field == "targets.facet_joint.None"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"volume_min_ml": 2}, "volume_max_ml"),
        ({"volume_max_ml": None}, "volume_max_ml"),
        ({"modalities": ()}, "modalities"),
        ({"modalities": None}, "modalities"),
        ({"modalities": ("xray",)}, "modalities[0]"),
        ({"max_draw_to_injection_minutes": None}, "max_draw_to_injection_minutes"),
        ({"dap_reference": D("0")}, "dap_reference"),
        ({"source": None}, "source"),
    ],
)
def test_target_protocol_validates_on_construction(kwargs, field):
    with pytest.raises(ProtocolError) as info:
        rules(**kwargs)
    assert info.value.field == field


@pytest.mark.parametrize(
    ("kwargs", "field", "fragment"),
    [
        ({"version": "bad version", "targets": {"facet_joint": rules()}}, "version", "must be 1-100"),
        ({"version": "v1", "targets": {}}, "targets", "at least one target"),
        ({"version": "v1", "targets": None}, "targets", "must be an object"),
        ({"version": "v1", "targets": {"knee": rules()}}, "targets.knee", "unknown target"),
        ({"version": "v1", "targets": {"facet_joint": {"volume_min_ml": 1}}}, "targets.facet_joint", "TargetProtocol"),
    ],
)
def test_procedure_protocol_validates_on_construction(kwargs, field, fragment):
    with pytest.raises(ProtocolError) as info:
        ProcedureProtocol(**kwargs)
    assert info.value.field == field
    assert fragment in info.value.message


def test_protocol_is_immutable_hashable_and_picklable():
    p = ProcedureProtocol.from_dict(protocol_dict())
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.version = "x"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.targets["facet_joint"].volume_max_ml = D(9)  # type: ignore[misc]
    with pytest.raises(TypeError):
        p.targets["epidural"] = rules()  # type: ignore[index]
    source = {"facet_joint": rules()}
    q = ProcedureProtocol(version="v1", targets=source)
    source["epidural"] = rules()  # the protocol keeps its own copy
    assert list(q.targets) == ["facet_joint"]
    assert pickle.loads(pickle.dumps(p)) == p
    assert pickle.loads(pickle.dumps(p)).fingerprint == p.fingerprint
    assert copy.deepcopy(p) == p
    assert {p: 1}[ProcedureProtocol.from_dict(protocol_dict())] == 1
    assert p.targets == {k: p.targets[k] for k in p.targets}
    assert "epidural" not in p.targets
    assert p.targets.get("epidural") is None
    with pytest.raises(KeyError):
        p.targets["epidural"]


# The canonical form is what stored fingerprints were computed from: pin it.
PINNED_CANONICAL = (
    '{"targets":{"facet_joint":{"dap_reference":5,"max_draw_to_injection_minutes":60,'
    '"min_concentration_factor":2,"modalities":["fluoroscopy","ultrasound"],'
    '"source":"Example value for the medical director to set","volume_max_ml":1.5,"volume_min_ml":0.5},'
    '"intradiscal":{"dap_reference":null,"max_draw_to_injection_minutes":60,"min_concentration_factor":2,'
    '"modalities":["fluoroscopy"],"source":"PMC6394242 Table 4","volume_max_ml":3,"volume_min_ml":1}},'
    '"version":"test-1"}'
)


def test_fingerprint_is_pinned_and_short():
    import hashlib

    p = ProcedureProtocol.from_dict(protocol_dict())
    assert json.dumps(p.to_dict(), sort_keys=True, separators=(",", ":"), ensure_ascii=False) == PINNED_CANONICAL
    assert p.fingerprint == hashlib.sha256(PINNED_CANONICAL.encode("utf-8")).hexdigest()[:16]
    assert re.fullmatch(r"[0-9a-f]{16}", p.fingerprint)
    assert re.fullmatch(r"[0-9a-f]{16}", EXAMPLE_PROTOCOL.fingerprint)


def test_fingerprint_is_stable_across_spellings():
    base = ProcedureProtocol.from_dict(protocol_dict()).fingerprint
    assert ProcedureProtocol.from_dict(protocol_dict()).fingerprint == base
    same = protocol_dict()
    facet = same["targets"]["facet_joint"]
    facet["volume_min_ml"] = D("0.500")
    facet["volume_max_ml"] = 1.50
    facet["min_concentration_factor"] = D("2.0")
    facet["dap_reference"] = 5.0
    facet["modalities"] = ["ultrasound", "fluoroscopy"]
    same["targets"]["facet_joint"] = dict(reversed(list(facet.items())))
    same = {"targets": dict(reversed(list(same["targets"].items()))), "version": same["version"]}
    assert ProcedureProtocol.from_dict(same).fingerprint == base
    direct = ProcedureProtocol(
        version="test-1",
        targets={
            "intradiscal": rules(volume_min_ml=1, volume_max_ml=3, modalities=["fluoroscopy"], dap_reference=None,
                                 source="PMC6394242 Table 4", min_concentration_factor=2),
            "facet_joint": rules(),
        },
    )
    assert direct.fingerprint == base


FINGERPRINT_CHANGES = [
    _set("version", "test-2"),
    _set(f"{F}.volume_min_ml", 0.6),
    _set(f"{F}.volume_min_ml", 0.501),
    _set(f"{F}.volume_max_ml", 1.4),
    _set(f"{F}.min_concentration_factor", 2.5),
    _set(f"{F}.modalities", ["fluoroscopy"]),
    _set(f"{F}.max_draw_to_injection_minutes", 61),
    _set(f"{F}.dap_reference", 5.5),
    _set(f"{F}.dap_reference", None),
    _set(f"{F}.source", "Medical director, 2026-01-05"),
    _set("targets.intradiscal.dap_reference", 10),
    _set("targets.intradiscal.source", "PMC6394242 table 4"),
    _set("targets.intradiscal", ...),
    _set("targets.epidural", protocol_dict()["targets"]["intradiscal"]),
]


@pytest.mark.parametrize("mutate", FINGERPRINT_CHANGES)
def test_fingerprint_changes_with_any_value(mutate):
    base = ProcedureProtocol.from_dict(protocol_dict())
    changed = ProcedureProtocol.from_dict(mutate(protocol_dict()))
    assert changed != base
    assert changed.fingerprint != base.fingerprint


def test_fingerprints_of_all_changes_are_distinct():
    prints = {ProcedureProtocol.from_dict(m(protocol_dict())).fingerprint for m in FINGERPRINT_CHANGES}
    assert len(prints) == len(FINGERPRINT_CHANGES)


# ---------------------------------------------------------------------------
# The example protocol
# ---------------------------------------------------------------------------


def test_example_protocol_covers_every_target():
    assert tuple(EXAMPLE_PROTOCOL.targets) == TARGETS
    assert len(TARGETS) == 6


@pytest.mark.parametrize("target", [t for t in TARGETS if t != "intradiscal"])
def test_example_values_are_labelled_as_examples(target):
    assert EXAMPLE_PROTOCOL.targets[target].source == EXAMPLE_SOURCE == "Example value for the medical director to set"


def test_intradiscal_volume_cites_its_source_and_the_rest_is_an_example():
    disc = EXAMPLE_PROTOCOL.targets["intradiscal"]
    assert (disc.volume_min_ml, disc.volume_max_ml) == (D(1), D(3))
    assert "PMC6394242 Table 4" in disc.source
    assert "§2" in disc.source
    assert "example values for the medical director to set" in disc.source.lower()


def test_example_facet_joint_values():
    facet = EXAMPLE_PROTOCOL.targets["facet_joint"]
    assert (facet.volume_min_ml, facet.volume_max_ml) == (D("0.5"), D("1.5"))
    assert facet.min_concentration_factor == D("2.0")
    assert facet.modalities == ("fluoroscopy", "ultrasound")
    assert facet.max_draw_to_injection_minutes == 60
    assert facet.dap_reference == D(5)


@pytest.mark.parametrize("target", TARGETS)
def test_example_values_are_cautious(target):
    t = EXAMPLE_PROTOCOL.targets[target]
    assert D("0.5") <= t.volume_min_ml <= t.volume_max_ml <= D(4)
    assert t.min_concentration_factor >= D(2)
    assert t.max_draw_to_injection_minutes <= 60
    assert (t.dap_reference is not None) == ("fluoroscopy" in t.modalities)
    assert t.dap_reference is None or t.dap_reference <= D(5)
    # An injection at the middle of the range, with an accepted modality and a fresh, concentrated
    # preparation, passes every check.
    middle = (t.volume_min_ml + t.volume_max_ml) / 2
    injection = inj(target, t.modalities[0], middle, dap=t.dap_reference)
    result = check(EXAMPLE_PROTOCOL, prep(cf="4", minutes=20), [injection])
    assert result.deviations == ()
    assert result.score == D("1.00")


# ---------------------------------------------------------------------------
# Facts and arguments
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"target": "knee"}, "target"),
        ({"target": None}, "target"),
        ({"target": "Facet_Joint"}, "target"),
        ({"guidance": ""}, "guidance"),
        ({"guidance": "  "}, "guidance"),
        ({"guidance": None}, "guidance"),
        ({"volume": 0}, "volume_ml"),
        ({"volume": -1}, "volume_ml"),
        ({"volume": None}, "volume_ml"),
        ({"volume": True}, "volume_ml"),
        ({"volume": float("nan")}, "volume_ml"),
        ({"volume": D("Infinity")}, "volume_ml"),
        ({"volume": [1]}, "volume_ml"),
        ({"confirmed": None}, "placement_confirmed"),
        ({"confirmed": 1}, "placement_confirmed"),
        ({"confirmed": "yes"}, "placement_confirmed"),
        ({"dap": D("-0.1")}, "dose_area_product"),
        ({"dap": float("inf")}, "dose_area_product"),
        ({"dap": False}, "dose_area_product"),
    ],
)
def test_injection_facts_validation(kwargs, field):
    with pytest.raises(ProtocolError) as info:
        inj(**kwargs)
    assert info.value.field == field


def test_injection_facts_normalise():
    i = inj(guidance=" Fluoroscopy ", volume=1.5, dap=2)
    assert (i.guidance, i.volume_ml, i.dose_area_product) == ("fluoroscopy", D("1.5"), D(2))
    assert isinstance(i.volume_ml, Decimal) and isinstance(i.dose_area_product, Decimal)
    assert inj(dap=0).dose_area_product == 0


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"cf": 0}, "concentration_factor"),
        ({"cf": -1}, "concentration_factor"),
        ({"cf": True}, "concentration_factor"),
        ({"cf": float("nan")}, "concentration_factor"),
        ({"cf": "2.0"}, "concentration_factor"),
        ({"minutes": -1}, "minutes_from_draw_to_injection"),
        ({"minutes": 1.5}, "minutes_from_draw_to_injection"),
        ({"minutes": True}, "minutes_from_draw_to_injection"),
        ({"minutes": "30"}, "minutes_from_draw_to_injection"),
    ],
)
def test_preparation_facts_validation(kwargs, field):
    cf = kwargs.get("cf", D("3"))
    minutes = kwargs.get("minutes", 30)
    with pytest.raises(ProtocolError) as info:
        PreparationFacts(concentration_factor=cf, minutes_from_draw_to_injection=minutes)
    assert info.value.field == field


def test_preparation_facts_normalise():
    p = PreparationFacts(concentration_factor=3.1, minutes_from_draw_to_injection=D("45"))
    assert (p.concentration_factor, p.minutes_from_draw_to_injection) == (D("3.1"), 45)
    assert type(p.minutes_from_draw_to_injection) is int


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ((protocol_dict(), prep(), []), "protocol"),
        ((EXAMPLE_PROTOCOL, {"concentration_factor": 3}, []), "preparation"),
        ((EXAMPLE_PROTOCOL, prep(), None), "injections"),
        ((EXAMPLE_PROTOCOL, prep(), "facet_joint"), "injections"),
        ((EXAMPLE_PROTOCOL, prep(), iter([inj()])), "injections"),
        ((EXAMPLE_PROTOCOL, prep(), [inj(), {"target": "facet_joint"}]), "injections[1]"),
    ],
)
def test_check_arguments(args, field):
    with pytest.raises(ProtocolError) as info:
        check(*args)
    assert info.value.field == field


@pytest.mark.parametrize(("arg", "field"), [(None, "injections"), ("x", "injections"), ([inj(), 1], "injections[1]")])
def test_placement_rate_arguments(arg, field):
    with pytest.raises(ProtocolError) as info:
        placement_rate(arg)
    assert info.value.field == field


def test_check_accepts_a_tuple():
    assert check(protocol(), prep(), (inj(),)) == check(protocol(), prep(), [inj()])


# ---------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------

_amount = st.decimals(min_value=D("0.001"), max_value=D(50), places=3)


@st.composite
def target_protocols(draw) -> TargetProtocol:
    low, high = sorted([draw(_amount), draw(_amount)])
    modalities = draw(st.lists(st.sampled_from(MODALITIES), min_size=1, max_size=2, unique=True))
    dap = None
    if "fluoroscopy" in modalities:
        dap = draw(st.none() | st.decimals(min_value=D("0.001"), max_value=D(1000), places=3))
    return TargetProtocol(
        volume_min_ml=low,
        volume_max_ml=high,
        min_concentration_factor=draw(st.decimals(min_value=D("0.001"), max_value=D(100), places=3)),
        modalities=tuple(modalities),
        max_draw_to_injection_minutes=draw(st.integers(1, 1440)),
        dap_reference=dap,
        source=draw(st.sampled_from([EXAMPLE_SOURCE, "PMC6394242 Table 4", "Dr Á. Müller, 2026 — §2"])),
    )


procedure_protocols = st.builds(
    ProcedureProtocol,
    version=st.from_regex(r"[A-Za-z0-9._-]{1,100}", fullmatch=True),
    targets=st.dictionaries(st.sampled_from(TARGETS), target_protocols(), min_size=1),
)

injection_facts = st.builds(
    InjectionFacts,
    target=st.sampled_from(TARGETS),
    guidance=st.sampled_from(("fluoroscopy", "ultrasound", "ct")),
    volume_ml=st.decimals(min_value=D("0.001"), max_value=D(60), places=3),
    placement_confirmed=st.booleans(),
    dose_area_product=st.none() | st.decimals(min_value=D(0), max_value=D(1200), places=3),
)

preparation_facts = st.builds(
    PreparationFacts,
    concentration_factor=st.none() | st.decimals(min_value=D("0.01"), max_value=D(120), places=2),
    minutes_from_draw_to_injection=st.none() | st.integers(0, 2000),
)

injection_lists = st.lists(injection_facts, max_size=8)


@settings(max_examples=300, deadline=None)
@given(procedure_protocols, preparation_facts, injection_lists)
def test_score_is_a_share_between_0_and_1(p, facts, injections):
    result = check(p, facts, injections)
    if not injections:
        assert result.checks == () and result.score is None
        return
    assert result.checks_made > 0
    assert D(0) <= result.score <= D(1)
    exact = Fraction(result.checks_passed, result.checks_made)
    assert abs(Fraction(result.score) - exact) <= Fraction(1, 200)
    assert result.checks_passed + len(result.deviations) == result.checks_made
    assert all(c.status in (PASS, DEVIATION) for c in result.checks)


@settings(max_examples=300, deadline=None)
@given(procedure_protocols, preparation_facts, injection_lists)
def test_number_of_checks(p, facts, injections):
    result = check(p, facts, injections)
    expected = 0
    for i in injections:
        rules_ = p.targets.get(i.target)
        if rules_ is None:
            expected += 1
        else:
            dap_checked = i.guidance == "fluoroscopy" and i.dose_area_product is not None
            expected += 2 + (dap_checked and rules_.dap_reference is not None)
    expected += 2 * len({i.target for i in injections if i.target in p.targets})
    assert result.checks_made == expected


@settings(max_examples=300, deadline=None)
@given(
    procedure_protocols,
    preparation_facts,
    injection_lists.flatmap(lambda xs: st.tuples(st.just(xs), st.permutations(xs))),
)
def test_order_of_injections_does_not_change_the_score(p, facts, pair):
    injections, shuffled = pair
    a, b = check(p, facts, injections), check(p, facts, shuffled)
    assert a.score == b.score
    assert (a.checks_made, a.checks_passed) == (b.checks_made, b.checks_passed)

    def outcome(result):
        return Counter((c.code, c.target, c.status) for c in result.checks)

    assert outcome(a) == outcome(b)


@settings(max_examples=300, deadline=None)
@given(procedure_protocols, preparation_facts, injection_lists, injection_facts)
def test_adding_an_injection_never_removes_a_check_or_a_deviation(p, facts, injections, extra):
    before = check(p, facts, injections)
    after = check(p, facts, [*injections, extra])
    assert after.checks_made > before.checks_made
    assert len(after.deviations) >= len(before.deviations)
    assert not Counter(before.checks) - Counter(after.checks)  # every earlier check is still there, unchanged


@st.composite
def passing_extra(draw, p: ProcedureProtocol, facts: PreparationFacts, injections: list[InjectionFacts]):
    """An injection all of whose own checks pass, or None when no such injection exists."""
    present = {i.target for i in injections}
    candidates = []
    for target, t in p.targets.items():
        if target in present:
            candidates.append(target)
            continue
        cf_ok = facts.concentration_factor is not None and facts.concentration_factor >= t.min_concentration_factor
        minutes = facts.minutes_from_draw_to_injection
        if cf_ok and minutes is not None and minutes <= t.max_draw_to_injection_minutes:
            candidates.append(target)
    if not candidates:
        return None
    target = draw(st.sampled_from(candidates))
    t = p.targets[target]
    volume = draw(st.sampled_from([t.volume_min_ml, t.volume_max_ml, (t.volume_min_ml + t.volume_max_ml) / 2]))
    guidance = draw(st.sampled_from(t.modalities))
    dap = None
    if guidance == "fluoroscopy" and t.dap_reference is not None:
        dap = draw(st.none() | st.sampled_from([D(0), t.dap_reference]))
    return InjectionFacts(target, guidance, volume, draw(st.booleans()), dap)


@settings(max_examples=300, deadline=None)
@given(st.data(), procedure_protocols, preparation_facts, injection_lists)
def test_adding_a_passing_injection_never_raises_the_share_of_deviations(data, p, facts, injections):
    extra = data.draw(passing_extra(p, facts, injections))
    assume(extra is not None)
    before = check(p, facts, injections)
    after = check(p, facts, [*injections, extra])
    new_checks = Counter(after.checks) - Counter(before.checks)
    assert new_checks and all(c.status == PASS for c in new_checks)
    assert len(after.deviations) == len(before.deviations)
    share_before = Fraction(len(before.deviations), before.checks_made) if before.checks_made else Fraction(0)
    share_after = Fraction(len(after.deviations), after.checks_made)
    assert share_after <= share_before
    assert before.score is None or after.score >= before.score


@settings(max_examples=200, deadline=None)
@given(procedure_protocols, preparation_facts, injection_lists)
def test_placement_does_not_affect_the_checks(p, facts, injections):
    flipped = [dataclasses.replace(i, placement_confirmed=not i.placement_confirmed) for i in injections]
    assert check(p, facts, injections) == check(p, facts, flipped)
    rate = placement_rate(injections)
    assert (rate is None) == (not injections)
    if injections:
        assert D(0) <= rate <= D(1)
        assert rate + placement_rate(flipped) in (D("0.99"), D("1.00"), D("1.01"))


@settings(max_examples=300, deadline=None)
@given(procedure_protocols)
def test_protocol_round_trip(p):
    data = json.loads(json.dumps(p.to_dict()))
    again = ProcedureProtocol.from_dict(data)
    assert again == p
    assert again.fingerprint == p.fingerprint
    assert again.to_dict() == p.to_dict()
