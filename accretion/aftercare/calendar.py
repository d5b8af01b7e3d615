"""The aftercare plan as an iCalendar file (.ics) the patient adds to a phone or e-mail calendar.

All events are all-day events (DTEND is the day after the last day, as RFC
5545 has it) and marked free time, so they never block appointments:

* the NSAID-free days, from the injection day through ``nsaid_avoid_through``;
* the expected soreness, from the injection day through ``soreness_expected_through``;
* one event on each follow-up's due date;
* one event on the restart day of each anticoagulant or antiplatelet the physician held.

UIDs depend only on the procedure and the item, never on the language or the
dates, so importing the file again (after a change of date or of the clinic's
settings) updates the events instead of adding copies.  The file holds no
patient name: calendars are often shared or synced to other services.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence

from django.utils import timezone
from icalendar import Calendar, Event

from accretion.aftercare.texts import UI, code_text, follow_up_label
from accretion.clinical.aftercare import ACETAMINOPHEN_ALTERNATIVE, AftercarePlan
from accretion.clinical.antithrombotics import HOLD, HoldDecision

PRODID = "-//Accretion Portal//Aftercare handout//EN"
UID_DOMAIN = "aftercare.accretion-portal"
ONE_DAY = _dt.timedelta(days=1)


def uid(procedure, item: str) -> str:
    """A stable identifier of one calendar item of one procedure, e.g. ``procedure-42-nsaid@...``."""
    return f"procedure-{procedure.pk}-{item}@{UID_DOMAIN}"


def _all_day(procedure, item, first: _dt.date, last: _dt.date, summary: str, description: str, stamp) -> Event:
    event = Event()
    event.add("uid", uid(procedure, item))
    event.add("dtstamp", stamp)
    event.add("dtstart", first)
    event.add("dtend", last + ONE_DAY)
    event.add("summary", summary)
    event.add("description", description)
    event.add("transp", "TRANSPARENT")
    event.add("class", "PRIVATE")
    return event


def build_calendar(procedure, plan: AftercarePlan, lang: str, clinic, *, include_soreness: bool = True,
                   decisions: Sequence[HoldDecision] = ()) -> bytes:
    """The ``.ics`` file (bytes) for ``plan`` in ``lang``, with a restart day for each held blood thinner."""
    ui = UI[lang]
    stamp = timezone.now().astimezone(_dt.UTC).replace(microsecond=0)
    phone = clinic.phone or ""
    name = ui["cal_name"].format(clinic=clinic.name)

    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("name", name)
    cal.add("x-wr-calname", name)

    pain = code_text(ACETAMINOPHEN_ALTERNATIVE["code"], ACETAMINOPHEN_ALTERNATIVE["text"], lang)
    nsaid_description = pain + (f"\n\n{clinic.name}: {phone}" if phone else f"\n\n{clinic.name}")
    cal.add_component(_all_day(procedure, "nsaid", plan.procedure_date, plan.nsaid_avoid_through,
                               ui["cal_nsaid"], nsaid_description, stamp))

    if include_soreness:
        cal.add_component(_all_day(procedure, "soreness", plan.procedure_date, plan.soreness_expected_through,
                                   ui["cal_soreness"], ui["cal_soreness_text"], stamp))

    for follow_up in plan.follow_ups:
        label = follow_up_label(follow_up.key, lang)
        summary = ui["cal_follow_up"].format(label=label, clinic=clinic.name)
        description = ui["cal_follow_up_text"].format(label=label, clinic=clinic.name, phone=phone).rstrip(": ")
        cal.add_component(_all_day(procedure, f"follow-up-{follow_up.key}", follow_up.due, follow_up.due,
                                   summary, description, stamp))
    for decision in decisions:
        if decision.action != HOLD or decision.restart_on is None:
            continue
        drug = decision.drug.name
        description = ui["cal_restart_text"].format(drug=drug)
        if decision.restart_note:
            description += "\n\n" + ui["physician_note"].format(note=decision.restart_note)
        description += f"\n\n{clinic.name}: {phone}" if phone else f"\n\n{clinic.name}"
        cal.add_component(_all_day(procedure, f"restart-{decision.drug.generic.replace(' ', '-')}",
                                   decision.restart_on, decision.restart_on, ui["cal_restart"].format(drug=drug),
                                   description, stamp))
    return cal.to_ical()
