from datetime import date, time, timedelta

from hypothesis import given
from hypothesis import strategies as st

from accretion.clinical.schedule import (
    MAX_DURATION,
    MIN_DURATION,
    Booking,
    overlapping,
    overlapping_pairs,
    overlaps,
    week_days,
    week_start,
)

times = st.builds(time, st.integers(0, 23), st.integers(0, 59))
durations = st.integers(MIN_DURATION, MAX_DURATION)
bookings = st.builds(Booking, times, durations)


def at(hh, mm, minutes=30):
    return Booking(time(hh, mm), minutes)


def test_examples():
    assert overlaps(at(9, 0), at(9, 15))
    assert overlaps(at(9, 0), at(9, 29))  # one minute in common
    assert not overlaps(at(9, 0), at(9, 30))  # touching
    assert not overlaps(at(9, 30), at(9, 0))
    assert overlaps(at(9, 0, 120), at(9, 30, 5))  # one inside the other
    assert not overlaps(Booking(None, 30), at(9, 0))
    assert overlaps(at(0, 0, 5), at(0, 4, 5)) and not overlaps(at(0, 0, 5), at(0, 5, 5))  # midnight


def test_past_midnight_stays_on_its_day():
    late = at(23, 50, 30)
    assert late.end_time() == time(0, 20) and late.ends == 24 * 60 + 20
    assert overlaps(late, at(23, 59, 5))
    assert not overlaps(late, at(0, 0, 30))  # the early slot is the same day's morning


@given(bookings, bookings)
def test_overlap_is_symmetric(a, b):
    assert overlaps(a, b) == overlaps(b, a)


@given(bookings)
def test_a_booking_overlaps_itself(a):
    assert overlaps(a, a)


@given(times, durations, durations)
def test_touching_bookings_do_not_overlap(start, first, second):
    a = Booking(start, first)
    end = a.ends
    if end >= 24 * 60:
        return  # a next booking would start on the following day
    b = Booking(time(end // 60, end % 60), second)
    assert not overlaps(a, b) and not overlaps(b, a)


@given(times, durations, durations)
def test_starting_one_minute_before_the_end_overlaps(start, first, second):
    a = Booking(start, first)
    end = a.ends - 1
    if end >= 24 * 60:
        return
    assert overlaps(a, Booking(time(end // 60, end % 60), second))


@given(bookings, bookings)
def test_overlap_means_a_shared_minute(a, b):
    shared = set(range(a.begins, a.ends)) & set(range(b.begins, b.ends))
    assert overlaps(a, b) == bool(shared)


@given(bookings, st.lists(bookings, max_size=8))
def test_overlapping_keeps_exactly_the_overlapping_ones(new, others):
    keyed = list(enumerate(others))
    assert overlapping(new, keyed) == [k for k, b in keyed if overlaps(new, b)]


@given(st.lists(bookings, max_size=10))
def test_pairs_are_the_bookings_that_overlap_another(day):
    keyed = list(enumerate(day))
    expected = {k for k, b in keyed if any(overlaps(b, o) for j, o in keyed if j != k)}
    assert overlapping_pairs(keyed) == expected


@given(st.dates(date(2000, 1, 1), date(2100, 1, 1)))
def test_week_is_monday_to_sunday_and_holds_the_day(day):
    days = week_days(day)
    assert days[0] == week_start(day) and days[0].weekday() == 0 and days[-1].weekday() == 6
    assert day in days and days[-1] - days[0] == timedelta(days=6)
