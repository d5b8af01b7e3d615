"""Every route is clinic-scoped and guarded by the permission table.

These tests walk the URL configuration itself, so a new page or API
operation that is not covered (an unknown object parameter, or no declared
permission) makes them fail.
"""

import re
from datetime import date
from pathlib import Path

import pytest
from django.urls import get_resolver
from django.urls.resolvers import URLResolver
from ninja.operation import PathView

from accretion.clinics.models import Membership
from accretion.clinics.roles import PERMISSIONS, ROLE_NAMES, permissions_markdown, role_has
from tests.conftest import api_client, signed_in

# Routes anyone may reach (they authenticate, describe the API, or are patient-facing by design).
# Patient-facing by design: education through a link from the clinic; questionnaires through a
# per-task secret link (tests/test_outcomes_collection.py covers those tokens).
PUBLIC_PREFIXES = ("learn/", "f/")
PUBLIC = {
    "",
    "accounts/login/",
    "accounts/logout/",
    "accounts/password/",  # signed-in users only: one's own password
    "accounts/two-factor/",  # signed-in users only: one's own authenticator app
    "accounts/two-factor/verify/",  # the code step of signing in
    "accounts/password-reset/",
    "accounts/password-reset/sent/",
    "accounts/reset/<uidb64>/<token>/",
    "accounts/reset/done/",
    "clinic/switch/",  # signed-in users only; it checks membership itself
    "health/",
    "api/v1/",
    "api/v1/docs",
    "api/v1/openapi.json",
    "api/v1/auth/token",
    "fhir/r4/metadata",  # the FHIR CapabilityStatement: what the server can do, no patient data
}

# How to find an object of clinic `north` for each URL parameter.
OBJECT_PARAMETERS = {
    "patient_id": lambda world: world["patient"].pk,
    "membership_id": lambda world: world["membership"].pk,
    "screening_id": lambda world: world["screening"].pk,
    "procedure_id": lambda world: world["procedure"].pk,
    "consent_id": lambda world: world["consent"].pk,
    "equipment_id": lambda world: world["equipment"].pk,
    "kit_lot_id": lambda world: world["kit_lot"].pk,
    "task_id": lambda world: world["task"].pk,
    "event_id": lambda world: world["event"].pk,
    "injection_id": lambda world: world["injection"].pk,
    "organization_id": lambda world: world["patient"].clinic_id,
}

# A body that passes the schema, for operations whose schema is checked before the object is looked up.
EXAMPLE_BODIES = {
    "api/v1/screenings/<int:screening_id>/review": '{"outcome": "proceed", "reasons": {}}',
}

PARAM = re.compile(r"<(?:\w+:)?(\w+)>")
METHODS = ["get", "post", "patch", "put", "delete"]


