"""Patient mode: a signed-in screen handed to the patient for one task, closed to everything else."""

import re

import pytest
from django.test import Client

from accretion.audit.models import AuditEvent
from accretion.clinics.models import ApiToken
from accretion.consents.models import Consent
from accretion.kiosk.middleware import STATE
from accretion.outcomes.models import QuestionnaireResponse
from accretion.outcomes.services import link
from tests.conftest import screened, signed_in
from tests.test_consents import (
    SIGNATURE,
    STROKES,
    estimate,
    setup,  # noqa: F401 - fixture
)
from tests.test_tenancy import (
    METHODS,
    OBJECT_PARAMETERS,
    PARAM,
    call,
    operations,
    world,  # noqa: F401 - fixture
)

PASSWORD = "correct horse battery"
STAFF_LINKS = re.compile(r'href="/(patients|members|audit|api|clinic|outcomes|procedures|consents)\b')


@pytest.fixture(autouse=True)
def _fresh_limits(fresh_cache):
    """The rate-limit counters start at zero."""


def ready(setup, staff):  # noqa: F811
    screened(setup["patient"])
    nurse = signed_in(staff[("north", "nurse")], setup["north"])
    assert estimate(nurse, setup["procedure"]).status_code == 302
    return nurse


def hand_over(client, procedure, explained=True):
    return client.post(f"/procedures/{procedure.pk}/hand-to-patient/", {"explained": "on"} if explained else {})


def consent_data(page, **overrides):
    data = {"document_sha256": page.context["form"].initial["document_sha256"],
            "sections": [s.code for s in page.context["sections"]], "signed_by": "patient",
            "typed_name": "Rosa Martínez", "signature": SIGNATURE, "strokes": STROKES, "education_offered": "on"}
    data.update(overrides)
    return data


def assert_patient_screen(response):
    html = response.content.decode()
    assert 'data-patient-mode' in html
    assert not STAFF_LINKS.search(html), STAFF_LINKS.search(html)
    assert "Sign out" not in html and "signed in as" not in html and "@north.test" not in html
    assert "Pat Nurse" not in html and "Pat Physician" not in html


def test_hand_to_patient_needs_the_countersignature_and_is_audited(setup, staff):  # noqa: F811
    nurse = ready(setup, staff)
    refused = hand_over(nurse, setup["procedure"], explained=False)
    assert refused.status_code == 302 and STATE not in nurse.session
    response = hand_over(nurse, setup["procedure"])
    assert response.status_code == 302 and response["Location"] == "/patient-mode/"
    state = nurse.session[STATE]
    assert (state["kind"], state["id"], state["language"], state["done"]) == ("consent", setup["procedure"].pk,
                                                                                "es", False)
    row = AuditEvent.objects.filter(action="patient_mode_start").get()
    assert row.patient_id == setup["patient"].pk and row.username == "nurse@north.test"
    # A role without consent.obtain cannot hand a consent over.
    desk = signed_in(staff[("north", "front_desk")], setup["north"])
    assert hand_over(desk, setup["procedure"]).status_code == 403


def test_the_patient_signs_in_spanish_sees_thanks_and_cannot_reach_staff_pages(setup, staff):  # noqa: F811
    nurse = ready(setup, staff)
    hand_over(nurse, setup["procedure"])
    page = nurse.get("/patient-mode/")
    assert page.status_code == 200
    assert_patient_screen(page)
    html = page.content.decode()
    assert 'lang="es"' in html and "Firmar el consentimiento" in html and "I explained" not in html
    signed = nurse.post("/patient-mode/", consent_data(page))
    assert signed.status_code == 200, signed.content.decode()[:2000]
    assert "devuelva la tableta" in signed.content.decode()
    assert_patient_screen(signed)
    consent = Consent.objects.get()
    assert consent.explained_by == staff[("north", "nurse")] and consent.language == "es"
    # Still in patient mode: the thank-you again, and no second signature.
    again = nurse.post("/patient-mode/", consent_data(page))
    assert "devuelva la tableta" in again.content.decode() and Consent.objects.count() == 1
    # The staff pages answer with the patient screen.
    for url in ["/patients/", f"/patients/{setup['patient'].pk}/", f"/procedures/{setup['procedure'].pk}/", "/",
                "/audit/", f"/consents/{consent.pk}/"]:
        response = nurse.get(url, follow=True)
        assert response.redirect_chain[-1][0] == "/patient-mode/", url
        assert_patient_screen(response)
    docs = nurse.get("/api/v1/docs", headers={"Accept": "text/html"}, follow=True)
    assert docs.redirect_chain[-1][0] == "/patient-mode/"
    assert_patient_screen(docs)


def fill(route, world):  # noqa: F811
    """A URL of `route` with objects of the world (and any other parameter, such as a reset token, made up)."""
    return "/" + PARAM.sub(lambda m: str(OBJECT_PARAMETERS[m.group(1)](world)) if m.group(1) in OBJECT_PARAMETERS
                           else "x1", route)


