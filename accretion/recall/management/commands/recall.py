"""`accretion recall LOT [--clinic SLUG] [--json]`: every procedure that used a kit lot.

An operator's tool: without --clinic it searches every clinic, since one
manufacturer's lot is often shipped to several sites. It writes one EXPORT
audit row for each clinic whose patients it lists (when it lists none, one
row for the --clinic clinic, or without a clinic), then prints the rows.
"""

import json
from itertools import groupby

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand
from django.db import transaction

from accretion.audit.log import Action, record
from accretion.cli.base import OneLineUsage, invalid, operator_name
from accretion.clinics.models import Clinic, slug_validator
from accretion.recall import services

TABLE = [
    ("procedure_date", "Date"),
    ("procedure_id", "Procedure"),
    ("status_label", "Status"),
    ("patient_name", "Patient"),
    ("mrn", "MRN"),
    ("date_of_birth", "Born"),
    ("phone", "Phone"),
    ("email", "Email"),
    ("physician", "Physician"),
]


def table(rows: list[services.RecallRow]) -> list[str]:
    """Aligned columns under a header, one line per procedure."""
    cells = [[str(getattr(row, key) or "") for key, _ in TABLE] for row in rows]
    headings = [heading for _, heading in TABLE]
    widths = [max(len(text) for text in column) for column in zip(headings, *cells)]
    lines = []
    for values in [headings, ["-" * width for width in widths], *cells]:
        lines.append("  ".join(text.ljust(width) for text, width in zip(values, widths)).rstrip())
    return lines


def render_text(lot: str, rows: list[services.RecallRow]) -> list[str]:
    clinics = sorted({row.clinic for row in rows})
    lines = [(f"Lot {lot}: {len(rows)} procedure{'s' if len(rows) != 1 else ''}, "
             f"{services.patients_count(rows)} patient{'s' if services.patients_count(rows) != 1 else ''}, "
             f"clinic{'s' if len(clinics) != 1 else ''} {', '.join(clinics)}")]
    by_lot = sorted(rows, key=lambda row: (row.clinic, row.product, row.kit_lot_id))  # stable: dates stay in order
    for (clinic, product, _), group in groupby(by_lot, key=lambda row: (row.clinic, row.product, row.kit_lot_id)):
        group = list(group)
        first = group[0]
        lines += ["", (f"{clinic}: {product} ({first.manufacturer}), lot {first.lot_number}, "
                      f"expires {first.expiry_date:%Y-%m-%d}: {len(group)} procedure{'s' if len(group) != 1 else ''}"),
                  *table(group)]
    return lines


class Command(OneLineUsage, BaseCommand):
    help = (
        "List every procedure whose PRP preparation used a kit of lot LOT: patient, contact, date, "
        "physician, clinic. Every clinic unless --clinic. Audited as an export. An unknown lot lists "
        "nothing and exits 0; bad input exits 2."
    )

    def add_arguments(self, parser):
        parser.add_argument("lot", metavar="LOT", help="The lot number, as printed on the kit.")
        parser.add_argument("--clinic", metavar="SLUG", help="Only this clinic's lots (its slug, e.g. north).")
        parser.add_argument("--json", action="store_true", dest="as_json", help="Print JSON instead of a table.")

    def handle(self, *args, lot, clinic, as_json, **options):
        try:
            lot = services.clean_lot_number(lot)
        except services.InvalidLotNumber as error:
            raise invalid(f"LOT: {error.message}") from None
        scope = self._clinic(clinic) if clinic is not None else None
        rows = services.recall(lot, clinic=scope)
        self._audit(lot, rows, scope, "json" if as_json else "text")
        if as_json:
            self._write_json(lot, scope, rows)
        elif not rows:
            self.stdout.write(f"no procedure used lot {lot}" + (f" in clinic {scope.slug}" if scope else ""))
        else:
            self.stdout.write("\n".join(render_text(lot, rows)))

    def _clinic(self, slug: str) -> Clinic:
        shown = repr(slug if len(slug) <= 60 else slug[:60] + "…")  # control characters shown escaped
        try:
            slug_validator(slug)  # also keeps NUL and other impossible characters away from the database
            return Clinic.objects.get(slug=slug)
        except (ValidationError, Clinic.DoesNotExist):
            raise invalid(f"--clinic: no clinic with the slug {shown}") from None

    def _audit(self, lot, rows, scope, output):
        by_clinic: dict[str, list] = {}
        for row in rows:
            by_clinic.setdefault(row.clinic, []).append(row)
        clinics = {c.slug: c for c in Clinic.objects.filter(slug__in=by_clinic)} if by_clinic else {}
        operator = operator_name()
        with transaction.atomic():
            if not by_clinic:
                self._audit_row(lot, [], scope, output, operator)
            for slug, clinic_rows in sorted(by_clinic.items()):
                self._audit_row(lot, clinic_rows, clinics[slug], output, operator)

    @staticmethod
    def _audit_row(lot, rows, clinic, output, operator):
        detail = services.audit_detail(lot, rows)
        kit_lots = detail["kit_lots"]
        record(None, Action.EXPORT, user=None, clinic=clinic, object_type="practice.kitlot",
               object_id=str(kit_lots[0]) if len(kit_lots) == 1 else "", username=operator,
               source="command", format=output, **detail)

    def _write_json(self, lot, scope, rows):
        data = {
            "lot": lot,
            "clinic": scope.slug if scope else None,
            "count": len(rows),
            "patients": services.patients_count(rows),
            "procedures": [row.as_dict() for row in rows],
        }
        self.stdout.write(json.dumps(data, ensure_ascii=False, indent=2))
