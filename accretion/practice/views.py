"""Practice pages: staff training, equipment, kit inventory.

Reading needs `practice.view`; every write has its own route guarded by
`practice.manage`, so the permission table (and the tenancy test that walks
the routes) covers each write. A write whose form is invalid renders the page
it came from again, with the errors at the fields and status 400.
"""

import copy

from django.contrib import messages
from django.db import IntegrityError
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from accretion.clinics.models import Membership
from accretion.clinics.people import staff_name
from accretion.clinics.roles import NURSE, PHYSICIAN, PREP_TECH, ROLE_NAMES
from accretion.clinics.tenancy import clinic_objects, get_clinic_object, requires
from accretion.practice import services
from accretion.practice.forms import (
    EquipmentForm,
    KitLotForm,
    ReasonForm,
    StockAdjustForm,
    TrainingFilterForm,
    TrainingModuleForm,
    TrainingRecordForm,
)
from accretion.practice.models import Equipment, KitLot, TrainingRecord

CLINICAL_ROLES = (PHYSICIAN, NURSE, PREP_TECH)
RECENT_RECORDS = 15


# --- Training ----------------------------------------------------------------------


def _memberships(request):
    rank = {role: index for index, role in enumerate(ROLE_NAMES)}
    members = list(clinic_objects(request, Membership).select_related("user"))
    return sorted(members, key=lambda m: (rank.get(m.role, 99), m.user.get_username()))


def _training_page(request, *, record_form=None, module_form=None, status=200):
    today = timezone.localdate()
    memberships = _memberships(request)
    modules = services.module_names(request.clinic)
    filters = TrainingFilterForm(request.GET or None)
    only_problems = only_clinical = False
    if filters.is_valid():
        only_problems, only_clinical = filters.cleaned_data["problems"], filters.cleaned_data["clinical"]
    shown = [m for m in memberships if m.role in CLINICAL_ROLES] if only_clinical else memberships
    rows = services.training_matrix(shown, modules, request.clinic, today)
    if only_problems:
        rows = [row for row in rows if row.has_problem]
    recent = list(clinic_objects(request, TrainingRecord).select_related("user", "verified_by")
                  .order_by("-created_at", "-id")[:RECENT_RECORDS])
    for row in recent:
        row.module_name = modules.get(row.module, row.module)
    context = {
        "today": today, "modules": modules, "rows": rows, "filters": filters,
        "filtered": only_problems or only_clinical,
        "recent": recent, "window": services.EXPIRING_WITHIN_DAYS,
        "record_form": record_form or TrainingRecordForm(memberships=memberships, modules=modules),
        "module_form": module_form or TrainingModuleForm(clinic=request.clinic),
    }
    return render(request, "practice/training.html", context, status=status)


@requires("practice.view")
def training(request):
    return _training_page(request)


@requires("practice.manage")
@require_POST
def training_record(request):
    modules = services.module_names(request.clinic)
    form = TrainingRecordForm(request.POST, memberships=_memberships(request), modules=modules)
    if not form.is_valid():
        return _training_page(request, record_form=form, status=400)
    data = form.cleaned_data
    row = services.record_training(request, user=form.user, module=data["module"],
                                   completed_on=data["completed_on"], expires_on=data["expires_on"])
    messages.success(request, f"Training recorded for {staff_name(form.user)}: {modules[row.module]}, "
                              f"valid through {row.expires_on:%Y-%m-%d}.")
    return redirect("practice:training")


@requires("practice.manage")
@require_POST
def training_module_add(request):
    form = TrainingModuleForm(request.POST, clinic=request.clinic)
    if form.is_valid():
        try:
            services.add_module(request, code=form.code, name=form.cleaned_data["name"])
        except IntegrityError:
            form.add_error("name", "The clinic already has this module.")
        else:
            messages.success(request, f"Module “{form.cleaned_data['name']}” added.")
            return redirect("practice:training")
    return _training_page(request, module_form=form, status=400)


# --- Equipment ---------------------------------------------------------------------


def _equipment_page(request, *, form=None, status=200):
    today = timezone.localdate()
    devices = [(device, services.equipment_problems(device, today))
               for device in clinic_objects(request, Equipment)]
    context = {"devices": devices, "today": today, "form": form or EquipmentForm(clinic=request.clinic)}
    return render(request, "practice/equipment.html", context, status=status)


@requires("practice.view")
def equipment(request):
    return _equipment_page(request)


