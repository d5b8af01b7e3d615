"""The day schedule: planning a slot (time, room, duration), Today by room and by physician, the week page, the
printed day list, and the physician's own review lists, per clinic and in a fixed number of queries."""

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accretion.adverse_events.models import AdverseEvent
from accretion.audit.models import AuditEvent
from accretion.procedures.models import Procedure
from tests.conftest import screened, signed_in

DAY = date(2026, 12, 16)  # a Wednesday
MONDAY = date(2026, 12, 14)
ROOMS = ["Room 1", "Room 2"]


def at(day: date):
    return time_machine.travel(datetime.combine(day, time(7), tzinfo=ZoneInfo(settings.TIME_ZONE)), tick=False)


def text(response) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split())


@pytest.fixture
def north(clinics):
    north = clinics["north"]
    north.rooms = list(ROOMS)
    north.save()
    clinics["south"].rooms = list(ROOMS)  # the same names in another clinic: never the same rooms
    clinics["south"].save()
    return north


@pytest.fixture
def physician(staff):
    return staff[("north", "physician")]


@pytest.fixture
def book(staff, make_patient):
    def make(clinic, start=None, minutes=30, room="", day=DAY, status="planned", physician=None, **fields):
        patient = fields.pop("patient", None) or make_patient(clinic)
        return Procedure.objects.create(
            clinic=clinic, patient=patient, planned_date=day, start_time=start, duration_minutes=minutes, room=room,
            region="lumbar", targets=["facet_joint"], levels=["L4-L5"], status=status, physician=physician,
            created_by=staff[(clinic.slug, "nurse")], **fields)

    return make


def get(user, clinic, url, day=DAY, **params):
    with at(day):
        return signed_in(user, clinic).get(url, params)


# --- Planning a slot ------------------------------------------------------------------------------


@pytest.fixture
def planner(north, staff, make_patient):
    patient = make_patient(north)
    screened(patient)
    nurse = staff[("north", "nurse")]

    def post(**change):
        data = {"planned_date": DAY.isoformat(), "region": "lumbar", "targets": ["facet_joint"], "levels": "L4-L5",
                "kits": 1, "start_time": "09:00", "duration_minutes": 30, "room": "Room 1"}
        data.update(change)
        data = {k: v for k, v in data.items() if v is not None}
        with at(DAY):  # signed in on the day (an idle session of days ago would be over)
            return signed_in(nurse, north).post(f"/patients/{patient.pk}/procedures/new/", data)

    post.patient = patient
    return post


def test_planning_keeps_the_slot(planner, physician):
    response = planner(start_time="13:45", duration_minutes=90, room="Room 2", physician=physician.pk)
    assert response.status_code == 302
    procedure = Procedure.objects.get(patient=planner.patient)
    assert (procedure.start_time, procedure.duration_minutes, procedure.room, procedure.physician) == (
        time(13, 45), 90, "Room 2", physician)
    assert procedure.end_time == time(15, 15)


def test_planning_without_a_time_or_room_is_allowed_and_the_duration_defaults(planner):
    assert planner(start_time="", room="", duration_minutes="").status_code == 302
    procedure = Procedure.objects.get(patient=planner.patient)
    assert (procedure.start_time, procedure.room, procedure.duration_minutes) == (None, "", 30)


@pytest.mark.parametrize("field, value, words", [
    ("start_time", "25:00", "A time of day, hours and minutes"),
    ("start_time", "9h", "A time of day, hours and minutes"),
    ("duration_minutes", "4", "At least 5 minutes."),
    ("duration_minutes", "481", "At most 480 minutes"),
    ("duration_minutes", "half an hour", "A whole number of minutes"),
    ("room", "Room 9", "Not a room of this clinic: Room 9."),
    ("physician", "999999", "Not a physician of this clinic."),
])
def test_planning_names_the_field_at_fault(planner, field, value, words):
    response = planner(**{field: value})
    assert response.status_code == 400 and words in text(response)
    assert words in " ".join(response.context["form"].errors[field])
    assert not Procedure.objects.filter(patient=planner.patient).exists()


def test_a_nurse_is_not_a_physician_to_book(planner, staff):
    response = planner(physician=staff[("north", "nurse")].pk)
    assert response.status_code == 400 and "physician" in response.context["form"].errors


