"""Backup and restore: the database (pg_dump/pg_restore or SQLite's online backup) and the uploaded files.

The round trips run in-process on the suite's database (both engines in CI); the command's exit codes and
one-line messages run as the installed command against SQLite files.
"""

import json
import sqlite3
import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction

from accretion.audit.chain import verify
from accretion.audit.log import Action, record
from accretion.audit.models import AuditEvent
from accretion.backup import archive
from accretion.patients.models import Patient
from accretion.procedures.models import Injection
from tests.installed import command_env, copy_of, run
from tests.test_procedure_day import day, inject, prepare, timeout  # noqa: F401 - the `day` fixture

pytestmark = pytest.mark.django_db(transaction=True)  # pg_dump sees only committed rows

PNG = b"\x89PNG\r\n\x1a\n" + b"1" * 64


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def records(request, media):
    """A procedure in progress with an injection whose image is stored."""
    procedure_day = request.getfixturevalue("day")
    assert timeout(procedure_day).status_code == 302 and prepare(procedure_day).status_code == 302
    image = SimpleUploadedFile("site.png", PNG, content_type="image/png")
    assert inject(procedure_day, image=image).status_code == 302
    return procedure_day


def counts() -> dict[str, int]:
    with connection.cursor() as cursor:
        return archive._counts(cursor, archive._tables())


def test_a_restore_brings_back_the_database_and_the_files_as_they_were(records, media, tmp_path, make_patient):
    injection = Injection.objects.get()
    stored = media / injection.image.name
    before = counts()
    folder, manifest = archive.create_backup(tmp_path / "backups", by="ops")

    assert folder.parent == tmp_path / "backups" and folder.name.startswith("accretion-")
    assert not list(folder.parent.glob(".*"))  # the partial folder became the backup
    assert manifest["tables"] == before  # the backup's own audit row came after its moment
    assert manifest["media"] == [{"path": injection.image.name, "size": len(PNG),
                                  "sha256": archive._sha256(stored)}]
    assert manifest["missing_files"] == []
    assert manifest["audit"]["rows"] == before["audit_auditevent"]
    assert AuditEvent.objects.filter(action=Action.BACKUP, object_id=folder.name, username="ops").exists()

    # Afterwards: a new patient, a lost image, a changed one elsewhere.
    make_patient(records["procedure"].clinic, family_name="Afterwards")
    stored.unlink()
    (media / "stray.txt").write_text("not in the backup")
    with pytest.raises(archive.BadBackup, match="holds data"):
        archive.restore_backup(folder, by="ops")
    assert Patient.objects.filter(family_name="Afterwards").exists()  # refused: nothing changed

    restored = archive.restore_backup(folder, by="ops", force=True)

    assert not Patient.objects.filter(family_name="Afterwards").exists()
    assert stored.read_bytes() == PNG
    assert (restored.files, restored.extra_files, restored.unapplied_migrations) == (1, 1, 0)
    after = counts()
    assert after["audit_auditevent"] == before["audit_auditevent"] + 1  # the restore's own row
    assert {k: v for k, v in after.items() if k != "audit_auditevent"} == {
        k: v for k, v in before.items() if k != "audit_auditevent"}
    last = AuditEvent.objects.order_by("-id").first()
    assert (last.action, last.object_id, last.detail["backup_created_at"]) == (
        Action.RESTORE, folder.name, manifest["created_at"])
    assert verify().ok
    # The restored database goes on: its sequences continue past the restored rows.
    patient = make_patient(records["procedure"].clinic, family_name="Next")
    assert patient.pk > max(Patient.objects.exclude(pk=patient.pk).values_list("pk", flat=True))


def test_a_backup_taken_during_writes_is_one_moment(clinics, make_patient, tmp_path, media):
    clinic = clinics["north"]
    stop = threading.Event()
    written = []

    def write():
        try:
            while not stop.is_set():
                with transaction.atomic():  # a patient and its audit row, together or not at all
                    patient = make_patient(clinic)
                    record(None, Action.CREATE, patient, clinic=clinic, username="writer")
                written.append(patient.pk)
        finally:
            connection.close()

    writer = threading.Thread(target=write)
    writer.start()
    try:
        while len(written) < 5:
            stop.wait(0.01)
        folder, manifest = archive.create_backup(tmp_path / "backups", by="ops")
        during = len(written)
        while len(written) < during + 3:  # the writer went on after the backup
            stop.wait(0.01)
    finally:
        stop.set()
        writer.join()

    # The counts the manifest took are those of the copy: restoring it verifies, chain and all.
    assert manifest["tables"]["patients_patient"] == manifest["audit"]["rows"] >= 5
    archive.restore_backup(folder, by="ops", force=True)
    assert Patient.objects.count() == manifest["tables"]["patients_patient"]
    assert verify().ok


def test_prune_keeps_the_newest_complete_backups_and_nothing_else(clinics, tmp_path, media):
    parent = tmp_path / "backups"
    start = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
    made = [archive.create_backup(parent, by="ops", now=start + timedelta(days=n))[0] for n in range(4)]
    (parent / "notes").mkdir()
    (parent / "accretion-unfinished").mkdir()
    (parent / ".accretion-20261206T020000Z.partial").mkdir()
    with pytest.raises(archive.BadBackup, match="already exists"):
        archive.create_backup(parent, by="ops", now=start)

    assert archive.prune(parent, keep=2) == made[:2]
    assert sorted(p.name for p in parent.iterdir()) == sorted(
        [made[2].name, made[3].name, "notes", "accretion-unfinished", ".accretion-20261206T020000Z.partial"])


# -- the installed command on SQLite files ---------------------------------------------------------------------


