import io

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from accretion.patients.models import Patient

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_front_desk_registers_finds_and_opens_a_patient_other_clinic_cannot(live_server, browser, sign_in, shot):
    call_command("demo", stdout=io.StringIO())
    desk = browser.new_page()
    errors = []
    # Script errors and CSP violations; a 400 answer to an invalid form is expected.
    desk.on("console", lambda m: errors.append(m.text) if m.type == "error" and "status of 400" not in m.text else None)
    sign_in(desk, "front_desk@north.demo")
    expect(desk.get_by_role("heading", name="Today", exact=True)).to_be_visible()
    shot(desk, "00-start-page")
    desk.get_by_role("link", name="Patients").first.click()
    expect(desk.get_by_role("heading", name="Patients")).to_be_visible()
    shot(desk, "01-patient-list")

    desk.get_by_role("button", name="New patient").click()
    desk.get_by_label("MRN").fill("N-777")
    desk.get_by_label("Date of birth").fill("1957-03-14")
    desk.get_by_label("Given name").fill("Esperanza")
    desk.get_by_label("Family name").fill("Quintanilla")
    desk.get_by_label("Sex").select_option("female")
    desk.get_by_label("Preferred language").select_option("es")
    desk.get_by_label("Email").fill("not an email")
    desk.get_by_role("button", name="Register patient").click()
    expect(desk.get_by_text("Enter a valid email address.")).to_be_visible()
    shot(desk, "02-field-error")
    desk.get_by_label("Email").fill("esperanza@example.org")
    desk.get_by_role("button", name="Register patient").click()
    expect(desk.get_by_role("heading", name="Esperanza Quintanilla")).to_be_visible()

    desk.get_by_role("link", name="Patients").first.click()
    desk.get_by_role("searchbox").fill("quintan")
    result = desk.get_by_role("link", name="Quintanilla, Esperanza")
    expect(result).to_be_visible()  # live search (htmx) updated the results
    shot(desk, "03-search")
    result.click()
    expect(desk.get_by_role("heading", name="Timeline")).to_be_visible()
    expect(desk.get_by_text("No screening yet")).to_be_visible()
    shot(desk, "04-timeline")
    assert errors == [], errors  # no CSP violations or script errors

    patient = Patient.objects.get(mrn="N-777")
    south = browser.new_context().new_page()
    sign_in(south, "physician@south.demo")
    response = south.goto(f"{live_server.url}/patients/{patient.pk}/")
    assert response.status == 404
    expect(south.get_by_role("heading", name="Not found")).to_be_visible()
    expect(south.get_by_text("Quintanilla")).to_have_count(0)
    shot(south, "05-other-clinic-404")
