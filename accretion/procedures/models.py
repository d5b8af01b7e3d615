"""A PRP procedure, from planning onwards.

A planned procedure carries what the cost estimate, the consent and the
aftercare handout need: date, region, targets, levels and kits.
"""

import re
import uuid
from pathlib import Path

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from accretion.clinical.schedule import DEFAULT_DURATION, MAX_DURATION, MIN_DURATION, Booking
from accretion.clinical.screening import REGIONS, TARGETS
from accretion.clinics.models import Clinic
from accretion.patients.models import Patient

TARGET_LABELS = {
    "facet_joint": "Facet joint",
    "interspinous_ligament": "Interspinous ligament",
    "paraspinal_muscle": "Paraspinal muscle",
    "thoracolumbar_fascia": "Thoracolumbar fascia",
    "epidural": "Epidural space (investigational)",
    "intradiscal": "Intervertebral disc (investigational)",
}
assert set(TARGET_LABELS) == set(TARGETS)


class Status(models.TextChoices):
    PLANNED = "planned", "Planned"
    IN_PROGRESS = "in_progress", "In progress"
    COMPLETED = "completed", "Completed"
    SIGNED = "signed", "Signed"
    CANCELLED = "cancelled", "Cancelled"


class Procedure(models.Model):
    """One PRP session. Moves planned -> in progress -> completed -> signed (or cancelled).

    A signed procedure never changes; corrections are dated addenda by their author.
    """

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="procedures")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PLANNED)
    planned_date = models.DateField()
    # The slot on the day schedule: optional (older plans have none), one of the clinic's rooms (Clinic.rooms,
    # kept as the name so a renamed or retired room does not rewrite the record), and the minutes it is booked.
    start_time = models.TimeField(null=True, blank=True)
    room = models.CharField(max_length=40, blank=True)
    duration_minutes = models.PositiveSmallIntegerField(
        "expected duration (minutes)", default=DEFAULT_DURATION,
        validators=[MinValueValidator(MIN_DURATION), MaxValueValidator(MAX_DURATION)])
    region = models.CharField(max_length=10, choices=[(r, r.title()) for r in REGIONS])
    targets = models.JSONField(default=list)
    levels = models.JSONField(default=list)
    kits = models.PositiveSmallIntegerField(default=1)
    physician = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="+", verbose_name="operating physician")
    prep_tech = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="+", verbose_name="preparation technician")
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    signed_at = models.DateTimeField(null=True, blank=True)
    signed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="+")
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=500, blank=True)
    # Protocol consistency, computed at completion (accretion.clinical.protocol).
    protocol_fingerprint = models.CharField(max_length=16, blank=True)
    consistency = models.JSONField(default=list, blank=True)
    consistency_score = models.DecimalField(max_digits=3, decimal_places=2, null=True, blank=True)
    placement_rate = models.DecimalField(max_digits=3, decimal_places=2, null=True, blank=True)
    deviation_reasons = models.JSONField(default=dict, blank=True)
    # Written at signing.
    aftercare_plan = models.JSONField(null=True, blank=True)
    billing_code = models.CharField(max_length=10, blank=True)
    billing_units = models.PositiveSmallIntegerField(default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-planned_date", "-id"]
        indexes = [models.Index(fields=["clinic", "patient", "-planned_date"], name="procedure_patient_date"),
                   # The start page: today's procedures, those to sign, plans never finished.
                   models.Index(fields=["clinic", "status", "planned_date"], name="procedure_status_date")]
        constraints = [models.CheckConstraint(
            condition=Q(duration_minutes__gte=MIN_DURATION, duration_minutes__lte=MAX_DURATION),
            name="procedure_duration_5_480")]

    def __str__(self):
        return f"{self.get_region_display()} PRP on {self.planned_date:%Y-%m-%d}"

    @property
    def target_labels(self) -> list[str]:
        return [TARGET_LABELS[t] for t in self.targets]

    @property
    def booking(self) -> Booking:
        return Booking(self.start_time, self.duration_minutes)

    @property
    def end_time(self):
        return self.booking.end_time()

    @property
    def is_open(self) -> bool:
        """Still editable: not signed and not cancelled."""
        return self.status in (Status.PLANNED, Status.IN_PROGRESS, Status.COMPLETED)


CHECKLIST = {
    "two_identifiers": "Patient identity confirmed with two identifiers (name and date of birth)",
    "site_confirmed": "Procedure, site, side and levels confirmed with the patient and the consent",
    "allergies_reviewed": "Allergies reviewed (local anaesthetic, contrast, skin antiseptic)",
    "antithrombotics_reviewed": "Anticoagulant and antiplatelet status reviewed",
    "sterile_field": "Sterile field prepared",
    "imaging_ready": "Imaging ready (fluoroscopy or ultrasound)",
    "emergency_equipment": "Emergency equipment and drugs checked",
}


class TimeOut(models.Model):
    """The pause before anything is done: every item confirmed, every hard gate passed."""

    procedure = models.OneToOneField(Procedure, on_delete=models.PROTECT, related_name="timeout")
    confirmed = models.JSONField(default=list)  # the CHECKLIST codes ticked
    kit_lot = models.ForeignKey("practice.KitLot", on_delete=models.PROTECT, related_name="+")
    centrifuge = models.ForeignKey("practice.Equipment", on_delete=models.PROTECT, related_name="+")
    imaging_unit = models.ForeignKey("practice.Equipment", on_delete=models.PROTECT, related_name="+")
    # The screening that cleared the patient when the gates were checked (the outcome strata come from it).
    screening = models.ForeignKey("screenings.Screening", on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="+")
    performed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    performed_at = models.DateTimeField(default=timezone.now)


class Anticoagulant(models.TextChoices):
    ACD_A = "acd_a", "ACD-A"
    SODIUM_CITRATE = "sodium_citrate", "Sodium citrate"
    HEPARIN = "heparin", "Heparin"
    NONE = "none", "None"
    OTHER = "other", "Other"


class Activation(models.TextChoices):
    NONE = "none", "None (endogenous)"
    CALCIUM_CHLORIDE = "calcium_chloride", "Calcium chloride"
    THROMBIN = "thrombin", "Thrombin"
    OTHER = "other", "Other"


def _count(label, required=True):
    return models.DecimalField(label, max_digits=8, decimal_places=2, null=not required, blank=not required)


class Preparation(models.Model):
    """The PRP preparation record. Counts in 10^3/µL, volumes in mL."""

    procedure = models.OneToOneField(Procedure, on_delete=models.PROTECT, related_name="preparation")
    kit_lot = models.ForeignKey("practice.KitLot", on_delete=models.PROTECT, related_name="preparations")
    centrifuge = models.ForeignKey("practice.Equipment", on_delete=models.PROTECT, related_name="+")
    whole_blood_ml = _count("whole blood drawn (mL)")
    anticoagulant = models.CharField(max_length=20, choices=Anticoagulant.choices)
    anticoagulant_ml = _count("anticoagulant (mL)", required=False)
    spin_unit = models.CharField(max_length=3, choices=[("g", "× g"), ("rpm", "rpm")], default="g")
    spin_speed = models.PositiveIntegerField()
    spin_minutes = models.DecimalField(max_digits=5, decimal_places=1)
    spin_count = models.PositiveSmallIntegerField(default=1)
    baseline_platelets = _count("baseline platelets")
    baseline_wbc = _count("baseline WBC")
    baseline_neutrophils = _count("baseline neutrophils", required=False)
    baseline_rbc = _count("baseline RBC (10^6/µL)", required=False)
    prp_platelets = _count("PRP platelets")
    prp_wbc = _count("PRP WBC")
    prp_neutrophils = _count("PRP neutrophils", required=False)
    prp_rbc = _count("PRP RBC (10^6/µL)", required=False)
    prp_volume_ml = _count("PRP volume produced (mL)")
    activation = models.CharField(max_length=20, choices=Activation.choices, default=Activation.NONE)
    drawn_at = models.DateTimeField("time of draw")
    injected_at = models.DateTimeField("time of injection", null=True, blank=True)
    derived = models.JSONField(default=dict, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)

    @property
    def clinic_id(self):
        return self.procedure.clinic_id

    @property
    def patient_id(self):
        return self.procedure.patient_id


class Side(models.TextChoices):
    LEFT = "left", "Left"
    RIGHT = "right", "Right"
    BILATERAL = "bilateral", "Bilateral"
    MIDLINE = "midline", "Midline"


class Guidance(models.TextChoices):
    FLUOROSCOPY = "fluoroscopy", "Fluoroscopy"
    ULTRASOUND = "ultrasound", "Ultrasound"


def injection_image_path(injection, filename: str) -> str:
    """Where an uploaded image is stored: a random name with the file's own extension (a patient's name in a
    scanner's file name never reaches the disk, and no name is too long for the column)."""
    extension = Path(filename).suffix.lower()
    extension = extension if re.fullmatch(r"\.[a-z0-9]{1,5}", extension) else ""
    return f"injections/{timezone.now():%Y/%m}/{uuid.uuid4().hex}{extension}"


class Injection(models.Model):
    procedure = models.ForeignKey(Procedure, on_delete=models.PROTECT, related_name="injections")
    target = models.CharField(max_length=30, choices=list(TARGET_LABELS.items()))
    levels = models.JSONField(default=list)
    side = models.CharField(max_length=10, choices=Side.choices)
    guidance = models.CharField(max_length=12, choices=Guidance.choices)
    placement_confirmed = models.BooleanField(help_text="Contrast spread or ultrasound visualisation confirmed")
    volume_ml = models.DecimalField("volume injected (mL)", max_digits=5, decimal_places=2)
    needle_gauge = models.PositiveSmallIntegerField()
    screening_time_s = models.DecimalField("fluoroscopy time (s)", max_digits=7, decimal_places=1, null=True, blank=True)
    dose_area_product = models.DecimalField("dose-area product (Gy·cm²)", max_digits=8, decimal_places=2, null=True,
                                            blank=True)
    image = models.FileField(upload_to=injection_image_path, null=True, blank=True)
    dicom_headers = models.JSONField(default=dict, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["recorded_at", "id"]

    @property
    def patient_id(self):
        return self.procedure.patient_id


class Addendum(models.Model):
    """A dated correction or note added after signing, by its author."""

    procedure = models.ForeignKey(Procedure, on_delete=models.PROTECT, related_name="addenda")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    text = models.TextField(max_length=5000)

    class Meta:
        ordering = ["created_at", "id"]


class FollowUp(models.Model):
    """A scheduled follow-up of a signed procedure (from its aftercare plan)."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    procedure = models.ForeignKey(Procedure, on_delete=models.PROTECT, related_name="follow_ups")
    key = models.CharField(max_length=8)
    due = models.DateField()

    class Meta:
        ordering = ["due", "id"]
        constraints = [models.UniqueConstraint(fields=["procedure", "key"], name="one_follow_up_per_key")]
        indexes = [models.Index(fields=["clinic", "due"], name="follow_up_clinic_due")]
