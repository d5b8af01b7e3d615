"""The outcomes page on a generated registry: how long its aggregate queries take, on PostgreSQL and SQLite.

Run: python bench/bench_outcomes.py [--procedures N] [--databases postgres,sqlite] [--repeat N] [--seed S] [--keep]

For each database the script makes a throw-away database, migrates it,
generates the registry (bench/registry.py: clinics, staff, patients,
procedures), then adds with set-based SQL what the outcomes page needs:

* protocol consistency scores and placement rates of the completed procedures;
* one decided screening per patient (diagnoses drawn from eight patterns);
* a questionnaire task per signed procedure and time point (baseline, 2w, 6w,
  3m, 6m, 12m), answered at realistic rates (90 % baseline, 75 % at 2 weeks,
  70 % at 6 weeks, 65 % at 3 months, 55 % at 6 months, 45 % at 12 months),
  each answered task with its NRS, ODI or NDI, PGIC, baseline or safety
  responses and their scores;
* adverse events after about 2 % of the procedures.

It then builds the outcome summary with `accretion.outcomes.summary.refresh_all`
(the backfill, timed) and times, for the first clinic (half the registry):
the page's aggregate queries (`accretion.outcomes.analytics.report`), the
plots, and the whole page through Django's test client, with its query count;
then the same clinic's bulk FHIR export (`accretion fhir-export`) and a clinic
administrator saving other responder thresholds (every earlier flag
recomputed) and the defaults again.
The default is 100,000 procedures; `--procedures 1000000` is the large run.
Both databases are prepared at the same time (in two processes), then
measured one after the other, so that nothing else of the benchmark runs
while a page is timed.

Databases: PostgreSQL at DATABASE_URL when it is a postgres:// URL, else a
database of this run's own on postgres://postgres@127.0.0.1:5432 (skipped
with a note when no server answers); SQLite in a temporary file. Both are
dropped at the end unless --keep, which uses fixed names
(accretion_bench_outcomes, $TMPDIR/accretion-bench-outcomes/) and reuses a
kept database of the same size.
Arguments it does not know (meant for other benchmarks run by
scripts/bench.sh) are ignored with a note.
"""

from __future__ import annotations

import argparse
import io
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_PG_URL = "postgres://postgres@127.0.0.1:5432/accretion_bench_outcomes"
TARGET_SECONDS = 1.0  # the whole page at 100,000 procedures on PostgreSQL
TARGET_AT = 100_000
TIME_POINTS = [  # key, days after the procedure, share answered in percent
    ("baseline", 0, 90), ("2w", 14, 75), ("6w", 42, 70), ("3m", 91, 65), ("6m", 182, 55), ("12m", 365, 45)]
DIAGNOSES = ['["facet_oa"]', '["disc_degeneration_mild"]', '["spondylosis_nonradicular"]', '["paraspinal_strain"]',
             '["facet_oa", "disc_degeneration_moderate"]', '["disc_herniation", "paraspinal_strain"]',
             '["spinal_stenosis", "facet_oa"]', '["post_fusion"]']
ACTIVITY = ["sedentary", "light", "moderate", "vigorous"]
SMOKING = ["never", "never", "former", "current"]
EVENTS = [("injection_site_flare", 1), ("injection_site_flare", 2), ("vasovagal", 1), ("infection", 2),
          ("infection", 3), ("bleeding_hematoma", 1), ("nerve_injury", 2), ("post_dural_puncture_headache", 2)]


