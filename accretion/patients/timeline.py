"""The patient timeline: one section per stage of care, filled as capabilities record them."""

from dataclasses import dataclass, field

from accretion.adverse_events import services as adverse_events
from accretion.procedures.models import FollowUp


@dataclass
class Section:
    key: str
    title: str
    empty: str
    items: list = field(default_factory=list)


def sections(patient) -> list[Section]:
    return [
        Section("screenings", "Screenings", "No screening yet. The intake and its eligibility decision will appear here.",
                list(patient.screenings.select_related("reviewed_by").order_by("-created_at", "-id"))),
        Section("consents", "Consent and cost estimate", "No consent yet. Education shown, the signed consent and the self-pay estimate will appear here.",
                list(patient.consents.select_related("procedure", "withdrawal").order_by("-signed_at", "-id"))),
        Section("procedures", "Procedures", "No procedure yet. Each procedure day (time-out, PRP preparation, injections, signature) will appear here.",
                list(patient.procedures.order_by("-planned_date", "-id"))),
        Section("outcomes", "Follow-up and outcomes", "No follow-up yet. The aftercare plan, questionnaires (pain, ODI/NDI) and any adverse events will appear here.",
                list(FollowUp.objects.filter(procedure__patient=patient).select_related("procedure").order_by("due", "id"))),
        Section("adverse_events", "Adverse events", "No adverse event recorded.", adverse_events.for_patient(patient)),
    ]