def test_error_pages_in_patient_mode_are_the_patients_too(setup, staff):  # noqa: F811
    nurse = ready(setup, staff)
    hand_over(nurse, setup["procedure"])
    assert nurse.get("/patient-mode/nothing-here/")["Location"] == "/patient-mode/"
    strict = Client(enforce_csrf_checks=True)
    strict.cookies = nurse.cookies
    expired = strict.post("/patient-mode/", {"typed_name": "x"})  # no CSRF token: Django's 403
    assert expired.status_code == 403
    assert_patient_screen(expired)
    assert "This form expired" not in expired.content.decode()


def test_return_to_staff_needs_the_password_and_wrong_ones_are_audited(setup, staff):  # noqa: F811
    nurse = ready(setup, staff)
    hand_over(nurse, setup["procedure"])
    wrong = nurse.post("/patient-mode/return/", {"password": "not my password"})
    assert wrong.status_code == 400 and "That password is not right" in wrong.content.decode()
    assert_patient_screen(wrong)
    assert STATE in nurse.session
    failed = AuditEvent.objects.filter(action="login_failed").get()
    assert failed.username == "nurse@north.test" and failed.detail["reason"] == "return from patient mode"
    assert nurse.get("/patients/")["Location"] == "/patient-mode/"
    back = nurse.post("/patient-mode/return/", {"password": PASSWORD})
    assert back.status_code == 302 and back["Location"] == f"/procedures/{setup['procedure'].pk}/"
    assert STATE not in nurse.session
    end = AuditEvent.objects.filter(action="patient_mode_end").get()
    assert end.patient_id == setup["patient"].pk and end.detail == {"kind": "consent", "done": False}
    assert nurse.get("/patients/").status_code == 200


def test_repeated_wrong_passwords_lock_the_account_and_end_the_session(setup, staff, settings):  # noqa: F811
    nurse = ready(setup, staff)
    hand_over(nurse, setup["procedure"])
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert nurse.post("/patient-mode/return/", {"password": "guess"}).status_code == 400
    locked = nurse.post("/patient-mode/return/", {"password": "guess"})
    assert locked.status_code == 403 and "locked" in locked.content.decode()
    assert "Sign out" not in locked.content.decode()
    assert AuditEvent.objects.filter(action="locked_out", username="nurse@north.test").exists()
    assert AuditEvent.objects.filter(action="patient_mode_end").get().detail["ended_by"] == "lockout"
    # Signed out: the staff session is gone, and the account is locked for a fresh sign-in too.
    assert nurse.get("/patients/")["Location"].startswith("/accounts/login/")
    fresh = Client().post("/accounts/login/", {"username": "nurse@north.test", "password": PASSWORD})
    assert fresh.status_code == 403


def test_wrong_passwords_are_rate_limited(setup, staff, settings):  # noqa: F811
    settings.AXES_FAILURE_LIMIT = 100
    nurse = ready(setup, staff)
    hand_over(nurse, setup["procedure"])
    for _ in range(10):
        nurse.post("/patient-mode/return/", {"password": "guess"})
    slowed = nurse.post("/patient-mode/return/", {"password": PASSWORD})
    assert slowed.status_code == 400 and "Too many attempts" in slowed.content.decode()
    assert STATE in nurse.session


def test_every_staff_route_in_patient_mode_serves_the_patient_screen(world, clinics, staff, make_patient):  # noqa: F811
    """Walk the URL configuration: no page or API operation serves staff content to the patient mode session."""
    north = clinics["north"]
    nurse_user = staff[("north", "nurse")]
    nurse = signed_in(nurse_user, north)
    assert nurse.post(f"/outcomes/tasks/{world['task'].pk}/hand-to-patient/").status_code == 302
    assert nurse.session[STATE]["kind"] == "questionnaire"
    before = AuditEvent.objects.count()
    checked = 0
    for route, methods, _ in operations():
        if route.startswith("patient-mode/"):
            continue
        url = fill(route, world)
        is_api = route.startswith(("api/", "fhir/"))
        for method in methods or METHODS:
            response = call(nurse, method, url, is_api, route)
            if is_api:
                assert response.status_code == 403, (route, method, response.status_code)
                assert "patient mode" in response.json()["detail"]
            elif method == "get":
                assert response.status_code == 302 and response["Location"] == "/patient-mode/", (route, method)
            else:
                assert response.status_code == 403, (route, method, response.status_code)
                assert_patient_screen(response)
                assert "This screen is in patient mode" in response.content.decode() or \
                    "modo paciente" in response.content.decode()
            checked += 1
    assert checked > 100
    # Nothing was read or written on the way (no audit row: no patient data served).
    assert AuditEvent.objects.count() == before
    assert nurse.session[STATE]["kind"] == "questionnaire"
    # A bearer token is not the session: the API answers it as always, even from this browser.
    _, raw = ApiToken.issue(nurse_user, north, hours=1)
    assert nurse.get("/api/v1/patients", headers={"Authorization": f"Bearer {raw}"}).status_code == 200


