"""A synthetic registry of PRP procedures, generated inside the database.

    from bench.registry import Size, generate
    registry = generate(Size(procedures=1_000_000))

Clinics, staff and centrifuges (a handful of rows) are created with the ORM;
kit lots, patients, procedures and preparations are each ONE set-based
`INSERT ... SELECT` over a generated series of integers: `generate_series` on
PostgreSQL, a recursive common table expression on SQLite. Nothing is
generated row by row in Python, so a million procedures take a minute or two.

Values are a deterministic function of the row number and `Size.seed`
(integer hashing, the same on both databases), so two runs with the same size
give the same registry. The data are plausible enough for query benchmarks:

* patients belong to one clinic each and have one or more procedures;
* procedures are spread over `Size.years` years before `Size.until`, mostly
  signed, some completed, in progress or cancelled, a few still planned (in the
  weeks after `until`); started, completed and signed times follow the date;
* rows are laid out as in a registry that grew over the years: procedure ids
  follow their dates, give or take two weeks, and patients are registered in
  the order of their first procedure, their later ones within about a
  twentieth of the span (`Size.chronological=False` spreads dates and patients
  at random instead);
* every procedure that was started has a PRP preparation, whose kit comes from
  a lot of its clinic that was current on the procedure's date (each lot is
  current for a window of time and expires after it);
* most lot numbers exist in every clinic (one shipment split between sites),
  some only in one, and every tenth number is shared by two products.

Columns the generator does not set get their model default (or NULL, or an
empty string), so a field added to a model later does not break it; a new
required column without a default does, with an error naming it.

The registry is generated into a database without patients or procedures
(`RegistryError` otherwise): it is for throw-away benchmark databases.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import connections, models, transaction

from accretion.clinics.models import Clinic, Membership
from accretion.clinics.roles import NURSE, PHYSICIAN, PREP_TECH
from accretion.patients.models import Patient
from accretion.practice.models import Equipment, Kind, KitLot
from accretion.procedures.models import Preparation, Procedure

__all__ = ["Registry", "RegistryError", "Size", "find", "generate", "lot_numbers"]

LAYOUT_SHUFFLED = " (shuffled)"  # in the clinics' names: how the registry was laid out
SLUGS = ["registry-north", "registry-south", "registry-east", "registry-west"]
PRIME = 2_147_483_629  # below 2**31: row number x multiplier stays within 64 bits up to 10**9 rows
MULTIPLIERS = [1_103_515_245, 1_664_525_013, 1_140_671_485, 1_597_334_677, 1_013_904_223, 1_219_930_117,
               1_831_565_813, 1_292_193_871, 1_372_383_749, 1_431_655_765, 1_500_450_271, 1_779_033_703]

GIVEN = ["Ada", "Alan", "Amira", "Ana", "Ben", "Carmen", "Chen", "David", "Elena", "Fatima", "Grace", "Hiro",
         "Ines", "James", "Jose", "Kofi", "Laura", "Luis", "Maria", "Mei", "Nadia", "Omar", "Priya", "Rosa",
         "Sam", "Sofia", "Tom", "Yusuf"]
FAMILY = ["Adams", "Baker", "Brown", "Chen", "Cruz", "Diaz", "Garcia", "Gonzalez", "Hernandez", "Jackson",
          "Johnson", "Kim", "Lee", "Lopez", "Martin", "Martinez", "Miller", "Nguyen", "Okafor", "Patel",
          "Perez", "Ramirez", "Rivera", "Robinson", "Rodriguez", "Sanchez", "Singh", "Smith", "Taylor",
          "Thomas", "Walker", "Williams", "Wilson", "Young"]
PRODUCTS = [("Angel cPRP processing set", "Arthrex"), ("SmartPReP 2 BMAC/PRP kit", "Harvest Technologies"),
            ("GPS III platelet separation kit", "Zimmer Biomet")]
# (share of procedures in tenths, region, targets, levels)
REGIONS = [(6, "lumbar", '["facet_joint", "interspinous_ligament"]', '["L4-L5", "L5-S1"]'),
           (3, "cervical", '["facet_joint"]', '["C5-C6"]'),
           (1, "thoracic", '["paraspinal_muscle"]', '["T7-T8"]')]
# Status by a number 0-99: below 85 signed, then completed, in progress, cancelled, planned.
SIGNED, COMPLETED, IN_PROGRESS, CANCELLED = 85, 90, 91, 94


class RegistryError(RuntimeError):
    pass


@dataclass(frozen=True)
class Size:
    procedures: int = 1_000_000
    patients: int | None = None  # default: 3 procedures for every 2 patients
    clinics: int = 2
    kit_lots: int = 300  # in all clinics together
    physicians: int = 4  # per clinic
    years: int = 10
    until: date = date(2026, 1, 1)
    seed: int = 2026
    # As a registry grows: procedure ids follow their dates (give or take two weeks), and a patient is
    # registered shortly before their first procedure. False: dates and patients at random, the worst
    # case for reading one lot's procedures (they are spread over the whole table).
    chronological: bool = True

    @property
    def patient_count(self) -> int:
        return self.patients if self.patients is not None else max(1, self.procedures * 2 // 3)

    @property
    def lots_per_clinic(self) -> int:
        return max(1, self.kit_lots // self.clinics)

    @property
    def start(self) -> date:
        return self.until - timedelta(days=365 * self.years)

    @property
    def span(self) -> int:
        return (self.until - self.start).days

    def check(self) -> None:
        if not (1 <= self.clinics <= 50):
            raise RegistryError("clinics: 1 to 50")
        if self.procedures < 1 or self.patient_count < 1 or self.kit_lots < 1 or self.physicians < 1:
            raise RegistryError("procedures, patients, kit lots and physicians must be at least 1")
        if max(self.procedures, self.patient_count, self.kit_lots) > 10**9:
            raise RegistryError("at most 10**9 rows of a kind")


@dataclass
class Registry:
    size: Size
    clinic_ids: list[int]
    counts: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def total_seconds(self) -> float:
        return sum(self.seconds.values())


# --- SQL dialects ---------------------------------------------------------------------------------


class _Dialect:
    def __init__(self, connection):
        self.connection = connection
        self.vendor = connection.vendor
        if self.vendor not in ("postgresql", "sqlite"):
            raise RegistryError(f"the registry is generated on PostgreSQL or SQLite, not {self.vendor}")

    @property
    def postgresql(self) -> bool:
        return self.vendor == "postgresql"

    def series(self, count: int) -> str:
        """A FROM item: one row per integer 1..count, column i."""
        if self.postgresql:
            return f"generate_series(1::bigint, {int(count)}::bigint) AS series(i)"
        return (f"(WITH RECURSIVE numbers(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM numbers WHERE i < {int(count)}) "
                f"SELECT i FROM numbers) AS series")

    def day(self, base: date, days: str) -> str:
        """The date `days` after `base`."""
        if self.postgresql:
            return f"(DATE '{base.isoformat()}' + CAST({days} AS integer))"
        return f"date('{base.isoformat()}', ({days}) || ' days')"

    def moment(self, base: date, days: str, minutes: str) -> str:
        """The instant `days` and `minutes` after midnight UTC of `base`."""
        if self.postgresql:
            return (f"((DATE '{base.isoformat()}' + CAST({days} AS integer))::timestamp "
                    f"+ ({minutes}) * INTERVAL '1 minute') AT TIME ZONE 'UTC'")
        return f"datetime('{base.isoformat()}', ({days}) || ' days', ({minutes}) || ' minutes')"

    def later(self, column: str, minutes: str) -> str:
        if self.postgresql:
            return f"({column} + ({minutes}) * INTERVAL '1 minute')"
        return f"datetime({column}, ({minutes}) || ' minutes')"

    def days_since(self, column: str, base: date) -> str:
        if self.postgresql:
            return f"({column} - DATE '{base.isoformat()}')"
        return f"CAST(julianday({column}) - julianday('{base.isoformat()}') AS INTEGER)"

    def json(self, expression: str) -> str:
        return f"CAST({expression} AS jsonb)" if self.postgresql else expression

    def analyze(self, tables: list[str]) -> None:
        with self.connection.cursor() as cursor:
            if self.postgresql:
                for table in tables:
                    cursor.execute(f"VACUUM ANALYZE {self.connection.ops.quote_name(table)}")
            else:
                cursor.execute("ANALYZE")


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _hash(column: str, k: int, seed: int) -> str:
    """A pseudo-random integer in [0, PRIME) from a row number: the same on every database."""
    return f"((({column}) * {MULTIPLIERS[k % len(MULTIPLIERS)]} + {(seed * 7919 + k * 104_729) % PRIME}) %% {PRIME})"


def _rand(column: str, k: int, seed: int, below: int) -> str:
    return f"({_hash(column, k, seed)} %% {int(below)})"


def _case(expression: str, values: list, default=None) -> str:
    """`CASE expression WHEN 0 THEN values[0] ...`: values are SQL text or integers."""
    whens = " ".join(f"WHEN {index} THEN {value}" for index, value in enumerate(values))
    return f"(CASE {expression} {whens} ELSE {values[0] if default is None else default} END)"


def _insert(connection, model: type[models.Model], values: dict[str, str], source: str) -> int:
    """INSERT INTO model's table SELECT values FROM source; other columns get their defaults.

    `values` maps field names to SQL expressions; `%` must be written `%%`.
    """
    columns, expressions, params = [], [], []
    fields = model._meta.concrete_fields
    unknown = set(values) - {f.name for f in fields} - {f.attname for f in fields}
    if unknown:
        raise RegistryError(f"{model._meta.label} has no field {', '.join(sorted(unknown))}")
    for model_field in model._meta.concrete_fields:
        expression = values.get(model_field.name, values.get(model_field.attname))
        if expression is None:
            if model_field.primary_key:
                continue
            if model_field.has_default():
                expression = "%s"
                params.append(model_field.get_db_prep_save(model_field.get_default(), connection))
            elif model_field.null:
                expression = "NULL"
            elif model_field.blank and isinstance(model_field, (models.CharField, models.TextField)):
                expression = "''"
            else:
                raise RegistryError(f"{model._meta.label}.{model_field.name} is required and has no default: "
                                    f"give the registry a value for it")
        columns.append(connection.ops.quote_name(model_field.column))
        expressions.append(expression)
    table = connection.ops.quote_name(model._meta.db_table)
    sql = f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(expressions)} FROM {source}"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def _id_range(model, using: str, before: int, expected: int) -> int:
    """The id before the first of the `expected` rows just inserted after id `before` (they must be consecutive)."""
    new = model.objects.using(using).filter(pk__gt=before).aggregate(
        low=models.Min("pk"), high=models.Max("pk"), count=models.Count("pk"))
    if new["count"] != expected or new["high"] - new["low"] + 1 != expected:
        raise RegistryError(f"{model._meta.label}: expected {expected} consecutive ids after {before}, got {new}")
    return new["low"] - 1


def _last_id(model, using: str) -> int:
    return model.objects.using(using).aggregate(last=models.Max("pk"))["last"] or 0


# --- Generation -----------------------------------------------------------------------------------


def generate(size: Size = Size(), *, using: str = "default", log: Callable[[str], None] | None = None) -> Registry:
    """Generate the registry in the (empty) database `using`; returns what was made and how long it took."""
    size.check()
    connection = connections[using]
    dialect = _Dialect(connection)
    if Patient.objects.using(using).exists() or Procedure.objects.using(using).exists():
        raise RegistryError("the database already holds patients or procedures; generate into an empty one")
    log = log or (lambda message: None)
    registry = Registry(size=size, clinic_ids=[])

    def step(name: str, model, run: Callable[[], None]) -> None:
        started = time.perf_counter()
        with transaction.atomic(using=using):
            run()
        registry.seconds[name] = time.perf_counter() - started
        registry.counts[name] = model.objects.using(using).count()
        log(f"  {name}: {registry.counts[name]:,} rows in {registry.seconds[name]:.1f} s")

    staff: dict[str, list[list[int]]] = {}
    centrifuges: list[int] = []
    step("clinics and staff", Clinic, lambda: _people(size, using, registry, staff, centrifuges))
    physicians = [user for clinic in staff["physicians"] for user in clinic]
    nurses = [clinic[0] for clinic in staff["nurses"]]
    prep_techs = [clinic[0] for clinic in staff["prep_techs"]]
    seed, C = size.seed, size.clinics
    clinic_of = lambda index: _case(index, registry.clinic_ids)

    # Kit lots: lot l (1..) is the k-th lot of clinic c = (l-1) % C, current from day k*W to (k+1)*W.
    lots_per_clinic = size.lots_per_clinic
    window = max(1, size.span // lots_per_clinic)
    lots_before = _last_id(KitLot, using)

    def kit_lots():
        inner = f"SELECT i, (i - 1) %% {C} AS c, (i - 1) / {C} AS k FROM {dialect.series(lots_per_clinic * C)}"
        number = "(CASE WHEN l.k %% 10 = 9 THEN l.k - 1 ELSE l.k END)"
        lot = (f"('K' || (240000 + {number}) || CASE WHEN l.c > 0 AND l.k %% 4 = 3 "
               f"THEN '-' || (l.c + 1) ELSE '' END)")
        _insert(connection, KitLot, {
            "clinic": clinic_of("l.c"),
            "product": _case("l.k %% 3", [_quote(p) for p, _ in PRODUCTS]),
            "manufacturer": _case("l.k %% 3", [_quote(m) for _, m in PRODUCTS]),
            "lot_number": lot,
            "lot_key": lot,  # upper-case ASCII without spaces: its own key (practice.models.lot_key)
            "expiry_date": dialect.day(size.start, f"(l.k + 1) * {window} + 180"),
            "received_on": dialect.day(size.start, f"l.k * {window} - 30"),
            "quantity_on_hand": _rand("l.i", 0, seed, 25),
        }, f"({inner}) AS l")

    step("kit lots", KitLot, kit_lots)
    lot_base = _id_range(KitLot, using, lots_before, lots_per_clinic * C)

    # Patients: patient p (1..) belongs to clinic (p-1) % C.
    patients = size.patient_count
    patients_before = _last_id(Patient, using)

    def patient_rows():
        h = lambda k, below: _rand("i", 10 + k, seed, below)
        _insert(connection, Patient, {
            "clinic": clinic_of(f"(i - 1) %% {C}"),
            "mrn": "('R' || (10000000 + i))",
            "given_name": _case(h(0, len(GIVEN)), [_quote(n) for n in GIVEN]),
            "family_name": _case(h(1, len(FAMILY)), [_quote(n) for n in FAMILY]),
            "date_of_birth": dialect.day(date(1935, 1, 1), h(2, 21_900)),
            "sex": f"(CASE WHEN {h(3, 100)} < 49 THEN 'female' WHEN {h(3, 100)} < 98 THEN 'male' ELSE 'other' END)",
            "phone": f"(CASE WHEN {h(4, 20)} = 0 THEN '' ELSE '+1 ' || (200 + {h(5, 800)}) || ' 555 ' "
                     f"|| (1000 + {h(6, 9000)}) END)",
            "email": f"(CASE WHEN {h(7, 10)} = 0 THEN '' ELSE 'patient' || i || '@example.org' END)",
            "preferred_language": f"(CASE WHEN {h(8, 7)} = 0 THEN 'es' ELSE 'en' END)",
        }, dialect.series(patients))

    step("patients", Patient, patient_rows)
    patient_base = _id_range(Patient, using, patients_before, patients)

    # Procedures: a patient q, a day d, a status number r (0-99), a region number g.
    procedures_before = _last_id(Procedure, using)

    def procedure_rows():
        if size.chronological:
            recent = max(1, patients // 20)
            q = (f"(CASE WHEN (i - 1) * {patients} / {size.procedures} + 1 > {_rand('i', 20, seed, recent)} "
                 f"THEN (i - 1) * {patients} / {size.procedures} + 1 - {_rand('i', 20, seed, recent)} "
                 f"ELSE (i - 1) * {patients} / {size.procedures} + 1 END)")
            d = f"((i - 1) * {size.span} / {size.procedures} + {_rand('i', 21, seed, 29)} - 14)"
            d = f"(CASE WHEN {d} < 0 THEN 0 WHEN {d} >= {size.span} THEN {size.span - 1} ELSE {d} END)"
        else:
            q, d = f"({_rand('i', 20, seed, patients)} + 1)", _rand("i", 21, seed, size.span)
        inner = (f"SELECT i, {q} AS q, {d} AS d, "
                 f"{_rand('i', 22, seed, 100)} AS r, {_rand('i', 23, seed, 10)} AS g, "
                 f"{_rand('i', 24, seed, size.physicians)} AS ph, {_rand('i', 25, seed, 480)} AS m, "
                 f"{_rand('i', 26, seed, 60)} AS ahead FROM {dialect.series(size.procedures)}")
        c = f"((s.q - 1) %% {C})"
        day = f"(CASE WHEN s.r >= {CANCELLED} THEN {size.span} + s.ahead ELSE s.d END)"
        started = dialect.moment(size.start, "s.d", "780 + s.m")  # 08:00-16:00 in New York, as UTC
        region_of = lambda pick: (
            "(CASE " + " ".join(f"WHEN s.g < {sum(r[0] for r in REGIONS[:n + 1])} THEN {pick(REGIONS[n])}"
                                for n in range(len(REGIONS) - 1)) + f" ELSE {pick(REGIONS[-1])} END)")
        _insert(connection, Procedure, {
            "clinic": clinic_of(c),
            "patient": f"({patient_base} + s.q)",
            "status": f"(CASE WHEN s.r < {SIGNED} THEN 'signed' WHEN s.r < {COMPLETED} THEN 'completed' "
                      f"WHEN s.r < {IN_PROGRESS} THEN 'in_progress' WHEN s.r < {CANCELLED} THEN 'cancelled' "
                      f"ELSE 'planned' END)",
            "planned_date": dialect.day(size.start, day),
            "region": region_of(lambda r: _quote(r[1])),
            "targets": dialect.json(region_of(lambda r: _quote(r[2]))),
            "levels": dialect.json(region_of(lambda r: _quote(r[3]))),
            "kits": "(CASE WHEN s.g = 9 THEN 2 ELSE 1 END)",
            "physician": f"(CASE WHEN s.r >= {CANCELLED} AND s.ph = 0 THEN NULL ELSE "
                         f"{_case(f'{c} * {size.physicians} + s.ph', physicians)} END)",
            "prep_tech": _case(c, prep_techs),
            "started_at": f"(CASE WHEN s.r < {IN_PROGRESS} THEN {started} END)",
            "completed_at": f"(CASE WHEN s.r < {COMPLETED} THEN {dialect.moment(size.start, 's.d', '830 + s.m')} END)",
            "signed_at": f"(CASE WHEN s.r < {SIGNED} THEN {dialect.moment(size.start, 's.d', '1020 + s.m')} END)",
            "signed_by": f"(CASE WHEN s.r < {SIGNED} THEN "
                         f"{_case(f'{c} * {size.physicians} + s.ph', physicians)} END)",
            "cancelled_at": f"(CASE WHEN s.r >= {IN_PROGRESS} AND s.r < {CANCELLED} THEN "
                            f"{dialect.moment(size.start, 's.d', '720')} END)",
            "cancel_reason": f"(CASE WHEN s.r >= {IN_PROGRESS} AND s.r < {CANCELLED} "
                             f"THEN 'Patient unwell on the day' ELSE '' END)",
            "created_by": _case(c, nurses),
            "created_at": dialect.moment(size.start, f"{day} - 21", "900"),
        }, f"({inner}) AS s")

    step("procedures", Procedure, procedure_rows)
    _id_range(Procedure, using, procedures_before, size.procedures)

    # Preparations: every started procedure; the kit from its clinic's lot current on its date
    # (one in five from the previous lot, still in date).
    def preparation_rows():
        clinic_index = "(" + "CASE p.clinic_id " + " ".join(
            f"WHEN {clinic_id} THEN {index}" for index, clinic_id in enumerate(registry.clinic_ids)) + " END)"
        k = f"({dialect.days_since('p.planned_date', size.start)} / {window})"
        k = (f"(CASE WHEN {k} >= {lots_per_clinic} THEN {lots_per_clinic - 1} "
             f"WHEN {k} > 0 AND {_rand('p.id', 30, seed, 5)} = 0 THEN {k} - 1 ELSE {k} END)")
        h = lambda n, below: _rand("p.id", 31 + n, seed, below)
        platelets = f"(150 + {h(0, 250)})"
        _insert(connection, Preparation, {
            "procedure": "p.id",
            "kit_lot": f"({lot_base} + {k} * {C} + {clinic_index} + 1)",
            "centrifuge": _case(clinic_index, centrifuges),
            "whole_blood_ml": f"(27 + 3 * {h(1, 11)})",
            "anticoagulant": "'acd_a'",
            "anticoagulant_ml": f"(3 + {h(1, 11)} * 0.3)",
            "spin_speed": f"(1200 + 100 * {h(2, 6)})",
            "spin_minutes": f"(CASE WHEN {h(3, 2)} = 0 THEN 10 ELSE 15 END)",
            "spin_count": f"(1 + {h(3, 2)})",
            "baseline_platelets": platelets,
            "baseline_wbc": f"(4 + {h(4, 70)} * 0.1)",
            "prp_platelets": f"({platelets} * (3 + {h(5, 5)}) + {h(6, 100)})",
            "prp_wbc": f"({h(7, 30)} * 0.1)",
            "prp_volume_ml": f"(3 + {h(8, 5)})",
            "drawn_at": dialect.later("p.started_at", "-30"),
            "injected_at": "p.completed_at",
            "recorded_by": "p.prep_tech_id",
            "recorded_at": "p.started_at",
        }, (f"{connection.ops.quote_name(Procedure._meta.db_table)} p WHERE p.id > {procedures_before} "
            f"AND p.started_at IS NOT NULL"))

    step("preparations", Preparation, preparation_rows)

    started = time.perf_counter()
    dialect.analyze([m._meta.db_table for m in (KitLot, Patient, Procedure, Preparation)])
    registry.seconds["analyze"] = time.perf_counter() - started
    log(f"  analyze: {registry.seconds['analyze']:.1f} s")
    return registry


def _people(size: Size, using: str, registry: Registry, staff: dict, centrifuges: list[int]) -> None:
    """Clinics, their physicians, one nurse and one preparation technician each, one centrifuge each."""
    User = get_user_model()
    slugs = [SLUGS[n] if n < len(SLUGS) else f"registry-{n + 1}" for n in range(size.clinics)]
    layout = "" if size.chronological else LAYOUT_SHUFFLED
    clinics = Clinic.objects.using(using).bulk_create(
        [Clinic(slug=slug, name=f"Registry {slug.removeprefix('registry-').title()}{layout}") for slug in slugs])
    registry.clinic_ids[:] = [clinic.pk for clinic in clinics]
    password = make_password(None)
    staff.update(physicians=[], nurses=[], prep_techs=[])
    for clinic in clinics:
        users = {}
        for role, count in ((PHYSICIAN, size.physicians), (NURSE, 1), (PREP_TECH, 1)):
            users[role] = User.objects.using(using).bulk_create(
                [User(username=f"{role}{n + 1}@{clinic.slug}.test", first_name=GIVEN[(n * 7 + clinic.pk) % len(GIVEN)],
                      last_name=FAMILY[(n * 11 + clinic.pk) % len(FAMILY)], password=password) for n in range(count)])
            Membership.objects.using(using).bulk_create(
                [Membership(user=user, clinic=clinic, role=role) for user in users[role]])
        staff["physicians"].append([u.pk for u in users[PHYSICIAN]])
        staff["nurses"].append([u.pk for u in users[NURSE]])
        staff["prep_techs"].append([u.pk for u in users[PREP_TECH]])
        centrifuges.append(Equipment.objects.using(using).create(
            clinic=clinic, kind=Kind.CENTRIFUGE, manufacturer="Harvest Technologies", model="SmartPReP 2",
            serial=f"{clinic.slug.upper()}-SP2", fda_510k="K123456").pk)


# --- Reading an existing registry -----------------------------------------------------------------


def find(using: str = "default") -> dict | None:
    """What registry the database holds: {"procedures", "clinics", "chronological"}, or None when it holds none.

    Raises RegistryError when the database holds procedures of clinics that are not the registry's:
    it is not a benchmark database.
    """
    names = dict(Clinic.objects.using(using).filter(slug__startswith="registry-").values_list("pk", "name"))
    registry_clinics = list(names)
    others = Procedure.objects.using(using).exclude(clinic_id__in=registry_clinics)
    if others.exists() or Patient.objects.using(using).exclude(clinic_id__in=registry_clinics).exists():
        raise RegistryError("the database holds patients or procedures that are not a generated registry")
    if not registry_clinics:
        return None
    return {"procedures": Procedure.objects.using(using).count(), "clinics": len(registry_clinics),
            "chronological": not any(name.endswith(LAYOUT_SHUFFLED) for name in names.values())}


def lot_numbers(using: str = "default") -> list[str]:
    """The distinct lot numbers of the registry's kit lots, sorted."""
    return list(KitLot.objects.using(using).order_by("lot_number").values_list("lot_number", flat=True).distinct())
