"""The intake form: the JSON intake's fields, in a shape staff fill in quickly.

`IntakeForm.intake()` turns the answers into the intake JSON that the API and
the CLI take, so the pure rule set (accretion.clinical.screening) validates and
decides all three the same way. Medications are one per line: `name` or
`name, YYYY-MM-DD` (date of the last dose; none = taken regularly).
"""

import re
from datetime import date

from django import forms

from accretion.clinical import antithrombotics as holds
from accretion.clinical import screening as rules
from accretion.clinical.screening import IntakeError, ScreeningProtocol

YES_NO_UNKNOWN = [("", "Not asked / unknown"), ("yes", "Yes"), ("no", "No")]
_TRI = {"": None, "yes": True, "no": False}
_FROM_TRI = {None: "", True: "yes", False: "no"}

LABELS = {
    "facet_oa": "Facet joint osteoarthritis",
    "disc_degeneration_mild": "Disc degeneration, mild",
    "disc_degeneration_moderate": "Disc degeneration, moderate",
    "disc_degeneration_severe": "Disc degeneration, severe",
    "spondylosis_nonradicular": "Spondylosis without radiculopathy",
    "paraspinal_strain": "Paraspinal muscle strain",
    "thoracolumbar_fascia_irritation": "Thoracolumbar fascia irritation",
    "post_discectomy": "After discectomy",
    "post_fusion": "After spinal fusion",
    "disc_herniation": "Disc herniation",
    "spinal_stenosis": "Spinal stenosis",
    "radiculopathy": "Radiculopathy",
    "other": "Other",
    "facet_joint": "Facet joint",
    "interspinous_ligament": "Interspinous ligament",
    "paraspinal_muscle": "Paraspinal muscle",
    "thoracolumbar_fascia": "Thoracolumbar fascia",
    "epidural": "Epidural (investigational)",
    "intradiscal": "Intradiscal (investigational)",
    "progressive_deficit": "Progressive neurological deficit",
    "cauda_equina": "Cauda equina signs",
    "myelopathy": "Myelopathy",
}
SAFETY_LABELS = {
    "active_infection": "Active infection (systemic, or at or near the injection site)",
    "bleeding_disorder": "Bleeding disorder (coagulopathy, platelet dysfunction)",
    "radicular_symptoms": "Radicular symptoms (pain, numbness or weakness along a nerve root)",
    "active_malignancy": "Active malignancy",
    "pregnant": "Pregnant",
}
NONE_FLAG = "none"


def _choices(codes):
    return [(code, LABELS.get(code, code)) for code in codes]


def _form_field(path: str) -> str:
    """`medications[1].last_dose` -> `medications`; `$` -> the whole form."""
    head = re.split(r"[\[.]", path, maxsplit=1)[0]
    return None if head in ("", "$") else head


