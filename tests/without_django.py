"""A pytest plugin that makes Django unimportable: `tests/clinical` must pass with it (the clinical core is pure).

Loaded by tests/test_clinical_core_alone.py in a separate pytest process, with plugin autoloading off (so
pytest-django does not load) and without the suite's conftest (which sets up Django).
"""

import sys
from importlib.abc import MetaPathFinder


class NoDjango(MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "django" or name.startswith(("django.", "django_")):
            raise ModuleNotFoundError(f"No module named {name!r} (Django is kept out of the clinical core's tests)")


for module in [name for name in sys.modules if name == "django" or name.startswith(("django.", "django_"))]:
    del sys.modules[module]
sys.meta_path.insert(0, NoDjango())
