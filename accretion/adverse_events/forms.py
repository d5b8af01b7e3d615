"""Forms for recording an adverse event, judging it, and filtering the clinic's list.

The grading rules live here once and both forms apply them: grades 4 and 5
are always serious (the box is ticked for the user), and a fatal outcome goes
with grade 5 and only with it.
"""

from django import forms
from django.utils import timezone
from django.utils.http import urlencode

from accretion.adverse_events.models import (
    FATAL_GRADE,
    SERIOUS_FROM_GRADE,
    AdverseEvent,
    EventType,
    Grade,
    Outcome,
    Relatedness,
    procedure_day,
)
from accretion.procedures.models import Procedure

SERIOUS_HELP = (
    "Tick for death, a life-threatening event, hospitalisation (or a longer stay), persistent disability, "
    "or another important medical event. Grades 4 and 5 are always serious."
)


def _grade_field(**kwargs):
    return forms.TypedChoiceField(label="CTCAE grade", choices=[("", "—"), *Grade.choices], coerce=int,
                                  help_text="CTCAE v5.", **kwargs)


def apply_grading_rules(form: forms.Form, data: dict) -> dict:
    """Grade 4–5 forces serious; fatal outcome if and only if grade 5. Errors go to the field at fault."""
    grade, outcome = data.get("ctcae_grade"), data.get("outcome")
    if grade is not None and grade >= SERIOUS_FROM_GRADE:
        data["serious"] = True
    if grade is not None and outcome:
        if outcome == Outcome.FATAL and grade != FATAL_GRADE:
            form.add_error("outcome",
                           "A fatal outcome is CTCAE grade 5 (death): set the grade to 5, or choose another outcome.")
        elif grade == FATAL_GRADE and outcome != Outcome.FATAL:
            form.add_error("ctcae_grade", "Grade 5 means death related to the event: the outcome must be fatal.")
    return data


class ProcedureChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, procedure):
        status = procedure.get_status_display().lower()
        return f"{procedure.get_region_display()} PRP on {procedure_day(procedure):%Y-%m-%d} ({status})"


class AdverseEventForm(forms.ModelForm):
    """A staff member records an event for one patient."""

    procedure = ProcedureChoiceField(queryset=Procedure.objects.none(), required=False,
                                     empty_label="Not linked to a procedure",
                                     help_text="The procedure the event followed, if any.")
    ctcae_grade = _grade_field()

    class Meta:
        model = AdverseEvent
        fields = ["procedure", "event_type", "ctcae_grade", "serious", "onset", "outcome", "description"]
        labels = {"onset": "Onset date", "serious": "Serious adverse event"}
        help_texts = {"serious": SERIOUS_HELP, "description": "What happened, what was done (up to 2,000 characters)."}
        widgets = {
            "onset": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "description": forms.Textarea(attrs={"rows": 4}),
        }

    def __init__(self, *args, patient, **kwargs):
        super().__init__(*args, **kwargs)
        self.patient = patient
        self.instance.patient, self.instance.clinic_id = patient, patient.clinic_id
        self.fields["procedure"].queryset = Procedure.objects.filter(
            clinic_id=patient.clinic_id, patient=patient).order_by("-planned_date", "-id")
        self.fields["onset"].widget.attrs["max"] = timezone.localdate().isoformat()
        self.fields["event_type"].choices = [("", "—"), *EventType.choices]
        self.fields["outcome"].choices = [("", "—"), *Outcome.choices]

    def clean(self):
        data = super().clean()
        procedure, onset = data.get("procedure"), data.get("onset")
        if procedure is not None and procedure.patient_id != self.patient.pk:
            self.add_error("procedure", "This procedure belongs to another patient.")
            procedure = None
        if onset is not None:
            if onset > timezone.localdate():
                self.add_error("onset", "The onset cannot be in the future.")
            elif procedure is not None and onset < procedure_day(procedure):
                day = procedure_day(procedure)
                self.add_error("onset", f"The onset cannot be before the procedure ({day:%Y-%m-%d}).")
        if data.get("event_type") == EventType.OTHER and not data.get("description"):
            self.add_error("description", "Describe the event when its type is “Other”.")
        return apply_grading_rules(self, data)


class JudgementForm(forms.Form):
    """A physician's relatedness judgement, with corrections to grade, seriousness and outcome."""

    relatedness = forms.ChoiceField(label="Relatedness to the procedure", choices=Relatedness.choices,
                                    widget=forms.RadioSelect)
    ctcae_grade = _grade_field()
    serious = forms.BooleanField(label="Serious adverse event", required=False, help_text=SERIOUS_HELP)
    outcome = forms.ChoiceField(choices=[("", "—"), *Outcome.choices])
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**31)

    @classmethod
    def for_event(cls, event: AdverseEvent):
        return cls(initial={"relatedness": event.relatedness or None, "ctcae_grade": event.ctcae_grade,
                            "serious": event.serious, "outcome": event.outcome, "version": event.version})

    def clean(self):
        return apply_grading_rules(self, super().clean())


class FilterForm(forms.Form):
    needs_review = forms.BooleanField(label="Needs review", required=False)
    serious = forms.BooleanField(label="Serious only", required=False)
    event_type = forms.ChoiceField(label="Type", choices=[("", "All types"), *EventType.choices], required=False)
    grade = forms.TypedChoiceField(label="Grade", coerce=int, required=False, empty_value=None,
                                   choices=[("", "All grades"), *[(g, f"Grade {g}") for g in Grade.values]])

    def filter(self, queryset):
        """Apply every filter that is valid; an invalid one is reported at its field and ignored."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        if data.get("needs_review"):
            queryset = queryset.filter(needs_review=True)
        if data.get("serious"):
            queryset = queryset.filter(serious=True)
        if data.get("event_type"):
            queryset = queryset.filter(event_type=data["event_type"])
        if data.get("grade") is not None:
            queryset = queryset.filter(ctcae_grade=data["grade"])
        return queryset

    def query_string(self) -> str:
        """The valid filters as a query string, for the pager's links."""
        data = getattr(self, "cleaned_data", {})
        pairs = [(name, "on") for name in ("needs_review", "serious") if data.get(name)]
        if data.get("event_type"):
            pairs.append(("event_type", data["event_type"]))
        if data.get("grade") is not None:
            pairs.append(("grade", data["grade"]))
        return urlencode(pairs)
