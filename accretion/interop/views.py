"""The FHIR R4 API at /fhir/r4/: read and search of the active clinic's patients and procedures.

Authentication is the JSON API's bearer token (`POST /api/v1/auth/token`), or
a signed-in member's session; the token's (or the session's active) clinic
scopes every answer and the role must hold `patient.view`. A
record of another clinic does not exist here (404). Every read is audited
like a page read (`via: "fhir"`). Errors are OperationOutcome resources with a
4xx status naming the parameter at fault; the CapabilityStatement
(`/metadata`) needs no token.
"""

from __future__ import annotations

import json
import re
from datetime import date
from functools import wraps
from importlib.metadata import PackageNotFoundError, version
from urllib.parse import urlencode

from django.http import HttpResponse
from django.views.decorators.http import require_GET

from accretion.audit.log import Action, record
from accretion.clinics.roles import role_has
from accretion.clinics.tenancy import activate_token, clinic_objects
from accretion.clinics.two_factor import session_problem, token_allowed
from accretion.interop import fhir
from accretion.patients.models import Patient
from accretion.procedures.models import Procedure

PERMISSION = "patient.view"
DEFAULT_COUNT, MOST_COUNT = 20, 100
PATIENT_PARAMETERS = {"_id", "identifier", "family", "birthdate"}
PROCEDURE_PARAMETERS = {"patient"}
PAGING = {"_count", "_offset", "_format"}
DIGITS = re.compile(r"[0-9]{1,18}")


class Problem(Exception):
    def __init__(self, status: int, code: str, diagnostics: str, expression: str | None = None):
        self.status, self.code, self.diagnostics, self.expression = status, code, diagnostics, expression


def answer(resource: dict, status: int = 200) -> HttpResponse:
    return HttpResponse(json.dumps(resource, ensure_ascii=False), status=status,
                        content_type=f"{fhir.MEDIA_TYPE}; charset=utf-8")


def _base(request) -> str:
    return request.build_absolute_uri("/fhir/r4").rstrip("/")


def _signed_in(request) -> bool:
    """A bearer token (a system), or a signed-in member's session (a person following a link).

    Either way the clinic's two-factor requirement holds: a token only while its account has the app when the
    clinic requires it, a session only once it has given the code (Problem 403 otherwise).
    """
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer":
        api_token = activate_token(request, token)
        if api_token is None:
            return False
        if not token_allowed(api_token.user, api_token.clinic, request.role):
            raise Problem(403, "security", f"{api_token.clinic.name} requires two-factor sign-in.")
        return True
    if not (request.user.is_authenticated and getattr(request, "clinic", None) is not None):
        return False
    if session_problem(request):
        raise Problem(403, "security", "Sign in with your two-factor code first.")
    return True


def fhir_view(view):
    """Token or session, clinic, `patient.view`; a Problem becomes an OperationOutcome."""
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        try:
            if not _signed_in(request):
                response = answer(fhir.operation_outcome("login", "Send Authorization: Bearer <token> from "
                                                                  "POST /api/v1/auth/token."), 401)
                response["WWW-Authenticate"] = "Bearer"
                return response
            if not role_has(request.role, PERMISSION):
                raise Problem(403, "forbidden", f"Your role ({request.role}) may not read patient records.")
            return view(request, *args, **kwargs)
        except Problem as problem:
            return answer(fhir.operation_outcome(problem.code, problem.diagnostics, problem.expression),
                          problem.status)

    wrapped.required_permission = PERMISSION
    return wrapped


def _only(request, allowed: set[str]) -> None:
    for name in request.GET:
        if name not in allowed | PAGING:
            raise Problem(400, "not-supported", f"Search parameter {name[:40]!r} is not supported here; "
                                                f"supported: {', '.join(sorted(allowed))}.", name[:40])
        if "\x00" in request.GET[name] or len(request.GET[name]) > 200:
            raise Problem(400, "invalid", f"The value of {name} is not valid.", name)


