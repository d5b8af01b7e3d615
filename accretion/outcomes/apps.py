from django.apps import AppConfig


class OutcomesConfig(AppConfig):
    name = "accretion.outcomes"
    label = "outcomes"
    verbose_name = "Outcomes"

    def ready(self):
        from accretion.outcomes import stages  # noqa: F401  (procedure-page section)
