from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from accretion.audit.models import AuditEvent
from accretion.outcomes import services
from accretion.outcomes.models import QuestionnaireResponse, QuestionnaireTask, Reminder
from accretion.outcomes.reminders import send_due
from accretion.outcomes.sms import LocmemSMSBackend
from accretion.procedures.models import FollowUp, Procedure
from tests.conftest import screened, signed_in


@pytest.fixture
def signed(clinics, staff, make_patient):
    """A signed lumbar procedure of 2026-11-30 with its follow-up schedule and tasks."""
    north = clinics["north"]
    patient = make_patient(north, preferred_language="es", email="luz@example.org", phone="+1 555 010 2020")
    procedure = Procedure.objects.create(clinic=north, patient=patient, planned_date=date(2026, 11, 30),
                                         region="lumbar", targets=["facet_joint"], levels=["L4-L5"], status="signed",
                                         created_by=staff[("north", "nurse")])
    for key, due in [("2w", date(2026, 12, 14)), ("6w", date(2027, 1, 11)), ("3m", date(2027, 2, 28)),
                     ("6m", date(2027, 5, 30)), ("12m", date(2027, 11, 30))]:
        FollowUp.objects.create(clinic=north, procedure=procedure, key=key, due=due)
    services.schedule_follow_ups(procedure)
    return procedure


def at(day: date):
    """Noon in the clinic's time zone on `day` (a bare date would be midnight UTC, the day before in New York)."""
    from django.conf import settings

    return time_machine.travel(datetime.combine(day, time(12), tzinfo=ZoneInfo(settings.TIME_ZONE)), tick=False)


def task(procedure, key):
    return QuestionnaireTask.objects.get(procedure=procedure, time_point=key)


def url(t):
    return services.link(t)


def test_signing_schedules_windows_around_each_follow_up(signed):
    windows = {t.time_point: (t.opens_on, t.closes_on) for t in signed.questionnaire_tasks.all()}
    assert windows == {
        "2w": (date(2026, 12, 7), date(2026, 12, 21)),
        "6w": (date(2027, 1, 4), date(2027, 1, 18)),
        "3m": (date(2027, 2, 14), date(2027, 3, 14)),
        "6m": (date(2027, 4, 30), date(2027, 6, 29)),
        "12m": (date(2027, 10, 31), date(2027, 12, 30)),
    }
    assert task(signed, "3m").instruments == ["nrs", "odi", "pgic", "safety"]


def test_a_link_holds_no_patient_data_and_tokens_are_unguessable(signed):
    t = task(signed, "2w")
    link = url(t)
    assert link.strip("/").split("/")[0] == "f" and len(link.strip("/").split("/")) == 2  # /f/<token>/, nothing else
    assert signed.patient.mrn not in link and signed.patient.family_name not in link
    assert len(link.split("/")[-2]) >= 40
    assert t.token_digest not in link  # only the digest is stored
    assert Client().get(link[:-5] + "xxxx/").status_code == 404


