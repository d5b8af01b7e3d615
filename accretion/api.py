"""The JSON API at /api/v1/: the token endpoint, the error responses, and the apps' routers assembled.

Every error answers `{"detail": "...", "errors": [{"field": ..., "message": ...}]}`
(`errors` present when particular fields are at fault).
"""

from django.conf import settings
from django.contrib.auth import authenticate
from django.http import Http404
from django_otp.plugins.otp_totp.models import TOTPDevice
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError
from pydantic import Field

from accretion.api_base import ERRORS, BearerToken, FieldErrors
from accretion.audit.log import NO_CLINIC, Action, record
from accretion.clinics.models import ApiToken, Membership
from accretion.consents.api import router as prices
from accretion.patients.api import router as patients
from accretion.screenings.api import router as screenings

_LOCATIONS = {"body", "query", "path", "header", "cookie", "form", "file", "payload", "filters"}


api = NinjaAPI(
    title="Accretion Portal API",
    version="1",
    description="Clinic-scoped JSON API. Send `Authorization: Bearer <token>` from `POST /auth/token`.",
    urls_namespace="api",
    auth=BearerToken(),
)


def _field_name(loc) -> str | None:
    parts = [str(p) for p in loc if str(p) not in _LOCATIONS]
    return ".".join(parts) or None


@api.exception_handler(ValidationError)
def _validation_error(request, exc):
    errors = [{"field": _field_name(e.get("loc", ())), "message": e.get("msg", "invalid")} for e in exc.errors]
    return api.create_response(request, {"detail": "Invalid input.", "errors": errors}, status=422)


@api.exception_handler(FieldErrors)
def _field_errors(request, exc):
    errors = [
        {"field": None if field == "__all__" else field, "message": str(message)}
        for field, messages in exc.errors.items()
        for message in messages
    ]
    return api.create_response(request, {"detail": exc.detail, "errors": errors}, status=exc.status)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request, exc):
    return api.create_response(
        request,
        {"detail": "Missing, invalid or expired token.", "errors": [{"field": "Authorization", "message": "Send Authorization: Bearer <token>."}]},
        status=401,
    )


@api.exception_handler(Http404)
def _not_found(request, exc):
    return api.create_response(request, {"detail": "Not found."}, status=404)


@api.exception_handler(HttpError)
def _http_error(request, exc):
    return api.create_response(request, {"detail": str(exc)}, status=exc.status_code)


# --- Tokens -----------------------------------------------------------------------


class TokenIn(Schema):
    username: str = Field(max_length=150, pattern=r"^[^\x00]*$")
    password: str = Field(max_length=256, pattern=r"^[^\x00]*$")
    clinic: str | None = Field(None, max_length=40, pattern=r"^[^\x00]*$", description="Clinic slug; default: your first clinic")
    code: str | None = Field(None, max_length=6, pattern=r"^[0-9]{6}$",
                             description="The 6-digit code of your authenticator app, when two-factor sign-in is on")


class TokenOut(Schema):
    token: str
    clinic: str
    role: str
    expires_at: str


@api.post("/auth/token", auth=None, response={200: TokenOut, **ERRORS}, tags=["auth"])
def issue_token(request, payload: TokenIn):
    """Exchange a username and password for a bearer token acting in one clinic."""
    user = authenticate(request, username=payload.username, password=payload.password)
    if getattr(request, "axes_locked_out", False):
        raise HttpError(403, f"This account is locked after repeated failed sign-ins; try again in {settings.LOCKOUT_MINUTES} minutes.")
    if user is None or not user.is_active:
        raise FieldErrors({"password": ["Wrong username or password."]}, status=401, detail="Wrong username or password.")
    memberships = Membership.objects.filter(user=user).select_related("clinic").order_by("clinic__name")
    if payload.clinic:
        membership = memberships.filter(clinic__slug=payload.clinic).first()
        if membership is None:
            raise FieldErrors({"clinic": [f"You are not a member of a clinic '{payload.clinic}'."]}, status=403, detail="Not a member of that clinic.")
    else:
        membership = memberships.first()
        if membership is None:
            raise FieldErrors({"clinic": ["This account belongs to no clinic."]}, status=403, detail="No clinic.")
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None and membership.clinic.requires_two_factor(membership.role):
        raise FieldErrors({"code": [(f"{membership.clinic.name} requires two-factor sign-in: set it up in the portal "
                                    "first (/accounts/two-factor/).")]}, status=403, detail="Two-factor sign-in needed.")
    if device is not None and not (payload.code and device.verify_token(payload.code)):
        record(request, Action.LOGIN_FAILED, user=user, clinic=NO_CLINIC, username=user.get_username(),
               reason="two-factor code", via="api")
        raise FieldErrors({"code": ["Send the 6-digit code of your authenticator app."]}, status=401,
                          detail="Two-factor code missing or wrong.")
    token, raw = ApiToken.issue(user, membership.clinic, hours=settings.API_TOKEN_HOURS)
    record(request, Action.TOKEN_ISSUED, token, user=user, clinic=membership.clinic)
    return {"token": raw, "clinic": membership.clinic.slug, "role": membership.role, "expires_at": token.expires_at.isoformat()}


api.add_router("/patients", patients)
api.add_router("", screenings)
api.add_router("", prices)

__all__ = ["api"]