def test_the_edges_of_the_duration_are_allowed(planner):
    assert planner(duration_minutes=5).status_code == 302
    assert planner(duration_minutes=480, start_time="11:00").status_code == 302
    assert sorted(Procedure.objects.values_list("duration_minutes", flat=True)) == [5, 480]


def test_the_database_refuses_a_duration_out_of_bounds(north, book):
    with pytest.raises(IntegrityError), transaction.atomic():
        book(north, time(9), minutes=0)


def test_another_clinics_room_is_unknown_here(clinics, north, staff, make_patient):
    clinics["south"].rooms = ["Basement"]
    clinics["south"].save()
    patient = make_patient(north)
    screened(patient)
    with at(DAY):
        response = signed_in(staff[("north", "nurse")], north).post(
            f"/patients/{patient.pk}/procedures/new/", {"planned_date": DAY.isoformat(), "region": "lumbar",
                                                        "targets": ["facet_joint"], "levels": "L4-L5", "kits": 1,
                                                        "room": "Basement"})
    assert response.status_code == 400 and "Not a room of this clinic: Basement." in text(response)


def test_a_clinic_without_rooms_says_where_they_are_set(clinics, staff, make_patient):
    south = clinics["south"]
    patient = make_patient(south)
    screened(patient)
    page = signed_in(staff[("south", "nurse")], south).get(f"/patients/{patient.pk}/procedures/new/")
    assert "No rooms are set yet: the clinic administrator lists them on the clinic settings page." in text(page)


def test_overlapping_the_room_warns_and_plan_anyway_plans(planner, north, book):
    taken = book(north, time(9, 0), 30, "Room 1")
    warned = planner(start_time="09:29")  # one minute in common
    assert warned.status_code == 200 and not Procedure.objects.filter(patient=planner.patient).exists()
    words = text(warned)
    assert "This slot overlaps 1 other booking that day." in words and "09:00–09:30 · Room 1 · same room" in words
    assert f'href="/procedures/{taken.pk}/"' in warned.content.decode()
    assert taken.patient.family_name not in words  # another patient's name is not shown on this one's page
    signature = warned.context["acknowledge"]
    assert planner(start_time="09:29", acknowledged=signature).status_code == 302
    assert Procedure.objects.filter(patient=planner.patient, start_time=time(9, 29)).count() == 1


def test_plan_anyway_for_another_slot_warns_again(planner, north, book):
    book(north, time(9, 0), 30, "Room 1")
    signature = planner(start_time="09:10").context["acknowledge"]
    book(north, time(9, 20), 30, "Room 1")  # booked meanwhile
    again = planner(start_time="09:10", acknowledged=signature)
    assert again.status_code == 200 and "overlaps 2 other bookings" in text(again)
    assert not Procedure.objects.filter(patient=planner.patient).exists()


def test_touching_slots_and_other_rooms_days_and_clinics_do_not_warn(planner, north, clinics, book):
    book(north, time(9, 0), 30, "Room 1")
    book(north, time(9, 30), 30, "Room 1")
    book(north, time(10, 0), 30, "Room 2")
    book(north, time(10, 0), 30, "Room 1", day=DAY + timedelta(days=1))
    book(north, time(10, 0), 30, "Room 1", status="cancelled")
    book(clinics["south"], time(10, 0), 30, "Room 1")
    assert planner(start_time="10:00").status_code == 302  # touches 09:30-10:00 in Room 1


def test_the_physician_booked_in_another_room_warns(planner, north, book, physician):
    book(north, time(9, 0), 60, "Room 2", physician=physician)
    warned = planner(start_time="09:45", physician=physician.pk)
    assert warned.status_code == 200 and "same physician" in text(warned)
    assert "Room 2 · Pat Physician" in text(warned)


def test_same_room_and_physician_is_said_once(planner, north, book, physician):
    book(north, time(9, 0), 60, "Room 1", physician=physician)
    warned = planner(start_time="09:15", physician=physician.pk)
    assert "same room and physician" in text(warned) and len(warned.context["overlaps"]) == 1


def test_midnight_slots(planner, north, book):
    book(north, time(23, 50), 30, "Room 1")  # runs past midnight, on its own day
    assert planner(start_time="00:00").status_code == 302  # the same day's first minute: no overlap
    assert planner(start_time="23:59", duration_minutes=5).status_code == 200  # overlaps 23:50-00:20


