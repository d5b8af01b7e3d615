"""A request with a method a route does not take (405) is answered in the client's own terms.

Reloading a page after a form failed, or opening a form's address from the history, sends GET to a route that only
takes POST (`require_POST`): a browser gets a page saying so with a link back to the page the form belongs to,
found from the address itself (its last segments stripped until a page that answers GET is left, else Today). The
JSON API answers its error shape, FHIR an OperationOutcome. The status stays 405 and the Allow header is kept.
"""

import json

from django.http import HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.shortcuts import render
from django.urls import Resolver404, get_script_prefix, resolve, reverse

API_PREFIX, FHIR_PREFIX = "/api/", "/fhir/"

# What a link back is called, by the URL name of the page it leads to.
PAGE_NAMES = {
    "procedures:detail": "the procedure", "patients:detail": "the patient's timeline",
    "screenings:detail": "the screening", "consents:detail": "the consent", "adverse_events:detail": "the adverse event",
    "practice:training": "staff training", "practice:equipment": "the equipment", "practice:kits": "the kit inventory",
    "members": "the clinic's staff", "clinic-settings": "the clinic settings", "home": "Today",
}


def allowed_methods(view) -> set[str] | None:
    """The methods a view takes when it is wrapped by `require_http_methods` (require_POST, require_GET, ...);
    None when it does not say (it takes any)."""
    while view is not None:
        code, cells = getattr(view, "__code__", None), getattr(view, "__closure__", None) or ()
        if code is not None:
            free = dict(zip(code.co_freevars, cells))
            if "request_method_list" in free:
                return {method.upper() for method in free["request_method_list"].cell_contents}
        view = getattr(view, "__wrapped__", None)
    return None


def _page_at(path: str):
    """The URL name of the page at `path` when it answers GET, else None."""
    try:
        match = resolve(path)
    except Resolver404:
        return None
    methods = allowed_methods(match.func)
    if methods is not None and "GET" not in methods:
        return None
    return match.view_name


def page_back(path: str, allow: str) -> tuple[str, str]:
    """(address, name) of the page a form at `path` belongs to: the address itself when it answers GET, else the
    nearest parent address that does (`/procedures/5/timeout/` -> `/procedures/5/`), else Today."""
    if "GET" in {method.strip().upper() for method in allow.split(",")}:
        name = _page_at(path)
        if name:
            return get_script_prefix() + path.lstrip("/"), PAGE_NAMES.get(name, "the page")
    parts = [part for part in path.split("/") if part]
    while parts:
        parts.pop()
        candidate = "/" + "/".join(parts) + ("/" if parts else "")
        name = _page_at(candidate)
        if name:
            return get_script_prefix() + candidate.lstrip("/"), PAGE_NAMES.get(name, "the page")
    return reverse("home"), "Today"


class MethodNotAllowedMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code != 405 or not isinstance(response, HttpResponseNotAllowed):
            return response
        allow = response.get("Allow", "")
        message = f"{request.method} is not allowed at this address; it takes {allow or 'no request'}."
        if request.path.startswith(API_PREFIX):
            answer = JsonResponse({"detail": message, "errors": []}, status=405)
        elif request.path.startswith(FHIR_PREFIX):
            from accretion.interop import fhir

            outcome = fhir.operation_outcome("not-supported", message)
            answer = HttpResponse(json.dumps(outcome), status=405, content_type=f"{fhir.MEDIA_TYPE}; charset=utf-8")
        else:
            back, name = page_back(request.path_info, allow)
            answer = render(request, "405.html", {"back": back, "back_name": name, "method": request.method,
                                                  "allow": allow}, status=405)
        answer["Allow"] = allow
        return answer
