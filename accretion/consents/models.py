"""Price list, cost estimates and signed consents.

An estimate and a signed consent never change once written: a new estimate
or a withdrawal is a new record. A consent stores the exact document the
patient read (HTML), its SHA-256, the versions of the consent and education
texts, the drawn signature, who explained it, when and from which address.
"""

import hashlib

from django.conf import settings
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone

from accretion.clinics.models import Clinic
from accretion.consents.pricing import ITEMS
from accretion.patients.models import Patient
from accretion.procedures.models import Procedure


class ImmutableError(Exception):
    pass


class Immutable(models.Model):
    """Rows that are written once."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ImmutableError(f"a {self._meta.verbose_name} is never changed once written")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableError(f"a {self._meta.verbose_name} is never deleted")


def _price_field(label):
    return models.DecimalField(label, max_digits=10, decimal_places=2, null=True, blank=True,
                               validators=[MinValueValidator(0)])


class PriceList(models.Model):
    clinic = models.OneToOneField(Clinic, on_delete=models.CASCADE, related_name="price_list")
    currency = models.CharField(max_length=3, default="USD",
                                validators=[RegexValidator(r"^[A-Z]{3}$", "A three-letter ISO 4217 code, e.g. USD.")])
    consultation = _price_field(ITEMS["consultation"])
    prp_kit = _price_field(ITEMS["prp_kit"])
    injection_target = _price_field(ITEMS["injection_target"])
    additional_level = _price_field(ITEMS["additional_level"])
    image_guidance = _price_field(ITEMS["image_guidance"])
    follow_up_visit = _price_field(ITEMS["follow_up_visit"])
    updated_at = models.DateTimeField(default=timezone.now)

    def prices(self) -> dict:
        return {code: getattr(self, code) for code in ITEMS}


class Estimate(Immutable):
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    procedure = models.ForeignKey(Procedure, on_delete=models.PROTECT, related_name="estimates")
    currency = models.CharField(max_length=3)
    total = models.DecimalField(max_digits=12, decimal_places=2)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]

    @property
    def patient_id(self):
        return self.procedure.patient_id


class EstimateLine(Immutable):
    estimate = models.ForeignKey(Estimate, on_delete=models.PROTECT, related_name="lines")
    position = models.PositiveSmallIntegerField()
    code = models.CharField(max_length=30)
    description = models.CharField(max_length=120)
    unit_price = models.DecimalField(max_digits=10, decimal_places=2)
    quantity = models.PositiveSmallIntegerField()
    amount = models.DecimalField(max_digits=12, decimal_places=2)

    class Meta:
        ordering = ["position"]


class SignedBy(models.TextChoices):
    PATIENT = "patient", "The patient"
    REPRESENTATIVE = "representative", "A legally authorised representative"


class Relationship(models.TextChoices):
    """How a legally authorised representative is related to the patient (patient-facing words: texts.py)."""

    PARENT = "parent", "Parent"
    LEGAL_GUARDIAN = "legal_guardian", "Legal guardian"
    SPOUSE_PARTNER = "spouse_partner", "Spouse or partner"
    HEALTH_CARE_POA = "health_care_poa", "Health-care power of attorney"
    OTHER = "other", "Other"


class Consent(Immutable):
    """Signed by the patient (their typed name matches the registered name) or by a legally authorised
    representative (their name and relationship to the patient are stored; the patient's typed name is empty)."""


    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="consents")
    procedure = models.ForeignKey(Procedure, on_delete=models.PROTECT, related_name="consents")
    estimate = models.ForeignKey(Estimate, on_delete=models.PROTECT, related_name="+")
    language = models.CharField(max_length=2)
    document_version = models.CharField(max_length=20)
    document_html = models.TextField()
    document_sha256 = models.CharField(max_length=64)
    education_version = models.CharField(max_length=20, blank=True)
    education_sha256 = models.CharField(max_length=64, blank=True)
    sections_confirmed = models.JSONField(default=list)
    signed_by = models.CharField(max_length=20, choices=SignedBy.choices, default=SignedBy.PATIENT)
    patient_typed_name = models.CharField(max_length=200, blank=True)
    representative_name = models.CharField(max_length=200, blank=True)
    representative_relationship = models.CharField(max_length=20, choices=Relationship.choices, blank=True)
    representative_relationship_other = models.CharField(max_length=100, blank=True)
    signature_png = models.BinaryField()
    signed_at = models.DateTimeField(default=timezone.now)
    signed_from = models.GenericIPAddressField(null=True)
    explained_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-signed_at", "-id"]
        constraints = (
            models.CheckConstraint(
                name="consent_signer_recorded",
                condition=(
                    models.Q(signed_by=SignedBy.PATIENT, representative_name="", representative_relationship="",
                             representative_relationship_other="")
                    & ~models.Q(patient_typed_name="")
                ) | (
                    models.Q(signed_by=SignedBy.REPRESENTATIVE, patient_typed_name="")
                    & ~models.Q(representative_name="")
                    & (models.Q(representative_relationship=Relationship.OTHER)
                       & ~models.Q(representative_relationship_other="")
                       | models.Q(representative_relationship__in=[c for c in Relationship.values if c != "other"],
                                  representative_relationship_other=""))
                ),
            ),
        )

    @staticmethod
    def digest(html: str) -> str:
        return hashlib.sha256(html.encode()).hexdigest()

    @property
    def withdrawn(self):
        return hasattr(self, "withdrawal")

    @property
    def by_representative(self) -> bool:
        return self.signed_by == SignedBy.REPRESENTATIVE

    @property
    def signer_name(self) -> str:
        return self.representative_name if self.by_representative else self.patient_typed_name


class ConsentWithdrawal(Immutable):
    consent = models.OneToOneField(Consent, on_delete=models.PROTECT, related_name="withdrawal")
    withdrawn_at = models.DateTimeField(default=timezone.now)
    reason = models.CharField(max_length=1000, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    client_address = models.GenericIPAddressField(null=True)

    @property
    def patient_id(self):
        return self.consent.patient_id
