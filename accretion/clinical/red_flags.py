"""Red flags in a patient's follow-up safety answers, and how urgently the patient must act.

The questions are those of the SAFETY questionnaire
(accretion/outcomes/questionnaires/safety.en.json, linkIds below). A flag is
present when its answer is exactly True (yes); False, None (unanswered) or a
missing linkId is not a flag.

Urgency, from the published post-procedure instructions (clinical reference
§8, "When to call / ER": phillysmartpain.com, hospital.uillinois.edu,
firststatespine.com, sw.org; Peng and Seattle clinic sheets):

- "emergency": new weakness or numbness in an arm or a leg, or a new bowel
  or bladder change (loss of control, unable to pass urine). After a spinal
  injection these can mean compression of the spinal cord or the cauda
  equina by a spinal (epidural) hematoma or an epidural abscess, or cauda
  equina syndrome: the patient goes to an emergency department now.
- "call_clinic": fever above 38.3 °C (101 °F) or shaking chills, or signs of
  infection at the injection site (spreading redness, worsening swelling,
  warmth, pus or other drainage): the patient calls the clinic now.

The most urgent flag sets the urgency. An emergency visit already made
(linkId "emergency_visit") is reported to the clinic as an adverse event but
is not a red flag: it tells what happened, not what the patient must do now.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

EMERGENCY = "emergency"
CALL_CLINIC = "call_clinic"
URGENCIES = (EMERGENCY, CALL_CLINIC)  # most urgent first

# linkId of the safety questionnaire -> urgency, in questionnaire order.
RED_FLAGS: dict[str, str] = {
    "fever": CALL_CLINIC,
    "infection_signs": CALL_CLINIC,
    "new_weakness_numbness": EMERGENCY,
    "bowel_bladder_change": EMERGENCY,
}

# Short names for staff (alerts, the staff entry page); patients read their own words in their language.
LABELS: dict[str, str] = {
    "fever": "fever or shaking chills",
    "infection_signs": "signs of infection at the injection site",
    "new_weakness_numbness": "new weakness or numbness in an arm or a leg",
    "bowel_bladder_change": "new bowel or bladder change",
}


@dataclass(frozen=True)
class Assessment:
    """The red flags present (linkIds, in questionnaire order) and the urgency (None without a flag)."""

    flags: tuple[str, ...] = ()
    urgency: str | None = None

    def __bool__(self) -> bool:
        return bool(self.flags)

    @property
    def emergency_flags(self) -> tuple[str, ...]:
        return tuple(flag for flag in self.flags if RED_FLAGS[flag] == EMERGENCY)

    @property
    def call_clinic_flags(self) -> tuple[str, ...]:
        return tuple(flag for flag in self.flags if RED_FLAGS[flag] == CALL_CLINIC)

    def labels(self) -> list[str]:
        return [LABELS[flag] for flag in self.flags]


def assess(answers: Mapping | None) -> Assessment:
    """The red flags in `answers` (linkId -> value) and their urgency."""
    if not isinstance(answers, Mapping):
        return Assessment()
    flags = tuple(link_id for link_id in RED_FLAGS if answers.get(link_id) is True)
    present = {RED_FLAGS[flag] for flag in flags}
    urgency = next((level for level in URGENCIES if level in present), None)
    return Assessment(flags, urgency)
