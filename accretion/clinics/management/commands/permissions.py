from django.core.management.base import BaseCommand

from accretion.clinics.roles import permissions_markdown


class Command(BaseCommand):
    help = "Print the permission table (who may do what) as Markdown."

    def handle(self, *args, **options):
        self.stdout.write(permissions_markdown())
