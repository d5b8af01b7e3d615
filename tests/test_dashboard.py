"""The start page: what needs attention today, per clinic and role, in a fixed number of queries."""

import io
import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accretion.adverse_events.models import AdverseEvent
from accretion.audit.models import AuditEvent
from accretion.clinics.models import Clinic
from accretion.outcomes import services as outcomes
from accretion.practice.models import REQUIRED_MODULES, Equipment, KitLot, TrainingRecord
from accretion.procedures.models import FollowUp, Procedure
from tests.conftest import signed_in

DAY = date(2026, 12, 18)  # a Friday
User = get_user_model()


def at(day: date):
    return time_machine.travel(datetime.combine(day, time(12), tzinfo=ZoneInfo(settings.TIME_ZONE)), tick=False)


def procedure(patient, staff, day, status="planned", **fields):
    values = {"clinic": patient.clinic, "patient": patient, "planned_date": day, "region": "lumbar",
              "targets": ["facet_joint"], "levels": ["L4-L5"], "status": status,
              "created_by": staff[(patient.clinic.slug, "nurse")]}
    values.update(fields)
    return Procedure.objects.create(**values)


def event(patient, **fields):
    values = {"clinic": patient.clinic, "patient": patient, "event_type": "injection_site_flare", "ctcae_grade": 1,
              "onset": DAY - timedelta(days=2), "outcome": "recovering"}
    values.update(fields)
    return AdverseEvent.objects.create(**values)


def text(response) -> str:
    """The page's words without tags, as a reader sees them."""
    return " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split())


def page(user, clinic):
    with at(DAY):
        return signed_in(user, clinic).get("/")


@pytest.fixture
def north(clinics):
    return clinics["north"]


@pytest.fixture
def admin(staff, north):
    return staff[("north", "clinic_admin")]


def test_signing_in_lands_on_the_start_page(staff, north):
    client = Client()
    response = client.post("/accounts/login/", {"username": "nurse@north.test", "password": "correct horse battery"})
    assert response.status_code == 302 and response["Location"] == "/"
    home = client.get("/")
    assert home.status_code == 200 and "<h1>Today</h1>" in home.content.decode()


def test_signed_out_goes_to_the_login_and_a_user_of_no_clinic_is_refused(db, django_user_model):
    assert Client().get("/")["Location"].startswith("/accounts/login/")
    loner = django_user_model.objects.create_user("loner", password="correct horse battery")
    assert signed_in(loner).get("/").status_code == 403


def test_serious_events_waiting_for_a_judgement_alert_the_clinic_admin(staff, north, clinics, make_patient, admin):
    patient = make_patient(north, given_name="Rosa", family_name="Parra", mrn="N-17")
    waiting = event(patient, event_type="infection", ctcae_grade=3, serious=True)
    event(patient, ctcae_grade=3, serious=True, relatedness="possible", judged_by=staff[("north", "physician")],
          judged_at=timezone.now())
    event(patient, needs_review=True, source="patient_report")
    event(patient, needs_review=True, source="patient_report")
    event(make_patient(clinics["south"], family_name="Sur"), ctcae_grade=4, serious=True)

    response = page(admin, north)
    html = response.content.decode()
    assert response.status_code == 200
    assert response.context["safety"]["serious"].total == 1
    assert [e.pk for e in response.context["safety"]["serious"].rows] == [waiting.pk]
    assert "1 serious adverse event not yet judged by a physician" in html
    assert f'href="/adverse-events/{waiting.pk}/"' in html and "Rosa Parra (N-17): Infection, grade 3" in html
    assert "2 problems reported by patients" in html and "needs_review=on" in html
    assert "Sur" not in html


def test_no_alert_when_every_serious_event_is_judged(staff, north, make_patient, admin):
    patient = make_patient(north)
    event(patient, ctcae_grade=2, serious=True, relatedness="unrelated", judged_by=staff[("north", "physician")],
          judged_at=timezone.now())
    html = page(admin, north).content.decode()
    assert "No serious adverse event is waiting" in html and 'role="alert"' not in html


