"""Every staff page, as every role: it shows only the forms the role may save, and words, never internal codes.

The crawl: every GET route of the portal (no API, no FHIR), filled with records in each state that changes what a
page offers (a procedure planned, in progress, prepared, completed, signed, cancelled; a screening waiting for
review; a signed consent; an unjudged adverse event; an open questionnaire), is rendered once per role, and each
page is checked twice:

- Forms: every `<form method="post">` (and every `hx-post`) must post to a route whose declared permission the
  role holds. The permission is read from the route itself (`requires(...)` in tenancy.py), as
  tests/test_tenancy.py does, so a new form or page is covered without teaching this test about it. The sign-out
  and clinic-switch forms of base.html are for everyone.
- Codes: the VISIBLE text (tags, scripts, styles and attribute values removed; `<code>`, `<pre>` and `<kbd>`,
  which are meant to show codes, removed too) must not contain a known internal code as a whole word. Which
  codes: every choice value of every model field of the installed accretion apps whose value differs from its
  label, plus the vocabularies that are not model choices (questionnaire task states, follow-up window states),
  imported from where they are defined; of those, only the codes that cannot be ordinary words: a code with an
  underscore (`in_progress`, `prep_tech`, `not_eligible`) and that code with its underscores cut (`inprogress`,
  what `|cut:"_"` prints). Codes that are also English words (`open`, `planned`) may be said. User names
  (`prep_tech@north.test`, shown beside staff names) are words of their own and are removed first.

The records are built once and every role crawls them, so the whole check costs one set-up.
"""

import re
from datetime import timedelta
from html.parser import HTMLParser
from itertools import product
from urllib.parse import urljoin, urlsplit

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import Resolver404, resolve
from django.utils import timezone

from accretion.clinical.followup import WINDOW_STATES
from accretion.clinics.roles import ROLE_NAMES, role_has
from accretion.consents.models import Consent, Estimate
from accretion.outcomes.models import TASK_STATES
from accretion.practice.models import Equipment, KitLot, TrainingRecord
from accretion.practice.services import REQUIRED_MODULES
from accretion.procedures.models import Procedure
from accretion.screenings.models import Screening
from tests.conftest import screened, signed_in
from tests.test_tenancy import PARAM, is_public, operations

HIDDEN = {"script", "style", "code", "pre", "kbd", "template", "textarea"}
USER_NAME = re.compile(r"\S+@\S+")
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
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


def internal_codes() -> dict[str, str]:
    """{code: where it comes from} for every code a page must never print."""
    vocabularies: dict[str, str] = {}
    for config in apps.get_app_configs():
        if not config.name.startswith("accretion"):
            continue
        for model in config.get_models():
            for field in model._meta.get_fields():
                for value, label in getattr(field, "flatchoices", None) or ():
                    if isinstance(value, str) and value != label:
                        vocabularies[value] = f"{model.__name__}.{field.name}"
    vocabularies.update({code: "QuestionnaireTask.state" for code in TASK_STATES})
    vocabularies.update({code: "Window.state" for code in WINDOW_STATES})
    codes = {}
    for code, source in vocabularies.items():
        if "_" in code.strip("_"):
            codes[code] = source
            codes[code.replace("_", "")] = source
    return codes


class VisibleText(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.hidden = 0
        self.stack: list[str] = []
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in VOID:
            return
        self.stack.append(tag)
        if tag in HIDDEN:
            self.hidden += 1

    def handle_endtag(self, tag):
        if tag not in self.stack:
            return
        while self.stack:
            open_tag = self.stack.pop()
            if open_tag in HIDDEN:
                self.hidden -= 1
            if open_tag == tag:
                break

    def handle_data(self, data):
        if not self.hidden:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = VisibleText()
    parser.feed(html)
    return " ".join(parser.parts)


def test_the_codes_are_collected_from_the_models_and_the_vocabularies():
    codes = internal_codes()
    for code in ("in_progress", "prep_tech", "clinic_admin", "not_open", "notopen", "facet_joint"):
        assert code in codes, code
    assert "open" not in codes and "planned" not in codes


def test_visible_text_leaves_out_markup_attributes_and_code():
    html = ('<p class="in_progress" title="prep_tech">In progress <code>not_open</code></p>'
            '<script>var a = "clinic_admin";</script><pre>x_y</pre><br><b>words</b>')
    assert visible_text(html).split() == ["In", "progress", "words"]


def wrong_forms(role: str, url: str, html: str) -> tuple[list[str], int]:
    """The forms on the page that post where `role` may not, and how many forms were checked."""
    wrong, checked = [], 0
    for path, line in post_targets(url, html):
        permission, name = permission_to_post(path)
        if name in FOR_EVERYONE:
            continue
        checked += 1
        if permission is None or not role_has(role, permission):
            wrong.append(f"{url} line {line}: a form posting to {path} ({name}, needs {permission})")
    return wrong, checked


def raw_codes(url: str, html: str, codes: dict[str, str], word) -> list[str]:
    text = USER_NAME.sub(" ", visible_text(html))
    found = []
    for match in word.finditer(text):
        context = text[max(0, match.start() - 40):match.end() + 40]
        found.append(f"{url}: {match.group(1)} ({codes[match.group(1)]}) in '{' '.join(context.split())}'")
    return found


@pytest.mark.django_db
def test_every_role_sees_only_forms_it_may_save_and_words_not_codes(records, clinics, staff):
    """One crawl per role over the same records; failures of every role are reported together."""
    states = {name: Procedure.objects.get(pk=p.pk).status for name, p in records["_procedures"].items()}
    assert states == {"unassigned": "planned", "planned": "planned", "started": "in_progress",
                      "prepared": "in_progress", "completed": "completed", "signed": "signed",
                      "cancelled": "cancelled"}, "the records did not reach the states the crawl is meant to cover"
    prepared = Procedure.objects.get(pk=records["_procedures"]["prepared"].pk)
    assert hasattr(prepared, "preparation") and prepared.injections.exclude(image="").count() == 1

    codes = internal_codes()
    word = re.compile(r"(?<![\w-])(" + "|".join(sorted(map(re.escape, codes), key=len, reverse=True)) + r")(?![\w-])")
    urls = list(staff_pages(records))
    forms_wrong, codes_found, too_few = {}, {}, []
    for role in ROLE_NAMES:
        client = signed_in(staff[("north", role)], clinics["north"])
        wrong, found, pages, forms = [], [], 0, 0
        for url in urls:
            response = client.get(url)
            if response.status_code != 200 or not response.get("Content-Type", "").startswith("text/html"):
                continue
            pages += 1
            html = response.content.decode()
            page_wrong, checked = wrong_forms(role, url, html)
            wrong += page_wrong
            forms += checked
            found += raw_codes(url, html, codes, word)
        if wrong:
            forms_wrong[role] = wrong
        if found:
            codes_found[role] = sorted(set(found))
        # the auditor reads; it saves nothing but its own sign-out
        if pages < 15 or (forms == 0 and role != "auditor"):
            too_few.append(f"{role}: {pages} pages, {forms} forms")
    assert not too_few, f"the crawl reached too little: {too_few}"
    assert not forms_wrong, "\n".join(f"{role} is shown forms it cannot save:\n" + "\n".join(lines)
                                      for role, lines in forms_wrong.items())
    assert not codes_found, "\n".join(f"{role} sees {len(lines)} raw code(s):\n" + "\n".join(lines)
                                      for role, lines in codes_found.items())
