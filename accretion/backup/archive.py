"""Backup and restore of the database and the uploaded files.

A backup is one folder, named by its time in UTC:

    accretion-20261203T180000Z/
        manifest.json      what the folder holds and how to check it (written last)
        database.dump      PostgreSQL: pg_dump's custom format, or
        database.sqlite3   SQLite: a copy by SQLite's online backup API
        media/…            the uploaded files (injection images) as MEDIA_ROOT holds them

It is written under a hidden `.accretion-….partial` name and renamed when complete, so a folder with the
final name is a whole backup. The database copy is one consistent moment: on PostgreSQL the row counts, the
audit-chain head and the list of stored file names are read in the same exported snapshot that pg_dump
dumps; on SQLite they are read from the copy itself. Uploaded files are copied after that moment, so every
file a record of the copy names is there unless it was removed in the meantime (the manifest lists any
such file, and the command warns).

A restore checks the folder before it changes anything (manifest, the database file's hash, every file's
hash, migrations this code knows), refuses a database that holds data unless forced, restores, and then
verifies the result: the audit chain recomputed, its head and the row count of every table equal to the
manifest's, every uploaded file in place with its hash. Only then does it write its audit row.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.db import connection, models, transaction
from django.db.migrations.loader import MigrationLoader
from django.utils import timezone

from accretion.audit.chain import GENESIS, verify
from accretion.audit.log import Action, record
from accretion.audit.models import ChainHead

FORMAT = 1
PREFIX = "accretion-"
STAMP = "%Y%m%dT%H%M%SZ"
MANIFEST = "manifest.json"
DATABASE_FILES = {"postgresql": "database.dump", "sqlite": "database.sqlite3"}
ENGINE_NAMES = {"postgresql": "PostgreSQL", "sqlite": "SQLite"}
MEDIA = "media"
# Tables `migrate` fills by itself: a database with rows only in these is empty.
SETUP_TABLES = frozenset({"auth_permission", "django_content_type", "django_migrations"})
CHUNK = 1 << 20


class BadBackup(Exception):
    """The backup cannot be made or used here; nothing was changed."""


class RestoreFailed(Exception):
    """The restore ran, but the database or the files do not match the backup."""


@dataclass(frozen=True)
class Snapshot:
    """What the database held at the moment of the backup."""

    tables: dict[str, int]
    audit_rows: int
    audit_last_hash: str
    migrations: dict[str, list[str]]
    files: frozenset[str]


@dataclass
class Restored:
    backup: Path
    tables: int
    rows: int
    audit_rows: int
    files: int
    unapplied_migrations: int
    extra_files: int = 0
    notes: list[str] = field(default_factory=list)


# -- reading the database ------------------------------------------------------------------------------------


def engine() -> str:
    if connection.vendor not in DATABASE_FILES:
        raise BadBackup(f"backups support PostgreSQL and SQLite, not {connection.vendor}")
    return connection.vendor


def _tables() -> list[str]:
    """The portal's tables in this database, with Django's record of migrations."""
    tables = set(connection.introspection.django_table_names(only_existing=True, include_views=False))
    if "django_migrations" in connection.introspection.table_names():
        tables.add("django_migrations")
    return sorted(tables)


def _file_columns() -> list[tuple[str, str]]:
    return sorted({(model._meta.db_table, column.column) for model in apps.get_models()
                   for column in model._meta.concrete_fields if isinstance(column, models.FileField)})


def _counts(cursor, tables: list[str]) -> dict[str, int]:
    counts = {}
    for table in tables:
        cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")
        counts[table] = cursor.fetchone()[0]
    return counts


def _read(cursor, tables: list[str]) -> Snapshot:
    """Counts, chain head, applied migrations and stored file names, through any DB-API cursor."""
    quote = connection.ops.quote_name
    counts = _counts(cursor, tables)
    cursor.execute(f"SELECT last_hash, {quote('count')} FROM {quote(ChainHead._meta.db_table)} WHERE id = 1")
    head = cursor.fetchone()
    cursor.execute("SELECT app, name FROM django_migrations ORDER BY app, name")
    migrations: dict[str, list[str]] = {}
    for app, name in cursor.fetchall():
        migrations.setdefault(app, []).append(name)
    files = set()
    for table, column in _file_columns():
        cursor.execute(f"SELECT {quote(column)} FROM {quote(table)} WHERE {quote(column)} <> ''")
        files.update(name for (name,) in cursor.fetchall())
    return Snapshot(counts, head[1] if head else 0, head[0] if head else GENESIS, migrations, frozenset(files))


def holds_data() -> dict[str, int]:
    """The tables of this database with rows, other than those `migrate` fills."""
    with connection.cursor() as cursor:
        counts = _counts(cursor, [table for table in _tables() if table not in SETUP_TABLES])
    return {table: count for table, count in counts.items() if count}


# -- external programs ---------------------------------------------------------------------------------------


def _postgresql_command(program: str, options: list[str], *, dbname_option: bool = False) -> tuple[list, dict]:
    """`program` with the connection settings of the default database, as Django's `dbshell` builds them."""
    from django.db.backends.postgresql.client import DatabaseClient

    settings_dict = connection.settings_dict
    has_dbname = bool(settings_dict.get("NAME")) or not settings_dict["OPTIONS"].get("service")
    parameters = [*options, "--dbname"] if dbname_option and has_dbname else options
    args, env = DatabaseClient.settings_to_cmd_args_env(settings_dict, parameters)
    return [program, *args[1:]], {**os.environ, **(env or {})}


