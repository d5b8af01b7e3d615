from django import forms
from django.utils import timezone

from accretion.clinical.anatomy import LEVELS, invalid_levels, normalize_level
from accretion.procedures.models import TARGET_LABELS, Procedure


class PlanProcedureForm(forms.ModelForm):
    targets = forms.MultipleChoiceField(choices=list(TARGET_LABELS.items()), widget=forms.CheckboxSelectMultiple)
    levels = forms.CharField(max_length=200, help_text="Spinal levels, comma-separated: for example L4-L5, L5-S1.")
    kits = forms.IntegerField(min_value=1, max_value=10, initial=1, label="PRP kits")

    class Meta:
        model = Procedure
        fields = ["planned_date", "region", "targets", "levels", "kits"]
        widgets = {"planned_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}

    def clean_planned_date(self):
        day = self.cleaned_data["planned_date"]
        if day < timezone.localdate():
            raise forms.ValidationError("A planned procedure cannot be in the past.")
        return day

    def clean(self):
        data = super().clean()
        region, text = data.get("region"), data.get("levels")
        if region and text:
            levels = [level for level in (part.strip() for part in text.split(",")) if level]
            wrong = invalid_levels(region, levels)
            if wrong:
                valid = ", ".join(LEVELS[region])
                self.add_error("levels", f"Not a {region} level: {', '.join(wrong)}. Valid: {valid}.")
            else:
                data["levels"] = list(dict.fromkeys(normalize_level(level) for level in levels))
        return data
