import re

from django import forms
from django.contrib.auth import get_user_model, password_validation

from accretion import money
from accretion.clinical import mrn
from accretion.clinical.errors import FieldError
from accretion.clinics.models import Clinic
from accretion.clinics.roles import ROLES

PHONE = re.compile(r"[+]?[0-9 ().-]+")
SMS_PHONE = re.compile(r"[+]?[0-9]{7,15}")  # what an SMS gateway takes: digits, a leading + for the country code


class AddMemberForm(forms.Form):
    email = forms.EmailField(max_length=150, help_text="The staff member signs in with this address.")  # the user name
    role = forms.ChoiceField(choices=ROLES)
    password = forms.CharField(
        required=False,
        widget=forms.PasswordInput,
        help_text="Only for a new account: an initial password of at least 12 characters.",
    )

    def __init__(self, *args, clinic, **kwargs):
        super().__init__(*args, **kwargs)
        self.clinic = clinic

    def clean(self):
        data = super().clean()
        email = (data.get("email") or "").lower()
        user = get_user_model().objects.filter(username=email).first()
        data["user"] = user
        if user and user.memberships.filter(clinic=self.clinic).exists():
            self.add_error("email", "This person is already a member of this clinic.")
        if user is None and "email" in data:
            if not data.get("password"):
                self.add_error("password", "A new account needs an initial password.")
            else:
                try:
                    password_validation.validate_password(data["password"], get_user_model()(username=email, email=email))
                except forms.ValidationError as error:
                    self.add_error("password", error)
        return data


class ChangeRoleForm(forms.Form):
    role = forms.ChoiceField(choices=ROLES)


class SwitchClinicForm(forms.Form):
    clinic = forms.IntegerField()


MAX_ROOMS = 30
ROOM_NAME_MAX = 40  # Procedure.room


class RoomsField(forms.CharField):
    """The clinic's rooms, one short name a line; stored as a list in the order given."""

    widget = forms.Textarea(attrs={"rows": 4})

    def __init__(self, *, encoder=None, decoder=None, show_hidden_initial=False, **kwargs):
        super().__init__(**kwargs)  # (a JSONField hands its form field an encoder and a decoder)

    def to_python(self, value):
        if isinstance(value, list):
            return value
        return [" ".join(line.split()) for line in (value or "").splitlines() if line.strip()]

    def prepare_value(self, value):
        return "\n".join(value) if isinstance(value, list) else value

    def validate(self, value):
        too_long = [name for name in value if len(name) > ROOM_NAME_MAX]
        if too_long:
            raise forms.ValidationError(f"A room's name has at most {ROOM_NAME_MAX} characters: {too_long[0][:60]}")
        seen = set()
        for name in value:
            if name.casefold() in seen:
                raise forms.ValidationError(f"{name} is listed twice.")
            seen.add(name.casefold())
        if len(value) > MAX_ROOMS:
            raise forms.ValidationError(f"At most {MAX_ROOMS} rooms.")

    def run_validators(self, value):
        pass  # the length limit of a CharField is about the text; validate() checks each name


class ClinicDetailsForm(forms.ModelForm):
    """The clinic's name and the phone number printed on patients' handouts, consent and questionnaire pages."""

    class Meta:
        model = Clinic
        fields = ["name", "phone", "locale", "on_call_name", "on_call_email", "on_call_phone", "two_factor_roles",
                  "mrn_pattern", "rooms"]
        field_classes = {"rooms": RoomsField}
        labels = {"name": "Clinic name", "phone": "Phone for patients", "on_call_name": "Name", "rooms": "Rooms",
                  "on_call_email": "E-mail", "on_call_phone": "SMS phone"}
        help_texts = {"phone": "Printed on aftercare handouts and shown on the patients' questionnaire pages, "
                               "e.g. +1 (555) 010-0100.",
                      "on_call_name": "A person or a role, e.g. Nurse on call.",
                      "on_call_email": "Without one, the clinic administrators are e-mailed.",
                      "on_call_phone": "For a text message: digits with the country code, e.g. +15550100200.",
                      "mrn_pattern": f"Registration may then leave MRN empty: e.g. {mrn.EXAMPLE} gives NC-2026-00001. "
                                     "Placeholders: {seq} the next number (required), {seq:05} the same with 5 digits, "
                                     "{year} the year. Empty: every MRN is typed.",
                      "rooms": "One room a line, e.g. Procedure room 1. Procedures are booked in these rooms and "
                               "the day schedule lists them in this order."}
        widgets = {"mrn_pattern": forms.TextInput(attrs={"placeholder": mrn.EXAMPLE})}

    two_factor_roles = forms.MultipleChoiceField(
        choices=ROLES, required=False, widget=forms.CheckboxSelectMultiple, label="Require two-factor sign-in for",
        help_text="Members in these roles sign in with a code from an authenticator app (or a recovery code) as "
                  "well as the password, and are asked to set it up before any page of the clinic opens.")

    def clean_two_factor_roles(self):
        chosen = set(self.cleaned_data["two_factor_roles"])
        return [code for code, _ in ROLES if code in chosen]  # the table's order, whatever order was posted

    def clean_mrn_pattern(self):
        try:
            return mrn.validate_pattern(self.cleaned_data["mrn_pattern"])
        except FieldError as error:
            raise forms.ValidationError(error.message) from None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.is_bound and "locale" not in self.data:
            # A form posted without the field (an older page) keeps the clinic's format.
            self.data = self.data.copy()
            self.data["locale"] = self.instance.locale
        self.fields["locale"] = forms.ChoiceField(
            choices=money.locale_choices(), required=False, label=self.fields["locale"].label.capitalize(),
            help_text=self.fields["locale"].help_text)

    def clean_name(self):
        name = " ".join(self.cleaned_data["name"].split())
        if not name:
            raise forms.ValidationError("The clinic needs a name.")
        return name

    def clean_locale(self):
        return self.cleaned_data["locale"] or self.instance.locale or money.DEFAULT_LOCALE

    def clean_on_call_name(self):
        return " ".join(self.cleaned_data["on_call_name"].split())

    def clean_on_call_email(self):
        return self.cleaned_data["on_call_email"].strip().lower()

    def clean_on_call_phone(self):
        phone = "".join(self.cleaned_data["on_call_phone"].split())  # spaces typed between groups are dropped
        if phone and not SMS_PHONE.fullmatch(phone):
            raise forms.ValidationError("A number for text messages: digits only, with an optional + in front, "
                                        "7 to 15 digits (e.g. +15550100200).")
        return phone

    def clean_phone(self):
        phone = " ".join(self.cleaned_data["phone"].split())
        if phone and (not PHONE.fullmatch(phone) or sum(c.isdigit() for c in phone) < 7):
            raise forms.ValidationError("A phone number: digits, spaces, +, -, ( ) and dots, at least 7 digits.")
        return phone