def _run(args: list, env: dict) -> None:
    try:
        result = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise BadBackup(f"{args[0]} is not installed (Debian: apt-get install postgresql-client)") from None
    if result.returncode:
        message = " ".join(result.stderr.split()) or f"exit status {result.returncode}"
        raise BadBackup(f"{args[0]} failed: {message}")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


# -- backup --------------------------------------------------------------------------------------------------


def _dump_postgresql(target: Path) -> Snapshot:
    tables = _tables()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute("SELECT pg_export_snapshot()")
        snapshot_id = cursor.fetchone()[0]
        snapshot = _read(cursor, tables)
        # The snapshot lives as long as this transaction: pg_dump must finish inside it.
        _run(*_postgresql_command("pg_dump", ["--format=custom", f"--snapshot={snapshot_id}", f"--file={target}"]))
    return snapshot


def _copy_sqlite(target: Path) -> Snapshot:
    tables = _tables()
    connection.ensure_connection()
    copy = sqlite3.connect(target)
    try:
        connection.connection.backup(copy)  # one step: a read lock for the whole copy, so it is one moment
        return _read(copy.cursor(), tables)
    finally:
        copy.close()


def _copy_hashing(source: Path, target: Path) -> str:
    digest = hashlib.sha256()
    with source.open("rb") as reader, target.open("wb") as writer:
        while chunk := reader.read(CHUNK):
            digest.update(chunk)
            writer.write(chunk)
        writer.flush()
        os.fsync(writer.fileno())
    shutil.copystat(source, target)
    return digest.hexdigest()


def _copy_media(source: Path, target: Path) -> list[dict]:
    entries = []
    if not source.is_dir():
        return entries
    for path in sorted(source.rglob("*")):
        if path.is_symlink() or not path.is_file():
            continue
        relative = path.relative_to(source).as_posix()
        destination = target / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        try:
            digest = _copy_hashing(path, destination)
        except FileNotFoundError:  # removed since the walk began, so after the database's moment
            destination.unlink(missing_ok=True)
            continue
        entries.append({"path": relative, "size": destination.stat().st_size, "sha256": digest})
    return entries


def _code_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("accretion-portal")
    except PackageNotFoundError:
        return "unknown"


