from django.apps import AppConfig


class ConsentsConfig(AppConfig):
    name = "accretion.consents"
    label = "consents"
    verbose_name = "Consent and cost estimate"

    def ready(self):
        from accretion.consents import stages  # noqa: F401  (procedure-page section)
