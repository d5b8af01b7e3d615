"""A form built from the task's FHIR questionnaires, in the patient's language."""

from decimal import Decimal

from django import forms

from accretion.outcomes import questionnaires

YES_NO = {"en": [("yes", "Yes"), ("no", "No")], "es": [("yes", "Sí"), ("no", "No")]}


def _field(item, language):
    label = f"{item['prefix']}. {item['text']}" if item.get("prefix") else item["text"]
    kind = item["type"]
    if kind == "choice":
        return forms.ChoiceField(label=label, required=False, widget=forms.RadioSelect,
                                 choices=[(code, display) for code, display in item["options"]])
    if kind == "integer":
        return forms.IntegerField(label=label, required=False, min_value=item.get("min"), max_value=item.get("max"))
    if kind == "decimal":
        low, high = item.get("min"), item.get("max")
        return forms.DecimalField(label=label, required=False, decimal_places=1,
                                  min_value=None if low is None else Decimal(str(low)),
                                  max_value=None if high is None else Decimal(str(high)))
    if kind == "boolean":
        return forms.ChoiceField(label=label, required=False, widget=forms.RadioSelect, choices=YES_NO[language])
    return forms.CharField(label=label, required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 2}))


class QuestionnaireForm(forms.Form):
    """Fields are named `<instrument>__<linkId>`; every answer is optional until submitting."""

    def __init__(self, *args, instruments, language, initial_answers=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.sections = []
        self.kinds = {}
        self.numbers = {}  # each question's number on the page, 1, 2, 3... across the questionnaires
        for instrument in instruments:
            questionnaire = questionnaires.load(instrument, language)
            names = []
            for item in questionnaires.items(questionnaire):
                name = f"{instrument}__{item['linkId']}"
                self.fields[name] = _field(item, language)
                self.kinds[name] = (instrument, item["linkId"], item["type"], item.get("required", False))
                self.numbers[name] = len(self.numbers) + 1
                value = (initial_answers or {}).get(instrument, {}).get(item["linkId"])
                if value is not None:
                    self.initial[name] = {True: "yes", False: "no"}.get(value, value) if item["type"] == "boolean" else value
                names.append(name)
            self.sections.append({"title": questionnaire.get("title", instrument), "instrument": instrument,
                                  "description": questionnaire.get("description", ""),
                                  "copyright": questionnaire.get("copyright", ""), "names": names})

    def section_fields(self):
        for section in self.sections:
            yield section, [(self.numbers[name], self[name], name in self.missing) for name in section["names"]]

    missing: set = frozenset()  # names of the required questions left unanswered on submit (see `mark_missing`)

    def answers(self) -> dict:
        """Answers by instrument and linkId, leaving out the unanswered."""
        result: dict = {}
        for name, (instrument, link_id, kind, _) in self.kinds.items():
            value = self.cleaned_data.get(name)
            if value in (None, ""):
                continue
            if kind == "boolean":
                value = value == "yes"
            elif kind == "decimal":
                value = float(value)
            result.setdefault(instrument, {})[link_id] = value
        return result

    def missing_required(self) -> list[int]:
        """The numbers of the required questions not answered; each is marked on the page."""
        self.missing = {name for name, (_, _, _, required) in self.kinds.items()
                        if required and name not in self.errors and self.cleaned_data.get(name) in (None, "")}
        return [self.numbers[name] for name in self.kinds if name in self.missing]
