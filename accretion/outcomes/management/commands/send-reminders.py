"""`accretion send-reminders`: run from cron or a systemd timer (see docs/configuration.md); safe to run twice, or at once."""

from django.core.management.base import BaseCommand, CommandError

from accretion.cli.base import OneLineUsage
from accretion.outcomes.reminders import send_due


class Command(OneLineUsage, BaseCommand):
    help = ("Send the questionnaire reminders that are due today (e-mail and SMS). Idempotent; exits 1 when a "
            "reminder could not be delivered (it is retried on the next run).")

    def handle(self, *args, **options):
        summary = send_due()
        self.stdout.write(f"reminders: {summary.tasks} patients reminded ({summary.emails} e-mails, "
                          f"{summary.texts} text messages)")
        if summary.failures:
            raise CommandError(f"{len(summary.failures)} reminders could not be delivered and will be retried on "
                               f"the next run; the first: {summary.failures[0]}")
