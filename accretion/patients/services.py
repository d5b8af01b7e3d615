"""Patient use cases shared by the pages and the API: one code path each."""

import re
from datetime import date, datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone

from accretion.audit.log import Action, changes, record
from accretion.clinical import mrn, names
from accretion.clinics.models import MrnCounter
from accretion.patients.forms import FIELDS, PatientForm
from accretion.patients.models import Patient
from accretion.procedures.models import Procedure
from accretion.procedures.models import Status as ProcedureStatus
from accretion.screenings.models import Decision, ReviewOutcome
from accretion.screenings.services import with_clearance


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


_PHONE_QUERY = re.compile(r"\+?[0-9 ().\-]+")


def search(queryset, q: str):
    """Match a date of birth, the start of an MRN, every word of a name (without case or accents),
    the digits of a phone number, or part of an e-mail address (any case).

    Compares the stored search columns (Patient.search_name, Patient.phone_digits), so it is the same on
    SQLite and PostgreSQL and needs no function over every row.
    """
    q = q.strip()
    if not q:
        return queryset
    born = _as_date(q)
    if born is not None:
        return queryset.filter(date_of_birth=born)
    condition = Q(mrn__istartswith=q)
    digits = names.phone_digits(q)
    if _PHONE_QUERY.fullmatch(q) and len(digits) >= 3:
        condition |= Q(phone_digits__contains=digits)
    if not any(ch.isspace() for ch in q):
        condition |= Q(email__icontains=q)
    words = names.words(q)
    if words:
        name_match = Q()
        for word in words:
            name_match &= Q(search_name__contains=word)
        condition |= name_match
    return queryset.filter(condition)


def with_state(queryset, today: date):
    """Patients annotated with their latest screening (with_clearance) and `next_procedure`, the date of their
    next planned procedure from today (None without one): one query for the whole list."""
    upcoming = (Procedure.objects.filter(patient=OuterRef("pk"), status=ProcedureStatus.PLANNED,
                                         planned_date__gte=today).order_by("planned_date"))
    return with_clearance(queryset, patient="pk").annotate(next_procedure=Subquery(upcoming.values("planned_date")[:1]))


def filter_by_state(queryset, *, screening: str = "", procedure: str = "", days: int = 30, today: date):
    """Narrow `with_state` patients by screening state and by a procedure planned within `days` of today.

    screening: "none" (no decided screening), "eligible" (eligible, or reviewed: proceed), "review" (a physician
    review still open), "ineligible" (not eligible, or reviewed: do not proceed), "blocked" (any but eligible).
    procedure: "planned" (one planned from today to today + days) or "none" (no such procedure).
    """
    states = {
        "none": Q(screening_decision__isnull=True),
        "eligible": Q(screening_decision=Decision.ELIGIBLE)
        | Q(screening_decision=Decision.REVIEW, screening_review=ReviewOutcome.PROCEED),
        "review": Q(screening_decision=Decision.REVIEW) & (Q(screening_review__isnull=True) | Q(screening_review="")),
        "ineligible": Q(screening_decision=Decision.INELIGIBLE)
        | Q(screening_decision=Decision.REVIEW, screening_review=ReviewOutcome.DO_NOT_PROCEED),
        "blocked": Q(blocked=True),
    }
    if screening in states:
        queryset = queryset.filter(states[screening])
    if procedure in ("planned", "none"):
        soon = Q(next_procedure__isnull=False, next_procedure__lte=today + timedelta(days=days))
        queryset = queryset.filter(soon if procedure == "planned" else ~soon)
    return queryset


def save_patient(request, form: PatientForm) -> Patient:
    """Create or update the form's patient and audit it, atomically.

    Raises EditConflict when the version the editor started from is stale.
    """
    creating = form.instance.pk is None
    with transaction.atomic():
        if creating:
            patient = form.save(commit=False)
            patient.clinic = form.clinic
            if not patient.mrn:
                try:
                    patient.mrn = next_mrn(form.clinic)
                except IntegrityError:
                    form.add_error("mrn", "No free MRN was found by the clinic's pattern: type one.")
                    raise
            _save_checking_mrn(form, patient)
            record(request, Action.CREATE, patient, patient_id=patient.pk)
            return patient

        current = Patient.objects.select_for_update().get(pk=form.instance.pk)
        started_from = form.cleaned_data.get("version")
        if started_from is not None and started_from != current.version:
            raise EditConflict()
        changed = [name for name in FIELDS if getattr(current, name) != form.cleaned_data[name]]
        before = {name: getattr(current, name) for name in changed}
        patient = form.save(commit=False)
        patient.version = current.version + 1
        patient.updated_at = timezone.now()
        _save_checking_mrn(form, patient)
        record(request, Action.UPDATE, patient, patient_id=patient.pk, fields=changed,
               changes=changes(before, {name: form.cleaned_data[name] for name in changed}))
        return patient


def next_mrn(clinic) -> str:
    """The clinic's next MRN by its pattern, in the caller's transaction: the clinic's counter row stays locked
    until the registration commits, so two registrations at once get two numbers. A number some patient already
    has (an MRN typed by hand) is skipped."""
    MrnCounter.objects.get_or_create(clinic=clinic)  # the row to lock; the unique key settles a race to create it
    counter = MrnCounter.objects.select_for_update().get(clinic=clinic)
    year = timezone.localdate().year
    taken = Patient.objects.filter(clinic=clinic)
    for _ in range(1000):
        counter.last += 1
        candidate = mrn.format_mrn(clinic.mrn_pattern, counter.last, year)
        if not taken.filter(mrn=candidate).exists():
            counter.save(update_fields=["last"])
            return candidate
    raise IntegrityError("no free MRN in the next 1000 numbers of the clinic's pattern")


def _save_checking_mrn(form: PatientForm, patient: Patient) -> None:
    """Save; if someone took the MRN a moment ago, say so at the field and re-raise to roll back."""
    try:
        with transaction.atomic():
            patient.save()
    except IntegrityError:
        form.add_error("mrn", "Another patient in this clinic already has this MRN.")
        raise
