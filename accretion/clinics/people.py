"""How staff are named on pages: "First Last", falling back to the user name when no name is set."""


def staff_name(user, role: str | None = None) -> str:
    """``staff_name(dana) == "Dana Reyes"``; with a role code, ``"Dana Reyes (Nurse)"``.

    Empty for no user or a signed-out one (AnonymousUser has no name)."""
    if user is None or not user.is_authenticated:
        return ""
    first, last = user.first_name, user.last_name
    name = " ".join(f"{first or ''} {last or ''}".split()) or user.get_username()
    if role:
        from accretion.clinics.roles import role_label

        return f"{name} ({role_label(role)})"
    return name