class IntakeForm(forms.Form):
    procedure_date = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}),
                                     help_text="Planned date; empty = today.")
    age = forms.IntegerField(min_value=0, max_value=130, required=False, help_text="Years, from the date of birth.")
    region = forms.ChoiceField(choices=[("", "—"), *[(r, r.title()) for r in rules.REGIONS]], required=False)
    diagnoses = forms.MultipleChoiceField(choices=_choices(rules.DIAGNOSES), required=False,
                                          widget=forms.CheckboxSelectMultiple)
    planned_targets = forms.MultipleChoiceField(choices=_choices(rules.TARGETS), required=False,
                                                widget=forms.CheckboxSelectMultiple)
    active_infection = forms.ChoiceField(choices=YES_NO_UNKNOWN, required=False, widget=forms.RadioSelect)
    bleeding_disorder = forms.ChoiceField(choices=YES_NO_UNKNOWN, required=False, widget=forms.RadioSelect)
    radicular_symptoms = forms.ChoiceField(choices=YES_NO_UNKNOWN, required=False, widget=forms.RadioSelect)
    active_malignancy = forms.ChoiceField(choices=YES_NO_UNKNOWN, required=False, widget=forms.RadioSelect)
    pregnant = forms.ChoiceField(choices=YES_NO_UNKNOWN, required=False, widget=forms.RadioSelect)
    neuro_red_flags = forms.MultipleChoiceField(
        choices=[*_choices(rules.NEURO_RED_FLAGS), (NONE_FLAG, "None of these (assessed)")],
        required=False, widget=forms.CheckboxSelectMultiple, label="Neurological red flags",
        help_text="Nothing ticked means not assessed.",
    )
    platelet_count = forms.DecimalField(required=False, min_value=0, max_digits=7, decimal_places=1,
                                        label="Platelet count (×10³/µL)")
    medications = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 4}), max_length=4000,
        help_text="One per line: name, or name, date of last dose (YYYY-MM-DD). No date = taken regularly.",
    )
    no_medications = forms.BooleanField(required=False, label="Takes no medications (asked)")
    steroid_injection_last_date = forms.DateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"}),
        label="Last corticosteroid injection at the planned site",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, label in SAFETY_LABELS.items():
            self.fields[name].label = label

    # --- intake JSON <-> form ---------------------------------------------------

    @classmethod
    def initial_from(cls, intake: dict) -> dict:
        initial = {k: v for k, v in intake.items() if k in cls.base_fields}
        for name in SAFETY_LABELS:
            initial[name] = _FROM_TRI.get(intake.get(name), "")
        flags = intake.get("neuro_red_flags")
        initial["neuro_red_flags"] = [NONE_FLAG] if flags == [] else (flags or [])
        meds = intake.get("medications")
        initial["no_medications"] = meds == []
        initial["medications"] = "\n".join(
            m["name"] + (f", {m['last_dose']}" if m.get("last_dose") else "") for m in (meds or [])
        )
        return initial

    def clean(self):
        data = super().clean()
        flags = data.get("neuro_red_flags") or []
        if NONE_FLAG in flags and len(flags) > 1:
            self.add_error("neuro_red_flags", "Tick the red flags present, or “None of these”, not both.")
        if data.get("no_medications") and (data.get("medications") or "").strip():
            self.add_error("medications", "Either list the medications or tick “Takes no medications”.")
        return data

    def intake(self) -> dict:
        """The answers as intake JSON; unanswered keys are left out (a partial intake)."""
        data = self.cleaned_data
        intake: dict = {}
        if data.get("procedure_date"):
            intake["procedure_date"] = data["procedure_date"].isoformat()
        if data.get("age") is not None:
            intake["age"] = data["age"]
        if data.get("region"):
            intake["region"] = data["region"]
        for name in ("diagnoses", "planned_targets"):
            if data.get(name):
                intake[name] = list(data[name])
        for name in SAFETY_LABELS:
            intake[name] = _TRI[data.get(name) or ""]
        flags = data.get("neuro_red_flags") or []
        intake["neuro_red_flags"] = [] if NONE_FLAG in flags else (list(flags) or None)
        if data.get("platelet_count") is not None:
            count = data["platelet_count"]
            intake["platelet_count"] = int(count) if count == count.to_integral_value() else float(count)
        intake["medications"] = self._medications(data)
        if data.get("steroid_injection_last_date"):
            intake["steroid_injection_last_date"] = data["steroid_injection_last_date"].isoformat()
        return intake

    def _medications(self, data):
        if data.get("no_medications"):
            return []
        lines = [line.strip() for line in (data.get("medications") or "").splitlines() if line.strip()]
        if not lines:
            return None
        medications = []
        for line in lines:
            name, _, last = line.rpartition(",") if re.search(r",\s*\d{4}-\d{2}-\d{2}\s*$", line) else (line, "", "")
            medications.append({"name": name.strip(), "last_dose": last.strip() or None})
        return medications

    def decide(self, protocol: ScreeningProtocol, today: date):
        """Run the rule set on the full intake; field errors land on the form. Returns (intake, Decision) or None."""
        intake = self.intake()
        try:
            parsed = rules.parse_intake(intake, today=today)
        except IntakeError as error:
            field = _form_field(error.field)
            message = error.message
            if field == "medications" and error.field != "medications":
                line = re.search(r"\[(\d+)\]", error.field)
                message = f"Line {int(line.group(1)) + 1}: {message}" if line else message
            self.add_error(field if field in self.fields else None, message)
            return None
        return rules.intake_to_dict(parsed), rules.decide(parsed, protocol)


