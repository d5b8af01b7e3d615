"""Roles and the permission table: who may do what in a clinic.

This table is the single source of truth. Page views and API operations
declare the permission they need (`requires` / `api_requires` in tenancy.py);
docs/roles.md shows this table (`accretion permissions --markdown`) and a test
keeps the two identical.
"""

PHYSICIAN = "physician"
NURSE = "nurse"
PREP_TECH = "prep_tech"
FRONT_DESK = "front_desk"
CLINIC_ADMIN = "clinic_admin"
AUDITOR = "auditor"

ROLES = [
    (PHYSICIAN, "Physician"),
    (NURSE, "Nurse"),
    (PREP_TECH, "Preparation technician"),
    (FRONT_DESK, "Front desk"),
    (CLINIC_ADMIN, "Clinic administrator"),
    (AUDITOR, "Auditor"),
]
ROLE_NAMES = [code for code, _ in ROLES]

ALL_ROLES = frozenset(ROLE_NAMES)

# permission -> (what it allows, roles that hold it)
PERMISSIONS: dict[str, tuple[str, frozenset[str]]] = {
    "patient.view": ("Find patients and read their timeline", ALL_ROLES),
    "patient.edit": (
        "Register patients and edit their demographics",
        frozenset({PHYSICIAN, NURSE, FRONT_DESK, CLINIC_ADMIN}),
    ),
    "screening.record": ("Enter intakes and run the eligibility screening", frozenset({PHYSICIAN, NURSE})),
    "screening.review": ("Record the physician's review of a screening", frozenset({PHYSICIAN})),
    "procedure.plan": ("Plan a procedure (date, region, targets, levels, kits)", frozenset({PHYSICIAN, NURSE, FRONT_DESK})),
    "estimate.create": ("Build a self-pay cost estimate for a planned procedure",
                        frozenset({PHYSICIAN, NURSE, FRONT_DESK, CLINIC_ADMIN})),
    "consent.obtain": ("Take, e-mail and withdraw a patient's consent", frozenset({PHYSICIAN, NURSE})),
    "prices.manage": ("Edit the clinic's price list", frozenset({CLINIC_ADMIN})),
    "procedure.record": ("Run the time-out and record injections on procedure day", frozenset({PHYSICIAN, NURSE})),
    "preparation.record": ("Record the PRP preparation (draw, spin, counts)", frozenset({PREP_TECH, PHYSICIAN})),
    "procedure.sign": ("Sign a completed procedure record and add addenda", frozenset({PHYSICIAN})),
    "outcomes.record": ("Enter follow-up answers from a call and send questionnaire links", frozenset({PHYSICIAN, NURSE, FRONT_DESK})),
    "outcomes.view": ("See the clinic's outcome analytics and print the report",
                      frozenset({PHYSICIAN, NURSE, CLINIC_ADMIN, AUDITOR})),
    "outcomes.export": ("Export the de-identified outcome rows (CSV, one per procedure and time point)",
                        frozenset({PHYSICIAN, CLINIC_ADMIN})),
    "adverse_event.record": ("Record an adverse event", frozenset({PHYSICIAN, NURSE})),
    "adverse_event.judge": ("Judge an adverse event's relatedness to the procedure", frozenset({PHYSICIAN})),
    "practice.view": ("See staff training, equipment and kit inventory", ALL_ROLES),
    "practice.manage": ("Record training, equipment and kit lots; recall a lot", frozenset({CLINIC_ADMIN})),
    "protocol.manage": ("Set the clinic's protocols: screening thresholds, aftercare, procedure, responder thresholds",
                        frozenset({CLINIC_ADMIN})),
    "clinic.manage": ("Edit the clinic's name and phone; open the clinic's settings", frozenset({CLINIC_ADMIN})),
    "members.manage": ("Add staff to the clinic and change their roles", frozenset({CLINIC_ADMIN})),
    "audit.view": ("Read the clinic's audit log", frozenset({CLINIC_ADMIN, AUDITOR})),
}


def role_has(role: str | None, permission: str) -> bool:
    if permission not in PERMISSIONS:
        raise KeyError(f"unknown permission {permission!r}")
    return role in PERMISSIONS[permission][1]


def permissions_markdown() -> str:
    header = "| permission | allows | " + " | ".join(ROLE_NAMES) + " |"
    rule = "|---|---|" + "---|" * len(ROLE_NAMES)
    rows = [header, rule]
    for name, (allows, roles) in PERMISSIONS.items():
        marks = " | ".join("yes" if role in roles else "–" for role in ROLE_NAMES)
        rows.append(f"| `{name}` | {allows} | {marks} |")
    return "\n".join(rows)


def role_label(role: str | None) -> str:
    """The words for a role code ("prep_tech" -> "Preparation technician"); the code itself if unknown."""
    return dict(ROLES).get(role, role or "")
