"""Red flags in follow-up safety answers: what the patient is told to do now, and the clinic's alert."""

from datetime import date

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.db import DatabaseError
from django.test import Client
from django_tasks_db.models import DBTaskResult

from accretion.adverse_events.models import AdverseEvent
from accretion.audit.models import AuditEvent
from accretion.clinics.models import Clinic, Membership
from accretion.jobs.worker import run_queued
from accretion.outcomes import alerts
from accretion.outcomes.models import QuestionnaireResponse
from accretion.outcomes.sms import LocmemSMSBackend
from tests.conftest import signed_in
from tests.test_outcomes_collection import at, signed, task, url  # noqa: F401 - `signed` is a fixture

SAFETY = ("fever", "infection_signs", "new_weakness_numbness", "bowel_bladder_change", "emergency_visit")
DAY = date(2026, 12, 15)  # the 2w questionnaire is open


def answers(language="en", *, yes=(), submit=True, **extra):
    data = {"lang": language, "nrs__nrs": "4", "pgic__pgic": "2", **{f"odi__odi-{i}": "1" for i in range(1, 11)},
            **{f"safety__{key}": "yes" if key in yes else "no" for key in SAFETY}, **extra}
    data["submit" if submit else "save"] = "1"
    return data


class FailingEmailBackend(BaseEmailBackend):
    def send_messages(self, messages):
        raise ConnectionRefusedError("mail server down")


class FailingSMSBackend:
    def send(self, to, body):
        raise TimeoutError("gateway timed out")


@pytest.fixture(autouse=True)
def sms(settings):
    settings.SMS_BACKEND = "accretion.outcomes.sms.LocmemSMSBackend"
    settings.PORTAL_BASE_URL = "https://portal.example.org"
    LocmemSMSBackend.outbox = []
    return LocmemSMSBackend.outbox


@pytest.fixture
def on_call(clinics):
    Clinic.objects.filter(pk=clinics["north"].pk).update(on_call_name="Nurse on call", on_call_email="oncall@north.test",
                                                         on_call_phone="+15550100999")


def submit(signed, data):  # noqa: F811
    """Post the patient's answers, then let the worker run what the submission queued: (response, tasks run)."""
    with at(DAY):
        response = Client().post(url(task(signed, "2w")), data)
    return response, [path for path, _ in run_queued().ran]


def identifiers(patient):
    return [patient.given_name, patient.family_name, patient.mrn, patient.phone, patient.email,
            patient.date_of_birth.isoformat(), patient.date_of_birth.strftime("%m/%d/%Y")]


# --- What the patient reads -----------------------------------------------------------


def test_an_emergency_flag_sends_the_patient_to_the_emergency_department_in_english(
        signed):  # noqa: F811
    response, _ = submit(signed, answers("en", yes=("new_weakness_numbness",)))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Go to an emergency department now (or call 911)." in html
    assert "You told us about: new weakness or numbness in an arm or a leg." in html
    assert "something is pressing on the nerves in your spine" in html
    assert "Then call North Spine to tell them: +1 555 0100." in html
    assert 'href="tel:911"' in html
    assert html.index("emergency department now") < html.index("Thank you. Your answers were sent to your clinic.")


def test_an_emergency_flag_in_spanish_names_every_sign(signed):  # noqa: F811
    response, _ = submit(signed, answers("es", yes=("bowel_bladder_change", "fever")))
    html = response.content.decode()
    assert "Vaya ahora mismo a una sala de emergencias (o llame al 911)." in html
    assert ("Usted nos dijo que tiene: fiebre de más de 38.3 °C (101 °F) o escalofríos con temblores; y un problema "
            "nuevo para controlar la orina o las evacuaciones, o no poder orinar.") in html
    assert "Después llame a North Spine para avisarles: +1 555 0100." in html
    assert "Gracias. Sus respuestas se enviaron a su clínica." in html and 'lang="es"' in html


@pytest.mark.parametrize("language, words", [
    ("en", ["Call North Spine now: +1 555 0100.", "signs of an infection, which needs to be checked today",
            "If you cannot reach the clinic, go to an urgent care center", "a severe headache or a stiff neck"]),
    ("es", ["Llame ahora a North Spine: +1 555 0100.", "señal de una infección, que hay que revisar hoy",
            "el cuello rígido"]),
])
def test_fever_or_infection_signs_tell_the_patient_to_call_the_clinic_now(
        signed, language, words):  # noqa: F811
    response, _ = submit(signed, answers(language, yes=("infection_signs",)))
    html = response.content.decode()
    for text in words:
        assert text in html, text
    assert "911" not in html


