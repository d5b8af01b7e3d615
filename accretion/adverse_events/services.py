"""Adverse event use cases: record, judge, report from a patient's safety answers, and read.

Every write runs in one transaction with its audit row.
"""

import re

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from accretion.adverse_events.models import (
    DESCRIPTION_MAX,
    SERIOUS_FROM_GRADE,
    AdverseEvent,
    EventType,
    Grade,
    Outcome,
    Source,
)
from accretion.audit.log import Action, record


class EditConflict(Exception):
    """Someone saved the event since the page was built; nothing was changed."""

    message = ("Someone else saved this adverse event while you were working on it. "
               "Your judgement was not saved; the page now shows the current record.")


def is_serious(grade: int, serious: bool) -> bool:
    return bool(serious) or grade >= SERIOUS_FROM_GRADE


# --- Staff ----------------------------------------------------------------------------


def record_event(request, patient, data: dict) -> AdverseEvent:
    """Create a staff-recorded event for `patient` from validated form data."""
    procedure = data.get("procedure")
    if procedure is not None and (procedure.patient_id != patient.pk or procedure.clinic_id != patient.clinic_id):
        raise ValueError("the procedure belongs to another patient")
    with transaction.atomic():
        event = AdverseEvent.objects.create(
            clinic_id=patient.clinic_id,
            patient=patient,
            procedure=procedure,
            event_type=data["event_type"],
            description=data.get("description", ""),
            ctcae_grade=data["ctcae_grade"],
            serious=is_serious(data["ctcae_grade"], data.get("serious")),
            onset=data["onset"],
            outcome=data["outcome"],
            source=Source.STAFF,
            needs_review=False,
            reported_by=request.user,
        )
        record(request, Action.CREATE, event, source=Source.STAFF, event_type=event.event_type,
               grade=event.ctcae_grade, serious=event.serious)
    return event


def judge(request, event: AdverseEvent, *, relatedness: str, ctcae_grade: int, serious: bool, outcome: str,
          version: int) -> AdverseEvent:
    """A physician's relatedness judgement (and corrections); clears the review flag.

    Raises EditConflict when `version` is not the event's current version.
    """
    with transaction.atomic():
        current = AdverseEvent.objects.select_for_update().get(pk=event.pk)
        if version != current.version:
            raise EditConflict()
        new = {"relatedness": relatedness, "ctcae_grade": ctcae_grade,
               "serious": is_serious(ctcae_grade, serious), "outcome": outcome}
        changes = {name: [getattr(current, name), value] for name, value in new.items()
                   if getattr(current, name) != value}
        for name, value in new.items():
            setattr(current, name, value)
        current.needs_review = False
        current.judged_by = request.user
        current.judged_at = timezone.now()
        current.version += 1
        current.save(update_fields=[*new, "needs_review", "judged_by", "judged_at", "version"])
        record(request, Action.UPDATE, current, judgement=relatedness, changes=changes)
    return current


# --- Patient-reported -----------------------------------------------------------------

SAFETY_QUESTIONS = {
    "fever": "Fever",
    "infection_signs": "Signs of infection at the injection site (redness, warmth, swelling, discharge)",
    "new_weakness_numbness": "New weakness or numbness",
    "bowel_bladder_change": "Change in bowel or bladder control",
    "emergency_visit": "Went to an emergency department",
}
INFECTION_SIGNS = ("fever", "infection_signs")
NEURO_SIGNS = ("new_weakness_numbness", "bowel_bladder_change")
SERIOUS_SIGNS = ("emergency_visit", "bowel_bladder_change")


def _words(value) -> str:
    if value is True:
        return "yes"
    if value is False:
        return "no"
    if value is None or value == "":
        return "not answered"
    return str(value)


def _follow_up_name(key: str) -> str:
    """`2w` -> `2-week`, `3m` -> `3-month`; anything else as given."""
    match = re.fullmatch(r"(\d{1,3})([wm])", key or "")
    if not match:
        return key
    return f"{match[1]}-{'week' if match[2] == 'w' else 'month'}"


