"""`accretion fhir-export --clinic SLUG DIR`: a clinic's records as FHIR R4 NDJSON files, for a bulk transfer.

Writes Organization.ndjson, Patient.ndjson and Procedure.ndjson (one resource
per line, streamed in batches, so memory stays flat for any clinic size) and
manifest.json in the shape of the FHIR Bulk Data export manifest. DIR must
not hold an export already; files are written under temporary names and
renamed when complete, so a stopped run never leaves a half file that looks
whole. Audited as one export row with the counts. Bad input exits 2 with one
line.
"""

import json
import os
import time
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand
from django.utils import timezone

from accretion.audit.log import Action, record
from accretion.cli.base import OneLineUsage, invalid, operator_name
from accretion.clinics.models import Clinic, slug_validator
from accretion.interop import fhir
from accretion.patients.models import Patient
from accretion.procedures.models import Procedure

BATCH = 2000
PRIVATE = 0o600


class Command(OneLineUsage, BaseCommand):
    help = ("Export a clinic's patients, procedures and organization as FHIR R4 NDJSON files with a bulk-data "
            "manifest. Audited. Bad input exits 2.")

    def add_arguments(self, parser):
        parser.add_argument("out", metavar="DIR", help="Folder for the files (created; must not hold an export).")
        parser.add_argument("--clinic", required=True, metavar="SLUG", help="The clinic to export.")

    def handle(self, *args, out, clinic, **options):
        try:
            slug_validator(clinic)
            chosen = Clinic.objects.get(slug=clinic)
        except (ValidationError, Clinic.DoesNotExist):
            raise invalid(f"--clinic: no clinic with the slug {clinic[:60]!r}") from None
        folder = Path(out)
        if folder.exists() and not folder.is_dir():
            raise invalid(f"DIR: {out!r} is a file, not a folder")
        if (folder / "manifest.json").exists():
            raise invalid(f"DIR: {out!r} holds an export already; choose another folder")
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise invalid(f"DIR: cannot create {out!r}: {error.strerror or error}") from None
        started, moment = time.perf_counter(), timezone.now()
        sources = [
            ("Organization", [chosen], fhir.organization),
            ("Patient", Patient.objects.filter(clinic=chosen).select_related("clinic").order_by("pk")
             .iterator(chunk_size=BATCH), fhir.patient),
            ("Procedure", Procedure.objects.filter(clinic=chosen).select_related("physician").order_by("pk")
             .iterator(chunk_size=BATCH), fhir.procedure),
        ]
        output = []
        for kind, rows, build in sources:
            path = folder / f"{kind}.ndjson"
            partial = path.with_suffix(".ndjson.partial")
            count = 0
            try:
                with os.fdopen(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE), "w",
                               encoding="utf-8") as handle:  # patient data: readable by its owner only
                    for row in rows:
                        handle.write(json.dumps(build(row), ensure_ascii=False, separators=(",", ":")) + "\n")
                        count += 1
                partial.replace(path)
            except OSError as error:
                raise invalid(f"DIR: cannot write {path}: {error.strerror or error}") from None
            output.append({"type": kind, "url": path.name, "count": count})
        manifest = {"transactionTime": moment.isoformat(timespec="seconds"),
                    "request": f"accretion fhir-export --clinic {chosen.slug}", "requiresAccessToken": False,
                    "output": output, "error": []}
        with os.fdopen(os.open(folder / "manifest.json", os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE), "w",
                       encoding="utf-8") as handle:
            handle.write(json.dumps(manifest, indent=2) + "\n")
        record(None, Action.EXPORT, object_type="interop.fhir_export", clinic=chosen, username=operator_name(),
               source="command", format="ndjson", counts={item["type"]: item["count"] for item in output})
        counts = ", ".join(f"{item['count']:,} {item['type']}" for item in output)
        self.stdout.write(f"FHIR export of {chosen.slug} in {folder}: {counts} ({time.perf_counter() - started:.1f} s)")
