"""A real FHIR client library (fhirclient, SMART on FHIR's Python client) reads the API over HTTP."""

from datetime import date

import pytest
from fhirclient import client as fhir_client
from fhirclient.models.patient import Patient
from fhirclient.models.procedure import Procedure as FhirProcedure

from accretion.clinics.models import ApiToken
from accretion.procedures.models import Procedure

pytestmark = pytest.mark.django_db(transaction=True)


def test_fhirclient_reads_the_capabilities_a_patient_and_searches(live_server, clinics, staff, make_patient):
    north = clinics["north"]
    rosa = make_patient(north, mrn="N-17", given_name="Rosa", family_name="Parra", date_of_birth=date(1961, 3, 9))
    Procedure.objects.create(clinic=north, patient=rosa, planned_date=date(2027, 1, 5), region="lumbar",
                             targets=["facet_joint"], levels=["L4-L5"], created_by=staff[("north", "nurse")])
    _, raw = ApiToken.issue(staff[("north", "physician")], north, hours=1)

    smart = fhir_client.FHIRClient(settings={"app_id": "accretion-tests", "api_base": f"{live_server.url}/fhir/r4/"})
    smart.server.session.headers["Authorization"] = f"Bearer {raw}"
    smart.prepare()  # reads /metadata into fhirclient's own R4 CapabilityStatement model
    assert smart.server.capabilityStatement.fhirVersion == "4.0.1"

    patient = Patient.read(str(rosa.pk), smart.server)
    assert patient.name[0].family == "Parra" and patient.birthDate.isostring == "1961-03-09"
    found = list(Patient.where(struct={"identifier": "N-17"}).perform_resources_iter(smart.server))
    assert [p.id for p in found] == [str(rosa.pk)]
    procedures = list(FhirProcedure.where(struct={"patient": str(rosa.pk)}).perform_resources_iter(smart.server))
    assert [p.status for p in procedures] == ["preparation"]
