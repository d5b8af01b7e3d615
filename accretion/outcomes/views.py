from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils import timezone, translation

from accretion import languages
from accretion.audit.log import Action, client_address, record
from accretion.clinical import red_flags
from accretion.clinical.errors import FieldError
from accretion.clinics.tenancy import clinic_objects, get_clinic_object, requires
from accretion.outcomes import services
from accretion.outcomes.advice import advice as red_flag_advice
from accretion.outcomes.forms import QuestionnaireForm
from accretion.outcomes.models import TASK_STATES, Mode, QuestionnaireTask
from accretion.ratelimit import over_limit

# Patient-facing words (the questions themselves come from the questionnaire files).
TEXT = {
    "title": {"en": "Your follow-up questions", "es": "Sus preguntas de seguimiento"},
    "intro": {"en": "Thank you for helping your clinic learn how you are doing. It takes about 5 minutes. "
                    "You can save and come back later with the same link.",
              "es": "Gracias por ayudar a su clínica a saber cómo está. Toma unos 5 minutos. "
                    "Puede guardar y volver más tarde con el mismo enlace."},
    "save": {"en": "Save and finish later", "es": "Guardar y terminar después"},
    "submit": {"en": "Send my answers", "es": "Enviar mis respuestas"},
    "saved": {"en": "Your answers are saved. You can come back with the same link until {date}.",
              "es": "Sus respuestas están guardadas. Puede volver con el mismo enlace hasta el {date}."},
    "thanks": {"en": "Thank you. Your answers were sent to your clinic.",
               "es": "Gracias. Sus respuestas se enviaron a su clínica."},
    "already_submitted": {"en": "These questions were already answered. Thank you.",
                          "es": "Estas preguntas ya fueron respondidas. Gracias."},
    "not_open": {"en": "These questions are not open yet. Please use the link again from {date}.",
                 "es": "Estas preguntas todavía no están abiertas. Use el enlace de nuevo a partir del {date}."},
    "expired": {"en": "This link is no longer open. If you want to tell us how you are, please call your clinic.",
                "es": "Este enlace ya no está abierto. Si quiere contarnos cómo está, llame a su clínica."},
    "cancelled": {"en": "These questions are no longer needed. If you have questions, please call your clinic.",
                  "es": "Estas preguntas ya no son necesarias. Si tiene preguntas, llame a su clínica."},
    "unknown": {"en": "This link is not valid. Please check that you copied the whole link, or call your clinic.",
                "es": "Este enlace no es válido. Revise que copió el enlace completo o llame a su clínica."},
    "slow_down": {"en": "Too many attempts. Please wait a minute and try again.",
                  "es": "Demasiados intentos. Espere un minuto e inténtelo de nuevo."},
    "missing": {"en": "Please answer questions {items}.", "es": "Responda las preguntas {items}."},
    "missing_one": {"en": "Please answer question {items}.", "es": "Responda la pregunta {items}."},
    "call": {"en": "Questions or a problem? Call {clinic}: {phone}.", "es": "¿Preguntas o algún problema? Llame a {clinic}: {phone}."},
}
RATE_LIMIT = 30  # requests per address per minute to the patient form


def _t(key, language, **values):
    return TEXT[key][language].format(**values)


def _rate_limited(request) -> bool:
    return over_limit(f"outcomes-form:{client_address(request)}", RATE_LIMIT, 60)


def patient_form(request, token):
    """The patient's questions, reached by the link only: nothing of the record beyond the questions."""
    requested = request.GET.get("lang") or request.POST.get("lang")
    if _rate_limited(request):
        language = languages.pick(requested, languages.DEFAULT_LANGUAGE)
        return render(request, "outcomes/patient_message.html", {"message": _t("slow_down", language),
                                                                 "language": language}, status=429)
    task = services.find(token)
    if task is None:
        language = languages.pick(requested)
        return render(request, "outcomes/patient_message.html", {"message": _t("unknown", language),
                                                                 "language": language}, status=404)
    language = languages.pick(requested, task.patient.preferred_language)
    today = timezone.localdate()
    state = task.state(today)
    if state != "open":
        date = task.opens_on.isoformat() if state == "not_open" else ""
        status = {"completed": 200, "not_open": 403, "expired": 410, "cancelled": 410}[state]
        message = _t({"completed": "already_submitted"}.get(state, state), language, date=date)
        return render(request, "outcomes/patient_message.html", {"message": message, "language": language,
                                                                 "task": task}, status=status)
    if request.method != "POST":
        # Whoever holds the link reads the saved answers: recorded, with the address it came from.
        record(request, Action.VIEW, task, clinic=task.clinic, via="patient_link")
    return _questionnaire(request, task, language, mode=Mode.PATIENT_LINK, template="outcomes/patient_form.html")


