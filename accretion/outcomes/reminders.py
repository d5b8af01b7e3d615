"""Reminders for open questionnaires: when a task opens, after 3 days and after 7; at most three.

Sending is idempotent and safe to run concurrently: each step is first claimed
with a conditional UPDATE (only one run can move `reminders_sent` from n),
then sent; the unique (task, number, channel) rows are a second guard.
"""

from dataclasses import dataclass, field

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from accretion.audit.log import Action, record
from accretion.cli.base import one_line
from accretion.clinical.followup import REMINDER_DAYS
from accretion.outcomes import services
from accretion.outcomes.models import QuestionnaireTask, Reminder
from accretion.outcomes.sms import send_sms

WORDS = {
    "en": ("Your clinic's follow-up questions", ("{clinic}: please answer a few short questions about how you are doing "
           "since your injection: {link} (open until {closes}).")),
    "es": ("Preguntas de seguimiento de su clínica", ("{clinic}: por favor responda unas preguntas cortas sobre cómo se "
           "siente desde su inyección: {link} (abierto hasta el {closes}).")),
}


class DeliveryFailed(RuntimeError):
    """Some reminders could not be delivered (their claims were given back for the next run)."""


@dataclass
class Summary:
    tasks: int = 0
    emails: int = 0
    texts: int = 0
    failures: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Sent:
    emails: int
    texts: int
    failed: dict[str, str]  # channel -> the error, on one line


def steps_due(task, today) -> int:
    """How many reminder steps have come by `today` (0 before the window opens)."""
    days = (today - task.opens_on).days
    return sum(1 for offset in REMINDER_DAYS if days >= offset)


def due_tasks(today):
    return (QuestionnaireTask.objects.select_related("patient", "clinic")
            .filter(completed_at__isnull=True, cancelled_at__isnull=True, opens_on__lte=today, closes_on__gte=today,
                    reminders_sent__lt=len(REMINDER_DAYS)).order_by("id"))


def send_due(today=None) -> Summary:
    today = today or timezone.localdate()
    summary = Summary()
    for task in due_tasks(today).iterator(chunk_size=500):
        sent = remind(task, today)
        if sent is None:
            continue
        summary.tasks += 1 if sent.emails or sent.texts else 0
        summary.emails += sent.emails
        summary.texts += sent.texts
        summary.failures.extend(f"task {task.pk} {channel}: {error}" for channel, error in sent.failed.items())
    return summary


def remind(task, today) -> "Sent | None":
    """Send the task's reminder step due `today`, unless another run has already claimed it.

    `task` may be stale (read before a concurrent run claimed the step): the claim
    is a conditional UPDATE on the `reminders_sent` value read, so only one run
    moves it on. Returns what was sent, or None when there was nothing to send.
    When a channel fails (the mail server is down), the step is given back and
    the next run retries that channel only. A run killed between claiming and
    sending loses that step: a patient may miss a reminder, never gets two.
    """
    target = steps_due(task, today)
    if target <= task.reminders_sent:
        return None
    claimed = QuestionnaireTask.objects.filter(pk=task.pk, reminders_sent=task.reminders_sent,
                                               cancelled_at__isnull=True).update(
        reminders_sent=target, last_reminder_at=timezone.now())
    if not claimed:
        return None
    return _send(task, number=target, previous=task.reminders_sent)


def _send(task, *, number, previous) -> tuple[int, int]:
    patient = task.patient
    language = patient.preferred_language if patient.preferred_language in WORDS else "en"
    subject, body = WORDS[language]
    link = settings.PORTAL_BASE_URL.rstrip("/") + services.link(task)
    text = body.format(clinic=task.clinic.name, link=link, closes=task.closes_on.isoformat())
    sent, failed = {"email": 0, "sms": 0}, {}
    for channel, address in (("email", patient.email), ("sms", patient.phone)):
        if not address:
            continue
        try:
            with transaction.atomic():
                row = Reminder.objects.create(task=task, number=number, channel=channel)
        except IntegrityError:
            continue  # this step already went out on this channel
        try:
            if channel == "email":
                send_mail(subject, text, settings.DEFAULT_FROM_EMAIL, [address])
            else:
                send_sms(address, text)
        except Exception as error:  # noqa: BLE001 - any backend's failure; reported, retried next run
            row.delete()
            failed[channel] = one_line(f"{type(error).__name__}: {error}")
            continue
        sent[channel] += 1
        # The patient's contact and link left the portal on this channel: one row per message that went out.
        record(None, Action.EXPORT, task, patient_id=task.patient_id, clinic=task.clinic, reminder=number,
               channel=channel)
    if failed:
        # Give the step back so that the next run retries it; the channels that went out keep their rows
        # and are not sent again.
        QuestionnaireTask.objects.filter(pk=task.pk, reminders_sent=number).update(reminders_sent=previous)
    return Sent(sent["email"], sent["sms"], failed)
