"""The sections of a procedure's page. Each capability registers a function that returns its section."""

_SECTIONS = []


def section(func):
    """Register `func(procedure) -> dict(title=..., template=..., **context)` as a procedure-page section."""
    _SECTIONS.append(func)
    return func


def for_procedure(procedure) -> list[dict]:
    return [func(procedure) for func in _SECTIONS]
