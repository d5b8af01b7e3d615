from django import forms

from accretion.patients.models import Patient

FIELDS = ["mrn", "given_name", "family_name", "date_of_birth", "sex", "phone", "email", "preferred_language"]


class PatientForm(forms.ModelForm):
    """Validates a patient for the pages and the API alike."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Patient
        fields = FIELDS
        widgets = {"date_of_birth": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}

    def __init__(self, *args, clinic, **kwargs):
        super().__init__(*args, **kwargs)
        self.clinic = clinic
        if self.instance.pk:
            self.fields["version"].initial = self.instance.version
        self.generates_mrn = not self.instance.pk and bool(clinic and clinic.mrn_pattern)
        if self.generates_mrn:
            self.fields["mrn"].required = False  # empty: save_patient numbers the patient by the clinic's pattern
            self.fields["mrn"].help_text = f"Leave empty to number the patient by the clinic's pattern ({clinic.mrn_pattern})."
        elif not self.instance.pk:
            self.fields["mrn"].error_messages["required"] = (
                "This field is required: this clinic has no MRN pattern to number patients by "
                "(a clinic administrator can set one in Clinic settings).")

    def clean_mrn(self):
        mrn = self.cleaned_data["mrn"].strip().upper()
        if not mrn:
            if self.generates_mrn:
                return ""
            raise forms.ValidationError(self.fields["mrn"].error_messages["required"])
        clash = Patient.objects.filter(clinic=self.clinic, mrn=mrn)
        if self.instance.pk:
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            raise forms.ValidationError(f"Another patient in this clinic already has MRN {mrn}.")
        return mrn

    def clean_given_name(self):
        return self.cleaned_data["given_name"].strip()

    def clean_family_name(self):
        return self.cleaned_data["family_name"].strip()

    def clean_email(self):
        return self.cleaned_data["email"].strip().lower()


SCREENING_FILTERS = [
    ("", "Any screening"),
    ("none", "No screening yet"),
    ("eligible", "Eligible"),
    ("review", "Needs physician review"),
    ("ineligible", "Not eligible"),
    ("blocked", "Blocked (not cleared)"),
]
DEFAULT_DAYS = 30
PROCEDURE_FILTERS = [("", "Any"), ("planned", "Procedure planned"), ("none", "No procedure planned")]


class PatientSearchForm(forms.Form):
    """The patient list's search and filters (GET). A bad filter value is reported at its field and ignored."""

    q = forms.CharField(required=False, max_length=100, label="Search")
    screening = forms.ChoiceField(choices=SCREENING_FILTERS, required=False, label="Screening")
    procedure = forms.ChoiceField(choices=PROCEDURE_FILTERS, required=False, label="Upcoming procedure")
    days = forms.IntegerField(required=False, min_value=1, max_value=365, label="In the next (days)",
                              widget=forms.NumberInput(attrs={"placeholder": "30"}))

    def filters(self) -> dict:
        """The valid filters given (call after is_valid()): invalid ones are left out."""
        data = getattr(self, "cleaned_data", {})
        return {"q": data.get("q") or "", "screening": data.get("screening") or "",
                "procedure": data.get("procedure") or "", "days": data.get("days") or DEFAULT_DAYS}

