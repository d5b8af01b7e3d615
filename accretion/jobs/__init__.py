"""Background work: the task queue (django-tasks with its database backend), the periodic jobs, the worker.

Work that need not hold up a request (alerts, reminders, repairs, later exports and digests) is a task:
a function decorated with `django_tasks.task` in its own app's `tasks.py`, enqueued as a row in the same
database, in the same transaction as the change that asks for it, so a rolled-back change asks for nothing and
a committed one is never forgotten. `accretion worker` runs the queued tasks and enqueues the periodic jobs
listed in `schedule.PERIODIC`, the one place where periodic work is scheduled.
"""
