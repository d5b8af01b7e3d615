"""Two-factor sign-in is required per role: a clinic that required it of everyone requires it of every role."""

from django.db import migrations, models

ALL_ROLES = ["physician", "nurse", "prep_tech", "front_desk", "clinic_admin", "auditor"]


def every_role(apps, schema_editor):
    apps.get_model("clinics", "Clinic").objects.filter(require_two_factor=True).update(two_factor_roles=ALL_ROLES)


def everyone_or_no_one(apps, schema_editor):
    Clinic = apps.get_model("clinics", "Clinic")
    Clinic.objects.exclude(two_factor_roles=[]).update(require_two_factor=True)


class Migration(migrations.Migration):
    dependencies = [("clinics", "0010_clinic_locale")]

    operations = [
        migrations.AddField(
            model_name="clinic",
            name="two_factor_roles",
            field=models.JSONField(blank=True, default=list, verbose_name="require two-factor sign-in for"),
        ),
        migrations.RunPython(every_role, everyone_or_no_one),
        migrations.RemoveField(model_name="clinic", name="require_two_factor"),
    ]
