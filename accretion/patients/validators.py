from datetime import date

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.utils import timezone

EARLIEST_BIRTH_DATE = date(1900, 1, 1)

phone_validator = RegexValidator(
    r"^\+?[0-9 ().\-]{3,30}(\s*(x|ext\.?)\s*[0-9]{1,6})?$",
    "Enter a phone number: digits, spaces, + ( ) - and an optional extension.",
)
mrn_validator = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9\-/.]{0,31}$",
    "An MRN is letters, digits, - / or . (at most 32 characters).",
)


def validate_birth_date(value: date) -> None:
    if value > timezone.localdate():
        raise ValidationError("The date of birth cannot be in the future.")
    if value < EARLIEST_BIRTH_DATE:
        raise ValidationError("The date of birth cannot be before 1900.")