def walk(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            yield prefix + str(pattern.pattern), pattern.callback


def operations():
    """(route, methods, required permission or None) for every page and API operation."""
    seen = set()
    for route, callback in walk(get_resolver().url_patterns):
        path_views = [c.cell_contents for c in (getattr(callback, "__closure__", None) or ()) if isinstance(c.cell_contents, PathView)]
        if path_views:
            for op in path_views[0].operations:
                key = (route, tuple(op.methods))
                if key not in seen:
                    seen.add(key)
                    permissions = [getattr(auth, "permission", None) for auth in op.auth_callbacks]
                    yield route, [m.lower() for m in op.methods], next(filter(None, permissions), None)
        elif route not in seen:
            seen.add(route)
            yield route, None, getattr(callback, "required_permission", None)


def is_public(route):
    return route in PUBLIC or route.startswith(PUBLIC_PREFIXES)


def call(client, method, url, is_api, route=""):
    if is_api and method != "get":
        return getattr(client, method)(url, data=EXAMPLE_BODIES.get(route, "{}"), content_type="application/json")
    return getattr(client, method)(url)


def fill(route, world):
    def value(match):
        name = match.group(1)
        assert name in OBJECT_PARAMETERS, f"route {route!r} takes <{name}>: teach this test how to find one"
        return str(OBJECT_PARAMETERS[name](world))

    return "/" + PARAM.sub(value, route)


@pytest.fixture
def world(clinics, staff, make_patient, settings, tmp_path):
    from accretion.consents.models import Consent, Estimate
    from accretion.practice.models import Equipment, KitLot
    from accretion.procedures.models import Procedure
    from accretion.screenings.models import Screening

    north = clinics["north"]
    patient = make_patient(north)
    world = {
        "patient": patient,
        "membership": Membership.objects.get(clinic=north, role="nurse"),
        "screening": Screening.objects.create(clinic=north, patient=patient, created_by=staff[("north", "nurse")]),
        "procedure": Procedure.objects.create(clinic=north, patient=patient, planned_date=date(2030, 1, 15), region="lumbar",
                                              targets=["facet_joint"], levels=["L4-L5"], created_by=staff[("north", "nurse")]),
    }
    nurse = staff[("north", "nurse")]
    estimate = Estimate.objects.create(clinic=north, procedure=world["procedure"], currency="USD", total=0, created_by=nurse)
    world["consent"] = Consent.objects.create(
        clinic=north, patient=patient, procedure=world["procedure"], estimate=estimate, language="en",
        document_version="t", document_html="<p>t</p>", document_sha256="0" * 64, patient_typed_name=patient.full_name,
        signature_png=b"png", explained_by=nurse)
    world["equipment"] = Equipment.objects.create(clinic=north, kind="ultrasound", manufacturer="A", model="B",
                                                  serial="U-1")
    world["kit_lot"] = KitLot.objects.create(clinic=north, product="Kit", manufacturer="A", lot_number="L1",
                                             expiry_date=date(2030, 1, 1), quantity_on_hand=3, received_on=date(2026, 1, 1))
    from accretion.adverse_events.models import AdverseEvent
    from accretion.outcomes.services import schedule_baseline

    world["task"] = schedule_baseline(world["procedure"])
    from django.core.files.base import ContentFile

    from accretion.procedures.models import Injection

    settings.MEDIA_ROOT = tmp_path
    world["injection"] = Injection.objects.create(
        procedure=world["procedure"], target="facet_joint", levels=["L4-L5"], side="left", guidance="ultrasound",
        placement_confirmed=True, volume_ml=2, needle_gauge=22, recorded_by=nurse,
        image=ContentFile(b"\x89PNG\r\n\x1a\n" + b"0" * 64, name="tenancy.png"))
    world["event"] = AdverseEvent.objects.create(clinic=north, patient=patient, event_type="vasovagal", ctcae_grade=1,
                                                 onset=date(2026, 1, 2), outcome="recovered", reported_by=nurse)
    return world


def test_every_route_declares_a_permission_or_is_public():
    undeclared = [route for route, _, permission in operations() if permission is None and not is_public(route)]
    assert undeclared == []
    for _, _, permission in operations():
        assert permission is None or permission in PERMISSIONS


def _role_with(permission):
    return next(role for role in ROLE_NAMES if role_has(role, permission))


@pytest.mark.django_db
def test_other_clinics_objects_are_not_found(world, clinics, staff):
    checked = 0
    for route, methods, permission in operations():
        if not PARAM.search(route) or is_public(route):
            continue
        url = fill(route, world)
        role = _role_with(permission)  # a role that may use the route, so only the clinic differs
        is_api = route.startswith("api/")
        client = api_client(staff[("south", role)], clinics["south"]) if is_api else signed_in(staff[("south", role)])
        statuses = {}
        for method in methods or METHODS:
            statuses[method] = call(client, method, url, is_api, route).status_code
        assert set(statuses.values()) <= {404, 405}, (route, statuses)
        assert 404 in statuses.values(), (route, statuses)
        # ...and the same request from the owning clinic is not a 404.
        owner = api_client(staff[("north", role)], clinics["north"]) if is_api else signed_in(staff[("north", role)])
        method = next(m for m, status in statuses.items() if status == 404)
        assert call(owner, method, url, is_api, route).status_code != 404, route
        checked += 1
    assert checked >= 4


@pytest.mark.django_db
def test_each_role_is_refused_what_the_table_denies(world, clinics, staff):
    north = clinics["north"]
    checked = 0
    for route, methods, permission in operations():
        if permission is None:
            continue
        url = fill(route, world)
        is_api = route.startswith("api/")
        for role in ROLE_NAMES:
            if role_has(role, permission):
                continue
            user = staff[("north", role)]
            client = api_client(user, north) if is_api else signed_in(user, north)
            for method in methods or ["get", "post"]:
                status = call(client, method, url, is_api).status_code
                # 422 would mean validation ran before the permission check: not allowed either.
                assert status in (403, 405), (route, role, method, status)
                checked += 1
    assert checked > 0


def test_the_roles_document_shows_the_permission_table():
    readme = (Path(__file__).resolve().parents[1] / "docs" / "roles.md").read_text()
    assert permissions_markdown() in readme


@pytest.mark.django_db
def test_anonymous_pages_redirect_to_sign_in_and_api_answers_401(world):
    from django.test import Client

    client = Client()
    for route, methods, permission in operations():
        if permission is None:
            continue
        url = fill(route, world)
        if route.startswith("api/"):
            for method in methods:
                response = call(client, method, url, True)
                assert response.status_code == 401, (route, method)
                assert response.json()["errors"][0]["field"] == "Authorization"
        elif route.startswith("fhir/"):  # a FHIR client is told, in FHIR, to authenticate
            response = client.get(url)
            assert response.status_code == 401 and response["WWW-Authenticate"] == "Bearer", route
            assert response.json()["issue"][0]["code"] == "login"
        else:
            response = client.get(url)
            assert response.status_code == 302 and response["Location"].startswith("/accounts/login/"), route


# Parameters that name a patient's record: a page reached with one shows patient data.
PATIENT_RECORD_PARAMETERS = {"patient_id", "screening_id", "procedure_id", "consent_id", "task_id", "event_id",
                             "injection_id"}


@pytest.mark.django_db
def test_every_page_and_api_read_of_a_patients_record_is_audited(world, clinics, staff):
    """A GET that shows a patient's record (200) writes an audit row naming that patient."""
    from accretion.audit.models import AuditEvent

    north, patient = clinics["north"], world["patient"]
    checked, silent = [], []
    for route, methods, permission in operations():
        if permission is None or not set(PARAM.findall(route)) & PATIENT_RECORD_PARAMETERS:
            continue
        if methods and "get" not in methods:
            continue
        is_api = route.startswith("api/")
        user = staff[("north", _role_with(permission))]
        client = api_client(user, north) if is_api else signed_in(user, north)
        last = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
        response = client.get(fill(route, world))
        if response.status_code != 200:
            continue  # a form that only posts, a redirect, a refusal: nothing shown
        rows = AuditEvent.objects.filter(id__gt=last)
        if not rows.filter(patient_id=patient.pk).exists():
            silent.append(route)
        checked.append(route)
    assert silent == [], f"pages that show a patient's record without an audit row: {silent}"
    assert len(checked) >= 12, checked


# Pages without an object in their path that list patients of a day or a week: another clinic's never appear.
SCHEDULE_PAGES = ["/schedule/week/?start=2030-01-15", "/schedule/day/print/?date=2030-01-15"]


@pytest.mark.django_db
def test_schedule_pages_show_only_the_clinics_own_procedures(world, clinics, staff):
    mrn = world["patient"].mrn  # planned for 2030-01-15 in clinic north
    routes = {route for route, _, _ in operations()}
    assert {"schedule/week/", "schedule/day/print/"} <= routes
    for url in SCHEDULE_PAGES:
        south = signed_in(staff[("south", "physician")], clinics["south"]).get(url)
        north = signed_in(staff[("north", "physician")], clinics["north"]).get(url)
        assert south.status_code == north.status_code == 200, url
        assert mrn not in south.content.decode() and mrn in north.content.decode(), url
