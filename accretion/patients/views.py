from django.contrib import messages
from django.core.paginator import Paginator
from django.db import IntegrityError
from django.shortcuts import redirect, render
from django.utils import timezone

from accretion.audit.log import Action, record
from accretion.clinics.tenancy import clinic_objects, get_clinic_object, requires
from accretion.patients import services, timeline
from accretion.patients.forms import PatientForm, PatientSearchForm
from accretion.patients.models import Patient

PAGE_SIZE = 25


@requires("patient.view")
def patient_list(request):
    form = PatientSearchForm(request.GET)
    q = form.cleaned_data["q"] if form.is_valid() else ""
    patients = services.search(clinic_objects(request, Patient), q)
    page = Paginator(patients, PAGE_SIZE).get_page(request.GET.get("page"))
    ids = [p.pk for p in page.object_list]
    if ids:
        record(request, Action.LIST, object_type="patients.patient", query=q, ids=ids)
    template = "patients/_results.html" if request.htmx else "patients/list.html"
    return render(request, template, {"form": form, "page": page, "q": q})


@requires("patient.edit")
def patient_create(request):
    form = PatientForm(request.POST or None, clinic=request.clinic)
    if request.method == "POST" and form.is_valid():
        try:
            patient = services.save_patient(request, form)
        except IntegrityError:
            pass  # the form now carries the MRN error
        else:
            messages.success(request, f"{patient.full_name} is registered.")
            return redirect("patients:detail", patient_id=patient.pk)
    return render(request, "patients/form.html", {"form": form, "creating": True}, status=_status(request, form))


@requires("patient.view")
def patient_detail(request, patient_id):
    patient = get_clinic_object(request, Patient, pk=patient_id)
    record(request, Action.VIEW, patient, patient_id=patient.pk)
    context = {"patient": patient, "age": patient.age_on(timezone.localdate()), "timeline": timeline.sections(patient)}
    return render(request, "patients/detail.html", context)


@requires("patient.edit")
def patient_edit(request, patient_id):
    patient = get_clinic_object(request, Patient, pk=patient_id)
    form = PatientForm(request.POST or None, instance=patient, clinic=request.clinic)
    if request.method == "POST" and form.is_valid():
        try:
            services.save_patient(request, form)
        except services.EditConflict as conflict:
            form.add_error(None, conflict.message)
            return render(request, "patients/form.html", {"form": form, "patient": patient}, status=409)
        except IntegrityError:
            pass
        else:
            messages.success(request, "Changes saved.")
            return redirect("patients:detail", patient_id=patient.pk)
    else:
        record(request, Action.VIEW, patient, patient_id=patient.pk, purpose="edit")
    return render(request, "patients/form.html", {"form": form, "patient": patient}, status=_status(request, form))


def _status(request, form):
    return 400 if request.method == "POST" and form.errors else 200
