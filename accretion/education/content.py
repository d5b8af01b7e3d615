"""The patient education material: its languages, versions and fingerprints.

The text lives in ``templates/education/page_<language>.html``. It is rendered
with a neutral context (only its version: no clinic, no request, no user), so
the same version always gives the same text. :func:`shown` returns what a
consent stores to prove which material the patient was shown:
``{"language", "version", "sha256"}``. The education page inserts exactly the
text that :func:`render_text` returns, so the fingerprint is that of the page.

Any change to the text, even a single character, changes its SHA-256. Such a
change needs a new version in :data:`VERSIONS` and its fingerprint recorded in
:data:`PUBLISHED_SHA256` (the tests compare them).
"""

from __future__ import annotations

import hashlib

from django.template.loader import render_to_string

from accretion.languages import DEFAULT_LANGUAGE, LANGUAGES, pick

__all__ = [
    "DEFAULT_LANGUAGE",
    "LANGUAGES",
    "PUBLISHED_SHA256",
    "VERSIONS",
    "from_accept_language",
    "language_or_default",
    "material",
    "render_text",
    "shown",
]


# The current version of the material in each language.
VERSIONS = {"en": "2026.1", "es": "2026.1"}

# SHA-256 of every published (language, version). Earlier versions stay listed,
# so a fingerprint stored with an older consent can still be matched.
PUBLISHED_SHA256 = {
    ("en", "2026.1"): "15d867b075019c0b99902365df96692b19ef543d0e23fd18161beca421bc0ff4",
    ("es", "2026.1"): "b6b88845111cc667a3d425dc4c6cf1cb2187acf7a1b2bbe8f33288e0ade5df5a",
}


def language_or_default(code) -> str:
    """``"en"`` or ``"es"`` for a language code (``"es"``, ``"ES"``, ``"es-MX"``, ``"es_MX"``); else English."""
    return pick(code)


def from_accept_language(header: str | None) -> str:
    """The supported language a browser's Accept-Language header prefers most; English if none.

    ``"es-MX,es;q=0.9,en;q=0.8"`` gives ``"es"``; ``"fr-FR,fr;q=0.9"`` gives ``"en"``.
    Of equally weighted languages the first listed wins; ``q=0`` means "not wanted".
    """
    best, best_weight = DEFAULT_LANGUAGE, 0.0
    for item in (header or "").split(","):
        tag, _, parameters = item.partition(";")
        primary = tag.strip().lower().split("-", 1)[0]
        if primary not in LANGUAGES:
            continue
        weight = 1.0
        for parameter in parameters.split(";"):
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                try:
                    weight = float(value.strip())
                except ValueError:
                    weight = 0.0
        if weight > best_weight:
            best, best_weight = primary, weight
    return best


def render_text(language: str) -> str:
    """The education text of a language (an HTML fragment), exactly as the page shows it."""
    language = language_or_default(language)
    text = render_to_string(f"education/page_{language}.html", {"version": VERSIONS[language]})
    return text.replace("\r\n", "\n")


def material(language: str) -> tuple[dict, str]:
    """``(shown(language), render_text(language))`` from a single rendering."""
    language = language_or_default(language)
    text = render_text(language)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return {"language": language, "version": VERSIONS[language], "sha256": digest}, text


def shown(language: str) -> dict:
    """What a patient is shown in `language`: ``{"language", "version", "sha256"}``.

    An unsupported language gives the English material (and says so in ``"language"``).
    """
    return material(language)[0]
