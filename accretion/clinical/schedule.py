"""The day schedule's rules: when two bookings overlap, and which week a day belongs to.

A booking is a start time of day and a duration in minutes; it occupies the
half-open interval [start, start + duration). Two bookings that touch (one
ends at 09:30, the next starts at 09:30) do not overlap; a booking that runs
past midnight occupies the minutes after 24:00 of its own day (it is compared
with the bookings of that day, not of the next one). A booking without a
start time occupies no interval and overlaps nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time, timedelta

MIN_DURATION = 5
MAX_DURATION = 480  # eight hours: longer is not one procedure
DEFAULT_DURATION = 30


def minutes(start: time) -> int:
    """Minutes since midnight (seconds are ignored)."""
    return start.hour * 60 + start.minute


@dataclass(frozen=True)
class Booking:
    start: time | None
    duration: int  # minutes

    @property
    def begins(self) -> int | None:
        return None if self.start is None else minutes(self.start)

    @property
    def ends(self) -> int | None:
        return None if self.start is None else minutes(self.start) + self.duration

    def end_time(self) -> time | None:
        """The clock time it ends (past midnight it wraps: 23:50 + 30 min ends at 00:20)."""
        if self.start is None:
            return None
        end = self.ends % (24 * 60)
        return time(end // 60, end % 60)


def overlaps(a: Booking, b: Booking) -> bool:
    """Whether the two bookings share at least one minute (touching ends do not count)."""
    if a.start is None or b.start is None or a.duration <= 0 or b.duration <= 0:
        return False
    return a.begins < b.ends and b.begins < a.ends


def overlapping(new: Booking, others: list[tuple[object, Booking]]) -> list[object]:
    """The keys of `others` whose booking overlaps `new`, in the order given."""
    return [key for key, booking in others if overlaps(new, booking)]


def overlapping_pairs(bookings: list[tuple[object, Booking]]) -> set[object]:
    """The keys of every booking that overlaps at least one other of the list (a day has tens, not thousands)."""
    found: set[object] = set()
    for index, (key, booking) in enumerate(bookings):
        for other_key, other in bookings[index + 1:]:
            if overlaps(booking, other):
                found.update((key, other_key))
    return found


def week_start(day: date) -> date:
    """The Monday of the week of `day`."""
    return day - timedelta(days=day.weekday())


def week_days(day: date) -> list[date]:
    """Monday to Sunday of the week of `day`."""
    monday = week_start(day)
    return [monday + timedelta(days=offset) for offset in range(7)]
