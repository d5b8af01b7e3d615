"""Recording who touched what: the one function every view, API call and command uses."""

from django.db import models

from accretion.audit.chain import append
from accretion.audit.models import Action, AuditEvent

__all__ = ["NO_CLINIC", "Action", "record", "client_address"]

NO_CLINIC = object()  # `record(..., clinic=NO_CLINIC)`: an account's own event, of no clinic, even within one


def client_address(request) -> str | None:
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


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
