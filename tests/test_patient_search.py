"""Patient search without case or accents, by phone and e-mail, and the list's filters."""

from datetime import date, timedelta
from importlib import import_module

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accretion.audit.models import AuditEvent
from accretion.patients.models import Patient
from accretion.procedures.models import Procedure
from tests.conftest import api_client, screened, signed_in


@pytest.fixture
def desk(staff, clinics):
    return signed_in(staff[("north", "front_desk")], clinics["north"])


@pytest.fixture
def people(clinics, make_patient):
    north = clinics["north"]
    return {
        "gomez": make_patient(north, given_name="Lucía", family_name="Gómez", phone="+1 (555) 010-1234",
                              email="lucia.gomez@example.org"),
        "gomez_plain": make_patient(north, given_name="Pedro", family_name="GOMEZ", phone="555 777 8888"),
        "muller": make_patient(north, given_name="Jürgen", family_name="Müller", email="J.Mueller@Example.COM"),
        "nunez": make_patient(north, given_name="José", family_name="Núñez"),
        "other_clinic": make_patient(clinics["south"], given_name="Lucía", family_name="Gómez", phone="555 010 1234"),
    }


def _found(client, q, **filters):
    response = client.get("/patients/", {"q": q, **filters})
    assert response.status_code == 200
    return {p.given_name for p in response.context["page"].object_list}


@pytest.mark.parametrize("q, expected", [
    ("gomez", {"Lucía", "Pedro"}),
    ("GÓMEZ", {"Lucía", "Pedro"}),
    ("Gómez", {"Lucía", "Pedro"}),
    ("lucia gomez", {"Lucía"}),
    ("LUCÍA", {"Lucía"}),
    ("muller", {"Jürgen"}),
    ("MÜLLER jurgen", {"Jürgen"}),
    ("nunez", {"José"}),
    ("núñez", {"José"}),
    ("Nuñez", {"José"}),
    ("555 0101", {"Lucía"}),
    ("(555) 010-1", {"Lucía"}),
    ("+1 555 010 1234", {"Lucía"}),
    ("5550101234", {"Lucía"}),
    ("777-8888", {"Pedro"}),
    ("LUCIA.GOMEZ@EXAMPLE.ORG", {"Lucía"}),
    ("j.mueller@example", {"Jürgen"}),
    ("example.com", {"Jürgen"}),
])
def test_search_ignores_case_and_accents_and_finds_phone_and_email(desk, people, q, expected):
    assert _found(desk, q) == expected


def test_the_api_searches_the_same_way(staff, clinics, people):
    client = api_client(staff[("north", "front_desk")], clinics["north"])
    for q, expected in [("gomez", {"Lucía", "Pedro"}), ("MULLER", {"Jürgen"}), ("(555) 010-1", {"Lucía"})]:
        body = client.get("/api/v1/patients", {"q": q}).json()
        assert {p["given_name"] for p in body["items"]} == expected


def test_search_columns_follow_edits_and_bulk_creation(desk, clinics, people):
    patient = people["muller"]
    edit = {"mrn": patient.mrn, "given_name": "Jürgen", "family_name": "Schäfer", "date_of_birth": "1970-05-17",
            "sex": "male", "phone": "+49 30 1234", "email": "", "preferred_language": "en", "version": 1}
    assert desk.post(f"/patients/{patient.pk}/edit/", edit).status_code == 302
    assert _found(desk, "schafer") == {"Jürgen"} and _found(desk, "muller") == set()
    assert _found(desk, "49 30 12") == {"Jürgen"}
    Patient.objects.bulk_create([Patient(clinic=clinics["north"], mrn="BULK1", given_name="Åsa", family_name="Öberg",
                                         date_of_birth=date(1980, 1, 1), sex="female")])
    assert _found(desk, "asa oberg") == {"Åsa"}


def test_the_data_migration_fills_existing_rows(people):
    Patient.objects.filter(pk=people["nunez"].pk).update(search_name="", phone_digits="")
    migration = import_module("accretion.patients.migrations.0002_search_columns")
    from django.apps import apps

    migration.fill_search_columns(apps, None)
    row = Patient.objects.get(pk=people["nunez"].pk)
    assert row.search_name == "jose nunez"
    assert Patient.objects.get(pk=people["gomez"].pk).phone_digits == "15550101234"


