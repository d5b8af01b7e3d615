"""The procedure page by role: forms for those who save them, the state read-only for the others; a mistaken
injection row removed with a confirmation; a reloaded form address leads back to the procedure."""

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from playwright.sync_api import expect

from accretion.clinics.tenancy import SESSION_KEY
from accretion.practice.models import Equipment, KitLot
from tests.browser.test_procedure_day import _ready_procedure

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE, TABLET = {"width": 390, "height": 844}, {"width": 820, "height": 1180}
CHECKLIST = ["two_identifiers", "site_confirmed", "allergies_reviewed", "antithrombotics_reviewed", "sterile_field",
             "imaging_ready", "emergency_equipment"]


def _client(user, clinic):
    client = Client()
    client.force_login(user)
    session = client.session
    session[SESSION_KEY] = clinic.pk
    session.save()
    return client


def _post(client, procedure, step, data):
    procedure.refresh_from_db()
    response = client.post(f"/procedures/{procedure.pk}/{step}/", {"version": procedure.version, **data})
    assert response.status_code == 302, response.content.decode()[:2000]


def _page(browser, sign_in, username, viewport):
    page = browser.new_context(viewport=viewport).new_page()
    sign_in(page, username)
    return page


def test_each_role_sees_what_it_may_do_and_a_mistaken_row_is_removed(live_server, browser, sign_in, shot):
    call_command("demo", stdout=io.StringIO())
    procedure = _ready_procedure()
    clinic = procedure.clinic
    members = {m.role: m.user for m in clinic.memberships.select_related("user")}
    procedure.physician, procedure.prep_tech = members["physician"], members["prep_tech"]
    procedure.save(update_fields=["physician", "prep_tech"])
    url = f"{live_server.url}/procedures/{procedure.pk}/"

    desk = _page(browser, sign_in, "front_desk@north.demo", PHONE)
    desk.goto(url)
    expect(desk.locator("#team")).to_have_text(
        "Team: Physician North (operating physician), Prep Tech North (preparation technician)")
    expect(desk.locator("#timeout-state")).to_have_text("Time-out: not yet done.")
    expect(desk.locator("#stage-day form")).to_have_count(0)
    expect(desk.get_by_role("button", name="Complete time-out and start")).to_have_count(0)
    shot(desk, "40-front-desk-planned-phone")

    nurse_client, prep_client = _client(members["nurse"], clinic), _client(members["prep_tech"], clinic)
    lot = KitLot.objects.filter(clinic=clinic, quantity_on_hand__gt=0,
                                expiry_date__gt=timezone.localdate() + timedelta(days=30)).first()
    _post(nurse_client, procedure, "timeout", {
        "kit_lot": lot.pk, "confirmed": CHECKLIST,
        "centrifuge": Equipment.objects.get(clinic=clinic, kind="centrifuge").pk,
        "imaging_unit": Equipment.objects.get(clinic=clinic, kind="fluoroscopy").pk})
    drawn = (timezone.localtime() - timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M")
    _post(prep_client, procedure, "preparation", {
        "drawn_at": drawn, "whole_blood_ml": "30", "anticoagulant": "acd_a", "anticoagulant_ml": "3",
        "spin_unit": "g", "spin_speed": "1500", "spin_minutes": "10", "spin_count": "1", "baseline_platelets": "230",
        "baseline_wbc": "6.1", "prp_platelets": "1150", "prp_wbc": "0.9", "prp_volume_ml": "4", "activation": "none"})
    row = {"target": "facet_joint", "levels": "L4-L5", "guidance": "fluoroscopy", "placement_confirmed": "yes",
           "needle_gauge": "22", "screening_time_s": "14", "dose_area_product": "0.9"}
    _post(nurse_client, procedure, "injections", {**row, "side": "left", "volume_ml": "1.2"})
    _post(nurse_client, procedure, "injections", {**row, "side": "right", "volume_ml": "12"})  # a slip: 12 for 1.2
    right, wrong = procedure.injections.order_by("id")

    prep = _page(browser, sign_in, "prep_tech@north.demo", TABLET)
    prep.goto(url)
    expect(prep.locator("table.injections tbody tr")).to_have_count(2)
    expect(prep.get_by_text("Remove", exact=True)).to_have_count(0)
    expect(prep.locator("#complete-state")).to_have_text("Completion: not yet completed.")
    expect(prep.locator("#stage-day form")).to_have_count(0)
    shot(prep, "41-prep-tech-in-progress-tablet")

    nurse = _page(browser, sign_in, "nurse@north.demo", PHONE)
    nurse.goto(url)
    wrong_row = nurse.locator(f"#injection-{wrong.pk}")
    wrong_row.get_by_text("Remove", exact=True).click()
    wrong_row.get_by_role("button", name="Remove row").click()  # without the confirmation
    expect(nurse.get_by_text("Tick the box to confirm that this row is removed.")).to_be_visible()
    assert procedure.injections.count() == 2
    wrong_row = nurse.locator(f"#injection-{wrong.pk}")
    expect(wrong_row.locator("details")).to_have_attribute("open", "")
    wrong_row.get_by_label("Yes, remove this row: it was entered by mistake").check()
    shot(nurse, "42-nurse-remove-confirm-phone")
    wrong_row.get_by_role("button", name="Remove row").click()
    expect(nurse.get_by_text("Injection row removed.")).to_be_visible()
    expect(nurse.locator("table.injections tbody tr")).to_have_count(1)
    assert list(procedure.injections.values_list("pk", flat=True)) == [right.pk]
    shot(nurse, "43-nurse-after-removal-phone")

    # A form's address opened again (a reload after a failed form, the history): a page with the way back.
    nurse.goto(f"{url}timeout/")
    expect(nurse.get_by_role("heading", name="Nothing to show at this address")).to_be_visible()
    shot(nurse, "44-reloaded-form-address-phone")
    nurse.get_by_role("button", name="Back to the procedure").click()
    expect(nurse).to_have_url(url)

    desktop = _page(browser, sign_in, "nurse@north.demo", {"width": 1280, "height": 900})
    desktop.goto(url)
    shot(desktop, "45-nurse-in-progress-desktop")
