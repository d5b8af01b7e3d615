"""Kit lot recall on a generated registry: how long `accretion.recall.services.recall()` takes.

Run: python bench/bench_recall.py [--procedures N] [--kit-lots N] [--clinics N] [--queries N] [--seed S]
                                  [--shuffled] [--keep]

The database is a throw-away one, chosen by DATABASE_URL like the portal's:

* ``DATABASE_URL=postgres://postgres@127.0.0.1:5432/NAME``: the PostgreSQL
  database NAME (``accretion_bench`` when the URL names none). It is created
  if missing and dropped at the end; ``--keep`` keeps it, and a later run
  reuses the registry in it when its size matches.
* otherwise (no DATABASE_URL, or ``sqlite:///PATH``): an SQLite file, a new
  temporary one unless PATH is given; removed at the end unless ``--keep``.

A database that holds data other than a generated registry is never written to.

The script migrates the database, generates the registry (bench/registry.py:
two clinics, a few hundred kit lots, patients, procedures and preparations),
then runs the recall of every clinic, as the command line does, for
``--queries`` lot numbers drawn at random, and prints the median and 95th
percentile (the time of `recall()`: the query and building the rows), then the
same for one clinic, as the page does, and the query plan of one recall (with
EXPLAIN ANALYZE on PostgreSQL). On PostgreSQL it exits 1 when the median is
above the 50 ms target. Arguments it does not know (meant for other benchmarks run
by scripts/bench.sh) are ignored with a note.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_PG_NAME = "accretion_bench"
TARGET_MS = 50  # median, on PostgreSQL
WARM_UP = 5


def parse(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--procedures", type=int, default=1_000_000, help="procedures in the registry")
    parser.add_argument("--kit-lots", type=int, default=300, help="kit lots, in all clinics together")
    parser.add_argument("--clinics", type=int, default=2)
    parser.add_argument("--queries", type=int, default=200, help="recalls timed (random lot numbers)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--shuffled", action="store_true",
                        help="dates and patients at random instead of in the order a registry grows (worst case)")
    parser.add_argument("--keep", action="store_true", help="keep the database (and reuse it next time)")
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        print(f"bench_recall: ignoring arguments it does not know: {' '.join(unknown)}", file=sys.stderr)
    if args.procedures < 1 or args.queries < 1 or args.kit_lots < 1 or args.clinics < 1:
        parser.error("--procedures, --kit-lots, --clinics and --queries must be at least 1")
    return args


# --- The throw-away database (before Django is set up) --------------------------------------------


class Refused(Exception):
    """A database the benchmark must not use."""


class PostgresDatabase:
    def __init__(self, url: str):
        parts = urlsplit(url)
        self.name = parts.path.lstrip("/") or DEFAULT_PG_NAME
        self.url = urlunsplit(parts._replace(path="/" + self.name))
        self.server = urlunsplit(parts._replace(scheme="postgresql", path="/postgres"))
        self.created = False
        self.label = f"PostgreSQL database {self.name}"

    def _connect(self):
        import psycopg
        return psycopg.connect(self.server, autocommit=True, connect_timeout=10)

    def exists(self) -> bool:
        with self._connect() as connection:
            found = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [self.name]).fetchone()
        return found is not None

    def create(self) -> None:
        from psycopg import sql
        with self._connect() as connection:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.name)))
        self.created = True

    def drop(self) -> None:
        from psycopg import sql
        with self._connect() as connection:
            connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(self.name)))

    def kept_message(self) -> str:
        return f"kept {self.label}: DATABASE_URL={self.url} python bench/bench_recall.py --keep reuses it"


class SqliteDatabase:
    def __init__(self, url: str | None):
        self.directory = None
        if url:
            path = url.split("sqlite:///", 1)[1] if url.startswith("sqlite:///") else ""
            if not path or path == ":memory:":
                raise Refused("DATABASE_URL=sqlite:///PATH needs a file path")
            self.path = Path(path)
        else:
            self.directory = Path(tempfile.mkdtemp(prefix="accretion-bench-"))
            self.path = self.directory / "registry.sqlite3"
        self.url = f"sqlite:///{self.path}"
        self.created = False
        self.label = f"SQLite file {self.path}"

    def exists(self) -> bool:
        return self.path.exists() and self.path.stat().st_size > 0

    def create(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.touch()
        self.created = True

    def drop(self) -> None:
        for suffix in ("", "-journal", "-wal", "-shm"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)
        if self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)

    def kept_message(self) -> str:
        return f"kept {self.label}: DATABASE_URL={self.url} python bench/bench_recall.py --keep reuses it"


def choose_database():
    url = os.environ.get("DATABASE_URL", "").strip()
    if url.startswith(("postgres://", "postgresql://", "pgsql://")):
        return PostgresDatabase(url)
    if not url or url.startswith("sqlite:"):
        return SqliteDatabase(url or None)
    raise Refused(f"DATABASE_URL must be a postgres:// or sqlite:/// URL, not {url.split(':')[0]}:")


def setup_django(database) -> None:
    os.environ["DATABASE_URL"] = database.url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "accretion.settings")
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))  # only this process; nothing is signed
    import django
    django.setup()


# --- Measuring ------------------------------------------------------------------------------------------


def percentile(values: list[float], fraction: float) -> float:
    """The nearest-rank percentile: the smallest value with `fraction` of the values at or below it."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def time_recalls(lots: list[str], clinic=None) -> tuple[list[float], list[int]]:
    from accretion.recall import services
    for lot in lots[:WARM_UP]:  # connection, statement and cache warm-up: not timed
        services.recall(lot, clinic=clinic)
    timings, sizes = [], []
    for lot in lots:
        started = time.perf_counter()
        rows = services.recall(lot, clinic=clinic)
        timings.append((time.perf_counter() - started) * 1000)
        sizes.append(len(rows))
    return timings, sizes


