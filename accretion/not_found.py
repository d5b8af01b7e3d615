"""The portal's own 404 page, with DEBUG on too.

With DEBUG on, Django answers a missing page with its technical 404 (every URL
pattern, settings hints). Staff trying the portal on a development or demo
server should see what production shows: templates/404.html. Developers still
get the technical page by asking for it: `?debug404` on the address, or signed
in as a superuser. With DEBUG off this middleware does nothing (Django already
renders the page).
"""

from django.conf import settings
from django.http import Http404
from django.urls import Resolver404, get_resolver, resolve


def wants_technical_page(request) -> bool:
    user = getattr(request, "user", None)
    return "debug404" in request.GET or bool(user is not None and user.is_authenticated and user.is_superuser)


class PortalNotFoundMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if settings.DEBUG and not wants_technical_page(request):
            try:
                resolve(request.path_info, getattr(request, "urlconf", None))
            except Resolver404 as missing:
                return self.page(request, missing)
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, Http404) and settings.DEBUG and not wants_technical_page(request):
            return self.page(request, exception)
        return None

    @staticmethod
    def page(request, exception):
        """What production answers: the URLconf's 404 handler (django.views.defaults.page_not_found)."""
        handler = get_resolver(getattr(request, "urlconf", None)).resolve_error_handler(404)
        return handler(request, exception)
