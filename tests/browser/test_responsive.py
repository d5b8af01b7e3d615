"""Every staff page at phone, tablet and desktop size: nothing wider than the screen, the menu collapses on a phone."""

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import expect

from accretion.adverse_events.models import AdverseEvent
from accretion.clinics.models import Clinic, Membership
from accretion.consents.models import Consent, Estimate
from accretion.outcomes import services as outcomes
from accretion.outcomes.models import QuestionnaireTask
from accretion.patients.models import Patient
from accretion.practice.models import Equipment, KitLot
from accretion.procedures.models import Procedure, Status, TimeOut
from accretion.screenings.models import Screening

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SIZES = {"phone": {"width": 390, "height": 844}, "tablet": {"width": 820, "height": 1180},
         "desktop": {"width": 1280, "height": 800}}

# The page's overflow and, when there is one, the outermost elements reaching past the right edge
# (elements inside a box that scrolls or clips on its own do not widen the page and are left out).
OVERFLOW = """() => {
  const width = window.innerWidth;
  const scrollWidth = document.documentElement.scrollWidth;
  if (scrollWidth <= width) return null;
  const clipped = (e) => {
    for (let p = e.parentElement; p && p !== document.body; p = p.parentElement) {
      if (getComputedStyle(p).overflowX !== 'visible') return true;
    }
    return false;
  };
  const describe = (e) => {
    const r = e.getBoundingClientRect();
    const name = e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
      [...e.classList].map(c => '.' + c).join('');
    const text = (e.innerText || e.getAttribute('href') || '').trim().replace(/\\s+/g, ' ').slice(0, 50);
    return `${name} right=${Math.round(r.right)} width=${Math.round(r.width)} "${text}"`;
  };
  const wide = [...document.body.querySelectorAll('*')].filter(
    e => e.getBoundingClientRect().right > width + 1 && !clipped(e));
  const outer = wide.filter(e => !wide.includes(e.parentElement));
  return {scrollWidth, width, elements: outer.slice(0, 6).map(describe)};
}"""


def overflow(page):
    return page.evaluate(OVERFLOW)


