"""Screening API: the same intake JSON as the form and `accretion screen`.

The body is validated by the pure parser (accretion.clinical.screening), so
the API, the page and the CLI accept and refuse exactly the same input. The
OpenAPI description of the body is generated from the same code lists.
"""

from datetime import date, datetime
from typing import Annotated, Literal

from django.utils import timezone
from ninja import Body, Router, Schema
from ninja.responses import Status
from pydantic import Field

from accretion.api_base import ERRORS, FieldErrors, can
from accretion.audit.log import Action, record
from accretion.clinical import screening as rules
from accretion.clinical.errors import FieldError
from accretion.clinics.tenancy import clinic_objects, get_clinic_object
from accretion.patients.api import NO_NUL
from accretion.patients.models import Patient
from accretion.screenings import services
from accretion.screenings.models import Screening

router = Router(tags=["screening"])

_TRI = {"type": ["boolean", "null"]}
INTAKE_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["age", "region", "diagnoses", "planned_targets"],
    "properties": {
        "procedure_date": {"type": "string", "format": "date", "description": "Default: today"},
        "age": {"type": "integer", "minimum": 0, "maximum": 130},
        "region": {"enum": list(rules.REGIONS)},
        "diagnoses": {"type": "array", "items": {"enum": list(rules.DIAGNOSES)}},
        "planned_targets": {"type": "array", "minItems": 1, "items": {"enum": list(rules.TARGETS)}},
        **{name: _TRI for name in rules.SAFETY_QUESTIONS},
        "neuro_red_flags": {"type": ["array", "null"], "items": {"enum": list(rules.NEURO_RED_FLAGS)},
                            "description": "[] = none; null or absent = not assessed"},
        "platelet_count": {"type": ["number", "null"], "minimum": 0, "description": "Whole blood, 10^3/µL"},
        "medications": {
            "type": ["array", "null"],
            "description": "[] = none; null or absent = not asked",
            "items": {
                "type": "object",
                "required": ["name"],
                "properties": {"name": {"type": "string"},
                               "last_dose": {"type": ["string", "null"], "format": "date",
                                             "description": "null = taken regularly"}},
            },
        },
        "steroid_injection_last_date": {"type": ["string", "null"], "format": "date"},
    },
}
_BODY_DOC = {"requestBody": {"required": True, "content": {"application/json": {"schema": INTAKE_SCHEMA}}}}


class FindingOut(Schema):
    code: str
    severity: Literal["contraindication", "review", "caution", "info"]
    message: str
    source: str


class MedicationReadingOut(Schema):
    entered: str = Field(description="The line as entered")
    ingredients: list[str] = Field(description="Generic ingredients the line names, in its order")
    classes: list[Literal["anticoagulant", "antiplatelet", "nsaid", "systemic_steroid"]]
    unread: list[str] = Field(description="Words read neither as a drug nor as dose text; not empty = review")


class DecisionOut(Schema):
    decision: Literal["eligible", "review", "ineligible"]
    ruleset: str
    findings: list[FindingOut]
    medications: list[MedicationReadingOut] = Field(description="Each medication line as it was read")
    antithrombotics: list[dict] = Field(description="Current anticoagulants and antiplatelets: generic, class, "
                                                    "entered (the lines that name it)")


class ScreeningOut(Schema):
    id: int
    patient_id: int
    status: str
    decision: str
    ruleset: str
    findings: list[FindingOut]
    medications: list[MedicationReadingOut] = Field(alias="medication_readings")
    antithrombotics: list[dict] = Field(description="Current anticoagulants and antiplatelets: generic, class, "
                                                    "entered")
    antithrombotic_plan: list[dict] = Field(description="The reviewing physician's decision for each: action, "
                                                        "last_dose, restart_on, restart_note")
    intake: dict
    created_at: datetime
    decided_at: datetime | None
    review_outcome: str
    review_reasons: dict
    reviewed_at: datetime | None


class HoldIn(Schema):
    action: Literal["continue", "hold"]
    last_dose: date | None = Field(None, description="To hold: the last dose before the procedure")
    restart_on: date | None = Field(None, description="To hold: the restart date (or restart_note, or both)")
    restart_note: Annotated[str, Field(max_length=300, pattern=NO_NUL)] = Field(
        "", description="To hold: restart instructions in plain words for the patient")


class ReviewIn(Schema):
    outcome: Literal["proceed", "do_not_proceed"]
    reasons: dict[Annotated[str, Field(max_length=60, pattern=NO_NUL)],
                  Annotated[str, Field(max_length=2000, pattern=NO_NUL)]] = Field(
        description="A reason for every review finding, by code (at most 2,000 characters each)")
    antithrombotics: dict[Annotated[str, Field(max_length=60, pattern=NO_NUL)], HoldIn] = Field(
        default_factory=dict,
        description="To proceed: for every current anticoagulant or antiplatelet (see the screening's "
                    "antithrombotics), by generic name, continue, or hold with the last dose and the restart")


def _decide(request, payload) -> tuple[dict, rules.Decision]:
    try:
        intake = rules.parse_intake(payload, today=timezone.localdate())
    except rules.IntakeError as error:
        raise FieldErrors({error.field: [error.message]}) from None
    return rules.intake_to_dict(intake), rules.decide(intake, request.clinic.get_screening_protocol())


@router.post("/screening", auth=can("screening.record"), response={200: DecisionOut, **ERRORS}, openapi_extra=_BODY_DOC)
def screen(request, payload: dict = Body(...)):
    """Decide an intake without storing anything."""
    return _decide(request, payload)[1].to_dict()


@router.post("/patients/{int:patient_id}/screenings", auth=can("screening.record"),
             response={201: ScreeningOut, **ERRORS}, openapi_extra=_BODY_DOC)
def create_screening(request, patient_id: int, payload: dict = Body(...)):
    """Decide an intake and store it as the patient's screening."""
    patient = get_clinic_object(request, Patient, pk=patient_id)
    intake, decision = _decide(request, payload)
    return Status(201, services.store_decision(request, patient, intake, decision))


@router.get("/patients/{int:patient_id}/screenings", auth=can("patient.view"), response={200: list[ScreeningOut], **ERRORS})
def list_screenings(request, patient_id: int):
    """The patient's screenings, newest first."""
    patient = get_clinic_object(request, Patient, pk=patient_id)
    screenings = list(clinic_objects(request, Screening).filter(patient=patient))
    record(request, Action.LIST, object_type="screenings.screening", patient_id=patient.pk, ids=[s.pk for s in screenings])
    return screenings


@router.post("/screenings/{int:screening_id}/review", auth=can("screening.review"), response={200: ScreeningOut, **ERRORS})
def review_screening(request, screening_id: int, payload: ReviewIn):
    """A physician's decision on a screening that needs review, with a reason for every review finding."""
    screening = get_clinic_object(request, Screening, pk=screening_id)
    plan = {generic: hold.model_dump(mode="json") for generic, hold in payload.antithrombotics.items()}
    try:
        return services.record_review(request, screening, payload.outcome, payload.reasons, plan)
    except FieldError as error:
        raise FieldErrors({error.field: [error.message]}) from None
    except services.ScreeningClosed as closed:
        raise FieldErrors({"outcome": [str(closed)]}, status=409, detail=str(closed)) from None
