"""`accretion restore DIR [--force]`: replace the database and the uploaded files with a backup.

DIR is one backup folder (accretion-<UTC time>). Exit 2 when the backup is unusable or the database holds
data without --force (nothing changed); exit 1 when the restored data does not verify.
"""

from django.core.management.base import BaseCommand, CommandError

from accretion.backup import archive
from accretion.cli.base import BAD_INPUT, OneLineUsage, operator_name


class Command(OneLineUsage, BaseCommand):
    help = "Restore the database and the uploaded files from a backup folder, and verify them."

    def add_arguments(self, parser):
        parser.add_argument("dir", metavar="DIR", help="a backup folder written by `accretion backup`")
        parser.add_argument("--force", action="store_true", help="replace a database that holds data")

    def handle(self, *args, dir, force, **options):
        try:
            restored = archive.restore_backup(dir, by=operator_name(), force=force)
        except archive.BadBackup as error:
            raise CommandError(str(error), returncode=BAD_INPUT) from None
        except archive.RestoreFailed as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"restored {restored.backup}: {restored.rows} rows in {restored.tables} tables and "
                          f"{restored.files} uploaded files, verified; audit chain intact: "
                          f"{restored.audit_rows} rows")
        if restored.extra_files:
            self.stdout.write(f"{restored.extra_files} file(s) in MEDIA_ROOT are not in the backup; left in place")
        if restored.unapplied_migrations:
            self.stdout.write(f"the backup is from an earlier version: run `accretion migrate` "
                              f"({restored.unapplied_migrations} migrations to apply)")
