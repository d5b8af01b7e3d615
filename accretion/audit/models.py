"""The append-only audit log.

One row per read or write of patient data, per sign-in event and per
permission change. Each row stores the SHA-256 of the previous row's hash
combined with its own content, so any edit, deletion or reordering breaks the
chain and `accretion audit verify` names the first broken row.

No code path updates or deletes rows: the queryset and model refuse it.
Foreign keys are kept as plain ids (no database constraint, no cascade) so
that deleting a user or clinic can never rewrite history.
"""

from django.db import models
from django.utils import timezone


class AppendOnlyError(Exception):
    pass


class AuditQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("audit rows are never updated")

    def delete(self):
        raise AppendOnlyError("audit rows are never deleted")

    def for_clinic(self, clinic):
        return self.filter(clinic_id=clinic.pk)


class Action(models.TextChoices):
    LOGIN = "login", "Signed in"
    LOGIN_FAILED = "login_failed", "Failed sign-in"
    LOCKED_OUT = "locked_out", "Account locked"
    LOGOUT = "logout", "Signed out"
    TOKEN_ISSUED = "token_issued", "API token issued"
    SWITCH_CLINIC = "switch_clinic", "Switched clinic"
    VIEW = "view", "Viewed"
    LIST = "list", "Listed"
    CREATE = "create", "Created"
    UPDATE = "update", "Updated"
    DELETE = "delete", "Removed"
    EXPORT = "export", "Exported"
    PERMISSION_CHANGE = "permission_change", "Changed permissions"
    UNLOCK = "unlock", "Unlocked an account"
    PASSWORD_CHANGE = "password_change", "Changed password"
    PASSWORD_RESET_REQUESTED = "password_reset_requested", "Asked for a password reset link"
    PASSWORD_RESET = "password_reset", "Reset password by e-mail link"
    TWO_FACTOR_CHANGE = "two_factor_change", "Turned two-factor sign-in on or off"
    ALERT_SENT = "alert_sent", "Alerted the clinic"
    ALERT_FAILED = "alert_failed", "Could not alert the clinic"
    PATIENT_MODE_START = "patient_mode_start", "Handed the screen to the patient"
    PATIENT_MODE_END = "patient_mode_end", "Took the screen back from the patient"
    RECOVERY_CODE_USED = "recovery_code_used", "Signed in with a recovery code"
    BACKUP = "backup", "Backed up the portal"
    RESTORE = "restore", "Restored the portal from a backup"


def _shown(value) -> str:
    if value is None:
        return "(none)"
    if value == "":
        return "(empty)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(_shown(item) for item in value) or "(none)"
    return str(value)


class AuditEvent(models.Model):
    at = models.DateTimeField(default=timezone.now)
    user_id = models.BigIntegerField(null=True)
    username = models.CharField(max_length=150, blank=True)
    clinic_id = models.BigIntegerField(null=True)
    action = models.CharField(max_length=30, choices=Action.choices)
    object_type = models.CharField(max_length=60, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    patient_id = models.BigIntegerField(null=True)
    client_address = models.GenericIPAddressField(null=True)
    detail = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    objects = AuditQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["clinic_id", "-at"], name="audit_clinic_time"),
            models.Index(fields=["patient_id", "-at"], name="audit_patient_time"),
        ]

    @property
    def change_rows(self) -> list[tuple[str, str, str]]:
        """(field, old, new) of an edit as text, from the `changes` detail (accretion.audit.log.changes)."""
        recorded = self.detail.get("changes") if isinstance(self.detail, dict) else None
        if not isinstance(recorded, dict):
            return []
        return [(name, _shown(pair[0]), _shown(pair[1])) for name, pair in recorded.items()
                if isinstance(pair, list) and len(pair) == 2]

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise AppendOnlyError("audit rows are never updated")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("audit rows are never deleted")


class ChainHead(models.Model):
    """The hash of the newest audit row. Locked while appending, so rows chain in order."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_hash = models.CharField(max_length=64)
    count = models.BigIntegerField(default=0)
