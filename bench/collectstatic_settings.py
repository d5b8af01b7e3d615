"""The portal's settings for `collectstatic` in bench/bench_service.py, where one file is missing.

`accretion/static/vendor/signature_pad-5.1.4/signature_pad.umd.min.js` ends with a `sourceMappingURL` comment
naming a source map that is not vendored, so the production storage (hashed, compressed names) refuses to
collect. Only collecting uses this module: it leaves source map comments as they are. The manifest it writes
is the one the portal's own storage reads, so gunicorn serves with `accretion.settings` unchanged.
"""

from django.contrib.staticfiles.storage import ManifestStaticFilesStorage
from whitenoise.storage import CompressedManifestStaticFilesStorage

from accretion.settings import *  # the portal's settings, one storage changed
from accretion.settings import STORAGES


class Storage(CompressedManifestStaticFilesStorage):
    patterns = tuple((files, tuple(p for p in found if "sourceMappingURL" not in str(p)))
                     for files, found in ManifestStaticFilesStorage.patterns)


STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "bench.collectstatic_settings.Storage"}}
