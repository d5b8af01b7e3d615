import pytest
from playwright.sync_api import expect

from accretion.clinics.models import Clinic

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


def collect_errors(page):
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return errors


def test_spanish_page_on_a_phone_reads_switches_language_and_prints(live_server, browser, shot):
    Clinic.objects.create(slug="north", name="Clínica Norte de Columna", phone="+1 555 0100")
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    errors = collect_errors(page)

    response = page.goto(f"{live_server.url}/learn/north/?lang=es")
    assert response.status == 200
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.get_by_role("heading", level=1)).to_have_text("Inyecciones de PRP para el dolor de espalda y de cuello")
    expect(page.get_by_text("Clínica Norte de Columna").first).to_be_visible()
    expect(page.get_by_role("link", name="+1 555 0100").first).to_have_attribute("href", "tel:+15550100")
    expect(page.get_by_text("Versión 2026.1", exact=True)).to_be_visible()
    expect(page.get_by_text("El PRP no es una cura estructural.", exact=True)).to_be_visible()
    # Nothing wider than the phone: no sideways scrolling.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    # education.css is loaded (a strict Content-Security-Policy allows only same-origin stylesheets).
    assert page.evaluate("getComputedStyle(document.querySelector('.callout.warning')).borderLeftStyle") == "solid"
    shot(page, "education-es-phone")

    page.emulate_media(media="print")
    expect(page.get_by_role("navigation", name="Idioma")).to_be_hidden()
    expect(page.locator(".edu-toc")).to_be_hidden()
    expect(page.get_by_text("Clínica Norte de Columna").first).to_be_visible()  # whom to call stays on paper
    majors = page.locator("section.major")
    assert majors.count() == 5
    assert majors.nth(0).evaluate("e => getComputedStyle(e).breakBefore") != "page"
    for i in range(1, 5):
        assert majors.nth(i).evaluate("e => getComputedStyle(e).breakBefore") == "page"
    colors = page.evaluate(
        "[...document.querySelectorAll('h1, h2, h3, p, li, a, .callout')].map(e => getComputedStyle(e).color)"
    )
    assert set(colors) == {"rgb(0, 0, 0)"}, set(colors)
    after = page.evaluate("[...document.querySelectorAll('a[href]')].map(a => getComputedStyle(a, '::after').content)")
    assert set(after) <= {"none", "normal"}, set(after)  # no link addresses on paper
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background in ("rgb(255, 255, 255)", "rgba(0, 0, 0, 0)"), background
    printed = shot(page, "education-es-print")
    pdf = page.pdf(format="Letter")
    assert pdf.startswith(b"%PDF")
    printed.with_suffix(".pdf").write_bytes(pdf)
    page.emulate_media(media="screen")

    page.get_by_role("link", name="English").click()
    expect(page).to_have_url(f"{live_server.url}/learn/north/?lang=en")
    expect(page.get_by_role("heading", level=1)).to_have_text("PRP injections for back and neck pain")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    shot(page, "education-en-phone")

    assert errors == [], errors  # no script errors or Content-Security-Policy violations
    context.close()


def test_browser_language_picks_spanish_and_unknown_clinic_is_not_found(live_server, browser, shot):
    Clinic.objects.create(slug="north", name="North Spine", phone="+1 555 0100")
    context = browser.new_context(viewport=PHONE, locale="es-MX")
    page = context.new_page()
    errors = collect_errors(page)

    page.goto(f"{live_server.url}/learn/north/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Inyecciones de PRP para el dolor de espalda y de cuello")
    expect(page.get_by_role("navigation", name="Idioma").get_by_role("link", name="English")).to_be_visible()

    response = page.goto(f"{live_server.url}/learn/nowhere/")
    assert response.status == 404
    expect(page.get_by_role("heading", name="Página no encontrada")).to_be_visible()  # the browser speaks Spanish
    expect(page.get_by_text("Revise el enlace que le dio su clínica")).to_be_visible()
    expect(page.get_by_role("link", name="Back to patients")).to_have_count(0)  # not the staff page
    shot(page, "education-unknown-clinic")
    assert errors == [e for e in errors if "404" in e], errors  # only the 404 answer itself
    context.close()
