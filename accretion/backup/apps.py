from django.apps import AppConfig


class BackupConfig(AppConfig):
    name = "accretion.backup"
    label = "backup"
    verbose_name = "Backup and restore"
