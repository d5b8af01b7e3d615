from django.apps import AppConfig


class RecallConfig(AppConfig):
    name = "accretion.recall"
    label = "recall"
    verbose_name = "Kit lot recall"