def parse(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--procedures", type=int, default=TARGET_AT, help="procedures in the registry")
    parser.add_argument("--databases", default="postgres,sqlite", help="comma-separated: postgres, sqlite")
    parser.add_argument("--repeat", type=int, default=7, help="timed runs of the page (the median is reported)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--keep", action="store_true", help="keep the databases (and reuse them next time)")
    # The child processes: one database, one phase.
    parser.add_argument("--one", choices=["postgres", "sqlite"], help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--phase", choices=["prepare", "measure"], help=argparse.SUPPRESS)
    args, unknown = parser.parse_known_args(argv)
    if unknown and not args.one:
        print(f"bench_outcomes: ignoring arguments it does not know: {' '.join(unknown)}", file=sys.stderr)
    databases = [d.strip() for d in args.databases.split(",") if d.strip()]
    if not databases or set(databases) - {"postgres", "sqlite"}:
        parser.error("--databases: postgres, sqlite or both")
    if args.procedures < 10 or args.repeat < 1:
        parser.error("--procedures must be at least 10 and --repeat at least 1")
    args.database_list = databases
    return args


# --- Throw-away databases (before Django is set up) -------------------------------------------------------


def postgres_url(keep: bool = True) -> str:
    """DATABASE_URL when it is a PostgreSQL one; else the default server, with a database of this run's own
    (a fixed name only with --keep, so that a later run finds it), so concurrent runs never share one."""
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        return url
    return DEFAULT_PG_URL if keep else f"{DEFAULT_PG_URL}_{os.getpid()}"


class Postgres:
    def __init__(self, url: str):
        parts = urlsplit(url)
        self.name = parts.path.lstrip("/") or "accretion_bench_outcomes"
        self.url = urlunsplit(parts._replace(path="/" + self.name))
        self.server = urlunsplit(parts._replace(scheme="postgresql", path="/postgres", query=""))
        self.label = f"PostgreSQL database {self.name}"

    def _connect(self):
        import psycopg
        return psycopg.connect(self.server, autocommit=True, connect_timeout=5)

    def reachable(self) -> bool:
        try:
            self._connect().close()
            return True
        except Exception:  # noqa: BLE001 - any failure: no server to benchmark on
            return False

    def exists(self) -> bool:
        with self._connect() as connection:
            found = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [self.name]).fetchone()
            return found is not None

    def create(self) -> None:
        from psycopg import sql
        with self._connect() as connection:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.name)))

    def drop(self) -> None:
        from psycopg import sql
        with self._connect() as connection:
            connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(self.name)))


