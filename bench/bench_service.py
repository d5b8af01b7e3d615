"""The portal as a deployed service: gunicorn under concurrent load, against wrk, on SQLite, and killed.

Run: python bench/bench_service.py [load] [throughput] [sqlite-writers] [faults]
                                   [--seconds S] [--clients N] [--workers N] [--threads N]

With no part named, all four run with their default figures:

* ``load``: gunicorn (``--workers 4 --threads 4``, gthread) serves the portal with ``DEBUG=false`` on a free
  port of 127.0.0.1 against a throw-away PostgreSQL database loaded by ``accretion demo``; 50 clients
  (threads, keep-alive ``http.client`` connections) for 60 s each sign in on the page and get a bearer
  token, then mix the patient search page, API patient reads, API patient creations, API screenings and
  FHIR Patient searches. Prints requests, req/s, p50/p95/p99 latency and errors by status (target: none),
  then checks every patient a client saw created is in the database and ``accretion audit verify`` passes.
* ``throughput``: wrk (``scripts/system-packages.sh bench`` installs it) GETs one patient through the API
  with a bearer token, then a bare Django JSON view (bench/bare_wsgi.py) served by the same gunicorn;
  prints both rates and their ratio (target: at least 0.5), and the rate of /health/ (one database round
  trip) beside them. 20 s each.
* ``sqlite-writers``: the same gunicorn on a throw-away SQLite file, 20 clients creating patients for 30 s;
  target: no answer >= 500 and no "database is locked" in gunicorn's log; every acknowledged write is in
  the file.
* ``faults``: 10 clients create patients on PostgreSQL while a gunicorn worker is killed with SIGKILL three
  times, then the master (gunicorn is started again on the same port; clients retry after connection
  errors). 30 s. Every patient acknowledged with 201 must be in the database (lost: 0), every patient
  row must have its audit row (no half-written record) and ``accretion audit verify`` must pass.

PostgreSQL is the server at DATABASE_URL when that is a postgres:// URL, else postgres@127.0.0.1:5432; the
database is this run's own, ``accretion_bench_service_<pid>``, created, loaded once for the parts that use
it and dropped at the end. The SQLite file and the static files (collected as in production) live in a
temporary folder, removed at the end. ``--seconds`` sets the duration of every part named (of each wrk
run for throughput), ``--clients`` the number of clients. Exits 1 when a part misses its target.
Arguments it does not know (meant for other benchmarks run by scripts/bench.sh) are ignored with a note.
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import random
import re
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import bench_outcomes  # its PostgreSQL database, made and dropped

VENV_BIN = ROOT / ".venv" / "bin"
PARTS = ["load", "throughput", "sqlite-writers", "faults"]
DEFAULTS = {  # part: (seconds, clients)
    "load": (60, 50),
    "throughput": (20, 16),
    "sqlite-writers": (30, 20),
    "faults": (30, 10),
}
PASSWORD = "accretion-demo"
# Accounts that may create patients and record screenings: the clients share them round the clock.
ACCOUNTS = [f"{role}@{clinic}.demo" for clinic in ("north", "south") for role in ("nurse", "physician")]
FAMILIES = ["Anderson", "Brooks", "Carter", "Dawson", "Ellis", "Garcia", "Hughes", "Lopez", "Morgan", "Torres"]
INTAKE = {  # a screening that needs review (apixaban), as tests/test_screenings.py sends it
    "age": 64, "region": "lumbar", "diagnoses": ["facet_oa"], "planned_targets": ["facet_joint"],
    "active_infection": False, "bleeding_disorder": False, "radicular_symptoms": False,
    "active_malignancy": False, "pregnant": False, "neuro_red_flags": [], "platelet_count": 210,
    "medications": [{"name": "Eliquis", "last_dose": None}],
}
TARGET_RATIO = 0.5
KILLED_WORKERS = 3


def parse(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     usage="%(prog)s [load] [throughput] [sqlite-writers] [faults] [options]")
    parser.add_argument("--seconds", type=float, help="duration of each part (default: load 60, throughput 20 "
                                                      "per URL, sqlite-writers 30, faults 30)")
    parser.add_argument("--clients", type=int, help="concurrent clients (default: load 50, wrk connections 16, "
                                                    "sqlite-writers 20, faults 10)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker (gthread)")
    words = list(sys.argv[1:] if argv is None else argv)
    parts = [word for word in words if word in PARTS]  # the parts, anywhere among the flags
    args, unknown = parser.parse_known_args([word for word in words if word not in PARTS])
    if unknown:
        print(f"bench_service: ignoring arguments it does not know: {' '.join(unknown)}", file=sys.stderr)
    if (args.seconds is not None and args.seconds <= 0) or (args.clients is not None and args.clients < 1):
        parser.error("--seconds must be above 0 and --clients at least 1")
    if args.workers < 1 or args.threads < 1:
        parser.error("--workers and --threads must be at least 1")
    args.parts = [part for part in PARTS if part in parts] or PARTS
    return args


def figures(args, part: str) -> tuple[float, int]:
    seconds, clients = DEFAULTS[part]
    return (args.seconds or seconds), (args.clients or clients)


# --- Measuring ------------------------------------------------------------------------------------------


def percentile(values: list[float], fraction: float) -> float:
    """The nearest-rank percentile: the smallest value with `fraction` of the values at or below it."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)] if ordered else float("nan")


