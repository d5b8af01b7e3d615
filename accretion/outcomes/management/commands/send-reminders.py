"""`accretion send-reminders`: run from cron or a systemd timer (see README); safe to run twice."""

from django.core.management.base import BaseCommand

from accretion.cli.base import OneLineUsage
from accretion.outcomes.reminders import send_due


class Command(OneLineUsage, BaseCommand):
    help = "Send the questionnaire reminders that are due today (e-mail and SMS). Idempotent."

    def handle(self, *args, **options):
        summary = send_due()
        self.stdout.write(f"reminders: {summary.tasks} patients reminded ({summary.emails} e-mails, {summary.texts} text messages)")
