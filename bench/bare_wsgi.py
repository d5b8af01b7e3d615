"""The portal's WSGI application with one bare Django JSON view beside it, for bench/bench_service.py.

`/bare/` answers a minimal `JsonResponse` through the same Django handler and middleware as the portal
(sessions, CSRF, authentication, the clinic middleware...), routed by this module's own URL configuration;
every other path is the portal's `accretion.wsgi.application`, unchanged. Served by the same gunicorn
processes, the two show what the portal's own work costs over Django's floor. The view is never part of
the portal's URLs.

Run: .venv/bin/gunicorn bench.bare_wsgi --pythonpath .   (bench/bench_service.py starts it)
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "accretion.settings")

from django.core.handlers.wsgi import WSGIHandler
from django.http import JsonResponse
from django.urls import path

from accretion.wsgi import application as portal


def bare(request):
    return JsonResponse({"status": "ok"})


urlpatterns = [path("bare/", bare)]


class _BareHandler(WSGIHandler):
    def get_response(self, request):
        request.urlconf = __name__  # this module's one URL, not the portal's
        return super().get_response(request)


_bare = _BareHandler()


def application(environ, start_response):
    handler = _bare if environ.get("PATH_INFO") == "/bare/" else portal
    return handler(environ, start_response)
