"""Housekeeping of the queue itself."""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django_tasks import task
from django_tasks_db.models import DBTaskResult


@task()
def prune_results() -> int:
    """Delete finished task results older than TASK_RESULTS_DAYS; the number deleted. Failed ones are kept as
    long as successful ones: both are history an operator may want to read."""
    cutoff = timezone.now() - timedelta(days=settings.TASK_RESULTS_DAYS)
    deleted, _ = DBTaskResult.objects.finished().filter(finished_at__lt=cutoff).delete()
    return deleted
