"""The periodic jobs, in one place: what runs, how often, and the rule that says when a job is due.

`accretion worker` calls `enqueue_due()` between tasks. Each job's row in `PeriodicRun` is compared and set in
the transaction that enqueues the job, so with several workers (or a worker restarted mid-minute) a job is
enqueued once per period. A job missed while no worker ran is enqueued once when one starts, not once per
missed period.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from accretion.jobs.models import PeriodicRun

DAY = timedelta(days=1)


@dataclass(frozen=True)
class Job:
    name: str
    task: str  # import path of a django-tasks task taking no arguments
    every: timedelta = DAY
    at: time | None = None  # daily jobs: the local time of day (settings.TIME_ZONE) they run at
    hours: tuple[time, time] | None = None  # interval jobs: only from the first to before the second local time
    what: str = ""

    def due(self, last: datetime | None, now: datetime, zone: ZoneInfo) -> bool:
        """Whether the job is due at `now`, last enqueued at `last` (None: never)."""
        if self.at is not None:
            return last is None or last < latest_daily(now, self.at, zone)
        if self.hours is not None and not self.hours[0] <= now.astimezone(zone).time() < self.hours[1]:
            return False
        return last is None or now >= last + self.every

    def when(self) -> str:
        if self.at is not None:
            return f"daily at {self.at:%H:%M}"
        hours = f" from {self.hours[0]:%H:%M} to {self.hours[1]:%H:%M}" if self.hours else ""
        return f"every {_words(self.every)}{hours}"


def _words(interval: timedelta) -> str:
    minutes = int(interval.total_seconds() // 60)
    if minutes % 1440 == 0:
        return "day" if minutes == 1440 else f"{minutes // 1440} days"
    if minutes % 60 == 0:
        return "hour" if minutes == 60 else f"{minutes // 60} hours"
    return f"{minutes} minutes"


def latest_daily(now: datetime, at: time, zone: ZoneInfo) -> datetime:
    """The latest moment, at or before `now`, when the local clock of `zone` showed `at`."""
    local = now.astimezone(zone)
    moment = datetime.combine(local.date(), at, tzinfo=zone)
    if moment > now:
        moment = datetime.combine(local.date() - DAY, at, tzinfo=zone)
    return moment


PERIODIC = [
    # Hourly, so that a message the mail server or SMS gateway refused is retried within the hour; never at
    # night, since a reminder is a text message on the patient's phone. Each step is sent once (see reminders).
    Job("send-reminders", "accretion.outcomes.tasks.send_reminders", every=timedelta(hours=1),
        hours=(time(8, 0), time(20, 0)), what="questionnaire reminders due today, by e-mail and text message"),
    Job("outcomes-refresh-missing", "accretion.outcomes.tasks.refresh_missing_summaries", at=time(4, 0),
        what="outcome summary rows for signed procedures that have none (a repair; normally there are none)"),
    Job("prune-task-results", "accretion.jobs.tasks.prune_results", at=time(4, 30),
        what="finished task results older than TASK_RESULTS_DAYS are deleted"),
]


def enqueue_due(now: datetime | None = None, jobs: list[Job] | None = None) -> list[str]:
    """Enqueue every job that is due; the names of those this call enqueued."""
    now = now or timezone.now()
    zone = ZoneInfo(settings.TIME_ZONE)
    enqueued = []
    for job in PERIODIC if jobs is None else jobs:
        with transaction.atomic():
            row, _ = PeriodicRun.objects.get_or_create(name=job.name)  # Django retries a racing create
            if not job.due(row.last_enqueued_at, now, zone):
                continue
            unchanged = ({"last_enqueued_at": row.last_enqueued_at} if row.last_enqueued_at
                         else {"last_enqueued_at__isnull": True})
            if not PeriodicRun.objects.filter(name=job.name, **unchanged).update(last_enqueued_at=now):
                continue  # another worker enqueued it a moment ago
            result = import_string(job.task).enqueue()
            PeriodicRun.objects.filter(name=job.name).update(last_task_id=str(result.id))
            enqueued.append(job.name)
    return enqueued

