"""Patient use cases shared by the pages and the API: one code path each."""

import re
from datetime import date, datetime

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from accretion.audit.log import Action, record
from accretion.patients.forms import FIELDS, PatientForm
from accretion.patients.models import Patient


class EditConflict(Exception):
    """Someone else saved the patient since this edit began."""

    message = (
        "Someone else changed this patient while you were editing. "
        "Your changes were not saved; reload to see the current record."
    )


_DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%d.%m.%Y")


def _as_date(text: str) -> date | None:
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def search(queryset, q: str):
    """Match a date of birth, an MRN, or every word of a name."""
    q = q.strip()
    if not q:
        return queryset
    born = _as_date(q)
    if born is not None:
        return queryset.filter(date_of_birth=born)
    condition = Q(mrn__istartswith=q)
    words = [w for w in re.split(r"[\s,]+", q) if w]
    name_match = Q()
    for word in words:
        name_match &= Q(family_name__icontains=word) | Q(given_name__icontains=word)
    return queryset.filter(condition | name_match)


def save_patient(request, form: PatientForm) -> Patient:
    """Create or update the form's patient and audit it, atomically.

    Raises EditConflict when the version the editor started from is stale.
    """
    creating = form.instance.pk is None
    with transaction.atomic():
        if creating:
            patient = form.save(commit=False)
            patient.clinic = form.clinic
            _save_checking_mrn(form, patient)
            record(request, Action.CREATE, patient, patient_id=patient.pk)
            return patient

        current = Patient.objects.select_for_update().get(pk=form.instance.pk)
        started_from = form.cleaned_data.get("version")
        if started_from is not None and started_from != current.version:
            raise EditConflict()
        changed = [name for name in FIELDS if getattr(current, name) != form.cleaned_data[name]]
        patient = form.save(commit=False)
        patient.version = current.version + 1
        patient.updated_at = timezone.now()
        _save_checking_mrn(form, patient)
        record(request, Action.UPDATE, patient, patient_id=patient.pk, fields=changed)
        return patient


def _save_checking_mrn(form: PatientForm, patient: Patient) -> None:
    """Save; if someone took the MRN a moment ago, say so at the field and re-raise to roll back."""
    try:
        with transaction.atomic():
            patient.save()
    except IntegrityError:
        form.add_error("mrn", "Another patient in this clinic already has this MRN.")
        raise
