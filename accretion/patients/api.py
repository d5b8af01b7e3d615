from datetime import date, datetime
from typing import Literal

from django.db import IntegrityError
from ninja import Query, Router, Schema
from ninja.responses import Status
from pydantic import Field

from accretion.api_base import ERRORS, FieldErrors, can
from accretion.audit.log import Action, record
from accretion.clinics.tenancy import clinic_objects, get_clinic_object
from accretion.patients import services
from accretion.patients.forms import FIELDS, PatientForm
from accretion.patients.models import Patient

router = Router(tags=["patients"])

NO_NUL = r"^[^\x00]*$"
Sex = Literal["female", "male", "other", "unknown"]
Lang = Literal["en", "es"]


class PatientIn(Schema):
    mrn: str = Field("", max_length=32, pattern=NO_NUL,
                     description="Omitted or empty: the next MRN by the clinic's MRN pattern (if it has one).")
    given_name: str = Field(max_length=100, pattern=NO_NUL)
    family_name: str = Field(max_length=100, pattern=NO_NUL)
    date_of_birth: date
    sex: Sex
    phone: str = Field("", max_length=40, pattern=NO_NUL)
    email: str = Field("", max_length=254, pattern=NO_NUL)
    preferred_language: Lang = "en"


class PatientPatch(Schema):
    mrn: str | None = Field(None, max_length=32, pattern=NO_NUL)
    given_name: str | None = Field(None, max_length=100, pattern=NO_NUL)
    family_name: str | None = Field(None, max_length=100, pattern=NO_NUL)
    date_of_birth: date | None = None
    sex: Sex | None = None
    phone: str | None = Field(None, max_length=40, pattern=NO_NUL)
    email: str | None = Field(None, max_length=254, pattern=NO_NUL)
    preferred_language: Lang | None = None
    version: int | None = Field(None, ge=1, description="The version you read; a stale one answers 409.")


class PatientOut(Schema):
    id: int
    mrn: str
    given_name: str
    family_name: str
    date_of_birth: date
    sex: str
    phone: str
    email: str
    preferred_language: str
    version: int
    created_at: datetime
    updated_at: datetime


class PatientPage(Schema):
    items: list[PatientOut]
    count: int
    limit: int
    offset: int


class ListParams(Schema):
    q: str = Field("", max_length=100, pattern=NO_NUL, description="Name words, MRN prefix or date of birth")
    limit: int = Field(25, ge=1, le=100)
    offset: int = Field(0, ge=0, le=2**31 - 1)


def _save(request, form):
    if not form.is_valid():
        raise FieldErrors(form.errors)
    try:
        return services.save_patient(request, form)
    except services.EditConflict as conflict:
        raise FieldErrors({"version": [conflict.message]}, status=409, detail="Edit conflict.") from None
    except IntegrityError:
        raise FieldErrors(form.errors) from None


@router.get("", auth=can("patient.view"), response={200: PatientPage, **ERRORS})
def list_patients(request, params: Query[ListParams]):
    """Patients of the token's clinic, by name; `q` searches."""
    patients = services.search(clinic_objects(request, Patient), params.q)
    count = patients.count()
    items = list(patients[params.offset : params.offset + params.limit])
    if items:
        record(request, Action.LIST, object_type="patients.patient", query=params.q, ids=[p.pk for p in items])
    return {"items": items, "count": count, "limit": params.limit, "offset": params.offset}


@router.post("", auth=can("patient.edit"), response={201: PatientOut, **ERRORS})
def create_patient(request, payload: PatientIn):
    form = PatientForm(payload.dict(), clinic=request.clinic)
    return Status(201, _save(request, form))


@router.get("/{int:patient_id}", auth=can("patient.view"), response={200: PatientOut, **ERRORS})
def get_patient(request, patient_id: int):
    patient = get_clinic_object(request, Patient, pk=patient_id)
    record(request, Action.VIEW, patient, patient_id=patient.pk)
    return patient


@router.patch("/{int:patient_id}", auth=can("patient.edit"), response={200: PatientOut, **ERRORS})
def update_patient(request, patient_id: int, payload: PatientPatch):
    patient = get_clinic_object(request, Patient, pk=patient_id)
    data = {name: getattr(patient, name) for name in FIELDS}
    data.update(payload.dict(exclude_unset=True, exclude_none=True))
    form = PatientForm(data, instance=patient, clinic=request.clinic)
    return _save(request, form)
