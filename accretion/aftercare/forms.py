"""The clinic's aftercare settings form.

The form edits the settings a medical director chooses (NSAID days, ice or
heat, activity guidance, follow-up schedule, how long each follow-up
questionnaire stays open); the pure protocol
(accretion.clinical.aftercare.AftercareProtocol) validates them, and its
errors land on the matching field.  Only values that differ from the default
protocol are stored, so a later change of a default reaches every clinic that
never chose otherwise.
"""

from __future__ import annotations

import re

from django import forms

from accretion.clinical.aftercare import (
    ACTIVITY_GUIDANCE_MAX_LENGTH,
    COLD_OR_HEAT_TEXT,
    DEFAULT_ACTIVITY_GUIDANCE,
    DEFAULT_PROTOCOL,
    NSAID_DAYS_MAX,
    NSAID_DAYS_MIN,
    WINDOW_LIMITS,
    AftercareError,
    AftercareProtocol,
    parse_follow_up_key,
)

COLD_OR_HEAT_LABELS = {
    "ice": "Ice",
    "heat": "Heat",
    "either": "Either, as the patient prefers",
}

_SPLIT = re.compile(r"[\s,;]+")


def follow_ups_text(keys) -> str:
    return ", ".join(keys)


def _approximate_days(key: str) -> float:
    n, unit = parse_follow_up_key(key)
    return n * 7 if unit == "w" else n * 30.4375


def overrides(protocol: AftercareProtocol) -> dict:
    """The settings of ``protocol`` that differ from the default: what the clinic stores."""
    default = DEFAULT_PROTOCOL.to_dict()
    return {key: value for key, value in protocol.to_dict().items() if value != default[key]}


def _window_field(name: str, label: str) -> forms.IntegerField:
    low, high = WINDOW_LIMITS[name]
    return forms.IntegerField(label=label, min_value=low, max_value=high,
                              help_text=f"{low} to {high}; default {getattr(DEFAULT_PROTOCOL, name)}.")


class AftercareSettingsForm(forms.Form):
    nsaid_days = forms.IntegerField(
        label="Days without NSAIDs after the injection",
        min_value=NSAID_DAYS_MIN,
        max_value=NSAID_DAYS_MAX,
        help_text=f"{NSAID_DAYS_MIN} to {NSAID_DAYS_MAX} days; default {DEFAULT_PROTOCOL.nsaid_days}.",
    )
    cold_or_heat = forms.ChoiceField(
        label="Ice or heat",
        choices=[(code, COLD_OR_HEAT_LABELS[code]) for code in COLD_OR_HEAT_TEXT],
        widget=forms.RadioSelect,
    )
    activity_guidance = forms.CharField(
        label="Activity guidance",
        required=False,
        max_length=ACTIVITY_GUIDANCE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=(
            "The standard text is translated on Spanish handouts; a text of your own is printed as you write it "
            "in every language."
        ),
    )
    use_default_activity = forms.BooleanField(
        label="Restore the standard activity text", required=False,
        help_text="Replaces the text above with the standard one when you save.",
    )
    follow_ups = forms.CharField(
        label="Follow-up visits",
        max_length=400,
        help_text="Time after the injection, separated by commas: 2w = 2 weeks, 3m = 3 months.",
    )

    window_weeks_days = _window_field("window_weeks_days", "Follow-ups in weeks (2w, 6w): ± days")
    window_3m_days = _window_field("window_3m_days", "Follow-ups up to 3 months: ± days")
    window_later_days = _window_field("window_later_days", "Later follow-ups (6m, 12m): ± days")

    def __init__(self, *args, current: AftercareProtocol, **kwargs):
        self.current = current
        kwargs.setdefault("initial", {
            "nsaid_days": current.nsaid_days,
            "cold_or_heat": current.cold_or_heat,
            "activity_guidance": current.activity_guidance,
            "follow_ups": follow_ups_text(current.follow_ups),
            **{name: getattr(current, name) for name in WINDOW_LIMITS},
        })
        super().__init__(*args, **kwargs)

    def windows(self):
        return [self[name] for name in WINDOW_LIMITS]

    def clean_activity_guidance(self):
        return self.cleaned_data["activity_guidance"].replace("\r\n", "\n").replace("\r", "\n").strip()

    def clean(self):
        data = super().clean()
        if not data.get("use_default_activity") and "activity_guidance" in data and not data["activity_guidance"]:
            self.add_error("activity_guidance", "Write the activity guidance, or restore the standard text.")
        return data

    def clean_follow_ups(self):
        keys = [key for key in _SPLIT.split(self.cleaned_data["follow_ups"].strip().lower()) if key]
        if not keys:
            raise forms.ValidationError("List at least one follow-up visit, e.g. 2w, 6w, 3m.")
        seen = set()
        for key in keys:
            try:
                parse_follow_up_key(key)
            except AftercareError as error:
                raise forms.ValidationError(f"“{key}”: {error.message}.") from None
            if key in seen:
                raise forms.ValidationError(f"“{key}” is listed twice.")
            seen.add(key)
        return sorted(keys, key=_approximate_days)

    def protocol(self) -> AftercareProtocol | None:
        """The protocol the form describes, or None with the errors on the form."""
        if not self.is_valid():
            return None
        data = self.cleaned_data
        activity = DEFAULT_ACTIVITY_GUIDANCE if data["use_default_activity"] else data["activity_guidance"]
        try:
            return AftercareProtocol(
                nsaid_days=data["nsaid_days"],
                soreness_days=self.current.soreness_days,  # not edited here: kept as it is
                cold_or_heat=data["cold_or_heat"],
                activity_guidance=activity,
                follow_ups=tuple(data["follow_ups"]),
                **{name: data[name] for name in WINDOW_LIMITS},
            )
        except AftercareError as error:
            field = error.field.split("[", 1)[0]
            self.add_error(field if field in self.fields else None, error.message)
            return None
