"""Practice checks and use cases: training, equipment and kit stock.

The check functions are what procedure day's hard gates call. They take the
row and the day to judge (`on`, the clinic's local date), read nothing else
from the request, and answer plain-English sentences, one per problem; an
empty list means the gate is met. The same rules, applied to each row of the
practice pages, give the statuses staff see there.

Date conventions (the same for training and kits):

- A training record is valid from `completed_on` through `expires_on`
  inclusive: on its expiry day it is still current ("expiring"), the day
  after it is expired.
- A kit lot may be used through its expiry date; from the next day on it is
  expired.
- A piece of equipment may be used through its `next_maintenance` date; from
  the next day on it is overdue. No date on record is a problem too: unknown
  is never treated as fine.

The write use cases (record_training, add/save equipment, receive_lot,
adjust_stock) run in one transaction each and write their audit row in it.
`take_kit` runs inside the caller's transaction and writes no audit row of its
own: the caller's audited record (the preparation) names the lot.
"""

from dataclasses import dataclass
from datetime import date, timedelta

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from accretion.audit.log import Action, record
from accretion.clinics.people import staff_name
from accretion.practice.models import (
    IMAGING_KINDS,
    REQUIRED_MODULES,
    Equipment,
    Kind,
    KitLot,
    TrainingModule,
    TrainingRecord,
    lot_key,
)

EXPIRING_WITHIN_DAYS = 30

CURRENT, EXPIRING, EXPIRED, MISSING = "current", "expiring", "expired", "missing"
STATUS_LABELS = {
    CURRENT: "Current",
    EXPIRING: f"Expiring within {EXPIRING_WITHIN_DAYS} days",
    EXPIRED: "Expired",
    MISSING: "Missing",
}


class KitUnavailable(Exception):
    """No kit could be taken from the lot; the message says why (expired, out of stock, unknown lot)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class EditConflict(Exception):
    """Someone else saved the row since this edit began; nothing was written."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _iso(day: date) -> str:
    return day.strftime("%Y-%m-%d")


# --- Training ----------------------------------------------------------------------


def training_status(record: TrainingRecord, on: date) -> str:
    """The status of one training record on a day.

    - ``"expired"``: the expiry date is before `on`;
    - ``"expiring"``: it expires on `on` or within the next 30 days
      (``on <= expires_on <= on + 30 days``);
    - ``"current"``: it expires later than that.

    Only the expiry is judged; which record counts for a person and module
    (the latest completed on or before `on`) is `latest_records`' business.
    """
    if record.expires_on < on:
        return EXPIRED
    if record.expires_on <= on + timedelta(days=EXPIRING_WITHIN_DAYS):
        return EXPIRING
    return CURRENT


def module_names(clinic) -> dict[str, str]:
    """code -> name of every module of the clinic: the required ones first, then the clinic's own by name."""
    names = dict(REQUIRED_MODULES)
    for code, name in TrainingModule.objects.filter(clinic=clinic).values_list("code", "name"):
        names.setdefault(code, name)
    return names


def latest_records(clinic, on: date, *, users=None, modules=None) -> dict[tuple[int, str], TrainingRecord]:
    """The record that counts for each (user id, module) on a day, in one query.

    It is the one with the latest completion date on or before `on` (a
    training completed after `on` did not exist yet); on equal completion
    dates the one entered last wins, so a mistaken entry is corrected by
    entering the same completion again.
    """
    queryset = TrainingRecord.objects.filter(clinic=clinic, completed_on__lte=on)
    if users is not None:
        queryset = queryset.filter(user__in=users)
    if modules is not None:
        queryset = queryset.filter(module__in=list(modules))
    latest: dict[tuple[int, str], TrainingRecord] = {}
    for row in queryset.order_by("user_id", "module", "-completed_on", "-id"):
        latest.setdefault((row.user_id, row.module), row)
    return latest


def training_gaps(user, clinic, on: date) -> list[str]:
    """What keeps `user` from working a procedure in `clinic` on day `on`, training-wise.

    One sentence per required module (REQUIRED_MODULES) that has no record
    completed on or before `on`, or whose latest such record expired before
    `on`. A record expiring on `on` or soon is still current and is no gap.
    Empty list: the user's required training is current. One query.

    >>> training_gaps(nurse, north, date(2026, 10, 2))
    ['nurse@north.demo has no current training in Aseptic preparation (expired 2026-10-01).']
    """
    latest = latest_records(clinic, on, users=[user], modules=REQUIRED_MODULES)
    who = staff_name(user)
    gaps = []
    for code, name in REQUIRED_MODULES.items():
        row = latest.get((user.pk, code))
        if row is None:
            gaps.append(f"{who} has no training in {name} on record.")
        elif training_status(row, on) == EXPIRED:
            gaps.append(f"{who} has no current training in {name} (expired {_iso(row.expires_on)}).")
    return gaps


