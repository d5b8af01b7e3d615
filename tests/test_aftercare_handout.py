"""The aftercare handout: page, PDF and calendar file of a procedure, in English and Spanish; clinic settings."""

import html
import os
import re
import shutil
import subprocess
from datetime import date, timedelta
from pathlib import Path

import pytest
from icalendar import Calendar

from accretion.aftercare.texts import CODE_TEXTS_ES, UI, follow_up_label, format_date, pick_language
from accretion.audit.models import AuditEvent
from accretion.clinical.aftercare import (
    ACETAMINOPHEN_ALTERNATIVE,
    ACTIVITY_GUIDANCE_DEFAULT_CODE,
    CALL_TEXT,
    COLD_OR_HEAT_TEXT,
    DEFAULT_ACTIVITY_GUIDANCE,
    WARNING_SIGNS,
)
from accretion.outcomes import services as outcomes
from accretion.outcomes.models import QuestionnaireTask
from accretion.procedures.models import FollowUp, Procedure
from tests.conftest import signed_in

MONDAY_NOV_30_2026 = date(2026, 11, 30)
TUESDAY_NOV_30_2027 = date(2027, 11, 30)


@pytest.fixture
def north(clinics):
    return clinics["north"]


@pytest.fixture
def make_procedure(staff):
    def make(clinic, patient, planned_date=MONDAY_NOV_30_2026):
        return Procedure.objects.create(
            clinic=clinic, patient=patient, planned_date=planned_date, region="lumbar",
            targets=["facet_joint"], levels=["L4-L5"], created_by=staff[(clinic.slug, "physician")],
        )

    return make


@pytest.fixture
def nurse(staff, north):
    return signed_in(staff[("north", "nurse")], north)


def page_text(response) -> str:
    """The visible words of an HTML answer, entities decoded and whitespace collapsed."""
    body = response.content.decode()
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", body, flags=re.DOTALL)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


def url(procedure, kind, lang=None):
    suffix = {"page": "aftercare/", "pdf": "aftercare.pdf", "ics": "aftercare.ics"}[kind]
    return f"/procedures/{procedure.pk}/{suffix}" + (f"?lang={lang}" if lang else "")


# ---------------------------------------------------------------------------
# Words and dates
# ---------------------------------------------------------------------------


def test_dates_are_written_in_the_patients_language():
    assert format_date(MONDAY_NOV_30_2026, "en") == "Monday, November 30, 2026"
    assert format_date(MONDAY_NOV_30_2026, "es") == "lunes, 30 de noviembre de 2026"
    assert format_date(date(2028, 2, 29), "es") == "martes, 29 de febrero de 2028"
    assert format_date(date(2027, 9, 1), "es") == "miércoles, 1 de septiembre de 2027"
    assert format_date(date(2027, 1, 2), "es") == "sábado, 2 de enero de 2027"
    assert format_date(date(2027, 1, 2), "en") == "Saturday, January 2, 2027"


def test_follow_up_labels_and_language_choice():
    english = [follow_up_label(k, "en") for k in ("1w", "2w", "1m", "12m")]
    assert english == ["1 week", "2 weeks", "1 month", "12 months"]
    assert [follow_up_label(k, "es") for k in ("1w", "6w", "1m", "3m")] == ["1 semana", "6 semanas", "1 mes", "3 meses"]
    assert pick_language(None, "es") == "es"
    assert pick_language("en", "es") == "en"
    assert pick_language("fr", "es") == "es"
    assert pick_language("", None) == "en"


