"""Reminders for open questionnaires: when a task opens, after 3 days and after 7; at most three.

Sending is idempotent and safe to run concurrently: each step is first claimed
with a conditional UPDATE (only one run can move `reminders_sent` from n),
then sent; the unique (task, number, channel) rows are a second guard.
"""

from dataclasses import dataclass

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from accretion.audit.log import Action, record
from accretion.clinical.followup import REMINDER_DAYS
from accretion.outcomes import services
from accretion.outcomes.models import QuestionnaireTask, Reminder
from accretion.outcomes.sms import send_sms

WORDS = {
    "en": ("Your clinic's follow-up questions", "{clinic}: please answer a few short questions about how you are doing "
           "since your injection: {link} (open until {closes})."),
    "es": ("Preguntas de seguimiento de su clínica", "{clinic}: por favor responda unas preguntas cortas sobre cómo se "
           "siente desde su inyección: {link} (abierto hasta el {closes})."),
}


@dataclass
class Summary:
    tasks: int = 0
    emails: int = 0
    texts: int = 0


def steps_due(task, today) -> int:
    """How many reminder steps have come by `today` (0 before the window opens)."""
    days = (today - task.opens_on).days
    return sum(1 for offset in REMINDER_DAYS if days >= offset)


def due_tasks(today):
    return (QuestionnaireTask.objects.select_related("patient", "clinic")
            .filter(completed_at__isnull=True, opens_on__lte=today, closes_on__gte=today,
                    reminders_sent__lt=len(REMINDER_DAYS)).order_by("id"))


def send_due(today=None) -> Summary:
    today = today or timezone.localdate()
    summary = Summary()
    for task in due_tasks(today).iterator(chunk_size=500):
        target = steps_due(task, today)
        if target <= task.reminders_sent:
            continue
        # Claim the step; a concurrent run that read the same row updates nothing and moves on.
        claimed = QuestionnaireTask.objects.filter(pk=task.pk, reminders_sent=task.reminders_sent).update(
            reminders_sent=target, last_reminder_at=timezone.now())
        if not claimed:
            continue
        summary.tasks += 1
        emails, texts = _send(task, number=target)
        summary.emails += emails
        summary.texts += texts
    return summary


def _send(task, *, number) -> tuple[int, int]:
    patient = task.patient
    language = patient.preferred_language if patient.preferred_language in WORDS else "en"
    subject, body = WORDS[language]
    link = settings.PORTAL_BASE_URL.rstrip("/") + services.link(task)
    text = body.format(clinic=task.clinic.name, link=link, closes=task.closes_on.isoformat())
    sent = {"email": 0, "sms": 0}
    for channel, address in (("email", patient.email), ("sms", patient.phone)):
        if not address:
            continue
        try:
            with transaction.atomic():
                Reminder.objects.create(task=task, number=number, channel=channel)
        except IntegrityError:
            continue  # this step already went out on this channel
        if channel == "email":
            send_mail(subject, text, settings.DEFAULT_FROM_EMAIL, [address])
        else:
            send_sms(address, text)
        sent[channel] += 1
    record(None, Action.EXPORT, task, patient_id=task.patient_id, clinic=task.clinic, reminder=number,
           channels=[c for c, n in sent.items() if n])
    return sent["email"], sent["sms"]
