from django.db import models
from django.utils import timezone

from accretion.clinical.names import SEARCH_KEY_LENGTH, phone_digits, search_key
from accretion.clinics.models import Clinic
from accretion.patients.validators import mrn_validator, phone_validator, validate_birth_date


class Sex(models.TextChoices):
    # FHIR AdministrativeGender
    FEMALE = "female", "Female"
    MALE = "male", "Male"
    OTHER = "other", "Other"
    UNKNOWN = "unknown", "Unknown"


class Language(models.TextChoices):
    EN = "en", "English"
    ES = "es", "Español"


class PatientQuerySet(models.QuerySet):
    def bulk_create(self, objs, *args, **kwargs):
        objs = list(objs)
        for patient in objs:
            patient.fill_search_columns()
        return super().bulk_create(objs, *args, **kwargs)


class Patient(models.Model):
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="patients")
    mrn = models.CharField("MRN", max_length=32, validators=[mrn_validator])
    given_name = models.CharField(max_length=100)
    family_name = models.CharField(max_length=100)
    date_of_birth = models.DateField(validators=[validate_birth_date])
    sex = models.CharField(max_length=10, choices=Sex.choices)
    phone = models.CharField(max_length=40, blank=True, validators=[phone_validator])
    email = models.EmailField(blank=True)
    preferred_language = models.CharField(max_length=2, choices=Language.choices, default=Language.EN)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    version = models.PositiveIntegerField(default=1)
    # What search compares, written on every save (accretion.clinical.names): the names without case or
    # accents ("jose nunez"), and the phone's digits ("15550101"). The same on SQLite and PostgreSQL.
    search_name = models.CharField(max_length=SEARCH_KEY_LENGTH, blank=True, editable=False)
    phone_digits = models.CharField(max_length=40, blank=True, editable=False)

    objects = PatientQuerySet.as_manager()

    class Meta:
        ordering = ["family_name", "given_name", "id"]
        constraints = [models.UniqueConstraint(fields=["clinic", "mrn"], name="mrn_unique_in_clinic")]
        indexes = [
            models.Index(fields=["clinic", "family_name", "given_name"], name="patient_clinic_name"),
            models.Index(fields=["clinic", "date_of_birth"], name="patient_clinic_dob"),
            models.Index(fields=["clinic", "search_name"], name="patient_clinic_search_name"),
            models.Index(fields=["clinic", "phone_digits"], name="patient_clinic_phone_digits"),
        ]

    def fill_search_columns(self) -> None:
        self.search_name = search_key(f"{self.given_name} {self.family_name}")
        self.phone_digits = phone_digits(self.phone)

    def save(self, *args, **kwargs):
        self.fill_search_columns()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = {*update_fields, "search_name", "phone_digits"}
        super().save(*args, **kwargs)

    def __str__(self):
        return f"{self.family_name}, {self.given_name} ({self.mrn})"

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    def age_on(self, day) -> int:
        born = self.date_of_birth
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))