def test_every_code_of_the_plan_has_a_spanish_text():
    codes = {
        *COLD_OR_HEAT_TEXT,
        ACTIVITY_GUIDANCE_DEFAULT_CODE,
        ACETAMINOPHEN_ALTERNATIVE["code"],
        *(sign.code for sign in WARNING_SIGNS),
        *(f"call_{who}" for who in CALL_TEXT),
    }
    assert codes <= set(CODE_TEXTS_ES), codes - set(CODE_TEXTS_ES)
    english = {*COLD_OR_HEAT_TEXT.values(), DEFAULT_ACTIVITY_GUIDANCE, ACETAMINOPHEN_ALTERNATIVE["text"],
               *(s.text for s in WARNING_SIGNS), *CALL_TEXT.values()}
    assert not english & set(CODE_TEXTS_ES.values())
    assert set(UI["en"]) == set(UI["es"])


# ---------------------------------------------------------------------------
# The page
# ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_page_in_english_for_an_english_speaking_patient(nurse, north, make_patient, make_procedure):
    patient = make_patient(north, given_name="Margaret", preferred_language="en")
    procedure = make_procedure(north, patient)
    response = nurse.get(url(procedure, "page"))
    assert response.status_code == 200
    text = page_text(response)
    assert "Aftercare after your PRP spine injection" in text
    assert "Injection date Monday, November 30, 2026" in text
    assert "Soreness may last through Thursday, December 3, 2026" in text
    assert "No NSAIDs (ibuprofen, naproxen) through Monday, December 7, 2026" in text
    assert "No driving through Tuesday, December 1, 2026" in text
    assert "No baths, pools or hot tubs through Wednesday, December 2, 2026" in text
    assert "48 to 72 hours" in text
    assert ACETAMINOPHEN_ALTERNATIVE["text"] in text
    assert COLD_OR_HEAT_TEXT["ice"] in text
    assert DEFAULT_ACTIVITY_GUIDANCE in text
    assert "Do not drive for 24 hours" in text
    for sign in WARNING_SIGNS:
        assert sign.text in text
    assert "Fever above 38.3 °C (101 °F)" in text
    # The clinic's phone: in the heading, next to "Call the clinic" and in the closing line.
    assert text.count("+1 555 0100") >= 3
    assert "Questions? Call North Spine at +1 555 0100." in text
    # Follow-ups on real dates; Nov 30 + 3 months is the last day of February.
    assert "2 weeks Monday, December 14, 2026" in text
    assert "6 weeks Monday, January 11, 2027" in text
    assert "3 months Sunday, February 28, 2027" in text
    assert "6 months Sunday, May 30, 2027" in text
    assert "12 months Tuesday, November 30, 2027" in text
    # Toolbar: PDF, calendar and the language switch.
    body = response.content.decode()
    assert f'href="/procedures/{procedure.pk}/aftercare.pdf?lang=en"' in body
    assert f'href="/procedures/{procedure.pk}/aftercare.ics?lang=en"' in body
    assert f'href="/procedures/{procedure.pk}/aftercare/?lang=es"' in body
    assert "Download PDF" in text and "Add to calendar (.ics)" in text
    assert '<article class="handout" lang="en">' in body
    assert "Cuidados" not in text


