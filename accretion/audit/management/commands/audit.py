from django.core.management.base import BaseCommand, CommandError

from accretion.audit.chain import verify
from accretion.cli.base import OneLineUsage, add_subcommands


class Command(OneLineUsage, BaseCommand):
    help = "Work with the audit log. `audit verify` recomputes the hash chain."

    def add_arguments(self, parser):
        sub = add_subcommands(parser, dest="subcommand", required=True, metavar="verify")
        sub.add_parser("verify", help="Recompute the hash chain; exit 1 naming the first broken row.")

    def handle(self, *args, subcommand, **options):
        verdict = verify()
        if not verdict.ok:
            where = f"row {verdict.broken_id}" if verdict.broken_id else "end of log"
            raise CommandError(f"audit chain broken at {where}: {verdict.reason} ({verdict.checked} rows verified before it)")
        self.stdout.write(f"audit chain intact: {verdict.checked} rows verified")
