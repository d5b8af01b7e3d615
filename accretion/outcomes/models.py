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


# The states of a questionnaire task (QuestionnaireTask.state) and the words pages show for them.
TASK_STATES = {
    "not_open": "not open yet",
    "open": "open",
    "completed": "completed",
    "expired": "expired",
    "cancelled": "cancelled",
}


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
    # Closed before it was answered: the procedure was cancelled, or a later screening ruled the patient out.
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=300, blank=True)
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
        """One of TASK_STATES (its words: TASK_STATES[state])."""
        if self.completed_at:
            return "completed"
        if self.cancelled_at:
            return "cancelled"
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


class OutcomeRow(models.Model):
    """The outcome summary: one row per signed procedure and time point (baseline and each follow-up).

    Rebuilt by `accretion.outcomes.summary.refresh(procedure)` in the same
    transaction that stores a response or signs the procedure, so the outcomes
    page and its exports aggregate this one table (GROUP BY clinic, time point
    and one stratum) instead of reading questionnaires.

    Scores are those of submitted questionnaires only. A change is baseline
    minus follow-up (improvement is positive) and a responder flag follows
    `accretion.clinical.instruments.change`; both are NULL without a scored
    baseline and follow-up. The strata are copied from the procedure, the
    screening that cleared it and the baseline questionnaire.
    """

    # No index of their own for clinic and procedure (the composite indexes below start with them) nor for the
    # physician (never looked up): fewer indexes to write on every refresh.
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+", db_index=False)
    procedure = models.ForeignKey(Procedure, on_delete=models.PROTECT, related_name="outcome_rows", db_index=False)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    procedure_date = models.DateField()
    time_point = models.CharField(max_length=10)
    due = models.DateField()
    closes_on = models.DateField()  # the questionnaire's last day: counted as missed only after it
    completed = models.BooleanField(default=False)
    nrs = models.SmallIntegerField(null=True, blank=True)
    odi = models.FloatField(null=True, blank=True)
    ndi = models.FloatField(null=True, blank=True)
    pgic = models.SmallIntegerField(null=True, blank=True)
    nrs_change = models.SmallIntegerField(null=True, blank=True)
    nrs_responder = models.BooleanField(null=True, blank=True)
    odi_change = models.FloatField(null=True, blank=True)
    odi_responder = models.BooleanField(null=True, blank=True)
    ndi_change = models.FloatField(null=True, blank=True)
    ndi_responder = models.BooleanField(null=True, blank=True)
    # Strata, the same on every row of a procedure.
    region = models.CharField(max_length=10)
    indication = models.CharField(max_length=40)  # first supported diagnosis, "other", or "unknown" (no screening)
    target = models.CharField(max_length=30, blank=True)  # first planned target
    physician = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="+", db_index=False)
    consistent = models.BooleanField(null=True, blank=True)  # protocol consistency score >= 0.9
    placement_confirmed = models.BooleanField(null=True, blank=True)  # every placement confirmed
    structural = models.BooleanField(null=True, blank=True)  # advanced degeneration or a structural diagnosis
    activity_level = models.CharField(max_length=20, blank=True)
    smoking = models.CharField(max_length=20, blank=True)
    # Distinct patients without COUNT(DISTINCT): bit i is set when this row is the patient's first row (by
    # procedure date) at this time point with a function (or pain) responder status and this row's value of
    # stratum i (accretion.outcomes.summary.STRATUM_FIELDS; the last bit: of any value). Summing a bit over a
    # group counts its patients.
    function_first = models.PositiveIntegerField(default=0)
    pain_first = models.PositiveIntegerField(default=0)
    refreshed_at = models.DateTimeField(default=timezone.now)  # when the row last changed

    class Meta:
        constraints = [models.UniqueConstraint(fields=["procedure", "time_point"],
                                               name="one_outcome_row_per_time_point")]
        indexes = [models.Index(fields=["clinic", "time_point"], name="outcome_row_clinic_time_point"),
                   models.Index(fields=["clinic", "procedure_date"], name="outcome_row_clinic_date")]

    def __str__(self):
        return f"{self.time_point} outcome of procedure {self.procedure_id}"
