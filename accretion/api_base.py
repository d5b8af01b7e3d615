"""What every API operation shares: the permission it declares (`auth=can(...)`) and the one error shape.

Routers import this module; `accretion/api.py` assembles them into the API and turns the errors into
responses. Keeping the two apart keeps the routers below the API in the layering (no import circle).
Every error answers `{"detail": "...", "errors": [{"field": ..., "message": ...}]}`.
"""

from ninja import Schema
from ninja.errors import HttpError
from ninja.security import HttpBearer

from accretion.clinics.roles import role_has
from accretion.clinics.tenancy import activate_token
from accretion.clinics.two_factor import token_allowed


class ErrorOut(Schema):
    detail: str
    errors: list[dict] = []


ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


class FieldErrors(Exception):
    """Raised by operations whose input failed validation past the schema (forms, rules)."""

    def __init__(self, errors: dict[str, list[str]], status: int = 422, detail: str = "Invalid input."):
        self.errors = errors
        self.status = status
        self.detail = detail


class BearerToken(HttpBearer):
    """A token from POST /auth/token; with a permission, the token's role must hold it (roles.py)."""

    def __init__(self, permission: str | None = None):
        super().__init__()
        if permission is not None:
            role_has(None, permission)  # fail at import time on a misspelt permission
        self.permission = permission

    def authenticate(self, request, token):
        api_token = activate_token(request, token)
        if api_token is None:
            return None
        if not token_allowed(api_token.user, api_token.clinic, request.role):
            raise HttpError(403, f"{api_token.clinic.name} requires two-factor sign-in: set it up in the portal, "
                                 "then ask for a new token with your code.")
        if self.permission and not role_has(request.role, self.permission):
            raise HttpError(403, f"Your role ({request.role}) may not do this ({self.permission}).")
        return api_token


def can(permission: str) -> BearerToken:
    """`auth=can("patient.view")`: the operation's permission, checked before its input is read."""
    return BearerToken(permission)


__all__ = ["ERRORS", "BearerToken", "ErrorOut", "FieldErrors", "can"]
