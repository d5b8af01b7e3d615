"""The FHIR R4 API: resources valid against the R4 models, clinic-scoped, audited, searchable, and readable by a
real FHIR client library over HTTP."""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.test import Client
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.organization import Organization
from fhir.resources.R4B.patient import Patient as FhirPatient
from fhir.resources.R4B.procedure import Procedure as FhirProcedure

from accretion.audit.models import AuditEvent
from accretion.clinics.models import ApiToken
from accretion.interop import fhir
from accretion.procedures.models import Procedure
from tests.conftest import signed_in

ZONE = ZoneInfo(settings.TIME_ZONE)


def bearer(user, clinic) -> Client:
    _, raw = ApiToken.issue(user, clinic, hours=1)
    return Client(headers={"Authorization": f"Bearer {raw}"})


@pytest.fixture
def north(clinics):
    return clinics["north"]


@pytest.fixture
def records(north, clinics, staff, make_patient):
    physician = staff[("north", "physician")]
    physician.first_name, physician.last_name = "Alma", "Quist"
    physician.save()
    rosa = make_patient(north, mrn="N-17", given_name="Rosa", family_name="Parra", date_of_birth=date(1961, 3, 9),
                        sex="female", phone="+1 555 010 2020", email="rosa@example.org", preferred_language="es")
    ana = make_patient(north, mrn="N-18", given_name="Ana", family_name="Parrish", date_of_birth=date(1970, 1, 2))
    other = make_patient(clinics["south"], mrn="N-17", given_name="Rosa", family_name="Parra")
    started = datetime.combine(date(2026, 10, 5), time(9, 30), tzinfo=ZONE)
    signed = Procedure.objects.create(
        clinic=north, patient=rosa, planned_date=date(2026, 10, 5), region="lumbar", targets=["facet_joint"],
        levels=["L4-L5", "L5-S1"], status="signed", physician=physician, started_at=started,
        completed_at=started.replace(hour=10), signed_at=started.replace(hour=11), signed_by=physician,
        created_by=staff[("north", "nurse")])
    planned = Procedure.objects.create(clinic=north, patient=rosa, planned_date=date(2027, 1, 5), region="cervical",
                                       targets=["facet_joint"], levels=["C5-C6"], created_by=staff[("north", "nurse")])
    return {"rosa": rosa, "ana": ana, "other": other, "signed": signed, "planned": planned}


def test_every_resource_is_valid_fhir_r4(north, records):
    Organization.model_validate(fhir.organization(north))
    patient = FhirPatient.model_validate(fhir.patient(records["rosa"]))
    assert patient.identifier[0].value == "N-17" and patient.birthDate == date(1961, 3, 9)
    assert patient.communication[0].language.coding[0].code == "es"
    for procedure in (records["signed"], records["planned"]):
        FhirProcedure.model_validate(fhir.procedure(procedure))
    signed = fhir.procedure(records["signed"])
    assert signed["status"] == "completed" and signed["code"]["coding"][0]["code"] == "0232T"
    assert signed["performedPeriod"]["start"].startswith("2026-10-05T09:30")
    assert signed["performer"][0]["actor"]["display"] == "Alma Quist"
    assert fhir.procedure(records["planned"])["status"] == "preparation"
    CapabilityStatement.model_validate(fhir.capability_statement("http://testserver/fhir/r4", "1"))
    OperationOutcome.model_validate(fhir.operation_outcome("not-found", "No such resource.", "id"))


def test_read_a_patient_audited_and_only_in_its_clinic(north, clinics, staff, records):
    client = bearer(staff[("north", "front_desk")], north)
    response = client.get(f"/fhir/r4/Patient/{records['rosa'].pk}")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/fhir+json")
    assert FhirPatient.model_validate(response.json()).name[0].family == "Parra"
    row = AuditEvent.objects.get(action="view", object_type="patients.patient")
    assert row.patient_id == records["rosa"].pk and row.detail == {"via": "fhir"}

    for path in (f"/fhir/r4/Patient/{records['other'].pk}", "/fhir/r4/Patient/abc", "/fhir/r4/Patient/99999999",
                 "/fhir/r4/Patient/%C2%B2", "/fhir/r4/Organization/%C2%B2",
                 f"/fhir/r4/Procedure/{records['signed'].pk}x", f"/fhir/r4/Organization/{clinics['south'].pk}"):
        missing = client.get(path)
        assert missing.status_code == 404, path
        assert OperationOutcome.model_validate(missing.json()).issue[0].code == "not-found"
    south = bearer(staff[("south", "physician")], clinics["south"])
    assert south.get(f"/fhir/r4/Procedure/{records['signed'].pk}").status_code == 404


def _ids(response) -> list[str]:
    bundle = Bundle.model_validate(response.json())
    return [entry.resource.id for entry in bundle.entry or []]