def test_without_a_clinic_phone_the_patient_is_never_shown_an_empty_number(
        signed, clinics):  # noqa: F811
    Clinic.objects.filter(pk=clinics["north"].pk).update(phone="")
    response, _ = submit(signed, answers("en", yes=("fever",)))
    html = response.content.decode()
    assert ("Call North Spine now. If you do not have the number or cannot reach the clinic, go to an urgent care "
            "center or an emergency department today.") in html
    assert 'href="tel:"' not in html and "now: ." not in html and "now: <" not in html
    response, _ = submit(signed, answers("en"))  # already answered
    assert "already answered" in response.content.decode()


def test_no_red_flag_gives_the_plain_thank_you_and_no_alert(
        signed, on_call, sms):  # noqa: F811
    response, callbacks = submit(signed, answers("en", yes=("emergency_visit",)))
    html = response.content.decode()
    assert "Thank you. Your answers were sent to your clinic." in html and "red-flag-advice" not in html
    assert callbacks == [] and mail.outbox == [] and sms == []
    assert AdverseEvent.objects.filter(procedure=signed).count() == 1  # the emergency visit is still reported


def test_a_red_flag_saved_for_later_already_shows_the_advice_but_alerts_nobody(
        signed, on_call, sms):  # noqa: F811
    response, callbacks = submit(signed, answers("en", yes=("new_weakness_numbness",), submit=False))
    html = response.content.decode()
    assert "Your answers are saved" in html and "Go to an emergency department now" in html
    assert callbacks == [] and mail.outbox == [] and sms == []


# --- The clinic's alert ---------------------------------------------------------------


def test_the_on_call_contact_is_alerted_by_e_mail_and_sms_without_patient_identifiers(
        signed, on_call, sms):  # noqa: F811
    response, callbacks = submit(signed, answers("en", yes=("bowel_bladder_change", "infection_signs")))
    assert response.status_code == 200 and len(callbacks) == 1
    event = AdverseEvent.objects.get(procedure=signed)
    link = f"https://portal.example.org/adverse-events/{event.pk}/"
    [message] = mail.outbox
    assert message.to == ["oncall@north.test"]
    assert message.subject == "EMERGENCY: red flag reported to North Spine"
    assert "North Spine" in message.body and "emergency" in message.body and link in message.body
    assert "signs of infection at the injection site; new bowel or bladder change" in message.body
    assert "2w follow-up" in message.body and "answered by the patient" in message.body
    [(to, text)] = sms
    assert to == "+15550100999" and link in text and "EMERGENCY" in text and "new bowel or bladder change" in text
    for value in identifiers(signed.patient):
        for body in (message.subject, message.body, text):
            assert value not in body, value
    rows = AuditEvent.objects.filter(action="alert_sent").order_by("id")
    assert [(r.detail["channel"], r.detail["recipient"]) for r in rows] == [("email", "on_call"), ("sms", "on_call")]
    for row in rows:
        assert row.object_type == "adverse_events.adverseevent" and row.object_id == str(event.pk)
        assert row.clinic_id == signed.clinic_id and row.detail["urgency"] == "emergency"
        assert row.detail["flags"] == ["infection_signs", "bowel_bladder_change"]
        assert not any(value in str(row.detail) for value in identifiers(signed.patient))


def test_the_alert_is_queued_with_the_answers_and_sent_by_the_worker(signed, on_call, sms):  # noqa: F811
    with at(DAY):
        response = Client().post(url(task(signed, "2w")), answers("en", yes=("fever",)))
    assert response.status_code == 200 and mail.outbox == [] and sms == []  # the page did not wait for the mail
    [queued] = DBTaskResult.objects.ready()
    assert queued.task_path == "accretion.outcomes.alerts.send_red_flag_alert"
    assert run_queued().ran == [(queued.task_path, "SUCCESSFUL")]
    assert len(mail.outbox) == 1 and len(sms) == 1


