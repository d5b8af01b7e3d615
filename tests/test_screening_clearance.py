"""No path forward for a patient the latest screening does not clear: planning, estimate, consent,
procedure day, Today and the questionnaires all follow the same rule."""

from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accretion.audit.models import AuditEvent
from accretion.consents.models import Estimate, PriceList
from accretion.outcomes.models import QuestionnaireTask
from accretion.outcomes.reminders import send_due
from accretion.outcomes.services import link
from accretion.procedures.models import Procedure
from accretion.screenings.services import not_cleared_because
from tests.conftest import api_client, screened, signed_in

INTAKE = {
    "age": 58, "region": "lumbar", "diagnoses": ["facet_oa"], "planned_targets": ["facet_joint"],
    "active_infection": False, "bleeding_disorder": False, "radicular_symptoms": False,
    "active_malignancy": False, "pregnant": False, "neuro_red_flags": [], "platelet_count": 230, "medications": [],
}
INFECTED = {**INTAKE, "active_infection": True}
ON_APIXABAN = {**INTAKE, "medications": [{"name": "eliquis 5mg BID", "last_dose": None}]}
PRICES = {"currency": "USD", "consultation": "250.00", "prp_kit": "450.00", "injection_target": "300.00",
          "additional_level": "150.00", "image_guidance": "200.00", "follow_up_visit": "95.50"}
INFECTION = [{"code": "ACTIVE_INFECTION", "severity": "contraindication", "message": "", "source": ""}]
REVIEW = [{"code": "ANTICOAGULANT", "severity": "review", "message": "", "source": ""}]


@pytest.fixture
def north(clinics, staff):
    PriceList.objects.create(clinic=clinics["north"], **PRICES)
    return clinics["north"]


@pytest.fixture
def patient(north, make_patient):
    return make_patient(north, email="pat@example.org", phone="+15550101")


@pytest.fixture
def nurse(staff, north):
    return signed_in(staff[("north", "nurse")], north)


def plan(client, patient, days=10):
    return client.post(f"/patients/{patient.pk}/procedures/new/", {
        "planned_date": (timezone.localdate() + timedelta(days=days)).isoformat(), "region": "lumbar",
        "targets": ["facet_joint"], "levels": "L4-L5", "kits": 1})


def store(staff, north, patient, intake):
    """A screening decided through the API, as a clinic's system would send it."""
    response = api_client(staff[("north", "nurse")], north).post(
        f"/api/v1/patients/{patient.pk}/screenings", intake, content_type="application/json")
    assert response.status_code == 201, response.content
    return response.json()


def review(staff, north, screening_id, outcome, plan=None):
    body = {"outcome": outcome, "reasons": {"ANTICOAGULANT": "Discussed with cardiology."}}
    if plan is not None:
        body["antithrombotics"] = plan
    response = api_client(staff[("north", "physician")], north).post(
        f"/api/v1/screenings/{screening_id}/review", body, content_type="application/json")
    assert response.status_code == 200, response.content
    return response.json()


# --- the rule ----------------------------------------------------------------------


@pytest.mark.parametrize("decision, findings, outcome, words", [
    ("eligible", [], "", ""),
    ("review", REVIEW, "proceed", ""),
    ("ineligible", INFECTION, "", "not eligible (ACTIVE_INFECTION)"),
    ("review", REVIEW, "", "needs a physician's review"),
    ("review", REVIEW, "do_not_proceed", "decided not to proceed"),
])
def test_why_a_screening_does_not_clear_the_patient(patient, decision, findings, outcome, words):
    reason = not_cleared_because(screened(patient, decision, findings, review_outcome=outcome))
    if words:
        assert words in reason
    else:
        assert reason == ""


def test_no_screening_at_all_does_not_clear(patient):
    assert "no completed screening" in not_cleared_because(None)


# --- planning ----------------------------------------------------------------------


