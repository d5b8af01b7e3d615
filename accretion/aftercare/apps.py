from django.apps import AppConfig


class AftercareConfig(AppConfig):
    name = "accretion.aftercare"
    label = "aftercare"
    verbose_name = "Aftercare handout"

    def ready(self):
        from accretion.aftercare import stages  # noqa: F401