# --- Today ----------------------------------------------------------------------------------------


@pytest.fixture
def day_plan(north, book, physician, staff, clinics):
    other = staff[("north", "nurse")]  # not a physician, but enough to show a second name
    rows = {
        "late": book(north, time(14, 0), 30, "Room 1", physician=physician),
        "early": book(north, time(8, 0), 45, "Room 2", physician=physician),
        "untimed": book(north, None, 30, ""),
        "midnight": book(north, time(0, 0), 30, "Room 1"),
        "clash": book(north, time(14, 29), 30, "Room 1", physician=other),
        "cancelled": book(north, time(9, 0), 30, "Room 1", status="cancelled"),
        "tomorrow": book(north, time(9, 0), 30, "Room 1", day=DAY + timedelta(days=1)),
    }
    book(clinics["south"], time(9, 0), 30, "Room 1", patient=None)
    return rows


def names(rows):
    return [row.pk for row in rows]


def test_today_lists_the_day_by_start_time_untimed_last(day_plan, north, staff):
    response = get(staff[("north", "nurse")], north, "/")
    groups = response.context["day_groups"]
    assert len(groups) == 1
    p = day_plan
    assert names(groups[0].rows) == [p["midnight"].pk, p["early"].pk, p["late"].pk, p["clash"].pk, p["untimed"].pk]
    words = text(response)
    assert "00:00–00:30" in words and "08:00–08:45" in words and "time not set" in words
    assert response.context["procedures"]["today"].total == 5


def test_today_by_room_in_the_clinics_order(day_plan, north, staff):
    groups = get(staff[("north", "nurse")], north, "/", by="room").context["day_groups"]
    p = day_plan
    assert [(g.label, names(g.rows)) for g in groups] == [
        ("Room 1", [p["midnight"].pk, p["late"].pk, p["clash"].pk]), ("Room 2", [p["early"].pk]),
        ("No room set", [p["untimed"].pk])]


def test_today_by_physician(day_plan, north, staff):
    groups = get(staff[("north", "nurse")], north, "/", by="physician").context["day_groups"]
    p = day_plan
    assert [(g.label, names(g.rows)) for g in groups] == [
        ("Pat Nurse", [p["clash"].pk]), ("Pat Physician", [p["early"].pk, p["late"].pk]),
        ("No physician assigned", [p["midnight"].pk, p["untimed"].pk])]


def test_today_marks_overlapping_bookings(day_plan, north, staff):
    rows = {row.pk: row for row in get(staff[("north", "nurse")], north, "/").context["day_groups"][0].rows}
    p = day_plan
    assert rows[p["late"].pk].overlap == rows[p["clash"].pk].overlap == "room"
    assert rows[p["early"].pk].overlap == rows[p["midnight"].pk].overlap == ""


@pytest.mark.parametrize("by", ["nonsense", "ROOM", "<script>", "x" * 500])
def test_an_unknown_view_shows_the_default_and_says_so(day_plan, north, staff, by):
    response = get(staff[("north", "nurse")], north, "/", by=by)
    assert response.status_code == 200 and response.context["by"] == "time"
    assert "There is no view" in text(response) and "<script>" not in response.content.decode().split("<main")[1]


def test_today_names_the_print_and_week_links(day_plan, north, staff):
    html = get(staff[("north", "nurse")], north, "/", by="physician").content.decode()
    assert 'href="/schedule/day/print/?date=2026-12-16&amp;by=physician">Print day list' in html
    assert 'href="/schedule/week/?start=2026-12-16&amp;by=physician"' in html


def _count(user, clinic, url, **params):
    with at(DAY):
        client = signed_in(user, clinic)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url, params).status_code == 200
    return len(queries)


@pytest.mark.parametrize("url, params", [("/", {"by": "room"}), ("/", {"by": "physician"}),
                                         ("/schedule/week/", {"start": "2026-12-16"}),
                                         ("/schedule/week/", {"by": "physician"}),
                                         ("/schedule/day/print/", {"date": "2026-12-16", "by": "room"})])
