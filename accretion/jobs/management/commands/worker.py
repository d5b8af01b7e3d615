"""`accretion worker`: run queued tasks and enqueue the periodic jobs (systemd service, or `make run`)."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accretion.cli.base import OneLineUsage, invalid
from accretion.jobs.schedule import PERIODIC, enqueue_due
from accretion.jobs.worker import Loop, run_queued


class Command(OneLineUsage, BaseCommand):
    help = ("Run queued background tasks and enqueue the periodic jobs when due, until stopped (SIGTERM "
            "finishes the task at hand). Several workers may run at once.")

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true",
                            help="enqueue what is due, run every queued task, print a summary and exit "
                                 "(exit 1 when a task failed)")
        parser.add_argument("--interval", type=float, default=5.0, metavar="SECONDS",
                            help="pause when the queue is empty (default 5)")
        parser.add_argument("--schedule", action="store_true", help="print the periodic jobs and exit")

    def handle(self, *args, once=False, interval=5.0, schedule=False, **options):
        if schedule:
            for job in PERIODIC:
                self.stdout.write(f"{job.name}\t{job.when()} ({settings.TIME_ZONE})\t{job.what}")
            return
        if not 0.2 <= interval <= 3600:
            raise invalid(f"--interval: {interval:g} is not between 0.2 and 3600 seconds")
        if not once:
            Loop(interval).run()
            return
        enqueued = enqueue_due()
        done = run_queued()
        self.stdout.write(f"worker: {len(done.ran)} tasks run, {len(done.failed)} failed; periodic jobs "
                          f"enqueued: {', '.join(enqueued) or 'none'}")
        if done.failed:
            raise CommandError(f"{len(done.failed)} tasks failed, the first: {done.failed[0]} "
                               f"(its error is kept in the task result)")