@pytest.mark.django_db
def test_page_in_spanish_for_a_spanish_speaking_patient_and_the_switch(nurse, north, make_patient, make_procedure):
    patient = make_patient(north, given_name="Guadalupe", preferred_language="es")
    procedure = make_procedure(north, patient)
    text = page_text(nurse.get(url(procedure, "page")))
    assert "Cuidados después de su inyección de PRP en la columna" in text
    assert "Fecha de la inyección lunes, 30 de noviembre de 2026" in text
    assert "No tome AINE (ibuprofeno, naproxeno) hasta el lunes, 7 de diciembre de 2026" in text
    assert "El dolor puede durar hasta el jueves, 3 de diciembre de 2026" in text
    assert "No maneje hasta el martes, 1 de diciembre de 2026" in text
    assert "No use tina, piscina ni jacuzzi hasta el miércoles, 2 de diciembre de 2026" in text
    assert "primeras 48 a 72 horas" in text
    assert CODE_TEXTS_ES["acetaminophen_unless_contraindicated"] in text
    assert CODE_TEXTS_ES["ice"] in text
    assert CODE_TEXTS_ES[ACTIVITY_GUIDANCE_DEFAULT_CODE] in text
    assert "Fiebre de más de 38.3 °C (101 °F)" in text
    assert "Dolor de cabeza fuerte o rigidez en el cuello." in text
    assert "Llame a la clínica: +1 555 0100" in text
    assert "¿Tiene preguntas? Llame a North Spine al +1 555 0100." in text
    assert "3 meses domingo, 28 de febrero de 2027" in text
    assert "12 meses martes, 30 de noviembre de 2027" in text
    # No English advice slipped through.
    assert ACETAMINOPHEN_ALTERNATIVE["text"] not in text
    assert not any(sign.text in text for sign in WARNING_SIGNS)
    assert "Monday" not in text

    english = page_text(nurse.get(url(procedure, "page", "en")))
    assert "Aftercare after your PRP spine injection" in english
    assert "Monday, November 30, 2026" in english
    assert "Cuidados después" not in english
    # An unknown language falls back to the patient's.
    assert "Cuidados después" in page_text(nurse.get(url(procedure, "page", "fr")))


@pytest.mark.django_db
def test_english_speaking_patient_can_get_the_spanish_handout(nurse, north, make_patient, make_procedure):
    procedure = make_procedure(north, make_patient(north, preferred_language="en"))
    text = page_text(nurse.get(url(procedure, "page", "es")))
    assert "Cuidados después de su inyección" in text
    assert "lunes, 30 de noviembre de 2026" in text


@pytest.mark.django_db
def test_month_ends_and_leap_years_give_real_dates(nurse, north, make_patient, make_procedure):
    procedure = make_procedure(north, make_patient(north, preferred_language="es"), TUESDAY_NOV_30_2027)
    spanish = page_text(nurse.get(url(procedure, "page")))
    assert "3 meses martes, 29 de febrero de 2028" in spanish
    assert "6 semanas martes, 11 de enero de 2028" in spanish
    assert "12 meses jueves, 30 de noviembre de 2028" in spanish
    english = page_text(nurse.get(url(procedure, "page", "en")))
    assert "3 months Tuesday, February 29, 2028" in english
    assert "6 months Tuesday, May 30, 2028" in english


@pytest.mark.django_db
def test_clinic_settings_reach_the_handout_and_a_custom_activity_text_is_shown_as_written(
    nurse, north, make_patient, make_procedure
):
    north.aftercare_protocol = {"cold_or_heat": "heat", "activity_guidance": "Walk 10 minutes twice a day.\nNo gym."}
    north.save()
    procedure = make_procedure(north, make_patient(north, preferred_language="es"))
    response = nurse.get(url(procedure, "page"))
    text = page_text(response)
    assert CODE_TEXTS_ES["heat"] in text
    assert "Walk 10 minutes twice a day. No gym." in text
    assert "Walk 10 minutes twice a day.<br>No gym." in response.content.decode()
    assert CODE_TEXTS_ES[ACTIVITY_GUIDANCE_DEFAULT_CODE] not in text


@pytest.mark.django_db
def test_a_clinic_without_a_phone_number_still_gets_a_handout(nurse, north, make_patient, make_procedure):
    north.phone = ""
    north.save()
    procedure = make_procedure(north, make_patient(north))
    text = page_text(nurse.get(url(procedure, "page")))
    assert "Questions? Call North Spine." in text
    assert "Call the clinic if you have:" in text


# ---------------------------------------------------------------------------
# The PDF
# ---------------------------------------------------------------------------


def pdf_text(data: bytes, tmp_path: Path, name: str) -> str:
    assert shutil.which("pdftotext"), "pdftotext is missing: apt-get install poppler-utils"
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(data)
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], check=True, capture_output=True)
    return " ".join(out.stdout.decode().split())