def test_query_count_does_not_grow_with_the_schedule(north, book, physician, staff, make_patient, url, params):
    book(north, time(9), 30, "Room 1", physician=physician)
    screened(make_patient(north), decision="review")
    small = _count(physician, north, url, **params)
    for index in range(25):
        patient = make_patient(north)
        book(north, time(8 + index % 9, 5 * (index % 12)), 30, ROOMS[index % 2], day=DAY + timedelta(days=index % 4),
             physician=physician if index % 3 else staff[("north", "nurse")], patient=patient)
        screened(patient, decision="review")
        AdverseEvent.objects.create(clinic=north, patient=patient, event_type="infection", ctcae_grade=3,
                                    serious=True, onset=DAY, outcome="recovering")
    assert _count(physician, north, url, **params) == small


# --- Week -----------------------------------------------------------------------------------------


def test_the_week_runs_monday_to_sunday_of_the_day_asked(north, book, staff, clinics):
    monday = book(north, time(9), 30, "Room 2", day=MONDAY)
    sunday = book(north, None, 30, "Room 1", day=MONDAY + timedelta(days=6))
    book(north, time(9), 30, "Room 1", day=MONDAY - timedelta(days=1))  # the Sunday before
    book(north, time(9), 30, "Room 1", day=MONDAY + timedelta(days=7))  # the Monday after
    book(clinics["south"], time(9), 30, "Room 1", day=DAY)
    response = get(staff[("north", "front_desk")], north, "/schedule/week/", start="2026-12-17")
    assert response.status_code == 200 and response.context["monday"] == MONDAY
    days = response.context["days"]
    assert [d.date for d in days] == [MONDAY + timedelta(days=i) for i in range(7)]
    assert [names(g.rows) for g in days[0].groups] == [[monday.pk]]
    assert [(g.label, names(g.rows)) for g in days[6].groups] == [("Room 1", [sunday.pk])]
    assert response.context["total"] == 2
    html = response.content.decode()
    assert 'href="?start=2026-12-07&amp;by=room" rel="prev"' in html and 'href="?start=2026-12-21&amp;by=room"' in html
    assert "Monday 14 December – Sunday 20 December 2026" in text(response) and "time not set" in text(response)


def test_the_week_by_physician(north, book, physician, staff):
    mine = book(north, time(10), 30, "Room 1", physician=physician)
    nobody = book(north, time(9), 30, "Room 1")
    days = get(staff[("north", "nurse")], north, "/schedule/week/", start="2026-12-16", by="physician").context["days"]
    assert [(g.label, names(g.rows)) for g in days[2].groups] == [("Pat Physician", [mine.pk]),
                                                                  ("No physician assigned", [nobody.pk])]


@pytest.mark.parametrize("start, words", [
    ("2026-13-01", "Not a date: “2026-13-01”"), ("yesterday", "Not a date"), ("20261216", "Not a date"),
    ("0001-01-01", "Choose a date between the years 1900 and 2999."), ("9999-12-31", "between the years"),
    ("2026-02-30", "Not a date"), ("\x00", "Not a date"),
])
def test_a_bad_start_shows_this_week_and_says_so(north, staff, start, words):
    response = get(staff[("north", "nurse")], north, "/schedule/week/", start=start)
    assert response.status_code == 200 and words in text(response)
    assert response.context["monday"] == MONDAY


def test_an_unknown_week_view_is_by_room(north, staff):
    response = get(staff[("north", "nurse")], north, "/schedule/week/", by="time")
    assert response.status_code == 200 and response.context["by"] == "room" and "There is no view" in text(response)


def test_the_week_is_audited_as_one_list_read(north, book, staff, clinics):
    rows = [book(north, time(9 + i), 30, "Room 1", day=MONDAY + timedelta(days=i)) for i in range(3)]
    get(staff[("north", "nurse")], north, "/schedule/week/", start="2026-12-14")
    event = AuditEvent.objects.get(object_type="procedures.schedule.week")
    assert event.action == "list" and event.detail["ids"] == sorted(r.patient_id for r in rows)
    assert event.detail["week"] == "2026-12-14" and event.clinic_id == north.pk
    get(staff[("north", "nurse")], north, "/schedule/week/", start="2027-03-01")  # an empty week names nobody
    assert AuditEvent.objects.filter(object_type="procedures.schedule.week").count() == 1


# --- The printed day list -------------------------------------------------------------------------


