import io
import subprocess

import pytest
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import expect

from accretion.patients.models import Patient
from accretion.procedures.models import Procedure
from accretion.screenings.models import Screening

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SIZES = {"desktop": (1280, 800), "tablet": (820, 1180), "phone": (390, 844)}


def _screened_patient():
    patient = Patient.objects.filter(clinic__slug="north", procedures__isnull=True).order_by("mrn").first()
    Screening.objects.create(clinic=patient.clinic, patient=patient, created_by=patient.clinic.memberships.first().user,
                             status="decided", decision="eligible", findings=[], intake={"diagnoses": ["facet_oa"]},
                             ruleset="default-2026.1", decided_at=timezone.now())
    return patient


def test_planning_a_slot_today_by_room_and_physician_the_week_and_the_day_list(live_server, browser, sign_in, shot,
                                                                                tmp_path):
    call_command("demo", stdout=io.StringIO())
    patient = _screened_patient()
    today = timezone.localdate()

    nurse = browser.new_page(viewport={"width": 1280, "height": 800})
    sign_in(nurse, "nurse@north.demo")
    nurse.goto(f"{live_server.url}/patients/{patient.pk}/procedures/new/")
    nurse.get_by_label("Planned date").fill(today.isoformat())
    nurse.get_by_label("Start time").fill("09:00")  # the demo's 08:30 in room 1 runs 45 minutes
    nurse.get_by_label("Expected duration (minutes)").fill("25")
    nurse.get_by_label("Room").select_option("Procedure room 1")
    nurse.get_by_label("Operating physician").select_option(label="Physician North")
    nurse.get_by_label("Region").select_option("lumbar")
    nurse.get_by_label("Facet joint").check()
    nurse.get_by_label("Levels").fill("L4-L5")
    nurse.get_by_role("button", name="Plan procedure").click()
    warning = nurse.locator("#overlaps")
    expect(warning).to_contain_text("This slot overlaps 1 other booking that day.")
    expect(warning).to_contain_text("08:30–09:15 · Procedure room 1 · Physician North · same room and physician")
    shot(nurse, "schedule-10-plan-overlap-desktop")
    nurse.get_by_role("button", name="Plan anyway").click()
    expect(nurse.get_by_text("It overlaps another booking of the room or the physician.")).to_be_visible()
    expect(nurse.locator("p.slot")).to_contain_text("09:00–09:25 (25 min) · Procedure room 1")
    planned = Procedure.objects.get(patient=patient)
    slot = (planned.start_time.strftime("%H:%M"), planned.room, planned.duration_minutes)
    assert slot == ("09:00", "Procedure room 1", 25)

    # A bad time is a field error, not a page error.
    nurse.goto(f"{live_server.url}/patients/{patient.pk}/procedures/new/")
    nurse.get_by_label("Expected duration (minutes)").fill("481")
    nurse.get_by_role("button", name="Plan procedure").click()
    expect(nurse.get_by_text("At most 480 minutes (eight hours).")).to_be_visible()
    nurse.close()

    for size, (width, height) in SIZES.items():
        page = browser.new_page(viewport={"width": width, "height": height})
        sign_in(page, "nurse@north.demo")
        page.goto(f"{live_server.url}/?by=room")
        groups = page.locator("h3.schedule-group")
        expect(groups.first).to_contain_text("Procedure room 1")
        expect(page.locator("ul.schedule").first.locator("li").first).to_contain_text("08:30–09:15")
        expect(page.locator("li.overlapping").first).to_contain_text("overlaps: room and physician")
        expect(page.get_by_text("time not set")).to_be_visible()
        shot(page, f"schedule-20-today-by-room-{size}")
        page.get_by_role("link", name="By physician").click()
        expect(page.locator("h3.schedule-group").first).to_contain_text("Physician North")
        shot(page, f"schedule-21-today-by-physician-{size}")
        page.get_by_role("link", name="This week").click()
        expect(page.locator("h1")).to_have_text("Week schedule")
        expect(page.locator("article.week-day.today")).to_contain_text("09:00–09:25")
        shot(page, f"schedule-30-week-{size}")
        page.get_by_role("link", name="Next week →").click()
        expect(page.get_by_role("link", name="This week")).to_be_visible()
        page.goto(f"{live_server.url}/schedule/week/?start=not-a-day")
        expect(page.get_by_text("Not a date: “not-a-day”.")).to_be_visible()
        page.goto(f"{live_server.url}/schedule/day/print/?by=room")
        expect(page.locator("h2").first).to_have_text("Procedure room 1")
        shot(page, f"schedule-35-day-list-by-room-{size}")
        page.goto(f"{live_server.url}/patients/{patient.pk}/procedures/new/")
        shot(page, f"schedule-05-plan-{size}")
        page.close()

    printer = browser.new_page(viewport={"width": 1280, "height": 800})
    sign_in(printer, "nurse@north.demo")
    printer.goto(f"{live_server.url}/")
    printer.get_by_role("link", name="Print day list").click()
    expect(printer.locator("table.day-list tbody tr")).to_have_count(5)
    expect(printer.locator("table.day-list")).to_contain_text(patient.mrn)
    shot(printer, "schedule-40-day-list-screen")
    printer.emulate_media(media="print")
    expect(printer.locator("nav.no-print")).to_be_hidden()
    shot(printer, "schedule-41-day-list-print")
    pdf = tmp_path / "day-list.pdf"
    printer.pdf(path=str(pdf), format="A4", landscape=True)
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert patient.mrn in text and "09:00–09:25" in text and "time not set" in text and "← Today" not in text
    folder = shot(printer, "schedule-41-day-list-print").parent
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-singlefile", str(pdf), str(folder / "schedule-42-day-list-pdf")],
                   check=True)
