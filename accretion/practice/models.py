"""Practice operations: staff training, equipment and PRP kit lots.

Every row belongs to one clinic. Procedure day reads these through the checks
in services.py (training gaps, kit lot, centrifuge and imaging problems) and
takes kits from stock with `services.take_kit`.
"""

import unicodedata

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


def lot_key(lot_number: str) -> str:
    """The form of a lot number that lots are matched by: `` abc 123 `` and ``ABC123`` are one lot.

    Unicode compatibility forms are folded (NFKC, so a full-width ``ＡＢＣ`` is ``ABC``), every
    whitespace character is removed and letters are upper-cased. Punctuation is kept: ``AB-12``
    and ``AB12`` stay two lots, since a manufacturer may print both.
    """
    return "".join(unicodedata.normalize("NFKC", lot_number or "").split()).upper()


class KitLot(models.Model):
    """A lot of PRP preparation kits received by the clinic, and how many are left.

    `lot_number` is kept as first printed (what staff see); `lot_key` (see `lot_key()`) is what
    receiving, taking and recalling compare. A quarantined lot (recalled) gives no kit until a
    clinic administrator releases it.
    """

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    product = models.CharField(max_length=120)
    manufacturer = models.CharField(max_length=120)
    lot_number = models.CharField("lot number", max_length=60)
    lot_key = models.CharField(max_length=60, editable=False)
    # Set only by the migration that introduced `lot_key`, on lots whose key another lot of the same
    # product already had (e.g. "abc1" and "ABC1" stocked apart): both rows are kept, not merged.
    key_clash = models.BooleanField(default=False, editable=False)
    expiry_date = models.DateField("expiry date")
    quantity_on_hand = models.PositiveIntegerField("quantity on hand")
    received_on = models.DateField("received on")
    quarantined_at = models.DateTimeField(null=True, blank=True)
    quarantine_reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["expiry_date", "product", "lot_number"]
        constraints = [
            models.UniqueConstraint(fields=["clinic", "product", "lot_key"], condition=Q(key_clash=False),
                                    name="kit_lot_key_unique_in_clinic"),
            models.CheckConstraint(condition=Q(quantity_on_hand__gte=0), name="kit_lot_stock_not_negative"),
            models.CheckConstraint(condition=Q(quarantined_at__isnull=True) | ~Q(quarantine_reason=""),
                                   name="kit_lot_quarantine_has_reason"),
        ]
        indexes = [models.Index(fields=["lot_key"], name="kit_lot_key")]  # recalls search by lot

    def __str__(self):
        return (f"{self.product}, lot {self.lot_number} (expires {self.expiry_date:%Y-%m-%d}, "
                f"{self.quantity_on_hand} on hand)")

    @property
    def quarantined(self) -> bool:
        return self.quarantined_at is not None

    def save(self, *args, **kwargs):
        self.lot_key = lot_key(self.lot_number)
        if kwargs.get("update_fields") is not None and "lot_number" in kwargs["update_fields"]:
            kwargs["update_fields"] = {*kwargs["update_fields"], "lot_key"}
        super().save(*args, **kwargs)
