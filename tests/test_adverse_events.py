from datetime import datetime, time, timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accretion.adverse_events import services
from accretion.adverse_events.models import AdverseEvent
from accretion.audit.models import AuditEvent
from accretion.procedures.models import Procedure
from tests.conftest import signed_in

TODAY = timezone.localdate


@pytest.fixture
def north(clinics):
    return clinics["north"]


@pytest.fixture
def patient(north, make_patient):
    return make_patient(north)


def make_procedure(patient, staff, *, days_ago=10, started=False):
    day = TODAY() - timedelta(days=days_ago)
    procedure = Procedure.objects.create(
        clinic=patient.clinic, patient=patient, planned_date=day, region="lumbar", targets=["facet_joint"],
        levels=["L4-L5"], created_by=staff[(patient.clinic.slug, "nurse")])
    if started:
        procedure.started_at = timezone.make_aware(datetime.combine(day, time(9, 0)))
        procedure.status = "signed"
        procedure.save()
    return procedure


@pytest.fixture
def procedure(patient, staff):
    return make_procedure(patient, staff)


@pytest.fixture
def nurse(staff, north):
    return signed_in(staff[("north", "nurse")], north)


@pytest.fixture
def physician(staff, north):
    return signed_in(staff[("north", "physician")], north)


def form_data(procedure=None, **change):
    data = {"procedure": procedure.pk if procedure else "", "event_type": "injection_site_flare", "ctcae_grade": "1",
            "onset": (TODAY() - timedelta(days=2)).isoformat(), "outcome": "recovering",
            "description": "Aching at L4-L5 for two days; ice and paracetamol."}
    data.update(change)
    return {k: v for k, v in data.items() if v is not None}


def make_event(patient, staff=None, **fields):
    values = {"clinic": patient.clinic, "patient": patient, "event_type": "injection_site_flare", "ctcae_grade": 1,
              "serious": False, "onset": TODAY() - timedelta(days=1), "outcome": "recovering"}
    values.update(fields)
    return AdverseEvent.objects.create(**values)


def audit_rows(event, action=None):
    rows = AuditEvent.objects.filter(object_type="adverse_events.adverseevent", object_id=str(event.pk))
    return rows.filter(action=action) if action else rows


# --- Recording ------------------------------------------------------------------------


def test_nurse_records_an_event_and_it_is_audited(nurse, patient, procedure, staff):
    response = nurse.post(f"/patients/{patient.pk}/adverse-events/new/", form_data(procedure))
    event = AdverseEvent.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/adverse-events/{event.pk}/"
    assert (event.clinic, event.patient, event.procedure) == (patient.clinic, patient, procedure)
    assert (event.source, event.needs_review, event.relatedness, event.reported_by) == (
        "staff", False, "", staff[("north", "nurse")])
    row = audit_rows(event, "create").get()
    assert (row.username, row.patient_id, row.detail["serious"]) == ("nurse@north.test", patient.pk, False)


def test_the_form_lists_only_this_patients_procedures(nurse, patient, procedure, staff, make_patient):
    other = make_procedure(make_patient(patient.clinic), staff, days_ago=3)
    response = nurse.get(f"/patients/{patient.pk}/adverse-events/new/")
    assert list(response.context["form"].fields["procedure"].queryset) == [procedure]
    assert other.pk != procedure.pk
    page = response.content.decode()
    assert f"Lumbar PRP on {procedure.planned_date:%Y-%m-%d} (planned)" in page
    assert f"{other.planned_date:%Y-%m-%d}" not in page
    assert "Pain flare at the injection site" in page and "Fainting (vasovagal)" in page


@pytest.mark.parametrize(
    "change, field, message",
    [
        ({"onset": 1}, "onset", "cannot be in the future"),  # days from today
        ({"onset": -11}, "onset", "cannot be before the procedure"),  # the procedure was 10 days ago
        ({"outcome": "fatal", "ctcae_grade": "4"}, "outcome", "grade 5"),
        ({"ctcae_grade": "5", "outcome": "not_recovered"}, "ctcae_grade", "outcome must be fatal"),
        ({"ctcae_grade": "6"}, "ctcae_grade", "Select a valid choice"),
        ({"ctcae_grade": "0"}, "ctcae_grade", "Select a valid choice"),
        ({"event_type": "sprain"}, "event_type", "Select a valid choice"),
        ({"event_type": "other", "description": ""}, "description", "Describe the event"),
        ({"description": "x" * 2001}, "description", "at most 2000"),
        ({"onset": "2026-02-30"}, "onset", "Enter a valid date"),
        ({"description": "a\x00b"}, "description", "Null characters"),
    ],
)
def test_invalid_events_are_refused_at_the_field(nurse, patient, procedure, change, field, message):
    if isinstance(change.get("onset"), int):
        change = {"onset": (TODAY() + timedelta(days=change["onset"])).isoformat()}
    response = nurse.post(f"/patients/{patient.pk}/adverse-events/new/", form_data(procedure, **change))
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert list(errors) == [field], errors
    assert message in " ".join(errors[field])
    assert 'class="field-error"' in response.content.decode()
    assert AdverseEvent.objects.count() == 0