class Sqlite:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.url = f"sqlite:///{self.path}"
        self.label = f"SQLite file {self.path}"

    def reachable(self) -> bool:
        return True

    def exists(self) -> bool:
        return self.path.exists() and self.path.stat().st_size > 0

    def create(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.touch()

    def drop(self) -> None:
        for suffix in ("", "-journal", "-wal", "-shm"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)


def database_for(kind: str, keep: bool, url: str | None = None):
    """The database of one kind for this run: given by `url` (the child processes), else chosen here."""
    if kind == "postgres":
        return Postgres(url or postgres_url(keep))
    if url:
        return Sqlite(Path(url.removeprefix("sqlite:///")))
    folder = Path(tempfile.gettempdir()) / "accretion-bench-outcomes" if keep else Path(
        tempfile.mkdtemp(prefix="accretion-bench-outcomes-"))
    return Sqlite(folder / "registry.sqlite3")


# --- SQL that differs between the databases (the only such code here) -------------------------------------


class Dialect:
    """PostgreSQL and SQLite spellings of dates and JSON in the generator's INSERT ... SELECT statements."""

    def __init__(self, vendor: str):
        self.postgresql = vendor == "postgresql"

    def plus_days(self, column: str, days: str) -> str:
        if self.postgresql:
            return f"({column} + CAST({days} AS integer))"
        return f"date({column}, ({days}) || ' days')"

    def at_hour(self, day: str, hour: int) -> str:
        """`day` at `hour`:00 UTC, as a timestamp."""
        if self.postgresql:
            return f"(({day})::timestamp + INTERVAL '{hour} hours') AT TIME ZONE 'UTC'"
        return f"datetime({day}, '+{hour} hours')"

    def json(self, text: str) -> str:
        return f"CAST({text} AS jsonb)" if self.postgresql else text

    def text(self, expression: str) -> str:
        return f"CAST({expression} AS text)" if self.postgresql else f"CAST({expression} AS TEXT)"

    def analyze(self, cursor, tables) -> None:
        if self.postgresql:
            for table in tables:
                cursor.execute(f'VACUUM ANALYZE "{table}"')
        else:
            cursor.execute("ANALYZE")


def h(column: str, k: int, below: int, seed: int) -> str:
    """A pseudo-random integer in [0, below) from a row's id: the same on both databases."""
    multipliers = [1_103_515_245, 1_664_525_013, 1_140_671_485, 1_597_334_677, 1_013_904_223, 1_219_930_117,
                   1_831_565_813, 1_292_193_871, 1_372_383_749, 1_431_655_765, 1_500_450_271, 1_779_033_703]
    return f"(((({column}) * {multipliers[k % len(multipliers)]} + {(seed * 7919 + k * 104_729) % 2_147_483_629}) " \
           f"% 2147483629) % {below})"


def pick(expression: str, values: list[str]) -> str:
    whens = " ".join(f"WHEN {i} THEN {v}" for i, v in enumerate(values))
    return f"(CASE {expression} {whens} ELSE {values[0]} END)"


def quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class Lit(str):
    """A literal piece of text in `concat`."""


def concat(sql: Dialect, *parts: str) -> str:
    """SQL text joining literal pieces (`Lit`) and SQL expressions (cast to text) with ||."""
    return "(" + " || ".join(quoted(part) if isinstance(part, Lit) else sql.text(part) for part in parts) + ")"


def clamp(expression: str, low: int, high: int) -> str:
    return f"(CASE WHEN ({expression}) < {low} THEN {low} WHEN ({expression}) > {high} THEN {high} " \
           f"ELSE ({expression}) END)"


# --- Generating the outcome data --------------------------------------------------------------------------


def add_outcomes(seed: int, log) -> dict[str, float]:
    """Strata, screenings, questionnaire tasks and responses, adverse events: set-based, both databases."""
    from django.db import connection, transaction

    from accretion.adverse_events.models import AdverseEvent
    from accretion.clinics.models import Membership
    from accretion.outcomes.models import QuestionnaireResponse, QuestionnaireTask
    from accretion.patients.models import Patient
    from accretion.procedures.models import Procedure
    from accretion.screenings.models import Screening

    sql = Dialect(connection.vendor)
    table = {m: connection.ops.quote_name(m._meta.db_table) for m in
             (Procedure, Patient, Screening, QuestionnaireTask, QuestionnaireResponse, AdverseEvent)}
    nurses = dict(Membership.objects.filter(role="nurse").values_list("clinic_id", "user_id"))
    nurse_of = "(CASE " + " ".join(f"WHEN {{c}} = {clinic} THEN {user}" for clinic, user in nurses.items()) + " END)"
    seconds = {}
    now = sql.at_hour("'2026-01-01'", 12) if not sql.postgresql else "CURRENT_TIMESTAMP"
    cutoff = "'2026-10-28'"  # questionnaires due after this day are still open: none answered

    def step(name, statement):
        started = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement)
            rows = cursor.rowcount
        seconds[name] = time.perf_counter() - started
        log(f"  {name}: {rows:,} rows in {seconds[name]:.1f} s")

    step("procedure strata", f"""
        UPDATE {table[Procedure]} SET
          consistency_score = {pick(h('id', 40, 10, seed), ['1.00'] * 5 + ['0.95', '0.90', '0.80', '0.70', '0.60'])},
          placement_rate = (CASE WHEN {h('id', 41, 10, seed)} < 8 THEN 1.00 ELSE 0.50 END)
        WHERE completed_at IS NOT NULL""")

    intake = sql.json(concat(sql, Lit('{"diagnoses": '),
                             pick(h("pt.id", 42, len(DIAGNOSES), seed), [quoted(d) for d in DIAGNOSES]), Lit("}")))
    step("screenings", f"""
        INSERT INTO {table[Screening]} (clinic_id, patient_id, status, intake, decision, findings, ruleset,
               created_by_id, created_at, updated_at, decided_at, review_outcome, review_reasons, version)
        SELECT pt.clinic_id, pt.id, 'decided',
               {intake},
               'eligible', {sql.json("'[]'")}, 'bench', {nurse_of.format(c='pt.clinic_id')},
               {sql.at_hour("'2015-01-01'", 9)}, {sql.at_hour("'2015-01-01'", 9)}, {sql.at_hour("'2015-01-01'", 9)},
               '', {sql.json("'{}'")}, 1
        FROM {table[Patient]} pt""")

    time_points = " UNION ALL ".join(f"SELECT {quoted(k)} AS k, {d} AS d, {p} AS pct, {n} AS n"
                                     for n, (k, d, p) in enumerate(TIME_POINTS))
    instruments = ("(CASE WHEN p.region = 'cervical' THEN "
                   "(CASE WHEN tp.k = 'baseline' THEN '[\"nrs\", \"ndi\", \"baseline\"]' "
                   "ELSE '[\"nrs\", \"ndi\", \"pgic\", \"safety\"]' END) "
                   "ELSE (CASE WHEN tp.k = 'baseline' THEN '[\"nrs\", \"odi\", \"baseline\"]' "
                   "ELSE '[\"nrs\", \"odi\", \"pgic\", \"safety\"]' END) END)")
    due = sql.plus_days("p.planned_date", "tp.d")
    step("questionnaire tasks", f"""
        INSERT INTO {table[QuestionnaireTask]} (clinic_id, patient_id, procedure_id, time_point, due, opens_on,
               closes_on, instruments, nonce, token_digest, completed_at, mode, reminders_sent, created_at, version)
        SELECT p.clinic_id, p.patient_id, p.id, tp.k, {due}, {sql.plus_days("p.planned_date", "tp.d - 7")},
               {sql.plus_days("p.planned_date", "tp.d + 7")}, {sql.json(instruments)}, 'bench',
               'bench:' || {sql.text('p.id')} || ':' || tp.k,
               (CASE WHEN {h('p.id * 8 + tp.n', 43, 100, seed)} < tp.pct AND {due} <= {cutoff}
                     THEN {sql.at_hour(due, 15)} END),
               (CASE WHEN {h('p.id * 8 + tp.n', 43, 100, seed)} < tp.pct AND {due} <= {cutoff}
                     THEN 'patient_link' ELSE '' END),
               0, {now}, 1
        FROM {table[Procedure]} p CROSS JOIN ({time_points}) tp
        WHERE p.status = 'signed'""")

    # Scores: a baseline per procedure, and an improvement that grows to 3 months for the ~55 % who respond.
    improves = f"({h('p.id', 44, 100, seed)} < 55)"
    weight = "(CASE t.time_point WHEN '2w' THEN 1 WHEN '6w' THEN 2 WHEN 'baseline' THEN 0 ELSE 3 END)"
    nrs_base = f"(5 + {h('p.id', 45, 5, seed)})"
    nrs = clamp(f"{nrs_base} - {weight} * (CASE WHEN {improves} THEN 1 + {h('t.id', 46, 2, seed)} "
                f"ELSE {h('t.id', 46, 2, seed)} END) + {h('t.id', 47, 3, seed)} - 1", 0, 10)
    disability_base = f"(24 + 2 * {h('p.id', 48, 20, seed)})"
    disability = clamp(f"{disability_base} - {weight} * (CASE WHEN {improves} THEN 6 + 2 * {h('t.id', 49, 3, seed)} "
                       f"ELSE {h('t.id', 49, 3, seed)} END) + 2 * {h('t.id', 50, 3, seed)} - 2", 0, 100)
    answered = (f"FROM {table[QuestionnaireTask]} t JOIN {table[Procedure]} p ON p.id = t.procedure_id "
                f"WHERE t.completed_at IS NOT NULL")
    columns = f"INSERT INTO {table[QuestionnaireResponse]} (task_id, instrument, answers, score, updated_at)"
    step("NRS responses", f"""{columns}
        SELECT t.id, 'nrs', {sql.json(concat(sql, Lit('{"nrs": '), nrs, Lit("}")))},
               {sql.json(concat(sql, Lit('{"instrument": "nrs", "score": '), nrs, Lit("}")))}, t.completed_at
        {answered}""")
    index = "(CASE WHEN p.region = 'cervical' THEN 'ndi' ELSE 'odi' END)"
    step("ODI and NDI responses", f"""{columns}
        SELECT t.id, {index}, {sql.json("'{}'")},
               {sql.json(concat(sql, Lit('{"instrument": "'), index, Lit('", "score": '), disability,
                                Lit('.0, "answered": 10}')))},
               t.completed_at
        {answered}""")
    pgic = f"(CASE WHEN {improves} THEN 1 + {h('t.id', 51, 2, seed)} ELSE 3 + {h('t.id', 51, 3, seed)} END)"
    step("PGIC responses", f"""{columns}
        SELECT t.id, 'pgic', {sql.json(concat(sql, Lit('{"pgic": "'), pgic, Lit('"}')))},
               {sql.json(concat(sql, Lit('{"instrument": "pgic", "score": '), pgic, Lit("}")))}, t.completed_at
        {answered} AND t.time_point <> 'baseline'""")
    activity = pick(h("p.id", 52, 4, seed), [quoted(a) for a in ACTIVITY])
    smoking = pick(h("p.patient_id", 53, 4, seed), [quoted(s) for s in SMOKING])
    baseline = sql.json(concat(sql, Lit('{"activity_level": "'), activity, Lit('", "smoking": "'), smoking,
                               Lit('", "general_health": "good"}')))
    step("baseline responses", f"""{columns}
        SELECT t.id, 'baseline',
               {baseline},
               NULL, t.completed_at
        {answered} AND t.time_point = 'baseline'""")
    safety = sql.json(quoted('{"fever": false, "infection_signs": false, "new_weakness_numbness": false, '
                             '"bowel_bladder_change": false, "emergency_visit": false}'))
    step("safety responses", f"""{columns}
        SELECT t.id, 'safety', {safety},
               NULL, t.completed_at
        {answered} AND t.time_point <> 'baseline'""")
    event = h("p.id", 54, len(EVENTS), seed)
    step("adverse events", f"""
        INSERT INTO {table[AdverseEvent]} (clinic_id, patient_id, procedure_id, event_type, description, ctcae_grade,
               serious, onset, outcome, source, follow_up_key, needs_review, relatedness, created_at, version)
        SELECT p.clinic_id, p.patient_id, p.id, {pick(event, [quoted(e) for e, _ in EVENTS])}, '',
               {pick(event, [str(g) for _, g in EVENTS])}, (CASE WHEN {pick(event, [str(g) for _, g in EVENTS])} = 3
               THEN TRUE ELSE FALSE END), {sql.plus_days("p.planned_date", "2")}, 'recovered', 'staff', '', FALSE,
               'possible', {now}, 1
        FROM {table[Procedure]} p WHERE p.status = 'signed' AND {h('p.id', 55, 100, seed)} < 2""")
    with connection.cursor() as cursor:
        sql.analyze(cursor, [m._meta.db_table for m in (Screening, QuestionnaireTask, QuestionnaireResponse,
                                                         AdverseEvent, Procedure)])
    return seconds