def test_procedures_of_today_to_sign_and_unfinished(staff, north, clinics, make_patient):
    physician = staff[("north", "physician")]
    patient = make_patient(north, given_name="Ana", family_name="Bravo")
    today = procedure(patient, staff, DAY)
    signed_today = procedure(patient, staff, DAY, status="signed")
    procedure(patient, staff, DAY, status="cancelled")
    procedure(patient, staff, DAY + timedelta(days=1))
    stale_plan = procedure(patient, staff, DAY - timedelta(days=1))
    stale_start = procedure(patient, staff, DAY - timedelta(days=40), status="in_progress")
    mine = procedure(patient, staff, DAY - timedelta(days=3), status="completed", physician=physician,
                     completed_at=timezone.now() - timedelta(days=3))
    theirs = procedure(patient, staff, DAY - timedelta(days=2), status="completed",
                       physician=staff[("south", "physician")], completed_at=timezone.now() - timedelta(days=2))
    procedure(make_patient(clinics["south"]), staff, DAY)

    response = page(physician, north)
    sections = response.context["procedures"]
    assert {p.pk for p in sections["today"].rows} == {today.pk, signed_today.pk}
    assert [p.pk for p in sections["to_sign"].rows] == [mine.pk, theirs.pk]
    assert [p.pk for p in sections["unfinished"].rows] == [stale_start.pk, stale_plan.pk]
    html = response.content.decode()
    assert f'href="/procedures/{mine.pk}/"' in html and "<strong>yours</strong>" in html
    assert "Planned for an earlier day, not finished" in html


def test_lists_are_capped_and_counted(staff, north, make_patient, admin):
    patient = make_patient(north)
    for days in range(1, 13):
        procedure(patient, staff, DAY - timedelta(days=days))
    response = page(admin, north)
    unfinished = response.context["procedures"]["unfinished"]
    assert (len(unfinished.rows), unfinished.total, unfinished.more) == (8, 12, 4)
    assert "and 4 more." in response.content.decode()


def test_follow_up_counts_for_the_roles_that_call_patients(staff, north, make_patient):
    patient = make_patient(north)
    signed = procedure(patient, staff, date(2026, 11, 30), status="signed")
    for key, due in [("2w", date(2026, 12, 14)), ("6w", date(2027, 1, 11))]:
        FollowUp.objects.create(clinic=north, procedure=signed, key=key, due=due)
    outcomes.schedule_follow_ups(signed)
    other = procedure(patient, staff, date(2026, 11, 27), status="signed")
    FollowUp.objects.create(clinic=north, procedure=other, key="2w", due=date(2026, 12, 11))
    outcomes.schedule_follow_ups(other)
    other.questionnaire_tasks.update(completed_at=timezone.now())  # answered: nobody to call

    desk = page(staff[("north", "front_desk")], north)
    # The 2w task: due 12-14, closes 12-21; the 6w task is not due yet.
    assert desk.context["follow_up"] == {"overdue": 1, "closing": 1}
    assert "1 questionnaire past its due date and not answered; 1 closes within 3 days" in text(desk)
    for role in ("clinic_admin", "auditor", "prep_tech"):
        response = page(staff[("north", role)], north)
        assert "follow_up" not in response.context and 'id="follow-up"' not in response.content.decode()