def test_onset_is_checked_against_the_day_the_procedure_started(nurse, patient, staff):
    procedure = make_procedure(patient, staff, days_ago=5, started=True)
    procedure.planned_date = TODAY() - timedelta(days=30)  # re-planned; it took place 5 days ago
    procedure.save()
    too_early = nurse.post(f"/patients/{patient.pk}/adverse-events/new/",
                           form_data(procedure, onset=(TODAY() - timedelta(days=6)).isoformat()))
    assert too_early.status_code == 400 and "onset" in too_early.context["form"].errors
    same_day = nurse.post(f"/patients/{patient.pk}/adverse-events/new/",
                          form_data(procedure, onset=(TODAY() - timedelta(days=5)).isoformat()))
    assert same_day.status_code == 302


def test_a_procedure_of_another_patient_is_refused(nurse, patient, staff, make_patient):
    other = make_procedure(make_patient(patient.clinic), staff)
    response = nurse.post(f"/patients/{patient.pk}/adverse-events/new/", form_data(other))
    assert response.status_code == 400
    assert list(response.context["form"].errors) == ["procedure"]
    assert AdverseEvent.objects.count() == 0
    with pytest.raises(ValueError):
        services.record_event(None, patient, {"procedure": other, "event_type": "infection", "ctcae_grade": 1,
                                              "onset": TODAY(), "outcome": "unknown"})


def test_an_event_without_a_procedure_is_allowed(nurse, patient):
    response = nurse.post(f"/patients/{patient.pk}/adverse-events/new/", form_data(None))
    assert response.status_code == 302
    assert AdverseEvent.objects.get().procedure is None


@pytest.mark.parametrize("grade, ticked, serious",
                         [(4, False, True), (5, False, True), (3, False, False), (3, True, True)])
def test_grades_4_and_5_are_always_serious(nurse, patient, procedure, grade, ticked, serious):
    data = form_data(procedure, ctcae_grade=str(grade), outcome="fatal" if grade == 5 else "not_recovered")
    if ticked:
        data["serious"] = "on"
    assert nurse.post(f"/patients/{patient.pk}/adverse-events/new/", data).status_code == 302
    assert AdverseEvent.objects.get().serious is serious


def test_the_database_refuses_a_grade_4_that_is_not_serious_and_a_fatal_grade_3(patient):
    with pytest.raises(IntegrityError), transaction.atomic():
        make_event(patient, ctcae_grade=4, serious=False)
    with pytest.raises(IntegrityError), transaction.atomic():
        make_event(patient, ctcae_grade=3, serious=True, outcome="fatal")
    with pytest.raises(IntegrityError), transaction.atomic():
        make_event(patient, ctcae_grade=6, serious=True)


def test_only_nurses_and_physicians_record(staff, north, patient):
    for role, expected in [("front_desk", 403), ("clinic_admin", 403), ("prep_tech", 403), ("physician", 200)]:
        client = signed_in(staff[("north", role)], north)
        assert client.get(f"/patients/{patient.pk}/adverse-events/new/").status_code == expected, role
        assert client.post(f"/patients/{patient.pk}/adverse-events/new/", form_data()).status_code in (expected, 302)
    assert AdverseEvent.objects.count() == 1  # the physician's


# --- Patient-reported ------------------------------------------------------------------


