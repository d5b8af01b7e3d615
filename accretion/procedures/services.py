"""Procedure day, one use case per function, each in one transaction with the procedure row locked.

Every function takes the `version` the user's page was built from: if someone
saved the procedure since, it refuses (nothing is silently overwritten).
"""

from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from accretion.audit.log import Action, record
from accretion.clinical import aftercare as aftercare_rules
from accretion.clinical import preparation as prep_rules
from accretion.clinical import protocol as protocol_rules
from accretion.consents.services import active_consent
from accretion.outcomes import services as outcomes
from accretion.practice import services as practice
from accretion.procedures.models import Addendum, FollowUp, Injection, Preparation, Procedure, Status, TimeOut
from accretion.screenings.services import latest_screening, not_cleared

BILLING_CODE = "0232T"  # PRP injection(s), any site, including image guidance, harvesting and preparation; 1 unit/session


class Refused(Exception):
    """The step cannot be taken; the message says why. Nothing was changed."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def _lock(procedure: Procedure, version: int | None, *, allowed: tuple[str, ...]) -> Procedure:
    current = Procedure.objects.select_for_update().get(pk=procedure.pk)
    if version is not None and version != current.version:
        raise Refused("Someone else saved this procedure while you were working on it. "
                      "Nothing was saved; reload the page to see their changes.")
    if current.status not in allowed:
        raise Refused(f"This step is not possible now: the procedure is {current.get_status_display().lower()}.")
    return current


def _bump(procedure: Procedure, **fields) -> None:
    for name, value in fields.items():
        setattr(procedure, name, value)
    procedure.version += 1
    procedure.save(update_fields=[*fields, "version"])


def plan(request, patient, form) -> Procedure:
    """A planned procedure from a valid PlanProcedureForm, with its baseline questionnaire."""
    with transaction.atomic():
        procedure = form.save(commit=False)
        procedure.clinic, procedure.patient, procedure.created_by = request.clinic, patient, request.user
        procedure.save()
        record(request, Action.CREATE, procedure)
        outcomes.schedule_baseline(procedure)
    return procedure


def assign(request, procedure, *, physician, prep_tech, version) -> Procedure:
    with transaction.atomic():
        current = _lock(procedure, version, allowed=(Status.PLANNED,))
        _bump(current, physician=physician, prep_tech=prep_tech)
        record(request, Action.UPDATE, current, physician=physician.username, prep_tech=prep_tech.username)
    return current


def gate_problems(procedure, *, kit_lot, centrifuge, imaging_unit, on) -> list[str]:
    """Every hard gate that is not met, in plain words (empty = all met)."""
    problems = []
    blocked = not_cleared(procedure.patient)
    if blocked:
        problems.append(blocked)
    if active_consent(procedure) is None:
        problems.append("There is no signed consent for this procedure.")
    for role, user in (("operating physician", procedure.physician), ("preparation technician", procedure.prep_tech)):
        if user is None:
            problems.append(f"No {role} is assigned.")
        else:
            problems.extend(practice.training_gaps(user, procedure.clinic, on))
    problems.extend(practice.kit_lot_problems(kit_lot, on))
    problems.extend(practice.centrifuge_problems(centrifuge, on))
    problems.extend(practice.imaging_problems(imaging_unit, on))
    return problems


def run_timeout(request, procedure, *, confirmed, kit_lot, centrifuge, imaging_unit, version) -> TimeOut:
    today = timezone.localdate()
    with transaction.atomic():
        current = _lock(procedure, version, allowed=(Status.PLANNED,))
        problems = gate_problems(current, kit_lot=kit_lot, centrifuge=centrifuge, imaging_unit=imaging_unit, on=today)
        if problems:
            raise Refused("The time-out cannot be completed: " + " ".join(problems))
        timeout = TimeOut.objects.create(procedure=current, confirmed=list(confirmed), kit_lot=kit_lot,
                                         centrifuge=centrifuge, imaging_unit=imaging_unit,
                                         screening=latest_screening(current.patient), performed_by=request.user)
        _bump(current, status=Status.IN_PROGRESS, started_at=timezone.now())
        record(request, Action.CREATE, timeout, patient_id=current.patient_id, kit_lot=kit_lot.lot_number)
    return timeout


def preparation_input(data: dict, injected_ml) -> prep_rules.PreparationInput:
    """The pure module's view of a preparation; its FieldError names the field at fault."""
    keys = ["whole_blood_ml", "baseline_platelets", "prp_platelets", "prp_volume_ml", "baseline_wbc", "prp_wbc",
            "baseline_neutrophils", "prp_neutrophils", "activation"]
    values = {k: data.get(k) for k in keys if data.get(k) is not None}
    values["injected_ml"] = injected_ml
    return prep_rules.parse_preparation(values)


