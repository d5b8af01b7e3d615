from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "accretion.audit"
    label = "audit"
    verbose_name = "Audit log"
