"""A screening: the intake as entered, the rule set's decision, and the physician's review.

A draft keeps a partial intake that staff come back to. Running the rules
fixes the intake, findings and ruleset version; from then on the record only
gains a review, and once reviewed it never changes (a new screening
supersedes it).
"""

from datetime import date

from django.conf import settings
from django.db import models
from django.utils import timezone

from accretion.clinical.antithrombotics import Antithrombotic, HoldDecision
from accretion.clinics.models import Clinic
from accretion.patients.models import Patient


class Status(models.TextChoices):
    DRAFT = "draft", "Draft"
    DECIDED = "decided", "Decided"
    REVIEWED = "reviewed", "Reviewed"


class Decision(models.TextChoices):
    ELIGIBLE = "eligible", "Eligible"
    REVIEW = "review", "Physician review needed"
    INELIGIBLE = "ineligible", "Not eligible"


class ReviewOutcome(models.TextChoices):
    PROCEED = "proceed", "Proceed"
    DO_NOT_PROCEED = "do_not_proceed", "Do not proceed"


class Screening(models.Model):
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="screenings")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    intake = models.JSONField(default=dict, blank=True)
    decision = models.CharField(max_length=10, choices=Decision.choices, blank=True)
    findings = models.JSONField(default=list, blank=True)
    # What each medication line was read as when the rules ran: entered, ingredients, classes, unread.
    medication_readings = models.JSONField(default=list, blank=True)
    # The current anticoagulants and antiplatelets the rules found (clinical.antithrombotics.Antithrombotic),
    # and the reviewing physician's decision for each (HoldDecision: continue, or hold with last dose and restart).
    antithrombotics = models.JSONField(default=list, blank=True)
    antithrombotic_plan = models.JSONField(default=list, blank=True)
    ruleset = models.CharField(max_length=80, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_outcome = models.CharField(max_length=15, choices=ReviewOutcome.choices, blank=True)
    review_reasons = models.JSONField(default=dict, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["clinic", "patient", "-created_at"], name="screening_patient_time")]

    def __str__(self):
        return f"Screening {self.pk} of {self.patient_id} ({self.status})"

    @property
    def is_draft(self) -> bool:
        return self.status == Status.DRAFT

    @property
    def needs_review(self) -> bool:
        return self.status == Status.DECIDED and self.decision == Decision.REVIEW

    @property
    def review_findings(self) -> list[dict]:
        return [f for f in self.findings if f["severity"] == "review"]

    @property
    def procedure_date(self):
        """The procedure date the intake was screened for."""
        value = self.intake.get("procedure_date")
        return date.fromisoformat(value) if value else None

    def hold_decisions(self):
        """The physician's decisions about the current antithrombotics (empty when none were made)."""
        return [HoldDecision.from_dict(entry) for entry in self.antithrombotic_plan]

    def current_antithrombotics(self):
        return [Antithrombotic.from_dict(entry) for entry in self.antithrombotics]

    @property
    def cleared_to_proceed(self) -> bool:
        """Eligible, or review with a physician's proceed: what procedure day will require."""
        if self.decision == Decision.ELIGIBLE:
            return True
        return self.decision == Decision.REVIEW and self.review_outcome == ReviewOutcome.PROCEED

    @property
    def rules_out(self) -> bool:
        """A final no: not eligible, or a physician decided not to proceed (a pending review is not final)."""
        return self.decision == Decision.INELIGIBLE or self.review_outcome == ReviewOutcome.DO_NOT_PROCEED

    @property
    def not_cleared_because(self) -> str:
        """Why this screening does not clear the patient for PRP, in plain words ("" when it does)."""
        if self.cleared_to_proceed:
            return ""
        if self.decision == Decision.INELIGIBLE:
            codes = ", ".join(f["code"] for f in self.findings if f["severity"] == "contraindication")
            return f"The latest screening is not eligible ({codes}): PRP must not be offered."
        if self.review_outcome == ReviewOutcome.DO_NOT_PROCEED:
            return "A physician decided not to proceed after reviewing the latest screening."
        return "The latest screening needs a physician's review: a physician records proceed or do not proceed first."
