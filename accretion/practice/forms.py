import re

from django import forms
from django.utils import timezone

from accretion.clinics.people import staff_name
from accretion.practice.models import REQUIRED_MODULES, Equipment, Kind, KitLot, TrainingModule, lot_key

MAX_STOCK = 100_000
DATE = {"type": "date"}


def _date_input():
    return forms.DateInput(attrs=DATE, format="%Y-%m-%d")


def _not_in_future(day, what):
    if day is not None and day > timezone.localdate():
        raise forms.ValidationError(f"The {what} cannot be in the future.")
    return day


class TrainingFilterForm(forms.Form):
    problems = forms.BooleanField(required=False, label="Only problems (expiring, expired or missing)")
    clinical = forms.BooleanField(required=False, label="Only clinical staff (physicians, nurses, prep techs)")


class TrainingRecordForm(forms.Form):
    """A completed training of a member of the active clinic; verified by whoever records it."""

    member = forms.TypedChoiceField(coerce=int, label="Staff member")
    module = forms.ChoiceField(label="Training module")
    completed_on = forms.DateField(label="Completed on", widget=_date_input())
    expires_on = forms.DateField(label="Expires on", required=False, widget=_date_input(),
                                 help_text="Leave empty for 12 months after completion.")

    def __init__(self, *args, memberships, modules: dict[str, str], **kwargs):
        super().__init__(*args, **kwargs)
        self.users = {m.user_id: m.user for m in memberships}
        self.fields["member"].choices = [("", "—")] + [
            (m.user_id, staff_name(m.user, m.role)) for m in memberships]
        self.fields["module"].choices = [("", "—")] + list(modules.items())

    def clean_completed_on(self):
        return _not_in_future(self.cleaned_data["completed_on"], "completion date")

    def clean(self):
        data = super().clean()
        completed, expires = data.get("completed_on"), data.get("expires_on")
        if completed and expires and expires <= completed:
            self.add_error("expires_on", "The expiry must be after the completion date.")
        return data

    @property
    def user(self):
        return self.users[self.cleaned_data["member"]]


class TrainingModuleForm(forms.Form):
    """A clinic's own module; its code is derived from the name."""

    name = forms.CharField(max_length=100, label="Module name")

    def __init__(self, *args, clinic, **kwargs):
        super().__init__(*args, **kwargs)
        self.clinic = clinic

    def clean_name(self):
        name = " ".join(self.cleaned_data["name"].split())
        code = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")[:40].rstrip("_")
        if not code or not code[0].isalpha():
            raise forms.ValidationError("Start the name with a letter (A–Z).")
        if code in REQUIRED_MODULES or name.lower() in {n.lower() for n in REQUIRED_MODULES.values()}:
            raise forms.ValidationError("This module is one of the required modules; it already exists.")
        if TrainingModule.objects.filter(clinic=self.clinic, code=code).exists():
            raise forms.ValidationError("The clinic already has this module.")
        self.code = code
        return name


class EquipmentForm(forms.ModelForm):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1, max_value=2**31)

    class Meta:
        model = Equipment
        fields = ["kind", "manufacturer", "model", "serial", "fda_510k", "in_service", "next_maintenance"]
        widgets = {"next_maintenance": _date_input()}

    def __init__(self, *args, clinic, **kwargs):
        super().__init__(*args, **kwargs)
        self.clinic = clinic
        self.fields["kind"].choices = [("", "—"), *Kind.choices]
        if self.instance.pk:
            self.fields["version"].initial = self.instance.version

    def clean_manufacturer(self):
        return self.cleaned_data["manufacturer"].strip()

    def clean_model(self):
        return self.cleaned_data["model"].strip()

    def clean_serial(self):
        serial = self.cleaned_data["serial"].strip()
        clash = Equipment.objects.filter(clinic=self.clinic, serial=serial)
        if self.instance.pk:
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            raise forms.ValidationError("Another device of this clinic already has this serial number.")
        return serial

    def clean(self):
        data = super().clean()
        kind, number = data.get("kind"), data.get("fda_510k", "")
        if kind == Kind.CENTRIFUGE and not number and "fda_510k" not in self.errors:
            self.add_error("fda_510k", "A centrifuge needs its FDA 510(k) number, e.g. K123456.")
        if kind and kind != Kind.CENTRIFUGE and number:
            self.add_error("fda_510k", "Only centrifuges carry a 510(k) number here; leave it empty for imaging units.")
        if self.instance.pk and self.is_bound and data.get("version") is None and "version" not in self.errors:
            raise forms.ValidationError("The page is missing its version; reload it and edit again.")
        return data