def test_the_patient_answers_the_questionnaire_in_patient_mode(world, clinics, staff):  # noqa: F811
    nurse = signed_in(staff[("north", "nurse")], clinics["north"])
    task = world["task"]
    nurse.post(f"/outcomes/tasks/{task.pk}/hand-to-patient/")
    page = nurse.get("/patient-mode/")
    assert page.status_code == 200
    assert_patient_screen(page)
    form = page.context["form"]
    answers = {}
    for name, field in form.fields.items():
        if hasattr(field, "choices") and list(field.choices):
            answers[name] = list(field.choices)[-1][0]
        elif form.kinds[name][2] in ("integer", "decimal"):
            answers[name] = str(field.min_value if field.min_value is not None else 1)
    response = nurse.post("/patient-mode/", {**answers, "submit": "1"})
    assert response.status_code == 200 and "please hand the tablet back" in response.content.decode().lower()
    task.refresh_from_db()
    assert task.completed_at is not None and task.mode == "in_person"
    assert QuestionnaireResponse.objects.filter(task=task).exists()
    assert nurse.get("/patient-mode/").status_code == 200  # the thank-you, still in patient mode
    assert STATE in nurse.session


# --- forms that keep the work -------------------------------------------------------------------------


def test_consent_shows_every_error_at_once_and_keeps_signature_and_ticks(setup, staff):  # noqa: F811
    nurse = ready(setup, staff)
    page = nurse.get(f"/procedures/{setup['procedure'].pk}/consent/", {"lang": "en"})
    codes = [s.code for s in page.context["sections"]]
    data = consent_data(page, sections=codes[:-1], typed_name="")
    data.pop("education_offered")
    response = nurse.post(f"/procedures/{setup['procedure'].pk}/consent/?lang=en", data)
    assert response.status_code == 400
    html = response.content.decode()
    summary = response.context["summary"]
    messages = " ".join(row["message"] for row in summary)
    # All three at once: the section not confirmed, the name, the staff countersignature.
    assert "Please confirm every section" in messages and "the patient types their full name" in messages
    assert "must confirm it" in messages
    assert f'href="#section-{codes[-1]}"' in html and 'href="#id_typed_name"' in html
    # The drawn signature and the ticks come back.
    assert f'value="{SIGNATURE}"' in html and 'name="strokes"' in html
    for code in codes[:-1]:
        assert re.search(rf'value="{code}" id="section-{code}" checked', html), code
    assert not re.search(rf'value="{codes[-1]}" id="section-{codes[-1]}" checked', html)
    assert Consent.objects.count() == 0


def test_consent_errors_in_spanish_for_a_spanish_consent(setup, staff):  # noqa: F811
    nurse = ready(setup, staff)
    page = nurse.get(f"/procedures/{setup['procedure'].pk}/consent/")
    response = nurse.post(f"/procedures/{setup['procedure'].pk}/consent/",
                          consent_data(page, strokes="[]", signature="", typed_name="", sections=[]))
    html = response.content.decode()
    assert "Corrija lo siguiente antes de firmar" in html and "Firme en el recuadro." in html
    assert "Confirme cada sección" in html and "escriba su nombre completo" in html


@pytest.mark.parametrize("language, summary, invalid", [
    ("en", "Please answer questions 1, 2, 3, 4, 5", "Enter a whole number."),
    ("es", "Responda las preguntas 1, 2, 3, 4, 5", "Introduzca un número entero."),
])
def test_questionnaire_errors_in_the_patients_language_and_one_summary(world, language, summary, invalid):  # noqa: F811
    url = link(world["task"])
    empty = Client().post(url, {"lang": language, "submit": "1"})
    assert empty.status_code == 400
    html = empty.content.decode()
    assert summary in html
    assert html.count('class="field-error"') == 0  # one summary, not a message under each question
    assert html.count("question has-error") >= 5 and 'id="question-1"' in html
    assert "This field is required" not in html and "Este campo es obligatorio" not in html
    # A wrong value is explained beside its question, in the patient's language.
    nrs = next(name for name in empty.context["form"].fields if name.startswith("nrs__"))
    bad = Client().post(url, {"lang": language, "save": "1", nrs: "abc"})
    assert bad.status_code == 400 and invalid in bad.content.decode()
    assert "js/errors.js" in bad.content.decode()


def test_a_missing_answer_is_named_by_its_number(world):  # noqa: F811
    url = link(world["task"])
    page = Client().get(url, {"lang": "en"})
    form = page.context["form"]
    answers = {}
    for name, field in form.fields.items():
        if hasattr(field, "choices") and list(field.choices):
            answers[name] = next(iter(field.choices))[0]
        elif form.kinds[name][2] in ("integer", "decimal"):
            answers[name] = str(field.min_value if field.min_value is not None else 1)
    second = list(form.fields)[1]
    answers.pop(second)
    response = Client().post(url, {"lang": "en", "submit": "1", **answers})
    assert response.status_code == 400 and "Please answer question 2." in response.content.decode()
