from django.apps import AppConfig


class ClinicsConfig(AppConfig):
    name = "accretion.clinics"
    label = "clinics"
    verbose_name = "Clinics and staff"

    def ready(self):
        from accretion.clinics import signals  # noqa: F401  (sign-in auditing)
