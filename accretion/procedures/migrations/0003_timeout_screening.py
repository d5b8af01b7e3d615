import django.db.models.deletion
from django.db import migrations, models


def link_screenings(apps, schema_editor):
    """Existing time-outs: the patient's newest decided screening decided by the time-out (what the gate read)."""
    TimeOut = apps.get_model("procedures", "TimeOut")
    Screening = apps.get_model("screenings", "Screening")
    for timeout in TimeOut.objects.select_related("procedure").iterator(chunk_size=2000):
        screening = (Screening.objects.filter(patient_id=timeout.procedure.patient_id,
                                              decided_at__lte=timeout.performed_at)
                     .exclude(status="draft").order_by("-decided_at", "-id").values_list("id", flat=True).first())
        if screening:
            TimeOut.objects.filter(pk=timeout.pk).update(screening_id=screening)


class Migration(migrations.Migration):

    dependencies = [
        ("procedures", "0002_procedure_aftercare_plan_procedure_billing_code_and_more"),
        ("screenings", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="timeout",
            name="screening",
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT,
                                    related_name="+", to="screenings.screening"),
        ),
        migrations.RunPython(link_screenings, migrations.RunPython.noop),
    ]
