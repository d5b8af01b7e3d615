"""The recall page: which of the clinic's procedures used a kit lot, and how to reach the patients.

Clinic administrators (`practice.manage`) search by lot number. Only the
active clinic's lots are searched. Every search that shows or downloads
patient rows is audited: VIEW for the page, EXPORT for the CSV file.
"""

import csv
import re

from django import forms
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.http import urlencode
from django.views.decorators.http import require_GET

from accretion.audit.log import Action, record
from accretion.clinics.tenancy import clinic_objects, requires
from accretion.practice.models import KitLot
from accretion.recall import services

# Cells a spreadsheet would run as a formula start with one of these; they are prefixed with '.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


class RecallForm(forms.Form):
    lot = forms.CharField(label="Lot number", max_length=services.MAX_LOT_LENGTH,
                          widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}))
    format = forms.ChoiceField(choices=[("", "page"), ("csv", "CSV")], required=False)

    def clean_lot(self):
        try:
            return services.clean_lot_number(self.cleaned_data["lot"])
        except services.InvalidLotNumber as error:
            raise forms.ValidationError(error.message[0].upper() + error.message[1:] + ".") from None


def _audit(request, action, lot, rows, **extra):
    detail = services.audit_detail(lot, rows)
    kit_lots = detail["kit_lots"]
    record(request, action, object_type="practice.kitlot",
           object_id=str(kit_lots[0]) if len(kit_lots) == 1 else "", **detail, **extra)


def _cell(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def _csv_response(lot, rows):
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", lot).strip("._") or "lot"
    response["Content-Disposition"] = f'attachment; filename="recall-{safe}.csv"'
    response.write("\ufeff")  # lets spreadsheet programs read the file as UTF-8
    writer = csv.writer(response)
    writer.writerow([heading for _, heading in services.COLUMNS])
    for row in rows:
        writer.writerow([_cell(getattr(row, key)) for key, _ in services.COLUMNS])
    return response


@requires("practice.manage")
@require_GET
def recall_page(request):
    form = RecallForm(request.GET if "lot" in request.GET else None)
    context = {"form": form, "lot": None, "rows": None}
    if not form.is_bound:
        return render(request, "recall/recall.html", context)
    if not form.is_valid():
        return render(request, "recall/recall.html", context, status=400)

    lot = form.cleaned_data["lot"]
    rows = services.recall(lot, clinic=request.clinic)
    if form.cleaned_data["format"] == "csv":
        _audit(request, Action.EXPORT, lot, rows, format="csv")
        return _csv_response(lot, rows)

    _audit(request, Action.VIEW, lot, rows)
    kit_lots = {}
    for row in rows:
        kit_lots.setdefault(row.kit_lot_id, row)
    context.update(
        lot=lot,
        rows=rows,
        patients=services.patients_count(rows),
        kit_lots=list(kit_lots.values()),
        in_stock=not rows and clinic_objects(request, KitLot).filter(lot_number=lot).exists(),
        csv_query=urlencode({"lot": lot, "format": "csv"}),
    )
    return render(request, "recall/recall.html", context)
