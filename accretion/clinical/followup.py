"""When a follow-up questionnaire is open: a window around its due date.

Default windows (a clinic sets its own in the aftercare settings,
`AftercareProtocol.windows`): weeks ±7 days, 3 months ±14 days, 6 and 12
months ±30 days. A baseline is open from planning until
the procedure day.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from accretion.clinical.errors import FieldError

_KEY = re.compile(r"^([1-9][0-9]{0,2})([wm])$")

# (unit, up to n) -> days either side of the due date
DEFAULT_WINDOWS = (("w", 104, 7), ("m", 3, 14), ("m", 120, 30))


# The states of a follow-up window (Window.state) and their words.
WINDOW_STATES = {"not_open": "not open yet", "open": "open", "closed": "closed"}


@dataclass(frozen=True)
class Window:
    opens: date
    closes: date

    def state(self, today: date) -> str:
        if today < self.opens:
            return "not_open"
        if today > self.closes:
            return "closed"
        return "open"


def half_width(key: str, windows=DEFAULT_WINDOWS) -> int:
    match = _KEY.match(key or "")
    if not match:
        raise FieldError("time_point", f"not a follow-up time point: {key!r} (e.g. 2w, 3m)")
    number, unit = int(match.group(1)), match.group(2)
    for rule_unit, up_to, days in windows:
        if unit == rule_unit and number <= up_to:
            return days
    raise FieldError("time_point", f"no window is set for {key}")


def window(key: str, due: date, windows=DEFAULT_WINDOWS) -> Window:
    days = half_width(key, windows)
    return Window(due - timedelta(days=days), due + timedelta(days=days))


def schedule_windows(procedure_day: date, due_dates: dict[str, date], windows=DEFAULT_WINDOWS) -> dict[str, Window]:
    """The window of each follow-up of one procedure (key -> due date), kept in order.

    Each is its half-width either side of its due date, except that it opens
    no earlier than the day after the procedure (a one-week questionnaire is
    never answered on the day of the injection) and, as far as it can, after
    the previous follow-up closes; it never opens after its own due date, so
    follow-ups closer together than their windows (2w and 3w at ±13 days)
    still overlap. The default schedule within the settings' limits needs
    neither rule; a custom one (1w, 4w) can.
    """
    result: dict[str, Window] = {}
    earliest = procedure_day + timedelta(days=1)
    for key, due in sorted(due_dates.items(), key=lambda item: item[1]):
        natural = window(key, due, windows)
        opens = min(max(natural.opens, earliest), due)
        result[key] = Window(opens, natural.closes)
        earliest = natural.closes + timedelta(days=1)
    return result


def baseline_window(planned_on: date, procedure_date: date) -> Window:
    return Window(min(planned_on, procedure_date), procedure_date)


REMINDER_DAYS = (0, 3, 7)  # after the window opens; at most three


def reminder_due(opens: date, sent: int, today: date) -> bool:
    """Whether reminder number `sent + 1` is due today (it is sent at most once)."""
    if sent >= len(REMINDER_DAYS):
        return False
    return today >= opens + timedelta(days=REMINDER_DAYS[sent])