def describe_answers(answers: dict, follow_up_key: str) -> str:
    """The patient's answers in plain words, safety questions first."""
    name = _follow_up_name(follow_up_key)
    lines = [f"Reported by the patient on the {name} follow-up questionnaire ({follow_up_key})."]
    lines += [f"{label}: {_words(answers.get(key))}" for key, label in SAFETY_QUESTIONS.items()]
    lines += [f"{key.replace('_', ' ').capitalize()}: {_words(value)}" for key, value in answers.items()
              if key not in SAFETY_QUESTIONS and isinstance(value, (str, int, float, bool, type(None)))]
    text = "\n".join(lines)
    return text if len(text) <= DESCRIPTION_MAX else text[: DESCRIPTION_MAX - 1] + "…"


def report_from_safety_answers(procedure, answers: dict, *, follow_up_key: str) -> AdverseEvent | None:
    """One event for review when any safety answer is yes (exactly True); otherwise None.

    The type is a first guess for the physician: infection for fever or infection signs (checked first: an
    epidural abscess gives both fever and neurological signs), nerve injury for new weakness, numbness or a
    bowel or bladder change, other for an emergency visit alone. Grade 1 is provisional; an emergency visit or
    a bowel or bladder change makes it serious. The onset is the day of the report. Submitting the same
    follow-up again returns the event already created for it.
    """
    yes = {key for key in SAFETY_QUESTIONS if answers.get(key) is True}
    if not yes:
        return None
    if yes & set(INFECTION_SIGNS):
        event_type = EventType.INFECTION
    elif yes & set(NEURO_SIGNS):
        event_type = EventType.NERVE_INJURY
    else:
        event_type = EventType.OTHER
    existing = _existing_report(procedure, follow_up_key)
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            event = AdverseEvent.objects.create(
                clinic_id=procedure.clinic_id,
                patient_id=procedure.patient_id,
                procedure=procedure,
                event_type=event_type,
                description=describe_answers(answers, follow_up_key),
                ctcae_grade=Grade.MILD,
                serious=bool(yes & set(SERIOUS_SIGNS)),
                onset=timezone.localdate(),
                outcome=Outcome.UNKNOWN,
                source=Source.PATIENT_REPORT,
                follow_up_key=follow_up_key,
                needs_review=True,
                reported_by=None,
            )
            record(None, Action.CREATE, event, clinic=procedure.clinic, source="patient_report",
                   follow_up_key=follow_up_key, answers_yes=sorted(yes))
    except IntegrityError:
        # The same follow-up was submitted twice at once: the other submission's event stands.
        existing = _existing_report(procedure, follow_up_key)
        if existing is None:
            raise
        return existing
    return event


def _existing_report(procedure, follow_up_key):
    return AdverseEvent.objects.filter(procedure=procedure, follow_up_key=follow_up_key,
                                       source=Source.PATIENT_REPORT).first()


# --- Reading --------------------------------------------------------------------------


def for_patient(patient) -> list[AdverseEvent]:
    """The patient's events, newest onset first, in one query (for the timeline)."""
    return list(AdverseEvent.objects.filter(patient=patient, clinic_id=patient.clinic_id)
                .select_related("procedure", "judged_by").order_by("-onset", "-id"))


def serious_unjudged(queryset):
    """Serious events no physician has judged yet: the alert on the clinic's list."""
    return queryset.filter(serious=True, relatedness="")


def serious_unjudged_for(queryset, physician):
    """The serious unjudged events that are `physician`'s to judge. Events have no assignee: an event is theirs
    when its procedure names them as the physician, or when nobody is named (no procedure, or no physician)."""
    return serious_unjudged(queryset).filter(Q(procedure__physician=physician) | Q(procedure__isnull=True)
                                             | Q(procedure__physician__isnull=True))