class Tally:
    """What the clients saw, shared by their threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.latencies: list[float] = []
        self.by_operation: dict[str, list[float]] = {}
        self.statuses: Counter = Counter()
        self.failures: Counter = Counter()  # (operation, status or error name)
        self.created: list[tuple[int, str]] = []  # (id, MRN) of every patient acknowledged with 201
        self.examples: dict[tuple, str] = {}
        self.stale_retries = 0  # requests sent again after the server had closed the keep-alive connection

    def add(self, operation: str, seconds: float, status: int, body: bytes = b"", expected=(200,)) -> None:
        with self.lock:
            self.latencies.append(seconds)
            self.by_operation.setdefault(operation, []).append(seconds)
            self.statuses[status] += 1
            if status not in expected:
                self.failures[(operation, status)] += 1
                self.examples.setdefault((operation, status), body[:300].decode(errors="replace"))

    def connection_error(self, operation: str, error: Exception) -> None:
        with self.lock:
            self.failures[(operation, type(error).__name__)] += 1

    def print(self, seconds: float | None = None) -> None:
        count = len(self.latencies)
        print(f"  requests: {count:,}" + (f" in {seconds:.1f} s, {count / seconds:,.1f} req/s" if seconds else ""))
        if count:
            print(f"  latency: p50 {percentile(self.latencies, 0.5) * 1000:.0f} ms, "
                  f"p95 {percentile(self.latencies, 0.95) * 1000:.0f} ms, "
                  f"p99 {percentile(self.latencies, 0.99) * 1000:.0f} ms")
        for operation, values in sorted(self.by_operation.items()):
            print(f"    {operation:<16} {len(values):>7,}  p50 {percentile(values, 0.5) * 1000:>6.0f} ms  "
                  f"p95 {percentile(values, 0.95) * 1000:>6.0f} ms  p99 {percentile(values, 0.99) * 1000:>6.0f} ms")
        if self.stale_retries:
            print(f"  sent again on a new connection after gunicorn had closed the kept-alive one: "
                  f"{self.stale_retries:,}")
        print(f"  statuses: {', '.join(f'{status}: {n:,}' for status, n in sorted(self.statuses.items()))}")
        if self.failures:
            print(f"  errors: {', '.join(f'{op} {what}: {n:,}' for (op, what), n in sorted(self.failures.items(), key=str))}")
            for (operation, status), body in self.examples.items():
                print(f"    e.g. {operation} {status}: {body}")
        else:
            print("  errors: 0")


# --- HTTP clients ---------------------------------------------------------------------------------------------


class Client:
    """One keep-alive connection with its own cookies and bearer token, as one member's browser and script."""

    def __init__(self, port: int, tally: Tally, retry_stale: bool = True):
        self.port = port
        self.tally = tally
        self.retry_stale = retry_stale
        self.connection: http.client.HTTPConnection | None = None
        self.reused = False
        self.cookies: dict[str, str] = {}
        self.token = ""

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None

    def request(self, method: str, path: str, body=None, *, bearer=False, form=False, headers=None):
        """(status, headers, body, seconds); a connection error is raised after closing the connection."""
        sent = {"Host": "127.0.0.1", **(headers or {})}
        if bearer:
            sent["Authorization"] = f"Bearer {self.token}"
        elif self.cookies:
            # DEBUG=false marks cookies Secure; a client behind the TLS proxy would send them: this one does.
            sent["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        if form:
            body = urlencode(body)
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        elif body is not None:
            body = json.dumps(body)
            sent["Content-Type"] = "application/json"
        started = time.perf_counter()
        try:
            response, data = self._send(method, path, body, sent)
        except (BrokenPipeError, ConnectionResetError, http.client.RemoteDisconnected):
            if not (self.reused and self.retry_stale):
                raise
            # The server closed a keep-alive connection this client was about to reuse (gunicorn closes one
            # idle past --keep-alive, 2 s, also when its threads were busy): send again on a new connection,
            # as browsers and HTTP libraries do. Counted apart.
            with self.tally.lock:
                self.tally.stale_retries += 1
            response, data = self._send(method, path, body, sent)
        seconds = time.perf_counter() - started
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        if response.headers.get("Connection", "").lower() == "close":
            self.close()
        return response.status, response.headers, data, seconds

    def _send(self, method, path, body, headers):
        if self.connection is None:
            self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            self.reused = False
        try:
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException):
            self.close()
            raise
        self.reused = True
        return response, data

    def call(self, operation: str, method: str, path: str, body=None, expected=(200,), **options):
        """A request counted in the tally; None after a connection error."""
        try:
            status, headers, data, seconds = self.request(method, path, body, **options)
        except (OSError, http.client.HTTPException) as error:
            self.tally.connection_error(operation, error)
            return None
        self.tally.add(operation, seconds, status, data, expected)
        return status, headers, data

    def sign_in_page(self, username: str) -> bool:
        answer = self.call("sign-in form", "GET", "/accounts/login/")
        if answer is None or answer[0] != 200:
            return False
        match = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', answer[2])
        form = {"username": username, "password": PASSWORD, "csrfmiddlewaretoken": match.group(1).decode()}
        answer = self.call("sign-in", "POST", "/accounts/login/", form, form=True, expected=(302,),
                           headers={"Origin": "http://127.0.0.1", "Referer": "http://127.0.0.1/accounts/login/"})
        return answer is not None and answer[0] == 302 and "sessionid" in self.cookies

    def get_token(self, username: str) -> bool:
        answer = self.call("token", "POST", "/api/v1/auth/token", {"username": username, "password": PASSWORD})
        if answer is None or answer[0] != 200:
            return False
        self.token = json.loads(answer[2])["token"]
        return True

    def create_patient(self, mrn: str, rng: random.Random):
        body = {"mrn": mrn, "given_name": rng.choice(["Ana", "Luis", "Mara", "Owen"]),
                "family_name": rng.choice(FAMILIES), "date_of_birth": f"19{rng.randrange(30, 99)}-0{rng.randrange(1, 9)}-1{rng.randrange(0, 9)}",
                "sex": rng.choice(["female", "male"])}
        answer = self.call("create patient", "POST", "/api/v1/patients", body, bearer=True, expected=(201,))
        if answer is not None and answer[0] == 201:
            created = json.loads(answer[2])
            with self.tally.lock:
                self.tally.created.append((created["id"], created["mrn"]))
            return created["id"]
        return None


