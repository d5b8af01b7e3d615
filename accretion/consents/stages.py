"""The cost-estimate-and-consent section of a procedure's page."""

from accretion.consents import services
from accretion.procedures.stages import section


@section
def estimate_and_consent(procedure):
    signed = services.active_consent(procedure) is not None
    return {
        "key": "consent",
        "title": "Cost estimate and consent",
        "template": "consents/_stage.html",
        "estimate": procedure.estimates.prefetch_related("lines").first(),
        "consents": list(procedure.consents.select_related("withdrawal", "explained_by")),
        # Once a consent is signed there is nothing to take: it is shown, not listed as a blocker.
        "blockers": [] if signed else services.consent_blockers(procedure),
        "can_take": not signed,
    }
