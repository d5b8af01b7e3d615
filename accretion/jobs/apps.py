from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "accretion.jobs"
    label = "jobs"
    verbose_name = "Background jobs"
