from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accretion.audit.models import AuditEvent
from accretion.clinical.screening import decide, parse_intake
from accretion.screenings.models import Screening
from tests.conftest import api_client, signed_in

TODAY = timezone.localdate
APIXABAN = {
    "age": 64, "region": "lumbar", "diagnoses": ["facet_oa"], "planned_targets": ["facet_joint"],
    "active_infection": False, "bleeding_disorder": False, "radicular_symptoms": False,
    "active_malignancy": False, "pregnant": False, "neuro_red_flags": [], "platelet_count": 210,
    "medications": [{"name": "Eliquis", "last_dose": None}],
}


@pytest.fixture
def patient(clinics, make_patient):
    return make_patient(clinics["north"])


@pytest.fixture
def nurse_api(staff, clinics):
    return api_client(staff[("north", "nurse")], clinics["north"])


def post(client, url, body):
    return client.post(url, body, content_type="application/json")


# --- API -------------------------------------------------------------------------


def test_api_answers_what_the_rule_set_answers_and_stores_nothing(nurse_api):
    response = post(nurse_api, "/api/v1/screening", APIXABAN)
    assert response.status_code == 200
    expected = decide(parse_intake(APIXABAN, today=TODAY())).to_dict()
    assert response.json() == expected
    assert response.json()["decision"] == "review"
    assert [f["code"] for f in response.json()["findings"]] == ["ANTICOAGULANT"]
    assert Screening.objects.count() == 0


@pytest.mark.parametrize(
    "change, field",
    [
        ({"region": "sacral"}, "region"),
        ({"diagnoses": ["facet_oa", "gout"]}, "diagnoses[1]"),
        ({"planned_targets": []}, "planned_targets"),
        ({"age": "64"}, "age"),
        ({"platelet_count": -1}, "platelet_count"),
        ({"procedure_date": "2026-02-30"}, "procedure_date"),
        ({"medications": [{"name": "Plavix", "last_dose": "2999-01-01"}]}, "medications[0].last_dose"),
        ({"unexpected": 1}, "unexpected"),
        ({"medications": [{"name": "A\x00"}]}, "medications[0].name"),
    ],
)
def test_api_bad_intake_names_the_field(nurse_api, patient, change, field):
    for url in ("/api/v1/screening", f"/api/v1/patients/{patient.pk}/screenings"):
        response = post(nurse_api, url, {**APIXABAN, **change})
        assert response.status_code == 422, response.content
        assert response.json()["errors"][0]["field"] == field
    assert Screening.objects.count() == 0


def test_api_body_that_is_not_an_object(nurse_api):
    response = post(nurse_api, "/api/v1/screening", [1, 2])
    assert response.status_code == 422


def test_store_list_and_review_through_the_api(nurse_api, staff, clinics, patient):
    created = post(nurse_api, f"/api/v1/patients/{patient.pk}/screenings", APIXABAN)
    assert created.status_code == 201
    body = created.json()
    assert (body["status"], body["decision"], body["ruleset"]) == ("decided", "review", "default-2026.2")
    listed = nurse_api.get(f"/api/v1/patients/{patient.pk}/screenings").json()
    assert [s["id"] for s in listed] == [body["id"]]
    # Nurses may not review; physicians must give a reason for each review finding.
    url = f"/api/v1/screenings/{body['id']}/review"
    assert post(nurse_api, url, {"outcome": "proceed", "reasons": {}}).status_code == 403
    physician = api_client(staff[("north", "physician")], clinics["north"])
    missing = post(physician, url, {"outcome": "proceed", "reasons": {}})
    assert missing.status_code == 409 and "ANTICOAGULANT" in missing.json()["detail"]
    no_plan = post(physician, url, {"outcome": "proceed", "reasons": {"ANTICOAGULANT": "Held 3 days per cardiology."}})
    assert no_plan.status_code == 422 and no_plan.json()["errors"][0]["field"] == "antithrombotics.apixaban.action"
    done = post(physician, url, {"outcome": "proceed", "reasons": {"ANTICOAGULANT": "Continue, low-risk target."},
                                 "antithrombotics": {"apixaban": {"action": "continue"}}})
    assert done.status_code == 200 and done.json()["status"] == "reviewed"
    again = post(physician, url, {"outcome": "do_not_proceed", "reasons": {"ANTICOAGULANT": "changed my mind"}})
    assert again.status_code == 409
    screening = Screening.objects.get()
    assert screening.review_outcome == "proceed" and screening.cleared_to_proceed
    assert AuditEvent.objects.filter(object_type="screenings.screening", action="update").count() == 1


