"""`accretion outcomes-refresh [--clinic SLUG]`: rebuild the outcome summary the outcomes page reads.

Run it once after installing the summary on a database that already holds
questionnaires, after changing how the summary is derived, or to repair it.
Safe while the portal runs and safe to run again (see accretion/outcomes/summary.py). Audited: one row
per clinic rebuilt, with the counts.
"""

import time

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand
from django.db import transaction

from accretion.audit.log import Action, record
from accretion.cli.base import OneLineUsage, invalid, operator_name
from accretion.clinics.models import Clinic, slug_validator
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
            try:
                slug_validator(clinic)  # also keeps NUL and other impossible characters away from the database
                chosen = Clinic.objects.get(slug=clinic)
            except (ValidationError, Clinic.DoesNotExist):
                raise invalid(f"--clinic: no clinic with the slug {clinic[:60]!r}") from None
        started = time.perf_counter()
        log = self.stdout.write if verbosity > 1 else None
        result = refresh_all(chosen, batch_size=batch_size, log=log)
        operator = operator_name()
        with transaction.atomic():  # one row for each clinic whose summary was rebuilt
            for each in [chosen] if chosen else Clinic.objects.order_by("pk"):
                record(None, Action.UPDATE, object_type="outcomes.outcomerow", clinic=each, username=operator,
                       source="command", scope=each.slug if chosen else "all clinics", **result)
        self.stdout.write(f"outcome summary: {result['procedures']} signed procedures, {result['rows']} rows "
                          f"(only changed ones rewritten), {result['removed']} rows of unsigned procedures removed "
                          f"({time.perf_counter() - started:.1f} s)")