def record_preparation(request, procedure, data: dict, *, version) -> Preparation:
    """Store the preparation and take its kit from stock, together or not at all."""
    with transaction.atomic():
        current = _lock(procedure, version, allowed=(Status.IN_PROGRESS,))
        if Preparation.objects.filter(procedure=current).exists():
            raise Refused("The preparation is already recorded.")
        timeout = current.timeout
        try:
            derived = prep_rules.derive(preparation_input(data, data["prp_volume_ml"])).to_dict()
        except prep_rules.PreparationError as error:
            raise Refused(error.message, field=error.field) from None
        try:
            practice.take_kit(timeout.kit_lot, timezone.localdate())
        except practice.KitUnavailable as error:
            raise Refused(str(error), field=None) from None
        derived.pop("dose_billion", None)  # known once the injected volume is
        preparation = Preparation.objects.create(procedure=current, kit_lot=timeout.kit_lot,
                                                 centrifuge=timeout.centrifuge, derived=derived,
                                                 recorded_by=request.user, **data)
        _bump(current)
        record(request, Action.CREATE, preparation, patient_id=current.patient_id, kit_lot=timeout.kit_lot.lot_number)
    return preparation


def add_injection(request, procedure, data: dict, *, version) -> Injection:
    with transaction.atomic():
        current = _lock(procedure, version, allowed=(Status.IN_PROGRESS,))
        injection = Injection.objects.create(procedure=current, recorded_by=request.user, **data)
        _bump(current)
        record(request, Action.CREATE, injection, patient_id=current.patient_id)
    return injection


REMOVAL_CLOSED = {
    Status.PLANNED: "There is no injection to remove: the procedure has not started.",
    Status.COMPLETED: "The procedure is completed: its injection rows no longer change.",
    Status.SIGNED: "The record is signed and no longer changes: add an addendum to correct it.",
    Status.CANCELLED: "The procedure is cancelled: its record no longer changes.",
}


def remove_injection(request, procedure, injection_id: int, *, version) -> dict:
    """Remove an injection row entered by mistake, while the procedure is in progress (before completion).

    The audit row keeps the removed values; a stored image goes with the row (deleted from the storage once the
    transaction has committed). Nothing derived depends on the rows before completion: the kit was taken with the
    preparation, and the dose and the protocol checks are computed from the rows at completion.
    """
    with transaction.atomic():
        current = _lock(procedure, version, allowed=tuple(Status))
        if current.status != Status.IN_PROGRESS:
            raise Refused(REMOVAL_CLOSED[current.status])
        injection = Injection.objects.select_for_update().filter(procedure=current, pk=injection_id).first()
        if injection is None:
            raise Refused("This injection row is no longer on the record.")
        values = _injection_values(injection)
        image = injection.image.name if injection.image else ""
        storage = injection.image.storage
        record(request, Action.DELETE, injection, patient_id=current.patient_id, values=values,
               image_deleted=image or None)
        injection.delete()
        _bump(current)
        if image:
            transaction.on_commit(lambda: storage.delete(image))
    return values


def _injection_values(injection) -> dict:
    return {
        "target": injection.target, "levels": injection.levels, "side": injection.side,
        "guidance": injection.guidance, "placement_confirmed": injection.placement_confirmed,
        "volume_ml": str(injection.volume_ml), "needle_gauge": injection.needle_gauge,
        "screening_time_s": None if injection.screening_time_s is None else str(injection.screening_time_s),
        "dose_area_product": None if injection.dose_area_product is None else str(injection.dose_area_product),
        "image": injection.image.name if injection.image else "", "dicom_headers": injection.dicom_headers,
        "recorded_by": injection.recorded_by.get_username(), "recorded_at": injection.recorded_at.isoformat(),
    }


def clinic_protocol(clinic) -> protocol_rules.ProcedureProtocol:
    if clinic.procedure_protocol:
        return protocol_rules.ProcedureProtocol.from_dict(clinic.procedure_protocol)
    return protocol_rules.EXAMPLE_PROTOCOL


