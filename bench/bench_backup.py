"""Backup and restore of a generated registry: how long `accretion backup` and `accretion restore` take.

Run: python bench/bench_backup.py [--procedures N] [--audit-rows N] [--keep]

The database is a throw-away one, chosen by DATABASE_URL as bench/bench_recall.py chooses it (PostgreSQL
database `accretion_bench`, or a temporary SQLite file). The script migrates it, generates the registry
(bench/registry.py) and an audit log of `--audit-rows` chained rows (default: two per procedure, as a
registry that reads and writes its records collects them), then runs the installed command as an operator
would: `accretion backup` into a temporary folder, and `accretion restore` of that backup into a second,
empty database (`<name>_restore`, or another SQLite file), which recomputes the audit chain and compares
every table's row count. It prints the time of each, the backup's size and the rows per second. It exits 1
when a command fails. Arguments it does not know (meant for other benchmarks) are ignored with a note.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_recall import (
    PostgresDatabase,
    Refused,
    SqliteDatabase,
    choose_database,
    refuse_foreign_data,
    setup_django,
)

ACCRETION = Path(sys.executable).with_name("accretion")
BATCH = 10_000


def parse(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--procedures", type=int, default=100_000, help="procedures in the registry")
    parser.add_argument("--audit-rows", type=int, default=None, help="audit rows (default: 2 per procedure)")
    parser.add_argument("--keep", action="store_true", help="keep the databases and the backup")
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        print(f"bench_backup: ignoring arguments it does not know: {' '.join(unknown)}", file=sys.stderr)
    if args.procedures < 1 or (args.audit_rows is not None and args.audit_rows < 0):
        parser.error("--procedures must be at least 1 and --audit-rows at least 0")
    return args


def chained_audit_rows(count: int) -> None:
    """`count` audit rows of patient reads, hash-chained as `accretion.audit.chain.append` chains them,
    written in batches (the chain's own append takes a lock per row)."""
    from django.db import transaction
    from django.utils import timezone

    from accretion.audit.chain import GENESIS, chain_hash
    from accretion.audit.models import AuditEvent, ChainHead
    from accretion.patients.models import Patient

    patients = list(Patient.objects.values_list("pk", "clinic_id")[:10_000])
    previous, at = GENESIS, timezone.now()
    with transaction.atomic():
        for start in range(0, count, BATCH):
            rows = []
            for number in range(start, min(start + BATCH, count)):
                patient, clinic = patients[number % len(patients)]
                event = AuditEvent(at=at, user_id=1, username="physician@registry", clinic_id=clinic,
                                   action="view", object_type="patients.patient", object_id=str(patient),
                                   patient_id=patient, client_address="10.0.0.7", detail={"via": "api"})
                event.prev_hash, event.hash = previous, chain_hash(previous, event)
                previous = event.hash
                rows.append(event)
            AuditEvent.objects.bulk_create(rows)
        ChainHead.objects.update_or_create(id=1, defaults={"last_hash": previous, "count": count})


def command(database_url: str, media: Path, *args) -> tuple[float, subprocess.CompletedProcess]:
    environment = {**os.environ, "DATABASE_URL": database_url, "MEDIA_ROOT": str(media), "DEBUG": "true"}
    started = time.perf_counter()
    result = subprocess.run([str(ACCRETION), *args], env=environment, capture_output=True, text=True, check=False)
    return time.perf_counter() - started, result


def second_database(database):
    if isinstance(database, PostgresDatabase):
        url = database.url.rsplit("/", 1)[0] + f"/{database.name}_restore"
        return PostgresDatabase(url)
    return SqliteDatabase(f"sqlite:///{database.path.with_name('restored.sqlite3')}")


def run(args, database, folder: Path) -> int:
    if not database.exists():
        database.create()
    setup_django(database)
    from django.core.management import call_command
    from django.db import connection

    from accretion.audit.models import AuditEvent
    from bench import registry as generator

    refuse_foreign_data(connection, database)
    call_command("migrate", verbosity=0, interactive=False)
    if generator.find():
        print("registry: reusing the one in the database")
    else:
        started = time.perf_counter()
        generator.generate(generator.Size(procedures=args.procedures))
        print(f"registry: {args.procedures:,} procedures generated in {time.perf_counter() - started:.1f} s "
              f"({connection.vendor})")
    if not AuditEvent.objects.exists():
        audit_rows = 2 * args.procedures if args.audit_rows is None else args.audit_rows
        started = time.perf_counter()
        chained_audit_rows(audit_rows)
        print(f"audit log: {audit_rows:,} chained rows written in {time.perf_counter() - started:.1f} s")
    connection.close()

    backups, media = folder / "backups", folder / "media"
    media.mkdir()
    for number in range(20):  # a few uploaded images
        (media / "injections" / f"{number:02}").mkdir(parents=True)
        (media / "injections" / f"{number:02}" / "image.png").write_bytes(hashlib.sha256(bytes([number])).digest() * 4096)

    seconds, result = command(database.url, media, "backup", str(backups))
    if result.returncode:
        print(f"backup failed: {result.stderr.strip()}", file=sys.stderr)
        return 1
    backup = next(backups.glob("accretion-*"))
    manifest = json.loads((backup / "manifest.json").read_text())
    rows = sum(manifest["tables"].values())
    size = sum(path.stat().st_size for path in backup.rglob("*") if path.is_file())
    print(f"backup: {seconds:.1f} s for {rows:,} rows ({rows / seconds:,.0f} rows/s), {size / 1e6:.1f} MB "
          f"({manifest['database']['file']} {manifest['database']['size'] / 1e6:.1f} MB), "
          f"{len(manifest['media'])} files")

    target = second_database(database)
    if target.exists():
        target.drop()
    target.create()
    try:
        seconds, result = command(target.url, folder / "restored-media", "restore", str(backup))
        if result.returncode:
            print(f"restore failed: {result.stderr.strip()}", file=sys.stderr)
            return 1
        print(f"restore: {seconds:.1f} s, verified ({rows / seconds:,.0f} rows/s): {result.stdout.strip()}")
    finally:
        if not args.keep:
            target.drop()
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    try:
        database = choose_database()
    except Refused as error:
        print(f"bench_backup: {error}", file=sys.stderr)
        return 2
    folder = Path(tempfile.mkdtemp(prefix="accretion-bench-backup-"))
    status = 0
    try:
        status = run(args, database, folder)
    except (Refused, RuntimeError) as error:
        print(f"bench_backup: {error}", file=sys.stderr)
        status = 2
    finally:
        from django.apps import apps
        if apps.ready:
            from django.db import connections
            connections.close_all()
        if args.keep:
            print(f"kept the backup in {folder} and {database.label}")
        else:
            shutil.rmtree(folder, ignore_errors=True)
            if database.created:
                database.drop()
    return status


if __name__ == "__main__":
    sys.exit(main())
