"""The nurse hands the tablet (or phone) to the patient: consent and questionnaire in patient mode."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accretion.consents.models import Consent, PriceList
from accretion.outcomes.models import QuestionnaireTask
from accretion.outcomes.services import schedule_baseline
from accretion.procedures.models import Procedure
from tests.browser.test_consent import draw_signature
from tests.conftest import screened, signed_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
TABLET = {"width": 820, "height": 1180}
PHONE = {"width": 390, "height": 844}
PASSWORD = "correct horse battery"
PRICES = {"currency": "USD", "consultation": "250.00", "prp_kit": "450.00", "injection_target": "300.00",
          "additional_level": "150.00", "image_guidance": "200.00", "follow_up_visit": "95.50"}
CASES = [pytest.param(TABLET, "es", id="tablet-es"), pytest.param(PHONE, "en", id="phone-en")]
WORDS = {
    "es": {"heading": "Consentimiento para una inyección", "confirm": "He leído esta sección",
           "name": "Su nombre completo", "sign": "Firmar el consentimiento", "thanks": "devuelva la tableta",
           "summary": "Corrija lo siguiente antes de firmar", "send": "Enviar mis respuestas",
           "answer": "Responda las preguntas 1, 2, 3"},
    "en": {"heading": "Consent to a platelet-rich plasma", "confirm": "I have read this section",
           "name": "Your full name", "sign": "Sign consent", "thanks": "please hand the tablet back",
           "summary": "Please correct the following before signing", "send": "Send my answers",
           "answer": "Please answer questions 1, 2, 3"},
}


@pytest.fixture
def ready(clinics, staff, make_patient):
    def make(language):
        north = clinics["north"]
        given, family = ("Rosa", "Martínez") if language == "es" else ("Ada", "Byron")
        patient = make_patient(north, preferred_language=language, given_name=given, family_name=family)
        PriceList.objects.get_or_create(clinic=north, defaults=PRICES)
        screened(patient)
        procedure = Procedure.objects.create(
            clinic=north, patient=patient, planned_date=timezone.localdate() + timedelta(days=10), region="lumbar",
            targets=["facet_joint"], levels=["L4-L5"], kits=1, created_by=staff[("north", "nurse")])
        desk = signed_in(staff[("north", "nurse")], north)
        assert desk.post(f"/procedures/{procedure.pk}/estimate/", {"kits": 1, "follow_up_visits": 2}).status_code == 302
        return procedure

    return make


def seen(page, shot, name):
    """The full page, and what the screen shows at this moment (the viewport)."""
    shot(page, name)
    page.screenshot(path=str(shot(page, name).with_name(f"{name}-screen.png")))


def no_staff_menu(page):
    for href in ("/patients/", "/audit/", "/members/", "/api/v1/docs", "/outcomes/worklist/"):
        expect(page.locator(f"a[href^='{href}']")).to_have_count(0)
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
    expect(page.locator("body")).not_to_contain_text("nurse@north.test")  # no staff names either
    expect(page.locator("body")).not_to_contain_text("Pat Nurse")


def touch_sized(page, selector):
    heights = page.eval_on_selector_all(selector, "els => els.filter(e => e.offsetParent).map(e => e.getBoundingClientRect().height)")
    assert heights and min(heights) >= 48, (selector, heights)


def return_to_staff(page, shot, name):
    page.locator("footer").get_by_role("button", name=re.compile("Return to staff")).click()
    page.get_by_label("Your password (staff)").fill("not the password")
    page.locator("main").get_by_role("button", name="Return to staff").click()
    expect(page.get_by_text("That password is not right")).to_be_visible()
    no_staff_menu(page)
    shot(page, f"{name}-return-refused")
    page.get_by_label("Your password (staff)").fill(PASSWORD)
    page.locator("main").get_by_role("button", name="Return to staff").click()
    expect(page.get_by_text("Back in staff mode.")).to_be_visible()


@pytest.mark.parametrize("viewport, language", CASES)
def test_nurse_hands_the_consent_to_the_patient(live_server, browser, sign_in, shot, ready, viewport, language):
    procedure = ready(language)
    words = WORDS[language]
    name = f"60-kiosk-consent-{viewport['width']}"
    page = browser.new_context(viewport=viewport, has_touch=True).new_page()
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" and "status of 400" not in m.text else None)
    sign_in(page, "nurse@north.test", PASSWORD)
    page.goto(f"{live_server.url}/procedures/{procedure.pk}/")
    hand = page.locator("form.hand-to-patient", has=page.locator("input[name=explained]"))
    hand.scroll_into_view_if_needed()
    page.screenshot(path=str(shot(page, f"{name}-procedure").with_name(f"{name}-procedure-screen.png")))
    hand.get_by_label("I explained this consent").check()
    hand.get_by_role("button", name="Hand to patient").click()

    expect(page).to_have_url(f"{live_server.url}/patient-mode/")
    expect(page.get_by_role("heading", name=re.compile(words["heading"]))).to_be_visible()
    seen(page, shot, f"{name}-start")
    expect(page.locator("html")).to_have_attribute("lang", language)
    no_staff_menu(page)
    expect(page.get_by_label("I explained this consent")).to_have_count(0)  # confirmed when handing over
    touch_sized(page, "main button, main input[type=text], main label:has(input[type=checkbox])")
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]

    # The patient ticks all sections but one, signs, forgets the name: every error at once, nothing lost.
    boxes = page.get_by_label(words["confirm"]).all()
    for box in boxes[:-1]:
        box.check()
    draw_signature(page)
    page.get_by_role("button", name=words["sign"]).click()
    summary = page.locator("[data-error-summary]")
    expect(summary).to_contain_text(words["summary"])
    expect(summary.locator("li")).to_have_count(2)
    expect(summary).to_be_focused()
    seen(page, shot, f"{name}-errors")
    assert [box.is_checked() for box in page.get_by_label(words["confirm"]).all()] == \
        [True] * (len(boxes) - 1) + [False]
    assert page.locator("input[name=signature]").input_value().startswith("data:image/png;base64,")
    drawn = page.evaluate("""() => { const c = document.querySelector('canvas[data-signature-pad]');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++; return n; }""")
    assert drawn > 100, drawn  # the canvas shows the signature again
    assert Consent.objects.count() == 0

    # Completed without drawing again.
    page.get_by_label(words["confirm"]).last.check()
    page.get_by_label(words["name"]).fill(procedure.patient.full_name)
    page.get_by_role("button", name=words["sign"]).click()
    expect(page.get_by_text(words["thanks"])).to_be_visible()
    no_staff_menu(page)
    shot(page, f"{name}-thanks")
    consent = Consent.objects.get()
    assert consent.language == language and consent.sections_confirmed

    # The patient tries a staff page by its address: the patient screen again.
    page.goto(f"{live_server.url}/patients/")
    expect(page).to_have_url(f"{live_server.url}/patient-mode/")
    expect(page.get_by_text(words["thanks"])).to_be_visible()
    no_staff_menu(page)

    return_to_staff(page, shot, name)
    expect(page).to_have_url(f"{live_server.url}/procedures/{procedure.pk}/")
    expect(page.get_by_role("link", name=re.compile("Consent signed"))).to_be_visible()
    page.get_by_role("banner").locator("summary").click()  # the staff menu is back (behind Menu on a tablet or phone)
    expect(page.get_by_role("banner").get_by_role("link", name="Patients")).to_be_visible()
    assert errors == [], errors


@pytest.mark.parametrize("viewport, language", CASES)
def test_nurse_hands_the_questionnaire_to_the_patient(live_server, browser, sign_in, shot, ready, viewport, language):
    procedure = ready(language)
    task = schedule_baseline(procedure)
    words = WORDS[language]
    name = f"61-kiosk-questionnaire-{viewport['width']}"
    page = browser.new_context(viewport=viewport, has_touch=True).new_page()
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" and "status of 400" not in m.text else None)
    sign_in(page, "nurse@north.test", PASSWORD)
    page.goto(f"{live_server.url}/procedures/{procedure.pk}/")
    page.locator(f"form[action='/outcomes/tasks/{task.pk}/hand-to-patient/']").get_by_role(
        "button", name="Hand to patient").click()
    expect(page).to_have_url(f"{live_server.url}/patient-mode/")
    no_staff_menu(page)
    expect(page.locator("html")).to_have_attribute("lang", language)

    # Sent empty: one line naming the questions by number, and the focus on it.
    page.get_by_role("button", name=words["send"]).click()
    summary = page.locator("[data-error-summary]")
    expect(summary).to_contain_text(words["answer"])
    expect(summary).to_be_focused()
    expect(page.locator(".field-error")).to_have_count(0)
    seen(page, shot, f"{name}-missing")

    for group in page.locator("div[role=radiogroup]").all():
        group.locator("input[type=radio]").first.check()
    for number in page.locator("main input[type=number]").all():
        number.fill(number.get_attribute("min") or "1")
    touch_sized(page, "main button[type=submit], main input[type=number]")
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    page.get_by_role("button", name=words["send"]).click()
    expect(page.get_by_text(words["thanks"])).to_be_visible()
    shot(page, f"{name}-thanks")
    task = QuestionnaireTask.objects.get(pk=task.pk)
    assert task.completed_at is not None and task.mode == "in_person"

    page.goto(f"{live_server.url}/patients/")
    expect(page).to_have_url(f"{live_server.url}/patient-mode/")
    no_staff_menu(page)
    return_to_staff(page, shot, name)
    expect(page).to_have_url(f"{live_server.url}/procedures/{procedure.pk}/")
    expect(page.locator("table").get_by_text("completed")).to_be_visible()
    assert errors == [], errors
