"""The installed `accretion` command, run as a separate process against a real database file."""

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

ACCRETION = Path(sys.executable).with_name("accretion")


def run(*args, env):
    return subprocess.run([str(ACCRETION), *args], capture_output=True, text=True, env=env, timeout=120)


@pytest.fixture
def env(tmp_path):
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST_"))}
    environment.update(DATABASE_URL=f"sqlite:///{tmp_path / 'cli.sqlite3'}", DEBUG="true")
    return environment


def test_demo_is_idempotent_and_audit_verify_catches_tampering(env, tmp_path):
    assert run("migrate", "-v0", env=env).returncode == 0
    first = run("demo", env=env)
    assert first.returncode == 0 and "physician@north.demo" in first.stdout and "accretion-demo" in first.stdout
    again = run("demo", env=env)
    assert again.returncode == 0 and "0 users and 0 patients created" in again.stdout

    with sqlite3.connect(tmp_path / "cli.sqlite3") as db:
        assert db.execute("select count(*) from patients_patient").fetchone()[0] == 60
        assert db.execute("select count(distinct clinic_id) from patients_patient").fetchone()[0] == 2
    ok = run("audit", "verify", env=env)
    # 60 patients, and 6 screenings and 6 procedures planned for today (3 per clinic), each created once
    assert ok.returncode == 0 and "72 rows verified" in ok.stdout

    with sqlite3.connect(tmp_path / "cli.sqlite3") as db:
        db.execute("update audit_auditevent set object_id = '999' where id = 17")
    broken = run("audit", "verify", env=env)
    assert broken.returncode == 1
    assert broken.stderr.strip().count("\n") == 0 and "row 17" in broken.stderr


def test_unreachable_database_is_one_line_not_a_traceback(env):
    env["DATABASE_URL"] = "postgres://nobody@127.0.0.1:1/none"
    result = run("audit", "verify", env=env)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and result.stderr.strip().count("\n") == 0


def test_production_without_secret_key_is_one_line(env):
    env.update(DEBUG="false")
    env.pop("SECRET_KEY", None)
    result = run("check", env=env)
    assert result.returncode == 1 and "SECRET_KEY must be set" in result.stderr and "Traceback" not in result.stderr


def test_usage_errors_are_one_line(env):
    for args in (["audit"], ["audit", "repair"]):
        result = run(*args, env=env)
        assert result.returncode == 2 and result.stderr.strip().count("\n") == 0, result.stderr


def test_permissions_table(env):
    result = run("permissions", env=env)
    assert result.returncode == 0 and "| `patient.view` |" in result.stdout