def complete(request, procedure, *, injected_at: datetime, version) -> Procedure:
    """Close the record: derived values with the injected volume, protocol checks and score."""
    with transaction.atomic():
        current = _lock(procedure, version, allowed=(Status.IN_PROGRESS,))
        preparation = Preparation.objects.filter(procedure=current).first()
        injections = list(current.injections.all())
        if preparation is None:
            raise Refused("Record the PRP preparation first.")
        if not injections:
            raise Refused("Record at least one injection first.")
        if injected_at <= preparation.drawn_at:
            raise Refused("The time of injection must be after the time of the draw.", field="injected_at")
        total = sum((i.volume_ml for i in injections), Decimal(0))
        data = {f: getattr(preparation, f) for f in ("whole_blood_ml", "baseline_platelets", "prp_platelets",
                                                     "prp_volume_ml", "baseline_wbc", "prp_wbc",
                                                     "baseline_neutrophils", "prp_neutrophils", "activation")}
        try:
            derived = prep_rules.derive(preparation_input(data, total))
        except prep_rules.PreparationError as error:
            raise Refused(f"{total} mL injected in all: {error.message}") from None
        protocol = clinic_protocol(current.clinic)
        minutes = int((injected_at - preparation.drawn_at).total_seconds() // 60)
        facts = protocol_rules.PreparationFacts(concentration_factor=Decimal(str(derived.concentration_factor)),
                                                minutes_from_draw_to_injection=minutes)
        shots = [protocol_rules.InjectionFacts(target=i.target, guidance=i.guidance, volume_ml=i.volume_ml,
                                               placement_confirmed=i.placement_confirmed,
                                               dose_area_product=i.dose_area_product) for i in injections]
        result = protocol_rules.check(protocol, facts, shots)
        preparation.injected_at = injected_at
        preparation.derived = derived.to_dict()
        preparation.save(update_fields=["injected_at", "derived"])
        _bump(current, status=Status.COMPLETED, completed_at=timezone.now(),
              protocol_fingerprint=protocol.fingerprint, consistency=result.to_dict()["checks"],
              consistency_score=result.score, placement_rate=protocol_rules.placement_rate(shots))
        record(request, Action.UPDATE, current, status="completed", score=str(result.score))
    return current


def deviation_keys(procedure) -> list[str]:
    return [_check_key(c) for c in procedure.consistency if c["status"] == "deviation"]


def _check_key(check: dict) -> str:
    return f"{check['code']}:{check.get('target') or ''}:{check.get('index') if check.get('index') is not None else ''}"


def sign(request, procedure, *, reasons: dict, version) -> Procedure:
    with transaction.atomic():
        current = _lock(procedure, version, allowed=(Status.COMPLETED,))
        if current.physician_id != request.user.pk:
            raise Refused("Only the operating physician signs this record.")
        missing = [key for key in deviation_keys(current) if not (reasons.get(key) or "").strip()]
        if missing:
            raise Refused("Give a reason for every protocol deviation before signing.", field="reasons")
        day = timezone.localtime(current.started_at).date() if current.started_at else current.planned_date
        plan = aftercare_rules.plan(day, current.clinic.get_aftercare_protocol())
        _bump(current, status=Status.SIGNED, signed_at=timezone.now(), signed_by=request.user,
              deviation_reasons={k: reasons[k].strip() for k in deviation_keys(current)},
              aftercare_plan=plan.to_dict(), billing_code=BILLING_CODE, billing_units=1)
        FollowUp.objects.bulk_create(
            FollowUp(clinic=current.clinic, procedure=current, key=item.key, due=item.due) for item in plan.follow_ups
        )
        outcomes.schedule_follow_ups(current)
        record(request, Action.UPDATE, current, status="signed", billing_code=BILLING_CODE)
    return current


def add_addendum(request, procedure, text: str) -> Addendum:
    with transaction.atomic():
        current = Procedure.objects.select_for_update().get(pk=procedure.pk)
        if current.status != Status.SIGNED:
            raise Refused("Addenda are for signed records; edit the record itself until it is signed.")
        addendum = Addendum.objects.create(procedure=current, author=request.user, text=text.strip())
        record(request, Action.CREATE, addendum, patient_id=current.patient_id)
    return addendum


def cancel(request, procedure, *, reason: str, version) -> Procedure:
    with transaction.atomic():
        current = _lock(procedure, version, allowed=(Status.PLANNED, Status.IN_PROGRESS))
        _bump(current, status=Status.CANCELLED, cancelled_at=timezone.now(), cancel_reason=reason.strip())
        record(request, Action.UPDATE, current, status="cancelled")
    return current
