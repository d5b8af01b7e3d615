"""Spinal regions and the motion-segment levels valid in each (for example L4-L5, C5-C6, L5-S1)."""

from __future__ import annotations

import itertools

_CERVICAL = [f"C{i}" for i in range(1, 8)]
_THORACIC = [f"T{i}" for i in range(1, 13)]
_LUMBAR = [f"L{i}" for i in range(1, 6)]


def _segments(vertebrae: list[str], next_after: str) -> tuple[str, ...]:
    chain = [*vertebrae, next_after]
    return tuple(f"{upper}-{lower}" for upper, lower in itertools.pairwise(chain))


LEVELS: dict[str, tuple[str, ...]] = {
    "cervical": _segments(_CERVICAL, "T1"),   # C1-C2 ... C7-T1
    "thoracic": _segments(_THORACIC, "L1"),   # T1-T2 ... T12-L1
    "lumbar": _segments(_LUMBAR, "S1"),       # L1-L2 ... L5-S1
}
REGIONS = tuple(LEVELS)


def normalize_level(text: str) -> str:
    return text.strip().upper().replace(" ", "").replace("–", "-").replace("/", "-")


def invalid_levels(region: str, levels: list[str]) -> list[str]:
    """The levels (as given) that do not exist in `region`."""
    valid = LEVELS.get(region, ())
    return [level for level in levels if normalize_level(level) not in valid]