def _data():
    """The demo clinics plus one of each thing a staff page shows; the URLs of those pages by name."""
    call_command("demo", stdout=io.StringIO())
    north = Clinic.objects.get(slug="north")
    members = {m.role: m.user for m in north.memberships.select_related("user")}
    nurse, physician = members["nurse"], members["physician"]
    # The physician also works at the other clinic: the header shows the clinic switch.
    Membership.objects.create(user=physician, clinic=Clinic.objects.get(slug="south"), role="physician")
    today = timezone.localdate()

    planned = Procedure.objects.filter(clinic=north, status=Status.PLANNED, planned_date=today).order_by("pk").first()
    Estimate.objects.create(clinic=north, procedure=planned, currency="USD", total=1500, created_by=nurse)

    # A procedure under way: time-out done, nothing injected yet. Its patient has a consent on record.
    patient = Patient.objects.filter(clinic=north, procedures__isnull=True).order_by("mrn").first()
    screening = Screening.objects.create(
        clinic=north, patient=patient, created_by=nurse, status="decided", decision="eligible", findings=[],
        intake={"age": 61, "region": "lumbar", "diagnoses": ["facet_oa"], "planned_targets": ["facet_joint"]},
        ruleset="default-2026.1", decided_at=timezone.now())
    running = Procedure.objects.create(
        clinic=north, patient=patient, planned_date=today, region="lumbar", targets=["facet_joint"],
        levels=["L4-L5", "L5-S1"], created_by=nurse, physician=physician, prep_tech=members["prep_tech"],
        status=Status.IN_PROGRESS, started_at=timezone.now())
    estimate = Estimate.objects.create(clinic=north, procedure=running, currency="USD", total=1500, created_by=nurse)
    consent = Consent.objects.create(
        clinic=north, patient=patient, procedure=running, estimate=estimate, language="en",
        document_version="2026.1", document_html="<p>I agree to a PRP injection at L4-L5 and L5-S1.</p>",
        document_sha256="0" * 64, patient_typed_name=patient.full_name, signature_png=b"png", explained_by=nurse)
    lot = KitLot.objects.filter(clinic=north, quantity_on_hand__gt=0).order_by("expiry_date").last()
    TimeOut.objects.create(procedure=running, confirmed=[], kit_lot=lot, screening=screening, performed_by=nurse,
                           centrifuge=Equipment.objects.get(clinic=north, kind="centrifuge"),
                           imaging_unit=Equipment.objects.get(clinic=north, kind="fluoroscopy"))

    signed = Procedure.objects.filter(clinic=north, status=Status.SIGNED).order_by("pk").first()
    event = AdverseEvent.objects.create(
        clinic=north, patient=signed.patient, procedure=signed, event_type="infection", ctcae_grade=2,
        onset=signed.planned_date + timedelta(days=3), outcome="recovering", reported_by=nurse,
        description="Redness and warmth at the L4-L5 entry site, treated with oral antibiotics for seven days.")
    task = QuestionnaireTask.objects.filter(procedure__clinic=north, completed_at__isnull=True, cancelled_at__isnull=True,
                                            opens_on__lte=today, closes_on__gte=today).order_by("pk").first()
    p = f"/patients/{patient.pk}"
    clinical = {  # the physician's pages
        "today": "/", "patients": "/patients/", "patient-detail": f"{p}/", "patient-new": "/patients/new/",
        "patient-edit": f"{p}/edit/", "screening-new": f"{p}/screenings/new/",
        "screening-detail": f"/screenings/{screening.pk}/", "screening-rules": "/screenings/rules/",
        "procedure-plan": f"/patients/{signed.patient_id}/procedures/new/",
        "procedure-planned": f"/procedures/{planned.pk}/", "procedure-in-progress": f"/procedures/{running.pk}/",
        "procedure-signed": f"/procedures/{signed.pk}/", "estimate": f"/procedures/{planned.pk}/estimate/",
        "consent-sign": f"/procedures/{planned.pk}/consent/", "consent-detail": f"/consents/{consent.pk}/",
        "aftercare": f"/procedures/{signed.pk}/aftercare/", "follow-up": "/outcomes/worklist/",
        "staff-entry": f"/outcomes/tasks/{task.pk}/", "outcomes": "/outcomes/",
        "data-dictionary": "/outcomes/data-dictionary/", "adverse-events": "/adverse-events/",
        "adverse-event": f"/adverse-events/{event.pk}/", "adverse-event-new": f"{p}/adverse-events/new/",
        "account": "/accounts/password/", "two-factor": "/accounts/two-factor/",
    }
    admin = {  # the clinic administrator's pages
        "training": "/practice/training/", "equipment": "/practice/equipment/",
        "equipment-edit": f"/practice/equipment/{Equipment.objects.filter(clinic=north).first().pk}/",
        "kits": "/practice/kits/", "kit-adjust": f"/practice/kits/{lot.pk}/", "recall": "/practice/recall/",
        "recall-lot": f"/practice/recall/?lot={lot.lot_number}", "members": "/members/",
        "audit": "/audit/", "settings": "/clinic/",
        "prices": "/clinic/prices/", "screening-protocol": "/clinic/screening-protocol/",
        "procedure-protocol": "/clinic/procedure-protocol/", "aftercare-settings": "/clinic/aftercare-settings/",
        "responder-thresholds": "/clinic/responder-thresholds/",
    }
    public = {"login": "/accounts/login/", "questionnaire": outcomes.link(task), "education": "/learn/north/",
              "education-es": "/learn/north/?lang=es"}
    return {"physician@north.demo": clinical, "clinic_admin@north.demo": admin, None: public}


def test_no_staff_page_is_wider_than_the_screen(live_server, browser, sign_in, gallery):
    """Each page is opened once and laid out at each size in turn (the viewport is resized, as a tablet turned)."""
    pages = _data()
    wide, failed = [], []
    for username, urls in pages.items():
        context = browser.new_context(viewport=SIZES["desktop"])
        page = context.new_page()
        if username:
            sign_in(page, username)
        for name, url in urls.items():
            response = page.goto(live_server.url + url)
            page.wait_for_load_state()
            if response.status >= 400:
                failed.append(f"{name} ({url}): HTTP {response.status}")
            for size, viewport in SIZES.items():
                page.set_viewport_size(viewport)
                found = overflow(page)
                if found:
                    wide.append(f"{name} ({url}) at {size}: page {found['scrollWidth']} px on a "
                                f"{found['width']} px screen; widest: {'; '.join(found['elements'])}")
                gallery(page, f"{name}-{size}")
        context.close()
    assert not failed + wide, f"{len(wide)} pages scroll sideways:\n" + "\n".join(wide) + "\n" + "\n".join(failed)


