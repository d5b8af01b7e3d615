"""The clinic's procedure protocol: per target, what a consistent procedure looks like."""

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render

from accretion.audit.log import Action, changes, record
from accretion.clinical import protocol as rules
from accretion.clinics.tenancy import requires
from accretion.procedures.models import TARGET_LABELS
from accretion.procedures.services import clinic_protocol

NUMBERS = {
    "volume_min_ml": ("Volume from (mL)", 2),
    "volume_max_ml": ("to (mL)", 2),
    "min_concentration_factor": ("Minimum concentration factor", 2),
    "max_draw_to_injection_minutes": ("Longest draw-to-injection (min)", 0),
    "dap_reference": ("Fluoroscopy DAP reference (Gy·cm²)", 2),
}


class ProtocolForm(forms.Form):
    """One row of fields per target: `<target>__<setting>`."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for target in TARGET_LABELS:
            for name, (label, places) in NUMBERS.items():
                field = forms.IntegerField if places == 0 else forms.DecimalField
                options = {"min_value": 0, "max_value": 1000, "label": label, "required": name != "dap_reference"}
                if places:
                    options["decimal_places"] = places
                self.fields[f"{target}__{name}"] = field(**options)
            self.fields[f"{target}__modalities"] = forms.MultipleChoiceField(
                choices=[(m, m.title()) for m in rules.MODALITIES], widget=forms.CheckboxSelectMultiple,
                label="Guidance accepted")
            self.fields[f"{target}__source"] = forms.CharField(max_length=300, label="Source or note")

    def rows(self):
        for target, label in TARGET_LABELS.items():
            yield label, [self[f"{target}__{name}"] for name in [*NUMBERS, "modalities", "source"]]

    @staticmethod
    def initial_from(protocol) -> dict:
        initial = {}
        for target, values in protocol.to_dict()["targets"].items():
            for name, value in values.items():
                initial[f"{target}__{name}"] = value
        return initial

    def protocol(self, version: str):
        targets = {}
        for target in TARGET_LABELS:
            values = {name: self.cleaned_data[f"{target}__{name}"] for name in [*NUMBERS, "modalities", "source"]}
            if "fluoroscopy" not in values["modalities"]:
                values["dap_reference"] = None  # a dose reference only applies to fluoroscopy
            targets[target] = {k: (float(v) if hasattr(v, "as_tuple") else v) for k, v in values.items()}
        try:
            return rules.ProcedureProtocol.from_dict({"version": version, "targets": targets})
        except rules.ProtocolError as error:
            parts = error.field.split(".")
            field = f"{parts[1]}__{parts[2]}" if len(parts) == 3 and parts[0] == "targets" else None
            self.add_error(field if field in self.fields else None, error.message)
            return None


@requires("protocol.manage")
def procedure_protocol(request):
    clinic = request.clinic
    current = clinic_protocol(clinic)
    form = ProtocolForm(request.POST or None, initial=ProtocolForm.initial_from(current))
    if request.method == "POST" and form.is_valid():
        protocol = form.protocol(version=f"{clinic.slug}-{current.fingerprint}")
        if protocol is not None:
            clinic.procedure_protocol = protocol.to_dict()
            clinic.save(update_fields=["procedure_protocol"])
            record(request, Action.UPDATE, clinic, object_type="clinics.procedure_protocol",
                   fingerprint=protocol.fingerprint, changes=changes(current.to_dict(), protocol.to_dict()))
            messages.success(request, f"Procedure protocol saved (fingerprint {protocol.fingerprint}). "
                                      "Procedures completed from now on are checked against it.")
            return redirect("procedures:protocol")
    return render(request, "procedures/protocol.html", {"form": form, "protocol": current,
                                                        "is_example": not clinic.procedure_protocol},
                  status=400 if form.errors else 200)
