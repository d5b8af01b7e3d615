"""FHIR R4 resources from the portal's records (JSON dicts), following the mapping in the design notes.

Clinic -> Organization, Patient -> Patient, a procedure -> Procedure. Each
function returns a plain dict that `fhir.resources.R4B` validates (the tests
check every resource it builds). Identifiers of the portal's own records use
`urn:accretion-portal:...` systems, so a receiving system can tell them apart
from another site's numbers.
"""

from __future__ import annotations

from datetime import date, datetime

from django.utils import timezone

FHIR_VERSION = "4.0.1"
MEDIA_TYPE = "application/fhir+json"
CPT = "http://www.ama-assn.org/go/cpt"
V2_IDENTIFIER_TYPE = "http://terminology.hl7.org/CodeSystem/v2-0203"
BCP47 = "urn:ietf:bcp:47"

# The procedure's states in FHIR's Procedure.status (EventStatus).
PROCEDURE_STATUS = {"planned": "preparation", "in_progress": "in-progress", "completed": "in-progress",
                    "signed": "completed", "cancelled": "not-done"}
# SNOMED CT body structures of the spinal regions.
REGION_SITES = {
    "cervical": ("122494005", "Cervical spine structure"),
    "thoracic": ("122495006", "Thoracic spine structure"),
    "lumbar": ("122496007", "Lumbar spine structure"),
}
PRP_INJECTION = ("0232T", ("Injection(s), platelet rich plasma, any site, including image guidance, harvesting and "
                          "preparation when performed"))


def mrn_system(clinic) -> str:
    return f"urn:accretion-portal:clinic:{clinic.slug}:mrn"


def instant(moment: datetime) -> str:
    return timezone.localtime(moment).isoformat(timespec="seconds")


def organization(clinic) -> dict:
    resource = {
        "resourceType": "Organization",
        "id": str(clinic.pk),
        "identifier": [{"system": "urn:accretion-portal:clinic", "value": clinic.slug}],
        "active": True,
        "name": clinic.name,
    }
    if clinic.phone:
        resource["telecom"] = [{"system": "phone", "value": clinic.phone, "use": "work"}]
    return resource


def patient(record) -> dict:
    telecom = [{"system": "phone", "value": record.phone}] if record.phone else []
    if record.email:
        telecom.append({"system": "email", "value": record.email})
    resource = {
        "resourceType": "Patient",
        "id": str(record.pk),
        "meta": {"lastUpdated": instant(record.updated_at)},
        "identifier": [{
            "use": "usual",
            "type": {"coding": [{"system": V2_IDENTIFIER_TYPE, "code": "MR", "display": "Medical record number"}]},
            "system": mrn_system(record.clinic),
            "value": record.mrn,
        }],
        "active": True,
        "name": [{"use": "official", "family": record.family_name, "given": [record.given_name]}],
        "gender": record.sex,
        "birthDate": record.date_of_birth.isoformat(),
        "communication": [{"language": {"coding": [{"system": BCP47, "code": record.preferred_language}]},
                           "preferred": True}],
        "managingOrganization": {"reference": f"Organization/{record.clinic_id}"},
    }
    if telecom:
        resource["telecom"] = telecom
    return resource


def procedure(record) -> dict:
    """A PRP procedure: CPT 0232T at the spinal region, with its levels and targets as body-site text."""
    code, display = REGION_SITES[record.region]
    resource = {
        "resourceType": "Procedure",
        "id": str(record.pk),
        "status": PROCEDURE_STATUS[record.status],
        "code": {"coding": [{"system": CPT, "code": PRP_INJECTION[0], "display": PRP_INJECTION[1]}],
                 "text": "Platelet-rich plasma spinal injection"},
        "subject": {"reference": f"Patient/{record.patient_id}"},
        "bodySite": [{"coding": [{"system": "http://snomed.info/sct", "code": code, "display": display}],
                      "text": f"{record.get_region_display()}: {', '.join(record.levels)} "
                              f"({', '.join(record.target_labels)})"}],
    }
    if record.started_at and record.completed_at:
        resource["performedPeriod"] = {"start": instant(record.started_at), "end": instant(record.completed_at)}
    elif record.started_at:
        resource["performedDateTime"] = instant(record.started_at)
    else:
        resource["performedDateTime"] = record.planned_date.isoformat()
    if record.physician_id:
        resource["performer"] = [{"actor": {"display": record.physician.get_full_name()
                                            or record.physician.get_username()},
                                  "onBehalfOf": {"reference": f"Organization/{record.clinic_id}"}}]
    if record.status == "cancelled" and record.cancel_reason:
        resource["statusReason"] = {"text": record.cancel_reason}
    return resource


def bundle(resources: list[dict], *, base: str, total: int, self_url: str, next_url: str | None) -> dict:
    links = [{"relation": "self", "url": self_url}]
    if next_url:
        links.append({"relation": "next", "url": next_url})
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": total,
        "link": links,
        "entry": [{"fullUrl": f"{base}/{r['resourceType']}/{r['id']}", "resource": r, "search": {"mode": "match"}}
                  for r in resources],
    }


def operation_outcome(code: str, diagnostics: str, expression: str | None = None) -> dict:
    issue = {"severity": "error", "code": code, "diagnostics": diagnostics}
    if expression:
        issue["expression"] = [expression]
    return {"resourceType": "OperationOutcome", "issue": [issue]}


def capability_statement(base: str, software_version: str) -> dict:
    def search(name: str, kind: str, documentation: str) -> dict:
        return {"name": name, "type": kind, "documentation": documentation}

    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": date.today().isoformat(),
        "publisher": "Accretion Portal",
        "kind": "instance",
        "software": {"name": "Accretion Portal", "version": software_version},
        "implementation": {"description": "Accretion Portal FHIR R4 API (read only)", "url": base},
        "fhirVersion": FHIR_VERSION,
        "format": ["json"],
        "rest": [{
            "mode": "server",
            "security": {"description": "Send Authorization: Bearer <token> from POST /api/v1/auth/token; "
                                        "every answer is scoped to the token's clinic."},
            "resource": [
                {"type": "Patient", "interaction": [{"code": "read"}, {"code": "search-type"}],
                 "searchParam": [search("_id", "token", "The record's id"),
                                 search("identifier", "token", "MRN: value, or system|value"),
                                 search("family", "string", "Family name, starts with (any case)"),
                                 search("birthdate", "date", "Date of birth, YYYY-MM-DD")]},
                {"type": "Procedure", "interaction": [{"code": "read"}, {"code": "search-type"}],
                 "searchParam": [search("patient", "reference", "Patient/<id> or <id>")]},
                {"type": "Organization", "interaction": [{"code": "read"}]},
            ],
        }],
    }