def test_a_contraindication_cannot_be_overridden(staff, clinics, patient, nurse_api):
    body = post(nurse_api, f"/api/v1/patients/{patient.pk}/screenings", {**APIXABAN, "active_infection": True}).json()
    assert body["decision"] == "ineligible"
    physician = api_client(staff[("north", "physician")], clinics["north"])
    response = post(physician, f"/api/v1/screenings/{body['id']}/review",
                    {"outcome": "proceed", "reasons": {"ANTICOAGULANT": "fine", "ACTIVE_INFECTION": "fine"}})
    assert response.status_code == 409 and "cannot be overridden" in response.json()["detail"]
    assert not Screening.objects.get().cleared_to_proceed


# --- Pages -----------------------------------------------------------------------

FORM = {
    "procedure_date": "", "age": "64", "region": "lumbar", "diagnoses": ["facet_oa"], "planned_targets": ["facet_joint"],
    "active_infection": "no", "bleeding_disorder": "no", "radicular_symptoms": "no", "active_malignancy": "no",
    "pregnant": "no", "neuro_red_flags": ["none"], "platelet_count": "210", "medications": "Eliquis",
    "steroid_injection_last_date": "",
}


def test_partial_draft_then_screen_then_review_on_the_pages(staff, clinics, patient):
    nurse = signed_in(staff[("north", "nurse")], clinics["north"])
    partial = {"region": "lumbar", "diagnoses": ["facet_oa"], "save_draft": "1"}
    response = nurse.post(f"/patients/{patient.pk}/screenings/new/", partial)
    draft = Screening.objects.get()
    assert response.status_code == 302 and draft.status == "draft" and draft.intake["region"] == "lumbar"
    assert draft.intake["medications"] is None  # not asked, not "none"
    # Coming back: the draft's answers are in the form.
    page = nurse.get(f"/screenings/{draft.pk}/edit/")
    assert page.context["form"].initial["diagnoses"] == ["facet_oa"]
    # Screening without targets is refused at the field; nothing is lost.
    refused = nurse.post(f"/screenings/{draft.pk}/edit/", {**FORM, "planned_targets": [], "screen": "1"})
    assert refused.status_code == 400 and refused.context["form"].errors["planned_targets"]
    assert Screening.objects.get().status == "draft"
    decided = nurse.post(f"/screenings/{draft.pk}/edit/", {**FORM, "screen": "1"})
    assert decided.status_code == 302
    screening = Screening.objects.get()
    assert screening.decision == "review" and [f["code"] for f in screening.findings] == ["ANTICOAGULANT"]
    detail = nurse.get(f"/screenings/{screening.pk}/").content.decode()
    assert "apixaban" in detail and "Waiting for a physician" in detail
    # A decided screening can no longer be edited.
    assert nurse.get(f"/screenings/{screening.pk}/edit/").status_code == 302
    assert nurse.post(f"/screenings/{screening.pk}/review/", {"outcome": "proceed"}).status_code == 403

    physician = signed_in(staff[("north", "physician")], clinics["north"])
    no_reason = physician.post(f"/screenings/{screening.pk}/review/", {"outcome": "proceed"})
    assert no_reason.status_code == 400 and no_reason.context["review_form"].errors["reason_ANTICOAGULANT"]
    ok = physician.post(f"/screenings/{screening.pk}/review/",
                        {"outcome": "proceed", "reason_ANTICOAGULANT": "Low-risk target, agreed with cardiology.",
                         "plan_apixaban": "continue"})
    assert ok.status_code == 302
    timeline = physician.get(f"/patients/{patient.pk}/").content.decode()
    assert "Physician review needed" in timeline and "proceed" in timeline


@pytest.mark.parametrize(
    "change, field, message",
    [
        ({"medications": "Plavix, 2999-01-01"}, "medications", "Line 1"),
        ({"neuro_red_flags": ["none", "myelopathy"]}, "neuro_red_flags", "not both"),
        ({"medications": "Aspirin", "no_medications": "on"}, "medications", "Either list"),
        ({"age": "-3"}, "age", "greater than or equal to 0"),
        ({"platelet_count": "abc"}, "platelet_count", "Enter a number"),
        ({"region": ""}, "region", ""),
    ],
)
def test_intake_form_errors_are_at_the_field(staff, clinics, patient, change, field, message):
    nurse = signed_in(staff[("north", "nurse")], clinics["north"])
    response = nurse.post(f"/patients/{patient.pk}/screenings/new/", {**FORM, **change, "screen": "1"})
    assert response.status_code == 400
    assert message in " ".join(response.context["form"].errors[field])
    assert Screening.objects.count() == 0