# --- Measuring -------------------------------------------------------------------------------------------


def median_ms(run, repeat: int) -> tuple[float, float, object]:
    run()  # warm-up: connection, statement and page caches
    timings, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = run()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings), min(timings), result


def measure(args) -> dict:
    from django.contrib.auth import get_user_model
    from django.core.cache import cache
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, override_settings, setup_test_environment

    from accretion.adverse_events.models import AdverseEvent
    from accretion.clinics.models import Clinic
    from accretion.clinics.tenancy import SESSION_KEY
    from accretion.outcomes import analytics, plots
    from accretion.outcomes.models import OutcomeRow

    clinic = Clinic.objects.filter(slug__startswith="registry-").order_by("pk").first()
    rows = OutcomeRow.objects.filter(clinic=clinic)
    events = AdverseEvent.objects.filter(clinic=clinic)
    figures = {"clinic": clinic.slug, "rows": rows.count(),
               "procedures": rows.filter(time_point="baseline").count()}

    def report():
        return analytics.report(OutcomeRow.objects.filter(clinic=clinic), AdverseEvent.objects.filter(clinic=clinic))

    with CaptureQueriesContext(connection) as queries:
        result = report()
    figures["report_queries"] = len(queries)
    figures["report_ms"], figures["report_min_ms"], result = median_ms(report, args.repeat)
    recent = analytics.Filters(date_from=result.today.replace(year=result.today.year - 2))  # the last two years
    figures["filtered_ms"], _, _ = median_ms(
        lambda: analytics.report(OutcomeRow.objects.filter(clinic=clinic), events, recent), args.repeat)

    def draw():
        cache.clear()  # drawn afresh, not taken from the cache
        return plots.render_all(result)

    figures["plots_ms"], _, _ = median_ms(draw, max(1, args.repeat // 2))

    setup_test_environment()  # the test client's host name is allowed
    # Static files are not collected in a benchmark database's checkout: plain storage, not the manifest.
    plain = override_settings(STORAGES={
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}})
    plain.enable()
    physician = get_user_model().objects.get(username=f"physician1@{clinic.slug}.test")
    client = Client()
    client.force_login(physician)
    session = client.session
    session[SESSION_KEY] = clinic.pk
    session.save()

    def page():
        response = client.get("/outcomes/")
        assert response.status_code == 200, response.status_code
        return response

    figures["page_ms"], figures["page_min_ms"], _ = median_ms(page, args.repeat)

    def cold_page():  # as right after a questionnaire changed the figures: the plots are drawn again
        cache.clear()
        return page()

    figures["cold_page_ms"], _, _ = median_ms(cold_page, max(1, args.repeat // 2))
    with CaptureQueriesContext(connection) as queries:
        page()
    figures["page_queries"] = len(queries)
    reset_queries()
    figures["fhir_export"] = fhir_export(clinic)
    figures["thresholds"] = change_thresholds(clinic)
    if connection.vendor == "postgresql":
        figures["plan"] = analytics.stratum_query(rows, analytics.STRATUM_QUERIES[0]).explain(analyze=True)
    return figures


def fhir_export(clinic) -> tuple[dict, float]:
    """`accretion fhir-export` of the clinic into a temporary folder: (resources per type, seconds)."""
    import json
    import tempfile

    from django.core.management import call_command

    with tempfile.TemporaryDirectory(prefix="accretion-bench-fhir-") as folder:
        started = time.perf_counter()
        call_command("fhir-export", "--clinic", clinic.slug, folder, stdout=io.StringIO())
        seconds = time.perf_counter() - started
        manifest = json.loads((Path(folder) / "manifest.json").read_text())
    return {item["type"]: item["count"] for item in manifest["output"]}, seconds


def change_thresholds(clinic) -> list[tuple[int, float]]:
    """A clinic administrator saves stricter responder thresholds, then the defaults again (as the page does:
    the clinic row locked, the protocol saved and every earlier responder flag recomputed in one transaction).
    Returns (flags changed, seconds) of each save; the registry ends as it began."""
    from decimal import Decimal

    from django.db import transaction

    from accretion.clinical.instruments import ResponderThresholds
    from accretion.clinics.models import Clinic
    from accretion.outcomes.summary import recompute_responders

    saves = []
    for protocol in (ResponderThresholds(odi_points=Decimal(20), odi_percent=None, nrs_points=Decimal(3)).to_dict(),
                     clinic.outcome_protocol):
        started = time.perf_counter()
        with transaction.atomic():
            locked = Clinic.objects.select_for_update().get(pk=clinic.pk)
            locked.outcome_protocol = protocol
            locked.save(update_fields=["outcome_protocol"])
            changed = recompute_responders(locked)
        saves.append((changed, time.perf_counter() - started))
    return saves


# --- One database (a child process, so that each gets its own Django settings) ---------------------------


def run_one(args) -> int:
    """A child process: prepare (migrate, generate, build the summary) or measure one database."""
    database = database_for(args.one, args.keep, args.url)
    if args.phase == "prepare" and not database.exists():
        database.create()
    os.environ["DATABASE_URL"] = database.url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "accretion.settings")
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))  # this process only
    import warnings

    import django
    warnings.filterwarnings("ignore", message="No directory at", module="django.core.handlers.base")
    django.setup()
    try:
        return prepare_database(args, database) if args.phase == "prepare" else measure_database(args)
    finally:
        from django.db import connections
        connections.close_all()


