import re

from django import forms
from django.contrib.auth import get_user_model, password_validation

from accretion import money
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


class ClinicDetailsForm(forms.ModelForm):
    """The clinic's name and the phone number printed on patients' handouts, consent and questionnaire pages."""

    class Meta:
        model = Clinic
        fields = ["name", "phone", "locale", "on_call_name", "on_call_email", "on_call_phone", "require_two_factor"]
        labels = {"name": "Clinic name", "phone": "Phone for patients", "on_call_name": "Name",
                  "on_call_email": "E-mail", "on_call_phone": "SMS phone"}
        help_texts = {"phone": "Printed on aftercare handouts and shown on the patients' questionnaire pages, "
                               "e.g. +1 (555) 010-0100.",
                      "on_call_name": "A person or a role, e.g. Nurse on call.",
                      "on_call_email": "Without one, the clinic administrators are e-mailed.",
                      "on_call_phone": "For a text message: digits with the country code, e.g. +15550100200."}

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