def mrn_of(run: str, client: int, number: int) -> str:
    return f"B{run}-{client}-{number}"  # unique in the run; the portal stores MRNs in capitals


def start_clients(count: int, target, *args) -> list[threading.Thread]:
    threads = [threading.Thread(target=target, args=(index, *args), daemon=True) for index in range(count)]
    for thread in threads:
        thread.start()
    return threads


# --- Databases ------------------------------------------------------------------------------------------------


class Postgres(bench_outcomes.Postgres):
    """This run's own database on the server at DATABASE_URL (when a postgres:// one) or postgres@127.0.0.1."""

    def __init__(self):
        url = os.environ.get("DATABASE_URL", "")
        base = url if url.startswith(("postgres://", "postgresql://")) else "postgres://postgres@127.0.0.1:5432/"
        super().__init__(urlunsplit(urlsplit(base)._replace(path=f"/accretion_bench_service_{os.getpid()}")))
        self.created = False

    def create(self) -> None:
        super().create()
        self.created = True

    def rows(self, query: str) -> list[tuple]:
        import psycopg
        with psycopg.connect(urlunsplit(urlsplit(self.url)._replace(scheme="postgresql")), autocommit=True,
                             connect_timeout=10) as connection:
            return connection.execute(query).fetchall()


class Sqlite:
    def __init__(self, folder: Path):
        self.path = folder / "service.sqlite3"
        self.url = f"sqlite:///{self.path}"
        self.label = f"SQLite file {self.path}"

    def rows(self, query: str) -> list[tuple]:
        connection = sqlite3.connect(self.path, timeout=30)
        try:
            return connection.execute(query).fetchall()
        finally:
            connection.close()