def test_unknown_answers_are_never_treated_as_no(staff, clinics, patient):
    nurse = signed_in(staff[("north", "nurse")], clinics["north"])
    form = {**FORM, "active_infection": "", "neuro_red_flags": [], "medications": "", "screen": "1"}
    nurse.post(f"/patients/{patient.pk}/screenings/new/", form)
    screening = Screening.objects.get()
    missing = next(f for f in screening.findings if f["code"] == "MISSING_SAFETY_DATA")
    for words in ("active infection", "neurological red flags", "current medications"):
        assert words in missing["message"]


def test_clinic_protocol_changes_the_ruleset_and_the_outcome(staff, clinics, patient):
    admin = signed_in(staff[("north", "clinic_admin")], clinics["north"])
    bad = admin.post("/clinic/screening-protocol/", {
        "platelet_contraindication_below": "120", "platelet_review_below": "110", "nsaid_window_days": "7",
        "systemic_steroid_window_days": "14", "steroid_injection_window_days": "30",
        "antithrombotic_current_window_days": "30"})
    assert bad.status_code == 400 and bad.context["form"].errors["platelet_review_below"]
    admin.post("/clinic/screening-protocol/", {
        "platelet_contraindication_below": "100", "platelet_review_below": "220", "nsaid_window_days": "7",
        "systemic_steroid_window_days": "14", "steroid_injection_window_days": "30",
        "antithrombotic_current_window_days": "30"})
    clinics["north"].refresh_from_db()
    assert clinics["north"].screening_protocol == {"platelet_review_below": 220}
    nurse = api_client(staff[("north", "nurse")], clinics["north"])
    body = post(nurse, "/api/v1/screening", {**APIXABAN, "medications": []}).json()
    assert body["ruleset"].startswith("default-2026.2+") and body["decision"] == "review"
    assert [f["code"] for f in body["findings"]] == ["PLATELETS_LOW"]
    # Another clinic keeps the default.
    south = api_client(staff[("south", "nurse")], clinics["south"])
    assert post(south, "/api/v1/screening", {**APIXABAN, "medications": []}).json()["decision"] == "eligible"


def test_rule_catalog_lists_every_rule(staff, clinics):
    page = signed_in(staff[("north", "front_desk")], clinics["north"]).get("/screenings/rules/").content.decode()
    for code in ("ACTIVE_INFECTION", "THROMBOCYTOPENIA", "ANTICOAGULANT", "MISSING_SAFETY_DATA", "NSAID_RECENT",
                 "STRUCTURAL_EXPECTATION", "MEDICATION_UNRECOGNIZED"):
        assert code in page


def test_patient_page_queries_do_not_grow_with_screenings(staff, clinics, patient):
    nurse_user = staff[("north", "nurse")]
    client = signed_in(nurse_user, clinics["north"])

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(f"/patients/{patient.pk}/").status_code == 200
        return len(ctx.captured_queries)

    Screening.objects.create(clinic=clinics["north"], patient=patient, created_by=nurse_user)
    one = count()
    for _ in range(20):
        Screening.objects.create(clinic=clinics["north"], patient=patient, created_by=nurse_user, status="reviewed",
                                 decision="review", review_outcome="proceed", reviewed_by=staff[("north", "physician")],
                                 reviewed_at=timezone.now() - timedelta(days=1), decided_at=timezone.now())
    assert count() == one


# --- Medications as read, and the review at the top -------------------------------


