from django.apps import AppConfig
from django.core.management import call_command
from django.db.models.signals import post_migrate


def create_cache_table(sender, using, verbosity=1, **kwargs):
    """`migrate` also makes the database cache's table (CACHE_URL=db://, the default): one command sets up a
    database. Idempotent, and a no-op for other cache backends."""
    call_command("createcachetable", database=using, verbosity=0)


class ClinicsConfig(AppConfig):
    name = "accretion.clinics"
    label = "clinics"
    verbose_name = "Clinics and staff"

    def ready(self):
        from accretion.clinics import signals  # noqa: F401  (sign-in auditing)

        post_migrate.connect(create_cache_table, sender=self, dispatch_uid="accretion-cache-table")