@dataclass
class Cell:
    """One member × module square of the training page."""

    status: str
    record: TrainingRecord | None = None
    days_left: int | None = None  # days from the day judged to the expiry date

    @property
    def label(self) -> str:
        return STATUS_LABELS[self.status]


@dataclass
class MemberRow:
    membership: object
    cells: list[Cell]

    @property
    def has_problem(self) -> bool:
        return any(cell.status != CURRENT for cell in self.cells)


def training_matrix(memberships, modules: dict[str, str], clinic, on: date) -> list[MemberRow]:
    """Every member × every module with its status on `on`; one query for all records."""
    memberships = list(memberships)
    latest = latest_records(clinic, on, users=[m.user_id for m in memberships], modules=modules)
    rows = []
    for membership in memberships:
        cells = []
        for code in modules:
            row = latest.get((membership.user_id, code))
            if row is None:
                cells.append(Cell(MISSING))
            else:
                cells.append(Cell(training_status(row, on), row, (row.expires_on - on).days))
        rows.append(MemberRow(membership, cells))
    return rows


def record_training(request, *, user, module: str, completed_on: date, expires_on: date | None) -> TrainingRecord:
    """Store a completion verified by the signed-in user; the expiry defaults to 12 calendar months later."""
    with transaction.atomic():
        row = TrainingRecord.objects.create(
            clinic=request.clinic, user=user, module=module, completed_on=completed_on,
            expires_on=expires_on or TrainingRecord.default_expiry(completed_on), verified_by=request.user,
        )
        record(request, Action.CREATE, row, member=user.get_username(), module=module,
               completed_on=_iso(row.completed_on), expires_on=_iso(row.expires_on))
    return row


def add_module(request, *, code: str, name: str) -> TrainingModule:
    """Add a clinic module. Raises IntegrityError if the code was taken a moment ago."""
    with transaction.atomic():
        module = TrainingModule.objects.create(clinic=request.clinic, code=code, name=name)
        record(request, Action.CREATE, module, code=code, name=name)
    return module


# --- Equipment ---------------------------------------------------------------------


def _maintenance_problems(equipment: Equipment, on: date) -> list[str]:
    problems = []
    if not equipment.in_service:
        problems.append(f"{equipment} is out of service.")
    if equipment.next_maintenance is None:
        problems.append(f"{equipment} has no maintenance date on record.")
    elif equipment.next_maintenance < on:
        problems.append(f"{equipment} is past its maintenance date ({_iso(equipment.next_maintenance)}).")
    return problems


def centrifuge_problems(equipment: Equipment | None, on: date) -> list[str]:
    """Why this equipment may not spin PRP on day `on` (empty list: it may).

    Problems: none chosen; not a centrifuge; out of service; maintenance date
    before `on` (due on `on` itself is still fine); no maintenance date on record.
    """
    if equipment is None:
        return ["No centrifuge is selected."]
    if equipment.kind != Kind.CENTRIFUGE:
        return [f"{equipment} is not a centrifuge."]
    return _maintenance_problems(equipment, on)


def imaging_problems(equipment: Equipment | None, on: date) -> list[str]:
    """Why this equipment may not guide an injection on day `on` (empty list: it may).

    Problems: none chosen; not an imaging unit (fluoroscopy or ultrasound);
    out of service; maintenance date before `on`; no maintenance date on record.
    """
    if equipment is None:
        return ["No imaging unit is selected."]
    if equipment.kind not in IMAGING_KINDS:
        return [f"{equipment} is not an imaging unit (fluoroscopy or ultrasound)."]
    return _maintenance_problems(equipment, on)


def equipment_problems(equipment: Equipment, on: date) -> list[str]:
    """The problems of a piece of equipment for its own kind (the equipment page's status)."""
    if equipment.kind == Kind.CENTRIFUGE:
        return centrifuge_problems(equipment, on)
    return imaging_problems(equipment, on)


def add_equipment(request, form) -> Equipment:
    """Create the form's equipment and audit it. Raises IntegrityError (and marks the serial field) on a clash."""
    equipment = form.save(commit=False)
    equipment.clinic = request.clinic
    with transaction.atomic():
        _save_checking_serial(form, equipment)
        record(request, Action.CREATE, equipment, kind=equipment.kind, serial=equipment.serial)
    return equipment