def test_search_patients(north, staff, records):
    client = bearer(staff[("north", "nurse")], north)
    rosa, ana = str(records["rosa"].pk), str(records["ana"].pk)
    assert _ids(client.get("/fhir/r4/Patient", {"identifier": "n-17"})) == [rosa]
    assert _ids(client.get("/fhir/r4/Patient", {"identifier": f"{fhir.mrn_system(north)}|N-17"})) == [rosa]
    assert _ids(client.get("/fhir/r4/Patient", {"identifier": "urn:other-hospital|N-17"})) == []
    assert _ids(client.get("/fhir/r4/Patient", {"family": "parr"})) == [rosa, ana]
    assert _ids(client.get("/fhir/r4/Patient", {"family": "parr", "birthdate": "1970-01-02"})) == [ana]
    assert _ids(client.get("/fhir/r4/Patient", {"_id": ana})) == [ana]
    listed = AuditEvent.objects.filter(action="list", object_type="patients.patient").first()
    assert listed.detail["via"] == "fhir" and listed.detail["ids"]


def test_search_pages_with_a_next_link(north, staff, records, make_patient):
    for number in range(5):
        make_patient(north, family_name=f"Parrot{number}")
    client = bearer(staff[("north", "nurse")], north)
    first = client.get("/fhir/r4/Patient", {"family": "parr", "_count": "3"}).json()
    assert first["total"] == 7 and len(first["entry"]) == 3
    following = next(link["url"] for link in first["link"] if link["relation"] == "next")
    second = client.get(following.removeprefix("http://testserver")).json()
    assert len(second["entry"]) == 3 and {e["resource"]["id"] for e in first["entry"]}.isdisjoint(
        e["resource"]["id"] for e in second["entry"])
    last = client.get("/fhir/r4/Patient", {"family": "parr", "_count": "3", "_offset": "6"}).json()
    assert len(last["entry"]) == 1 and all(link["relation"] != "next" for link in last["link"])


def test_search_procedures_of_a_patient(north, staff, records):
    client = bearer(staff[("north", "physician")], north)
    ids = _ids(client.get("/fhir/r4/Procedure", {"patient": f"Patient/{records['rosa'].pk}"}))
    assert ids == [str(records["planned"].pk), str(records["signed"].pk)]  # newest first
    assert _ids(client.get("/fhir/r4/Procedure", {"patient": str(records["other"].pk)})) == []


@pytest.mark.parametrize("query, status, expression", [
    ({"name": "Parra"}, 400, "name"),
    ({"birthdate": "09/03/1961"}, 400, "birthdate"),
    ({"_count": "1000"}, 400, "_count"),
    ({"_count": "-1"}, 400, "_count"),
    ({"_offset": "x"}, 400, "_offset"),
    ({"family": "Par\x00ra"}, 400, "family"),
    ({"_id": "abc"}, 404, "_id"),
    ({"_id": "\u00b2"}, 404, "_id"),  # a superscript two: a digit to str.isdigit(), not to int()
    ({"_count": "\u0661\u0662"}, 400, "_count"),  # Arabic-Indic digits are not a count here
])
def test_bad_searches_answer_an_operation_outcome_naming_the_parameter(north, staff, records, query, status,
                                                                      expression):
    response = bearer(staff[("north", "nurse")], north).get("/fhir/r4/Patient", query)
    assert response.status_code == status
    outcome = OperationOutcome.model_validate(response.json())
    assert outcome.issue[0].expression == [expression]


def test_authentication(north, staff, records, django_user_model):
    assert Client().get("/fhir/r4/metadata").status_code == 200  # what the server can do: public
    anonymous = Client().get("/fhir/r4/Patient")
    assert anonymous.status_code == 401 and anonymous["WWW-Authenticate"] == "Bearer"
    wrong = Client(headers={"Authorization": "Bearer not-a-token"}).get("/fhir/r4/Patient")
    assert wrong.status_code == 401 and wrong.json()["issue"][0]["code"] == "login"
    # A signed-in member following a link reads as the session's clinic.
    session = signed_in(staff[("north", "auditor")], north).get(f"/fhir/r4/Patient/{records['rosa'].pk}")
    assert session.status_code == 200 and session.json()["id"] == str(records["rosa"].pk)
    loner = django_user_model.objects.create_user("loner", password="correct horse battery")
    assert signed_in(loner).get("/fhir/r4/Patient").status_code == 401


def test_search_needs_a_fixed_number_of_queries(north, staff, records, make_patient, django_assert_max_num_queries):
    client = bearer(staff[("north", "nurse")], north)
    for number in range(30):
        make_patient(north, family_name=f"Parrot{number}")
    with django_assert_max_num_queries(12):
        assert len(client.get("/fhir/r4/Patient", {"family": "parr", "_count": "100"}).json()["entry"]) == 32