def test_patient_answers_in_spanish_saves_partially_then_submits(signed):
    t = task(signed, "2w")
    client = Client()
    with at(date(2026, 12, 15)):
        page = client.get(url(t))
        body = page.content.decode()
        assert page.status_code == 200 and "Sus preguntas de seguimiento" in body
        assert signed.patient.family_name not in body and signed.patient.mrn not in body
        partial = client.post(url(t), {"lang": "es", "nrs__nrs": "6", "save": "1"})
        assert partial.status_code == 200 and "Sus respuestas están guardadas" in partial.content.decode()
        assert QuestionnaireResponse.objects.get(task=t, instrument="nrs").answers == {"nrs": 6}
        again = client.get(url(t))
        assert again.context["form"].initial["nrs__nrs"] == 6
        answers = {"lang": "es", "nrs__nrs": "4", "pgic__pgic": "2", "submit": "1",
                   **{f"odi__odi-{i}": "1" for i in range(1, 11)},
                   **{f"safety__{k}": "no" for k in ("fever", "infection_signs", "new_weakness_numbness",
                                                      "bowel_bladder_change", "emergency_visit")}}
        done = client.post(url(t), answers)
        assert done.status_code == 200 and "Gracias" in done.content.decode()
        t.refresh_from_db()
        assert t.completed_at and t.mode == "patient_link"
        odi = QuestionnaireResponse.objects.get(task=t, instrument="odi")
        assert odi.score["score"] == 20.0 and odi.score["band"] == "minimal"
        # The same link again: answered, nothing shown, nothing changed.
        reuse = client.post(url(t), {**answers, "nrs__nrs": "9"})
        assert "ya fueron respondidas" in reuse.content.decode()
        assert QuestionnaireResponse.objects.get(task=t, instrument="nrs").answers == {"nrs": 4}
    rows = AuditEvent.objects.filter(object_type="outcomes.questionnairetask", patient_id=signed.patient_id)
    assert rows.exclude(action="view").count() == 2  # the partial save and the submission
    assert rows.filter(action="view").count() == 2  # the two times the open form was shown


def test_answers_outside_the_scale_are_refused_at_the_field(signed):
    t = task(signed, "2w")
    with at(date(2026, 12, 14)):
        response = Client().post(url(t), {"lang": "en", "nrs__nrs": "11", "save": "1"})
        assert response.status_code == 400 and response.context["form"].errors["nrs__nrs"]
        response = Client().post(url(t), {"lang": "en", "odi__odi-1": "7", "save": "1"})
        assert response.status_code == 400 and response.context["form"].errors["odi__odi-1"]
    assert not QuestionnaireResponse.objects.exists()


def test_submitting_needs_the_required_answers(signed):
    t = task(signed, "2w")
    with at(date(2026, 12, 14)):
        response = Client().post(url(t), {"lang": "en", "submit": "1"})
    assert response.status_code == 400 and "Please answer questions" in response.content.decode()
    t.refresh_from_db()
    assert t.completed_at is None


@pytest.mark.parametrize("day, status, words", [
    (date(2026, 12, 6), 403, "not open yet"),
    (date(2026, 12, 7), 200, "Your follow-up questions"),
    (date(2026, 12, 21), 200, "Your follow-up questions"),
    (date(2026, 12, 22), 410, "no longer open"),
])
def test_a_link_works_only_while_its_task_is_open(signed, day, status, words):
    t = task(signed, "2w")
    with at(day):
        response = Client().get(url(t), {"lang": "en"})
    assert response.status_code == status and words in response.content.decode()


def test_the_patient_form_is_rate_limited(signed, settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "rate"}}
    client = Client()
    statuses = [client.get("/f/not-a-real-token/").status_code for _ in range(35)]
    assert statuses[:30] == [404] * 30 and statuses[-1] == 429


def test_staff_enter_answers_from_a_phone_call(signed, staff, clinics):
    t = task(signed, "3m")
    answers = {"lang": "en", "mode": "phone", "nrs__nrs": "3", "pgic__pgic": "1", "submit": "1",
               **{f"odi__odi-{i}": "2" for i in range(1, 11)},
               **{f"safety__{k}": "no" for k in ("fever", "infection_signs", "new_weakness_numbness",
                                                  "bowel_bladder_change", "emergency_visit")}}
    with at(date(2027, 3, 1)):
        desk = signed_in(staff[("north", "front_desk")], clinics["north"])
        assert desk.post(f"/outcomes/tasks/{t.pk}/", answers).status_code == 302
    t.refresh_from_db()
    assert t.mode == "phone" and t.entered_by == staff[("north", "front_desk")]
    assert signed_in(staff[("south", "nurse")], clinics["south"]).get(f"/outcomes/tasks/{t.pk}/").status_code == 404
    assert signed_in(staff[("north", "prep_tech")], clinics["north"]).get(f"/outcomes/tasks/{t.pk}/").status_code == 403


