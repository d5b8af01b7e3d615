"""Hand to patient: the staff member starts patient mode for one task; the patient does it; the staff member
takes the screen back with their password. See middleware.py for what is closed meanwhile."""

from axes.utils import reset as reset_lockout
from django import forms
from django.contrib import messages
from django.contrib.auth import authenticate, logout
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from accretion import languages
from accretion.audit.log import Action, record
from accretion.clinical import red_flags
from accretion.clinics.roles import role_has
from accretion.clinics.tenancy import get_clinic_object, requires
from accretion.consents import services as consent_services
from accretion.consents.views import sign_page
from accretion.kiosk.middleware import STATE, state_of
from accretion.outcomes.models import TASK_STATES, Mode, QuestionnaireTask
from accretion.outcomes.views import TEXT as QUESTIONNAIRE_TEXT
from accretion.outcomes.views import _questionnaire
from accretion.procedures.models import Procedure
from accretion.ratelimit import over_limit

PERMISSION = {"consent": "consent.obtain", "questionnaire": "outcomes.record"}
RETURN_LIMIT = 10  # password attempts per account per minute to leave patient mode (the lockout counts them too)

TEXT = {
    "thanks": {"en": "Please hand the tablet back to the staff.",
               "es": "Por favor, devuelva la tableta al personal."},
    "signed": {"en": "Your consent is signed.", "es": "Su consentimiento está firmado."},
    "sent": {"en": "Your answers were sent to your clinic.", "es": "Sus respuestas se enviaron a su clínica."},
    "closed": {"en": "These questions are no longer open. Please hand the tablet back to the staff.",
               "es": "Estas preguntas ya no están abiertas. Por favor, devuelva la tableta al personal."},
    "questionnaire_title": {"en": "Your questions", "es": "Sus preguntas"},
}


def _t(key, language):
    return TEXT[key][language]


def _enter(request, kind, obj, patient, **extra):
    request.session[STATE] = {
        "kind": kind, "id": obj.pk, "user": request.user.pk, "clinic": request.clinic.pk, "patient": patient.pk,
        "language": languages.pick(patient.preferred_language), "done": False, **extra,
    }
    request.session.cycle_key()  # the hand-over starts a new session key: nothing cached before applies
    record(request, Action.PATIENT_MODE_START, obj, kind=kind)
    return redirect("patient-mode:screen")


@requires("consent.obtain")
@require_POST
def start_consent(request, procedure_id):
    procedure = get_clinic_object(request, Procedure.objects.select_related("patient"), pk=procedure_id)
    back = redirect("procedures:detail", procedure_id=procedure.pk)
    blockers = consent_services.consent_blockers(procedure)
    if blockers or consent_services.active_consent(procedure) is not None:
        messages.error(request, " ".join(blockers) or "This procedure already has a signed consent.")
        return back
    if request.POST.get("explained") != "on":
        messages.error(request, "Confirm that you explained the consent to the patient before handing over.")
        return back
    return _enter(request, "consent", procedure, procedure.patient, explained=True)


@requires("outcomes.record")
@require_POST
def start_questionnaire(request, task_id):
    task = get_clinic_object(request, QuestionnaireTask.objects.select_related("patient"), pk=task_id)
    state = task.state(timezone.localdate())
    if state != "open":
        messages.error(request, f"This questionnaire is {TASK_STATES[state]}; it cannot be handed over now.")
        return redirect("procedures:detail", procedure_id=task.procedure_id)
    return _enter(request, "questionnaire", task, task.patient)


def _language(request, state):
    wanted = languages.normalize(request.GET.get("lang"))
    if wanted and wanted != state["language"]:
        state["language"] = wanted
        request.session.modified = True
    return state["language"]


def _thanks(request, state, language, message="", advice=None, status=200):
    return render(request, "kiosk/thanks.html", {"language": language, "message": message or _t("thanks", language),
                                                 "advice": advice, "state": state}, status=status)


