"""Reminders under stress: runs that overlap, and delivery that fails. Nobody gets two, nothing is lost."""

import os
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone

from accretion.audit.chain import verify
from accretion.audit.models import AuditEvent
from accretion.outcomes import services
from accretion.outcomes.models import QuestionnaireTask, Reminder
from accretion.outcomes.reminders import due_tasks, remind, send_due
from accretion.outcomes.sms import LocmemSMSBackend
from accretion.procedures.models import FollowUp, Procedure

ACCRETION = Path(sys.executable).with_name("accretion")


class FailingSMSBackend:
    """An SMS gateway that is down."""

    def send(self, to: str, body: str) -> None:
        raise ConnectionError(f"gateway refused the message to {to}\nretry later")


@pytest.fixture
def opening_today(clinics, staff, make_patient):
    """Signed procedures whose 2-week questionnaire opens today (the first reminder is due), one per patient."""

    def make(count):
        north = clinics["north"]
        today = timezone.localdate()
        for number in range(count):
            patient = make_patient(north, email=f"patient{number}@example.org", phone=f"+1 555 01{number:02d} 000")
            procedure = Procedure.objects.create(
                clinic=north, patient=patient, planned_date=today - timedelta(days=7), region="lumbar",
                targets=["facet_joint"], levels=["L4-L5"], status="signed", created_by=staff[("north", "nurse")])
            FollowUp.objects.create(clinic=north, procedure=procedure, key="2w", due=today + timedelta(days=7))
            services.schedule_follow_ups(procedure)
        tasks = QuestionnaireTask.objects.filter(time_point="2w")
        assert {t.opens_on for t in tasks} == {today}
        return list(tasks)

    return make


@pytest.fixture
def locmem_sms(settings):
    settings.SMS_BACKEND = "accretion.outcomes.sms.LocmemSMSBackend"
    LocmemSMSBackend.outbox = []
    return LocmemSMSBackend.outbox


def test_a_run_holding_tasks_another_run_has_claimed_sends_nothing(opening_today, locmem_sms):
    """The race, made deterministic: run B read the due tasks, run A then reminded them, B goes on."""
    opening_today(3)
    today = timezone.localdate()
    read_by_b = list(due_tasks(today))
    assert [t.reminders_sent for t in read_by_b] == [0, 0, 0]

    assert send_due(today).tasks == 3  # run A
    assert [remind(task, today) for task in read_by_b] == [None, None, None]  # run B, with its stale rows
    assert len(mail.outbox) == 3 and len(locmem_sms) == 3
    assert Reminder.objects.count() == 6


def test_a_failed_channel_is_retried_next_run_and_the_other_is_not_sent_again(opening_today, locmem_sms, settings):
    [task] = opening_today(1)
    settings.SMS_BACKEND = f"{__name__}.FailingSMSBackend"
    with pytest.raises(CommandError) as failure:
        call_command("send-reminders")
    message = str(failure.value)
    assert "1 reminders could not be delivered" in message and "ConnectionError" in message
    assert "\n" not in message  # one line, even when the gateway's message is not
    task.refresh_from_db()
    assert task.reminders_sent == 0  # given back: the next run tries again
    assert [(r.number, r.channel) for r in Reminder.objects.all()] == [(1, "email")]
    assert len(mail.outbox) == 1

    settings.SMS_BACKEND = "accretion.outcomes.sms.LocmemSMSBackend"  # the gateway is back
    summary = send_due()
    assert (summary.emails, summary.texts, summary.failures) == (0, 1, [])
    assert len(mail.outbox) == 1 and len(locmem_sms) == 1  # the e-mail did not go out twice
    task.refresh_from_db()
    assert task.reminders_sent == 1
    assert sorted((r.number, r.channel) for r in Reminder.objects.all()) == [(1, "email"), (1, "sms")]
    assert send_due().tasks == 0  # and then nothing more today

    # One audit row per message that went out, never for the refused one.
    rows = AuditEvent.objects.filter(action="export", object_type="outcomes.questionnairetask", object_id=str(task.pk))
    assert sorted(row.detail["channel"] for row in rows) == ["email", "sms"]
    assert {row.patient_id for row in rows} == {task.patient_id}


def database_url() -> str:
    """The test database, for other processes."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.mark.django_db(transaction=True)
def test_send_reminders_run_four_times_at_once_reminds_everyone_exactly_once(opening_today):
    """Four `accretion send-reminders` processes start together against the real database."""
    tasks = opening_today(100)
    connection.close()  # the processes get the database to themselves (SQLite takes a file lock per write)
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST_"))}
    environment.update(DATABASE_URL=database_url(), SECRET_KEY=settings.SECRET_KEY, DEBUG="true",
                       EMAIL_BACKEND="django.core.mail.backends.console.EmailBackend",
                       SMS_BACKEND="accretion.outcomes.sms.ConsoleSMSBackend",
                       PORTAL_BASE_URL="https://portal.example.org")
    runs = [subprocess.Popen([str(ACCRETION), "send-reminders"], env=environment, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(4)]
    outputs = [run.communicate(timeout=240) for run in runs]
    assert [run.returncode for run in runs] == [0] * 4, [err for _, err in outputs]

    everything = "".join(out for out, _ in outputs)
    reminded = [int(re.search(r"reminders: (\d+) patients reminded", out).group(1)) for out, _ in outputs]
    assert sum(reminded) == 100, reminded
    texts = re.findall(r"^SMS to (.+?): ", everything, flags=re.MULTILINE)
    emails = re.findall(r"^To: (.+)$", everything, flags=re.MULTILINE)
    assert sorted(texts) == sorted(t.patient.phone for t in tasks)  # each phone once, none twice
    assert sorted(emails) == sorted(t.patient.email for t in tasks)
    for task in tasks[:5]:
        assert everything.count(f"https://portal.example.org{services.link(task)}") == 2  # e-mail and SMS
    assert Reminder.objects.count() == 200
    assert set(QuestionnaireTask.objects.values_list("reminders_sent", flat=True)) == {1}
    assert verify().ok  # the audit chain stayed whole with four writers
