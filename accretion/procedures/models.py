"""A PRP procedure, from planning onwards.

A planned procedure carries what the cost estimate, the consent and the
aftercare handout need: date, region, targets, levels and kits.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone

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
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="procedures")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PLANNED)
    planned_date = models.DateField()
    region = models.CharField(max_length=10, choices=[(r, r.title()) for r in REGIONS])
    targets = models.JSONField(default=list)
    levels = models.JSONField(default=list)
    kits = models.PositiveSmallIntegerField(default=1)
    physician = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-planned_date", "-id"]
        indexes = [models.Index(fields=["clinic", "patient", "-planned_date"], name="procedure_patient_date")]

    def __str__(self):
        return f"{self.get_region_display()} PRP on {self.planned_date:%Y-%m-%d}"

    @property
    def target_labels(self) -> list[str]:
        return [TARGET_LABELS[t] for t in self.targets]
