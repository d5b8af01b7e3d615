from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from accretion.clinical.errors import FieldError
from accretion.clinical.followup import (
    REMINDER_DAYS,
    Window,
    baseline_window,
    half_width,
    reminder_due,
    schedule_windows,
    window,
)


@pytest.mark.parametrize("key, days", [("2w", 7), ("6w", 7), ("1m", 14), ("3m", 14), ("6m", 30), ("12m", 30), ("24m", 30)])
def test_default_half_widths(key, days):
    assert half_width(key) == days


@pytest.mark.parametrize("key", ["", "0w", "3", "3d", "w3", "03m", None])
def test_bad_keys(key):
    with pytest.raises(FieldError):
        half_width(key)


def test_windows_across_month_and_year_ends():
    assert window("3m", date(2027, 2, 28)) == window("3m", date(2027, 2, 28))
    w = window("3m", date(2027, 2, 28))
    assert (w.opens, w.closes) == (date(2027, 2, 14), date(2027, 3, 14))
    w = window("12m", date(2027, 1, 10))
    assert (w.opens, w.closes) == (date(2026, 12, 11), date(2027, 2, 9))
    w = window("2w", date(2028, 3, 3))  # leap year
    assert (w.opens, w.closes) == (date(2028, 2, 25), date(2028, 3, 10))


def test_state_at_the_edges():
    w = window("6w", date(2027, 1, 15))
    assert [w.state(d) for d in (date(2027, 1, 7), date(2027, 1, 8), date(2027, 1, 22), date(2027, 1, 23))] == [
        "not_open", "open", "open", "closed"]


def test_baseline_window():
    w = baseline_window(date(2026, 11, 1), date(2026, 11, 20))
    assert (w.opens, w.closes) == (date(2026, 11, 1), date(2026, 11, 20))


@pytest.mark.parametrize("sent, day, due", [(0, 0, True), (0, -1, False), (1, 2, False), (1, 3, True), (2, 6, False),
                                            (2, 7, True), (3, 30, False)])
def test_reminders_when_the_task_opens_after_three_and_after_seven_days(sent, day, due):
    opens = date(2026, 12, 25)
    assert reminder_due(opens, sent, date.fromordinal(opens.toordinal() + day)) is due


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1)), st.sampled_from(["2w", "6w", "3m", "6m", "12m"]))
def test_the_due_date_is_always_inside_its_window(due, key):
    w = window(key, due)
    assert w.opens <= due <= w.closes and w.state(due) == "open"


@given(st.integers(min_value=0, max_value=60))
def test_never_more_than_three_reminders(days):
    opens = date(2026, 1, 1)
    today = date.fromordinal(opens.toordinal() + days)
    assert not reminder_due(opens, len(REMINDER_DAYS), today)


DAY = date(2027, 1, 29)


def test_the_default_schedule_keeps_its_natural_windows():
    due = {"2w": date(2027, 2, 12), "6w": date(2027, 3, 12), "3m": date(2027, 4, 29), "6m": date(2027, 7, 29),
           "12m": date(2028, 1, 29)}
    assert schedule_windows(DAY, due) == {key: window(key, day) for key, day in due.items()}


def test_a_window_never_opens_on_the_day_of_the_injection():
    windows = schedule_windows(DAY, {"1w": DAY + timedelta(days=7)}, (("w", 104, 10), ("m", 120, 30)))
    assert windows == {"1w": Window(DAY + timedelta(days=1), DAY + timedelta(days=17))}


def test_a_window_opens_after_the_previous_one_closes_but_not_after_its_due_date():
    due = {"4w": DAY + timedelta(days=28), "2w": DAY + timedelta(days=14), "3w": DAY + timedelta(days=21)}
    windows = schedule_windows(DAY, due, (("w", 104, 13), ("m", 120, 30)))
    assert windows["2w"] == Window(DAY + timedelta(days=1), DAY + timedelta(days=27))
    assert windows["3w"] == Window(DAY + timedelta(days=21), DAY + timedelta(days=34))  # opens on its due date
    assert windows["4w"] == Window(DAY + timedelta(days=28), DAY + timedelta(days=41))
    assert list(windows) == ["2w", "3w", "4w"]


@given(st.lists(st.sampled_from(["1w", "2w", "3w", "4w", "6w", "8w", "1m", "2m", "3m", "6m", "9m", "12m"]),
                min_size=1, max_size=6, unique=True),
       st.integers(1, 13), st.integers(1, 30), st.integers(1, 60))
def test_scheduled_windows_contain_their_due_date_and_start_after_the_injection(keys, weeks, months, later):
    from accretion.clinical.aftercare import follow_up_due

    due = {key: follow_up_due(DAY, key) for key in keys}
    windows = schedule_windows(DAY, due, (("w", 104, weeks), ("m", 3, months), ("m", 120, later)))
    for key, span in windows.items():
        assert DAY < span.opens <= due[key] <= span.closes
