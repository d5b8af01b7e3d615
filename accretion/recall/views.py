"""The recall page: which of the clinic's procedures used a kit lot, and how to reach the patients.

Clinic administrators (`practice.manage`) search by lot number. Only the
active clinic's lots are searched. Every search that shows or downloads
patient rows is audited: VIEW for the page, EXPORT for the CSV file.
"""

import csv
import re

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_POST

from accretion.audit.log import Action, record
from accretion.clinics.tenancy import clinic_objects, requires
from accretion.practice import services as practice
from accretion.practice.models import KitLot, lot_key
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


class QuarantineForm(forms.Form):
    lot = forms.CharField(widget=forms.HiddenInput, max_length=services.MAX_LOT_LENGTH)
    reason = forms.CharField(label="Reason for the recall", max_length=500,
                             error_messages={"required": "Give the reason for the recall."},
                             widget=forms.TextInput(attrs={"placeholder": "e.g. manufacturer notice 2026-14"}))

    clean_lot = RecallForm.clean_lot

    def clean_reason(self):
        reason = " ".join(self.cleaned_data["reason"].split())
        if not reason:
            raise forms.ValidationError("Give the reason for the recall.")
        return reason


@requires("practice.manage")
@require_GET
def recall_page(request):
    return _recall_page(request, RecallForm(request.GET if "lot" in request.GET else None))


def _recall_page(request, form, quarantine_form=None, status=200):
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
        in_stock=not rows and clinic_objects(request, KitLot).filter(lot_key=lot_key(lot)).exists(),
        csv_query=urlencode({"lot": lot, "format": "csv"}),
        stocked=[(kit, practice.quarantine_label(kit))
                 for kit in clinic_objects(request, KitLot).filter(lot_key=lot_key(lot))],
        quarantine_form=quarantine_form or QuarantineForm(initial={"lot": lot}),
    )
    return render(request, "recall/recall.html", context, status=status)


@requires("practice.manage")
@require_POST
def quarantine(request):
    """Record the recall: every lot of the clinic with this number is quarantined until released."""
    form = QuarantineForm(request.POST)
    if not form.is_valid():
        return _recall_page(request, RecallForm({"lot": form.data.get("lot", "")}), quarantine_form=form, status=400)
    lot = form.cleaned_data["lot"]
    lots = practice.quarantine(request, lot, reason=form.cleaned_data["reason"])
    if lots:
        messages.success(request, f"Lot {lot} quarantined ({len(lots)} lot{'s' if len(lots) != 1 else ''}): "
                                  "no kit of it can be used until a clinic administrator releases it.")
    else:
        messages.info(request, f"No lot {lot} in stock is left to quarantine.")
    return redirect(f"{reverse('recall:lot')}?{urlencode({'lot': lot})}")