def refuse_foreign_data(connection, database) -> None:
    """Before migrating: the database must be empty or hold nothing but a generated registry."""
    tables = connection.introspection.table_names()
    if not tables:
        return
    if "clinics_clinic" in tables:
        with connection.cursor() as cursor:
            cursor.execute("SELECT COUNT(*) FROM clinics_clinic WHERE slug NOT LIKE 'registry-%%'", [])
            if cursor.fetchone()[0] == 0:
                return
    raise Refused(f"the {database.label} holds data that is not a generated registry; "
                  f"name another database in DATABASE_URL (or none)")


def main(argv: list[str] | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    try:
        database = choose_database()
    except Refused as error:
        print(f"bench_recall: {error}", file=sys.stderr)
        return 2
    status = 0
    try:
        status = run(args, database)
    except (Refused, RuntimeError) as error:  # RegistryError: a database that is not the benchmark's, a bad size
        print(f"bench_recall: {error}", file=sys.stderr)
        status = 2
    finally:
        from django.apps import apps
        if apps.ready:
            from django.db import connections
            connections.close_all()
        if database.created and not args.keep:
            database.drop()
        elif status == 2:
            pass
        elif args.keep:
            print(database.kept_message())
        else:
            print(f"left the {database.label} in place: it existed before this run")
    return status


def run(args, database) -> int:
    if not database.exists():
        database.create()
    setup_django(database)
    from django.core.management import call_command
    from django.db import connection

    from accretion.clinics.models import Clinic
    from accretion.recall import services
    from bench import registry as generator

    refuse_foreign_data(connection, database)
    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    print(f"database: {database.label}, migrated in {time.perf_counter() - started:.1f} s")

    size = generator.Size(procedures=args.procedures, kit_lots=args.kit_lots, clinics=args.clinics, seed=args.seed,
                          chronological=not args.shuffled)
    found = generator.find()
    if found and (found["procedures"], found["clinics"], found["chronological"]) != (
            size.procedures, size.clinics, size.chronological):
        # Only a generated registry is ever in here (find() checked): start again from an empty database.
        print(f"the database holds another registry ({found['procedures']:,} procedures, {found['clinics']} clinics, "
              f"{'chronological' if found['chronological'] else 'shuffled'}): generating a new one")
        connection.close()
        created_by_this_run = database.created
        database.drop()
        database.create()
        database.created = created_by_this_run  # a database that was there before stays after the run
        call_command("migrate", verbosity=0, interactive=False)
        found = None
    if found:
        print(f"registry: reusing {found['procedures']:,} procedures in {found['clinics']} clinics "
              f"({'chronological' if found['chronological'] else 'shuffled'})")
    else:
        print(f"registry: generating {size.procedures:,} procedures, {size.patient_count:,} patients, "
              f"{size.lots_per_clinic * size.clinics} kit lots, {size.clinics} clinics, "
              f"{'chronological' if size.chronological else 'shuffled'} ({connection.vendor})")
        made = generator.generate(size, log=print)
        print(f"registry: generated in {made.total_seconds:.1f} s")

    procedures = generator.Procedure.objects.count()
    lots = generator.lot_numbers()
    rng = random.Random(args.seed)
    sample = [rng.choice(lots) for _ in range(args.queries)]
    vendor = connection.vendor

    timings, sizes = time_recalls(sample)
    median = statistics.median(timings)
    print(f"recall: {len(sample)} lots, median {median:.1f} ms, p95 {percentile(timings, 0.95):.1f} ms "
          f"over {procedures} procedures ({vendor})")
    print(f"  rows per recall: median {statistics.median(sizes):.0f}, max {max(sizes)} "
          f"({len(lots)} distinct lot numbers)")

    clinic = Clinic.objects.filter(slug__startswith="registry-").order_by("pk").first()
    scoped, scoped_sizes = time_recalls(sample, clinic=clinic)
    print(f"recall in one clinic ({clinic.slug}, as the page): median {statistics.median(scoped):.1f} ms, "
          f"p95 {percentile(scoped, 0.95):.1f} ms, rows per recall: median {statistics.median(scoped_sizes):.0f}")

    queryset = services.recall_queryset(sample[0])
    print(f"\nquery plan of the recall of lot {sample[0]}:")
    print(queryset.explain(analyze=True) if vendor == "postgresql" else queryset.explain())

    if vendor == "postgresql" and median > TARGET_MS:
        print(f"median above the target of {TARGET_MS} ms on PostgreSQL", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