@pytest.mark.parametrize("decision, findings, outcome, words", [
    (None, [], "", "no completed screening"),
    ("ineligible", INFECTION, "", "ACTIVE_INFECTION"),
    ("review", REVIEW, "", "needs a physician&#x27;s review"),
    ("review", REVIEW, "do_not_proceed", "decided not to proceed"),
])
def test_planning_refuses_with_the_reason_and_saves_nothing(nurse, patient, decision, findings, outcome, words):
    if decision:
        screened(patient, decision, findings, review_outcome=outcome)
    page = nurse.get(f"/patients/{patient.pk}/procedures/new/")
    text = page.content.decode()
    assert page.status_code == 200 and words in text and "cannot be planned" in text
    assert 'name="planned_date"' not in text  # no form to fill in for nothing
    refused = plan(nurse, patient)
    assert refused.status_code == 409 and words in refused.content.decode()
    assert not Procedure.objects.filter(patient=patient).exists()
    assert not QuestionnaireTask.objects.filter(patient=patient).exists()
    assert AuditEvent.objects.filter(patient_id=patient.pk, detail__purpose="plan_procedure").exists()


def test_planning_goes_ahead_once_eligible_or_after_a_physicians_proceed(nurse, patient, make_patient, north):
    screened(patient)
    assert plan(nurse, patient).status_code == 302
    other = make_patient(north)
    screened(other, "review", REVIEW, review_outcome="proceed")
    assert plan(nurse, other).status_code == 302
    assert Procedure.objects.count() == 2 and QuestionnaireTask.objects.filter(time_point="baseline").count() == 2


def test_the_newest_screening_counts(nurse, patient):
    screened(patient)
    screened(patient, "ineligible", INFECTION)
    assert plan(nurse, patient).status_code == 409
    screened(patient)  # the infection has cleared
    assert plan(nurse, patient).status_code == 302


# --- estimate and consent say the same -----------------------------------------------


def _planned(patient, staff):
    return Procedure.objects.create(clinic=patient.clinic, patient=patient, region="lumbar", targets=["facet_joint"],
                                    levels=["L4-L5"], kits=1, created_by=staff[("north", "nurse")],
                                    planned_date=timezone.localdate() + timedelta(days=7))


@pytest.mark.parametrize("decision, findings, outcome, words", [
    ("ineligible", INFECTION, "", "ACTIVE_INFECTION"),
    ("review", REVIEW, "", "needs a physician&#x27;s review"),
])
def test_the_estimate_and_the_consent_refuse_the_same(staff, north, patient, decision, findings, outcome, words):
    procedure = _planned(patient, staff)
    screened(patient, decision, findings, review_outcome=outcome)
    desk = signed_in(staff[("north", "front_desk")], north)
    page = desk.get(f"/procedures/{procedure.pk}/estimate/")
    assert page.status_code == 200 and words in page.content.decode() and "No estimate can be built" in page.content.decode()
    posted = desk.post(f"/procedures/{procedure.pk}/estimate/", {"kits": 1, "follow_up_visits": 2})
    assert posted.status_code == 409 and words in posted.content.decode()
    assert not Estimate.objects.exists()
    consent = signed_in(staff[("north", "nurse")], north).get(f"/procedures/{procedure.pk}/consent/")
    assert consent.status_code == 409 and words in consent.content.decode()


# --- a later screening blocks a planned procedure ------------------------------------------


def test_a_later_ineligible_screening_blocks_the_plan_and_cancels_its_questionnaires(staff, north, patient, nurse):
    store(staff, north, patient, INTAKE)
    assert plan(nurse, patient).status_code == 302
    procedure = Procedure.objects.get(patient=patient)
    baseline = QuestionnaireTask.objects.get(procedure=procedure)
    store(staff, north, patient, INFECTED)

    baseline.refresh_from_db()
    assert baseline.cancelled_at is not None and "ACTIVE_INFECTION" in baseline.cancel_reason
    assert baseline.state(timezone.localdate()) == "cancelled"
    assert AuditEvent.objects.filter(object_type="outcomes.questionnairetask", object_id=str(baseline.pk),
                                     action="update", detail__cancelled=baseline.cancel_reason).exists()
    # No reminder goes out, and the patient's link says it is no longer needed.
    mail.outbox.clear()
    summary = send_due(timezone.localdate())
    assert (summary.emails, summary.texts, len(mail.outbox)) == (0, 0, 0)
    closed = nurse.get(link(baseline))
    assert closed.status_code == 410 and "no longer needed" in closed.content.decode()

    page = nurse.get(f"/procedures/{procedure.pk}/")
    text = page.content.decode()
    assert "Blocked: this procedure cannot go ahead" in text and "ACTIVE_INFECTION" in text
    today = nurse.get("/").content.decode()
    assert "Blocked by the latest screening" in today and f"/procedures/{procedure.pk}/" in today