def complete(procedures: int) -> bool:
    """The kept registry has this size, its questionnaires, and a summary row for each of them."""
    from accretion.outcomes.models import OutcomeRow, QuestionnaireTask
    from accretion.procedures.models import Procedure

    tasks = QuestionnaireTask.objects.filter(procedure__status="signed").count()
    return (Procedure.objects.count() == procedures and tasks > 0
            and OutcomeRow.objects.count() == tasks)


def prepare_database(args, database) -> int:
    from django.core.management import call_command
    from django.db import connection

    from accretion.outcomes.summary import refresh_all
    from bench import registry as generator

    vendor = connection.vendor
    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    print(f"{database.label}: migrated in {time.perf_counter() - started:.1f} s")
    found = generator.find()  # raises when the database holds anything but a generated registry
    if found and not complete(args.procedures):
        # Another size, or a run stopped half-way: the database holds only a generated registry, start afresh.
        print(f"{database.label} holds another or an unfinished registry: generating it again")
        connection.close()
        database.drop()
        database.create()
        call_command("migrate", verbosity=0, interactive=False)
        found = None
    if found:
        print(f"registry: reusing {found['procedures']:,} procedures and their outcome summary")
    else:
        made = generator.generate(generator.Size(procedures=args.procedures, seed=args.seed), log=print)
        print(f"registry: {args.procedures:,} procedures generated in {made.total_seconds:.1f} s")
        seconds = add_outcomes(args.seed, print)
        print(f"outcome data generated in {sum(seconds.values()):.1f} s")
        started = time.perf_counter()
        result = refresh_all()
        backfill = time.perf_counter() - started
        print(f"summary backfill (refresh_all): {result['procedures']:,} signed procedures, {result['rows']:,} rows "
              f"in {backfill:.1f} s ({result['procedures'] / backfill:,.0f} procedures/s)")
        with connection.cursor() as cursor:
            Dialect(vendor).analyze(cursor, ["outcomes_outcomerow"])
    return 0


