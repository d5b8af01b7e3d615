"""`accretion outcomes-refresh [--clinic SLUG]`: rebuild the outcome summary the outcomes page reads.

Run it once after installing the summary on a database that already holds
questionnaires, after changing how the summary is derived, or to repair it.
Safe while the portal runs and safe to run again (see accretion/outcomes/summary.py).
"""

import time

from django.core.management.base import BaseCommand

from accretion.cli.base import OneLineUsage, invalid
from accretion.clinics.models import Clinic
from accretion.outcomes.summary import refresh_all


class Command(OneLineUsage, BaseCommand):
    help = "Rebuild the per-procedure outcome summary (all clinics, or one with --clinic). Idempotent."

    def add_arguments(self, parser):
        parser.add_argument("--clinic", metavar="SLUG", help="only this clinic")
        parser.add_argument("--batch-size", type=int, default=2000, metavar="N",
                            help="procedures per transaction (default 2000)")

    def handle(self, *args, clinic=None, batch_size=2000, verbosity=1, **options):
        if batch_size < 1:
            raise invalid("--batch-size must be at least 1")
        chosen = None
        if clinic:
            chosen = Clinic.objects.filter(slug=clinic).first()
            if chosen is None:
                raise invalid(f"--clinic: no clinic with the slug {clinic!r}")
        started = time.perf_counter()
        log = self.stdout.write if verbosity > 1 else None
        result = refresh_all(chosen, batch_size=batch_size, log=log)
        self.stdout.write(f"outcome summary: {result['procedures']} signed procedures, {result['rows']} rows "
                          f"(only changed ones rewritten), {result['removed']} rows of unsigned procedures removed "
                          f"({time.perf_counter() - started:.1f} s)")