# --- The service -----------------------------------------------------------------------------------------------


SERVICES: list = []  # every Service that started gunicorn in this run


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Service:
    """One database's environment: the `accretion` command and a gunicorn serving it."""

    def __init__(self, database, folder: Path, args, app: str = "accretion.wsgi"):
        self.database = database
        self.folder = folder
        self.args = args
        self.app = app
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        self.log_path = folder / f"gunicorn-{self.port}.log"
        self.env = {**os.environ, "DATABASE_URL": database.url, "DEBUG": "false",
                    "SECRET_KEY": os.environ.get("BENCH_SECRET_KEY") or secrets.token_urlsafe(50),
                    "ALLOWED_HOSTS": "127.0.0.1", "ACCRETION_VAR_DIR": str(folder / "var"),
                    "STATIC_ROOT": str(folder / "static"), "PYTHONPATH": str(ROOT)}
        self.env.pop("DJANGO_SETTINGS_MODULE", None)

    def accretion(self, *words: str, check: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run([str(VENV_BIN / "accretion"), *words], cwd=ROOT, env=self.env,
                                capture_output=True, text=True, check=False)
        if check and result.returncode != 0:
            raise RuntimeError(f"accretion {' '.join(words)} exited {result.returncode}: "
                               f"{(result.stderr or result.stdout).strip().splitlines()[-1:]}")
        return result

    def prepare(self) -> None:
        started = time.perf_counter()
        self.accretion("migrate", "--noinput")
        self.accretion("demo")
        if not (self.folder / "static" / "staticfiles.json").exists():
            self.accretion("collectstatic", "--noinput")  # as in production: hashed, compressed files
        print(f"  {self.database.label}: migrated, demo data loaded in {time.perf_counter() - started:.0f} s")

    def start(self, app: str | None = None) -> None:
        with open(self.log_path, "a") as log:  # gunicorn's and Django's log lines; the child keeps it open
            self.process = subprocess.Popen(
                [str(VENV_BIN / "gunicorn"), app or self.app, "--bind", f"127.0.0.1:{self.port}",
                 "--workers", str(self.args.workers), "--threads", str(self.args.threads), "--worker-class", "gthread",
                 "--pythonpath", str(ROOT), "--graceful-timeout", "5", "--error-logfile", "-"],
                cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        SERVICES.append(self)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited {self.process.returncode}: see {self.log_path}")
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                connection.request("GET", "/health/", headers={"Host": "127.0.0.1"})
                if connection.getresponse().status == 200 and len(self.workers()) >= self.args.workers:
                    connection.close()
                    return
                connection.close()
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer /health/ within 60 s: see {self.log_path}")

    def workers(self) -> list[int]:
        if self.process is None:
            return []
        try:
            children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text()
        except OSError:
            return []
        return [int(pid) for pid in children.split()]

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def log_lines(self, *words: str) -> list[str]:
        return [line for line in self.log().splitlines() if any(word in line for word in words)]

    def audit_verify(self) -> tuple[bool, str]:
        result = self.accretion("audit", "verify", check=False)
        return result.returncode == 0, (result.stdout + result.stderr).strip().splitlines()[-1:][0]


def patient_ids(client: Client) -> list[int]:
    status, _, data, _ = client.request("GET", "/api/v1/patients?limit=100", bearer=True)
    if status != 200:
        raise RuntimeError(f"listing the demo patients answered {status}: {data[:200]!r}")
    return [item["id"] for item in json.loads(data)["items"]]


def check_writes(service: Service, created: list[tuple[int, str]]) -> tuple[int, int, int]:
    """(acknowledged, found with their MRN, patients without their audit create row)."""
    stored = dict(service.database.rows("SELECT id, mrn FROM patients_patient"))
    found = sum(1 for pk, mrn in created if stored.get(pk) == mrn)
    audited = {int(object_id) for (object_id,) in service.database.rows(
        "SELECT object_id FROM audit_auditevent WHERE action = 'create' AND object_type = 'patients.patient'")}
    return len(created), found, len(set(stored) - audited)


def report_writes(service: Service, tally: Tally) -> bool:
    acknowledged, found, unaudited = check_writes(service, tally.created)
    verified, verdict = service.audit_verify()
    print(f"  writes acknowledged: {acknowledged:,}, found in the database: {found:,}, lost: {acknowledged - found:,}")
    print(f"  patients without their audit row (half-written): {unaudited}")
    print(f"  accretion audit verify: {'passes' if verified else 'FAILS'} ({verdict})")
    return acknowledged == found and unaudited == 0 and verified


# --- The parts ----------------------------------------------------------------------------------------------------


def run_load(service: Service, args) -> bool:
    seconds, clients = figures(args, "load")
    print(f"\n== load: {clients} clients for {seconds:.0f} s, gunicorn {args.workers} workers x {args.threads} threads "
          f"(gthread), {service.database.label} ==")
    service.start()
    tally, setup = Tally(), Tally()  # the timed mix; each client's sign-in before it
    ids = {}  # the demo patients each account's clinic holds
    for account in ACCOUNTS:
        probe = Client(service.port, Tally())
        probe.get_token(account)
        ids[account] = patient_ids(probe)
        probe.close()
    run = secrets.token_hex(3)
    ready = threading.Barrier(clients + 1)
    stop_at = [math.inf]

    def client_loop(index: int) -> None:
        rng = random.Random(index)
        account = ACCOUNTS[index % len(ACCOUNTS)]
        mine = list(ids[account])
        client = Client(service.port, setup)
        signed_in = client.sign_in_page(account) and client.get_token(account)
        client.tally = tally
        ready.wait()
        number = 0
        while signed_in and time.monotonic() < stop_at[0]:
            roll = rng.random()
            if roll < 0.25:
                client.call("search page", "GET", "/patients/?" + urlencode({"q": rng.choice(FAMILIES)}))
            elif roll < 0.55:
                client.call("API read", "GET", f"/api/v1/patients/{rng.choice(mine)}", bearer=True)
            elif roll < 0.70:
                number += 1
                created = client.create_patient(mrn_of(run, index, number), rng)
                if created is not None:
                    mine.append(created)
            elif roll < 0.80:
                client.call("API screening", "POST", f"/api/v1/patients/{rng.choice(mine)}/screenings", INTAKE,
                            bearer=True, expected=(201,))
            else:
                client.call("FHIR search", "GET", "/fhir/r4/Patient?" + urlencode({"family": rng.choice(FAMILIES)}),
                            bearer=True)
        client.close()

    threads = start_clients(clients, client_loop)
    ready.wait()  # every client signed in (the sign-ins are counted too)
    started = time.monotonic()
    stop_at[0] = started + seconds
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    service.stop()
    print("  before the clock, each client signed in on the page and got a token:")
    setup.print()
    print("  the mix:")
    tally.print(elapsed)
    server_errors = service.log_lines("Traceback", "ERROR", "CRITICAL", "database is locked")
    print(f"  gunicorn log: {len(server_errors)} error lines" + "".join(f"\n    {line}" for line in server_errors[:10]))
    writes_ok = report_writes(service, tally)
    return not tally.failures and not setup.failures and writes_ok


def wrk(port: int, path: str, seconds: float, connections: int, token: str = "") -> tuple[float, str]:
    # --timeout: a slow answer is measured as slow; wrk would count one after 2 s as a socket error
    command = ["wrk", "-t", "2", "-c", str(connections), "-d", f"{max(1, round(seconds))}s", "--latency", "--timeout", "30s",
               "-H", "Host: 127.0.0.1"]
    if token:
        command += ["-H", f"Authorization: Bearer {token}"]
    output = subprocess.run([*command, f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True,
                            check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    summary = [line.strip() for line in output.splitlines()
               if line.strip().startswith(("Latency ", "50%", "99%", "Non-2xx", "Socket errors", "requests in"))]
    return rate, "; ".join(summary)


def run_throughput(service: Service, args) -> bool:
    seconds, connections = figures(args, "throughput")
    subprocess.run([str(ROOT / "scripts" / "system-packages.sh"), "bench"], check=True)
    print(f"\n== throughput: wrk, {connections} connections, {seconds:.0f} s per URL, gunicorn {args.workers} workers "
          f"x {args.threads} threads, {service.database.label} ==")
    service.start("bench.bare_wsgi")
    client = Client(service.port, Tally())
    client.get_token(ACCOUNTS[0])
    patient = patient_ids(client)[0]
    client.close()
    path = f"/api/v1/patients/{patient}"
    wrk(service.port, path, 1, connections, client.token)  # warm-up: every worker's connections and imports
    api_rate, api_summary = wrk(service.port, path, seconds, connections, client.token)
    bare_rate, bare_summary = wrk(service.port, "/bare/", seconds, connections)
    health_rate, health_summary = wrk(service.port, "/health/", seconds, connections)
    service.stop()
    ratio = api_rate / bare_rate
    print(f"  GET {path} (bearer token, one audit row per read): {api_rate:,.0f} req/s  ({api_summary})")
    print(f"  GET /bare/ (a bare Django JsonResponse, same middleware): {bare_rate:,.0f} req/s  ({bare_summary})")
    print(f"  GET /health/ (for comparison: one SELECT 1): {health_rate:,.0f} req/s  ({health_summary})")
    print(f"  ratio API / bare: {ratio:.2f} (target >= {TARGET_RATIO})")
    errors = [s for s in (api_summary, bare_summary, health_summary) if "Non-2xx" in s or "Socket errors" in s]
    for summary in errors:
        print(f"  errors seen by wrk: {summary}")
    return ratio >= TARGET_RATIO and not errors


def writer_loop(index: int, service: Service, tally: Tally, run: str, stop_at: list, ready, retry: bool) -> None:
    """A client creating patients until `stop_at`. With `retry` (processes are being killed), a connection error
    is counted and the next attempt, with a new MRN, follows at once: a write is never sent twice."""
    rng = random.Random(index)
    account = ACCOUNTS[index % len(ACCOUNTS)]
    client = Client(service.port, Tally(), retry_stale=not retry)  # the token is asked for before the clock starts
    signed_in = client.get_token(account)
    client.tally = tally
    ready.wait()
    number = 0
    while signed_in and time.monotonic() < stop_at[0]:
        number += 1  # a new MRN each attempt: a retried write whose first attempt committed is not a duplicate
        if client.create_patient(mrn_of(run, index, number), rng) is None and retry:
            time.sleep(0.05)
    client.close()


class Writers:
    """`clients` threads creating patients for `seconds` from the moment every one of them holds its token."""

    def __init__(self, service: Service, clients: int, seconds: float, retry: bool):
        self.service = service
        self.tally = Tally()
        self.run = secrets.token_hex(3)
        stop_at = [math.inf]
        ready = threading.Barrier(clients + 1)
        self.threads = start_clients(clients, writer_loop, service, self.tally, self.run, stop_at, ready, retry)
        ready.wait()
        self.started = time.monotonic()
        stop_at[0] = self.started + seconds

    def finish(self) -> float:
        """Wait for the clients and stop gunicorn; the seconds the clients wrote."""
        for thread in self.threads:
            thread.join()
        elapsed = time.monotonic() - self.started
        self.service.stop()
        return elapsed


def run_sqlite_writers(service: Service, args) -> bool:
    seconds, clients = figures(args, "sqlite-writers")
    print(f"\n== sqlite-writers: {clients} clients creating patients for {seconds:.0f} s, gunicorn {args.workers} "
          f"workers x {args.threads} threads, {service.database.label} ==")
    service.start()
    writers = Writers(service, clients, seconds, retry=False)
    elapsed = writers.finish()
    tally = writers.tally
    print(f"  writes: {len(tally.created):,}, {len(tally.created) / elapsed:,.1f} writes/s")
    tally.print(elapsed)
    server_errors = sum(n for status, n in tally.statuses.items() if status >= 500)
    locked = service.log_lines("database is locked")
    print(f"  answers >= 500: {server_errors}; 'database is locked' in gunicorn's log: {len(locked)}"
          + "".join(f"\n    {line}" for line in locked[:5]))
    writes_ok = report_writes(service, tally)
    return server_errors == 0 and not locked and writes_ok


def run_faults(service: Service, args) -> bool:
    seconds, clients = figures(args, "faults")
    print(f"\n== faults: {clients} clients creating patients for {seconds:.0f} s; SIGKILL to a worker "
          f"{KILLED_WORKERS} times, then to the master; {service.database.label} ==")
    service.start()
    writers = Writers(service, clients, seconds, retry=True)
    started, tally = writers.started, writers.tally
    step = seconds / (KILLED_WORKERS + 3)
    events = []
    for _ in range(KILLED_WORKERS):
        time.sleep(step)
        while not service.workers():  # the master is starting the worker killed before
            time.sleep(0.05)
        victim = random.choice(service.workers())
        os.kill(victim, signal.SIGKILL)
        events.append(f"worker {victim} killed at {time.monotonic() - started:.1f} s")
    time.sleep(step)
    master, orphans = service.process.pid, service.workers()
    os.kill(master, signal.SIGKILL)
    service.process.wait()
    killed_at = time.monotonic()
    # Workers notice their master is gone and stop; the new master binds the port once they have.
    deadline = time.monotonic() + 30
    while any(Path(f"/proc/{pid}").exists() for pid in orphans) and time.monotonic() < deadline:
        time.sleep(0.1)
    for pid in orphans:  # still there after 30 s: this run started them, it ends them
        if Path(f"/proc/{pid}").exists():
            events.append(f"worker {pid} outlived its master by 30 s: killed")
            os.kill(pid, signal.SIGKILL)
    service.start()
    events.append(f"master {master} killed at {killed_at - started:.1f} s, "
                  f"serving again after {time.monotonic() - killed_at:.1f} s")
    elapsed = writers.finish()
    for event in events:
        print(f"  {event}")
    tally.print(elapsed)
    server_errors = sum(n for status, n in tally.statuses.items() if status >= 500)
    writes_ok = report_writes(service, tally)
    prefix = mrn_of(writers.run, 0, 0).rsplit("-", 2)[0].upper()  # this part's MRNs: letters, digits and dashes only
    stored = service.database.rows(f"SELECT COUNT(*) FROM patients_patient WHERE mrn LIKE '{prefix}-%'")[0][0]
    print(f"  patients stored whose answer was lost with the killed process (not acknowledged): "
          f"{stored - len(tally.created)}")
    return writes_ok and server_errors == 0


# --- Main -------------------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    if not (VENV_BIN / "gunicorn").exists():
        print("bench_service: .venv/bin/gunicorn is missing: run `make setup`", file=sys.stderr)
        return 2
    folder = Path(tempfile.mkdtemp(prefix="accretion-bench-service-"))
    results = {}
    postgres = None
    try:
        needs_postgres = [part for part in args.parts if part != "sqlite-writers"]
        if needs_postgres:
            postgres = Postgres()
            try:
                postgres.create()
            except Exception as error:  # noqa: BLE001 - no server: those parts cannot run
                print(f"bench_service: no PostgreSQL at {postgres.server} ({error}); skipping "
                      f"{', '.join(needs_postgres)}", file=sys.stderr)
                postgres = None
        if postgres is not None:
            service = Service(postgres, folder, args)
            service.prepare()
            for part, run in (("load", run_load), ("throughput", run_throughput), ("faults", run_faults)):
                if part in args.parts:
                    results[part] = run(service, args)
        if "sqlite-writers" in args.parts:
            service = Service(Sqlite(folder), folder, args)
            service.prepare()
            results["sqlite-writers"] = run_sqlite_writers(service, args)
    except (RuntimeError, subprocess.CalledProcessError) as error:
        print(f"bench_service: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("bench_service: interrupted; gunicorn stopped, the databases dropped", file=sys.stderr)
        return 130
    finally:
        for service in SERVICES:  # gunicorn stopped whatever happened (an error, Ctrl-C)
            service.stop()
        if postgres is not None and postgres.created:
            postgres.drop()
        shutil.rmtree(folder, ignore_errors=True)
    print("\n" + "  ".join(f"{part}: {'met' if ok else 'MISSED'}" for part, ok in results.items()))
    return 0 if all(results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