@pytest.mark.parametrize(
    "answers, event_type, serious",
    [
        ({}, None, None),
        ({"fever": False, "infection_signs": False, "new_weakness_numbness": False, "bowel_bladder_change": False,
          "emergency_visit": False}, None, None),
        ({"fever": "yes", "emergency_visit": 1, "pain_now": 7}, None, None),  # only an exact True counts
        ({"fever": True}, "infection", False),
        ({"infection_signs": True, "fever": False}, "infection", False),
        ({"new_weakness_numbness": True}, "nerve_injury", False),
        ({"bowel_bladder_change": True}, "nerve_injury", True),
        ({"emergency_visit": True}, "other", True),
        ({"fever": True, "bowel_bladder_change": True}, "infection", True),
    ],
)
def test_report_from_safety_answers(procedure, answers, event_type, serious):
    event = services.report_from_safety_answers(procedure, answers, follow_up_key="2w")
    if event_type is None:
        assert event is None
        assert AdverseEvent.objects.count() == 0
        return
    event.refresh_from_db()
    assert (event.event_type, event.serious) == (event_type, serious)
    assert (event.source, event.needs_review, event.ctcae_grade, event.relatedness) == ("patient_report", True, 1, "")
    assert (event.clinic, event.patient, event.procedure, event.reported_by) == (
        procedure.clinic, procedure.patient, procedure, None)
    assert event.onset == TODAY() and event.outcome == "unknown"
    assert event.description.startswith("Reported by the patient on the 2-week follow-up questionnaire (2w).")
    for key, value in answers.items():
        if value is True:
            assert f"{services.SAFETY_QUESTIONS[key]}: yes" in event.description
    row = audit_rows(event, "create").get()
    assert (row.user_id, row.username, row.clinic_id, row.patient_id, row.client_address) == (
        None, "", procedure.clinic_id, procedure.patient_id, None)
    assert row.detail["source"] == "patient_report"


def test_the_same_follow_up_reported_twice_gives_one_event(procedure):
    first = services.report_from_safety_answers(procedure, {"fever": True}, follow_up_key="2w")
    again = services.report_from_safety_answers(procedure, {"fever": True}, follow_up_key="2w")
    later = services.report_from_safety_answers(procedure, {"fever": True}, follow_up_key="6w")
    assert again.pk == first.pk and later.pk != first.pk
    assert AdverseEvent.objects.count() == 2
    assert audit_rows(first).count() == 1


def test_a_long_answer_is_cut_to_the_description_limit(procedure):
    event = services.report_from_safety_answers(procedure, {"fever": True, "comment": "z" * 5000}, follow_up_key="3m")
    event.full_clean()
    assert len(event.description) == 2000


# --- Judgement -------------------------------------------------------------------------


def judge(client, event, version=None, **change):
    data = {"relatedness": "possible", "ctcae_grade": str(event.ctcae_grade), "outcome": event.outcome,
            "version": str(event.version if version is None else version)}
    if event.serious:
        data["serious"] = "on"
    data.update(change)
    return client.post(f"/adverse-events/{event.pk}/judge/", {k: v for k, v in data.items() if v is not None})


def test_a_physician_judges_and_clears_the_review(physician, procedure, staff):
    event = services.report_from_safety_answers(procedure, {"bowel_bladder_change": True}, follow_up_key="2w")
    response = judge(physician, event, relatedness="probable", ctcae_grade="3", outcome="recovering")
    assert response.status_code == 302 and response["Location"] == f"/adverse-events/{event.pk}/"
    event.refresh_from_db()
    assert (event.relatedness, event.needs_review, event.ctcae_grade, event.outcome, event.version) == (
        "probable", False, 3, "recovering", 2)
    assert event.judged_by == staff[("north", "physician")] and event.judged_at is not None
    row = audit_rows(event, "update").get()
    assert row.username == "physician@north.test"
    assert row.detail["judgement"] == "probable"
    assert row.detail["changes"] == {"relatedness": ["", "probable"], "ctcae_grade": [1, 3],
                                     "outcome": ["unknown", "recovering"]}


def test_a_judgement_raising_the_grade_to_4_makes_it_serious(physician, patient):
    event = make_event(patient)
    assert judge(physician, event, ctcae_grade="4", outcome="not_recovered").status_code == 302
    event.refresh_from_db()
    assert (event.ctcae_grade, event.serious) == (4, True)


@pytest.mark.parametrize("change, field", [
    ({"relatedness": None}, "relatedness"), ({"relatedness": "maybe"}, "relatedness"),
    ({"outcome": "fatal"}, "outcome"), ({"ctcae_grade": "6"}, "ctcae_grade"), ({"ctcae_grade": "5"}, "ctcae_grade"),
    ({"version": "x"}, "version"),
])
def test_an_invalid_judgement_is_refused_at_the_field(physician, patient, change, field):
    event = make_event(patient)
    response = judge(physician, event, **change)
    assert response.status_code == 400
    assert field in response.context["judgement_form"].errors
    event.refresh_from_db()
    assert (event.relatedness, event.version) == ("", 1)


