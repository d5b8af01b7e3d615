"""The physician's decision about each anticoagulant and antiplatelet: keep taking it, or hold and restart.

A screening lists the antithrombotics the patient takes now (``Antithrombotic``,
from the rule set). When a physician reviews it and decides to proceed, they
decide for each one: *continue*, or *hold* with the date of the last dose
before the procedure and when to restart (a date, instructions in their own
words, or both). The aftercare handout, its PDF and the calendar file then
tell the patient "restart <drug> on <date> unless told otherwise"; with no
decision they tell the patient to ask the clinic before restarting.

These are the physician's decisions, recorded as given: the reference hold
intervals of ``medications`` are shown to the physician beside the form but
never filled in for them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from .errors import FieldError

__all__ = [
    "ACTIONS",
    "CONTINUE",
    "HOLD",
    "HOLD_WITHIN_DAYS",
    "RESTART_NOTE_MAX",
    "RESTART_WITHIN_DAYS",
    "Antithrombotic",
    "HoldDecision",
    "parse_plan",
]

CONTINUE = "continue"
HOLD = "hold"
ACTIONS = (CONTINUE, HOLD)
RESTART_NOTE_MAX = 300
# A restart further out than this is almost certainly a typing slip (a year, a month).
RESTART_WITHIN_DAYS = 90
HOLD_WITHIN_DAYS = 60  # the last dose, at most this long before the procedure
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_FIELDS = frozenset({"action", "last_dose", "restart_on", "restart_note"})


@dataclass(frozen=True, slots=True)
class Antithrombotic:
    """One anticoagulant or antiplatelet the patient takes now, as the screening found it."""

    generic: str
    drug_class: str  # medications.ANTICOAGULANT or ANTIPLATELET
    entered: tuple[str, ...]  # the medication lines that name it, as typed

    @property
    def name(self) -> str:
        """How the patient knows it: 'Eliquis 5 mg (apixaban)', or the generic name alone."""
        if self.entered and self.entered[0].casefold() != self.generic:
            return f"{self.entered[0]} ({self.generic})"
        return self.generic

    def to_dict(self) -> dict[str, Any]:
        return {"generic": self.generic, "class": self.drug_class, "entered": list(self.entered)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Antithrombotic:
        return cls(str(data["generic"]), str(data["class"]), tuple(str(e) for e in data.get("entered", ())))


@dataclass(frozen=True, slots=True)
class HoldDecision:
    drug: Antithrombotic
    action: str  # CONTINUE or HOLD
    last_dose: date | None = None
    restart_on: date | None = None
    restart_note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.drug.to_dict(),
            "action": self.action,
            "last_dose": self.last_dose.isoformat() if self.last_dose else None,
            "restart_on": self.restart_on.isoformat() if self.restart_on else None,
            "restart_note": self.restart_note,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> HoldDecision:
        def day(value):
            return date.fromisoformat(value) if value else None

        return cls(Antithrombotic.from_dict(data), str(data["action"]), day(data.get("last_dose")),
                   day(data.get("restart_on")), str(data.get("restart_note") or ""))


def _date(value: Any, path: str) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
        raise FieldError(path, "must be a date in the form YYYY-MM-DD")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise FieldError(path, f"{value} is not a real calendar date") from None


def _note(value: Any, path: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise FieldError(path, "must be text")
    if "\x00" in value:
        raise FieldError(path, "contains a NUL character")
    text = " ".join(value.split())
    if len(text) > RESTART_NOTE_MAX:
        raise FieldError(path, f"is longer than {RESTART_NOTE_MAX} characters")
    return text


def _one(drug: Antithrombotic, entry: Any, procedure_date: date) -> HoldDecision:
    path = f"antithrombotics.{drug.generic}"
    if not isinstance(entry, Mapping):
        raise FieldError(f"{path}.action", f"choose {CONTINUE} or {HOLD} for {drug.name}")
    for key in entry:
        if key not in _FIELDS:
            raise FieldError(f"{path}.{key}", "unknown field")
    action = entry.get("action")
    if action not in ACTIONS:
        raise FieldError(f"{path}.action", f"choose {CONTINUE} or {HOLD} for {drug.name}")
    last_dose = _date(entry.get("last_dose"), f"{path}.last_dose")
    restart_on = _date(entry.get("restart_on"), f"{path}.restart_on")
    note = _note(entry.get("restart_note"), f"{path}.restart_note")
    if action == CONTINUE:
        for key, value in (("last_dose", last_dose), ("restart_on", restart_on), ("restart_note", note)):
            if value:
                raise FieldError(f"{path}.{key}", f"is only for a drug that is held; {drug.name} continues")
        return HoldDecision(drug, CONTINUE)
    if last_dose is None:
        raise FieldError(f"{path}.last_dose", f"give the date of the last dose of {drug.name} before the procedure")
    if last_dose > procedure_date:
        raise FieldError(f"{path}.last_dose", f"{last_dose.isoformat()} is after the procedure date "
                                              f"{procedure_date.isoformat()}")
    if last_dose < procedure_date - timedelta(days=HOLD_WITHIN_DAYS):
        raise FieldError(f"{path}.last_dose", f"is more than {HOLD_WITHIN_DAYS} days before the procedure date "
                                              f"{procedure_date.isoformat()}")
    if restart_on is None and not note:
        raise FieldError(f"{path}.restart_on", f"give the restart date of {drug.name}, or restart instructions")
    if restart_on is not None:
        if restart_on < procedure_date:
            raise FieldError(f"{path}.restart_on", f"{restart_on.isoformat()} is before the procedure date "
                                                   f"{procedure_date.isoformat()}")
        if restart_on > procedure_date + timedelta(days=RESTART_WITHIN_DAYS):
            raise FieldError(f"{path}.restart_on", f"is more than {RESTART_WITHIN_DAYS} days after the procedure "
                                                   f"date {procedure_date.isoformat()}")
    return HoldDecision(drug, HOLD, last_dose, restart_on, note)


def parse_plan(raw: Any, drugs: Sequence[Antithrombotic], procedure_date: date) -> tuple[HoldDecision, ...]:
    """One decision per current antithrombotic, in the screening's order. Raises FieldError naming the field.

    ``raw`` maps each generic name to ``{"action", "last_dose", "restart_on", "restart_note"}``.
    """
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise FieldError("antithrombotics", "must be an object keyed by generic drug name")
    known = {d.generic for d in drugs}
    for key in raw:
        if key not in known:
            shown = key if isinstance(key, str) and key.isprintable() and len(key) <= 60 else repr(key)[:60]
            raise FieldError(f"antithrombotics.{shown}", "is not an anticoagulant or antiplatelet of this screening")
    return tuple(_one(drug, raw.get(drug.generic), procedure_date) for drug in drugs)
