"""Patient mode: a signed-in browser handed to a patient for exactly one task.

The state lives in the session (`STATE`): which task (one procedure's consent, or one questionnaire), for
which staff member, in which language, and whether the patient has finished. While it is set, this
middleware lets through only the patient screen (`/patient-mode/...`) and static files; every other page
answers with the patient screen again (a GET is redirected to it), a POST is refused with a 403 page in the
patient's style, and the JSON API (and FHIR) refuse the session (a request with its own bearer token is not
this session and goes on). So no staff route can be forgotten: a new one is closed in patient mode too.
"""

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import redirect, render

STATE = "patient_mode"
PATIENT_PATHS = {"/patient-mode/", "/patient-mode/return/"}
API_PREFIXES = ("/api/", "/fhir/")


def state_of(request) -> dict | None:
    return getattr(request, "patient_mode", None)


class PatientModeMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.patient_mode = None
        session = getattr(request, "session", None)
        state = session.get(STATE) if session is not None else None
        if state is None:
            return self.get_response(request)
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or state.get("user") != user.pk:
            session.pop(STATE, None)  # another account, or signed out: the hand-over is over
            return self.get_response(request)
        request.patient_mode = state
        path = request.path_info
        if path.startswith("/" + settings.STATIC_URL.lstrip("/")):
            return self.get_response(request)
        if path in PATIENT_PATHS:
            response = self.get_response(request)
            still = STATE in request.session  # not after leaving, nor after a lockout signed the session out
            if still and response.status_code >= 400 and not _patient_page(response):
                # An error page of the staff layout (an expired form, say): the patient's own instead.
                return _refused(request, state)
            return response
        page = request.method in ("GET", "HEAD")
        if path.startswith(API_PREFIXES):
            if request.headers.get("Authorization"):  # a bearer token speaks for itself, not for this session
                return self.get_response(request)
            if page and "text/html" in request.headers.get("Accept", ""):  # the API docs opened in the browser
                return redirect("patient-mode:screen")
            message = "This browser is in patient mode: the signed-in session cannot use the API."
            return JsonResponse({"detail": message, "errors": []}, status=403)
        if page:
            return redirect("patient-mode:screen")
        return _refused(request, state)


def _patient_page(response) -> bool:
    return not getattr(response, "streaming", False) and b"data-patient-mode" in response.content


def _refused(request, state):
    return render(request, "kiosk/refused.html", {"language": state.get("language", "en")}, status=403)