def test_a_nurse_cannot_judge(nurse, patient):
    event = make_event(patient, needs_review=True)
    assert judge(nurse, event).status_code == 403
    event.refresh_from_db()
    assert (event.relatedness, event.needs_review, event.version) == ("", True, 1)
    assert not audit_rows(event, "update").exists()
    assert "Record judgement" not in nurse.get(f"/adverse-events/{event.pk}/").content.decode()


def test_a_stale_judgement_is_refused_without_overwriting(physician, staff, north, patient):
    event = make_event(patient)
    other_physician = signed_in(staff[("north", "physician")], north)
    assert judge(other_physician, event, relatedness="unlikely").status_code == 302
    response = judge(physician, event, version=1, relatedness="definite", ctcae_grade="3")
    assert response.status_code == 409
    assert "Someone else saved this adverse event" in response.content.decode()
    event.refresh_from_db()
    assert (event.relatedness, event.ctcae_grade, event.version) == ("unlikely", 1, 2)
    assert audit_rows(event, "update").count() == 1
    # The refreshed form carries the current version: saving again now works.
    assert response.context["judgement_form"]["version"].value() == 2
    assert judge(physician, event, version=2, relatedness="definite").status_code == 302


def test_a_judgement_is_a_post(physician, patient):
    event = make_event(patient)
    assert physician.get(f"/adverse-events/{event.pk}/judge/").status_code == 405


# --- Tenancy, reading and auditing -----------------------------------------------------


def test_another_clinics_event_is_not_found(staff, clinics, patient):
    event = make_event(patient, serious=True)
    south_physician = signed_in(staff[("south", "physician")], clinics["south"])
    assert south_physician.get(f"/adverse-events/{event.pk}/").status_code == 404
    assert judge(south_physician, event).status_code == 404
    assert south_physician.get(f"/patients/{patient.pk}/adverse-events/new/").status_code == 404
    page = south_physician.get("/adverse-events/").content.decode()
    assert patient.family_name not in page
    event.refresh_from_db()
    assert event.relatedness == ""


def test_viewing_an_event_is_audited_for_every_role(staff, north, patient):
    event = make_event(patient, description="Hematoma <script>alert(1)</script>")
    for role in ("front_desk", "auditor", "clinic_admin"):
        response = signed_in(staff[("north", role)], north).get(f"/adverse-events/{event.pk}/")
        assert response.status_code == 200
        assert "<script>alert(1)" not in response.content.decode()
    assert audit_rows(event, "view").count() == 3


def test_for_patient_is_one_query_and_the_timeline_item_renders(patient, procedure, django_assert_num_queries):
    first = make_event(patient, procedure=procedure, onset=TODAY() - timedelta(days=5))
    second = make_event(patient, event_type="vasovagal", ctcae_grade=4, serious=True, outcome="recovered",
                        relatedness="probable", onset=TODAY() - timedelta(days=1))
    with django_assert_num_queries(1):
        events = services.for_patient(patient)
        html = "".join(render_to_string("adverse_events/_timeline_item.html", {"item": e}) for e in events)
    assert [e.pk for e in events] == [second.pk, first.pk]
    assert "Fainting (vasovagal)" in html and "serious" in html and "Probable" not in html and "probable" in html
    assert "awaiting physician review" in html
    assert f'href="/adverse-events/{first.pk}/"' in html
    assert f"after the procedure of {procedure.planned_date:%Y-%m-%d}" in html
    alone = render_to_string("adverse_events/_timeline_item.html", {"event": first})
    assert alone.strip().startswith("<li") and "grade 1" in alone


# --- The clinic's list and its alert ---------------------------------------------------


def listed(client, query=""):
    response = client.get(f"/adverse-events/{query}")
    assert response.status_code == 200
    return response


def test_list_filters(staff, north, patient, make_patient):
    admin = signed_in(staff[("north", "clinic_admin")], north)
    flare = make_event(patient)
    infection = make_event(make_patient(north), event_type="infection", ctcae_grade=3, serious=True,
                           outcome="recovering", source="patient_report", needs_review=True)
    fainting = make_event(make_patient(north), event_type="vasovagal", ctcae_grade=2, outcome="recovered")

    def ids(query):
        return [e.pk for e in listed(admin, query).context["page"].object_list]

    assert ids("") == [fainting.pk, infection.pk, flare.pk]
    assert ids("?needs_review=on") == [infection.pk]
    assert ids("?serious=on") == [infection.pk]
    assert ids("?event_type=vasovagal") == [fainting.pk]
    assert ids("?grade=2") == [fainting.pk]
    assert ids("?grade=3&event_type=infection&serious=on") == [infection.pk]
    assert ids("?grade=4") == []
    bad = listed(admin, "?grade=9&event_type=infection")
    assert [e.pk for e in bad.context["page"].object_list] == [infection.pk]  # the valid filter still applies
    assert "grade" in bad.context["form"].errors
    assert listed(admin, "?page=abc&grade=x%00").status_code == 200


