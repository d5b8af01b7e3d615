"""Questionnaire tasks: what a patient is asked at baseline and at each follow-up, and the answers.

A task has a window (it opens before and closes after its due date). The
patient reaches it through a link whose token is never stored: the link is
`HMAC(SECRET_KEY, task id + nonce)` and the table keeps only its SHA-256 for
lookup, so a database copy alone cannot open anyone's form, and reminders can
re-send the same link.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone

from accretion.clinics.models import Clinic
from accretion.patients.models import Patient
from accretion.procedures.models import Procedure


class Mode(models.TextChoices):
    PATIENT_LINK = "patient_link", "Patient, by secure link"
    PHONE = "phone", "Staff, from a phone call"
    IN_PERSON = "in_person", "Staff, in person"


class QuestionnaireTask(models.Model):
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="questionnaire_tasks")
    procedure = models.ForeignKey(Procedure, on_delete=models.PROTECT, related_name="questionnaire_tasks")
    time_point = models.CharField(max_length=10)  # "baseline", "2w", "6w", "3m", ...
    due = models.DateField()
    opens_on = models.DateField()
    closes_on = models.DateField()
    instruments = models.JSONField(default=list)
    nonce = models.CharField(max_length=32)
    token_digest = models.CharField(max_length=64, unique=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    mode = models.CharField(max_length=14, choices=Mode.choices, blank=True)
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+")
    reminders_sent = models.PositiveSmallIntegerField(default=0)
    last_reminder_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["due", "id"]
        constraints = [models.UniqueConstraint(fields=["procedure", "time_point"], name="one_task_per_time_point")]
        indexes = [models.Index(fields=["clinic", "completed_at", "closes_on"], name="task_worklist"),
                   models.Index(fields=["completed_at", "opens_on"], name="task_reminders")]

    def __str__(self):
        return f"{self.time_point} questionnaire of procedure {self.procedure_id}"

    def state(self, today) -> str:
        if self.completed_at:
            return "completed"
        if today < self.opens_on:
            return "not_open"
        if today > self.closes_on:
            return "expired"
        return "open"


class QuestionnaireResponse(models.Model):
    """One instrument's answers within a task; saved partially until the task is submitted."""

    task = models.ForeignKey(QuestionnaireTask, on_delete=models.PROTECT, related_name="responses")
    instrument = models.CharField(max_length=20)
    answers = models.JSONField(default=dict)
    score = models.JSONField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["task", "instrument"], name="one_response_per_instrument")]

    @property
    def patient_id(self):
        return self.task.patient_id


class Reminder(models.Model):
    """A reminder sent (or attempted) for a task: the record that makes sending idempotent."""

    task = models.ForeignKey(QuestionnaireTask, on_delete=models.PROTECT, related_name="reminders")
    number = models.PositiveSmallIntegerField()
    channel = models.CharField(max_length=10)  # email, sms
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["task", "number", "channel"], name="one_reminder_per_step")]