def test_filters_by_screening_state(desk, people):
    screened(people["gomez"], "eligible")
    screened(people["gomez_plain"], "review", review_outcome="")
    screened(people["muller"], "ineligible")
    # nunez: no screening
    assert _found(desk, "", screening="eligible") == {"Lucía"}
    assert _found(desk, "", screening="review") == {"Pedro"}
    assert _found(desk, "", screening="ineligible") == {"Jürgen"}
    assert _found(desk, "", screening="none") == {"José"}
    assert _found(desk, "", screening="blocked") == {"Pedro", "Jürgen", "José"}
    assert _found(desk, "gomez", screening="blocked") == {"Pedro"}  # combined with the search
    screened(people["gomez_plain"], "review", review_outcome="proceed")  # a newer screening counts
    assert _found(desk, "gomez", screening="eligible") == {"Lucía", "Pedro"}


def test_filters_by_upcoming_procedure(desk, staff, people):
    today = timezone.localdate()

    def plan(patient, days, status="planned"):
        Procedure.objects.create(clinic=patient.clinic, patient=patient, planned_date=today + timedelta(days=days),
                                 region="lumbar", targets=["facet_joint"], levels=["L4-L5"], status=status,
                                 created_by=staff[("north", "nurse")])

    plan(people["gomez"], 3)
    plan(people["gomez_plain"], 45)
    plan(people["muller"], -2)  # in the past
    plan(people["nunez"], 2, status="cancelled")
    assert _found(desk, "", procedure="planned") == {"Lucía"}  # default: the next 30 days
    assert _found(desk, "", procedure="planned", days="60") == {"Lucía", "Pedro"}
    assert _found(desk, "", procedure="none") == {"Pedro", "Jürgen", "José"}
    assert _found(desk, "gomez", procedure="none") == {"Pedro"}
    page = desk.get("/patients/", {"procedure": "planned"}).content.decode()
    assert (today + timedelta(days=3)).isoformat() in page


@pytest.mark.parametrize("params, field", [
    ({"screening": "maybe"}, "screening"),
    ({"procedure": "soon"}, "procedure"),
    ({"procedure": "planned", "days": "-4"}, "days"),
    ({"procedure": "planned", "days": "lots"}, "days"),
    ({"procedure": "planned", "days": "99999999999999999999"}, "days"),
    ({"screening": "eligible\x00"}, "screening"),
])
def test_bad_filter_values_are_reported_and_ignored(desk, people, params, field):
    response = desk.get("/patients/", params)
    assert response.status_code == 200
    assert response.context["form"].errors[field]
    assert "field-error" in response.content.decode()
    htmx = desk.get("/patients/", params, headers={"HX-Request": "true"})
    assert htmx.status_code == 200 and "Ignored:" in htmx.content.decode()


def test_pages_keep_the_search_and_filters(desk, clinics, make_patient):
    for i in range(30):
        make_patient(clinics["north"], given_name="Zoë", family_name=f"Ñandú{i}")
    body = desk.get("/patients/", {"q": "nandu", "screening": "none"}).content.decode()
    assert "q=nandu&amp;screening=none&amp;page=2" in body


def test_list_reads_are_audited_with_their_filters(desk, people):
    desk.get("/patients/", {"q": "gomez", "screening": "blocked", "procedure": "none", "days": "10"})
    row = AuditEvent.objects.filter(action="list").latest("id")
    assert row.detail["query"] == "gomez" and row.detail["screening"] == "blocked"
    assert row.detail["procedure"] == "none" and row.detail["days"] == 10
    assert set(row.detail["ids"]) == {people["gomez"].pk, people["gomez_plain"].pk}


def _queries(client, params):
    with CaptureQueriesContext(connection) as ctx:
        assert client.get("/patients/", params).status_code == 200
    return len(ctx.captured_queries)


def test_filtered_list_query_count_does_not_grow(desk, clinics, staff, make_patient):
    params = [{"q": "gomez"}, {"screening": "blocked"}, {"procedure": "planned"}, {"q": "555", "screening": "none"}]

    def add(n):
        for _ in range(n):
            patient = make_patient(clinics["north"], family_name="Gómez", phone="555 123")
            screened(patient, "review")
            Procedure.objects.create(clinic=patient.clinic, patient=patient, planned_date=timezone.localdate(),
                                     region="lumbar", targets=["facet_joint"], levels=["L4-L5"],
                                     created_by=staff[("north", "nurse")])

    add(2)
    small = [_queries(desk, p) for p in params]
    add(20)
    assert [_queries(desk, p) for p in params] == small
