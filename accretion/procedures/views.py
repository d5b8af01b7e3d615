from django.contrib import messages
from django.db import transaction
from django.shortcuts import redirect, render

from accretion.audit.log import Action, record
from accretion.clinics.tenancy import get_clinic_object, requires
from accretion.patients.models import Patient
from accretion.procedures.forms import PlanProcedureForm
from accretion.procedures.models import Procedure


@requires("procedure.plan")
def plan_procedure(request, patient_id):
    patient = get_clinic_object(request, Patient, pk=patient_id)
    form = PlanProcedureForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            procedure = form.save(commit=False)
            procedure.clinic, procedure.patient, procedure.created_by = request.clinic, patient, request.user
            procedure.save()
            record(request, Action.CREATE, procedure)
        messages.success(request, "Procedure planned. Next: the cost estimate and the consent.")
        return redirect("procedures:detail", procedure_id=procedure.pk)
    return render(request, "procedures/plan.html", {"form": form, "patient": patient}, status=400 if form.errors else 200)


@requires("patient.view")
def procedure_detail(request, procedure_id):
    procedure = get_clinic_object(request, Procedure.objects.select_related("patient"), pk=procedure_id)
    record(request, Action.VIEW, procedure)
    return render(request, "procedures/detail.html", {"procedure": procedure, "patient": procedure.patient,
                                                       "stages": procedure_stages(procedure)})


def procedure_stages(procedure):
    """What each later capability adds to the procedure page: (title, template) pairs."""
    from accretion.procedures import stages

    return stages.for_procedure(procedure)
