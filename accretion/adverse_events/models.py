"""Adverse events after (or during) a PRP procedure.

An event is recorded by staff, or created from a patient's safety answers on a
follow-up questionnaire (then flagged for a physician's review). Grades follow
CTCAE v5; "serious" follows the regulatory criteria (death, life-threatening,
hospitalisation, disability, other important medical event), so grades 4 and 5
are always serious and staff tick it for the rest. A physician judges how
likely the procedure caused the event.

Type and grade are plain indexed columns so that analytics can count events
by type and grade per clinic.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from accretion.clinics.models import Clinic
from accretion.patients.models import Patient
from accretion.procedures.models import Procedure

DESCRIPTION_MAX = 2000
SERIOUS_FROM_GRADE = 4  # CTCAE grade 4 (life-threatening) and 5 (death) are always serious
FATAL_GRADE = 5


class EventType(models.TextChoices):
    INJECTION_SITE_FLARE = "injection_site_flare", "Pain flare at the injection site"
    INFECTION = "infection", "Infection"
    BLEEDING_HEMATOMA = "bleeding_hematoma", "Bleeding or hematoma"
    NERVE_INJURY = "nerve_injury", "Nerve injury"
    VASOVAGAL = "vasovagal", "Fainting (vasovagal)"
    ALLERGIC_REACTION = "allergic_reaction", "Allergic reaction"
    POST_DURAL_PUNCTURE_HEADACHE = "post_dural_puncture_headache", "Post-dural puncture headache"
    OTHER = "other", "Other"


class Grade(models.IntegerChoices):
    """CTCAE v5 general grade definitions, shortened."""

    MILD = 1, "1 · Mild: no or mild symptoms, no intervention needed"
    MODERATE = 2, "2 · Moderate: minimal, local or non-invasive intervention needed"
    SEVERE = 3, "3 · Severe or medically significant: hospitalisation indicated, disabling"
    LIFE_THREATENING = 4, "4 · Life-threatening: urgent intervention needed"
    DEATH = 5, "5 · Death related to the event"


GRADE_SHORT = {1: "mild", 2: "moderate", 3: "severe", 4: "life-threatening", 5: "death"}


class Outcome(models.TextChoices):
    RECOVERED = "recovered", "Recovered"
    RECOVERING = "recovering", "Recovering"
    NOT_RECOVERED = "not_recovered", "Not recovered"
    RECOVERED_WITH_SEQUELAE = "recovered_with_sequelae", "Recovered with sequelae"
    FATAL = "fatal", "Fatal"
    UNKNOWN = "unknown", "Unknown"


class Source(models.TextChoices):
    STAFF = "staff", "Recorded by staff"
    PATIENT_REPORT = "patient_report", "Reported by the patient"


class Relatedness(models.TextChoices):
    UNRELATED = "unrelated", "Unrelated"
    UNLIKELY = "unlikely", "Unlikely"
    POSSIBLE = "possible", "Possible"
    PROBABLE = "probable", "Probable"
    DEFINITE = "definite", "Definite"


def procedure_day(procedure: Procedure):
    """The day the procedure took place: when it started, else the planned date."""
    if procedure.started_at is not None:
        return timezone.localdate(procedure.started_at)
    return procedure.planned_date


class AdverseEvent(models.Model):
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="adverse_events")
    procedure = models.ForeignKey(Procedure, on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="adverse_events")
    event_type = models.CharField("type", max_length=40, choices=EventType.choices)
    description = models.CharField(max_length=DESCRIPTION_MAX, blank=True)
    ctcae_grade = models.PositiveSmallIntegerField("CTCAE grade", choices=Grade.choices)
    serious = models.BooleanField(default=False)
    onset = models.DateField()
    outcome = models.CharField(max_length=30, choices=Outcome.choices)
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.STAFF)
    # Which follow-up questionnaire a patient report came from (one event per procedure and follow-up).
    follow_up_key = models.CharField(max_length=20, blank=True)
    needs_review = models.BooleanField(default=False)
    relatedness = models.CharField(max_length=10, choices=Relatedness.choices, blank=True)
    judged_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="+")
    judged_at = models.DateTimeField(null=True, blank=True)
    reported_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["clinic", "created_at"], name="adverse_event_clinic_time"),
            models.Index(fields=["clinic", "event_type", "ctcae_grade"], name="adverse_event_type_grade"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(ctcae_grade__gte=1, ctcae_grade__lte=5), name="adverse_event_grade_1_5"),
            models.CheckConstraint(condition=Q(ctcae_grade__lt=SERIOUS_FROM_GRADE) | Q(serious=True),
                                   name="adverse_event_grade_4_5_serious"),
            models.CheckConstraint(
                condition=(Q(outcome=Outcome.FATAL, ctcae_grade=FATAL_GRADE)
                           | (~Q(outcome=Outcome.FATAL) & ~Q(ctcae_grade=FATAL_GRADE))),
                name="adverse_event_fatal_is_grade_5",
            ),
            models.UniqueConstraint(fields=["procedure", "follow_up_key"], condition=Q(source=Source.PATIENT_REPORT),
                                    name="adverse_event_one_report_per_follow_up"),
        ]

    def __str__(self):
        return f"{self.get_event_type_display()}, grade {self.ctcae_grade} ({self.onset:%Y-%m-%d})"

    @property
    def judged(self) -> bool:
        return bool(self.relatedness)

    @property
    def procedure_date(self):
        return procedure_day(self.procedure) if self.procedure_id else None

    @property
    def grade_short(self) -> str:
        return GRADE_SHORT.get(self.ctcae_grade, "")
