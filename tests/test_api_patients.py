from datetime import date, timedelta

import pytest

from accretion.audit.models import AuditEvent
from accretion.patients.models import Patient
from tests.conftest import api_client

BODY = {"mrn": "api-1", "given_name": "Luis", "family_name": "Torres", "date_of_birth": "1958-07-01", "sex": "male"}


@pytest.fixture
def api(staff, clinics):
    return api_client(staff[("north", "front_desk")], clinics["north"])


def post(client, body):
    return client.post("/api/v1/patients", body, content_type="application/json")


def patch(client, pk, body):
    return client.patch(f"/api/v1/patients/{pk}", body, content_type="application/json")


def test_create_read_update_list(api, clinics):
    created = post(api, BODY)
    assert created.status_code == 201
    data = created.json()
    assert data["mrn"] == "API-1" and data["preferred_language"] == "en" and data["version"] == 1
    assert api.get(f"/api/v1/patients/{data['id']}").json()["family_name"] == "Torres"
    updated = patch(api, data["id"], {"phone": "555-0101", "version": 1})
    assert updated.status_code == 200 and updated.json()["phone"] == "555-0101" and updated.json()["version"] == 2
    stale = patch(api, data["id"], {"phone": "555-0202", "version": 1})
    assert stale.status_code == 409 and stale.json()["errors"][0]["field"] == "version"
    assert Patient.objects.get().phone == "555-0101"
    assert set(AuditEvent.objects.values_list("action", flat=True)) >= {"create", "view", "update"}


def test_list_is_paginated_and_searchable(api, clinics, make_patient):
    for i in range(30):
        make_patient(clinics["north"], family_name=f"Page{i:02d}")
    make_patient(clinics["south"], family_name="Elsewhere")
    first = api.get("/api/v1/patients", {"limit": 10}).json()
    assert first["count"] == 30 and len(first["items"]) == 10
    rest = api.get("/api/v1/patients", {"limit": 10, "offset": 25}).json()
    assert len(rest["items"]) == 5
    assert api.get("/api/v1/patients", {"q": "Page07"}).json()["count"] == 1
    assert api.get("/api/v1/patients", {"q": "Elsewhere"}).json()["count"] == 0


@pytest.mark.parametrize(
    "change, field",
    [
        ({"date_of_birth": (date.today() + timedelta(days=3)).isoformat()}, "date_of_birth"),
        ({"date_of_birth": "1958-02-30"}, "date_of_birth"),
        ({"given_name": "L" * 101}, "given_name"),
        ({"family_name": "T\x00rres"}, "family_name"),
        ({"email": "luis@"}, "email"),
        ({"sex": "m"}, "sex"),
        ({"preferred_language": "fr"}, "preferred_language"),
        ({"mrn": None}, "mrn"),
        ({"age": 3}, None),  # unknown keys are ignored, not an error
    ],
)
def test_create_bad_input_names_the_field(api, change, field):
    response = post(api, {**BODY, **change})
    if field is None:
        assert response.status_code == 201
        return
    assert response.status_code == 422, response.content
    assert field in [e["field"] for e in response.json()["errors"]]
    assert Patient.objects.count() == 0


def test_wrong_shapes(api, clinics, make_patient):
    assert post(api, []).status_code == 422
    assert api.post("/api/v1/patients", "not json", content_type="application/json").status_code == 400
    patient = make_patient(clinics["north"])
    assert patch(api, patient.pk, {"version": "two"}).status_code == 422
    assert api.get("/api/v1/patients", {"limit": 1000}).status_code == 422
    assert api.get("/api/v1/patients", {"q": "a\x00"}).status_code == 422
    assert api.get("/api/v1/patients/99999999").status_code == 404
    # Numbers past 64 bits never reach the database.
    assert api.get("/api/v1/patients", {"offset": 2**70}).status_code == 422
    assert api.get(f"/api/v1/patients/{2**70}").status_code == 404


def test_duplicate_mrn_answers_422_naming_mrn(api, clinics, make_patient):
    make_patient(clinics["north"], mrn="API-1")
    response = post(api, BODY)
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "mrn"


def test_roles_without_edit_cannot_write(staff, clinics):
    auditor = api_client(staff[("north", "auditor")], clinics["north"])
    response = post(auditor, BODY)
    assert response.status_code == 403 and "patient.edit" in response.json()["detail"]
    assert auditor.get("/api/v1/patients").status_code == 200


def test_openapi_schema_and_docs_are_served(api):
    from django.test import Client

    schema = Client().get("/api/v1/openapi.json").json()
    assert "/api/v1/patients/{patient_id}" in schema["paths"]
    assert "422" in schema["paths"]["/api/v1/patients"]["post"]["responses"]
    assert Client().get("/api/v1/docs").status_code == 200


def test_a_read_authenticates_in_one_query(api, clinics, make_patient):
    """The token, its user, clinic and the user's role there come in one query; then the patient; then its
    audit row (the chain head locked, the row, the head moved on)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    patient = make_patient(clinics["north"])
    assert api.get(f"/api/v1/patients/{patient.pk}").status_code == 200  # the audit chain's head exists now
    with CaptureQueriesContext(connection) as queries:
        assert api.get(f"/api/v1/patients/{patient.pk}").status_code == 200
    statements = [q["sql"] for q in queries.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))]
    assert "clinics_apitoken" in statements[0] and "clinics_membership" in statements[0]
    assert "auth_user" in statements[0] and "clinics_clinic" in statements[0]
    assert "patients_patient" in statements[1]
    assert [s.split()[0] for s in statements[2:]] == ["SELECT", "INSERT", "UPDATE"]
