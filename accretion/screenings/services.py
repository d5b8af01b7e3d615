"""Screening use cases shared by the pages and the API."""

from django.db import transaction
from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef, Q, Subquery
from django.utils import timezone

from accretion.audit.log import Action, record
from accretion.clinical import antithrombotics as holds
from accretion.clinical import screening as rules
from accretion.screenings.models import Decision, ReviewOutcome, Screening, Status
from accretion.screenings.signals import screening_settled


def latest_screening(patient) -> Screening | None:
    """The patient's newest decided screening: the one that counts (a new one supersedes older ones)."""
    return Screening.objects.filter(patient=patient).exclude(status=Status.DRAFT).order_by("-decided_at", "-id").first()


NO_SCREENING = "The patient has no completed screening yet: screen first."


def not_cleared_because(screening: Screening | None) -> str:
    """Why planning, the estimate, the consent and procedure day are closed to the patient ("" when open)."""
    return NO_SCREENING if screening is None else screening.not_cleared_because


def not_cleared(patient) -> str:
    """`not_cleared_because` of the patient's latest screening: why their procedures cannot go ahead ("" if they can)."""
    return not_cleared_because(latest_screening(patient))


# Of procedures annotated by `with_clearance`: those whose patient's latest screening does not clear them.
BLOCKED = (Q(screening_decision__isnull=True) | Q(screening_decision=Decision.INELIGIBLE)
           | (Q(screening_decision=Decision.REVIEW) & ~Q(screening_review=ReviewOutcome.PROCEED)))


def with_clearance(procedures, patient: str = "patient_id"):
    """Procedures annotated with their patient's latest screening (`screening_decision`, `screening_review`,
    None without one) and `blocked`, for lists that show which cannot go ahead without a query per row.
    For a queryset of patients themselves, pass ``patient="pk"``."""
    latest = (Screening.objects.filter(patient=OuterRef(patient)).exclude(status=Status.DRAFT)
              .order_by("-decided_at", "-id"))
    return (procedures.annotate(screening_decision=Subquery(latest.values("decision")[:1]),
                                screening_review=Subquery(latest.values("review_outcome")[:1]))
            .annotate(blocked=ExpressionWrapper(BLOCKED, output_field=BooleanField())))


class ScreeningClosed(Exception):
    """The screening can no longer change in the way asked."""


def save_draft(request, patient, intake: dict, screening: Screening | None = None) -> Screening:
    with transaction.atomic():
        if screening is None:
            screening = Screening.objects.create(
                clinic=patient.clinic, patient=patient, intake=intake, created_by=request.user
            )
            record(request, Action.CREATE, screening, status="draft")
            return screening
        screening = _locked_draft(screening)
        screening.intake = intake
        screening.updated_at = timezone.now()
        screening.version += 1
        screening.save(update_fields=["intake", "updated_at", "version"])
        record(request, Action.UPDATE, screening, status="draft")
        return screening


def store_decision(request, patient, intake: dict, decision: rules.Decision, screening: Screening | None = None) -> Screening:
    """Fix the intake and the rule set's answer on a (new or draft) screening."""
    now = timezone.now()
    fields = {
        "intake": intake,
        "status": Status.DECIDED,
        "decision": decision.decision,
        "findings": [f.to_dict() for f in decision.findings],
        "medication_readings": [m.to_dict() for m in decision.medications],
        "antithrombotics": [a.to_dict() for a in decision.antithrombotics],
        "ruleset": decision.ruleset,
        "decided_at": now,
        "updated_at": now,
    }
    with transaction.atomic():
        if screening is None:
            screening = Screening.objects.create(clinic=patient.clinic, patient=patient, created_by=request.user, **fields)
            action = Action.CREATE
        else:
            screening = _locked_draft(screening)
            for name, value in fields.items():
                setattr(screening, name, value)
            screening.version += 1
            screening.save()
            action = Action.UPDATE
        record(request, action, screening, decision=decision.decision, ruleset=decision.ruleset)
        screening_settled.send(Screening, screening=screening, request=request)
    return screening


def record_review(request, screening: Screening, outcome: str, reasons: dict, plan: dict | None = None) -> Screening:
    """A physician's proceed or do-not-proceed, a reason for every review finding, and, to proceed, a decision
    for each current antithrombotic (``plan``: generic -> continue, or hold with last dose and restart).

    Raises ScreeningClosed (the review cannot be taken) or FieldError (a plan field at fault).
    """
    with transaction.atomic():
        current = Screening.objects.select_for_update().get(pk=screening.pk)
        if current.decision == Decision.INELIGIBLE:
            raise ScreeningClosed("A contraindication cannot be overridden: this screening is not eligible.")
        if not current.needs_review:
            raise ScreeningClosed("This screening has no open review (it is a draft, eligible, or already reviewed).")
        missing = [code for code in (f["code"] for f in current.review_findings) if not (reasons.get(code) or "").strip()]
        if missing:
            raise ScreeningClosed(f"Give a reason for every review finding: {', '.join(missing)}.")
        decisions = ()
        if outcome == ReviewOutcome.PROCEED:
            decisions = holds.parse_plan(plan, current.current_antithrombotics(),
                                         current.procedure_date or timezone.localdate())
        current.status = Status.REVIEWED
        current.review_outcome = ReviewOutcome(outcome)
        current.antithrombotic_plan = [d.to_dict() for d in decisions]
        current.review_reasons = {code: reasons[code].strip() for code in (f["code"] for f in current.review_findings)}
        current.reviewed_by = request.user
        current.reviewed_at = current.updated_at = timezone.now()
        current.version += 1
        current.save()
        record(request, Action.UPDATE, current, review=outcome,
               antithrombotics={d.drug.generic: d.action for d in decisions})
        screening_settled.send(Screening, screening=current, request=request)
    return current


def _locked_draft(screening: Screening) -> Screening:
    current = Screening.objects.select_for_update().get(pk=screening.pk)
    if current.status != Status.DRAFT:
        raise ScreeningClosed("This screening has been decided and can no longer be edited; start a new one.")
    return current


def waiting_for_review_by(screenings, physician):
    """Of `screenings`, those waiting for a physician's review that are `physician`'s to do.

    There is no assignment of screenings to physicians: a screening is theirs when it is the patient's latest,
    its decision is "review", and an open (planned or started) procedure of the patient names them as its
    physician, or no open procedure of the patient names any physician (nobody else's to do either).
    """
    from accretion.procedures.models import Procedure
    from accretion.procedures.models import Status as ProcedureStatus

    newer = (Screening.objects.filter(patient=OuterRef("patient_id")).exclude(status=Status.DRAFT)
             .filter(Q(decided_at__gt=OuterRef("decided_at")) | Q(decided_at=OuterRef("decided_at"), id__gt=OuterRef("id"))))
    open_plans = Procedure.objects.filter(patient=OuterRef("patient_id"),
                                          status__in=(ProcedureStatus.PLANNED, ProcedureStatus.IN_PROGRESS))
    return (screenings.filter(status=Status.DECIDED, decision=Decision.REVIEW).exclude(Exists(newer))
            .filter(Exists(open_plans.filter(physician=physician))
                    | ~Exists(open_plans.filter(physician__isnull=False))))
