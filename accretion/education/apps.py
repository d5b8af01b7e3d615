from django.apps import AppConfig


class EducationConfig(AppConfig):
    name = "accretion.education"
    label = "education"
    verbose_name = "Patient education"
