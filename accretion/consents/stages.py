"""The cost-estimate-and-consent section of a procedure's page."""

from accretion.consents import services
from accretion.procedures.stages import section


@section
def estimate_and_consent(procedure):
    return {
        "key": "consent",
        "title": "Cost estimate and consent",
        "template": "consents/_stage.html",
        "estimate": procedure.estimates.prefetch_related("lines").first(),
        "consents": list(procedure.consents.select_related("withdrawal", "explained_by")),
        "blockers": services.consent_blockers(procedure),
    }
