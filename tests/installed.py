"""The installed `accretion` command, run as a separate process against its own SQLite file.

Migrating a new file takes seconds, so each test process migrates one file once (`migrated_file`) and every
test that needs an empty, migrated database copies it (`sqlite_env`).
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ACCRETION = Path(sys.executable).with_name("accretion")


def command_env(database: Path) -> dict[str, str]:
    """The environment of a command run against `database`: this one without the test runner's settings."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST_"))}
    environment.update(DATABASE_URL=f"sqlite:///{database}", DEBUG="true")
    return environment


def run(*args, env, **options):
    return subprocess.run([str(ACCRETION), *args], capture_output=True, text=True, env=env, timeout=120, check=False,
                          **options)


@pytest.fixture(scope="session")
def migrated_file(tmp_path_factory) -> Path:
    """A SQLite file the installed command has migrated (once per test process)."""
    path = tmp_path_factory.mktemp("migrated") / "migrated.sqlite3"
    result = run("migrate", "-v0", env=command_env(path))
    assert result.returncode == 0, result.stderr
    return path


def copy_of(migrated: Path, folder: Path, name: str) -> Path:
    path = folder / name
    shutil.copyfile(migrated, path)
    return path