def _key(generic: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", generic.casefold()).strip("_")


_PLAN_FIELDS = {"action": "plan", "last_dose": "last_dose", "restart_on": "restart_on", "restart_note": "restart_note"}


class ReviewForm(forms.Form):
    """A physician's decision, with a reason for every review finding and, to proceed, a decision for every
    current anticoagulant or antiplatelet: keep taking it, or hold it (last dose) and restart (date or words)."""

    outcome = forms.ChoiceField(
        choices=[("proceed", "Proceed"), ("do_not_proceed", "Do not proceed")], widget=forms.RadioSelect
    )

    def __init__(self, *args, findings, antithrombotics=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.codes = [f["code"] for f in findings if f["severity"] == "review"]
        for finding in findings:
            if finding["severity"] == "review":
                self.fields[f"reason_{finding['code']}"] = forms.CharField(
                    label=f"Reason for {finding['code']}", max_length=2000,
                    widget=forms.Textarea(attrs={"rows": 2}), help_text=finding["message"],
                )
        self.drugs = list(antithrombotics)
        self.drug_fields = []
        for drug in self.drugs:
            key = _key(drug.generic)
            self.fields[f"plan_{key}"] = forms.ChoiceField(
                label=f"{drug.name}: before the procedure", required=False, widget=forms.RadioSelect,
                choices=[(holds.CONTINUE, "Keep taking it (no hold)"), (holds.HOLD, "Hold it")],
            )
            self.fields[f"last_dose_{key}"] = forms.DateField(
                label="Last dose before the procedure", required=False, widget=forms.DateInput(attrs={"type": "date"}))
            self.fields[f"restart_on_{key}"] = forms.DateField(
                label="Restart on", required=False, widget=forms.DateInput(attrs={"type": "date"}),
                help_text="The patient's handout says: restart on this date unless told otherwise.")
            self.fields[f"restart_note_{key}"] = forms.CharField(
                label="Restart instructions (optional with a date)", required=False,
                max_length=holds.RESTART_NOTE_MAX, help_text="In plain words for the patient, e.g. "
                "“the morning after the injection if there is no bleeding”.")
            self.drug_fields.append((drug, [self[f"{name}_{key}"] for name in _PLAN_FIELDS.values()]))

    def reasons(self) -> dict:
        return {code: self.cleaned_data[f"reason_{code}"].strip() for code in self.codes}

    def plan(self) -> dict:
        """The hold decisions as the pure parser takes them, keyed by generic name."""
        data = self.cleaned_data
        plan = {}
        for drug in self.drugs:
            key = _key(drug.generic)
            entry = {name: data.get(f"{prefix}_{key}") for name, prefix in _PLAN_FIELDS.items()}
            for name in ("last_dose", "restart_on"):
                entry[name] = entry[name].isoformat() if entry[name] else None
            entry["action"] = entry["action"] or None
            plan[drug.generic] = entry
        return plan

    def add_plan_error(self, error) -> None:
        """A FieldError of the parser (`antithrombotics.<generic>.<name>`) beside its form field."""
        parts = error.field.split(".")
        field = None
        if len(parts) == 3:
            field = f"{_PLAN_FIELDS.get(parts[2], parts[2])}_{_key(parts[1])}"
        self.add_error(field if field in self.fields else None, error.message)


class ProtocolForm(forms.Form):
    platelet_contraindication_below = forms.DecimalField(min_value=0, max_value=1000, decimal_places=1,
                                                         label="Contraindication below (×10³/µL platelets)")
    platelet_review_below = forms.DecimalField(min_value=0, max_value=1000, decimal_places=1,
                                               label="Physician review below (×10³/µL platelets)")
    nsaid_window_days = forms.IntegerField(min_value=0, max_value=365, label="NSAID window (days)")
    systemic_steroid_window_days = forms.IntegerField(min_value=0, max_value=365, label="Systemic steroid window (days)")
    steroid_injection_window_days = forms.IntegerField(min_value=0, max_value=365, label="Steroid injection window (days)")
    antithrombotic_current_window_days = forms.IntegerField(min_value=0, max_value=365,
                                                            label="Antithrombotic counts as current within (days)")

    def protocol(self) -> ScreeningProtocol | None:
        values = {k: (float(v) if k.startswith("platelet") else v) for k, v in self.cleaned_data.items()}
        values = {k: (int(v) if isinstance(v, float) and v.is_integer() else v) for k, v in values.items()}
        try:
            return ScreeningProtocol(**values)
        except rules.ProtocolError as error:
            self.add_error(error.field if error.field in self.fields else None, error.message)
            return None
