"""Kit lot recall: every procedure whose PRP preparation used a lot.

A manufacturer recalls a lot number; the clinic must reach every patient
treated with a kit of it. A kit is taken from its lot when the preparation is
recorded, so `Preparation.kit_lot` is the record of use. The same lot number
can exist in several clinics (one shipment split between sites) and, rarely,
for two products; a recall by number finds them all.

`recall()` answers with ONE query: the kit lot number index finds the lots,
the preparation's kit lot index finds their preparations, and the procedure,
patient, physician and clinic come along through joins. Only the columns a
row shows are read, and rows are named tuples (no model instances), so a lot
used thousands of times is still answered quickly.
"""

from __future__ import annotations

import unicodedata
from datetime import date
from typing import NamedTuple

from django.db.models import F, Value
from django.db.models.functions import Coalesce, Concat, NullIf, Trim, TruncDate

from accretion.practice.models import KitLot, lot_key
from accretion.procedures.models import Preparation, Status

__all__ = [
    "COLUMNS",
    "MAX_LOT_LENGTH",
    "InvalidLotNumber",
    "RecallRow",
    "clean_lot_number",
    "recall",
    "recall_queryset",
]

MAX_LOT_LENGTH = KitLot._meta.get_field("lot_number").max_length
STATUS_LABELS = dict(Status.choices)


class InvalidLotNumber(ValueError):
    """A lot number that cannot be one: empty, too long, or with control characters."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def clean_lot_number(raw: str | None) -> str:
    """The lot number as typed (surrounding spaces removed), or `InvalidLotNumber`."""
    text = (raw or "").strip()
    if not text:
        raise InvalidLotNumber("enter a lot number")
    if "\x00" in text:
        raise InvalidLotNumber("a lot number cannot contain a NUL character")
    if any(unicodedata.category(char) in ("Cc", "Cs") for char in text):
        raise InvalidLotNumber("a lot number cannot contain control characters")
    if len(text) > MAX_LOT_LENGTH:
        raise InvalidLotNumber(f"a lot number has at most {MAX_LOT_LENGTH} characters, not {len(text)}")
    return text


class RecallRow(NamedTuple):
    """One procedure that used a kit of the recalled lot (a tuple: thousands are built per recall)."""

    procedure_id: int
    procedure_date: date
    status: str
    clinic: str
    patient_id: int
    patient_name: str
    mrn: str
    date_of_birth: date
    phone: str
    email: str
    physician: str  # full name, else user name; empty when none is assigned
    product: str
    manufacturer: str
    lot_number: str
    expiry_date: date
    kit_lot_id: int

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)

    def as_dict(self) -> dict:
        """JSON-ready: dates as YYYY-MM-DD."""
        return {key: value.isoformat() if isinstance(value, date) else value for key, value in self._asdict().items()}


# The columns of a table or CSV export: (RecallRow attribute, heading).
COLUMNS = [
    ("procedure_date", "Procedure date"),
    ("procedure_id", "Procedure"),
    ("status", "Status"),
    ("clinic", "Clinic"),
    ("patient_name", "Patient"),
    ("mrn", "MRN"),
    ("date_of_birth", "Date of birth"),
    ("phone", "Phone"),
    ("email", "Email"),
    ("physician", "Physician"),
    ("product", "Product"),
    ("manufacturer", "Manufacturer"),
    ("lot_number", "Lot"),
    ("expiry_date", "Lot expiry"),
]


def recall_queryset(lot_number: str, clinic=None):
    """The query behind `recall()`: tuples in `RecallRow` order, by procedure date.

    The procedure date is the day the procedure started (in the clinic's time
    zone), else the day it was planned. Names are put together by the database.
    """
    preparations = Preparation.objects.filter(kit_lot__lot_key=lot_key(lot_number))
    if clinic is not None:
        preparations = preparations.filter(kit_lot__clinic=clinic)
    physician = Coalesce(
        NullIf(Trim(Concat("procedure__physician__first_name", Value(" "), "procedure__physician__last_name")),
               Value("")),
        "procedure__physician__username",
        Value(""),
    )
    return (
        preparations
        .annotate(
            day=Coalesce(TruncDate("procedure__started_at"), F("procedure__planned_date")),
            patient_name=Concat("procedure__patient__given_name", Value(" "), "procedure__patient__family_name"),
            physician_name=physician,
        )
        .order_by("day", "procedure_id")
        .values_list(
            "procedure_id", "day", "procedure__status", "procedure__clinic__slug", "procedure__patient_id",
            "patient_name", "procedure__patient__mrn", "procedure__patient__date_of_birth",
            "procedure__patient__phone", "procedure__patient__email", "physician_name", "kit_lot__product",
            "kit_lot__manufacturer", "kit_lot__lot_number", "kit_lot__expiry_date", "kit_lot_id",
        )
    )


def recall(lot_number: str, clinic=None) -> list[RecallRow]:
    """Every procedure that used a kit of `lot_number`, oldest first.

    With `clinic`, only that clinic's lots; without, every clinic's (for the
    operator's command line). `lot_number` is compared by its `lot_key`: case and
    spaces do not matter (``ABC123`` recalls ``abc 123``).
    """
    return list(map(RecallRow._make, recall_queryset(lot_number, clinic)))


def patients_count(rows: list[RecallRow]) -> int:
    return len({row.patient_id for row in rows})


def audit_detail(lot_number: str, rows: list[RecallRow]) -> dict:
    """What an audit row of a recall stores: the lot, how many procedures and which patients."""
    return {
        "lot": lot_number,
        "count": len(rows),
        "patients": patients_count(rows),
        "patient_ids": sorted({row.patient_id for row in rows}),
        "kit_lots": sorted({row.kit_lot_id for row in rows}),
    }
