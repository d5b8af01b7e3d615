import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone

from accretion.clinical.aftercare import DEFAULT_PROTOCOL as DEFAULT_AFTERCARE
from accretion.clinical.aftercare import AftercareProtocol, parse_protocol
from accretion.clinical.instruments import DEFAULT_THRESHOLDS, ResponderThresholds
from accretion.clinical.screening import DEFAULT_PROTOCOL, ScreeningProtocol
from accretion.clinics.roles import ROLES

slug_validator = RegexValidator(r"^[a-z0-9][a-z0-9-]{0,39}$", "Lower-case letters, digits and hyphens.")


class Clinic(models.Model):
    slug = models.CharField(max_length=40, unique=True, validators=[slug_validator])
    name = models.CharField(max_length=200)
    phone = models.CharField(max_length=40, blank=True)
    # Thresholds and windows of the screening rule set that differ from the default
    # (accretion.clinical.screening.ScreeningProtocol); empty = the default protocol.
    screening_protocol = models.JSONField(default=dict, blank=True)
    # Aftercare settings that differ from the default (accretion.clinical.aftercare.AftercareProtocol).
    aftercare_protocol = models.JSONField(default=dict, blank=True)
    # The procedure protocol (accretion.clinical.protocol.ProcedureProtocol); empty = the shipped example.
    procedure_protocol = models.JSONField(default=dict, blank=True)
    # The outcome registry's responder thresholds with their sources, whole
    # (accretion.clinical.instruments.ResponderThresholds.to_dict); empty = the published defaults.
    outcome_protocol = models.JSONField(default=dict, blank=True)
    # Who is told at once when a patient reports a red flag on the follow-up safety questions (e-mail and SMS);
    # without an e-mail here, the clinic administrators' e-mail addresses are used.
    on_call_name = models.CharField("on-call contact name", max_length=200, blank=True)
    on_call_email = models.EmailField("on-call e-mail", max_length=254, blank=True)
    on_call_phone = models.CharField("on-call SMS phone", max_length=20, blank=True)
    # The rooms procedures are booked in, by short name, in the order the day schedule lists them.
    rooms = models.JSONField(default=list, blank=True)
    # The roles whose members must sign in with a second factor (authenticator app), as role codes.
    two_factor_roles = models.JSONField("require two-factor sign-in for", default=list, blank=True)
    # How MRNs are generated when registration leaves MRN empty (accretion.clinical.mrn); empty = MRN required.
    mrn_pattern = models.CharField("MRN pattern", max_length=60, blank=True)
    # How money (and later other numbers) is written on the clinic's pages and documents: a BCP 47 tag
    # with a territory (accretion.money.locale_choices), e.g. en-US gives $1,540.00 and es-ES 1.540,00 €.
    locale = models.CharField("number and money format", max_length=20, default="en-US",
                              help_text="How amounts are written, e.g. English (United States): $1,540.00.")
    created_at = models.DateTimeField(default=timezone.now)

    def requires_two_factor(self, role: str | None) -> bool:
        """Whether a member with `role` must sign in with a second factor here."""
        return role in self.two_factor_roles

    class Meta:
        ordering = ["name"]

    def get_screening_protocol(self) -> ScreeningProtocol:
        if not self.screening_protocol:
            return DEFAULT_PROTOCOL
        return ScreeningProtocol.from_dict(self.screening_protocol)

    def get_aftercare_protocol(self) -> AftercareProtocol:
        if not self.aftercare_protocol:
            return DEFAULT_AFTERCARE
        return parse_protocol(self.aftercare_protocol)

    def get_responder_thresholds(self) -> ResponderThresholds:
        if not self.outcome_protocol:
            return DEFAULT_THRESHOLDS
        return ResponderThresholds.from_dict(self.outcome_protocol)

    def __str__(self):
        return self.name


class MrnCounter(models.Model):
    """The last number a clinic's MRN pattern used. Locked while a registration takes the next one."""

    clinic = models.OneToOneField(Clinic, on_delete=models.CASCADE, primary_key=True, related_name="+")
    last = models.PositiveBigIntegerField(default=0)


class Membership(models.Model):
    """A user's role in one clinic. A user may belong to several clinics."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=ROLES)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "clinic"], name="one_role_per_clinic")]
        ordering = ["clinic__name", "user__username"]

    def __str__(self):
        return f"{self.user} – {self.get_role_display()} at {self.clinic}"


def token_digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiTokenQuerySet(models.QuerySet):
    def live(self):
        return self.filter(expires_at__gt=timezone.now())

    def for_raw(self, raw: str):
        return self.live().filter(digest=token_digest(raw))


class ApiToken(models.Model):
    """A bearer token acting for one user in one clinic. Only its SHA-256 is stored."""

    digest = models.CharField(max_length=64, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()

    objects = ApiTokenQuerySet.as_manager()

    @classmethod
    def issue(cls, user, clinic, *, hours: int) -> tuple["ApiToken", str]:
        raw = secrets.token_urlsafe(32)
        now = timezone.now()
        token = cls.objects.create(
            digest=token_digest(raw), user=user, clinic=clinic, created_at=now,
            expires_at=now + timedelta(hours=hours),
        )
        return token, raw
