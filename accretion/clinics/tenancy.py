"""Tenancy: every request acts in one clinic, and every query is scoped to it.

- `ActiveClinicMiddleware` puts the signed-in user's active clinic and role on
  the request (`request.clinic`, `request.role`, `request.memberships`).
- `clinic_objects(request, Model)` is the only way request code reaches
  clinic-owned rows; an object of another clinic is simply not found (404).
- `requires("permission")` guards a page, `api_requires` an API operation,
  both against the permission table in roles.py.
"""

from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, F, OuterRef, QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from accretion.clinics.models import ApiToken, Membership, token_digest
from accretion.clinics.roles import PERMISSIONS, role_has
from accretion.clinics.two_factor import session_problem

SESSION_KEY = "active_clinic_id"


def _activate(request, memberships, wanted_id):
    chosen = next((m for m in memberships if m.clinic_id == wanted_id), None)
    chosen = chosen or (memberships[0] if memberships else None)
    request.memberships = memberships
    request.membership = chosen
    request.clinic = chosen.clinic if chosen else None
    request.role = chosen.role if chosen else None


class ActiveClinicMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.clinic = request.role = request.membership = None
        request.memberships = []
        request.has_two_factor = None  # unknown: nobody signed in
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            # Whether the account has an authenticator app rides along in the same query (two_factor.py asks).
            app = TOTPDevice.objects.filter(user=OuterRef("user"), confirmed=True)
            memberships = list(Membership.objects.filter(user=user).select_related("clinic")
                               .annotate(has_two_factor=Exists(app)))
            request.has_two_factor = memberships[0].has_two_factor if memberships else None
            _activate(request, memberships, request.session.get(SESSION_KEY))
        return self.get_response(request)


def activate_token(request, raw: str):
    """The live API token `raw` of an active account that is still a member of the token's clinic, made the
    request's user and clinic; None otherwise (the caller answers 401).

    One query: the membership of the token's user in the token's clinic, joined to the token, with the user
    and the clinic. The token itself is rebuilt from the joined columns."""
    if not raw or len(raw) > 200 or "\x00" in raw:
        return None
    token = "user__api_tokens__"
    membership = (Membership.objects.order_by()
                  .filter(**{f"{token}digest": token_digest(raw), f"{token}expires_at__gt": timezone.now(),
                             f"{token}clinic": F("clinic"), "user__is_active": True})
                  .select_related("user", "clinic")
                  .annotate(token_id=F(f"{token}id"), token_created_at=F(f"{token}created_at"),
                            token_expires_at=F(f"{token}expires_at"))
                  .first())
    if membership is None:
        return None
    request.user = membership.user
    request.memberships = [membership]
    request.membership = membership
    request.clinic = membership.clinic
    request.role = membership.role
    return ApiToken(id=membership.token_id, digest=token_digest(raw), user=membership.user, clinic=membership.clinic,
                    created_at=membership.token_created_at, expires_at=membership.token_expires_at)


def clinic_context(request):
    return {
        "active_clinic": getattr(request, "clinic", None),
        "active_role": getattr(request, "role", None),
        "memberships": getattr(request, "memberships", []),
        "can": _Can(getattr(request, "role", None)),
        "session_minutes": settings.SESSION_IDLE_MINUTES,
    }


class _Can:
    """Lets templates ask `{% if can.patient_edit %}` or `{% if can.adverse_event_record %}`."""

    _names = {name.replace(".", "_"): name for name in PERMISSIONS}

    def __init__(self, role):
        self.role = role

    def __getattr__(self, attribute):
        if attribute not in self._names:
            raise AttributeError(f"no permission {attribute!r}")
        return role_has(self.role, self._names[attribute])


def clinic_objects(request, model_or_queryset):
    """The rows of a model (or queryset) that belong to the request's clinic."""
    queryset = model_or_queryset
    if not isinstance(queryset, QuerySet):
        queryset = queryset._default_manager.all()
    if request.clinic is None:
        return queryset.none()
    return queryset.filter(clinic=request.clinic)


def get_clinic_object(request, model_or_queryset, **lookup):
    """One row of the request's clinic, or 404: another clinic's row does not exist here."""
    return get_object_or_404(clinic_objects(request, model_or_queryset), **lookup)


def requires(permission: str):
    """Page decorator: signed in, a member of the active clinic, and a role holding `permission`."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                if request.htmx:
                    response = HttpResponse(status=204)
                    response["HX-Redirect"] = f"{request.build_absolute_uri('/accounts/login/')}"
                    return response
                return redirect_to_login(request.get_full_path())
            if request.clinic is None or not role_has(request.role, permission):
                raise PermissionDenied(permission)
            problem = session_problem(request)
            if problem == "code":  # a session opened on the password alone before the app was set up
                logout(request)
                messages.warning(request, "Sign in again: your account now asks for a code from your app.")
                return redirect_to_login(request.get_full_path())
            if problem == "setup":
                messages.warning(request, f"{request.clinic.name} requires two-factor sign-in. Set it up to go on.")
                return redirect("two-factor")
            return view(request, *args, **kwargs)

        wrapped.required_permission = permission
        return wrapped

    return decorator