@requires("practice.manage")
@require_POST
def equipment_add(request):
    form = EquipmentForm(request.POST, clinic=request.clinic)
    if form.is_valid():
        try:
            device = services.add_equipment(request, form)
        except IntegrityError:
            pass  # the form now carries the serial error
        else:
            messages.success(request, f"{device} added.")
            return redirect("practice:equipment")
    return _equipment_page(request, form=form, status=400)


@requires("practice.manage")
def equipment_edit(request, equipment_id):
    device = get_clinic_object(request, Equipment, pk=equipment_id)
    shown = copy.copy(device)  # the record as stored; validating the form writes into `device`
    form = EquipmentForm(request.POST or None, instance=device, clinic=request.clinic)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                saved = services.save_equipment(request, form)
            except services.EditConflict as conflict:
                form.add_error(None, conflict.message)
                status = 409
            except IntegrityError:
                pass
            else:
                messages.success(request, f"{saved} saved.")
                return redirect("practice:equipment")
    current = Equipment.objects.get(pk=device.pk) if status == 409 else shown
    context = {"form": form, "current": current,
               "problems": services.equipment_problems(current, timezone.localdate())}
    return render(request, "practice/equipment_edit.html", context, status=status)


# --- Kit lots ------------------------------------------------------------------------


def _kits_page(request, *, form=None, release_form=None, release_lot=None, status=200):
    today = timezone.localdate()
    usable_only = request.GET.get("usable") == "1"
    lots = []
    for lot in clinic_objects(request, KitLot):
        problems = services.kit_lot_problems(lot, today)
        if usable_only and problems:
            continue
        lot.quarantine_label = services.quarantine_label(lot)
        lot.release_form = release_form if release_lot == lot.pk else ReasonForm(auto_id=f"id_release_{lot.pk}_%s")
        lots.append((lot, services.kit_expiry_status(lot, today), problems))
    context = {"lots": lots, "today": today, "usable_only": usable_only, "window": services.EXPIRING_WITHIN_DAYS,
               "form": form or KitLotForm(clinic=request.clinic)}
    return render(request, "practice/kits.html", context, status=status)


@requires("practice.view")
def kits(request):
    return _kits_page(request)


@requires("practice.manage")
@require_POST
def kit_receive(request):
    form = KitLotForm(request.POST, clinic=request.clinic)
    if form.is_valid():
        try:
            lot = services.receive_lot(request, form)
        except IntegrityError:
            pass  # the form now carries the lot number error
        else:
            total = "" if lot.received_now == lot.quantity_on_hand else f" ({lot.quantity_on_hand} on hand)"
            messages.success(request, f"Received {lot.received_now} kits of {lot.product}, lot {lot.lot_number}{total}.")
            return redirect("practice:kits")
    return _kits_page(request, form=form, status=400)


@requires("practice.manage")
def kit_adjust(request, kit_lot_id):
    lot = get_clinic_object(request, KitLot, pk=kit_lot_id)
    form = StockAdjustForm(request.POST or None, initial={"seen": lot.quantity_on_hand})
    status, conflict = 200, None
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                lot = services.adjust_stock(request, lot, counted=data["counted"], reason=data["reason"],
                                            seen=data["seen"])
            except services.EditConflict as error:
                # Start again from the stock as it is now; the reason typed is kept.
                lot.refresh_from_db()
                status, conflict = 409, error.message
                form = StockAdjustForm(initial={"seen": lot.quantity_on_hand, "reason": data["reason"]})
            else:
                messages.success(request, f"Stock of lot {lot.lot_number} corrected to {lot.quantity_on_hand}.")
                return redirect("practice:kits")
    today = timezone.localdate()
    context = {"lot": lot, "form": form, "conflict": conflict, "problems": services.kit_lot_problems(lot, today),
               "expiry_status": services.kit_expiry_status(lot, today), "window": services.EXPIRING_WITHIN_DAYS}
    return render(request, "practice/kit_adjust.html", context, status=status)


@requires("practice.manage")
@require_POST
def kit_release(request, kit_lot_id):
    """Release a quarantined (recalled) lot: kits may be taken from it again. The reason is required and audited."""
    lot = get_clinic_object(request, KitLot, pk=kit_lot_id)
    form = ReasonForm(request.POST, auto_id=f"id_release_{lot.pk}_%s")
    if form.is_valid():
        try:
            services.release(request, lot, reason=form.cleaned_data["reason"])
        except services.EditConflict as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, f"Lot {lot.lot_number} ({lot.product}) released: its kits may be used again.")
            return redirect("practice:kits")
    return _kits_page(request, release_form=form, release_lot=lot.pk, status=400)