def test_the_api_and_the_record_show_how_each_medication_line_was_read(nurse_api, patient):
    intake = {**APIXABAN, "medications": [{"name": "Eliquis (apixaban) 5 mg PO BID"}, {"name": "Excedrin Migraine"},
                                          {"name": "eliquiss"}]}
    expected = [
        {"entered": "Eliquis (apixaban) 5 mg PO BID", "ingredients": ["apixaban"], "classes": ["anticoagulant"],
         "unread": []},
        {"entered": "Excedrin Migraine", "ingredients": ["aspirin", "acetaminophen", "caffeine"],
         "classes": ["antiplatelet"], "unread": []},
        {"entered": "eliquiss", "ingredients": [], "classes": [], "unread": ["eliquiss"]},
    ]
    decided = post(nurse_api, "/api/v1/screening", intake).json()
    assert decided["medications"] == expected
    assert [f["code"] for f in decided["findings"]] == ["ANTICOAGULANT", "ANTIPLATELET", "MEDICATION_UNRECOGNIZED"]
    stored = post(nurse_api, f"/api/v1/patients/{patient.pk}/screenings", intake).json()
    assert stored["medications"] == expected
    assert Screening.objects.get().medication_readings == expected
    listed = nurse_api.get(f"/api/v1/patients/{patient.pk}/screenings").json()
    assert listed[0]["medications"] == expected


def test_a_line_as_clinics_type_it_is_not_eligible_without_a_physician(staff, clinics, patient):
    nurse = signed_in(staff[("north", "nurse")], clinics["north"])
    nurse.post(f"/patients/{patient.pk}/screenings/new/", {**FORM, "medications": "eliquis 5mg BID", "screen": "1"})
    screening = Screening.objects.get()
    assert screening.decision == "review" and [f["code"] for f in screening.findings] == ["ANTICOAGULANT"]
    page = nurse.get(f"/screenings/{screening.pk}/").content.decode()
    assert "Medications as read" in page and "eliquis 5mg BID" in page and "anticoagulant" in page


def test_an_unread_line_goes_to_review_and_the_page_names_the_unread_words(staff, clinics, patient):
    nurse = signed_in(staff[("north", "nurse")], clinics["north"])
    nurse.post(f"/patients/{patient.pk}/screenings/new/", {**FORM, "medications": "Tylenol and eliquiss", "screen": "1"})
    screening = Screening.objects.get()
    assert screening.decision == "review"
    assert [f["code"] for f in screening.findings] == ["MEDICATION_UNRECOGNIZED"]
    assert "Not read: eliquiss" in nurse.get(f"/screenings/{screening.pk}/").content.decode()


@pytest.mark.parametrize("outcome, words", [("proceed", "to proceed"), ("do_not_proceed", "not to proceed")])
def test_a_reviewed_screening_shows_its_review_at_the_top(staff, clinics, patient, outcome, words):
    nurse = signed_in(staff[("north", "nurse")], clinics["north"])
    nurse.post(f"/patients/{patient.pk}/screenings/new/", {**FORM, "screen": "1"})
    screening = Screening.objects.get()
    physician_user = staff[("north", "physician")]
    physician = signed_in(physician_user, clinics["north"])
    before = physician.get(f"/screenings/{screening.pk}/").content.decode()
    assert "Physician review needed" in before
    physician.post(f"/screenings/{screening.pk}/review/", {"outcome": outcome, "reason_ANTICOAGULANT": "Cardiology agrees.",
                                                         "plan_apixaban": "continue"})
    page = physician.get(f"/screenings/{screening.pk}/").content.decode()
    assert "Physician review needed" not in page and "A physician must review the findings" not in page
    head = page[: page.index("Findings")]
    assert f"decided <strong>{words}</strong>" in head
    assert "Pat Physician" in head and "Cardiology agrees." in head


# --- Holding and restarting an antithrombotic ----------------------------------------


def _decided(staff, clinics, patient, medications="Eliquis 5 mg bid\nBaby aspirin"):
    nurse = signed_in(staff[("north", "nurse")], clinics["north"])
    day = (TODAY() + timedelta(days=10)).isoformat()
    nurse.post(f"/patients/{patient.pk}/screenings/new/",
               {**FORM, "procedure_date": day, "medications": medications, "screen": "1"})
    return Screening.objects.get()


