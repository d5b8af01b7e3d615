"""The aftercare section of a procedure's page: the handout in both languages, the PDF and the calendar file."""

from accretion.aftercare.texts import LANGUAGE_NAMES, LANGUAGES, pick_language
from accretion.procedures.stages import section


@section
def aftercare_section(procedure) -> dict:
    from accretion.aftercare.views import handout_url

    preferred = pick_language(None, procedure.patient.preferred_language)
    ordered = [preferred, *(code for code in LANGUAGES if code != preferred)]
    return {
        "key": "aftercare",
        "title": "Aftercare handout",
        "template": "aftercare/_section.html",
        "handouts": [
            {"code": code, "name": LANGUAGE_NAMES[code], "preferred": code == preferred,
             "url": handout_url("handout", procedure.pk, code)}
            for code in ordered
        ],
        "pdf_url": handout_url("pdf", procedure.pk, preferred),
        "ics_url": handout_url("ics", procedure.pk, preferred),
        "preferred_name": LANGUAGE_NAMES[preferred],
    }
