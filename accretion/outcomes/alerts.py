"""Alerting the clinic at once when a submitted safety answer has a red flag.

The alert is a background task (accretion/jobs) enqueued in the submission's
own transaction: answers that were not stored ask for nothing, stored ones are
never left without their alert, and the patient's page does not wait for the
mail server. It goes out by e-mail and by text message, to the
clinic's on-call contact (Clinic.on_call_email, on_call_phone); without an
on-call e-mail, the e-mail goes to the clinic administrators. It names no
patient (no name, date of birth, MRN or phone): the clinic, the urgency, the
red flags and a link to the adverse event (or the procedure) by id; staff sign
in to see who.

Each message sent is an ALERT_SENT audit row; a backend failure, or no one
to send to, is an ALERT_FAILED row, and the adverse event page shows it to
staff. A channel with a row for the submission is never sent again, so one
submission gives one alert per channel.
"""

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.urls import reverse
from django_tasks import task

from accretion.audit.log import Action, record
from accretion.audit.models import AuditEvent
from accretion.cli.base import one_line
from accretion.clinical import red_flags
from accretion.clinics.models import Membership
from accretion.clinics.roles import CLINIC_ADMIN
from accretion.outcomes.models import Mode, QuestionnaireTask
from accretion.outcomes.sms import send_sms

logger = logging.getLogger(__name__)

URGENCY_WORDS = {
    red_flags.EMERGENCY: ("EMERGENCY", ("the patient was told to go to an emergency department now (possible "
                                        "cauda equina syndrome, epidural abscess or spinal hematoma)")),
    red_flags.CALL_CLINIC: ("Call the patient today", "the patient was told to call the clinic now (possible infection)"),
}
HOW = {Mode.PATIENT_LINK: "answered by the patient on the questionnaire link",
       Mode.PHONE: "entered by staff from a phone call", Mode.IN_PERSON: "entered by staff in person"}


def schedule(task, assessment: red_flags.Assessment, event=None, *, mode: str) -> None:
    """Queue the alert, in the current transaction (the worker sends it once that commits)."""
    if not assessment:
        return
    send_red_flag_alert.enqueue(task.pk, list(assessment.flags), getattr(event, "pk", None), mode)


def _target(task, event_id):
    """The object the alert is about and the portal link to it."""
    if event_id is not None:
        from accretion.adverse_events.models import AdverseEvent

        event = AdverseEvent.objects.filter(pk=event_id).first()
        if event is not None:
            return event, reverse("adverse_events:detail", args=[event.pk])
    return task, reverse("procedures:detail", args=[task.procedure_id])


def admin_emails(clinic) -> list[str]:
    """The e-mail addresses of the clinic's administrators (active accounts), sorted."""
    members = Membership.objects.filter(clinic=clinic, role=CLINIC_ADMIN, user__is_active=True).select_related("user")
    addresses = {(m.user.email or (m.user.username if "@" in m.user.username else "")).strip().lower()
                 for m in members}
    return sorted(address for address in addresses if address)


def recipients(clinic) -> list[tuple[str, str, list[str]]]:
    """(channel, recipient kind, addresses) for each channel the alert goes out on."""
    email = ("email", "on_call", [clinic.on_call_email]) if clinic.on_call_email else (
        "email", "clinic_admins", admin_emails(clinic))
    result = [email]
    if clinic.on_call_phone:
        result.append(("sms", "on_call", [clinic.on_call_phone]))
    return result


def compose(clinic, assessment: red_flags.Assessment, *, link: str, time_point: str, mode: str):
    """(subject, e-mail body, SMS text): the clinic, the urgency, the flags and the link, no patient identifier."""
    short, meaning = URGENCY_WORDS[assessment.urgency]
    flags = "; ".join(assessment.labels())
    subject = f"{short}: red flag reported to {clinic.name}"
    body = "\n".join([
        (f"{clinic.name}: a patient reported red flags in the {time_point} follow-up safety questions "
         f"({HOW.get(mode, mode)})."),
        "",
        f"Urgency: {short.lower() if assessment.urgency == red_flags.EMERGENCY else short}: {meaning}.",
        f"Red flags: {flags}.",
        "",
        f"Sign in to see who and call the patient back: {link}",
        "",
        "This message names no patient on purpose.",
    ])
    sms = f"{clinic.name}: {short} - red flag reported ({flags}). Sign in: {link}"
    return subject, body, sms


def _attempted(target) -> set[str]:
    rows = AuditEvent.objects.filter(object_type=target._meta.label_lower, object_id=str(target.pk),
                                     action__in=[Action.ALERT_SENT, Action.ALERT_FAILED])
    return {row.detail.get("channel") for row in rows}


def send(task_id: int, flags, *, event_id=None, mode: str = Mode.PATIENT_LINK) -> dict[str, str]:
    """Alert the clinic about the task's red flags; returns channel -> "sent", "failed" or "skipped".

    Never raises for a sending failure: the patient's answers are stored and the patient has seen the advice.
    """
    task = QuestionnaireTask.objects.select_related("clinic").get(pk=task_id)
    clinic = task.clinic
    assessment = red_flags.assess(dict.fromkeys(flags, True))
    target, path = _target(task, event_id)
    link = settings.PORTAL_BASE_URL.rstrip("/") + path
    subject, body, sms = compose(clinic, assessment, link=link, time_point=task.time_point, mode=mode)
    detail = {"urgency": assessment.urgency, "flags": list(assessment.flags), "task_id": task.pk}
    done = _attempted(target)
    result = {}
    for channel, kind, addresses in recipients(clinic):
        if channel in done:
            result[channel] = "skipped"
            continue
        if not addresses:
            record(None, Action.ALERT_FAILED, target, clinic=clinic, channel=channel, recipient="none",
                   error="no on-call contact and no clinic administrator with an e-mail address", **detail)
            result[channel] = "failed"
            continue
        try:
            if channel == "email":
                send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, addresses)
            else:
                send_sms(addresses[0], sms)
        except Exception as error:  # any backend's failure: audited and shown on the adverse event
            logger.exception("red flag alert by %s failed for task %s", channel, task.pk)
            record(None, Action.ALERT_FAILED, target, clinic=clinic, channel=channel, recipient=kind,
                   error=one_line(f"{type(error).__name__}: {error}")[:200], **detail)
            result[channel] = "failed"
            continue
        record(None, Action.ALERT_SENT, target, clinic=clinic, channel=channel, recipient=kind,
               recipients=len(addresses), **detail)
        result[channel] = "sent"
    return result


@task(priority=50)
def send_red_flag_alert(task_id: int, flags: list[str], event_id: int | None, mode: str) -> dict[str, str]:
    """The background task that sends the alert (`schedule` enqueues it in the submission's transaction)."""
    return send(task_id, flags, event_id=event_id, mode=mode)


def failures(target) -> list[AuditEvent]:
    """The alerts about `target` that could not be sent, oldest first (shown to staff on the adverse event)."""
    return list(AuditEvent.objects.filter(object_type=target._meta.label_lower, object_id=str(target.pk),
                                          action=Action.ALERT_FAILED).order_by("id"))
