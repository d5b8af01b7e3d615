"""Questionnaire tasks: scheduling, the patient's link, saving answers."""

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accretion.audit.log import Action, record
from accretion.clinical import followup, red_flags
from accretion.clinical.errors import FieldError
from accretion.outcomes import alerts, questionnaires, summary, tokens
from accretion.outcomes.models import Mode, QuestionnaireResponse, QuestionnaireTask
from accretion.procedures.models import Procedure, Status
from accretion.screenings.services import latest_screening


class TaskClosed(Exception):
    """The task cannot take answers now; the message is safe to show a patient."""


def _create(procedure, time_point: str, due, window) -> QuestionnaireTask:
    nonce = tokens.new_nonce()
    task = QuestionnaireTask.objects.create(
        clinic=procedure.clinic, patient=procedure.patient, procedure=procedure, time_point=time_point, due=due,
        opens_on=window.opens, closes_on=window.closes, nonce=nonce, token_digest=f"pending:{nonce}",
        instruments=questionnaires.instruments_for(procedure.region, time_point),
    )
    task.token_digest = tokens.digest(tokens.token_for(task.pk, nonce))
    task.save(update_fields=["token_digest"])
    return task


def schedule_baseline(procedure) -> QuestionnaireTask:
    """Baseline measures, open from planning until the procedure day."""
    window = followup.baseline_window(timezone.localdate(), procedure.planned_date)
    return _create(procedure, "baseline", procedure.planned_date, window)


def schedule_follow_ups(procedure) -> list[QuestionnaireTask]:
    """One task per follow-up of the signed procedure's schedule, open for the clinic's window around its due date."""
    items = list(procedure.follow_ups.all())
    windows = followup.schedule_windows(summary.procedure_day(procedure), {item.key: item.due for item in items},
                                        procedure.clinic.get_aftercare_protocol().windows)
    tasks = [_create(procedure, item.key, item.due, windows[item.key]) for item in items]
    summary.refresh(procedure)
    return tasks


def overdue(queryset, today):
    """The tasks past their due date, still open and not answered: the patients to call, soonest closing first."""
    return queryset.filter(completed_at__isnull=True, cancelled_at__isnull=True, due__lt=today,
                           closes_on__gte=today).order_by("closes_on", "id")


def cancel_tasks(procedure, reason: str, request=None) -> int:
    """Close the procedure's unanswered questionnaires with the reason (no link works, no reminder goes out)."""
    return _set_cancelled(procedure, reason[:300], request)


def reopen_tasks(procedure, request=None) -> int:
    """Open again the questionnaires a screening had closed, now that a newer one clears the patient."""
    return _set_cancelled(procedure, "", request)


def _set_cancelled(procedure, reason: str, request) -> int:
    """Cancel (with `reason`) the open unanswered tasks, or reopen (`reason` empty) the cancelled ones; audited."""
    tasks = list(QuestionnaireTask.objects.select_for_update()
                 .filter(procedure=procedure, completed_at__isnull=True, cancelled_at__isnull=bool(reason)))
    at = timezone.now() if reason else None
    for task in tasks:
        task.cancelled_at, task.cancel_reason = at, reason
        task.version += 1
        task.save(update_fields=["cancelled_at", "cancel_reason", "version"])
        change = {"cancelled": reason} if reason else {"reopened": True}
        record(request, Action.UPDATE, task, patient_id=task.patient_id, clinic=task.clinic, **change)
    return len(tasks)


def follow_screening(sender, screening, request=None, **kwargs):
    """A screening was decided or reviewed: the patient's planned procedures stop or resume their questionnaires.

    A final no (not eligible, or a physician's do not proceed) on the patient's latest screening closes
    them with the reason; a latest screening that clears the patient opens them again; a pending
    review changes nothing yet (the procedure is shown blocked until it is reviewed).
    """
    latest = latest_screening(screening.patient)
    if latest is None or latest.pk != screening.pk:
        return  # an older screening was reviewed: the newer one still counts
    planned = Procedure.objects.filter(patient_id=screening.patient_id, status=Status.PLANNED)
    for procedure in planned:
        if screening.rules_out:
            cancel_tasks(procedure, screening.not_cleared_because, request)
        elif screening.cleared_to_proceed:
            reopen_tasks(procedure, request)


def link(task: QuestionnaireTask, request=None) -> str:
    path = reverse("outcomes:patient-form", args=[tokens.token_for(task.pk, task.nonce)])
    return request.build_absolute_uri(path) if request is not None else path


def find(token: str) -> QuestionnaireTask | None:
    if not token or len(token) > 100:
        return None
    return (QuestionnaireTask.objects.select_related("patient", "clinic", "procedure")
            .filter(token_digest=tokens.digest(token)).first())


def check_open(task: QuestionnaireTask, today) -> None:
    state = task.state(today)
    if state == "completed":
        raise TaskClosed("already_submitted")
    if state == "not_open":
        raise TaskClosed("not_open")
    if state in ("expired", "cancelled"):
        raise TaskClosed(state)


def save(task: QuestionnaireTask, answers_by_instrument: dict, *, submit: bool, mode: str, user=None,
         request=None) -> QuestionnaireTask:
    """Store each instrument's answers (partial allowed); `submit` completes the task.

    Raises FieldError (the first bad answer, its field named `instrument:linkId`) or TaskClosed.
    Everything is written together or not at all.
    """
    cleaned = {}
    for instrument, answers in answers_by_instrument.items():
        if instrument not in task.instruments:
            raise FieldError(instrument, "is not part of this questionnaire")
        try:
            cleaned[instrument] = questionnaires.validate_answers(instrument, answers)
        except FieldError as error:
            raise FieldError(f"{instrument}:{error.field}", error.message) from None
    today = timezone.localdate()
    with transaction.atomic():
        current = QuestionnaireTask.objects.select_for_update().get(pk=task.pk)
        check_open(current, today)
        for instrument, answers in cleaned.items():
            QuestionnaireResponse.objects.update_or_create(
                task=current, instrument=instrument,
                defaults={"answers": answers, "score": questionnaires.score(instrument, answers),
                          "updated_at": timezone.now()},
            )
        fields = ["version"]
        current.version += 1
        if submit:
            current.completed_at = timezone.now()
            current.mode = mode
            current.entered_by = user
            fields += ["completed_at", "mode", "entered_by"]
        current.save(update_fields=fields)
        record(request, Action.UPDATE if not submit else Action.CREATE, current, patient_id=current.patient_id,
               user=user, clinic=current.clinic, submitted=submit, mode=mode)
        if submit and "safety" in cleaned:
            event = _report_safety(current, cleaned["safety"])
            # A red flag: the clinic's on-call contact is alerted once this submission is stored.
            alerts.schedule(current, red_flags.assess(cleaned["safety"]), event, mode=mode)
        summary.refresh(current.procedure)  # the outcome rows analytics read, in the same transaction
    return current


def _report_safety(task, answers):
    """A patient's safety answers that suggest a complication become an adverse event to review."""
    try:
        from accretion.adverse_events.services import report_from_safety_answers
    except ImportError:  # the adverse-event capability is not installed
        return None
    return report_from_safety_answers(task.procedure, answers, follow_up_key=task.time_point)


def answers_of(task) -> dict:
    return {r.instrument: r.answers for r in task.responses.all()}


def record_by_staff(request, task, answers_by_instrument, *, submit: bool, mode: str = Mode.PHONE):
    return save(task, answers_by_instrument, submit=submit, mode=mode, user=request.user, request=request)
