"""Blood thinners in the aftercare handout, its PDF and calendar: the physician's hold and restart, or ask first."""

import html
import re
import shutil
import subprocess
from datetime import timedelta

import pytest
from django.utils import timezone
from icalendar import Calendar

from accretion.aftercare.texts import format_date, medicine_lines
from accretion.clinical.antithrombotics import Antithrombotic, HoldDecision
from accretion.procedures.models import Procedure
from accretion.screenings.models import Screening
from tests.conftest import signed_in

INTAKE = {
    "age": "64", "region": "lumbar", "diagnoses": ["facet_oa"], "planned_targets": ["facet_joint"],
    "active_infection": "no", "bleeding_disorder": "no", "radicular_symptoms": "no", "active_malignancy": "no",
    "pregnant": "no", "neuro_red_flags": ["none"], "platelet_count": "210", "steroid_injection_last_date": "",
    "screen": "1",
}
APIXABAN = Antithrombotic("apixaban", "anticoagulant", ("Eliquis 5 mg bid",))


def text(response) -> str:
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", response.content.decode(), flags=re.DOTALL)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


@pytest.fixture
def setting(staff, clinics, make_patient):
    """A patient on Eliquis and baby aspirin, screened for a procedure in ten days, and the procedure."""
    north = clinics["north"]
    patient = make_patient(north)
    nurse = signed_in(staff[("north", "nurse")], north)
    day = timezone.localdate() + timedelta(days=10)
    nurse.post(f"/patients/{patient.pk}/screenings/new/",
               {**INTAKE, "procedure_date": day.isoformat(), "medications": "Eliquis 5 mg bid\nBaby aspirin"})
    screening = Screening.objects.get(patient=patient)
    procedure = Procedure.objects.create(clinic=north, patient=patient, planned_date=day, region="lumbar",
                                         targets=["facet_joint"], levels=["L4-L5"],
                                         created_by=staff[("north", "nurse")])
    return {"nurse": nurse, "physician": signed_in(staff[("north", "physician")], north), "patient": patient,
            "screening": screening, "procedure": procedure, "day": day}


def review(s, **plan):
    day = s["day"]
    data = {"outcome": "proceed", "reason_ANTICOAGULANT": "Hold 2 days.", "reason_ANTIPLATELET": "Keep it."}
    data.update(plan)
    response = s["physician"].post(f"/screenings/{s['screening'].pk}/review/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    return day


def test_a_held_drug_shows_its_restart_date_on_the_page_pdf_and_calendar(setting, tmp_path):
    day = review(setting, plan_apixaban="hold", last_dose_apixaban=(setting["day"] - timedelta(days=3)).isoformat(),
                 restart_on_apixaban=(setting["day"] + timedelta(days=1)).isoformat(),
                 restart_note_apixaban="if there is no bleeding", plan_aspirin="continue")
    restart = day + timedelta(days=1)
    procedure = setting["procedure"]
    page = text(setting["nurse"].get(f"/procedures/{procedure.pk}/aftercare/?lang=en"))
    assert (f"Restart Eliquis 5 mg bid (apixaban) on {format_date(restart, 'en')} unless told otherwise. "
            "Your physician's instructions: if there is no bleeding") in page
    assert f"Your last dose of Eliquis 5 mg bid (apixaban) before the injection: {format_date(day - timedelta(days=3), 'en')}." in page
    assert "Keep taking Baby aspirin (aspirin) as usual" in page
    spanish = text(setting["nurse"].get(f"/procedures/{procedure.pk}/aftercare/?lang=es"))
    assert (f"Vuelva a tomar Eliquis 5 mg bid (apixaban) el {format_date(restart, 'es')}, "
            "salvo que le indiquen otra cosa.") in spanish

    assert shutil.which("pdftotext"), "pdftotext is missing: apt-get install poppler-utils"
    pdf = setting["nurse"].get(f"/procedures/{procedure.pk}/aftercare.pdf?lang=en").content
    (tmp_path / "h.pdf").write_bytes(pdf)
    extracted = subprocess.run(["pdftotext", "-enc", "UTF-8", str(tmp_path / "h.pdf"), "-"], check=True,
                               capture_output=True).stdout.decode()
    assert "Restart Eliquis 5 mg bid (apixaban) on" in " ".join(extracted.split())

    ics = Calendar.from_ical(setting["nurse"].get(f"/procedures/{procedure.pk}/aftercare.ics?lang=es").content)
    [event] = [e for e in ics.walk("VEVENT") if str(e["uid"]).startswith(f"procedure-{procedure.pk}-restart-")]
    assert str(event["summary"]) == "Volver a tomar Eliquis 5 mg bid (apixaban)"
    assert event.decoded("dtstart") == restart and event.decoded("dtend") == restart + timedelta(days=1)
    assert "salvo que le indiquen otra cosa" in str(event["description"])


def test_without_a_decision_the_handout_says_to_ask_before_restarting(setting):
    page = text(setting["nurse"].get(f"/procedures/{setting['procedure'].pk}/aftercare/?lang=en"))
    assert "If you stopped Eliquis 5 mg bid (apixaban) for the injection, ask the clinic before you restart it." in page
    assert "If you stopped Baby aspirin (aspirin) for the injection" in page
    assert "Restart Eliquis" not in page
    ics = Calendar.from_ical(setting["nurse"].get(f"/procedures/{setting['procedure'].pk}/aftercare.ics").content)
    assert not [e for e in ics.walk("VEVENT") if "-restart-" in str(e["uid"])]


@pytest.mark.parametrize(
    "decisions, pending, lang, expected",
    [
        ((), (), "en", ["If you stopped a blood thinner for the injection, ask the clinic before you restart it."]),
        ((), (), "es", [("Si dejó de tomar un medicamento para diluir la sangre para la inyección, consulte a la "
                        "clínica antes de volver a tomarlo.")]),
        ((HoldDecision(APIXABAN, "hold", restart_note="the morning after"),), (APIXABAN,), "en",
         ["Restart Eliquis 5 mg bid (apixaban) as your physician told you: the morning after"]),
        ((HoldDecision(APIXABAN, "continue"),), (APIXABAN,), "es",
         ["Siga tomando Eliquis 5 mg bid (apixaban) como de costumbre; no se suspendió para la inyección."]),
    ],
)
def test_medicine_lines(decisions, pending, lang, expected):
    assert medicine_lines(decisions, pending, lang) == expected
