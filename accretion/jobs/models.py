from django.db import models


class PeriodicRun(models.Model):
    """When a periodic job was last enqueued: the row every worker compares and sets, so one enqueues it."""

    name = models.CharField(max_length=60, primary_key=True)
    last_enqueued_at = models.DateTimeField(null=True)
    last_task_id = models.CharField(max_length=64, blank=True)

    def __str__(self):
        return f"{self.name} (last {self.last_enqueued_at})"