def test_answers_that_are_not_stored_queue_no_alert(signed, on_call, sms, monkeypatch):  # noqa: F811
    """The alert is queued inside the submission's transaction: when storing fails after the alert was asked
    for (here the summary refresh, the last write), the alert goes with the answers."""
    from accretion.outcomes import services

    def disk_full(procedure):
        raise DatabaseError("disk full")

    monkeypatch.setattr(services.summary, "refresh", disk_full)
    with at(DAY):
        response = Client(raise_request_exception=False).post(url(task(signed, "2w")), answers("en", yes=("fever",)))
    assert response.status_code == 500
    assert not DBTaskResult.objects.exists() and run_queued().ran == [] and mail.outbox == []
    assert task(signed, "2w").completed_at is None


def test_without_an_on_call_contact_the_clinic_administrators_are_e_mailed(
        signed, staff, sms):  # noqa: F811
    submit(signed, answers("es", yes=("fever",)))
    [message] = mail.outbox
    assert message.to == ["clinic_admin@north.test"]  # the north clinic's administrator only
    assert message.subject == "Call the patient today: red flag reported to North Spine"
    assert "fever or shaking chills" in message.body
    assert sms == []  # no on-call phone: no text message
    row = AuditEvent.objects.get(action="alert_sent")
    assert (row.detail["channel"], row.detail["recipient"]) == ("email", "clinic_admins")


def test_an_on_call_phone_alone_texts_it_and_e_mails_the_administrators(
        signed, staff, clinics, sms):  # noqa: F811
    Clinic.objects.filter(pk=clinics["north"].pk).update(on_call_phone="+15550100999")
    submit(signed, answers("en", yes=("fever",)))
    assert [m.to for m in mail.outbox] == [["clinic_admin@north.test"]] and [to for to, _ in sms] == ["+15550100999"]


def test_one_alert_per_submission(signed, on_call, sms):  # noqa: F811
    data = answers("en", yes=("new_weakness_numbness",))
    submit(signed, data)
    response, callbacks = submit(signed, data)  # the same link, submitted again
    assert "already answered" in response.content.decode() and callbacks == []
    # Even if the alert were run again for the same submission, the audit says it went out: nothing is re-sent.
    t = task(signed, "2w")
    event = AdverseEvent.objects.get(procedure=signed)
    assert alerts.send(t.pk, ["new_weakness_numbness"], event_id=event.pk) == {"email": "skipped", "sms": "skipped"}
    assert len(mail.outbox) == 1 and len(sms) == 1
    assert AuditEvent.objects.filter(action="alert_sent").count() == 2


def test_a_failing_backend_is_audited_shown_to_staff_and_the_patient_still_gets_the_advice(
        signed, on_call, staff, clinics, settings):  # noqa: F811
    settings.EMAIL_BACKEND = f"{__name__}.FailingEmailBackend"
    settings.SMS_BACKEND = f"{__name__}.FailingSMSBackend"
    response, _ = submit(signed, answers("en", yes=("bowel_bladder_change",)))
    assert response.status_code == 200 and "Go to an emergency department now" in response.content.decode()
    t = task(signed, "2w")
    assert t.completed_at is not None  # nothing lost
    assert QuestionnaireResponse.objects.get(task=t, instrument="safety").answers["bowel_bladder_change"] is True
    event = AdverseEvent.objects.get(procedure=signed)
    failed = AuditEvent.objects.filter(action="alert_failed").order_by("id")
    assert [(r.detail["channel"], r.detail["recipient"]) for r in failed] == [("email", "on_call"), ("sms", "on_call")]
    assert "ConnectionRefusedError" in failed[0].detail["error"] and "TimeoutError" in failed[1].detail["error"]
    assert not AuditEvent.objects.filter(action="alert_sent").exists()
    page = signed_in(staff[("north", "nurse")], clinics["north"]).get(f"/adverse-events/{event.pk}/")
    html = page.content.decode()
    assert "the red-flag alert could not be sent" in html and "by e-mail to the on-call contact" in html
    assert "by SMS to the on-call contact" in html and "Call the patient back now" in html


def test_a_clinic_with_nobody_to_alert_records_the_failure(signed, sms):  # noqa: F811
    Membership.objects.filter(clinic=signed.clinic, role="clinic_admin").delete()  # no on-call, no administrator
    submit(signed, answers("en", yes=("fever",)))
    row = AuditEvent.objects.get(action="alert_failed")
    assert row.detail["recipient"] == "none" and mail.outbox == []


