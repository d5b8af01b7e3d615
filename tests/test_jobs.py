"""Background work: when a periodic job is due, that it is enqueued once, and the worker that runs the queue."""

import signal
import sqlite3
import subprocess
import threading
import time
from datetime import UTC, datetime, timedelta
from datetime import time as clock
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.db import connection
from django_tasks_db.models import DBTaskResult
from hypothesis import given
from hypothesis import strategies as st

from accretion.jobs.models import PeriodicRun
from accretion.jobs.schedule import PERIODIC, Job, enqueue_due, latest_daily
from accretion.jobs.worker import run_queued
from tests.installed import ACCRETION, command_env, copy_of, run
from tests.test_outcomes_reminders_concurrency import locmem_sms, opening_today  # noqa: F401  (fixtures)

NEW_YORK = ZoneInfo("America/New_York")
DAILY = Job("daily", "accretion.jobs.tasks.prune_results", at=clock(9, 0))
HOURLY = Job("hourly", "accretion.jobs.tasks.prune_results", every=timedelta(hours=1))


def local(*args):
    return datetime(*args, tzinfo=NEW_YORK)


@pytest.mark.parametrize("now, expected", [
    (local(2026, 12, 3, 9, 0), local(2026, 12, 3, 9, 0)),  # on the minute
    (local(2026, 12, 3, 8, 59, 59), local(2026, 12, 2, 9, 0)),  # a second before: yesterday's
    (local(2026, 12, 3, 23, 59), local(2026, 12, 3, 9, 0)),
    (local(2027, 1, 1, 0, 0), local(2026, 12, 31, 9, 0)),  # over the new year
    (local(2026, 3, 8, 12, 0), local(2026, 3, 8, 9, 0)),  # the day clocks go forward (23 hours long)
    (local(2026, 11, 1, 12, 0), local(2026, 11, 1, 9, 0)),  # the day clocks go back (25 hours long)
    (datetime(2026, 12, 3, 13, 59, tzinfo=UTC), local(2026, 12, 2, 9, 0)),  # 08:59 in New York
    (datetime(2026, 12, 3, 14, 0, tzinfo=UTC), local(2026, 12, 3, 9, 0)),
])
def test_the_latest_daily_moment_is_read_on_the_local_clock(now, expected):
    moment = latest_daily(now, clock(9, 0), NEW_YORK)
    assert moment == expected and moment.astimezone(NEW_YORK).hour == 9


def test_a_daily_job_is_due_once_a_day_at_its_time():
    assert DAILY.due(None, local(2026, 12, 3, 8, 0), NEW_YORK)  # never run: due (the 09:00 of yesterday)
    assert DAILY.due(local(2026, 12, 2, 9, 0), local(2026, 12, 3, 9, 0), NEW_YORK)
    assert not DAILY.due(local(2026, 12, 3, 9, 0), local(2026, 12, 3, 17, 0), NEW_YORK)
    assert not DAILY.due(local(2026, 12, 3, 9, 0, 1), local(2026, 12, 4, 8, 59), NEW_YORK)
    # a worker down for a week runs the job once when it comes back, not seven times
    assert DAILY.due(local(2026, 11, 26, 9, 0), local(2026, 12, 3, 10, 0), NEW_YORK)
    # the spring-forward night: 09:00 comes 23 hours after the previous 09:00
    assert DAILY.due(local(2026, 3, 7, 9, 0), local(2026, 3, 8, 9, 0), NEW_YORK)


def test_an_interval_job_is_due_when_the_interval_has_passed():
    last = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
    assert HOURLY.due(None, last, NEW_YORK)
    assert not HOURLY.due(last, last + timedelta(minutes=59, seconds=59), NEW_YORK)
    assert HOURLY.due(last, last + timedelta(hours=1), NEW_YORK)


def test_an_interval_job_with_hours_waits_for_the_morning():
    daytime = Job("day", "x", every=timedelta(hours=1), hours=(clock(8, 0), clock(20, 0)))
    evening = local(2026, 12, 3, 19, 59)
    assert daytime.due(evening - timedelta(hours=1), evening, NEW_YORK)
    assert not daytime.due(evening - timedelta(hours=1), local(2026, 12, 3, 20, 0), NEW_YORK)
    assert not daytime.due(evening, local(2026, 12, 4, 7, 59), NEW_YORK)  # the night is skipped, not caught up
    assert daytime.due(evening, local(2026, 12, 4, 8, 0), NEW_YORK)
    assert [job.when() for job in (daytime, DAILY, HOURLY)] == [
        "every hour from 08:00 to 20:00", "daily at 09:00", "every hour"]


instants = st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 31),
                        timezones=st.just(UTC))


@given(last=instants, gap=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=3)),
       at=st.times(), zone=st.sampled_from([NEW_YORK, ZoneInfo("America/Los_Angeles"), ZoneInfo("Asia/Kolkata")]))
def test_a_daily_job_is_due_exactly_when_its_clock_time_came_since_it_last_ran(last, gap, at, zone):
    job = Job("x", "x", at=at)
    now = last + gap
    # the moments the local clock showed `at` within (last, now], walked day by day on the wall clock
    day, moments = (last - timedelta(days=2)).astimezone(zone).date(), []
    while day <= now.astimezone(zone).date():
        moment = datetime.combine(day, at, tzinfo=zone)
        if last < moment <= now:
            moments.append(moment)
        day += timedelta(days=1)
    assert job.due(last, now, zone) == bool(moments)
    assert not job.due(now, now, zone)  # just enqueued: not due again