def test_practice_problems(staff, north, clinics, admin):
    physician, _nurse, prep = (staff[("north", role)] for role in ("physician", "nurse", "prep_tech"))
    for module in REQUIRED_MODULES:
        for user in (physician, prep):
            TrainingRecord.objects.create(clinic=north, user=user, module=module, completed_on=date(2026, 3, 1),
                                          verified_by=admin)
    TrainingRecord.objects.create(clinic=north, user=physician, module="aseptic_preparation",
                                  completed_on=date(2025, 12, 1), expires_on=DAY - timedelta(days=1),
                                  verified_by=admin)
    TrainingRecord.objects.filter(user=physician, module="aseptic_preparation",
                                  completed_on=date(2026, 3, 1)).delete()
    TrainingRecord.objects.filter(user=prep, module="emergency_protocols").update(expires_on=DAY + timedelta(days=30))
    Equipment.objects.create(clinic=north, kind="centrifuge", manufacturer="Harvest", model="SmartPReP 2",
                             serial="SP-1", fda_510k="K123456", in_service=True,
                             next_maintenance=DAY - timedelta(days=1))
    lot = {"product": "Angel cPRP set", "manufacturer": "Arthrex", "received_on": DAY - timedelta(days=100)}
    KitLot.objects.create(clinic=north, lot_number="SOON", expiry_date=DAY + timedelta(days=10), quantity_on_hand=3,
                          **lot)
    KitLot.objects.create(clinic=north, lot_number="OLD", expiry_date=DAY - timedelta(days=1), quantity_on_hand=2,
                          **lot)
    KitLot.objects.create(clinic=north, lot_number="EMPTY", expiry_date=DAY - timedelta(days=5), quantity_on_hand=0,
                          **lot)
    KitLot.objects.create(clinic=north, lot_number="FINE", expiry_date=DAY + timedelta(days=31), quantity_on_hand=1,
                          **lot)
    KitLot.objects.create(clinic=clinics["south"], lot_number="SOUTH", expiry_date=DAY, quantity_on_hand=1, **lot)

    practice = page(admin, north).context["practice"]
    training = [(p.status, p.text) for p in practice["training"].rows]
    assert training[0] == ("expired", "Pat Physician: Aseptic preparation expired on 2026-12-17")
    assert ("missing", "Pat Nurse: no Emergency protocols training on record") in training
    assert ("expiring", "Pat Prep: Emergency protocols expires on 2027-01-17") in training
    assert len(training) == practice["training"].total == 1 + 3 + 1  # the nurse misses all three modules
    assert not any("admin" in text or "desk" in text for _, text in training)  # clinical staff only
    assert [p.text for p in practice["equipment"].rows] == [
        "Centrifuge system Harvest SmartPReP 2 (serial SP-1) is past its maintenance date (2026-12-17)."
    ]
    assert [(p.status, p.text) for p in practice["kits"].rows] == [
        ("expired", "Angel cPRP set, lot OLD: 2 on hand, expired 2026-12-17"),
        ("expiring", "Angel cPRP set, lot SOON: 3 on hand, expires 2026-12-28"),
    ]
    assert practice["usable_kits"] is True


def test_quarantined_lots_are_named_with_a_link_to_the_kits(staff, north, clinics, admin):
    lot = {"product": "Angel cPRP set", "manufacturer": "Arthrex", "received_on": DAY - timedelta(days=100)}
    with at(DAY):
        recalled = timezone.now() - timedelta(days=1)
    KitLot.objects.create(clinic=north, lot_number="RECALLED", expiry_date=DAY + timedelta(days=200),
                          quantity_on_hand=5, quarantined_at=recalled, quarantine_reason="manufacturer notice 42", **lot)
    KitLot.objects.create(clinic=north, lot_number="GONE", expiry_date=DAY + timedelta(days=200), quantity_on_hand=0,
                          quarantined_at=recalled, quarantine_reason="manufacturer notice 42", **lot)
    KitLot.objects.create(clinic=clinics["south"], lot_number="SOUTH", expiry_date=DAY + timedelta(days=200),
                          quantity_on_hand=1, quarantined_at=recalled, quarantine_reason="notice 7", **lot)
    response = page(admin, north)
    practice = response.context["practice"]
    assert [(p.status, p.text) for p in practice["kits"].rows] == [
        ("quarantined", ("Angel cPRP set, lot RECALLED: 5 on hand, quarantined (recall on 2026-12-17, "
                         "manufacturer notice 42) until a clinic administrator releases it")),
    ]
    assert practice["usable_kits"] is False  # the only lot in stock is quarantined
    html = response.content.decode()
    kits = html[html.index("<h3>Kit lots in stock</h3>"):]
    assert '<mark class="status quarantined">quarantined</mark> Angel cPRP set, lot RECALLED' in kits
    assert 'href="/practice/kits/"' in kits[:kits.index("</p>", kits.index("RECALLED"))]
    assert "No PRP kit in stock can be used today." in html