def test_an_unexpected_error_in_the_alert_never_costs_the_patient_the_page(
        signed, on_call, monkeypatch):  # noqa: F811
    def broken(*args, **kwargs):
        raise RuntimeError("bug")

    monkeypatch.setattr(alerts, "send", broken)
    with at(DAY):
        response = Client().post(url(task(signed, "2w")), answers("en", yes=("fever",)))
    assert response.status_code == 200 and "Call North Spine now" in response.content.decode()
    assert run_queued().failed == ["accretion.outcomes.alerts.send_red_flag_alert"]  # kept, with its error
    assert DBTaskResult.objects.get().exception_class_path == "builtins.RuntimeError"


# --- Staff entering the answers from a phone call -------------------------------------------


def test_staff_entering_a_red_flag_read_the_advice_to_the_patient_and_the_clinic_is_alerted(
        signed, staff, clinics, on_call, sms):  # noqa: F811
    t = task(signed, "2w")
    with at(DAY):
        desk = signed_in(staff[("north", "front_desk")], clinics["north"])
        response = desk.post(f"/outcomes/tasks/{t.pk}/", answers("es", yes=("new_weakness_numbness",), mode="phone"),
                             follow=True)
    run_queued()
    html = response.content.decode()
    assert response.redirect_chain[-1][0] == f"/procedures/{signed.pk}/"
    assert "Red flag reported (emergency). Read this to the patient now:" in html
    assert "Vaya ahora mismo a una sala de emergencias (o llame al 911)." in html
    assert "Answers recorded." in html
    [message] = mail.outbox
    assert "entered by staff from a phone call" in message.body and len(sms) == 1
    for value in identifiers(signed.patient):
        assert value not in message.body


def test_staff_saving_a_red_flag_see_the_advice_on_the_page(signed, staff, clinics):  # noqa: F811
    t = task(signed, "2w")
    with at(DAY):
        nurse = signed_in(staff[("north", "nurse")], clinics["north"])
        response = nurse.post(f"/outcomes/tasks/{t.pk}/", answers("en", yes=("fever",), submit=False))
    callbacks = run_queued().ran
    # The questions and the advice are in the patient's language (Spanish) for the staff member to read out.
    assert response.status_code == 200 and "Llame ahora a North Spine: +1 555 0100." in response.content.decode()
    assert callbacks == []


# --- The on-call contact in the clinic settings -----------------------------------------------


def test_the_admin_sets_the_on_call_contact(staff, clinics):
    admin = signed_in(staff[("north", "clinic_admin")], clinics["north"])
    response = admin.post("/clinic/", {"name": "North Spine", "phone": "+1 555 0100", "on_call_name": " Nurse  on call ",
                                       "on_call_email": "OnCall@North.test", "on_call_phone": "+1 555 010 0999"})
    assert response.status_code == 302
    north = Clinic.objects.get(pk=clinics["north"].pk)
    assert (north.on_call_name, north.on_call_email, north.on_call_phone) == (
        "Nurse on call", "oncall@north.test", "+15550100999")
    row = AuditEvent.objects.get(object_type="clinics.clinic")
    assert sorted(row.detail["fields"]) == ["on_call_email", "on_call_name", "on_call_phone"]
    page = admin.get("/clinic/").content.decode()
    assert "On-call contact" in page and 'value="+15550100999"' in page


@pytest.mark.parametrize("field, value, message", [
    ("on_call_email", "not-an-address", "Enter a valid email address."),
    ("on_call_email", "a@b", "Enter a valid email address."),
    ("on_call_phone", "call the nurse", "digits only"),
    ("on_call_phone", "+1 (555) 010-0999", "digits only"),
    ("on_call_phone", "12345", "7 to 15 digits"),
    ("on_call_phone", "+1234567890123456", "7 to 15 digits"),
    ("on_call_phone", "555\x000100", "Null characters are not allowed."),
])
def test_a_wrong_on_call_contact_is_refused_at_its_field(staff, clinics, field, value, message):
    admin = signed_in(staff[("north", "clinic_admin")], clinics["north"])
    response = admin.post("/clinic/", {"name": "North Spine", "phone": "+1 555 0100", field: value})
    assert response.status_code == 400
    assert message in " ".join(response.context["form"].errors[field])
    assert '<small class="field-error" role="alert">' in response.content.decode()
    north = Clinic.objects.get(pk=clinics["north"].pk)
    assert (north.on_call_email, north.on_call_phone) == ("", "")
