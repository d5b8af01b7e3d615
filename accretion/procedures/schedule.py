"""The clinic's day and week schedule: procedures by start time, per room or per physician.

The overlap rule itself is pure (accretion.clinical.schedule); this module
reads the rows (one query for a day or a week, whatever their number) and
groups them. Cancelled procedures hold no slot.
"""

import re
from dataclasses import dataclass, field
from datetime import date, time

from django.db.models import F, Q

from accretion.clinical.schedule import Booking, overlapping, overlapping_pairs, week_days
from accretion.clinics.people import staff_name
from accretion.procedures.models import Procedure, Status

HOLDS_A_SLOT = [status for status in Status.values if status != Status.CANCELLED]
VIEWS = {"time": "by time", "room": "by room", "physician": "by physician"}
DEFAULT_VIEW = "time"
NO_ROOM = "No room set"
NO_PHYSICIAN = "No physician assigned"


def by_start(queryset):
    """Ordered by start time, the procedures without one last (then by room and id: a stable order)."""
    return queryset.order_by(F("start_time").asc(nulls_last=True), "room", "id")


def day_sort_key(procedure):
    return (procedure.start_time is None, procedure.start_time or time(0), procedure.room, procedure.pk)


@dataclass
class Group:
    label: str
    rows: list = field(default_factory=list)


def mark_overlaps(rows: list) -> None:
    """Set `overlap` on each row: "room", "physician", "room and physician" or "" (pure rule, no query)."""
    for row in rows:
        row.overlap_with = set()
    for attribute, name in (("room", "room"), ("physician_id", "physician")):
        by_value: dict = {}
        for row in rows:
            value = getattr(row, attribute)
            if value:
                by_value.setdefault((row.planned_date, value), []).append(row)
        for same in by_value.values():
            for row in overlapping_pairs([(row, row.booking) for row in same]):
                row.overlap_with.add(name)
    for row in rows:
        row.overlap = " and ".join(sorted(row.overlap_with, key=["room", "physician"].index))


def group(rows: list, by: str, rooms: list[str]) -> list[Group]:
    """The rows in groups: one per room (the clinic's order, then names no longer listed, then none) or per
    physician (by name, then none); `time` is one group. Each group keeps the rows' order."""
    if by == "time":
        return [Group("", list(rows))] if rows else []
    groups: dict[str, Group] = {}
    if by == "room":
        order = {name: index for index, name in enumerate(rooms)}

        def label(row):
            return row.room or NO_ROOM

        def rank(name):
            return (name == NO_ROOM, order.get(name, len(order)), name)
    else:
        def label(row):
            return staff_name(row.physician) if row.physician_id else NO_PHYSICIAN

        def rank(name):
            return (name == NO_PHYSICIAN, name)
    for row in rows:
        groups.setdefault(label(row), Group(label(row))).rows.append(row)
    return [groups[name] for name in sorted(groups, key=rank)]


def day(queryset, on: date):
    """The procedures holding a slot on `on`, in schedule order (patient and physician joined)."""
    return by_start(queryset.filter(planned_date=on, status__in=HOLDS_A_SLOT).select_related("patient", "physician"))


@dataclass
class Day:
    date: date
    groups: list[Group]
    count: int


def week(queryset, start: date, by: str, rooms: list[str], limit: int) -> tuple[list[Day], int, list]:
    """Monday to Sunday of the week of `start`: each day's groups, the number of procedures in the week, and
    the rows shown (at most `limit`, the earliest first; two queries whatever the number)."""
    days = week_days(start)
    in_week = (queryset.filter(planned_date__range=(days[0], days[-1]), status__in=HOLDS_A_SLOT)
               .select_related("patient", "physician"))
    rows = list(in_week.order_by("planned_date", F("start_time").asc(nulls_last=True), "room", "id")[:limit])
    total = len(rows) if len(rows) < limit else in_week.count()
    mark_overlaps(rows)
    per_day = {d: [] for d in days}
    for row in rows:
        per_day[row.planned_date].append(row)
    return [Day(d, group(per_day[d], by, rooms), len(per_day[d])) for d in days], total, rows


def conflicts(clinic, *, on: date, start: time | None, duration: int, room: str, physician, exclude=None) -> list:
    """The procedures of that day whose slot overlaps the one asked for, in the same room or with the same
    physician; each gets `clash` ("room", "physician" or both). One query."""
    if start is None or not (room or physician):
        return []
    same = Q(room=room) if room else Q(pk__in=[])
    if physician is not None:
        same |= Q(physician=physician)
    candidates = (Procedure.objects.filter(clinic=clinic, planned_date=on, status__in=HOLDS_A_SLOT,
                                           start_time__isnull=False).filter(same).select_related("physician"))
    if exclude is not None:
        candidates = candidates.exclude(pk=exclude.pk)
    candidates = list(by_start(candidates))
    asked = Booking(start, duration)
    found = overlapping(asked, [(row, row.booking) for row in candidates])
    for row in found:
        clash = []
        if room and row.room == room:
            clash.append("room")
        if physician is not None and row.physician_id == physician.pk:
            clash.append("physician")
        row.clash = " and ".join(clash)
    return found


def signature(found: list) -> str:
    """What the planner saw: the overlapping procedures and their slots. "Plan anyway" carries it, so a change
    to the slot or a new booking since warns again."""
    return ";".join(f"{row.pk}@{row.start_time:%H:%M}+{row.duration_minutes}" for row in found)


def parse_view(value: str | None) -> tuple[str, str]:
    """The view asked for (`by`) and a message when it is not one of VIEWS (then the default)."""
    if value in (None, ""):
        return DEFAULT_VIEW, ""
    if value in VIEWS:
        return value, ""
    shown = value[:40]
    return DEFAULT_VIEW, f"There is no view “{shown}”: shown {VIEWS[DEFAULT_VIEW]}."


ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
YEARS = (1900, 2999)  # far enough either way; the week's neighbours stay valid dates


def parse_day(value: str | None, default: date) -> tuple[date, str]:
    """A date from the query (YYYY-MM-DD) and a message when it is not one (then `default`)."""
    if value in (None, ""):
        return default, ""
    try:
        if not ISO_DAY.fullmatch(value):
            raise ValueError(value)
        parsed = date.fromisoformat(value)
    except ValueError:
        return default, f"Not a date: “{value[:40]}”. Use YYYY-MM-DD, e.g. 2026-12-18."
    if not YEARS[0] <= parsed.year <= YEARS[1]:
        return default, f"Choose a date between the years {YEARS[0]} and {YEARS[1]}."
    return parsed, ""