def test_a_physicians_do_not_proceed_cancels_and_a_new_clearing_screening_reopens(staff, north, patient, nurse):
    store(staff, north, patient, INTAKE)
    plan(nurse, patient)
    baseline = QuestionnaireTask.objects.get(patient=patient)
    pending = store(staff, north, patient, ON_APIXABAN)
    baseline.refresh_from_db()
    assert baseline.cancelled_at is None  # a pending review is not final: shown blocked, nothing cancelled
    assert "Blocked: this procedure" in nurse.get(f"/procedures/{baseline.procedure_id}/").content.decode()
    review(staff, north, pending["id"], "do_not_proceed")
    baseline.refresh_from_db()
    assert baseline.cancelled_at is not None and "decided not to proceed" in baseline.cancel_reason
    store(staff, north, patient, INTAKE)  # rescreened: off the anticoagulant, eligible
    baseline.refresh_from_db()
    assert baseline.cancelled_at is None and baseline.cancel_reason == ""
    assert AuditEvent.objects.filter(object_id=str(baseline.pk), detail__reopened=True).exists()
    assert "Blocked: this procedure" not in nurse.get(f"/procedures/{baseline.procedure_id}/").content.decode()


def test_reviewing_an_older_screening_does_not_override_the_newer_one(staff, north, patient, nurse):
    store(staff, north, patient, INTAKE)
    plan(nurse, patient)
    old = store(staff, north, patient, ON_APIXABAN)
    store(staff, north, patient, INFECTED)  # newest: not eligible
    review(staff, north, old["id"], "proceed", plan={"apixaban": {"action": "continue"}})
    baseline = QuestionnaireTask.objects.get(patient=patient)
    assert baseline.cancelled_at is not None and "ACTIVE_INFECTION" in baseline.cancel_reason


def test_cancelling_a_procedure_closes_its_questionnaires(staff, north, patient, nurse):
    screened(patient)
    plan(nurse, patient)
    procedure = Procedure.objects.get(patient=patient)
    response = nurse.post(f"/procedures/{procedure.pk}/cancel/", {"version": procedure.version,
                                                                   "reason": "Patient moved away."})
    assert response.status_code == 302
    baseline = QuestionnaireTask.objects.get(procedure=procedure)
    assert baseline.cancelled_at and baseline.cancel_reason == "The procedure was cancelled: Patient moved away."
    assert send_due(timezone.localdate()).emails == 0


def test_today_marks_blocked_procedures_without_a_query_per_row(staff, north, make_patient, nurse):
    def load():
        with CaptureQueriesContext(connection) as queries:
            assert nurse.get("/").status_code == 200
        return len(queries)

    for _ in range(2):
        blocked = make_patient(north)
        Procedure.objects.filter(pk=_planned(blocked, staff).pk).update(planned_date=timezone.localdate())
        screened(blocked, "ineligible", INFECTION)
    few = load()
    for _ in range(4):
        blocked = make_patient(north)
        _planned(blocked, staff)
        screened(blocked, "review", REVIEW)
    assert load() == few
    text = nurse.get("/").content.decode()
    assert text.count('<mark class="status blocked">not eligible</mark>') == 2
    assert text.count('<mark class="status blocked">review needed</mark>') == 4
    assert text.count('<mark class="status blocked">blocked</mark>') == 2  # today's list marks them too
