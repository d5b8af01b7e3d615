from django.apps import AppConfig


class ProceduresConfig(AppConfig):
    name = "accretion.procedures"
    label = "procedures"
    verbose_name = "Procedures"
