"""Throughput of the screening rule set: decide() over 100,000 varied intakes.

Run: python bench/bench_screening.py [--count N] [--seed S] [--repeat R]

Intakes are generated with a fixed seed and parsed before timing, so only
decide() is measured, on one core, with the drug-name dictionary in the path:
medication lines are brand and generic names with strengths, routes and
frequencies as clinics type them. The first pass reads every distinct line
afresh (cold); the best of R passes is reported (lines read once are cached,
as in a running portal). Reading distinct lines without the cache is timed
too, and the dictionary's load.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from accretion.clinical import drug_names, medication_lines
from accretion.clinical.screening import (
    DEFAULT_PROTOCOL,
    DIAGNOSES,
    NEURO_RED_FLAGS,
    REGIONS,
    TARGETS,
    Intake,
    decide,
    parse_intake,
)

TARGET_RATE = 50_000

_KNOWN_NAMES = ["Eliquis", "apixaban", "Xarelto", "warfarin sodium", "Coumadin", "Pradaxa", "Lovenox",
                "Plavix", "clopidogrel bisulfate", "Brilinta", "Baby aspirin", "Excedrin Migraine", "Aggrenox",
                "Advil", "Aleve", "naproxen sodium", "Mobic", "Celebrex", "Vimovo", "Medrol", "prednisone",
                "Tylenol Extra Strength", "Percocet", "metformin ER", "lisinopril", "sertraline", "Vitamin D3",
                "gabapentin", "omeprazole", "Lipitor"]
_UNKNOWN_NAMES = ["eliquiss", "blood thinner", "heart pill", "turmeric"]
_DOSES = ["", " 5 mg", " 81mg", " 20 mg BID", " 2.5 mg PO daily", " 500 mg q6h prn", " 10 mg at bedtime"]


def _answer(rng: random.Random, yes: float = 0.05, unknown: float = 0.05) -> bool | None:
    roll = rng.random()
    if roll < unknown:
        return None
    return roll < unknown + yes


def make_intake_dict(rng: random.Random) -> dict:
    procedure = date(2024, 1, 1) + timedelta(days=rng.randrange(4 * 365))

    def days_before(limit: int) -> str:
        return (procedure - timedelta(days=rng.randrange(limit))).isoformat()

    medications_list = None
    if rng.random() > 0.08:
        medications_list = []
        for _ in range(rng.choice((0, 0, 1, 1, 2, 3, 5))):
            if rng.random() < 0.85:
                name = rng.choice(_KNOWN_NAMES) + rng.choice(_DOSES)
                if rng.random() < 0.3:
                    name = name.upper()
            else:
                name = rng.choice(_UNKNOWN_NAMES)
            last = None if rng.random() < 0.4 else days_before(60)
            medications_list.append({"name": name, "last_dose": last})

    flags = None
    if rng.random() > 0.05:
        flags = rng.sample(NEURO_RED_FLAGS, 1) if rng.random() < 0.04 else []

    return {
        "procedure_date": procedure.isoformat(),
        "age": rng.randrange(18, 95),
        "region": rng.choice(REGIONS),
        "diagnoses": rng.sample(DIAGNOSES[:7] if rng.random() < 0.6 else DIAGNOSES,
                                rng.choice((0, 1, 1, 2, 2, 3))),
        "planned_targets": rng.sample(TARGETS, rng.choice((1, 1, 2, 3))),
        "active_infection": _answer(rng, 0.02),
        "bleeding_disorder": _answer(rng, 0.02),
        "radicular_symptoms": _answer(rng, 0.25),
        "active_malignancy": _answer(rng, 0.03),
        "pregnant": _answer(rng, 0.02),
        "neuro_red_flags": flags,
        "platelet_count": None if rng.random() < 0.2 else round(rng.uniform(60, 450), 1),
        "medications": medications_list,
        "steroid_injection_last_date": None if rng.random() < 0.7 else days_before(120),
    }


def make_intakes(count: int, seed: int) -> list[Intake]:
    rng = random.Random(seed)
    today = date(2026, 1, 1)
    return [parse_intake(make_intake_dict(rng), today=today) for _ in range(count)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--repeat", type=int, default=3)
    # scripts/bench.sh passes the same arguments to every benchmark; ignore the others' options.
    args, _ = parser.parse_known_args(argv)

    start = time.perf_counter()
    drug_names.ingredients("eliquis")
    load = time.perf_counter() - start
    intakes = make_intakes(args.count, args.seed)
    lines = sorted({m.name for intake in intakes for m in intake.medications or ()})
    medication_lines.read.cache_clear()
    protocol = DEFAULT_PROTOCOL
    best = float("inf")
    passes = []
    outcomes: Counter[str] = Counter()
    for _ in range(max(1, args.repeat)):
        start = time.perf_counter()
        results = [decide(intake, protocol) for intake in intakes]
        passes.append(time.perf_counter() - start)
    best = min(passes)
    outcomes.update(r.decision for r in results)
    medication_lines.read.cache_clear()
    drug_names.ingredients.cache_clear()
    drug_names._resolve_part.cache_clear()
    start = time.perf_counter()
    for line in lines:
        medication_lines.read(line)
    cold_lines = time.perf_counter() - start

    rate = args.count / best
    print(f"drug-name dictionary ({drug_names.LIBRARY} {drug_names.library_version()}): loaded in {load:.2f} s")
    print(
        f"screening: {args.count} decisions in {best:.2f} s = {rate:,.0f} decisions/s "
        f"(ruleset {protocol.ruleset}; first pass, lines read afresh: {args.count / passes[0]:,.0f}/s)"
    )
    print(f"medication lines: {len(lines):,} distinct lines read without the cache in {cold_lines:.2f} s "
          f"= {len(lines) / cold_lines:,.0f} lines/s")
    print("outcomes: " + ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())))
    if rate < TARGET_RATE:
        print(f"below the target of {TARGET_RATE:,} decisions/s", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