class KitLotForm(forms.ModelForm):
    quantity_on_hand = forms.IntegerField(min_value=1, max_value=MAX_STOCK, label="Kits received")

    class Meta:
        model = KitLot
        fields = ["product", "manufacturer", "lot_number", "expiry_date", "quantity_on_hand", "received_on"]
        widgets = {"expiry_date": _date_input(), "received_on": _date_input()}

    def __init__(self, *args, clinic, **kwargs):
        super().__init__(*args, **kwargs)
        self.clinic = clinic
        if not self.is_bound:
            self.fields["received_on"].initial = timezone.localdate()

    def clean_product(self):
        return " ".join(self.cleaned_data["product"].split())

    def clean_manufacturer(self):
        return " ".join(self.cleaned_data["manufacturer"].split())

    def clean_lot_number(self):
        number = " ".join(self.cleaned_data["lot_number"].split())
        if not lot_key(number):
            raise forms.ValidationError("Enter the lot number printed on the kit.")
        return number

    def clean_received_on(self):
        return _not_in_future(self.cleaned_data["received_on"], "date received")

    def clean(self):
        data = super().clean()
        product, lot_number = data.get("product"), data.get("lot_number")
        expiry, received = data.get("expiry_date"), data.get("received_on")
        existing = (KitLot.objects.filter(clinic=self.clinic, product=product, lot_key=lot_key(lot_number))
                    .order_by("key_clash", "id").first() if product and lot_number else None)
        if existing and expiry and existing.expiry_date != expiry:
            self.add_error("expiry_date", f"Lot {existing.lot_number} of this product is in stock with expiry "
                                          f"{existing.expiry_date:%Y-%m-%d}; one lot has one expiry date. "
                                          "Check the label.")
        if expiry and received and expiry < received:
            self.add_error("expiry_date", "This lot had expired before it was received; do not stock it.")
        return data


class StockAdjustForm(forms.Form):
    seen = forms.IntegerField(widget=forms.HiddenInput, min_value=0, max_value=2**31)
    counted = forms.IntegerField(min_value=0, max_value=MAX_STOCK, label="Kits counted on the shelf")
    reason = forms.CharField(max_length=500, label="Reason for the correction",
                             widget=forms.TextInput(attrs={"placeholder": "e.g. two kits damaged in storage"}))

    def clean_reason(self):
        reason = " ".join(self.cleaned_data["reason"].split())
        if not reason:
            raise forms.ValidationError("Say why the count differs.")
        return reason

    def clean(self):
        data = super().clean()
        if data.get("counted") is not None and data.get("seen") is not None and data["counted"] == data["seen"]:
            self.add_error("counted", "That is the quantity already on hand; there is nothing to correct.")
        return data


class ReasonForm(forms.Form):
    """A required reason: releasing a quarantined lot, recording a recall."""

    reason = forms.CharField(max_length=500, label="Reason", error_messages={"required": "Give the reason."},
                             widget=forms.TextInput(attrs={"placeholder": "e.g. manufacturer cleared the lot"}))

    def clean_reason(self):
        reason = " ".join(self.cleaned_data["reason"].split())
        if not reason:
            raise forms.ValidationError("Give the reason.")
        return reason
