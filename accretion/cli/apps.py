from django.apps import AppConfig


class CliConfig(AppConfig):
    name = "accretion.cli"
    label = "cli"
    verbose_name = "Command-line tools for the clinical core"
