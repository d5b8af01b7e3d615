"""Demo procedures planned for the day the demo is loaded, so the start page has a day's schedule to show.

Four procedures today in the clinic's two rooms (one without a time yet, as
happens), and one two days later for the week page. Idempotent within a day:
a clinic whose demo patients already have today's plans is left alone.
Loaded again on a later day, the demo cancels its own plans that were never
started (with a reason) and plans the days afresh.
Each patient has a decided, eligible screening, so the day can be walked
through from the consent to the signature. Nothing here is clinical data.
"""

from datetime import datetime, time, timedelta

from django.utils import timezone

from accretion.audit.log import Action, record
from accretion.clinical.screening import DEFAULT_PROTOCOL
from accretion.outcomes.services import cancel_tasks, schedule_baseline
from accretion.procedures.models import Procedure, Status
from accretion.screenings.models import Screening

ROOMS = ["Procedure room 1", "Procedure room 2"]
# (days from today, start, minutes, room index, region, targets, levels)
TODAY = [(0, time(8, 30), 45, 0, "lumbar", ["facet_joint"], ["L4-L5", "L5-S1"]),
         (0, time(9, 30), 30, 1, "cervical", ["facet_joint"], ["C5-C6"]),
         (0, time(10, 15), 30, 0, "lumbar", ["interspinous_ligament"], ["L3-L4"]),
         (0, None, 30, None, "thoracic", ["paraspinal_muscle"], ["T7-T8"]),
         (2, time(9, 0), 60, 1, "lumbar", ["facet_joint", "thoracolumbar_fascia"], ["L4-L5"])]


def load_demo(clinic, members: dict, patients: list, today) -> int:
    if not clinic.rooms:
        clinic.rooms = list(ROOMS)
        clinic.save(update_fields=["rooms"])
    todays = [patient for patient, plan in zip(patients, TODAY) if plan[0] == 0]
    if Procedure.objects.filter(clinic=clinic, patient__in=todays, status=Status.PLANNED, planned_date=today).exists():
        return 0
    now = timezone.now()
    # Plans of an earlier load never started (an earlier day, or a later one): the days are planned afresh.
    for stale in Procedure.objects.filter(clinic=clinic, patient__in=patients, status=Status.PLANNED):
        stale.status, stale.cancelled_at = Status.CANCELLED, now
        stale.cancel_reason = f"Demo data loaded again on {today:%Y-%m-%d}: the day is planned afresh."
        stale.version += 1
        stale.save(update_fields=["status", "cancelled_at", "cancel_reason", "version"])
        record(None, Action.UPDATE, stale, clinic=clinic, source="demo", status=stale.status)
        cancel_tasks(stale, f"The procedure was cancelled: {stale.cancel_reason}")
    nurse = members["nurse"]
    decided = timezone.make_aware(datetime.combine(today - timedelta(days=10), time(10, 0)))
    rooms = clinic.rooms
    for patient, (days, start, minutes, room, region, targets, levels) in zip(patients, TODAY):
        if not Screening.objects.filter(patient=patient, decision="eligible").exists():
            screening = Screening.objects.create(
                clinic=clinic, patient=patient, created_by=nurse, status="decided", decision="eligible",
                findings=[], intake={"age": 55, "region": region, "diagnoses": ["facet_oa"],
                                     "planned_targets": targets},
                ruleset=DEFAULT_PROTOCOL.ruleset, decided_at=decided)
            record(None, Action.CREATE, screening, clinic=clinic, source="demo")
        procedure = Procedure.objects.create(
            clinic=clinic, patient=patient, planned_date=today + timedelta(days=days), start_time=start,
            duration_minutes=minutes, room=rooms[room % len(rooms)] if room is not None else "", region=region,
            targets=targets, levels=levels, created_by=nurse, physician=members["physician"],
            prep_tech=members["prep_tech"])
        record(None, Action.CREATE, procedure, clinic=clinic, source="demo")
        schedule_baseline(procedure)
    return len(TODAY)