def create_backup(parent: Path, *, by: str, now: datetime | None = None) -> tuple[Path, dict]:
    """Write a new backup folder under `parent`; its path and manifest."""
    kind = engine()
    parent = Path(parent)
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise BadBackup(f"{parent}: cannot create the folder: {error.strerror or error}") from None
    at = (now or timezone.now()).astimezone(UTC)
    name = PREFIX + at.strftime(STAMP)
    final, partial = parent / name, parent / f".{name}.partial"
    if final.exists() or partial.exists():
        raise BadBackup(f"{final} already exists: one backup a second")
    try:
        partial.mkdir()
    except OSError as error:
        raise BadBackup(f"{parent}: cannot write a backup there: {error.strerror or error}") from None
    try:
        database = partial / DATABASE_FILES[kind]
        snapshot = _dump_postgresql(database) if kind == "postgresql" else _copy_sqlite(database)
        media = _copy_media(Path(settings.MEDIA_ROOT), partial / MEDIA)
        manifest = {
            "format": FORMAT,
            "created_at": at.isoformat(),
            "version": _code_version(),
            "engine": kind,
            "database": {"file": database.name, "size": database.stat().st_size, "sha256": _sha256(database)},
            "migrations": snapshot.migrations,
            "tables": snapshot.tables,
            "audit": {"rows": snapshot.audit_rows, "last_hash": snapshot.audit_last_hash},
            "media": media,
            "missing_files": sorted(snapshot.files - {entry["path"] for entry in media}),
        }
        with (partial / MANIFEST).open("w", encoding="utf-8") as handle:
            json.dump(manifest, handle, indent=2, sort_keys=True)
            handle.flush()
            os.fsync(handle.fileno())
        partial.rename(final)
    except OSError as error:  # the disk filled up, or the folder went away
        shutil.rmtree(partial, ignore_errors=True)
        raise BadBackup(f"{final}: cannot write the backup: {error.strerror or error}") from None
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    record(None, Action.BACKUP, object_type="backup", object_id=name, username=by,
           rows=sum(snapshot.tables.values()), files=len(media), missing_files=len(manifest["missing_files"]))
    return final, manifest


def prune(parent: Path, keep: int) -> list[Path]:
    """Remove all but the newest `keep` complete backups in `parent`; the removed folders.

    Only folders named as this module names them and holding a manifest count, so nothing else in the folder
    (and no backup still being written) is ever touched."""
    backups = sorted(path for path in Path(parent).glob(PREFIX + "*")
                     if path.is_dir() and (path / MANIFEST).is_file() and _stamped(path.name))
    removed = backups[:-keep] if keep else backups
    for path in removed:
        shutil.rmtree(path)
    return removed


def _stamped(name: str) -> bool:
    try:
        datetime.strptime(name.removeprefix(PREFIX), STAMP)
    except ValueError:
        return False
    return True


# -- restore -------------------------------------------------------------------------------------------------


def read_manifest(folder: Path) -> dict:
    """The manifest of the backup in `folder`, after checking that every file it names is there, whole."""
    folder = Path(folder)
    path = folder / MANIFEST
    if not folder.is_dir():
        raise BadBackup(f"{folder}: no such folder")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BadBackup(f"{folder}: not a backup (no {MANIFEST}; an unfinished backup has none)") from None
    except (OSError, ValueError) as error:
        raise BadBackup(f"{path}: unreadable: {error}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BadBackup(f"{path}: not a backup of format {FORMAT}")
    try:
        database = folder / manifest["database"]["file"]
        if manifest["engine"] not in DATABASE_FILES or database.name != DATABASE_FILES[manifest["engine"]]:
            raise BadBackup(f"{path}: unknown database engine {manifest['engine']!r}")
        _check_file(database, manifest["database"]["sha256"])
        for entry in manifest["media"]:
            _check_file(_inside(folder / MEDIA, entry["path"]), entry["sha256"])
        shapes = (manifest["tables"], dict), (manifest["migrations"], dict), (manifest["audit"]["rows"], int)
        if not all(isinstance(value, kind) for value, kind in shapes):
            raise TypeError("tables, migrations or audit rows of the wrong type")
    except (KeyError, TypeError, AttributeError) as error:
        raise BadBackup(f"{path}: incomplete manifest ({error})") from None
    return manifest


def _inside(root: Path, relative: str) -> Path:
    path = (root / relative).resolve()
    if not path.is_relative_to(root.resolve()):
        raise BadBackup(f"{relative}: a file outside the backup's media folder")
    return path


def _check_file(path: Path, expected: str) -> None:
    if not path.is_file():
        raise BadBackup(f"{path}: missing from the backup")
    if _sha256(path) != expected:
        raise BadBackup(f"{path}: damaged (its SHA-256 differs from the manifest's)")


def _check_migrations(manifest: dict) -> int:
    """Refuse a backup made by a newer version; the number of migrations to apply after restoring."""
    known = set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)
    applied = {(app, name) for app, names in manifest["migrations"].items() for name in names}
    unknown = sorted(applied - known)
    if unknown:
        app, name = unknown[0]
        raise BadBackup(f"the backup is from a newer version of the portal (migration {app}.{name} is unknown "
                        f"here): restore it with that version")
    return len(known - applied)