def _count_offset(request) -> tuple[int, int]:
    values = []
    for name, default, low, high in (("_count", DEFAULT_COUNT, 0, MOST_COUNT), ("_offset", 0, 0, 10**9)):
        text = request.GET.get(name, str(default))
        if not DIGITS.fullmatch(text) or not low <= int(text) <= high:
            raise Problem(400, "invalid", f"{name} must be a whole number from {low} to {high}.", name)
        values.append(int(text))
    return values[0], values[1]


def _search(request, queryset, build, object_type: str) -> HttpResponse:
    count, offset = _count_offset(request)
    total = queryset.count()
    rows = list(queryset[offset:offset + count])
    base = _base(request)
    query = {k: v for k, v in request.GET.items() if k != "_offset"}
    self_url = f"{base}{request.path.removeprefix('/fhir/r4')}?{urlencode({**query, '_offset': offset})}"
    next_url = None
    if offset + count < total and count:
        next_url = f"{base}{request.path.removeprefix('/fhir/r4')}?{urlencode({**query, '_offset': offset + count})}"
    if rows:
        record(request, Action.LIST, object_type=object_type, ids=[row.pk for row in rows], via="fhir",
               query=dict(query))
    return answer(fhir.bundle([build(row) for row in rows], base=base, total=total, self_url=self_url,
                              next_url=next_url))


def _id(value: str, name: str = "_id") -> int:
    if not DIGITS.fullmatch(value):  # ASCII digits only: str.isdigit() also takes "²" and "١٢"
        raise Problem(404, "not-found", "No such resource.", name)
    return int(value)


def _read(request, queryset, pk: str, build) -> HttpResponse:
    row = clinic_objects(request, queryset).filter(pk=_id(pk, "id")).first()
    if row is None:
        raise Problem(404, "not-found", "No such resource in this clinic.")
    record(request, Action.VIEW, row, via="fhir")
    return answer(build(row))


# --- Patient ----------------------------------------------------------------------------------------------


def _patients(request):
    _only(request, PATIENT_PARAMETERS)
    patients = clinic_objects(request, Patient).select_related("clinic").order_by("family_name", "given_name", "pk")
    if "_id" in request.GET:
        patients = patients.filter(pk=_id(request.GET["_id"]))
    if "identifier" in request.GET:
        system, bar, value = request.GET["identifier"].rpartition("|")
        if bar and system and system != fhir.mrn_system(request.clinic):
            patients = patients.none()  # another system's numbers: none of ours
        patients = patients.filter(mrn__iexact=value)
    if "family" in request.GET:
        patients = patients.filter(family_name__istartswith=request.GET["family"])
    if "birthdate" in request.GET:
        try:
            patients = patients.filter(date_of_birth=date.fromisoformat(request.GET["birthdate"]))
        except ValueError:
            raise Problem(400, "invalid", "birthdate must be a date, YYYY-MM-DD.", "birthdate") from None
    return patients


@require_GET
@fhir_view
def patient_search(request):
    return _search(request, _patients(request), fhir.patient, "patients.patient")


@require_GET
@fhir_view
def patient_read(request, patient_id):
    return _read(request, Patient.objects.select_related("clinic"), patient_id, fhir.patient)


# --- Procedure --------------------------------------------------------------------------------------------


@require_GET
@fhir_view
def procedure_search(request):
    _only(request, PROCEDURE_PARAMETERS)
    procedures = clinic_objects(request, Procedure).select_related("physician").order_by("-planned_date", "-pk")
    if "patient" in request.GET:
        procedures = procedures.filter(patient_id=_id(request.GET["patient"].removeprefix("Patient/"), "patient"))
    return _search(request, procedures, fhir.procedure, "procedures.procedure")


@require_GET
@fhir_view
def procedure_read(request, procedure_id):
    return _read(request, Procedure.objects.select_related("physician"), procedure_id, fhir.procedure)


# --- Organization and metadata ------------------------------------------------------------------------------


@require_GET
@fhir_view
def organization_read(request, organization_id):
    if _id(organization_id, "id") != request.clinic.pk:
        raise Problem(404, "not-found", "No such resource in this clinic.")
    return answer(fhir.organization(request.clinic))


@require_GET
def metadata(request):
    try:
        software = version("accretion-portal")
    except PackageNotFoundError:
        software = "development"
    return answer(fhir.capability_statement(_base(request), software))
