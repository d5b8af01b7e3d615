"""A page shows a role only the forms it may save.

For each role, every staff page (every GET route of the portal, filled with records in each state that changes
what a page offers: a procedure planned, in progress, prepared, completed, signed, cancelled; a screening waiting
for review; a signed consent; an unjudged adverse event; an open questionnaire) is rendered, and every
`<form method="post">` on it must post to a route whose declared permission the role holds. The permission is
read from the route itself (`requires(...)` in tenancy.py), as tests/test_tenancy.py does, so a new form or page
is covered without teaching this test about it. The sign-out and clinic-switch forms of base.html are for everyone.
"""

from datetime import timedelta
from html.parser import HTMLParser
from itertools import product
from urllib.parse import urljoin, urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import Resolver404, resolve
from django.utils import timezone

from accretion.clinics.roles import ROLE_NAMES, role_has
from accretion.consents.models import Consent, Estimate
from accretion.practice.models import Equipment, KitLot, TrainingRecord
from accretion.practice.services import REQUIRED_MODULES
from accretion.procedures.models import Procedure
from accretion.screenings.models import Screening
from tests.conftest import screened, signed_in
from tests.test_tenancy import PARAM, is_public, operations

FOR_EVERYONE = {"logout", "switch-clinic"}  # base.html: sign out, switch clinic
CHECKLIST = ["two_identifiers", "site_confirmed", "allergies_reviewed", "antithrombotics_reviewed", "sterile_field",
             "imaging_ready", "emergency_equipment"]
PREP = {"whole_blood_ml": "30", "anticoagulant": "acd_a", "anticoagulant_ml": "3", "spin_unit": "g",
        "spin_speed": "1500", "spin_minutes": "10", "spin_count": "2", "baseline_platelets": "220",
        "baseline_wbc": "6.5", "prp_platelets": "1100", "prp_wbc": "1.2", "prp_volume_ml": "4", "activation": "none"}
PNG = b"\x89PNG\r\n\x1a\n" + b"0" * 64


class PostForms(HTMLParser):
    """The (action, line) of every form posting somewhere, and of every element that posts through htmx."""

    def __init__(self):
        super().__init__()
        self.found: list[tuple[str | None, int]] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "form" and (attributes.get("method") or "get").lower() == "post":
            self.found.append((attributes.get("action"), self.getpos()[0]))
        if attributes.get("hx-post") is not None:
            self.found.append((attributes["hx-post"], self.getpos()[0]))


def post_targets(page_url: str, html: str) -> list[tuple[str, int]]:
    parser = PostForms()
    parser.feed(html)
    return [(urlsplit(urljoin(page_url, action or page_url)).path, line) for action, line in parser.found]


def permission_to_post(path: str) -> tuple[str | None, str]:
    """(the permission the route at `path` requires, its URL name)."""
    try:
        match = resolve(path)
    except Resolver404:
        return None, f"no route at {path}"
    return getattr(match.func, "required_permission", None), match.url_name or ""


class Day:
    """Procedures of clinic north taken through the day by the staff who do each step, over HTTP."""

    def __init__(self, north, staff, make_patient):
        self.north, self.staff, self.make_patient = north, staff, make_patient
        today = timezone.localdate()
        physician, prep, admin = (staff[("north", r)] for r in ("physician", "prep_tech", "clinic_admin"))
        for user in (physician, prep):
            for module in REQUIRED_MODULES:
                TrainingRecord.objects.create(clinic=north, user=user, module=module,
                                              completed_on=today - timedelta(days=30),
                                              expires_on=today + timedelta(days=300), verified_by=admin)
        self.centrifuge = Equipment.objects.create(clinic=north, kind="centrifuge", manufacturer="Acme", model="Spin",
                                                   serial="C-1", fda_510k="K123456", next_maintenance=today + timedelta(days=60))
        self.fluoro = Equipment.objects.create(clinic=north, kind="fluoroscopy", manufacturer="Acme", model="C-arm",
                                               serial="F-1", next_maintenance=today + timedelta(days=60))
        self.lot = KitLot.objects.create(clinic=north, product="PRP kit", manufacturer="Acme", lot_number="LOT-1",
                                         expiry_date=today + timedelta(days=90), quantity_on_hand=20,
                                         received_on=today)
        self.nurse = signed_in(staff[("north", "nurse")], north)
        self.prep = signed_in(prep, north)
        self.physician = signed_in(physician, north)

    def planned(self, *, team=True):
        nurse = self.staff[("north", "nurse")]
        patient = self.make_patient(self.north)
        screened(patient)
        procedure = Procedure.objects.create(
            clinic=self.north, patient=patient, planned_date=timezone.localdate(), region="lumbar",
            targets=["facet_joint"], levels=["L4-L5"], created_by=nurse,
            physician=self.staff[("north", "physician")] if team else None,
            prep_tech=self.staff[("north", "prep_tech")] if team else None)
        estimate = Estimate.objects.create(clinic=self.north, procedure=procedure, currency="USD", total=1,
                                           created_by=nurse)
        Consent.objects.create(clinic=self.north, patient=patient, procedure=procedure, estimate=estimate,
                               language="en", document_version="1", document_html="x", document_sha256="0" * 64,
                               patient_typed_name=patient.full_name, signature_png=b"p", explained_by=nurse)
        from accretion.outcomes.services import schedule_baseline

        schedule_baseline(procedure)
        return procedure

    def _post(self, client, procedure, step, data, **files):
        procedure.refresh_from_db()
        response = client.post(f"/procedures/{procedure.pk}/{step}/", {"version": procedure.version, **data, **files})
        assert response.status_code == 302, (step, response.content.decode()[:3000])

    def started(self):
        procedure = self.planned()
        self._post(self.nurse, procedure, "timeout", {"kit_lot": self.lot.pk, "centrifuge": self.centrifuge.pk,
                                                      "imaging_unit": self.fluoro.pk, "confirmed": CHECKLIST})
        return procedure

    def prepared(self):
        procedure = self.started()
        drawn = (timezone.localtime() - timedelta(minutes=40)).strftime("%Y-%m-%dT%H:%M")
        self._post(self.prep, procedure, "preparation", {**PREP, "drawn_at": drawn})
        self._post(self.nurse, procedure, "injections",
                   {"target": "facet_joint", "levels": "L4-L5", "side": "left", "guidance": "fluoroscopy",
                    "placement_confirmed": "yes", "volume_ml": "3.5", "needle_gauge": "22",
                    "screening_time_s": "12.5", "dose_area_product": "1.1"},
                   image=SimpleUploadedFile("shot.png", PNG, content_type="image/png"))
        return procedure

    def completed(self):
        procedure = self.prepared()
        injected = (timezone.localtime() - timedelta(minutes=15)).strftime("%Y-%m-%dT%H:%M")
        self._post(self.nurse, procedure, "complete", {"injected_at": injected})
        return procedure

    def signed(self):
        procedure = self.completed()
        procedure.refresh_from_db()
        page = self.physician.get(f"/procedures/{procedure.pk}/")
        reasons = {name: "Agreed." for name in page.context["forms"]["sign"].fields if name != "version"}
        assert reasons, "the completed procedure should have a deviation to give a reason for"
        self._post(self.physician, procedure, "sign", reasons)
        return procedure

    def cancelled(self):
        procedure = self.planned()
        self._post(self.nurse, procedure, "cancel", {"reason": "The patient is unwell."})
        return procedure