def _restore_database(folder: Path, manifest: dict) -> None:
    database = folder / manifest["database"]["file"]
    if manifest["engine"] == "postgresql":
        connection.close()
        args, env = _postgresql_command(
            "pg_restore", ["--clean", "--if-exists", "--no-owner", "--no-privileges", "--single-transaction",
                           "--exit-on-error"], dbname_option=True)
        _run([*args, str(database)], env)
    else:
        source = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
        try:
            if source.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                raise BadBackup(f"{database}: the SQLite file is damaged")
            connection.ensure_connection()
            source.backup(connection.connection)
        finally:
            source.close()
    connection.close()  # nothing cached from before the restore


def _restore_media(folder: Path, manifest: dict) -> tuple[int, int]:
    root = Path(settings.MEDIA_ROOT)
    wanted = set()
    for entry in manifest["media"]:
        target = root / entry["path"]
        target.parent.mkdir(parents=True, exist_ok=True)
        _copy_hashing(_inside(folder / MEDIA, entry["path"]), target)
        wanted.add(entry["path"])
    extra = 0
    if root.is_dir():
        extra = sum(1 for path in root.rglob("*") if path.is_file()
                    and path.relative_to(root).as_posix() not in wanted)
    return len(wanted), extra


def _verify(manifest: dict) -> list[str]:
    """What differs between the restored database and files and the manifest (empty: all agrees)."""
    problems = []
    verdict = verify()
    if not verdict.ok:
        where = f"row {verdict.broken_id}" if verdict.broken_id else "the end of the log"
        problems.append(f"audit chain broken at {where}: {verdict.reason}")
    expected = manifest["tables"]
    with connection.cursor() as cursor:
        existing = set(connection.introspection.table_names(cursor))
        missing = sorted(set(expected) - existing)
        restored = _read(cursor, [table for table in _tables() if table in expected])
    problems += [f"table {table} is missing" for table in missing]
    problems += [f"table {table} has {restored.tables[table]} rows, the backup {count}"
                 for table, count in sorted(expected.items())
                 if table in restored.tables and restored.tables[table] != count]
    if (restored.audit_rows, restored.audit_last_hash) != (manifest["audit"]["rows"], manifest["audit"]["last_hash"]):
        problems.append(f"audit chain head is at row {restored.audit_rows}, the backup's at {manifest['audit']['rows']}")
    root = Path(settings.MEDIA_ROOT)
    for entry in manifest["media"]:
        path = root / entry["path"]
        if not path.is_file() or _sha256(path) != entry["sha256"]:
            problems.append(f"uploaded file {entry['path']} was not restored whole")
    return problems


def restore_backup(folder: Path, *, by: str, force: bool = False) -> Restored:
    """Replace this database and the uploaded files with the backup in `folder`, and verify the result."""
    folder = Path(folder)
    manifest = read_manifest(folder)
    kind = engine()
    if manifest["engine"] != kind:
        raise BadBackup(f"the backup is of a {ENGINE_NAMES[manifest['engine']]} database; "
                        f"this portal uses {ENGINE_NAMES[kind]}")
    unapplied = _check_migrations(manifest)
    if not force and (held := holds_data()):
        rows = sum(held.values())
        raise BadBackup(f"this database holds data ({rows} rows in {len(held)} tables, e.g. {min(held)}); "
                        f"restore into an empty database, or add --force to replace it")
    _restore_database(folder, manifest)
    files, extra = _restore_media(folder, manifest)
    problems = _verify(manifest)
    if problems:
        raise RestoreFailed(f"{len(problems)} problem{'s' if len(problems) != 1 else ''} after restoring: "
                            + "; ".join(problems[:5]))
    record(None, Action.RESTORE, object_type="backup", object_id=folder.name, username=by,
           backup_created_at=manifest["created_at"], rows=sum(manifest["tables"].values()), files=files)
    return Restored(folder, len(manifest["tables"]), sum(manifest["tables"].values()), manifest["audit"]["rows"],
                    files, unapplied, extra)
