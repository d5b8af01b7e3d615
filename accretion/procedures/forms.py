from datetime import timedelta
from decimal import Decimal

from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone

from accretion.clinical.anatomy import LEVELS, invalid_levels, normalize_level
from accretion.clinical.schedule import DEFAULT_DURATION, MAX_DURATION, MIN_DURATION
from accretion.clinics.people import staff_name
from accretion.clinics.roles import PHYSICIAN, PREP_TECH
from accretion.practice.models import Equipment, KitLot, lot_key
from accretion.procedures.models import CHECKLIST, TARGET_LABELS, Guidance, Injection, Preparation, Procedure


class PlanProcedureForm(forms.ModelForm):
    targets = forms.MultipleChoiceField(choices=list(TARGET_LABELS.items()), widget=forms.CheckboxSelectMultiple)
    levels = forms.CharField(max_length=200, help_text="Spinal levels, comma-separated: for example L4-L5, L5-S1.")
    kits = forms.IntegerField(min_value=1, max_value=10, initial=1, label="PRP kits")
    start_time = forms.TimeField(required=False, label="Start time",
                                 widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
                                 input_formats=["%H:%M", "%H:%M:%S"],
                                 error_messages={"invalid": "A time of day, hours and minutes: for example 09:30."},
                                 help_text="Optional; without it the day list says time not set.")
    duration_minutes = forms.IntegerField(
        required=False, min_value=MIN_DURATION, max_value=MAX_DURATION, initial=DEFAULT_DURATION,
        label="Expected duration (minutes)", help_text=f"Left empty: {DEFAULT_DURATION} minutes.",
        error_messages={"invalid": f"A whole number of minutes, {MIN_DURATION} to {MAX_DURATION}.",
                        "min_value": f"At least {MIN_DURATION} minutes.",
                        "max_value": f"At most {MAX_DURATION} minutes (eight hours)."})
    room = forms.ChoiceField(required=False, error_messages={
        "invalid_choice": "Not a room of this clinic: %(value)s. Choose one of the list; the clinic administrator "
                          "sets the rooms on the clinic settings page."})
    physician = forms.ModelChoiceField(queryset=None, required=False, label="Operating physician", empty_label="—",
                                       error_messages={"invalid_choice": "Not a physician of this clinic."},
                                       help_text="Optional now; the team is confirmed on the procedure page.")

    class Meta:
        model = Procedure
        fields = ["planned_date", "start_time", "duration_minutes", "room", "physician", "region", "targets",
                  "levels", "kits"]
        widgets = {"planned_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}

    def __init__(self, *args, clinic, **kwargs):
        super().__init__(*args, **kwargs)
        rooms = list(clinic.rooms or [])
        self.fields["room"].choices = [("", "—")] + [(name, name) for name in rooms]
        if not rooms:
            self.fields["room"].help_text = ("No rooms are set yet: the clinic administrator lists them on the "
                                             "clinic settings page.")
        self.fields["physician"].queryset = _members(clinic, PHYSICIAN)
        self.fields["physician"].label_from_instance = staff_name

    def clean_duration_minutes(self):
        minutes = self.cleaned_data["duration_minutes"]
        return DEFAULT_DURATION if minutes is None else minutes

    def clean_planned_date(self):
        day = self.cleaned_data["planned_date"]
        today = timezone.localdate()
        if day < today:
            raise forms.ValidationError("A planned procedure cannot be in the past.")
        if day > today + timedelta(days=PLAN_AHEAD_DAYS):
            raise forms.ValidationError("Plan a procedure at most two years ahead.")
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


# --- Procedure day -----------------------------------------------------------------

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
IMAGE_TYPES = {".png": b"\x89PNG", ".jpg": b"\xff\xd8", ".jpeg": b"\xff\xd8"}


class VersionForm(forms.Form):
    """Carries the version of the procedure the page was built from."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**31)


def _members(clinic, *roles):
    return get_user_model().objects.filter(memberships__clinic=clinic, memberships__role__in=roles).order_by("username")


class StaffChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, user):
        return staff_name(user)


class AssignForm(VersionForm):
    physician = StaffChoiceField(queryset=None, label="Operating physician")
    prep_tech = StaffChoiceField(queryset=None, label="Preparation technician")

    def __init__(self, *args, clinic, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["physician"].queryset = _members(clinic, PHYSICIAN)
        self.fields["prep_tech"].queryset = _members(clinic, PREP_TECH, PHYSICIAN)


class KitLotChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, lot):
        return f"{lot} — quarantined" if lot.quarantined_at else str(lot)


class TimeOutForm(VersionForm):
    confirmed = forms.MultipleChoiceField(choices=list(CHECKLIST.items()), widget=forms.CheckboxSelectMultiple,
                                          label="Time-out checklist")
    kit_lot = KitLotChoiceField(queryset=None, label="PRP kit lot", required=False)
    kit_lot_number = forms.CharField(max_length=60, required=False, label="or the lot number on the kit",
                                     widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
                                     help_text="Typed or scanned; case and spaces do not matter.")
    centrifuge = forms.ModelChoiceField(queryset=None)
    imaging_unit = forms.ModelChoiceField(queryset=None, label="Imaging unit")

    def __init__(self, *args, clinic, **kwargs):
        super().__init__(*args, **kwargs)
        self.clinic = clinic
        self.fields["kit_lot"].queryset = KitLot.objects.filter(clinic=clinic).order_by("expiry_date")
        self.fields["centrifuge"].queryset = Equipment.objects.filter(clinic=clinic, kind="centrifuge")
        self.fields["imaging_unit"].queryset = Equipment.objects.filter(clinic=clinic,
                                                                        kind__in=["fluoroscopy", "ultrasound"])

    def clean_confirmed(self):
        missing = [label for code, label in CHECKLIST.items() if code not in self.cleaned_data["confirmed"]]
        if missing:
            raise forms.ValidationError("Every item must be confirmed before the procedure starts. Not confirmed: "
                                        + "; ".join(missing) + ".")
        return self.cleaned_data["confirmed"]

    def clean(self):
        data = super().clean()
        chosen, typed = data.get("kit_lot"), lot_key(data.get("kit_lot_number", ""))
        if typed:
            lots = list(KitLot.objects.filter(clinic=self.clinic, lot_key=typed).order_by("key_clash", "id"))
            products = {lot.product for lot in lots}
            if chosen is not None and chosen.lot_key != typed:
                self.add_error("kit_lot_number", f"This is not the lot chosen above ({chosen.lot_number}).")
            elif chosen is None and not lots:
                self.add_error("kit_lot_number", "The clinic has no kit lot with this number.")
            elif chosen is None and len(products) > 1:
                self.add_error("kit_lot", "Several products have this lot number; choose the kit lot in the list.")
            elif chosen is None:
                chosen = data["kit_lot"] = lots[0]
        elif chosen is None and "kit_lot" not in self.errors:
            self.add_error("kit_lot", "Choose the kit lot, or type the lot number on the kit.")
        if chosen is not None and chosen.quarantined_at is not None:
            self.add_error("kit_lot", f"Kit lot {chosen.lot_number} is quarantined (recall): a clinic administrator "
                                      "must release it before it is used.")
        return data


class PreparationForm(forms.ModelForm):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**31)

    class Meta:
        model = Preparation
        fields = ["whole_blood_ml", "anticoagulant", "anticoagulant_ml", "spin_unit", "spin_speed", "spin_minutes",
                  "spin_count", "baseline_platelets", "baseline_wbc", "baseline_neutrophils", "baseline_rbc",
                  "prp_platelets", "prp_wbc", "prp_neutrophils", "prp_rbc", "prp_volume_ml", "activation", "drawn_at"]
        widgets = {"drawn_at": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")}

    def clean_drawn_at(self):
        drawn = self.cleaned_data["drawn_at"]
        if drawn > timezone.now() + timedelta(minutes=5):
            raise forms.ValidationError("The time of the draw cannot be in the future.")
        return drawn

    def record_data(self) -> dict:
        return {k: v for k, v in self.cleaned_data.items() if k != "version"}


class InjectionForm(forms.ModelForm):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**31)
    levels = forms.CharField(max_length=100, help_text="e.g. L4-L5, L5-S1")
    placement_confirmed = forms.TypedChoiceField(
        choices=[("", "—"), ("yes", "Yes"), ("no", "No")], coerce=lambda v: v == "yes",
        label="Placement confirmed (contrast spread or ultrasound view)")

    class Meta:
        model = Injection
        fields = ["target", "levels", "side", "guidance", "placement_confirmed", "volume_ml", "needle_gauge",
                  "screening_time_s", "dose_area_product", "image"]

    def __init__(self, *args, procedure, **kwargs):
        super().__init__(*args, **kwargs)
        self.procedure = procedure
        self.fields["volume_ml"].min_value = Decimal("0.01")
        self.fields["needle_gauge"].validators.append(_between(18, 30, "A needle gauge between 18 and 30."))

    def clean_levels(self):
        levels = [part.strip() for part in self.cleaned_data["levels"].split(",") if part.strip()]
        wrong = invalid_levels(self.procedure.region, levels)
        if wrong:
            raise forms.ValidationError(f"Not a {self.procedure.region} level: {', '.join(wrong)}. "
                                        f"Valid: {', '.join(LEVELS[self.procedure.region])}.")
        return list(dict.fromkeys(normalize_level(level) for level in levels))

    def clean_volume_ml(self):
        volume = self.cleaned_data["volume_ml"]
        if volume <= 0:
            raise forms.ValidationError("The volume must be more than 0 mL.")
        return volume

    def clean_image(self):
        upload = self.cleaned_data.get("image")
        if not upload:
            return upload
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError("An image may be at most 20 MB.")
        head = upload.read(132)
        upload.seek(0)
        name = upload.name.lower()
        is_dicom = head[128:132] == b"DICM"
        if not is_dicom and not any(name.endswith(ext) and head.startswith(magic) for ext, magic in IMAGE_TYPES.items()):
            raise forms.ValidationError("Upload a PNG, JPEG or DICOM image.")
        self.dicom_headers = read_dicom_headers(upload) if is_dicom else {}
        return upload

    def clean(self):
        data = super().clean()
        if data.get("guidance") == Guidance.FLUOROSCOPY and data.get("screening_time_s") is None:
            self.add_error("screening_time_s", "Fluoroscopy needs the screening time (seconds).")
        return data

    def record_data(self) -> dict:
        data = {k: v for k, v in self.cleaned_data.items() if k != "version"}
        data["dicom_headers"] = getattr(self, "dicom_headers", {})
        return data


def _between(low, high, message):
    def check(value):
        if value is not None and not low <= value <= high:
            raise forms.ValidationError(message)

    return check


DICOM_VALUE_MAX = 200
PLAN_AHEAD_DAYS = 731
DICOM_FIELDS = ("Modality", "StudyDate", "StudyTime", "Manufacturer", "ManufacturerModelName", "BodyPartExamined",
                "KVP", "ExposureTime", "XRayTubeCurrent", "ImageAndFluoroscopyAreaDoseProduct")


def read_dicom_headers(upload) -> dict:
    """A few technical headers of a DICOM image (pydicom), as text; unreadable files are refused."""
    import pydicom

    try:
        dataset = pydicom.dcmread(upload, stop_before_pixels=True)
        values = {name: dataset.get(name) for name in DICOM_FIELDS}  # decoding a value can fail too
        headers = {name: str(value) for name, value in values.items() if value not in (None, "")}
    except Exception as error:  # noqa: BLE001 - InvalidDicomError, or whatever a malformed element raises
        raise forms.ValidationError(f"The DICOM file could not be read ({type(error).__name__}).") from None
    finally:
        upload.seek(0)
    # Text from the file goes into a JSON column: no NUL (PostgreSQL refuses it), no runaway lengths.
    return {name: text.replace("\x00", "")[:DICOM_VALUE_MAX] for name, text in headers.items()}


class RemoveInjectionForm(VersionForm):
    confirm = forms.BooleanField(label="Yes, remove this row: it was entered by mistake",
                                 error_messages={"required": "Tick the box to confirm that this row is removed."})


class CompleteForm(VersionForm):
    injected_at = forms.DateTimeField(widget=forms.DateTimeInput(attrs={"type": "datetime-local"},
                                                                 format="%Y-%m-%dT%H:%M"),
                                      label="Time of injection")

    def clean_injected_at(self):
        injected = self.cleaned_data["injected_at"]
        if injected > timezone.now() + timedelta(minutes=5):
            raise forms.ValidationError("The time of the injection cannot be in the future.")
        return injected


class SignForm(VersionForm):
    def __init__(self, *args, deviations, **kwargs):
        super().__init__(*args, **kwargs)
        self.keys = []
        for key, check in deviations:
            self.keys.append(key)
            self.fields[f"reason:{key}"] = forms.CharField(max_length=1000, label=check["message"],
                                                           widget=forms.Textarea(attrs={"rows": 2}))

    def reasons(self) -> dict:
        return {key: self.cleaned_data[f"reason:{key}"] for key in self.keys}


class AddendumForm(forms.Form):
    text = forms.CharField(max_length=5000, widget=forms.Textarea(attrs={"rows": 3}), label="Addendum")


class CancelForm(VersionForm):
    reason = forms.CharField(max_length=500, label="Reason for cancelling")