@requires("patient.view")
def screen(request):
    """The one task of patient mode, then the thank-you screen."""
    state = state_of(request)
    if state is None:
        return redirect("home")
    language = _language(request, state)
    if state["done"]:
        return _thanks(request, state, language)
    if not role_has(request.role, PERMISSION[state["kind"]]):
        return render(request, "kiosk/refused.html", {"language": language}, status=403)
    kiosk = {"kiosk_language_url": True}
    if state["kind"] == "consent":
        procedure = get_clinic_object(request, Procedure.objects.select_related("patient", "clinic"), pk=state["id"])
        response, consent = sign_page(request, procedure, language=language, template="kiosk/consent.html",
                                      countersigned=state.get("explained", False), extra=kiosk)
        if consent is None:
            return response
        _finish(request, state, consent=consent.pk)
        return _thanks(request, state, language, _t("signed", language) + " " + _t("thanks", language))
    task = get_clinic_object(request, QuestionnaireTask.objects.select_related("patient", "clinic"), pk=state["id"])
    if task.state(timezone.localdate()) != "open":
        return _thanks(request, state, language, _t("closed", language), status=409)
    if request.method != "POST":
        record(request, Action.VIEW, task, purpose="patient_mode")
    response = _questionnaire(request, task, language, mode=Mode.IN_PERSON, template="kiosk/questionnaire.html",
                              user=request.user, done_template="kiosk/thanks.html",
                              extra={"title": _t("questionnaire_title", language), "submit": QUESTIONNAIRE_TEXT["submit"][language],
                                     "thanks": _t("thanks", language), "state": state})
    if request.method == "POST" and response.status_code == 200 and "submit" in request.POST:
        advice = getattr(response, "advice", None)
        _finish(request, state, red_flag=(advice or {}).get("urgency", ""),
                red_flag_text=" ".join((advice or {}).get("paragraphs", [])))
    return response


def _finish(request, state, **detail):
    state.update(done=True, **detail)
    request.session[STATE] = state


class ReturnForm(forms.Form):
    password = forms.CharField(label="Your password (staff)", strip=False, max_length=4096,
                               widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))


def _end(request, state, **detail):
    object_type = "procedures.procedure" if state["kind"] == "consent" else "outcomes.questionnairetask"
    record(request, Action.PATIENT_MODE_END, object_type=object_type, object_id=str(state["id"]),
           patient_id=state["patient"], kind=state["kind"], **detail)


def _back_to(state):
    if state["kind"] == "consent":
        return redirect("procedures:detail", procedure_id=state["id"])
    task = QuestionnaireTask.objects.filter(pk=state["id"]).values_list("procedure_id", flat=True).first()
    return redirect("procedures:detail", procedure_id=task) if task else redirect("home")


@requires("patient.view")
def leave(request):
    """Return to staff: the signed-in staff member's password again. Wrong ones count toward the account's
    lockout (django-axes, through `authenticate`), are rate-limited and audited as failed sign-ins."""
    state = state_of(request)
    if state is None:
        return redirect("home")
    form = ReturnForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        username = request.user.get_username()
        if over_limit(f"patient-mode-return:{request.user.pk}", RETURN_LIMIT, 60):
            form.add_error("password", "Too many attempts. Wait a minute and try again.")
        else:
            request.login_reason = "return from patient mode"  # named in the failed sign-in's audit row
            user = authenticate(request, username=username, password=form.cleaned_data["password"])
            if getattr(request, "axes_locked_out", False):
                # The account is locked: the session ends here rather than stay open on the patient's screen.
                _end(request, state, done=state["done"], ended_by="lockout")
                logout(request)
                return redirect("login")
            if user is not None and user.pk == request.user.pk:
                reset_lockout(username=username)
                request.session.pop(STATE, None)
                request.session.cycle_key()
                _end(request, state, done=state["done"])
                messages.success(request, "Back in staff mode.")
                if state.get("red_flag"):
                    urgency = "emergency" if state["red_flag"] == red_flags.EMERGENCY else "call the clinic"
                    messages.error(request, f"Red flag reported ({urgency}). The patient was shown: "
                                            + state.get("red_flag_text", ""))
                return _back_to(state)
            form.add_error("password", "That password is not right. The screen stays in patient mode.")
    return render(request, "kiosk/return.html", {"form": form, "language": state["language"], "state": state},
                  status=400 if form.errors else 200)