EQUIPMENT_FIELDS = ["kind", "manufacturer", "model", "serial", "fda_510k", "in_service", "next_maintenance"]


def save_equipment(request, form) -> Equipment:
    """Save an edit if nobody saved the equipment since the editor's version; audit the changed fields.

    Raises EditConflict (nothing written) when the version is stale.
    """
    with transaction.atomic():
        current = Equipment.objects.select_for_update().get(pk=form.instance.pk, clinic=request.clinic)
        if form.cleaned_data.get("version") != current.version:
            raise EditConflict("Someone else changed this equipment while you were editing. "
                               "Your changes were not saved; reload to see the current record.")
        changed = [name for name in EQUIPMENT_FIELDS if getattr(current, name) != form.cleaned_data[name]]
        equipment = form.save(commit=False)
        equipment.version = current.version + 1
        equipment.updated_at = timezone.now()
        _save_checking_serial(form, equipment)
        record(request, Action.UPDATE, equipment, fields=changed, in_service=equipment.in_service)
    return equipment


def _save_checking_serial(form, equipment: Equipment) -> None:
    try:
        with transaction.atomic():
            equipment.save()
    except IntegrityError:
        form.add_error("serial", "Another device of this clinic already has this serial number.")
        raise


# --- Kit lots ------------------------------------------------------------------------


def kit_expiry_status(lot: KitLot, on: date) -> str:
    """``"expired"`` (expiry before `on`), ``"expiring"`` (within 30 days) or ``"current"``."""
    if lot.expiry_date < on:
        return EXPIRED
    if lot.expiry_date <= on + timedelta(days=EXPIRING_WITHIN_DAYS):
        return EXPIRING
    return CURRENT


def kit_lot_problems(lot: KitLot | None, on: date) -> list[str]:
    """Why no kit of this lot may be used on day `on` (empty list: one may).

    Problems: none chosen; quarantined (recalled, not released); expired
    (expiry date before `on`; a lot may be used on its expiry date); out of
    stock. This reads the row as loaded: the decisive check is `take_kit`'s
    conditional update.
    """
    if lot is None:
        return ["No kit lot is selected."]
    problems = []
    if lot.quarantined_at is not None:
        problems.append(f"Kit lot {lot.lot_number} ({lot.product}) is quarantined: {quarantine_label(lot)}. "
                        "A clinic administrator must release it before it is used.")
    if lot.expiry_date < on:
        problems.append(f"Kit lot {lot.lot_number} ({lot.product}) expired on {_iso(lot.expiry_date)}.")
    if lot.quantity_on_hand <= 0:
        problems.append(f"Kit lot {lot.lot_number} ({lot.product}) is out of stock.")
    return problems


def take_kit(lot: KitLot, on: date) -> None:
    """Take one kit of `lot` from stock, for use on day `on`, in the caller's transaction.

    One conditional UPDATE decrements the stock only if the lot (of its
    clinic) still has a kit, has not expired on `on` and is not quarantined::

        UPDATE practice_kitlot SET quantity_on_hand = quantity_on_hand - 1
         WHERE id = %s AND clinic_id = %s AND quantity_on_hand > 0 AND expiry_date >= %s
           AND quarantined_at IS NULL

    The database decides, not a value read earlier: on PostgreSQL a second
    concurrent update waits for the first to commit and re-checks the
    condition on the new row; SQLite serialises writers. So concurrent takes
    never take more kits than there are, and stock never goes negative (the
    table's check constraint guards that too). When no row was updated it
    raises KitUnavailable with the reason; nothing was changed then. If the
    caller's transaction rolls back, the kit is back in stock with it.

    On success `lot.quantity_on_hand` is refreshed from the database.
    """
    updated = KitLot.objects.filter(
        pk=lot.pk, clinic_id=lot.clinic_id, quantity_on_hand__gt=0, expiry_date__gte=on, quarantined_at__isnull=True,
    ).update(quantity_on_hand=F("quantity_on_hand") - 1)
    if updated != 1:
        current = KitLot.objects.filter(pk=lot.pk, clinic_id=lot.clinic_id).first()
        reasons = kit_lot_problems(current, on) if current else []
        raise KitUnavailable(" ".join(reasons) or f"Kit lot {lot.lot_number} ({lot.product}) is not available.")
    lot.refresh_from_db(fields=["quantity_on_hand"])


def find_lot(clinic, product: str, lot_number: str) -> KitLot | None:
    """The clinic's lot of `product` with this lot number, compared by `lot_key` (case and spaces ignored)."""
    return (KitLot.objects.filter(clinic=clinic, product=product, lot_key=lot_key(lot_number))
            .order_by("key_clash", "id").first())


