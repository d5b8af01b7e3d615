from django import forms

from accretion import money
from accretion.consents.models import PriceList


class CurrencyField(forms.ChoiceField):
    """A select of the ISO 4217 codes in use; a typed code (API, older pages) is taken in any case."""

    def to_python(self, value):
        return super().to_python(value).strip().upper()


class PriceListForm(forms.ModelForm):
    class Meta:
        model = PriceList
        fields = ["currency", "consultation", "prp_kit", "injection_target", "additional_level", "image_guidance",
                  "follow_up_visit"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["currency"] = CurrencyField(
            choices=money.currency_choices(), label="Currency", initial="USD",
            help_text="ISO 4217 code", error_messages={
                "invalid_choice": "%(value)s is not an ISO 4217 currency code in use; choose one from the list."})


class EstimateForm(forms.Form):
    consultation = forms.BooleanField(required=False, initial=True, label="Include a consultation")
    kits = forms.IntegerField(min_value=1, max_value=10, label="PRP kits")
    follow_up_visits = forms.IntegerField(min_value=0, max_value=10, initial=2, label="Follow-up visits included")


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        max_length=1000, label="Reason the patient gives", widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "Give the reason the patient withdraws this consent.",
                        "max_length": "The reason is too long (at most 1000 characters)."})
    confirm = forms.BooleanField(
        label="I confirm the patient withdraws this consent",
        error_messages={"required": "Confirm that the patient withdraws this consent."})