def first_page_png(data: bytes, tmp_path: Path, name: str) -> Path:
    """Page 1 as a PNG, next to the PDF (into $SCREENSHOT_DIR when set), to look at the layout."""
    folder = Path(os.environ.get("SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    pdf = folder / f"{name}.pdf"
    pdf.write_bytes(data)
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile", str(pdf), str(folder / name)],
                   check=True)
    return folder / f"{name}.png"


def pdf_pages(data: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page\b", data))


@pytest.mark.django_db
@pytest.mark.parametrize("lang, phrases", [
    ("en", ["Aftercare after your PRP spine injection", "Monday, November 30, 2026",
            "No NSAIDs (ibuprofen, naproxen) through Monday, December 7, 2026", "acetaminophen (Tylenol)",
            "Fever above 38.3 °C (101 °F)", "Loss of bowel or bladder control", "Go to the emergency department",
            "3 months Sunday, February 28, 2027", "Questions? Call North Spine at +1 555 0100."]),
    ("es", ["Cuidados después de su inyección de PRP en la columna", "lunes, 30 de noviembre de 2026",
            "No tome AINE (ibuprofeno, naproxeno) hasta el lunes, 7 de diciembre de 2026", "acetaminofén (Tylenol)",
            "Fiebre de más de 38.3 °C (101 °F)", "Pérdida del control de los intestinos o de la vejiga",
            "Vaya a la sala de emergencias", "3 meses domingo, 28 de febrero de 2027",
            "¿Tiene preguntas? Llame a North Spine al +1 555 0100."]),
])
def test_pdf_in_both_languages(nurse, north, make_patient, make_procedure, tmp_path, lang, phrases):
    procedure = make_procedure(north, make_patient(north, given_name="Rosa", preferred_language="es"))
    response = nurse.get(url(procedure, "pdf", lang))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert f'filename="aftercare-{procedure.pk}-{lang}.pdf"' in response["Content-Disposition"]
    data = response.content
    assert data.startswith(b"%PDF")
    text = pdf_text(data, tmp_path, f"aftercare-{lang}")
    for phrase in phrases:
        assert phrase in text, phrase
    assert "Rosa" in text
    assert "Download PDF" not in text  # the staff toolbar is not part of the document
    assert pdf_pages(data) <= 2
    png = first_page_png(data, tmp_path, f"aftercare-pdf-{lang}-page1")
    assert png.stat().st_size > 5000


@pytest.mark.django_db
def test_pdf_defaults_to_the_patients_language(nurse, north, make_patient, make_procedure, tmp_path):
    procedure = make_procedure(north, make_patient(north, preferred_language="es"), TUESDAY_NOV_30_2027)
    text = pdf_text(nurse.get(url(procedure, "pdf")).content, tmp_path, "default")
    assert "3 meses martes, 29 de febrero de 2028" in text


# ---------------------------------------------------------------------------
# The calendar file
# ---------------------------------------------------------------------------


def events_by_uid(data: bytes) -> dict:
    calendar = Calendar.from_ical(data)
    return {str(event["UID"]): event for event in calendar.walk("VEVENT")}


@pytest.mark.django_db
def test_calendar_file_has_the_nsaid_free_days_and_the_follow_ups(nurse, north, make_patient, make_procedure):
    procedure = make_procedure(north, make_patient(north, preferred_language="en"), TUESDAY_NOV_30_2027)
    response = nurse.get(url(procedure, "ics"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    assert f'attachment; filename="aftercare-{procedure.pk}-en.ics"' == response["Content-Disposition"]
    calendar = Calendar.from_ical(response.content)
    assert "North Spine" in str(calendar["X-WR-CALNAME"])
    assert "North Spine" in str(calendar["NAME"])
    events = events_by_uid(response.content)

    nsaid = events[f"procedure-{procedure.pk}-nsaid@aftercare.accretion-portal"]
    assert nsaid.decoded("DTSTART") == date(2027, 11, 30)
    assert nsaid.decoded("DTEND") == date(2027, 12, 8)  # all day through Dec 7: the end is exclusive
    assert "NSAIDs" in str(nsaid["SUMMARY"])
    assert "acetaminophen" in str(nsaid["DESCRIPTION"])
    assert "+1 555 0100" in str(nsaid["DESCRIPTION"])

    expected = {"2w": date(2027, 12, 14), "6w": date(2028, 1, 11), "3m": date(2028, 2, 29),
                "6m": date(2028, 5, 30), "12m": date(2028, 11, 30)}
    for key, due in expected.items():
        event = events[f"procedure-{procedure.pk}-follow-up-{key}@aftercare.accretion-portal"]
        assert event.decoded("DTSTART") == due, key
        assert event.decoded("DTEND") == due + timedelta(days=1), key
        assert "North Spine" in str(event["SUMMARY"])
        assert str(event["TRANSP"]) == "TRANSPARENT"
    soreness = events[f"procedure-{procedure.pk}-soreness@aftercare.accretion-portal"]
    assert soreness.decoded("DTEND") == date(2027, 12, 4)
    assert len(events) == 7
    assert patient_name_absent(response.content, procedure.patient)


def patient_name_absent(data: bytes, patient) -> bool:
    text = Calendar.from_ical(data).to_ical().decode()
    return patient.family_name not in text and patient.given_name not in text


@pytest.mark.django_db
def test_calendar_file_in_spanish_keeps_the_same_uids(nurse, north, make_patient, make_procedure):
    procedure = make_procedure(north, make_patient(north, preferred_language="es"))
    spanish = nurse.get(url(procedure, "ics")).content
    english = nurse.get(url(procedure, "ics", "en")).content
    es_events, en_events = events_by_uid(spanish), events_by_uid(english)
    assert set(es_events) == set(en_events)
    nsaid = es_events[f"procedure-{procedure.pk}-nsaid@aftercare.accretion-portal"]
    assert str(nsaid["SUMMARY"]) == "No tomar AINE (ibuprofeno, naproxeno)"
    assert "acetaminofén" in str(nsaid["DESCRIPTION"])
    follow_up = es_events[f"procedure-{procedure.pk}-follow-up-3m@aftercare.accretion-portal"]
    assert str(follow_up["SUMMARY"]) == "Consulta de seguimiento (3 meses) – North Spine"
    assert follow_up.decoded("DTSTART") == date(2027, 2, 28)
    assert "Cuidados después de la inyección – North Spine" == str(Calendar.from_ical(spanish)["X-WR-CALNAME"])


@pytest.mark.django_db
def test_calendar_follows_the_clinics_nsaid_days(nurse, north, make_patient, make_procedure):
    north.aftercare_protocol = {"nsaid_days": 14, "follow_ups": ["4w"]}
    north.save()
    procedure = make_procedure(north, make_patient(north))
    events = events_by_uid(nurse.get(url(procedure, "ics")).content)
    nsaid = events[f"procedure-{procedure.pk}-nsaid@aftercare.accretion-portal"]
    assert nsaid.decoded("DTEND") == date(2026, 12, 15)
    assert [e.decoded("DTSTART") for uid, e in events.items() if "follow-up" in uid] == [date(2026, 12, 28)]


# ---------------------------------------------------------------------------
# Clinic settings
# ---------------------------------------------------------------------------

SETTINGS_URL = "/clinic/aftercare-settings/"


def settings_post(**changes):
    data = {"nsaid_days": "7", "cold_or_heat": "ice", "activity_guidance": DEFAULT_ACTIVITY_GUIDANCE,
            "follow_ups": "2w, 6w, 3m, 6m, 12m", "window_weeks_days": "7", "window_3m_days": "14",
            "window_later_days": "30"}
    data.update(changes)
    return data


@pytest.fixture
def admin(staff, north):
    return signed_in(staff[("north", "clinic_admin")], north)


@pytest.mark.django_db
def test_clinic_admin_changes_nsaid_days_and_only_the_change_is_stored(admin, nurse, north, make_patient,
                                                                        make_procedure):
    procedure = make_procedure(north, make_patient(north))
    assert "through Monday, December 7, 2026" in page_text(nurse.get(url(procedure, "page")))

    page = admin.get(SETTINGS_URL)
    assert page.status_code == 200
    assert page.context["form"]["nsaid_days"].value() == 7

    response = admin.post(SETTINGS_URL, settings_post(nsaid_days="10"))
    assert response.status_code == 302 and response["Location"] == SETTINGS_URL
    north.refresh_from_db()
    assert north.aftercare_protocol == {"nsaid_days": 10}
    assert north.get_aftercare_protocol().follow_ups == ("2w", "6w", "3m", "6m", "12m")
    assert "No NSAIDs (ibuprofen, naproxen) through Thursday, December 10, 2026" in page_text(
        nurse.get(url(procedure, "page")))

    event = AuditEvent.objects.filter(action="update").latest("id")
    assert event.object_id == str(north.pk) and event.clinic_id == north.pk
    assert event.detail["changed"] == ["nsaid_days"]

    # Back to every default: nothing is stored.
    admin.post(SETTINGS_URL, settings_post())
    north.refresh_from_db()
    assert north.aftercare_protocol == {}


@pytest.mark.django_db
def test_settings_errors_are_shown_at_the_field_and_nothing_is_stored(admin, north):
    north.aftercare_protocol = {"nsaid_days": 10}
    north.save()
    before = AuditEvent.objects.count()

    response = admin.post(SETTINGS_URL, settings_post(nsaid_days="15"))
    assert response.status_code == 400
    form = response.context["form"]
    assert list(form.errors) == ["nsaid_days"]
    assert "less than or equal to 14" in form.errors["nsaid_days"][0]
    assert "less than or equal to 14" in page_text(response)

    response = admin.post(SETTINGS_URL, settings_post(follow_ups="2w, 7x"))
    assert response.status_code == 400
    assert list(response.context["form"].errors) == ["follow_ups"]
    assert "“7x”" in response.context["form"].errors["follow_ups"][0]

    response = admin.post(SETTINGS_URL, settings_post(follow_ups="2w, 2w"))
    assert list(response.context["form"].errors) == ["follow_ups"]

    response = admin.post(SETTINGS_URL, settings_post(activity_guidance="   "))
    assert list(response.context["form"].errors) == ["activity_guidance"]

    response = admin.post(SETTINGS_URL, settings_post(activity_guidance="x" * 2001))
    assert list(response.context["form"].errors) == ["activity_guidance"]

    response = admin.post(SETTINGS_URL, {})
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"nsaid_days", "cold_or_heat", "activity_guidance", "follow_ups",
                                                    "window_weeks_days", "window_3m_days", "window_later_days"}

    for name, wrong, message in [("window_weeks_days", "14", "less than or equal to 13"),
                                 ("window_3m_days", "0", "greater than or equal to 1"),
                                 ("window_later_days", "two weeks", "Enter a whole number.")]:
        response = admin.post(SETTINGS_URL, settings_post(**{name: wrong}))
        assert response.status_code == 400 and list(response.context["form"].errors) == [name]
        assert message in response.context["form"].errors[name][0]

    north.refresh_from_db()
    assert north.aftercare_protocol == {"nsaid_days": 10}
    assert AuditEvent.objects.count() == before


@pytest.mark.django_db
def test_settings_store_heat_custom_activity_and_follow_ups_in_order(admin, north):
    response = admin.post(SETTINGS_URL, settings_post(
        cold_or_heat="heat", activity_guidance="Walk daily.\r\nNo lifting over 10 lb for 2 weeks.",
        follow_ups="3m 4w, 12m",
    ))
    assert response.status_code == 302
    north.refresh_from_db()
    assert north.aftercare_protocol == {
        "cold_or_heat": "heat",
        "activity_guidance": "Walk daily.\nNo lifting over 10 lb for 2 weeks.",
        "follow_ups": ["4w", "3m", "12m"],
    }
    page = admin.get(SETTINGS_URL)
    assert page.context["form"]["follow_ups"].value() == "4w, 3m, 12m"
    assert page.context["form"]["activity_guidance"].value() == "Walk daily.\nNo lifting over 10 lb for 2 weeks."
    assert not page.context["form"]["use_default_activity"].value()

    # "Restore the standard activity text" drops the custom text, even with the box emptied.
    admin.post(SETTINGS_URL, settings_post(cold_or_heat="heat", activity_guidance="",
                                           use_default_activity="on", follow_ups="4w, 3m, 12m"))
    north.refresh_from_db()
    assert north.aftercare_protocol == {"cold_or_heat": "heat", "follow_ups": ["4w", "3m", "12m"]}


@pytest.mark.django_db
def test_settings_keep_a_soreness_override_they_do_not_edit(admin, north):
    north.aftercare_protocol = {"soreness_days": 7}
    north.save()
    admin.post(SETTINGS_URL, settings_post(nsaid_days="12"))
    north.refresh_from_db()
    assert north.aftercare_protocol == {"soreness_days": 7, "nsaid_days": 12}


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["physician", "nurse", "front_desk", "prep_tech", "auditor"])
def test_only_a_clinic_admin_may_change_the_settings(staff, north, role):
    client = signed_in(staff[("north", role)], north)
    assert client.get(SETTINGS_URL).status_code == 403
    assert client.post(SETTINGS_URL, settings_post(nsaid_days="10")).status_code == 403
    north.refresh_from_db()
    assert north.aftercare_protocol == {}


@pytest.mark.django_db
def test_settings_change_one_clinic_only(staff, clinics):
    south_admin = signed_in(staff[("south", "clinic_admin")], clinics["south"])
    south_admin.post(SETTINGS_URL, settings_post(nsaid_days="9"))
    clinics["north"].refresh_from_db()
    clinics["south"].refresh_from_db()
    assert clinics["north"].aftercare_protocol == {}
    assert clinics["south"].aftercare_protocol == {"nsaid_days": 9}


# ---------------------------------------------------------------------------
# Tenancy, permissions and audit
# ---------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["page", "pdf", "ics"])
def test_another_clinics_procedure_is_not_found(staff, clinics, make_patient, make_procedure, kind):
    north = clinics["north"]
    procedure = make_procedure(north, make_patient(north))
    for role in ("physician", "nurse", "clinic_admin"):
        south = signed_in(staff[("south", role)], clinics["south"])
        assert south.get(url(procedure, kind)).status_code == 404
        assert south.get(url(procedure, kind, "es")).status_code == 404
    assert not AuditEvent.objects.filter(object_type="procedures.procedure").exists()  # nothing was read
    assert signed_in(staff[("north", "nurse")], north).get(url(procedure, kind)).status_code == 200


@pytest.mark.django_db
def test_a_missing_procedure_is_not_found_and_anonymous_users_sign_in(nurse, north, make_patient, make_procedure):
    from django.test import Client

    procedure = make_procedure(north, make_patient(north))
    for kind in ("page", "pdf", "ics"):
        missing = url(procedure, kind).replace(f"/{procedure.pk}/", f"/{procedure.pk + 1000}/")
        assert nurse.get(missing).status_code == 404
        response = Client().get(url(procedure, kind))
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
        assert nurse.post(url(procedure, kind)).status_code == 405


@pytest.mark.django_db
def test_every_read_writes_one_audit_row(nurse, staff, north, make_patient, make_procedure):
    patient = make_patient(north, preferred_language="es")
    procedure = make_procedure(north, patient)
    expected = [("page", None, "view", {"document": "aftercare_handout", "lang": "es"}),
                ("page", "en", "view", {"document": "aftercare_handout", "lang": "en"}),
                ("pdf", "es", "export", {"document": "aftercare_handout", "format": "pdf", "lang": "es"}),
                ("ics", None, "export", {"document": "aftercare_calendar", "format": "ics", "lang": "es"})]
    for kind, lang, action, detail in expected:
        last = AuditEvent.objects.order_by("-id").first()
        assert nurse.get(url(procedure, kind, lang)).status_code == 200
        rows = AuditEvent.objects.filter(id__gt=last.id if last else 0)
        assert rows.count() == 1, kind
        row = rows.get()
        assert (row.action, row.object_type, row.object_id) == (action, "procedures.procedure", str(procedure.pk))
        assert row.patient_id == patient.pk and row.clinic_id == north.pk
        assert row.user_id == staff[("north", "nurse")].pk
        assert row.detail == detail


# ---------------------------------------------------------------------------
# The procedure page's section
# ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_procedure_page_links_to_the_handout_in_the_patients_language_first(nurse, staff, north, make_patient,
                                                                           make_procedure):
    procedure = make_procedure(north, make_patient(north, preferred_language="es"))
    response = nurse.get(f"/procedures/{procedure.pk}/")
    assert response.status_code == 200
    body = response.content.decode()
    section = body[body.index('id="stage-aftercare"'):]
    spanish = section.index(f'href="/procedures/{procedure.pk}/aftercare/?lang=es"')
    english = section.index(f'href="/procedures/{procedure.pk}/aftercare/?lang=en"')
    assert spanish < english
    assert f'href="/procedures/{procedure.pk}/aftercare.pdf?lang=es"' in section
    assert f'href="/procedures/{procedure.pk}/aftercare.ics?lang=es"' in section
    assert "Handout in Español" in section and "Handout in English" in section
    assert "Clinic aftercare settings" not in section  # for clinic administrators only

    admin = signed_in(staff[("north", "clinic_admin")], north)
    assert "Clinic aftercare settings" in admin.get(f"/procedures/{procedure.pk}/").content.decode()


def test_questionnaire_windows_are_a_clinic_setting_for_procedures_signed_afterwards(admin, north, staff,
                                                                                      make_patient):
    def signed(day):
        procedure = Procedure.objects.create(clinic=north, patient=make_patient(north), planned_date=day,
                                             region="lumbar", targets=["facet_joint"], levels=["L4-L5"],
                                             status="signed", created_by=staff[("north", "nurse")])
        for key, due in [("2w", day + timedelta(days=14)), ("6m", date(2027, 7, 31))]:
            FollowUp.objects.create(clinic=north, procedure=procedure, key=key, due=due)
        outcomes.schedule_follow_ups(procedure)
        return {t.time_point: (t.opens_on, t.closes_on) for t in QuestionnaireTask.objects.filter(procedure=procedure)}

    before = signed(date(2027, 1, 31))
    response = admin.post(SETTINGS_URL, settings_post(window_weeks_days="3", window_later_days="45"))
    assert response.status_code == 302
    north.refresh_from_db()
    assert north.aftercare_protocol == {"window_weeks_days": 3, "window_later_days": 45}  # only what differs
    assert AuditEvent.objects.filter(object_type="clinics.aftercare_protocol").latest("id").detail["changed"] == [
        "window_later_days", "window_weeks_days"]
    after = signed(date(2027, 1, 31))
    assert before == {"2w": (date(2027, 2, 7), date(2027, 2, 21)), "6m": (date(2027, 7, 1), date(2027, 8, 30))}
    assert after == {"2w": (date(2027, 2, 11), date(2027, 2, 17)), "6m": (date(2027, 6, 16), date(2027, 9, 14))}
    assert QuestionnaireTask.objects.filter(opens_on=date(2027, 2, 7)).count() == 1  # scheduled ones keep dates
