"""How staff are named on pages: "First Last", falling back to the user name when no name is set."""

from accretion.clinics.roles import role_label


def staff_name(user, role: str | None = None) -> str:
    """``staff_name(dana) == "Dana Reyes"``; with a role code, ``"Dana Reyes (Nurse)"``.

    Empty for no user or a signed-out one (AnonymousUser has no name)."""
    if user is None or not user.is_authenticated:
        return ""
    name = " ".join(f"{user.first_name or ''} {user.last_name or ''}".split()) or user.get_username()
    if role:
        return f"{name} ({role_label(role)})"
    return name