def test_to_proceed_the_physician_decides_each_antithrombotic(staff, clinics, patient):
    screening = _decided(staff, clinics, patient)
    assert [a["generic"] for a in screening.antithrombotics] == ["apixaban", "aspirin"]
    physician = signed_in(staff[("north", "physician")], clinics["north"])
    page = physician.get(f"/screenings/{screening.pk}/").content.decode()
    assert "Eliquis 5 mg bid (apixaban)" in page and 'name="restart_on_apixaban"' in page
    day = screening.procedure_date
    reasons = {"reason_ANTICOAGULANT": "Hold 2 days.", "reason_ANTIPLATELET": "Primary prevention, hold."}
    # No decision for aspirin: refused beside its field, nothing stored.
    missing = physician.post(f"/screenings/{screening.pk}/review/", {
        **reasons, "outcome": "proceed", "plan_apixaban": "hold",
        "last_dose_apixaban": (day - timedelta(days=3)).isoformat(),
        "restart_on_apixaban": (day + timedelta(days=1)).isoformat()})
    assert missing.status_code == 400
    assert missing.context["review_form"].errors["plan_aspirin"]
    screening.refresh_from_db()
    assert screening.status == "decided" and screening.antithrombotic_plan == []
    # A restart before the procedure is refused at its field.
    early = physician.post(f"/screenings/{screening.pk}/review/", {
        **reasons, "outcome": "proceed", "plan_apixaban": "hold", "plan_aspirin": "continue",
        "last_dose_apixaban": (day - timedelta(days=3)).isoformat(),
        "restart_on_apixaban": (day - timedelta(days=1)).isoformat()})
    assert early.status_code == 400 and "before the procedure date" in early.context["review_form"].errors[
        "restart_on_apixaban"][0]
    ok = physician.post(f"/screenings/{screening.pk}/review/", {
        **reasons, "outcome": "proceed", "plan_apixaban": "hold", "plan_aspirin": "continue",
        "last_dose_apixaban": (day - timedelta(days=3)).isoformat(),
        "restart_on_apixaban": (day + timedelta(days=1)).isoformat(),
        "restart_note_apixaban": "if there is no bleeding"})
    assert ok.status_code == 302
    screening.refresh_from_db()
    assert [(d.drug.generic, d.action, d.restart_on) for d in screening.hold_decisions()] == [
        ("apixaban", "hold", day + timedelta(days=1)), ("aspirin", "continue", None)]
    page = physician.get(f"/screenings/{screening.pk}/").content.decode()
    assert f"restart on {(day + timedelta(days=1)).isoformat()}" in page and "keep taking it" in page
    event = AuditEvent.objects.filter(action="update", object_type="screenings.screening").last()
    assert event.detail["antithrombotics"] == {"apixaban": "hold", "aspirin": "continue"}


def test_not_proceeding_needs_no_hold_plan(staff, clinics, patient):
    screening = _decided(staff, clinics, patient)
    physician = signed_in(staff[("north", "physician")], clinics["north"])
    ok = physician.post(f"/screenings/{screening.pk}/review/", {
        "reason_ANTICOAGULANT": "Too risky.", "reason_ANTIPLATELET": "Too risky.", "outcome": "do_not_proceed"})
    assert ok.status_code == 302
    screening.refresh_from_db()
    assert screening.review_outcome == "do_not_proceed" and screening.antithrombotic_plan == []


def test_the_api_takes_the_hold_plan_and_names_a_bad_field(staff, clinics, patient, nurse_api):
    day = (TODAY() + timedelta(days=7)).isoformat()
    body = post(nurse_api, f"/api/v1/patients/{patient.pk}/screenings", {**APIXABAN, "procedure_date": day}).json()
    assert body["antithrombotics"] == [{"generic": "apixaban", "class": "anticoagulant", "entered": ["Eliquis"]}]
    physician = api_client(staff[("north", "physician")], clinics["north"])
    url = f"/api/v1/screenings/{body['id']}/review"
    reasons = {"ANTICOAGULANT": "Hold."}
    bad = post(physician, url, {"outcome": "proceed", "reasons": reasons,
                                "antithrombotics": {"apixaban": {"action": "hold", "restart_on": day}}})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "antithrombotics.apixaban.last_dose"
    unknown = post(physician, url, {"outcome": "proceed", "reasons": reasons,
                                    "antithrombotics": {"warfarin": {"action": "continue"}}})
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "antithrombotics.warfarin"
    last = (TODAY() + timedelta(days=4)).isoformat()
    ok = post(physician, url, {"outcome": "proceed", "reasons": reasons, "antithrombotics": {
        "apixaban": {"action": "hold", "last_dose": last, "restart_note": "the day after, in the morning"}}})
    assert ok.status_code == 200
    assert ok.json()["antithrombotic_plan"] == [{
        "generic": "apixaban", "class": "anticoagulant", "entered": ["Eliquis"], "action": "hold",
        "last_dose": last, "restart_on": None, "restart_note": "the day after, in the morning"}]
