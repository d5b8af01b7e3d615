"""The installed `accretion` command, run as a separate process against a real database file."""

import json
import sqlite3

import pytest

from tests.installed import command_env, copy_of, run


@pytest.fixture
def env(tmp_path, migrated_file):
    """The command's environment, on a migrated database of its own (tmp_path/cli.sqlite3)."""
    return command_env(copy_of(migrated_file, tmp_path, "cli.sqlite3"))


@pytest.fixture(scope="module")
def with_north(tmp_path_factory, migrated_file):
    """A migrated database with clinic north, to be copied."""
    path = copy_of(migrated_file, tmp_path_factory.mktemp("north"), "north.sqlite3")
    assert run("clinic", "create", "north", "--name", "North", "--admin", "n@n.example",
               env=command_env(path)).returncode == 0
    return path


def test_demo_is_idempotent_and_audit_verify_catches_tampering(env, tmp_path):
    first = run("demo", env=env)
    assert first.returncode == 0 and "physician@north.demo" in first.stdout and "accretion-demo" in first.stdout
    assert "Accretion Portal: http://127.0.0.1:8000/ — demo sign-in" in first.stdout
    again = run("demo", "--address", "0.0.0.0:9000", env=env)  # what `make run HOST=0.0.0.0:9000` passes
    assert again.returncode == 0 and "0 users and 0 patients created" in again.stdout
    assert "Accretion Portal: http://127.0.0.1:9000/" in again.stdout
    bad = run("demo", "--address", "nine thousand", env=env)
    assert bad.returncode != 0 and len(bad.stderr.strip().splitlines()) == 1 and "nine thousand" in bad.stderr

    with sqlite3.connect(tmp_path / "cli.sqlite3") as db:
        assert db.execute("select count(*) from patients_patient").fetchone()[0] == 64
        assert db.execute("select count(distinct clinic_id) from patients_patient").fetchone()[0] == 2
    ok = run("audit", "verify", env=env)
    # 64 patients, 48 signed procedures of the demo registry, and 10 screenings and 10 procedures planned for
    # the week (5 per clinic), each created once
    assert ok.returncode == 0 and "132 rows verified" in ok.stdout

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


def run_input(*args, env, text):
    return run(*args, env=env, input=text)


def test_an_operator_sets_up_a_clinic_and_its_first_administrator(env, tmp_path):
    assert "no clinic yet" in run("clinic", "list", env=env).stdout
    created = run("clinic", "create", "lakeside", "--name", "Lakeside  Spine", "--phone", "+1 555 010 0300",
                  "--admin", "Director@Lakeside.example", env=env)
    assert created.returncode == 0, created.stderr
    lines = created.stdout.strip().splitlines()
    assert lines[0] == "Clinic lakeside created: Lakeside Spine. Clinic administrator: director@lakeside.example."
    password = lines[1].rsplit(": ", 1)[1]
    assert len(password) >= 16

    listed = run("clinic", "list", env=env)
    assert listed.stdout.strip() == "lakeside\tLakeside Spine\t+1 555 010 0300\t1 member"

    # The printed password signs in, as the clinic's administrator.
    check = run("shell", "-v0", "-c", (
        "from django.contrib.auth import get_user_model; from accretion.clinics.models import Membership; "
        "u = get_user_model().objects.get(username='director@lakeside.example'); "
        f"print(u.check_password('{password}'), Membership.objects.get(user=u).role)"), env=env)
    assert check.stdout.strip() == "True clinic_admin", check.stderr

    # A second clinic with the same administrator: the membership only, the password unchanged.
    again = run("clinic", "create", "hillside", "--name", "Hillside", "--admin", "director@lakeside.example",
                env=env)
    assert again.returncode == 0 and "Initial password" not in again.stdout
    with sqlite3.connect(tmp_path / "cli.sqlite3") as db:
        assert db.execute("select count(*) from auth_user").fetchone()[0] == 1
        actions = db.execute("select action, object_type from audit_auditevent order by id").fetchall()
        roles = db.execute("select detail from audit_auditevent where action = 'permission_change'").fetchall()
    assert actions == [("create", "clinics.clinic"), ("permission_change", "clinics.membership")] * 2
    assert all(json.loads(detail)["changes"] == {"role": [None, "clinic_admin"]} for (detail,) in roles)
    assert run("audit", "verify", env=env).returncode == 0