def receive_lot(request, form) -> KitLot:
    """Store a received lot, or add the kits to the lot of that product and number already stocked; audit it.

    A lot number already stocked (compared by `lot_key`: ``abc123`` is ``ABC 123``) gains the kits
    received, keeping the number as first printed; the form has already refused a different expiry
    date for it. Raises IntegrityError (and marks the lot field) when the same lot was created a
    moment ago by someone else.
    """
    data = form.cleaned_data
    existing = find_lot(request.clinic, data["product"], data["lot_number"])
    if existing is not None:
        with transaction.atomic():
            KitLot.objects.filter(pk=existing.pk).update(
                quantity_on_hand=F("quantity_on_hand") + data["quantity_on_hand"])
            existing.refresh_from_db()
            record(request, Action.UPDATE, existing, product=existing.product, lot_number=existing.lot_number,
                   received=data["quantity_on_hand"], lot_number_as_received=data["lot_number"],
                   quantity=existing.quantity_on_hand, expiry_date=_iso(existing.expiry_date))
        existing.received_now = data["quantity_on_hand"]
        return existing
    lot = form.save(commit=False)
    lot.clinic = request.clinic
    try:
        with transaction.atomic():
            lot.save()
            record(request, Action.CREATE, lot, product=lot.product, lot_number=lot.lot_number,
                   quantity=lot.quantity_on_hand, expiry_date=_iso(lot.expiry_date))
    except IntegrityError:
        form.add_error("lot_number", "This lot of this product was entered a moment ago; reload and receive again.")
        raise
    lot.received_now = lot.quantity_on_hand
    return lot


def quarantine_label(lot: KitLot) -> str:
    """"recall on 2026-11-03, manufacturer notice 42" (empty when the lot is not quarantined)."""
    if lot.quarantined_at is None:
        return ""
    return f"recall on {_iso(timezone.localtime(lot.quarantined_at).date())}, {lot.quarantine_reason}"


def quarantine(request, lot_number: str, *, reason: str) -> list[KitLot]:
    """Quarantine every lot of the active clinic with this lot number (any product); audited per lot.

    Lots already quarantined keep their first recall's date and reason. Returns the lots that
    were quarantined now.
    """
    with transaction.atomic():
        lots = list(KitLot.objects.select_for_update().filter(
            clinic=request.clinic, lot_key=lot_key(lot_number), quarantined_at__isnull=True))
        now = timezone.now()
        for lot in lots:
            lot.quarantined_at, lot.quarantine_reason = now, reason
            lot.save(update_fields=["quarantined_at", "quarantine_reason"])
            record(request, Action.UPDATE, lot, quarantined=True, lot_number=lot.lot_number, reason=reason)
    return lots


def release(request, lot: KitLot, *, reason: str) -> KitLot:
    """Release a quarantined lot of the active clinic, with the reason in the audit row."""
    with transaction.atomic():
        current = KitLot.objects.select_for_update().get(pk=lot.pk, clinic=request.clinic)
        if current.quarantined_at is None:
            raise EditConflict(f"Lot {current.lot_number} is not quarantined; there is nothing to release.")
        recalled = quarantine_label(current)
        current.quarantined_at, current.quarantine_reason = None, ""
        current.save(update_fields=["quarantined_at", "quarantine_reason"])
        record(request, Action.UPDATE, current, quarantined=False, lot_number=current.lot_number,
               released_from=recalled, reason=reason)
    return current


def adjust_stock(request, lot: KitLot, *, counted: int, reason: str, seen: int) -> KitLot:
    """Correct a lot's stock to a physical count, with the reason in the audit row.

    `seen` is the quantity the counter's page showed: if kits were taken or
    the stock corrected since, it raises EditConflict and changes nothing.
    """
    if counted < 0:
        raise ValueError("a count is never negative")
    with transaction.atomic():
        current = KitLot.objects.select_for_update().get(pk=lot.pk, clinic_id=lot.clinic_id)
        if current.quantity_on_hand != seen:
            raise EditConflict(f"The stock of this lot changed while you were counting (it is now "
                               f"{current.quantity_on_hand}). Nothing was saved; count again and re-enter it.")
        previous = current.quantity_on_hand
        current.quantity_on_hand = counted
        current.save(update_fields=["quantity_on_hand"])
        record(request, Action.UPDATE, current, previous_quantity=previous, quantity=counted,
               change=counted - previous, reason=reason)
    return current
