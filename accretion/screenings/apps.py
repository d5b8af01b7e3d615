from django.apps import AppConfig


class ScreeningsConfig(AppConfig):
    name = "accretion.screenings"
    label = "screenings"
    verbose_name = "Screening"