def _errors(page):
    errors = []  # script errors and CSP violations
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" and "status of 400" not in m.text else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return errors


def _tappable(locator, viewport):
    """At least 44 x 44 px (a fingertip) and wholly inside the screen."""
    box = locator.bounding_box()
    assert box["height"] >= 44 and box["width"] >= 44, (locator, box)
    assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"], (locator, box)


@pytest.mark.parametrize("size", ["phone", "tablet"])
def test_the_menu_hides_the_links_until_tapped_on_a_phone_and_a_tablet(live_server, browser, sign_in, shot, size):
    call_command("demo", stdout=io.StringIO())
    physician = Membership.objects.get(user__username="physician@north.demo").user
    Membership.objects.create(user=physician, clinic=Clinic.objects.get(slug="south"), role="physician")
    viewport = SIZES[size]
    page = browser.new_context(viewport=viewport, has_touch=True).new_page()
    errors = _errors(page)
    sign_in(page, "physician@north.demo")
    header = page.locator("header.site")
    patients = header.get_by_role("link", name="Patients", exact=True)
    sign_out = header.get_by_role("button", name="Sign out")
    expect(patients).to_be_hidden()
    expect(sign_out).to_be_hidden()
    shot(page, f"menu-closed-{size}")
    _tappable(header.get_by_role("link", name="Accretion Portal"), viewport)
    menu = header.locator("summary", has_text="Menu")
    _tappable(menu, viewport)

    menu.tap()
    expect(patients).to_be_visible()
    expect(sign_out).to_be_in_viewport()
    shot(page, f"menu-open-{size}")
    for name in ["Today", "Patients", "Outcomes", "Safety", "Follow-up", "Practice", "API", "Account"]:
        _tappable(header.get_by_role("link", name=name, exact=True), viewport)
    for control in [sign_out, header.get_by_label("Active clinic"), header.get_by_role("button", name="Switch")]:
        _tappable(control, viewport)
    assert overflow(page) is None
    page.locator("body > footer").tap()  # a tap outside closes the menu
    expect(patients).to_be_hidden()
    menu.tap()
    page.keyboard.press("Escape")  # and so does Escape
    expect(patients).to_be_hidden()
    menu.tap()

    patients.tap()
    expect(page.get_by_role("heading", name="Patients")).to_be_visible()
    assert page.url == f"{live_server.url}/patients/"
    expect(patients).to_be_hidden()  # a new page starts with the menu closed

    menu.tap()  # the clinic switch works from the menu
    header.get_by_label("Active clinic").select_option(label="South Interventional Spine Clinic (Physician)")
    expect(page.locator("body > footer")).to_contain_text("South Interventional Spine Clinic")
    assert errors == [], errors


def test_the_menu_opens_without_script_and_the_desktop_header_is_one_row(live_server, browser, sign_in, shot):
    call_command("demo", stdout=io.StringIO())
    phone = browser.new_context(viewport=SIZES["phone"], java_script_enabled=False).new_page()
    sign_in(phone, "clinic_admin@north.demo")
    audit = phone.locator("header.site").get_by_role("link", name="Audit log")
    expect(audit).to_be_hidden()
    phone.locator("header.site summary").click()
    expect(audit).to_be_visible()
    audit.click()
    expect(phone.get_by_role("heading", name="Audit log")).to_be_visible()

    desktop = browser.new_context(viewport=SIZES["desktop"]).new_page()
    sign_in(desktop, "clinic_admin@north.demo")
    header = desktop.locator("header.site")
    expect(header.locator("summary")).to_be_hidden()
    items = [header.get_by_role(role, name=name, exact=True) for role, name in [
        ("link", "Accretion Portal"), ("link", "Today"), ("link", "Audit log"), ("link", "Settings"), ("link", "API"),
        ("link", "Account"), ("button", "Sign out")]]
    for item in items:
        expect(item).to_be_in_viewport()
    boxes = [item.bounding_box() for item in items]
    assert max(b["y"] for b in boxes) - min(b["y"] for b in boxes) < 12, boxes  # one row
    assert all(b["height"] < 50 for b in boxes), boxes  # no label broken over two lines
    shot(desktop, "menu-desktop")


