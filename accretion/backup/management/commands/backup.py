"""`accretion backup DIR [--keep N]`: a verified copy of the database and the uploaded files.

Writes DIR/accretion-<UTC time>/ and prints its path; with --keep, then removes all but the newest N
backups in DIR. A cron line and how to restore are in docs/operations.md.
"""

from django.core.management.base import BaseCommand, CommandError

from accretion.backup import archive
from accretion.cli.base import OneLineUsage, operator_name


def count(value: str) -> int:
    number = int(value)
    if number < 1:
        raise ValueError(value)
    return number


class Command(OneLineUsage, BaseCommand):
    help = "Back up the database and the uploaded files into a new folder under DIR."

    def add_arguments(self, parser):
        parser.add_argument("dir", metavar="DIR", help="folder that holds the backups (created when missing)")
        parser.add_argument("--keep", type=count, metavar="N",
                            help="afterwards, remove all but the newest N backups in DIR")

    def handle(self, *args, dir, keep, **options):
        try:
            folder, manifest = archive.create_backup(dir, by=operator_name())
        except archive.BadBackup as error:
            raise CommandError(str(error)) from None
        rows = sum(manifest["tables"].values())
        self.stdout.write(f"{folder}: {rows} rows in {len(manifest['tables'])} tables, "
                          f"{manifest['audit']['rows']} audit rows, {len(manifest['media'])} uploaded files")
        if manifest["missing_files"]:
            self.stderr.write(f"warning: {len(manifest['missing_files'])} file(s) that records name were not in "
                              f"MEDIA_ROOT, e.g. {manifest['missing_files'][0]}")
        if keep:
            for removed in archive.prune(dir, keep):
                self.stdout.write(f"removed {removed}")
