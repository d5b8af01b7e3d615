import base64
import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import expect

from accretion.consents.models import Consent, Estimate
from accretion.patients.models import Patient
from accretion.practice.models import Equipment, KitLot
from accretion.procedures.models import Procedure
from accretion.screenings.models import Screening

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _ready_procedure():
    """A demo patient with a cleared screening, a signed consent and a planned procedure today."""
    patient = Patient.objects.filter(clinic__slug="north", procedures__isnull=True).order_by("mrn").first()
    clinic = patient.clinic
    nurse = clinic.memberships.get(role="nurse").user
    Screening.objects.create(clinic=clinic, patient=patient, created_by=nurse, status="decided", decision="eligible",
                             findings=[], intake={"diagnoses": ["facet_oa"]}, ruleset="default-2026.1",
                             decided_at=timezone.now())
    procedure = Procedure.objects.create(clinic=clinic, patient=patient, planned_date=timezone.localdate(),
                                         region="lumbar", targets=["facet_joint"], levels=["L4-L5"], created_by=nurse)
    estimate = Estimate.objects.create(clinic=clinic, procedure=procedure, currency="USD", total=1500, created_by=nurse)
    Consent.objects.create(clinic=clinic, patient=patient, procedure=procedure, estimate=estimate, language="en",
                           document_version="2026.1", document_html="<p>consent</p>", document_sha256="0" * 64,
                           patient_typed_name=patient.full_name, signature_png=b"png", explained_by=nurse)
    return procedure


# A 2 x 2 red PNG, as a fluoroscopy spot image stands in for.
SPOT_PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAEElEQVR4nGP4z8AARAwQCgAf7gP9i18U1AAAAABJRU5ErkJggg==")


def test_a_procedure_day_by_nurse_prep_tech_and_physician(live_server, browser, sign_in, shot, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path  # the injection image is stored here
    call_command("demo", stdout=io.StringIO())
    procedure = _ready_procedure()
    url = f"{live_server.url}/procedures/{procedure.pk}/"
    lot = KitLot.objects.filter(clinic=procedure.clinic, quantity_on_hand__gt=0,
                                expiry_date__gt=timezone.localdate() + timedelta(days=30)).first()
    stock = lot.quantity_on_hand

    nurse = browser.new_page()
    sign_in(nurse, "nurse@north.demo")
    nurse.goto(url)
    nurse.get_by_label("Operating physician").select_option(label="Physician North")
    nurse.get_by_label("Preparation technician").select_option(label="Prep Tech North")
    nurse.get_by_role("button", name="Assign team").click()
    expect(nurse.get_by_text("Team assigned.")).to_be_visible()
    for box in nurse.locator("input[name=confirmed]").all():
        box.check()
    nurse.get_by_label("PRP kit lot").select_option(str(lot.pk))
    nurse.get_by_label("Centrifuge").select_option(str(Equipment.objects.get(clinic=procedure.clinic, kind="centrifuge").pk))
    nurse.get_by_label("Imaging unit").select_option(str(Equipment.objects.get(clinic=procedure.clinic, kind="fluoroscopy").pk))
    shot(nurse, "30-timeout")
    nurse.get_by_role("button", name="Complete time-out and start").click()
    expect(nurse.get_by_text("Time-out complete")).to_be_visible()

    prep = browser.new_context().new_page()
    sign_in(prep, "prep_tech@north.demo")
    prep.goto(url)
    drawn = timezone.localtime() - timedelta(minutes=30)
    prep.get_by_label("Time of draw").fill(drawn.strftime("%Y-%m-%dT%H:%M"))
    for name, value in [("whole_blood_ml", "30"), ("anticoagulant_ml", "3"), ("spin_speed", "1500"),
                        ("spin_minutes", "10"), ("baseline_platelets", "230"), ("baseline_wbc", "6.1"),
                        ("prp_platelets", "1150"), ("prp_wbc", "0.9"), ("prp_volume_ml", "4")]:
        prep.locator(f"input[name={name}]").fill(value)
    prep.locator("select[name=anticoagulant]").select_option("acd_a")
    prep.get_by_role("button", name="Record preparation").click()
    expect(prep.get_by_text("Preparation recorded")).to_be_visible()
    expect(prep.get_by_text("PAW P3-B")).to_be_visible()
    shot(prep, "31-preparation")
    lot.refresh_from_db()
    assert lot.quantity_on_hand == stock - 1

    nurse.goto(url)
    nurse.get_by_label("Side").select_option("left")
    nurse.get_by_label("Guidance").select_option("fluoroscopy")
    nurse.get_by_label("Placement confirmed").select_option("yes")
    nurse.get_by_label("Volume injected (mL)").fill("1.2")
    nurse.get_by_label("Needle gauge").fill("22")
    nurse.get_by_label("Fluoroscopy time (s)").fill("14")
    nurse.get_by_label("Dose-area product").fill("0.9")
    nurse.get_by_label("Image").set_input_files(files=[{"name": "spot.png", "mimeType": "image/png",
                                                        "buffer": SPOT_PNG}])
    nurse.get_by_role("button", name="Add injection").click()
    expect(nurse.get_by_text("Injection recorded.")).to_be_visible()
    with nurse.context.expect_page() as opened:
        nurse.get_by_role("link", name="image").click()  # the stored image, in a new tab
    picture = opened.value
    picture.wait_for_load_state()
    assert picture.evaluate("document.contentType") == "image/png"
    assert picture.evaluate("document.images[0].naturalWidth") == 2  # the browser decoded the stored PNG
    picture.close()
    nurse.get_by_label("Time of injection").fill(timezone.localtime().strftime("%Y-%m-%dT%H:%M"))
    nurse.get_by_role("button", name="Complete procedure").click()
    expect(nurse.get_by_text("Procedure completed.")).to_be_visible()
    shot(nurse, "32-completed")

    physician = browser.new_context().new_page()
    sign_in(physician, "physician@north.demo")
    physician.goto(url)
    for reason in physician.locator("textarea[name^='reason:']").all():
        reason.fill("Within our usual practice; noted for the medical director.")
    physician.get_by_role("button", name="Sign the record (CPT 0232T)").click()
    expect(physician.get_by_text("Record signed.")).to_be_visible()
    expect(physician.get_by_text("billing 0232T × 1")).to_be_visible()
    shot(physician, "33-signed")

    physician.get_by_role("button", name="Handout in English").click()
    expect(physician.get_by_text("Follow-up", exact=False).first).to_be_visible()
    shot(physician, "34-handout")
    physician.goto(f"{live_server.url}/patients/{procedure.patient_id}/")
    outcomes = physician.locator("#timeline-outcomes")
    expect(outcomes.get_by_text("12m")).to_be_visible()
    expect(physician.locator("#timeline-procedures").get_by_text("signed")).to_be_visible()
    shot(physician, "35-timeline")
