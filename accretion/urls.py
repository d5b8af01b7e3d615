from django.db import connection
from django.http import JsonResponse
from django.urls import include, path

from accretion.api import api
from accretion.audit.views import audit_log
from accretion.clinics.dashboard import dashboard


def health(request):
    """For load balancers and monitors: the process answers and the database is reachable."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:  # noqa: BLE001 - any failure means unhealthy
        return JsonResponse({"status": "error", "database": "unreachable"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})


urlpatterns = [
    path("", dashboard, name="home"),
    path("", include("accretion.clinics.urls")),
    path("patients/", include("accretion.patients.urls")),
    path("", include("accretion.screenings.urls")),
    path("", include("accretion.procedures.urls")),
    path("", include("accretion.consents.urls")),
    path("", include("accretion.aftercare.urls")),
    path("", include("accretion.practice.urls")),
    path("", include("accretion.recall.urls")),
    path("", include("accretion.outcomes.urls")),
    path("", include("accretion.outcomes.analytics_urls")),
    path("", include("accretion.adverse_events.urls")),
    path("", include("accretion.kiosk.urls")),
    path("learn/", include("accretion.education.urls")),
    path("audit/", audit_log, name="audit"),
    path("api/v1/", api.urls),
    path("fhir/r4/", include("accretion.interop.urls")),
    path("health/", health, name="health"),
]