def test_no_usable_kit_is_said_plainly(staff, north, admin):
    KitLot.objects.create(clinic=north, product="Angel cPRP set", manufacturer="Arthrex", lot_number="OLD",
                          expiry_date=DAY - timedelta(days=1), quantity_on_hand=4, received_on=DAY - timedelta(days=90))
    html = page(admin, north).content.decode()
    assert "No PRP kit in stock can be used today." in html


def test_the_patients_named_are_audited_as_one_list_read(staff, north, make_patient, admin):
    first, second = make_patient(north), make_patient(north)
    procedure(first, staff, DAY)
    event(second, ctcae_grade=3, serious=True)
    page(admin, north)
    row = AuditEvent.objects.get(object_type="clinic.dashboard")
    assert row.action == "list" and row.detail["ids"] == sorted([first.pk, second.pk])
    assert row.user_id == admin.pk and row.clinic_id == north.pk


def test_nothing_named_nothing_audited(staff, north):
    page(staff[("north", "auditor")], north)
    assert not AuditEvent.objects.filter(object_type="clinic.dashboard").exists()


def _queries(user, clinic) -> int:
    with at(DAY):
        client = signed_in(user, clinic)
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/").status_code == 200
    return len(queries)


def test_query_count_does_not_grow_with_the_clinic(staff, north, make_patient):
    physician = staff[("north", "physician")]
    patient = make_patient(north)
    procedure(patient, staff, DAY)
    small = _queries(physician, north)
    for index in range(30):
        other = make_patient(north)
        procedure(other, staff, DAY - timedelta(days=1 + index % 3), status="completed", physician=physician,
                  completed_at=timezone.now())
        procedure(other, staff, DAY)
        event(other, ctcae_grade=3, serious=True)
        KitLot.objects.create(clinic=north, product="Set", manufacturer="M", lot_number=f"L{index}",
                              expiry_date=DAY + timedelta(days=index), quantity_on_hand=1, received_on=DAY)
    assert _queries(physician, north) == small


def test_the_demo_plans_the_day_it_is_loaded_and_plans_a_later_day_afresh(db):
    def load(day):
        with at(day):
            call_command("demo", stdout=io.StringIO())

    load(DAY)
    north = Clinic.objects.get(slug="north")
    assert north.rooms == ["Procedure room 1", "Procedure room 2"]
    planned = Procedure.objects.filter(clinic=north, status="planned")
    assert sorted(planned.values_list("planned_date", flat=True)) == [DAY] * 4 + [DAY + timedelta(days=2)]
    assert sorted(planned.filter(planned_date=DAY).values_list("room", flat=True)) == [
        "", "Procedure room 1", "Procedure room 1", "Procedure room 2"]
    assert planned.filter(planned_date=DAY, start_time__isnull=True).count() == 1  # time not set, as happens
    load(DAY)  # the same day: nothing more
    assert planned.count() == 5
    later = DAY + timedelta(days=3)
    load(later)
    load(later)
    assert sorted(planned.values_list("planned_date", flat=True)) == [later] * 4 + [later + timedelta(days=2)]
    cancelled = Procedure.objects.filter(clinic=north, status="cancelled")
    assert sorted(cancelled.values_list("planned_date", flat=True)) == [DAY] * 4 + [DAY + timedelta(days=2)]
    assert all("2026-12-21" in reason for reason in cancelled.values_list("cancel_reason", flat=True))
    assert AuditEvent.objects.filter(object_type="procedures.procedure", action="update",
                                     object_id__in=[str(pk) for pk in cancelled.values_list("pk", flat=True)]
                                     ).count() == 5
    with at(later):
        response = signed_in(User.objects.get(username="nurse@north.demo"), north).get("/")
    assert {p.planned_date for p in response.context["procedures"]["today"].rows} == {later}
