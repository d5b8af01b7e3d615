"""Outcomes work done in the background (accretion/jobs): alerts, reminders, summary repairs."""

from django_tasks import task

from accretion.outcomes import alerts, reminders, summary


@task(priority=50)
def send_red_flag_alert(task_id: int, flags: list[str], event_id: int | None, mode: str) -> dict[str, str]:
    """The on-call alert of a submission with red flags (enqueued in the submission's transaction)."""
    return alerts.send(task_id, flags, event_id=event_id, mode=mode)


@task()
def send_reminders() -> dict[str, int]:
    """The day's questionnaire reminders; a failed delivery is retried by the next day's run (see reminders)."""
    result = reminders.send_due()
    if result.failures:  # the claims were given back: the next run retries them; the result shows FAILED
        raise reminders.DeliveryFailed(f"{len(result.failures)} reminders could not be delivered, the first: "
                                       f"{result.failures[0]}")
    return {"patients": result.tasks, "emails": result.emails, "texts": result.texts,
            "failures": len(result.failures)}


@task()
def refresh_missing_summaries() -> int:
    """Summary rows for signed procedures that have none; the number of procedures built."""
    return summary.refresh_missing()
