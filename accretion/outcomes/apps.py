from django.apps import AppConfig
from django.db.models.signals import post_migrate


def build_missing_summary(sender, using="default", verbosity=1, **kwargs):
    """After `migrate`: signed procedures without outcome rows get them (a database from before the summary)."""
    from accretion.outcomes.summary import refresh_missing

    built = refresh_missing()
    if built and verbosity:
        print(f"outcome summary: built the rows of {built} signed procedures that had none")


class OutcomesConfig(AppConfig):
    name = "accretion.outcomes"
    label = "outcomes"
    verbose_name = "Outcomes"

    def ready(self):
        from accretion.outcomes import stages  # noqa: F401  (procedure-page section)
        from accretion.outcomes.services import follow_screening
        from accretion.screenings.signals import screening_settled

        post_migrate.connect(build_missing_summary, sender=self, dispatch_uid="outcomes.build_missing_summary")
        screening_settled.connect(follow_screening, dispatch_uid="outcomes.follow_screening")
