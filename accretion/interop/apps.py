from django.apps import AppConfig


class InteropConfig(AppConfig):
    name = "accretion.interop"
    label = "interop"
    verbose_name = "FHIR interoperability"
