"""The languages patient-facing text is written in, and how a page picks one."""

LANGUAGES = ("en", "es")
DEFAULT_LANGUAGE = "en"
LANGUAGE_NAMES = {"en": "English", "es": "Español"}


def normalize(code) -> str | None:
    """The supported language of a code (``"es"``, ``"ES"``, ``"es-MX"``, ``"es_MX"``), or None."""
    if not isinstance(code, str):
        return None
    primary = code.strip().lower().replace("_", "-").split("-", 1)[0]
    return primary if primary in LANGUAGES else None


def pick(*candidates) -> str:
    """The first candidate that names a supported language (e.g. ``?lang=``, then the patient's); else English."""
    for candidate in candidates:
        language = normalize(candidate)
        if language:
            return language
    return DEFAULT_LANGUAGE
