"""The follow-up questionnaires section of a procedure's page."""

from django.utils import timezone

from accretion.outcomes import services
from accretion.procedures.stages import section


@section
def questionnaires(procedure):
    today = timezone.localdate()
    tasks = list(procedure.questionnaire_tasks.all())
    return {
        "key": "questionnaires",
        "title": "Questionnaires (baseline and follow-ups)",
        "template": "outcomes/_stage.html",
        "tasks": [{"task": t, "state": t.state(today), "link": services.link(t)} for t in tasks],
    }