def test_day_list_prints_without_the_navigation(live_server, browser, sign_in):
    call_command("demo", stdout=io.StringIO())
    page = browser.new_context(viewport=SIZES["desktop"]).new_page()
    sign_in(page, "nurse@north.demo")
    page.emulate_media(media="print")
    expect(page.locator("header.site nav")).to_be_hidden()
    expect(page.get_by_role("button", name="Search")).to_be_hidden()
    expect(page.get_by_role("heading", name="Today", exact=True)).to_be_visible()
    expect(page.get_by_role("heading", name="Procedures today")).to_be_visible()


@pytest.mark.parametrize("size", ["phone", "tablet"])
def test_front_desk_registers_and_plans_physician_opens_the_day(live_server, browser, sign_in, shot, size):
    call_command("demo", stdout=io.StringIO())
    viewport = SIZES[size]
    screened = Procedure.objects.filter(clinic__slug="north", status=Status.SIGNED).order_by("pk").first().patient

    desk = browser.new_context(viewport=viewport, has_touch=True).new_page()
    errors = _errors(desk)
    sign_in(desk, "front_desk@north.demo")
    desk.locator("header.site summary").tap()
    desk.locator("header.site").get_by_role("link", name="Patients", exact=True).tap()
    desk.get_by_role("button", name="New patient").tap()
    desk.get_by_label("MRN").fill("N-390")
    desk.get_by_label("Date of birth").fill("1961-07-02")
    desk.get_by_label("Given name").fill("Maximiliana")
    desk.get_by_label("Family name").fill("Wolfeschlegelsteinhausen-Bergerdorff")
    desk.get_by_label("Sex").select_option("female")
    desk.get_by_label("Email").fill("maximiliana.wolfeschlegelsteinhausen-bergerdorff@example.org")
    assert overflow(desk) is None
    shot(desk, f"path-01-register-{size}")
    desk.get_by_role("button", name="Register patient").tap()
    expect(desk.get_by_role("heading", name="Maximiliana Wolfeschlegelsteinhausen-Bergerdorff")).to_be_visible()
    assert overflow(desk) is None  # the long name and e-mail wrap
    shot(desk, f"path-02-patient-{size}")

    desk.goto(f"{live_server.url}/patients/{screened.pk}/")
    desk.get_by_role("button", name="Plan a procedure").tap()
    desk.get_by_label("Planned date").fill((timezone.localdate() + timedelta(days=7)).isoformat())
    desk.get_by_label("Region").select_option("lumbar")
    desk.get_by_label("Facet joint").check()
    desk.get_by_label("Levels").fill("L4-L5, L5-S1")
    assert overflow(desk) is None
    shot(desk, f"path-03-plan-{size}")
    desk.get_by_role("button", name="Plan procedure").tap()
    expect(desk.get_by_text("Procedure planned.")).to_be_visible()
    assert overflow(desk) is None
    shot(desk, f"path-04-planned-{size}")
    assert errors == [], errors

    physician = browser.new_context(viewport=viewport, has_touch=True).new_page()
    errors = _errors(physician)
    sign_in(physician, "physician@north.demo")
    expect(physician.get_by_role("heading", name="Today", exact=True)).to_be_visible()
    assert overflow(physician) is None
    shot(physician, f"path-05-today-{size}")
    first = Procedure.objects.filter(clinic__slug="north", status=Status.PLANNED,
                                     planned_date=timezone.localdate()).order_by("pk").first()
    physician.get_by_role("link", name=f"{first.patient.family_name}, {first.patient.given_name}").first.tap()
    expect(physician.get_by_role("heading", name="Procedure day")).to_be_visible()
    assert physician.url.endswith(f"/procedures/{first.pk}/")
    assert overflow(physician) is None
    shot(physician, f"path-06-procedure-{size}")
    assert errors == [], errors
