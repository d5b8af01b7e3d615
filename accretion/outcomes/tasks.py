"""Outcomes work done in the background (accretion/jobs): reminders and summary repairs. (The red-flag alert's
task lives beside the alert, in alerts.py.)"""

from django_tasks import task

from accretion.outcomes import reminders, summary


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