@pytest.fixture
def portal(migrated_file, tmp_path):
    """A migrated SQLite portal with one clinic, and its environment."""
    env = {**command_env(copy_of(migrated_file, tmp_path, "portal.sqlite3")), "MEDIA_ROOT": str(tmp_path / "media")}
    created = run("clinic", "create", "north", "--name", "North Spine", "--admin", "admin@north.test",
                  "--password-stdin", env=env, input="a long enough password\n")
    assert created.returncode == 0, created.stderr
    (tmp_path / "media" / "injections").mkdir(parents=True)
    (tmp_path / "media" / "injections" / "a.png").write_bytes(PNG)
    return env


def backed_up(env, tmp_path):
    result = run("backup", str(tmp_path / "backups"), env=env)
    assert result.returncode == 0, result.stderr
    return next((tmp_path / "backups").glob("accretion-*"))


def test_the_commands_round_trip_into_a_new_portal(portal, tmp_path, migrated_file):
    folder = backed_up(portal, tmp_path)
    empty = {**command_env(copy_of(migrated_file, tmp_path, "empty.sqlite3")), "MEDIA_ROOT": str(tmp_path / "new")}

    result = run("restore", str(folder), env=empty)

    assert result.returncode == 0, result.stderr
    assert "verified; audit chain intact" in result.stdout and "1 uploaded files" in result.stdout
    assert (tmp_path / "new" / "injections" / "a.png").read_bytes() == PNG
    assert run("audit", "verify", env=empty).returncode == 0
    listing = run("clinic", "list", env=empty)
    assert "north" in listing.stdout, listing.stderr
    result = run("restore", str(folder), env=empty)  # now it holds data
    assert result.returncode == 2 and "holds data" in result.stderr and result.stderr.count("\n") == 1
    # A database that does not exist yet is empty too.
    fresh = {**command_env(tmp_path / "none-yet.sqlite3"), "MEDIA_ROOT": str(tmp_path / "new2")}
    assert run("restore", str(folder), env=fresh).returncode == 0


def test_an_unusable_backup_is_refused_before_anything_changes(clinics, tmp_path, media):
    (media / "injections").mkdir(parents=True)
    (media / "injections" / "a.png").write_bytes(PNG)
    folder, manifest = archive.create_backup(tmp_path / "backups", by="ops")
    manifest_path = folder / "manifest.json"
    before = counts()

    def refused(match, where=folder):
        with pytest.raises(archive.BadBackup, match=match):
            archive.restore_backup(where, by="ops", force=True)

    refused("no such folder", tmp_path / "nowhere")
    refused("not a backup", tmp_path)
    image = folder / "media" / "injections" / "a.png"
    image.write_bytes(PNG + b"x")
    refused("damaged")
    image.unlink()
    refused("missing from the backup")
    image.write_bytes(PNG)
    future = {**manifest["migrations"], "audit": [*manifest["migrations"]["audit"], "9999_future"]}
    manifest_path.write_text(json.dumps({**manifest, "migrations": future}))
    refused("newer version")
    other = {"postgresql": "sqlite", "sqlite": "postgresql"}[connection.vendor]
    other_file = folder / archive.DATABASE_FILES[other]
    other_file.write_bytes((folder / manifest["database"]["file"]).read_bytes())
    manifest_path.write_text(json.dumps({**manifest, "engine": other, "database": {
        **manifest["database"], "file": other_file.name}}))
    refused(f"backup is of a {archive.ENGINE_NAMES[other]} database")
    manifest_path.write_text(json.dumps({**manifest, "media": [{"path": "../../x", "sha256": "0"}]}))
    refused("outside the backup")
    manifest_path.write_text("{not json")
    refused("unreadable")
    manifest_path.write_text(json.dumps({**manifest, "tables": []}))
    refused("incomplete manifest")
    manifest_path.write_text(json.dumps({**manifest, "format": 2}))
    refused("not a backup of format 1")

    assert counts() == before  # nothing was touched


def test_the_commands_answer_bad_input_in_one_line(portal, tmp_path):
    for args, message in [(("restore", str(tmp_path / "nowhere")), "no such folder"),
                          (("backup", str(tmp_path / "b"), "--keep", "0"), "--keep")]:
        result = run(*args, env=portal)
        assert result.returncode == 2, (result.stdout, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1 and message in result.stderr
    (tmp_path / "file").write_text("")
    result = run("backup", str(tmp_path / "file"), env=portal)
    assert result.returncode == 1 and result.stderr.count("\n") == 1 and "cannot" in result.stderr


def test_a_restore_that_does_not_verify_exits_1(portal, tmp_path, migrated_file):
    """A backup whose audit chain was altered (with its hash updated to match) restores, and fails verification."""
    folder = backed_up(portal, tmp_path)
    database = folder / "database.sqlite3"
    with sqlite3.connect(database) as copy:
        copy.execute("UPDATE audit_auditevent SET username = 'someone else' WHERE id = 1")
    copy.close()
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["database"]["sha256"] = archive._sha256(database)
    (folder / "manifest.json").write_text(json.dumps(manifest))
    empty = {**command_env(copy_of(migrated_file, tmp_path, "empty.sqlite3")), "MEDIA_ROOT": str(tmp_path / "new")}

    result = run("restore", str(folder), env=empty)

    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "audit chain broken at row 1" in result.stderr and "Traceback" not in result.stderr
    with sqlite3.connect(tmp_path / "empty.sqlite3") as restored:  # and no audit row claims a restore
        assert restored.execute("SELECT COUNT(*) FROM audit_auditevent WHERE action = 'restore'").fetchone() == (0,)
    restored.close()
