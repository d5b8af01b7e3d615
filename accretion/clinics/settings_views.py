"""The clinic's settings page: its name and phone, and every setting a clinic administrator owns, in one place.

Each setting keeps its own page (price list, screening protocol, procedure
protocol, aftercare settings, responder thresholds, staff); this page says
what is set now and links to each, so none is a dead end reachable only from
deep inside a workflow.
"""

from django.contrib import messages
from django.shortcuts import redirect, render
from django_otp import user_has_device

from accretion.audit.log import Action, changes, record
from accretion.clinical.instruments import DEFAULT_THRESHOLDS
from accretion.clinics.forms import ClinicDetailsForm
from accretion.clinics.models import Membership
from accretion.clinics.tenancy import requires
from accretion.consents.models import PriceList
from accretion.outcomes.analytics_views import responder_rules
from accretion.procedures.services import clinic_protocol


def _summary(clinic) -> dict:
    aftercare = clinic.get_aftercare_protocol()
    thresholds = clinic.get_responder_thresholds()
    price_list = PriceList.objects.filter(clinic=clinic).first()
    return {
        "members": Membership.objects.filter(clinic=clinic).count(),
        "price_list": price_list,
        "screening": clinic.get_screening_protocol(),
        "procedure_protocol": clinic_protocol(clinic),
        "procedure_protocol_is_example": not clinic.procedure_protocol,
        "aftercare": aftercare,
        "rules": responder_rules(clinic),
        "thresholds_are_default": thresholds.rule() == DEFAULT_THRESHOLDS.rule(),
    }


@requires("clinic.manage")
def clinic_settings(request):
    clinic = request.clinic
    form = ClinicDetailsForm(request.POST or None, instance=clinic)
    if (request.method == "POST" and form.is_valid() and request.role in form.cleaned_data["two_factor_roles"]
            and request.role not in (form.initial.get("two_factor_roles") or []) and not user_has_device(request.user)):
        form.add_error("two_factor_roles", "Turn on two-factor sign-in for yourself first (Account, at the "
                                           "top of the page), so that you are not locked out.")
    if request.method == "POST" and form.is_valid():
        changed = form.changed_data
        if changed:
            form.save()
            record(request, Action.UPDATE, clinic, object_type="clinics.clinic", fields=changed,
                   changes=changes({name: form.initial.get(name) for name in changed},
                                   {name: form.cleaned_data[name] for name in changed}))
            messages.success(request, "Clinic details saved.")
        return redirect("clinic-settings")
    if form.errors:
        clinic.refresh_from_db()  # the header shows the stored name, not the rejected one
    return render(request, "clinics/settings.html", {"form": form, **_summary(clinic)},
                  status=400 if form.errors else 200)