def measure_database(args) -> int:
    from django.db import connection

    from accretion.outcomes import analytics

    vendor = connection.vendor
    figures = measure(args)
    print(f"\nRESULT {vendor} {args.procedures:,} procedures; clinic {figures['clinic']}: "
          f"{figures['procedures']:,} signed procedures, {figures['rows']:,} summary rows")
    print(f"  aggregate queries ({figures['report_queries']}): median {figures['report_ms']:.0f} ms "
          f"(best {figures['report_min_ms']:.0f} ms); procedures of the last two years (a start date: patients "
          f"counted with COUNT(DISTINCT)): {figures['filtered_ms']:.0f} ms")
    print(f"  drawing the 3 plots (SVG): {figures['plots_ms']:.0f} ms (then cached until the figures change)")
    print(f"  whole page GET /outcomes/ ({figures['page_queries']} queries): median {figures['page_ms']:.0f} ms "
          f"(best {figures['page_min_ms']:.0f} ms); with the plots drawn afresh: {figures['cold_page_ms']:.0f} ms")
    counts, export_s = figures["fhir_export"]
    print(f"  FHIR export of the clinic (accretion fhir-export): "
          f"{', '.join(f'{n:,} {kind}' for kind, n in counts.items())} in {export_s:.1f} s")
    (stricter, stricter_s), (back, back_s) = figures["thresholds"]
    print(f"  saving other responder thresholds (every earlier flag recomputed in the database): {stricter:,} flags "
          f"changed in {stricter_s:.1f} s; the defaults again: {back:,} in {back_s:.1f} s")
    if "plan" in figures:
        print(f"\nquery plan of the strata {', '.join(analytics.STRATUM_QUERIES[0])}:\n" + figures["plan"])
    if vendor == "postgresql" and args.procedures <= TARGET_AT and figures["cold_page_ms"] > TARGET_SECONDS * 1000:
        print(f"the page took more than {TARGET_SECONDS:.0f} s at {args.procedures:,} procedures on PostgreSQL",
              file=sys.stderr)
        return 1
    return 0