def test_list_is_paginated_and_keeps_its_filters(staff, north, patient):
    for _ in range(30):
        make_event(patient, event_type="bleeding_hematoma", ctcae_grade=2, outcome="recovered")
    make_event(patient)
    admin = signed_in(staff[("north", "clinic_admin")], north)
    first = listed(admin, "?event_type=bleeding_hematoma")
    assert len(first.context["page"].object_list) == 25
    assert "event_type=bleeding_hematoma&amp;page=2" in first.content.decode()
    second = listed(admin, "?event_type=bleeding_hematoma&page=2")
    assert len(second.context["page"].object_list) == 5


def test_the_banner_lists_serious_events_not_yet_judged(staff, north, clinics, patient, physician, make_patient):
    admin = signed_in(staff[("north", "clinic_admin")], north)
    serious = make_event(patient, event_type="nerve_injury", ctcae_grade=3, serious=True, outcome="not_recovered")
    make_event(patient, ctcae_grade=2)  # not serious
    make_event(make_patient(north), event_type="infection", ctcae_grade=3, serious=True, outcome="recovered",
               relatedness="possible")  # already judged
    make_event(make_patient(clinics["south"]), ctcae_grade=4, serious=True, outcome="recovering")  # another clinic

    response = listed(admin)
    assert [e.pk for e in response.context["alerts"]] == [serious.pk]
    page = response.content.decode()
    assert "1 serious adverse event not yet judged by a physician" in page
    assert f'href="/adverse-events/{serious.pk}/"' in page

    assert judge(physician, serious, relatedness="unlikely").status_code == 302
    response = listed(admin)
    assert response.context["alerts"] == []
    assert "No serious adverse event is waiting" in response.content.decode()


def test_the_list_is_audited_with_the_ids_shown(staff, north, patient):
    events = [make_event(patient, serious=True, ctcae_grade=3, outcome="recovering") for _ in range(2)]
    listed(signed_in(staff[("north", "auditor")], north))
    row = AuditEvent.objects.filter(action="list", object_type="adverse_events.adverseevent").get()
    assert row.detail["ids"] == sorted(e.pk for e in events)


def _list_queries(client):
    with CaptureQueriesContext(connection) as queries:
        listed(client)
    return len(queries)


def test_the_list_takes_the_same_number_of_queries_for_1_and_30_events(staff, north, make_patient):
    admin = signed_in(staff[("north", "clinic_admin")], north)
    procedure_patient = make_patient(north)
    procedure = make_procedure(procedure_patient, staff)
    make_event(procedure_patient, procedure=procedure, serious=True, ctcae_grade=3, outcome="recovering")
    listed(admin)  # warm the session and caches
    one = _list_queries(admin)
    for _ in range(29):
        other = make_patient(north)
        make_event(other, procedure=make_procedure(other, staff), serious=True, ctcae_grade=3, outcome="recovering")
    thirty = _list_queries(admin)
    assert AdverseEvent.objects.count() == 30
    assert one == thirty, (one, thirty)


def test_every_route_is_guarded_by_the_permission_table_and_the_clinic(staff, clinics, patient):
    from django.urls import get_resolver

    from accretion.clinics.roles import ROLE_NAMES, role_has

    event = make_event(patient)
    routes = {"new": f"/patients/{patient.pk}/adverse-events/new/", "list": "/adverse-events/",
              "detail": f"/adverse-events/{event.pk}/", "judge": f"/adverse-events/{event.pk}/judge/"}
    resolver = get_resolver()
    for name, url in routes.items():
        match = resolver.resolve(url)
        assert match.view_name == f"adverse_events:{name}"
        assert set(match.kwargs) <= {"patient_id", "event_id"}
        permission = match.func.required_permission
        for role in ROLE_NAMES:
            allowed = role_has(role, permission)
            for slug in ("north", "south"):
                client = signed_in(staff[(slug, role)], clinics[slug])
                for method in ("get", "post"):
                    status = getattr(client, method)(url).status_code
                    if not allowed:
                        expected = {403}
                    elif slug == "south" and match.kwargs:
                        expected = {404, 405}
                    else:
                        expected = {200, 302, 400, 405}
                    assert status in expected, (url, role, slug, method, status)
    event.refresh_from_db()
    assert event.relatedness == ""