def test_the_day_list_shows_what_the_floor_needs(day_plan, north, staff):
    response = get(staff[("north", "nurse")], north, "/schedule/day/print/", date="2026-12-16")
    assert response.status_code == 200
    words = text(response)
    for heading in ("Time", "Room", "Patient", "MRN", "Procedure", "Physician", "Status"):
        assert f"<th>{heading}</th>" in response.content.decode()
    late = day_plan["late"]
    assert (f"14:00–14:30 Room 1 {late.patient.family_name}, {late.patient.given_name} {late.patient.mrn} "
            f"Lumbar: Facet joint · L4-L5 Pat Physician Planned · overlaps (room)") in words
    assert "Wednesday 16 December 2026 5 procedures" in words and "time not set" in words
    assert day_plan["cancelled"].patient.family_name not in words
    assert day_plan["tomorrow"].patient.family_name not in words
    event = AuditEvent.objects.get(object_type="procedures.schedule.day")
    assert event.detail["day"] == "2026-12-16" and len(event.detail["ids"]) == 5


def test_the_day_list_of_another_day_and_grouped(day_plan, north, staff):
    response = get(staff[("north", "nurse")], north, "/schedule/day/print/", date="2026-12-17", by="room")
    assert [(g.label, names(g.rows)) for g in response.context["groups"]] == [
        ("Room 1", [day_plan["tomorrow"].pk])]


@pytest.mark.parametrize("params", [{"date": "16/12/2026"}, {"date": "2026-12-16", "by": "week"}, {"date": "x" * 300}])
def test_a_bad_day_list_query_shows_today_by_time_and_says_so(day_plan, north, staff, params):
    response = get(staff[("north", "nurse")], north, "/schedule/day/print/", **params)
    assert response.status_code == 200 and response.context["day"] == DAY and response.context["by"] == "time"
    assert "Not a date" in text(response) or "There is no view" in text(response)


# --- Another clinic's schedule never shows ------------------------------------------------------------


@pytest.mark.parametrize("url, params", [("/", {}), ("/", {"by": "room"}), ("/", {"by": "physician"}),
                                         ("/schedule/week/", {"start": "2026-12-16"}),
                                         ("/schedule/day/print/", {"date": "2026-12-16"})])
def test_another_clinics_procedures_never_appear(clinics, north, book, staff, make_patient, url, params):
    mine = book(north, time(9), 30, "Room 1", patient=make_patient(north, family_name="Northerly"))
    book(clinics["south"], time(9), 30, "Room 1", patient=make_patient(clinics["south"], family_name="Southerly"))
    north_page = text(get(staff[("north", "physician")], north, url, **params))
    south_page = text(get(staff[("south", "physician")], clinics["south"], url, **params))
    assert "Northerly" in north_page and "Southerly" not in north_page
    assert "Southerly" in south_page and "Northerly" not in south_page
    assert mine.patient.mrn not in south_page


@pytest.mark.parametrize("url", ["/schedule/week/", "/schedule/day/print/"])
def test_the_schedule_pages_need_a_clinic_and_a_sign_in(db, django_user_model, client, url):
    assert client.get(url)["Location"].startswith("/accounts/login/")
    loner = django_user_model.objects.create_user("loner", password="correct horse battery")
    assert signed_in(loner).get(url).status_code == 403


# --- The physician's own review lists -------------------------------------------------------------


