"""Recording who touched what: the one function every view, API call and command uses."""

from django.db import models

from accretion.addresses import client_address
from accretion.audit.chain import append
from accretion.audit.models import Action, AuditEvent

__all__ = ["NO_CLINIC", "Action", "changes", "client_address", "record"]

NO_CLINIC = object()  # `record(..., clinic=NO_CLINIC)`: an account's own event, of no clinic, even within one


def _plain(value):
    """A value as JSON keeps it: dates, times, decimals and other objects as their text."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _flat(values: dict, prefix: str = "") -> dict:
    flat = {}
    for key, value in values.items():
        if isinstance(value, dict) and value:
            flat.update(_flat(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = _plain(value)
    return flat


def changes(before: dict, after: dict) -> dict:
    """`{field: [old, new]}` for each field whose value differs: what an audit row of an edit keeps in its
    `changes` detail (the audit page shows "field: old → new"). Nested settings are named by path
    ("targets.facet_joint.volume_ml"); a field on one side only has None on the other. Never pass secrets."""
    old, new = _flat(before or {}), _flat(after or {})
    return {name: [old.get(name), new.get(name)] for name in sorted(set(old) | set(new))
            if old.get(name) != new.get(name)}


def record(
    request,
    action: str,
    obj: models.Model | None = None,
    *,
    patient_id: int | None = None,
    user=None,
    clinic=None,
    object_type: str = "",
    object_id: str = "",
    **detail,
) -> AuditEvent:
    """Append one audit row. `user` and `clinic` default to the request's."""
    if user is None and request is not None:
        user = getattr(request, "user", None)
    if user is not None and not user.is_authenticated:
        user = None
    if clinic is NO_CLINIC:
        clinic = None
    elif clinic is None and request is not None:
        clinic = getattr(request, "clinic", None)
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
        if patient_id is None:  # the patient the row is about: the object itself, or the patient it belongs to
            patient_id = obj.pk if obj._meta.label_lower == "patients.patient" else getattr(obj, "patient_id", None)
    return append(
        AuditEvent(
            user_id=user.pk if user else None,
            username=(user.get_username() if user else detail.pop("username", "")),
            clinic_id=clinic.pk if clinic else None,
            action=action,
            object_type=object_type,
            object_id=object_id,
            patient_id=patient_id,
            client_address=client_address(request),
            detail=detail,
        )
    )