def _questionnaire(request, task, language, *, mode, template, user=None, done_template="outcomes/patient_message.html",
                   extra=None):
    # Django's own messages ("Enter a whole number.") in the questionnaire's language, like the questions.
    with translation.override(language):
        return _questionnaire_page(request, task, language, mode=mode, template=template, user=user,
                                   done_template=done_template, extra=extra or {})


def _questionnaire_page(request, task, language, *, mode, template, user, done_template, extra):
    form = QuestionnaireForm(request.POST or None, instruments=task.instruments, language=language,
                             initial_answers=services.answers_of(task))
    context = {"task": task, "form": form, "language": language, "other_language": "es" if language == "en" else "en",
               "text": {key: value[language] for key, value in TEXT.items()}, **extra}
    if request.method == "POST":
        valid = form.is_valid()
        submit = "submit" in request.POST
        missing = form.missing_required() if submit else []
        if missing:
            # One line naming the questions by number, not a message under each one.
            form.add_error(None, _t("missing_one" if len(missing) == 1 else "missing", language,
                                    items=", ".join(str(n) for n in missing)))
        elif valid:
            try:
                services.save(task, form.answers(), submit=submit, mode=mode, user=user, request=request)
            except FieldError as error:
                name = error.field.replace(":", "__", 1)
                form.add_error(name if name in form.fields else None, error.message)
            except services.TaskClosed as closed:
                return render(request, "outcomes/patient_message.html",
                              {"message": _t(str(closed), language, date=task.opens_on.isoformat()),
                               "language": language}, status=409)
            else:
                key = "thanks" if submit else "saved"
                context["done"] = _t(key, language, date=task.closes_on.isoformat())
                # A red flag in the safety answers: what to do now comes first, saved or sent.
                context["advice"] = red_flag_advice(red_flags.assess(form.answers().get("safety")), task.clinic,
                                                    language)
                if submit:
                    response = render(request, done_template,
                                      {"message": context["done"], "language": language, "task": task,
                                       "advice": context["advice"], **extra})
                    response.advice = context["advice"]
                    return response
    return render(request, template, context, status=400 if form.errors else 200)


@requires("outcomes.record")
def staff_entry(request, task_id):
    """Staff enter the answers given on a phone call (or in person); the mode is recorded."""
    task = get_clinic_object(request, QuestionnaireTask.objects.select_related("patient", "procedure"), pk=task_id)
    state = task.state(timezone.localdate())
    if state != "open":
        messages.error(request, f"This questionnaire is {TASK_STATES[state]}; answers cannot be entered now.")
        return redirect("procedures:detail", procedure_id=task.procedure_id)
    if request.method != "POST":
        record(request, Action.VIEW, task, purpose="staff_entry")  # the patient's name, phone and answers
    mode = Mode.IN_PERSON if request.POST.get("mode") == Mode.IN_PERSON else Mode.PHONE
    language = languages.pick(request.GET.get("lang"), task.patient.preferred_language)
    response = _questionnaire(request, task, language, mode=mode, template="outcomes/staff_entry.html",
                              user=request.user)
    if request.method == "POST" and response.status_code == 200 and "submit" in request.POST:
        messages.success(request, "Answers recorded.")
        advice = getattr(response, "advice", None)
        if advice:
            # The staff member reads the patient the same advice the patient's own link would show.
            urgency = "emergency" if advice["urgency"] == red_flags.EMERGENCY else "call the clinic"
            messages.error(request, f"Red flag reported ({urgency}). Read this to the patient now: "
                                    + " ".join(advice["paragraphs"]))
        return redirect("procedures:detail", procedure_id=task.procedure_id)
    return response


@requires("outcomes.record")
def worklist(request):
    """Open questionnaires past their due date, not answered: the patients to call, soonest closing first."""
    today = timezone.localdate()
    tasks = services.overdue(clinic_objects(request, QuestionnaireTask).select_related("patient", "procedure"), today)
    page = Paginator(tasks, 50).get_page(request.GET.get("page"))
    ids = [task.patient_id for task in page.object_list]
    if ids:
        record(request, Action.LIST, object_type="outcomes.worklist", ids=ids)
    return render(request, "outcomes/worklist.html", {"page": page, "today": today})
