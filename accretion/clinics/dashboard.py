"""The clinic's start page: what needs someone's attention today.

Signing in lands here. Each section is shown to the roles that hold its
permission, and each links to the page where the work is done:

- Safety (`patient.view`): serious adverse events no physician has judged
  yet (the alert a clinic administrator sees first), and problems patients
  reported in their follow-up answers that staff have not reviewed.
- Procedures (`patient.view`): today's schedule, by start time, one list or
  per room or per physician (`?by=time|room|physician`; another value shows
  the default with a note), overlapping bookings marked; the records
  completed and waiting for the physician's signature, plans for an earlier day that were never
  finished (to finish, or cancel with a reason), and plans blocked because
  the patient's latest screening no longer clears them.
- For your review (physicians): screenings waiting for their review and
  serious adverse events waiting for their judgement (see
  screenings.services.waiting_for_review_by and
  adverse_events.services.serious_unjudged_for for whose they are).
- Follow-up (`outcomes.record`): questionnaires past their due date, still
  open and unanswered: the patients to call.
- Practice (`practice.view`): clinical staff whose training is expired,
  missing or expiring; equipment that may not be used; kit lots in stock that
  are quarantined (recalled, not yet released), expired or expiring, and
  whether any kit can be used today at all.

Every list is capped and counted in the database, so the page's query count
does not grow with the clinic's data. The patients it names are audited as
one list read.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from accretion.adverse_events import services as adverse_events
from accretion.adverse_events.models import AdverseEvent
from accretion.audit.log import Action, record
from accretion.clinics.models import Membership
from accretion.clinics.people import staff_name
from accretion.clinics.roles import NURSE, PHYSICIAN, PREP_TECH, role_has
from accretion.clinics.tenancy import clinic_objects, requires
from accretion.outcomes import services as outcomes
from accretion.outcomes.models import QuestionnaireTask
from accretion.practice import services as practice
from accretion.practice.models import Equipment, KitLot
from accretion.procedures import schedule
from accretion.procedures.models import Procedure, Status
from accretion.screenings.models import Screening
from accretion.screenings.services import BLOCKED, waiting_for_review_by, with_clearance

SHOWN = 8  # rows of each list; the rest are counted and one link away
DAY_SHOWN = 50  # today's schedule; the rest are counted and on the printed day list
CLINICAL_ROLES = (PHYSICIAN, NURSE, PREP_TECH)
NOT_CANCELLED = [status for status in Status.values if status != Status.CANCELLED]  # an IN list the index serves


@dataclass(frozen=True)
class Capped:
    """The first rows of a list and how many there are in all."""

    rows: list
    total: int

    @property
    def more(self) -> int:
        return self.total - len(self.rows)


def capped(queryset, size: int = SHOWN) -> Capped:
    return Capped(list(queryset[:size]), queryset.count())


def _first(rows: list, size: int = SHOWN) -> Capped:
    """The same cap for a list made in Python (a clinic's staff, devices or expiring lots: tens of rows)."""
    return Capped(rows[:size], len(rows))


@dataclass(frozen=True)
class Problem:
    text: str
    status: str  # "expired", "expiring", "missing", "quarantined" or "problem": the colour of its mark and its word


def _safety(request) -> dict:
    events = clinic_objects(request, AdverseEvent).select_related("patient")
    return {
        "serious": capped(adverse_events.serious_unjudged(events).order_by("created_at", "id")),
        "to_review": events.filter(needs_review=True).count(),
    }


def _procedures(request, today) -> dict:
    procedures = clinic_objects(request, Procedure).select_related("patient", "physician")
    return {
        "today": capped(schedule.by_start(with_clearance(procedures.filter(planned_date=today,
                                                                           status__in=NOT_CANCELLED))), size=DAY_SHOWN),
        # Planned, but the patient's latest screening no longer clears them: to rescreen, review or cancel.
        "blocked": capped(with_clearance(procedures.filter(status=Status.PLANNED)).filter(BLOCKED)
                          .order_by("planned_date", "id")),
        "to_sign": capped(procedures.filter(status=Status.COMPLETED).order_by("completed_at", "id")),
        "unfinished": capped(procedures.filter(status__in=(Status.PLANNED, Status.IN_PROGRESS),
                                               planned_date__lt=today).order_by("planned_date", "id")),
    }


def _for_review(request) -> dict:
    """The physician's own work: screenings to review and serious events to judge."""
    screenings = clinic_objects(request, Screening).select_related("patient")
    events = clinic_objects(request, AdverseEvent).select_related("patient")
    return {
        "screenings": capped(waiting_for_review_by(screenings, request.user).order_by("decided_at", "id")),
        "events": capped(adverse_events.serious_unjudged_for(events, request.user).order_by("created_at", "id")),
    }


def _training_problems(request, today) -> list[Problem]:
    members = clinic_objects(request, Membership).filter(role__in=CLINICAL_ROLES).select_related("user")
    modules = practice.module_names(request.clinic)
    problems = []
    for row in practice.training_matrix(members.order_by("user__username"), modules, request.clinic, today):
        who = staff_name(row.membership.user)
        for (code, name), cell in zip(modules.items(), row.cells):
            if cell.status == practice.MISSING:
                problems.append(Problem(f"{who}: no {name} training on record", cell.status))
            elif cell.status == practice.EXPIRED:
                problems.append(Problem(f"{who}: {name} expired on {cell.record.expires_on:%Y-%m-%d}", cell.status))
            elif cell.status == practice.EXPIRING:
                problems.append(Problem(f"{who}: {name} expires on {cell.record.expires_on:%Y-%m-%d}", cell.status))
    order = {practice.EXPIRED: 0, practice.MISSING: 1, practice.EXPIRING: 2}
    return sorted(problems, key=lambda problem: order[problem.status])


def _practice(request, today) -> dict:
    equipment = [Problem(text, "problem") for device in clinic_objects(request, Equipment)
                 for text in practice.equipment_problems(device, today)]
    lots = clinic_objects(request, KitLot).filter(quantity_on_hand__gt=0)
    soon = today + timedelta(days=practice.EXPIRING_WITHIN_DAYS)
    kits = [Problem(f"{lot.product}, lot {lot.lot_number}: {lot.quantity_on_hand} on hand, quarantined "
                    f"({practice.quarantine_label(lot)}) until a clinic administrator releases it", "quarantined")
            for lot in lots.filter(quarantined_at__isnull=False).order_by("quarantined_at", "product", "lot_number")]
    for lot in (lots.filter(expiry_date__lte=soon, quarantined_at__isnull=True)
                .order_by("expiry_date", "product", "lot_number")):
        status = practice.kit_expiry_status(lot, today)
        verb = "expired" if status == practice.EXPIRED else "expires"
        kits.append(Problem(f"{lot.product}, lot {lot.lot_number}: {lot.quantity_on_hand} on hand, "
                            f"{verb} {lot.expiry_date:%Y-%m-%d}", status))
    return {"training": _first(_training_problems(request, today)), "equipment": _first(equipment),
            "kits": _first(kits), "usable_kits": lots.filter(expiry_date__gte=today, quarantined_at__isnull=True).exists(),
            "window": practice.EXPIRING_WITHIN_DAYS}


def _patients_named(sections: dict) -> list[int]:
    ids = set()
    for capped_list in (sections.get("safety", {}).get("serious"), *sections.get("procedures", {}).values(),
                        *sections.get("review", {}).values()):
        if capped_list is not None:
            ids.update(row.patient_id for row in capped_list.rows)
    return sorted(ids)


@require_GET
@requires("patient.view")
def dashboard(request):
    today = timezone.localdate()
    sections = {"safety": _safety(request), "procedures": _procedures(request, today)}
    by, by_message = schedule.parse_view(request.GET.get("by"))
    day_rows = sections["procedures"]["today"].rows
    schedule.mark_overlaps(day_rows)
    if role_has(request.role, "screening.review"):
        sections["review"] = _for_review(request)
    if role_has(request.role, "outcomes.record"):
        overdue = outcomes.overdue(clinic_objects(request, QuestionnaireTask), today)
        sections["follow_up"] = {"overdue": overdue.count(),
                                 "closing": overdue.filter(closes_on__lte=today + timedelta(days=3)).count()}
    if role_has(request.role, "practice.view"):
        sections["practice"] = _practice(request, today)
    patients = _patients_named(sections)
    if patients:
        record(request, Action.LIST, object_type="clinic.dashboard", ids=patients)
    context = {"today": today, "by": by, "by_message": by_message, "views": schedule.VIEWS,
               "day_groups": schedule.group(day_rows, by, request.clinic.rooms), **sections}
    return render(request, "clinics/dashboard.html", context)