def test_the_physician_sees_screenings_waiting_for_their_review(north, book, physician, staff, make_patient, clinics):
    colleague = staff[("north", "nurse")]  # stands in for another physician's name on a plan
    theirs = make_patient(north, family_name="Theirs")
    later = DAY + timedelta(days=5)  # not on today's schedule, where every name of the day shows
    book(north, time(9), patient=theirs, physician=physician, day=later)
    waiting = screened(theirs, decision="review")
    unassigned = make_patient(north, family_name="Unassigned")
    waiting_unassigned = screened(unassigned, decision="review")
    elsewhere = make_patient(north, family_name="Colleagues")
    book(north, time(9), patient=elsewhere, physician=colleague, day=later)
    screened(elsewhere, decision="review")
    superseded = make_patient(north, family_name="Superseded")
    screened(superseded, decision="review")
    screened(superseded, decision="eligible")
    reviewed = make_patient(north, family_name="Reviewed")
    screened(reviewed, decision="review", review_outcome="proceed")
    screened(make_patient(clinics["south"], family_name="Southerly"), decision="review")

    response = get(physician, north, "/")
    review = response.context["review"]["screenings"]
    assert [s.pk for s in review.rows] == [waiting.pk, waiting_unassigned.pk] and review.total == 2
    html = response.content.decode()
    section = html[html.index('id="for-review"'):].split("</section>")[0]
    assert "Screenings waiting for your review <small>2</small>" in section
    assert f'href="/screenings/{waiting.pk}/"' in section and "Theirs" in section and "Unassigned" in section
    for absent in ("Colleagues", "Superseded", "Reviewed", "Southerly"):
        assert absent not in section
    audited = AuditEvent.objects.get(object_type="clinic.dashboard")
    assert {theirs.pk, unassigned.pk} <= set(audited.detail["ids"])


def test_the_physician_sees_serious_events_to_judge(north, book, physician, staff, make_patient, clinics):
    def event(patient, procedure=None, **fields):
        values = {"clinic": patient.clinic, "patient": patient, "procedure": procedure, "event_type": "infection",
                  "ctcae_grade": 3, "serious": True, "onset": DAY, "outcome": "recovering"}
        values.update(fields)
        return AdverseEvent.objects.create(**values)

    mine_patient = make_patient(north, family_name="Mine")
    mine = event(mine_patient, book(north, time(9), patient=mine_patient, physician=physician))
    loose = event(make_patient(north, family_name="Loose"))
    other_patient = make_patient(north, family_name="Colleagues")
    event(other_patient, book(north, time(10), patient=other_patient, physician=staff[("north", "nurse")]))
    event(make_patient(north, family_name="Mild"), serious=False, ctcae_grade=1)
    event(make_patient(north, family_name="Judged"), relatedness="possible", judged_by=physician,
          judged_at=timezone.now())
    event(make_patient(clinics["south"], family_name="Southerly"))

    response = get(physician, north, "/")
    events = response.context["review"]["events"]
    assert [e.pk for e in events.rows] == [mine.pk, loose.pk] and events.total == 2
    assert "Serious adverse events for you to judge 2" in text(response)


def test_the_review_lists_are_capped_and_counted(north, physician, make_patient):
    for _ in range(11):
        screened(make_patient(north), decision="review")
    review = get(physician, north, "/").context["review"]["screenings"]
    assert len(review.rows) == 8 and review.total == 11 and "and 3 more." in text(get(physician, north, "/"))


@pytest.mark.parametrize("role", ["nurse", "clinic_admin", "front_desk", "prep_tech", "auditor"])
def test_only_physicians_have_the_review_lists(north, staff, make_patient, role):
    screened(make_patient(north), decision="review")
    response = get(staff[("north", role)], north, "/")
    assert "review" not in response.context and "For your review" not in text(response)


# --- Rooms on the clinic settings page ------------------------------------------------------------


def test_the_clinic_administrator_sets_the_rooms(clinics, staff):
    north = clinics["north"]
    admin = signed_in(staff[("north", "clinic_admin")], north)
    base = {"name": north.name, "phone": north.phone}
    assert admin.post("/clinic/", {**base, "rooms": "  Room   A \r\n\r\nFluoro suite\r\n"}).status_code == 302
    north.refresh_from_db()
    assert north.rooms == ["Room A", "Fluoro suite"]
    assert AuditEvent.objects.filter(object_type="clinics.clinic", detail__fields=["rooms"]).exists()
    twice = admin.post("/clinic/", {**base, "rooms": "Room A\r\nroom a"})
    assert twice.status_code == 400 and "room a is listed twice." in text(twice)
    long = admin.post("/clinic/", {**base, "rooms": "R" * 41})
    assert long.status_code == 400 and "at most 40 characters" in text(long)
    many = admin.post("/clinic/", {**base, "rooms": "\n".join(f"Room {i}" for i in range(31))})
    assert many.status_code == 400 and "At most 30 rooms." in text(many)
    north.refresh_from_db()
    assert north.rooms == ["Room A", "Fluoro suite"]
    assert "Room A\nFluoro suite</textarea>" in admin.get("/clinic/").content.decode()
