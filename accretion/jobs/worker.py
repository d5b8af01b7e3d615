"""Running queued tasks: the loop of `accretion worker`, and `run_queued` for a single pass.

The claim is the library's (`DBTaskResult.get_locked` and `claim` in an exclusive transaction: SKIP LOCKED on
PostgreSQL, one writer at a time on SQLite), and so is running a task and recording its result
(`Worker.run_task`). The loop around them is ours so that it also enqueues the periodic jobs, and so that a
single pass can run inside an open transaction (tests, `worker --once`) without the connection handling the
library's loop does between tasks.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import time
from dataclasses import dataclass, field

from django.db import OperationalError, close_old_connections
from django_tasks import TaskResultStatus
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult
from django_tasks_db.utils import exclusive_transaction, is_locked_database_exception

from accretion.jobs.schedule import enqueue_due

logger = logging.getLogger(__name__)


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:64]


@dataclass
class Pass:
    ran: list[tuple[str, str]] = field(default_factory=list)  # (task path, final status)

    @property
    def failed(self) -> list[str]:
        return [path for path, status in self.ran if status == TaskResultStatus.FAILED]


class _Runner(Worker):
    def __init__(self, worker: str, done: Pass):
        super().__init__(queue_names=["*"], interval=0, batch=True, backend_name="default", startup_delay=False,
                         max_tasks=None, worker_id=worker, excluded_queue_names=[])
        self.done = done

    def run_task(self, db_task_result: DBTaskResult) -> None:
        super().run_task(db_task_result)
        self.done.ran.append((db_task_result.task_path, db_task_result.status))
        if db_task_result.status == TaskResultStatus.FAILED:
            logger.error("task %s (%s) failed: %s", db_task_result.id, db_task_result.task_path,
                         db_task_result.exception_class_path)


def _claim(worker: str) -> DBTaskResult | None:
    tasks = DBTaskResult.objects.ready().filter(backend_name="default")
    with exclusive_transaction(tasks.db):
        result = tasks.get_locked()
        if result is not None:
            result.claim(worker)
        return result


def run_queued(worker: str | None = None, *, limit: int | None = None) -> Pass:
    """Run the tasks that are ready now, one by one, until none is left (or `limit` have run)."""
    done = Pass()
    runner = _Runner(worker or worker_id(), done)
    while limit is None or len(done.ran) < limit:
        try:
            result = _claim(runner.worker_id)
        except OperationalError as error:
            if not is_locked_database_exception(error):
                raise
            break  # SQLite: another writer holds the lock; the next pass takes it
        if result is None:
            break
        runner.run_task(result)
    return done


class Loop:
    """Enqueue due periodic jobs, run what is queued, sleep; until SIGTERM or SIGINT (the task at hand is
    finished first)."""

    def __init__(self, interval: float):
        self.interval = interval
        self.running = True

    def stop(self, signum, frame):
        self.running = False

    def run(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self.stop)
        worker = worker_id()
        logger.info("worker %s started", worker)
        while self.running:
            close_old_connections()
            enqueue_due()
            while self.running and run_queued(worker, limit=1).ran:
                close_old_connections()
            slept = 0.0
            while self.running and slept < self.interval:
                time.sleep(0.2)
                slept += 0.2
        logger.info("worker %s stopped", worker)