def test_a_password_from_standard_input_is_checked(env):
    weak = run_input("clinic", "create", "a", "--name", "A", "--admin", "a@a.example", "--password-stdin",
                     env=env, text="password\n")
    assert weak.returncode == 2 and weak.stderr.count("\n") == 1 and "password:" in weak.stderr
    good = run_input("clinic", "create", "a", "--name", "A", "--admin", "a@a.example", "--password-stdin",
                     env=env, text="a long and unusual passphrase 42\n")
    assert good.returncode == 0 and "Initial password" not in good.stdout


@pytest.mark.parametrize("args, message", [
    (["create", "Big Clinic", "--name", "B", "--admin", "b@b.example"], "SLUG: 'Big Clinic' is not a slug"),
    (["create", "b", "--name", "  ", "--admin", "b@b.example"], "--name: This field is required."),
    (["create", "b", "--name", "B", "--phone", "ring us", "--admin", "b@b.example"], "--phone: A phone number"),
    (["create", "b", "--name", "B", "--admin", "not-an-address"], "--admin: 'not-an-address' is not an e-mail"),
    (["create", "b", "--name", "B"], "the following arguments are required: --admin"),
    (["create", "north", "--name", "Again", "--admin", "b@b.example"], "a clinic with the slug 'north' exists"),
    (["rename"], "invalid choice: 'rename'"),
])
def test_bad_clinic_input_is_one_line_and_exit_2(tmp_path, with_north, args, message):
    env = command_env(copy_of(with_north, tmp_path, "cli.sqlite3"))
    result = run("clinic", *args, env=env)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert message in result.stderr and result.stderr.strip().count("\n") == 0 and "Traceback" not in result.stderr
    with sqlite3.connect(tmp_path / "cli.sqlite3") as db:
        assert db.execute("select count(*) from clinics_clinic").fetchone()[0] == 1


def test_fhir_export_writes_valid_ndjson_with_a_manifest(env, tmp_path):
    import json

    from fhir.resources.R4B.organization import Organization
    from fhir.resources.R4B.patient import Patient
    from fhir.resources.R4B.procedure import Procedure

    assert run("demo", env=env).returncode == 0
    out = tmp_path / "export"
    result = run("fhir-export", "--clinic", "north", str(out), env=env)
    assert result.returncode == 0, result.stderr
    assert "FHIR export of north" in result.stdout
    manifest = json.loads((out / "manifest.json").read_text())
    models = {"Organization": Organization, "Patient": Patient, "Procedure": Procedure}
    counts = {}
    for item in manifest["output"]:
        lines = (out / item["url"]).read_text(encoding="utf-8").splitlines()
        assert len(lines) == item["count"]
        for line in lines:
            models[item["type"]].model_validate_json(line)
        counts[item["type"]] = item["count"]
    assert counts == {"Organization": 1, "Patient": 32, "Procedure": 29}  # 24 signed, 5 planned for the week
    assert not list(out.glob("*.partial"))
    assert {path.stat().st_mode & 0o777 for path in out.iterdir()} == {0o600}  # patient data: the owner only
    with sqlite3.connect(tmp_path / "cli.sqlite3") as db:
        detail = db.execute("select detail from audit_auditevent where object_type = 'interop.fhir_export'").fetchone()
    assert json.loads(detail[0])["counts"] == counts
    assert run("audit", "verify", env=env).returncode == 0

    again = run("fhir-export", "--clinic", "north", str(out), env=env)
    assert again.returncode == 2 and "holds an export already" in again.stderr
    (tmp_path / "a-file").write_text("x")
    for args, message in ([["--clinic", "nowhere", str(tmp_path / "x")], "no clinic with the slug 'nowhere'"],
                          [["--clinic", "north", str(tmp_path / "a-file")], "is a file, not a folder"],
                          [[str(tmp_path / "y")], "the following arguments are required: --clinic"]):
        failed = run("fhir-export", *args, env=env)
        assert failed.returncode == 2 and message in failed.stderr and failed.stderr.count("\n") == 1, failed.stderr



def test_static_files_collect_as_in_production(settings, tmp_path):
    """docs/configuration.md's production step: the hashed storage follows every reference in CSS and JS files, so a
    vendored file naming a file that is not shipped (a source map) stops `collectstatic`. Production adds
    compression (WhiteNoise) on top of the same manifest storage; that part is left out here for speed."""
    from django.core.management import call_command

    settings.STATIC_ROOT = tmp_path / "static"
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"}}
    call_command("collectstatic", "--noinput", verbosity=0)
    manifest = json.loads((tmp_path / "static" / "staticfiles.json").read_text())
    assert any(name.startswith("vendor/signature_pad") for name in manifest["paths"])
