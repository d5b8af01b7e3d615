from django.db import migrations, models
from django.db.models import F, OuterRef, Subquery


def copy_closing_days(apps, schema_editor):
    """Each row's questionnaire closes when its task does; a baseline row without a task, on its due day."""
    OutcomeRow = apps.get_model("outcomes", "OutcomeRow")
    QuestionnaireTask = apps.get_model("outcomes", "QuestionnaireTask")
    OutcomeRow.objects.update(closes_on=Subquery(
        QuestionnaireTask.objects.filter(procedure_id=OuterRef("procedure_id"), time_point=OuterRef("time_point"))
        .values("closes_on")[:1]))
    OutcomeRow.objects.filter(closes_on__isnull=True).update(closes_on=F("due"))


class Migration(migrations.Migration):

    dependencies = [
        ("outcomes", "0002_outcomerow"),
    ]

    operations = [
        migrations.AddField(model_name="outcomerow", name="closes_on", field=models.DateField(null=True)),
        migrations.RunPython(copy_closing_days, migrations.RunPython.noop),
        migrations.AlterField(model_name="outcomerow", name="closes_on", field=models.DateField()),
    ]
