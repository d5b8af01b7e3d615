"""Demonstration training records, equipment and kit lots for one clinic. Safe to run again."""

from datetime import date, timedelta

from django.db import transaction

from accretion.clinical.aftercare import add_months
from accretion.clinics.roles import CLINIC_ADMIN, NURSE, PHYSICIAN, PREP_TECH
from accretion.practice.models import REQUIRED_MODULES, Equipment, Kind, KitLot, TrainingRecord

TRAINED_ROLES = (PHYSICIAN, NURSE, PREP_TECH)
# (role, module) whose training runs out soon, so the training page has something to show.
EXPIRING_SOON = (NURSE, "emergency_protocols")
EXPIRING_IN_DAYS = 18


def _devices(clinic, today):
    prefix = clinic.slug.upper()[:3]
    maintenance = add_months(today, 3)
    return [
        {"kind": Kind.CENTRIFUGE, "manufacturer": "Harvest Technologies", "model": "SmartPReP 2",
         "serial": f"{prefix}-SP2-0417", "fda_510k": "K123456", "in_service": True, "next_maintenance": maintenance},
        {"kind": Kind.FLUOROSCOPY, "manufacturer": "GE HealthCare", "model": "OEC 3D C-arm",
         "serial": f"{prefix}-OEC-2231", "fda_510k": "", "in_service": True, "next_maintenance": add_months(today, 5)},
        {"kind": Kind.ULTRASOUND, "manufacturer": "Butterfly Network", "model": "iQ3",
         "serial": f"{prefix}-BIQ-0958", "fda_510k": "", "in_service": True, "next_maintenance": add_months(today, 7)},
    ]


def _lots(clinic, today):
    prefix = clinic.slug.upper()[:1]
    return [
        {"product": "Angel cPRP processing set", "manufacturer": "Arthrex", "lot_number": f"{prefix}24A117",
         "expiry_date": today + timedelta(days=21), "quantity_on_hand": 3, "received_on": today - timedelta(days=160)},
        {"product": "Angel cPRP processing set", "manufacturer": "Arthrex", "lot_number": f"{prefix}25C042",
         "expiry_date": add_months(today, 14), "quantity_on_hand": 12, "received_on": today - timedelta(days=20)},
        {"product": "GPS III platelet separation kit", "manufacturer": "Zimmer Biomet",
         "lot_number": f"{prefix}7731-09",
         "expiry_date": add_months(today, 8), "quantity_on_hand": 0, "received_on": today - timedelta(days=90)},
    ]


def load_demo(clinic, members: dict, today: date) -> None:
    """Demo practice data for `clinic`; `members` maps a role to the clinic's demo user of that role.

    Current training in the required modules for the physician, nurse and
    preparation technician (the nurse's emergency protocols run out within 30
    days), one centrifuge, one fluoroscope, one ultrasound unit and three kit
    lots (one near expiry, one out of stock). Rows that exist are left alone.
    Like the demo price list, these seed rows are not audited: the audit log
    starts with what people do.
    """
    verifier = members.get(CLINIC_ADMIN) or next(iter(members.values()), None)
    with transaction.atomic():
        if verifier is not None:
            for role in TRAINED_ROLES:
                user = members.get(role)
                if user is None:
                    continue
                for index, module in enumerate(REQUIRED_MODULES):
                    if TrainingRecord.objects.filter(clinic=clinic, user=user, module=module).exists():
                        continue
                    if (role, module) == EXPIRING_SOON:
                        expires = today + timedelta(days=EXPIRING_IN_DAYS)
                        completed = add_months(expires, -12)
                    else:
                        completed = today - timedelta(days=40 + 25 * index + 10 * TRAINED_ROLES.index(role))
                        expires = TrainingRecord.default_expiry(completed)
                    TrainingRecord.objects.create(clinic=clinic, user=user, module=module, completed_on=completed,
                                                  expires_on=expires, verified_by=verifier)
        for values in _devices(clinic, today):
            Equipment.objects.get_or_create(clinic=clinic, serial=values["serial"], defaults=values)
        for values in _lots(clinic, today):
            KitLot.objects.get_or_create(clinic=clinic, product=values["product"], lot_number=values["lot_number"],
                                         defaults=values)
