"""The clinic's responder thresholds: the minimal important change per instrument, with its source.

A clinic administrator (`protocol.manage`) may set them; the published
defaults (Ostelo 2008 for ODI and NRS, Vernon for NDI) apply until then.
Saving recomputes the responder flags of every outcome row of the clinic in
the same transaction (`summary.recompute_responders`), so the outcomes page,
its report and the export never mix two rules.
"""

from decimal import Decimal

from django import forms
from django.contrib import messages
from django.db import transaction
from django.shortcuts import redirect, render

from accretion.audit.log import Action, changes, record
from accretion.clinical import instruments
from accretion.clinics.models import Clinic
from accretion.clinics.tenancy import requires
from accretion.outcomes import summary

INSTRUMENTS = {"odi": ("Oswestry Disability Index (ODI, 0–100 %)", 100),
               "ndi": ("Neck Disability Index (NDI, 0–100 %)", 100),
               "nrs": ("Pain, numeric rating scale (NRS, 0–10)", 10)}


class TenthsField(forms.DecimalField):
    """A number with at most one decimal place; "2.50" is 2.5 (trailing zeros are not decimals)."""

    def __init__(self, **kwargs):
        super().__init__(min_value=Decimal("0.1"), decimal_places=1, **kwargs)

    def to_python(self, value):
        number = super().to_python(value)
        return None if number is None else number.normalize()


class ThresholdsForm(forms.Form):
    """Per instrument: `<name>_points`, `<name>_percent` (blank: no percent rule) and `<name>_source`."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, (_, top) in INSTRUMENTS.items():
            self.fields[f"{name}_points"] = TenthsField(label="Improvement of at least (points)", max_value=top)
            self.fields[f"{name}_percent"] = TenthsField(label="or of at least (% of baseline)", required=False,
                                                         max_value=100, help_text="Blank: no percent rule.")
            self.fields[f"{name}_source"] = forms.CharField(label="Source", max_length=300)

    def rows(self):
        for name, (label, _) in INSTRUMENTS.items():
            yield label, [self[f"{name}_{part}"] for part in ("points", "percent", "source")]

    @staticmethod
    def initial_from(thresholds: instruments.ResponderThresholds) -> dict:
        """The stored values as the fields show them (Decimals: "10", not "10.0")."""
        return {f"{name}_{part}": getattr(thresholds, f"{name}_{part}")
                for name in INSTRUMENTS for part in ("points", "percent", "source")}

    def clean(self):
        data = super().clean()
        if not self.errors:
            try:
                self.thresholds = instruments.ResponderThresholds(**data)
            except instruments.InstrumentError as error:  # the form's bounds make this rare; never a 500
                self.add_error(error.field if error.field in self.fields else None, error.message)
        return data


@requires("protocol.manage")
def responder_thresholds(request):
    clinic = request.clinic
    current = clinic.get_responder_thresholds()
    restore = request.method == "POST" and "restore" in request.POST
    form = ThresholdsForm(None if restore else (request.POST or None), initial=ThresholdsForm.initial_from(current))
    if restore or (request.method == "POST" and form.is_valid()):
        chosen = instruments.DEFAULT_THRESHOLDS if restore else form.thresholds
        with transaction.atomic():
            clinic = Clinic.objects.select_for_update().get(pk=clinic.pk)  # one change at a time
            before = clinic.get_responder_thresholds()
            clinic.outcome_protocol = {} if chosen == instruments.DEFAULT_THRESHOLDS else chosen.to_dict()
            clinic.save(update_fields=["outcome_protocol"])
            changed = summary.recompute_responders(clinic)
            record(request, Action.UPDATE, clinic, object_type="clinics.outcome_protocol",
                   before=before.to_dict(), after=chosen.to_dict(), responder_flags_changed=changed,
                   changes=changes(before.to_dict(), chosen.to_dict()))
        messages.success(request, f"Responder thresholds saved; {changed:,} responder "
                                  f"status{'es' if changed != 1 else ''} of earlier follow-ups recomputed.")
        return redirect("outcomes_analytics:thresholds")
    context = {"form": form, "thresholds": current, "stored": bool(clinic.outcome_protocol),
               "is_default": current.rule() == instruments.DEFAULT_THRESHOLDS.rule()}
    return render(request, "outcomes/thresholds.html", context, status=400 if form.errors else 200)