def child(kind: str, database, phase: str, args, **popen):
    command = [sys.executable, __file__, "--one", kind, "--url", database.url, "--phase", phase,
               "--procedures", str(args.procedures), "--repeat", str(args.repeat), "--seed", str(args.seed)]
    return subprocess.Popen(command + (["--keep"] if args.keep else []), cwd=ROOT, **popen)


def main(argv=None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    if args.one:
        return run_one(args)
    databases = {}
    for kind in args.database_list:
        database = database_for(kind, args.keep)
        if not database.reachable():
            print(f"=== {kind}: no server at {database.server}; skipped ===")
        elif database.exists() and not args.keep and kind == "postgres":
            print(f"=== {kind}: {database.label} exists; not touching it ===", file=sys.stderr)
        else:
            databases[kind] = database
    status = 0
    try:
        # Both databases are prepared at the same time (it takes minutes), then measured one after the other,
        # so that nothing else of this benchmark runs while a page is timed.
        print(f"preparing {', '.join(databases)} with {args.procedures:,} procedures (at the same time)...", flush=True)
        logs = {kind: tempfile.TemporaryFile(mode="w+") for kind in databases}  # noqa: SIM115 (read, then closed below)
        running = {kind: child(kind, database, "prepare", args, stdout=logs[kind], stderr=subprocess.STDOUT)
                   for kind, database in databases.items()}
        ready = []
        for kind, process in running.items():
            code = process.wait()
            logs[kind].seek(0)
            print(f"=== {kind}: prepared (exit {code}) ===\n{logs[kind].read().rstrip()}", flush=True)
            if code == 0:
                ready.append(kind)
            status = max(status, 2 if code else 0)
        for kind in ready:
            print(f"=== {kind}: measuring ===", flush=True)
            status = max(status, child(kind, databases[kind], "measure", args).wait())
    finally:
        if not args.keep:
            for database in databases.values():
                database.drop()
                if isinstance(database, Sqlite):
                    shutil.rmtree(database.path.parent, ignore_errors=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
