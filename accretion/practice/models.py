"""Practice operations: staff training, equipment and PRP kit lots.

Every row belongs to one clinic. Procedure day reads these through the checks
in services.py (training gaps, kit lot, centrifuge and imaging problems) and
takes kits from stock with `services.take_kit`.
"""

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from accretion.clinical.aftercare import add_months
from accretion.clinics.models import Clinic

# The modules every operator and preparation technician must hold; they always exist.
REQUIRED_MODULES = {
    "aseptic_preparation": "Aseptic preparation",
    "emergency_protocols": "Emergency protocols",
    "documentation_and_consent": "Documentation and consent",
}
DEFAULT_VALIDITY_MONTHS = 12

module_code_validator = RegexValidator(r"^[a-z][a-z0-9_]{0,39}$", "Lower-case letters, digits and underscores.")
fda_510k_validator = RegexValidator(
    r"^K\d{6}$", "An FDA 510(k) number is a capital K followed by six digits, e.g. K123456."
)


class TrainingModule(models.Model):
    """A module a clinic adds to the required ones (REQUIRED_MODULES)."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    code = models.CharField(max_length=40, validators=[module_code_validator])
    name = models.CharField(max_length=100)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "id"]
        constraints = [models.UniqueConstraint(fields=["clinic", "code"], name="training_module_unique_in_clinic")]

    def __str__(self):
        return self.name


class TrainingRecord(models.Model):
    """One completed training: valid from `completed_on` through `expires_on` (inclusive)."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="training_records")
    module = models.CharField(max_length=40, validators=[module_code_validator])
    completed_on = models.DateField()
    expires_on = models.DateField()
    verified_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-completed_on", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(expires_on__gt=models.F("completed_on")),
                                   name="training_expires_after_completion"),
        ]
        indexes = [models.Index(fields=["clinic", "user", "module", "completed_on"], name="training_member_module")]

    def __str__(self):
        return f"{self.module} completed {self.completed_on:%Y-%m-%d}"

    @staticmethod
    def default_expiry(completed_on):
        return add_months(completed_on, DEFAULT_VALIDITY_MONTHS)

    def save(self, *args, **kwargs):
        if self.expires_on is None and self.completed_on is not None:
            self.expires_on = self.default_expiry(self.completed_on)
        super().save(*args, **kwargs)


class Kind(models.TextChoices):
    CENTRIFUGE = "centrifuge", "Centrifuge system"
    FLUOROSCOPY = "fluoroscopy", "Fluoroscopy unit"
    ULTRASOUND = "ultrasound", "Ultrasound unit"


IMAGING_KINDS = frozenset({Kind.FLUOROSCOPY, Kind.ULTRASOUND})


class Equipment(models.Model):
    """A centrifuge system or an imaging unit. Several people edit it: `version` guards against lost updates."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    manufacturer = models.CharField(max_length=100)
    model = models.CharField("model", max_length=100)
    serial = models.CharField("serial number", max_length=60)
    fda_510k = models.CharField("FDA 510(k) number", max_length=7, blank=True, validators=[fda_510k_validator],
                                help_text="Centrifuges only, e.g. K123456.")
    in_service = models.BooleanField("in service", default=True)
    next_maintenance = models.DateField("next maintenance", null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["kind", "manufacturer", "model", "serial"]
        verbose_name_plural = "equipment"
        constraints = [
            models.UniqueConstraint(fields=["clinic", "serial"], name="equipment_serial_unique_in_clinic"),
            # A centrifuge carries its 510(k) clearance; an imaging unit carries none.
            models.CheckConstraint(
                condition=(Q(kind=Kind.CENTRIFUGE) & ~Q(fda_510k="")) | (~Q(kind=Kind.CENTRIFUGE) & Q(fda_510k="")),
                name="equipment_510k_for_centrifuges_only",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.manufacturer} {self.model} (serial {self.serial})"

    @property
    def is_centrifuge(self) -> bool:
        return self.kind == Kind.CENTRIFUGE

    @property
    def is_imaging(self) -> bool:
        return self.kind in IMAGING_KINDS


class KitLot(models.Model):
    """A lot of PRP preparation kits received by the clinic, and how many are left."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    product = models.CharField(max_length=120)
    manufacturer = models.CharField(max_length=120)
    lot_number = models.CharField("lot number", max_length=60)
    expiry_date = models.DateField("expiry date")
    quantity_on_hand = models.PositiveIntegerField("quantity on hand")
    received_on = models.DateField("received on")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["expiry_date", "product", "lot_number"]
        constraints = [
            models.UniqueConstraint(fields=["clinic", "product", "lot_number"], name="kit_lot_unique_in_clinic"),
            models.CheckConstraint(condition=Q(quantity_on_hand__gte=0), name="kit_lot_stock_not_negative"),
        ]
        indexes = [models.Index(fields=["lot_number"], name="kit_lot_number")]  # recalls search by lot

    def __str__(self):
        return (f"{self.product}, lot {self.lot_number} (expires {self.expiry_date:%Y-%m-%d}, "
                f"{self.quantity_on_hand} on hand)")
