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
    form.is_valid()  # a bad filter is reported at its field; the valid ones still apply
    filters = form.filters()
    today = timezone.localdate()
    patients = services.search(services.with_state(clinic_objects(request, Patient), today), filters["q"])
    patients = services.filter_by_state(patients, screening=filters["screening"], procedure=filters["procedure"],
                                        days=filters["days"], today=today)
    page = Paginator(patients, PAGE_SIZE).get_page(request.GET.get("page"))
    ids = [p.pk for p in page.object_list]
    if ids:
        record(request, Action.LIST, object_type="patients.patient", query=filters["q"], ids=ids,
               **{name: value for name, value in filters.items() if name != "q" and value and
                  (name != "days" or filters["procedure"])})
    kept = request.GET.copy()
    kept.pop("page", None)
    context = {"form": form, "page": page, "q": filters["q"], "filters": filters, "querystring": kept.urlencode(),
               "filtered": bool(filters["screening"] or filters["procedure"])}
    template = "patients/_results.html" if request.htmx else "patients/list.html"
    return render(request, template, context)


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
