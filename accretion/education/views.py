"""Patient education: a public page per clinic, in English or Spanish, that prints cleanly.

No sign-in: the clinic sends the patient a link (``/learn/<clinic>/``). The page
reads one row (the clinic) and writes nothing.
"""

import re

from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_safe

from accretion.clinics.models import Clinic
from accretion.education import content

LANGUAGE_NAMES = {"en": "English", "es": "Español"}

# The page around the education text (the text itself is in templates/education/page_<language>.html).
LABELS = {
    "en": {
        "title": "PRP injections: a guide for patients",
        "call": "Questions? Call",
        "questions": "Questions?",
        "call_clinic": "Call",
        "languages": "Language",
        "version": "Version",
        "code": "document code",
        "not_found_title": "Page not found",
        "not_found": "There is no patient guide at this address. Please check the link your clinic gave you, or "
                     "call your clinic.",
    },
    "es": {
        "title": "Inyecciones de PRP: guía para pacientes",
        "call": "¿Preguntas? Llame al",
        "questions": "¿Preguntas?",
        "call_clinic": "Llame a",
        "languages": "Idioma",
        "version": "Versión",
        "code": "código del documento",
        "not_found_title": "Página no encontrada",
        "not_found": "No hay una guía para pacientes en esta dirección. Revise el enlace que le dio su clínica o "
                     "llame a su clínica.",
    },
}


def choose_language(request) -> str:
    """``?lang=`` if given (an unknown value means English), else the browser's Accept-Language."""
    requested = request.GET.get("lang", "").strip()
    if requested:
        return content.language_or_default(requested)
    return content.from_accept_language(request.headers.get("Accept-Language"))


@require_safe
def page(request, clinic_slug):
    language = choose_language(request)
    clinic = Clinic.objects.only("slug", "name", "phone").filter(slug=clinic_slug).first()
    if clinic is None:  # a patient's mistyped link: a patient's page in their language, not the staff one
        return render(request, "education/not_found.html", {"language": language, "labels": LABELS[language]},
                      status=404)
    shown, text = content.material(language)
    context = {
        "language": language,
        "clinic": clinic,
        "phone_link": re.sub(r"[^\d+]", "", clinic.phone),
        "labels": LABELS[language],
        "text": mark_safe(text),  # our own template's output, rendered just above
        "shown": shown,
        "choices": [
            {"code": code, "name": LANGUAGE_NAMES[code], "current": code == language} for code in content.LANGUAGES
        ],
    }
    response = render(request, "education/page.html", context)
    response["Content-Language"] = language
    patch_vary_headers(response, ["Accept-Language"])
    return response
