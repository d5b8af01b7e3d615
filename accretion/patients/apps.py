from django.apps import AppConfig


class PatientsConfig(AppConfig):
    name = "accretion.patients"
    label = "patients"
    verbose_name = "Patients"
