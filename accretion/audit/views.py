from django import forms
from django.contrib.auth import get_user_model
from django.core.paginator import Paginator
from django.db.models import Q
from django.shortcuts import render

from accretion.audit.models import Action, AuditEvent
from accretion.clinical import names
from accretion.clinics.models import Membership
from accretion.clinics.tenancy import requires
from accretion.patients.models import Patient


class AuditFilter(forms.Form):
    action = forms.ChoiceField(choices=[("", "Any action"), *Action.choices], required=False)
    user = forms.CharField(required=False, max_length=150, label="User contains")
    who = forms.CharField(required=False, max_length=100, label="Patient (MRN or name)",
                          help_text="The start of an MRN, or name words; accents and capitals do not matter.")
    patient = forms.IntegerField(required=False, min_value=1, max_value=2**63 - 1, label="Patient id")
    since = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))


def clinic_events(clinic):
    """The clinic's rows, plus sign-in events of its members (those carry no clinic)."""
    members = Membership.objects.filter(clinic=clinic).values("user_id")
    return AuditEvent.objects.filter(Q(clinic_id=clinic.pk) | Q(clinic_id__isnull=True, user_id__in=members))


def patient_ids(clinic, text: str):
    """The ids of the clinic's patients whose MRN starts with `text` or whose name has its words (accents and
    case ignored, as the patient search): a subquery, so a common name costs no list of ids in Python."""
    text = text.strip()
    by_name = Q()
    for word in names.words(text):
        by_name &= Q(search_name__contains=word)
    condition = Q(mrn__istartswith=text) | (by_name if by_name else Q(pk__in=[]))
    return Patient.objects.filter(clinic=clinic).filter(condition).values("pk")


def with_staff(rows: list[AuditEvent]) -> list[AuditEvent]:
    """Give each row `.staff`, the user who acted (None for system rows and deleted users), in one query.

    Only for showing: the row's own copied `username` stays what the hash chain covers."""
    users = get_user_model().objects.in_bulk({row.user_id for row in rows if row.user_id is not None})
    for row in rows:
        row.staff = users.get(row.user_id)
    return rows


@requires("audit.view")
def audit_log(request):
    form = AuditFilter(request.GET or None)
    events = clinic_events(request.clinic)
    if form.is_valid():
        data = form.cleaned_data
        if data["action"]:
            events = events.filter(action=data["action"])
        if data["user"]:
            events = events.filter(username__icontains=data["user"])
        if data["patient"]:
            events = events.filter(patient_id=data["patient"])
        if data["who"]:
            events = events.filter(patient_id__in=patient_ids(request.clinic, data["who"]))
        if data["since"]:
            events = events.filter(at__date__gte=data["since"])
        if data["until"]:
            events = events.filter(at__date__lte=data["until"])
    page = Paginator(events.order_by("-id"), 50).get_page(request.GET.get("page"))
    page.object_list = with_staff(list(page.object_list))
    return render(request, "audit/log.html", {"form": form, "page": page})
