import pytest

from accretion.clinical.anatomy import LEVELS, invalid_levels, normalize_level


def test_segment_counts_and_junctions():
    assert len(LEVELS["cervical"]) == 7 and LEVELS["cervical"][-1] == "C7-T1"
    assert len(LEVELS["thoracic"]) == 12 and LEVELS["thoracic"][-1] == "T12-L1"
    assert LEVELS["lumbar"] == ("L1-L2", "L2-L3", "L3-L4", "L4-L5", "L5-S1")


@pytest.mark.parametrize(
    "region, levels, bad",
    [
        ("lumbar", ["L4-L5", "l5-s1", " L3 - L4 "], []),
        ("lumbar", ["C5-C6"], ["C5-C6"]),
        ("cervical", ["C5-C6", "C7-T1"], []),
        ("cervical", ["C8-T1", "L4-L5"], ["C8-T1", "L4-L5"]),
        ("thoracic", ["T12-L1", "T4-T6"], ["T4-T6"]),
        ("sacral", ["L5-S1"], ["L5-S1"]),
    ],
)
def test_invalid_levels(region, levels, bad):
    assert invalid_levels(region, levels) == bad


def test_normalize_level_accepts_common_spellings():
    assert normalize_level(" l4–l5 ") == "L4-L5" and normalize_level("L4/L5") == "L4-L5"