def test_worklist_shows_overdue_open_tasks(signed, staff, clinics):
    with at(date(2026, 12, 18)):
        nurse = signed_in(staff[("north", "nurse")], clinics["north"])
        page = nurse.get("/outcomes/worklist/")
    rows = list(page.context["page"].object_list)
    assert [r.time_point for r in rows] == ["2w"] and signed.patient.phone in page.content.decode()


def test_reminders_at_opening_after_3_and_7_days_never_twice(signed, settings):
    settings.SMS_BACKEND = "accretion.outcomes.sms.LocmemSMSBackend"
    LocmemSMSBackend.outbox = []
    t = task(signed, "2w")
    sent = []
    for day in [date(2026, 12, 6), date(2026, 12, 7), date(2026, 12, 7), date(2026, 12, 9), date(2026, 12, 10),
                date(2026, 12, 10), date(2026, 12, 14), date(2026, 12, 20), date(2026, 12, 21)]:
        with at(day):
            summary = send_due()
        sent.append(summary.tasks)
    assert sent == [0, 1, 0, 0, 1, 0, 1, 0, 0]
    assert len(mail.outbox) == 3 and len(LocmemSMSBackend.outbox) == 3
    assert "abierto hasta el 2026-12-21" in LocmemSMSBackend.outbox[0][1]  # the patient's language
    assert services.link(t) in mail.outbox[0].body
    t.refresh_from_db()
    assert t.reminders_sent == 3 and Reminder.objects.filter(task=t).count() == 6


def test_no_reminder_after_the_patient_answered_and_the_command_is_idempotent(signed, settings, capsys):
    settings.SMS_BACKEND = "accretion.outcomes.sms.LocmemSMSBackend"
    t = task(signed, "2w")
    QuestionnaireTask.objects.filter(pk=t.pk).update(completed_at=timezone.now())
    with at(date(2026, 12, 7)):
        call_command("send-reminders")
        call_command("send-reminders")
    assert "0 patients reminded" in capsys.readouterr().out and len(mail.outbox) == 0


def test_planning_schedules_the_baseline(staff, clinics, make_patient):
    patient = make_patient(clinics["north"])
    screened(patient)
    nurse = signed_in(staff[("north", "nurse")], clinics["north"])
    planned = (timezone.localdate() + timedelta(days=10)).isoformat()
    nurse.post(f"/patients/{patient.pk}/procedures/new/", {"planned_date": planned, "region": "cervical",
                                                            "targets": ["facet_joint"], "levels": "C5-C6", "kits": 1})
    baseline = QuestionnaireTask.objects.get(patient=patient)
    assert baseline.time_point == "baseline" and baseline.closes_on.isoformat() == planned
    assert baseline.instruments == ["nrs", "ndi", "baseline"]


def test_opening_the_patient_link_is_audited_with_its_address(signed):
    t = task(signed, "2w")
    with at(date(2026, 12, 10)):
        assert Client(REMOTE_ADDR="203.0.113.7").get(url(t)).status_code == 200
    row = AuditEvent.objects.get(action="view", object_type="outcomes.questionnairetask", object_id=str(t.pk))
    assert (row.user_id, row.clinic_id, row.patient_id) == (None, signed.clinic_id, signed.patient_id)
    assert row.client_address == "203.0.113.7" and row.detail == {"via": "patient_link"}


def test_only_roles_that_send_links_see_them_on_the_procedure(signed, staff, clinics):
    with at(date(2026, 12, 10)):
        link = url(task(signed, "2w"))
        for role, shown in [("front_desk", True), ("nurse", True), ("prep_tech", False), ("auditor", False),
                            ("clinic_admin", False)]:
            page = signed_in(staff[("north", role)], clinics["north"]).get(f"/procedures/{signed.pk}/")
            assert (link in page.content.decode()) is shown, role
