"""The clinical core and its tests need no Django. The test command (scripts/test.sh) runs `tests/clinical` in a
pytest process where Django cannot be imported (tests/without_django.py), without pytest-django and without the
suite's conftest; this checks that the guard really refuses Django there."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def pytest_without_django(*args, cwd=ROOT):
    env = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "--noconftest", "-p", "tests.without_django",
                           "-p", "_hypothesis_pytestplugin", "-W", "ignore::pytest.PytestConfigWarning", *args],
                          capture_output=True, text=True, cwd=cwd, env=env, timeout=600, check=False)


def test_a_test_that_needs_django_fails_there(tmp_path):
    """The guard itself: were a clinical test (or the module it tests) to import Django, it would fail."""
    (tmp_path / "test_uses_django.py").write_text("def test_it():\n    import django.utils.timezone\n")
    result = pytest_without_django(str(tmp_path / "test_uses_django.py"), "-p", "no:cacheprovider")
    assert result.returncode == 1 and "Django is kept out of the clinical core" in result.stdout, result.stdout
