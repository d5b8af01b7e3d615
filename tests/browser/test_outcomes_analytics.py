import pytest
from playwright.sync_api import expect

from accretion.audit.models import AuditEvent
from tests.test_outcomes_analytics import physicians, registry  # noqa: F401 - the hand-computed registry fixtures

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery"  # tests/conftest.py's staff
CSP_WATCH = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__cspViolations.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline'));
});
"""


def test_physician_sees_the_outcome_plots(live_server, browser, sign_in, shot, registry):  # noqa: F811
    page = browser.new_page()
    page.add_init_script(CSP_WATCH)
    problems = []
    page.on("console", lambda message: problems.append(message.text) if message.type in ("error", "warning") else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    sign_in(page, "physician@north.test", PASSWORD)
    response = page.goto(f"{live_server.url}/outcomes/")
    assert response.status == 200
    assert "style-src 'self'" in response.headers["content-security-policy"]  # no inline styles allowed
    expect(page.get_by_role("heading", name="Outcomes", exact=True)).to_be_visible()
    plots = page.locator("figure.plot img")
    expect(plots).to_have_count(3)
    for index in range(3):
        plots.nth(index).scroll_into_view_if_needed()
    page.wait_for_function("Array.from(document.querySelectorAll('figure.plot img')).every(i => i.complete)")
    sizes = page.eval_on_selector_all("figure.plot img", "imgs => imgs.map(i => [i.className, i.naturalWidth, "
                                                         "i.naturalHeight, i.getBoundingClientRect().width])")
    assert len(sizes) == 3 and all(width > 0 and height > 0 and shown > 300 for _, width, height, shown in sizes), sizes
    expect(page.locator("table.responders-overall")).to_contain_text("50 % (5/10)")
    expect(page.locator("#stratum-physician")).to_contain_text("Alma Quist")
    expect(page.locator("#stratum-physician")).to_contain_text("too few")
    expect(page.locator("table.funnel")).to_contain_text("83 %")
    path = shot(page, "60-outcomes")
    violations = page.evaluate("window.__cspViolations")

    # A date range with no procedure: the page says so and draws nothing.
    page.get_by_label("Procedures from").fill("2020-01-01")
    page.get_by_label("to", exact=True).fill("2020-12-31")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_text("No signed procedure in this date range")).to_be_visible()
    expect(page.locator("figure.plot img")).to_have_count(0)
    shot(page, "61-outcomes-empty-range")
    violations += page.evaluate("window.__cspViolations")

    # A reversed range: the error at the field, no figures and nothing to export.
    page.get_by_label("Procedures from").fill("2026-02-01")
    page.get_by_label("to", exact=True).fill("2026-01-01")
    with page.expect_response(lambda r: "/outcomes/" in r.url) as answer:
        page.get_by_role("button", name="Show").click()
    assert answer.value.status == 400
    expect(page.get_by_text("The end of the range is before its start.")).to_be_visible()
    expect(page.get_by_role("alert").filter(has_text="Correct the dates above")).to_be_visible()
    expect(page.locator("figure.plot img")).to_have_count(0)
    expect(page.get_by_role("link", name="PDF report")).to_have_count(0)
    shot(page, "63-outcomes-wrong-range")
    violations += page.evaluate("window.__cspViolations")
    problems.remove("Failed to load resource: the server responded with a status of 400 (Bad Request)")  # expected
    page.get_by_role("button", name="All procedures").click()
    expect(page.locator("figure.plot img")).to_have_count(3)

    page.get_by_role("link", name="Data dictionary of the export").click()
    expect(page.get_by_role("heading", name="Outcomes export: data dictionary")).to_be_visible()
    shot(page, "62-data-dictionary")
    violations += page.evaluate("window.__cspViolations")

    assert violations == [], violations
    assert problems == [], problems
    assert path.stat().st_size > 50_000
    # the page, the empty range, all procedures again (the wrong range showed nothing, so read nothing)
    assert AuditEvent.objects.filter(action="view", object_type="outcomes.analytics").count() == 3


def test_clinic_admin_sets_the_responder_thresholds_and_the_rates_follow(live_server, browser, sign_in, shot,
                                                                        registry):  # noqa: F811
    page = browser.new_page()
    sign_in(page, "clinic_admin@north.test", PASSWORD)
    page.goto(f"{live_server.url}/outcomes/")
    expect(page.locator("table.responders-overall")).to_contain_text("50 % (5/10)")
    page.get_by_role("link", name="Responder thresholds").click()
    expect(page.get_by_text("The clinic uses the published defaults")).to_be_visible()
    odi = page.locator("fieldset").filter(has_text="Oswestry")
    odi.get_by_label("Improvement of at least (points)").fill("0")
    page.get_by_role("button", name="Save thresholds").click()
    expect(odi.get_by_text("greater than or equal to 0.1")).to_be_visible()  # refused at the field, nothing saved
    odi.get_by_label("Improvement of at least (points)").fill("20")
    odi.get_by_label("or of at least (% of baseline)").fill("")
    odi.get_by_label("Source").fill("Medical director, November 2026")
    shot(page, "63-responder-thresholds")
    page.get_by_role("button", name="Save thresholds").click()
    expect(page.get_by_text("Responder thresholds saved")).to_be_visible()
    page.get_by_role("link", name="Back to the outcomes").click()
    # At 3 months ODI fell from 50 to 20, 30, 40, 42, 44, 50, 36, 38, 46, 60: only P1 and P2 improved by 20 or more.
    expect(page.locator("table.responders-overall")).to_contain_text("20 % (2/10)")
    expect(page.get_by_text("ODI (at least 20 points)")).to_be_visible()
    shot(page, "64-outcomes-own-thresholds")
