"""How staff are named on pages: "First Last", falling back to the user name when no name is set."""


def staff_name(user, role: str | None = None) -> str:
    """``staff_name(dana) == "Dana Reyes"``; with a role code, ``"Dana Reyes (Nurse)"``. Empty for no user or a signed-out one."""
    if user is None or not user.is_authenticated:  # no user, or signed out (AnonymousUser has no name)
        return ""
    first, last = getattr(user, "first_name", ""), getattr(user, "last_name", "")  # AnonymousUser has neither
    name = " ".join(f"{first or ''} {last or ''}".split()) or user.get_username()
    if role:
        from accretion.clinics.roles import role_label

        return f"{name} ({role_label(role)})"
    return name
