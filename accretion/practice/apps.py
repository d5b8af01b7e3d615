from django.apps import AppConfig


class PracticeConfig(AppConfig):
    name = "accretion.practice"
    label = "practice"
    verbose_name = "Practice operations"