@pytest.mark.django_db
def test_each_due_job_is_enqueued_once_per_period():
    at_nine = local(2026, 12, 3, 9, 0)
    assert enqueue_due(at_nine, [DAILY, HOURLY]) == ["daily", "hourly"]
    assert enqueue_due(at_nine + timedelta(minutes=30), [DAILY, HOURLY]) == []
    assert enqueue_due(at_nine + timedelta(hours=1), [DAILY, HOURLY]) == ["hourly"]
    assert enqueue_due(at_nine + timedelta(days=1), [DAILY, HOURLY]) == ["daily", "hourly"]
    assert DBTaskResult.objects.ready().count() == 5
    row = PeriodicRun.objects.get(name="daily")
    assert row.last_enqueued_at == at_nine + timedelta(days=1)
    assert DBTaskResult.objects.filter(id=row.last_task_id).exists()


@pytest.mark.django_db(transaction=True)
def test_workers_starting_together_enqueue_a_job_once():
    """Four workers ask at the same moment (threads, each with its own database connection)."""
    at_nine = local(2026, 12, 3, 9, 0)
    PeriodicRun.objects.create(name="daily", last_enqueued_at=at_nine - timedelta(days=1))
    barrier, results = threading.Barrier(4), []

    def worker():
        try:
            barrier.wait()
            results.append(enqueue_due(at_nine, [DAILY]))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [[], [], [], ["daily"]]
    assert DBTaskResult.objects.count() == 1


def test_the_schedule_names_tasks_that_exist():
    from django.utils.module_loading import import_string

    for job in PERIODIC:
        assert hasattr(import_string(job.task), "enqueue"), job.task
    assert len({job.name for job in PERIODIC}) == len(PERIODIC)


@pytest.mark.django_db
def test_the_morning_reminders_go_out_through_the_queue(opening_today, locmem_sms, settings):  # noqa: F811
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    opening_today(3)
    morning = datetime.combine(datetime.now(NEW_YORK).date(), clock(10, 0), tzinfo=NEW_YORK)
    PeriodicRun.objects.create(name="send-reminders", last_enqueued_at=morning - timedelta(hours=1))
    assert "send-reminders" in enqueue_due(morning)
    done = run_queued()
    assert ("accretion.outcomes.tasks.send_reminders", "SUCCESSFUL") in done.ran
    assert len(mail.outbox) == 3 and len(locmem_sms) == 3
    result = DBTaskResult.objects.get(task_path="accretion.outcomes.tasks.send_reminders")
    assert result.return_value == {"patients": 3, "emails": 3, "texts": 3, "failures": 0}


# --- The command ------------------------------------------------------------------------


ENQUEUE = "from accretion.jobs.tasks import prune_results; [prune_results.enqueue() for _ in range({n})]"


def test_worker_once_runs_the_queue_and_enqueues_what_is_due(tmp_path, migrated_file):
    env = command_env(copy_of(migrated_file, tmp_path, "jobs.sqlite3"))
    assert run("shell", "-c", ENQUEUE.format(n=2), env=env).returncode == 0
    first = run("worker", "--once", env=env)
    assert first.returncode == 0, first.stderr
    # the two queued, and the periodic jobs a new installation has never run (reminders only by day)
    daytime = 8 <= datetime.now(NEW_YORK).hour < 20
    jobs = ["send-reminders"] * daytime + ["outcomes-refresh-missing", "prune-task-results"]
    assert first.stdout.strip() == (f"worker: {2 + len(jobs)} tasks run, 0 failed; periodic jobs enqueued: "
                                    f"{', '.join(jobs)}")
    again = run("worker", "--once", env=env)
    assert again.stdout.strip() == "worker: 0 tasks run, 0 failed; periodic jobs enqueued: none"
    listed = run("worker", "--schedule", env=env)
    assert listed.stdout.splitlines()[0].startswith("send-reminders\tevery hour from 08:00 to 20:00 (America/New_York)\t")


@pytest.mark.parametrize("args", [["--interval", "0"], ["--interval", "soon"], ["--once", "extra"]])
def test_bad_worker_arguments_are_one_line(args, tmp_path, migrated_file):
    env = command_env(copy_of(migrated_file, tmp_path, "jobs.sqlite3"))
    result = run("worker", *args, env=env)
    assert result.returncode == 2 and result.stderr.strip().count("\n") == 0 and "Traceback" not in result.stderr


def test_the_worker_runs_until_sigterm_and_finishes_cleanly(tmp_path, migrated_file):
    database = copy_of(migrated_file, tmp_path, "jobs.sqlite3")
    env = command_env(database)
    assert run("shell", "-c", ENQUEUE.format(n=1), env=env).returncode == 0
    worker = subprocess.Popen([str(ACCRETION), "worker", "--interval", "0.2"], env=env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline, finished = time.monotonic() + 60, None
        expected = 3 + (8 <= datetime.now(NEW_YORK).hour < 20)  # the queued one and the periodic jobs
        while time.monotonic() < deadline and finished != expected:
            time.sleep(0.3)
            with sqlite3.connect(database, timeout=20) as db:
                finished = db.execute("select count(*) from django_tasks_database_dbtaskresult "
                                      "where status = 'SUCCESSFUL'").fetchone()[0]
        assert finished == expected
        worker.send_signal(signal.SIGTERM)
        _, err = worker.communicate(timeout=30)
    finally:
        worker.kill()
    assert worker.returncode == 0, err