@pytest.fixture
def records(clinics, staff, make_patient, settings, tmp_path):
    """Candidates for each URL parameter: records of clinic north in every state a page distinguishes."""
    from accretion.adverse_events.models import AdverseEvent
    from accretion.clinics.models import Membership

    settings.MEDIA_ROOT = tmp_path
    north = clinics["north"]
    day = Day(north, staff, make_patient)
    procedures = {"unassigned": day.planned(team=False), "planned": day.planned(), "started": day.started(),
                  "prepared": day.prepared(), "completed": day.completed(), "signed": day.signed(),
                  "cancelled": day.cancelled()}
    prepared = procedures["prepared"]
    waiting = screened(make_patient(north), decision="review", findings=[
        {"code": "ANTICOAGULANT", "severity": "review", "message": "Takes warfarin.", "source": "test"}])
    nurse = staff[("north", "nurse")]
    event = AdverseEvent.objects.create(clinic=north, patient=prepared.patient, procedure=prepared,
                                        event_type="vasovagal", ctcae_grade=1, onset=timezone.localdate(),
                                        outcome="recovered", reported_by=nurse)
    return {
        "procedure_id": [p.pk for p in procedures.values()],
        "patient_id": [p.patient_id for p in procedures.values()],
        "screening_id": [waiting.pk, Screening.objects.filter(patient=prepared.patient).get().pk],
        "consent_id": [Consent.objects.get(procedure=prepared).pk],
        "event_id": [event.pk],
        "task_id": list(prepared.questionnaire_tasks.values_list("pk", flat=True)),
        "injection_id": list(prepared.injections.values_list("pk", flat=True)),
        "membership_id": [Membership.objects.get(clinic=north, role="nurse").pk],
        "equipment_id": [day.centrifuge.pk],
        "kit_lot_id": [day.lot.pk],
        "_procedures": procedures,
    }


def staff_pages(records):
    """Every URL of a page a signed-in member may open (no API, no FHIR), once per combination of records."""
    for route, methods, permission in operations():
        if permission is None or is_public(route) or route.startswith(("api/", "fhir/")):
            continue
        names = PARAM.findall(route)
        for values in product(*(records[name] for name in names)):
            chosen = dict(zip(names, values))
            yield "/" + PARAM.sub(lambda m, chosen=chosen: str(chosen[m.group(1)]), route)


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLE_NAMES)
def test_every_form_a_role_is_shown_posts_where_the_role_may_post(role, records, clinics, staff):
    client = signed_in(staff[("north", role)], clinics["north"])
    wrong, pages, forms = [], 0, 0
    for url in staff_pages(records):
        response = client.get(url)
        if response.status_code != 200 or not response.get("Content-Type", "").startswith("text/html"):
            continue
        pages += 1
        for path, line in post_targets(url, response.content.decode()):
            permission, name = permission_to_post(path)
            if name in FOR_EVERYONE:
                continue
            forms += 1
            if permission is None or not role_has(role, permission):
                wrong.append(f"{url} line {line}: a form posting to {path} ({name}, needs {permission})")
    assert not wrong, f"{role} is shown forms it cannot save:\n" + "\n".join(wrong)
    assert pages >= 15, pages
    if role != "auditor":  # the auditor reads; it saves nothing but its own sign-out
        assert forms > 0


@pytest.mark.django_db
def test_the_states_are_the_ones_the_pages_distinguish(records):
    """The fixture really reached each state (else the test above would check less than it says)."""
    states = {name: Procedure.objects.get(pk=p.pk).status for name, p in records["_procedures"].items()}
    assert states == {"unassigned": "planned", "planned": "planned", "started": "in_progress",
                      "prepared": "in_progress", "completed": "completed", "signed": "signed",
                      "cancelled": "cancelled"}
    prepared = Procedure.objects.get(pk=records["_procedures"]["prepared"].pk)
    assert hasattr(prepared, "preparation") and prepared.injections.exclude(image="").count() == 1
