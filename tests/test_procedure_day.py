from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accretion.audit.models import AuditEvent
from accretion.consents.models import Consent, Estimate
from accretion.practice.models import Equipment, KitLot, TrainingRecord
from accretion.practice.services import REQUIRED_MODULES
from accretion.procedures.models import FollowUp, Procedure
from accretion.screenings.models import Screening
from tests.conftest import signed_in

TODAY = timezone.localdate


@pytest.fixture
def day(clinics, staff, make_patient):
    """A planned procedure with everything the gates need, in clinic north."""
    north = clinics["north"]
    physician, prep, nurse, admin = (staff[("north", r)] for r in ("physician", "prep_tech", "nurse", "clinic_admin"))
    for user in (physician, prep):
        for module in REQUIRED_MODULES:
            TrainingRecord.objects.create(clinic=north, user=user, module=module, completed_on=TODAY() - timedelta(days=30),
                                          expires_on=TODAY() + timedelta(days=300), verified_by=admin)
    centrifuge = Equipment.objects.create(clinic=north, kind="centrifuge", manufacturer="Acme", model="Spin 2",
                                          serial="C-1", fda_510k="K123456", next_maintenance=TODAY() + timedelta(days=60))
    fluoro = Equipment.objects.create(clinic=north, kind="fluoroscopy", manufacturer="Acme", model="C-arm",
                                      serial="F-1", next_maintenance=TODAY() + timedelta(days=60))
    lot = KitLot.objects.create(clinic=north, product="PRP kit", manufacturer="Acme", lot_number="LOT-42",
                                expiry_date=TODAY() + timedelta(days=90), quantity_on_hand=2, received_on=TODAY())
    patient = make_patient(north)
    Screening.objects.create(clinic=north, patient=patient, created_by=nurse, status="decided", decision="eligible",
                             findings=[], intake={"diagnoses": ["facet_oa"]}, ruleset="x", decided_at=timezone.now())
    procedure = Procedure.objects.create(clinic=north, patient=patient, planned_date=TODAY(), region="lumbar",
                                         targets=["facet_joint"], levels=["L4-L5"], created_by=nurse,
                                         physician=physician, prep_tech=prep)
    estimate = Estimate.objects.create(clinic=north, procedure=procedure, currency="USD", total=1, created_by=nurse)
    Consent.objects.create(clinic=north, patient=patient, procedure=procedure, estimate=estimate, language="en",
                           document_version="1", document_html="x", document_sha256="0" * 64,
                           patient_typed_name=patient.full_name,
                           signature_png=b"p", explained_by=nurse)
    return {"procedure": procedure, "lot": lot, "centrifuge": centrifuge, "fluoro": fluoro, "north": north,
            "nurse": signed_in(nurse, north), "prep": signed_in(prep, north), "physician": signed_in(physician, north)}


def version(procedure):
    procedure.refresh_from_db()
    return procedure.version


def timeout(d, **change):
    data = {"version": version(d["procedure"]), "kit_lot": d["lot"].pk, "centrifuge": d["centrifuge"].pk,
            "imaging_unit": d["fluoro"].pk,
            "confirmed": ["two_identifiers", "site_confirmed", "allergies_reviewed", "antithrombotics_reviewed",
                          "sterile_field", "imaging_ready", "emergency_equipment"]}
    data.update(change)
    return d["nurse"].post(f"/procedures/{d['procedure'].pk}/timeout/", data)


PREP = {"whole_blood_ml": "30", "anticoagulant": "acd_a", "anticoagulant_ml": "3", "spin_unit": "g",
        "spin_speed": "1500", "spin_minutes": "10", "spin_count": "2", "baseline_platelets": "220",
        "baseline_wbc": "6.5", "prp_platelets": "1100", "prp_wbc": "1.2", "prp_volume_ml": "4", "activation": "none"}


def prepare(d, **change):
    drawn = (timezone.localtime() - timedelta(minutes=40)).strftime("%Y-%m-%dT%H:%M")
    data = {**PREP, "drawn_at": drawn, "version": version(d["procedure"]), **change}
    return d["prep"].post(f"/procedures/{d['procedure'].pk}/preparation/", data)


def inject(d, **change):
    data = {"version": version(d["procedure"]), "target": "facet_joint", "levels": "L4-L5", "side": "left",
            "guidance": "fluoroscopy", "placement_confirmed": "yes", "volume_ml": "1.0", "needle_gauge": "22",
            "screening_time_s": "12.5", "dose_area_product": "1.1", **change}
    return d["nurse"].post(f"/procedures/{d['procedure'].pk}/injections/", data)


def complete(d, minutes_after_draw=25):
    injected = (timezone.localtime() - timedelta(minutes=40 - minutes_after_draw)).strftime("%Y-%m-%dT%H:%M")
    return d["nurse"].post(f"/procedures/{d['procedure'].pk}/complete/",
                           {"version": version(d["procedure"]), "injected_at": injected})


def test_a_whole_procedure_day(day):
    procedure = day["procedure"]
    assert timeout(day).status_code == 302
    procedure.refresh_from_db()
    assert procedure.status == "in_progress" and procedure.timeout.kit_lot == day["lot"]
    assert procedure.timeout.screening == Screening.objects.get(patient=procedure.patient)  # what cleared it
    assert prepare(day).status_code == 302
    day["lot"].refresh_from_db()
    assert day["lot"].quantity_on_hand == 1  # one kit taken, with the preparation
    assert procedure.preparation.derived["concentration_factor"] == 5.0
    assert procedure.preparation.derived["paw"] == "P3-B" and procedure.preparation.derived["mishra"] == "3A"
    assert inject(day).status_code == 302
    assert inject(day, side="right", levels="L5-S1").status_code == 302
    assert complete(day).status_code == 302
    procedure.refresh_from_db()
    assert procedure.status == "completed" and procedure.preparation.derived["dose_billion"] == 2.2
    assert procedure.consistency_score is not None and procedure.placement_rate == Decimal("1.00")
    page = day["physician"].get(f"/procedures/{procedure.pk}/")
    reasons = {name: "Agreed by the medical director." for name in page.context["forms"]["sign"].fields if name != "version"}
    signed = day["physician"].post(f"/procedures/{procedure.pk}/sign/", {"version": version(procedure), **reasons})
    assert signed.status_code == 302
    procedure.refresh_from_db()
    assert (procedure.status, procedure.billing_code, procedure.billing_units) == ("signed", "0232T", 1)
    assert procedure.aftercare_plan["nsaid_avoid_through"] == (procedure.started_at.astimezone(
        timezone.get_current_timezone()).date() + timedelta(days=7)).isoformat()
    assert list(FollowUp.objects.filter(procedure=procedure).values_list("key", flat=True)) == ["2w", "6w", "3m", "6m", "12m"]
    timeline = day["physician"].get(f"/patients/{procedure.patient_id}/").content.decode()
    assert "signed" in timeline


def test_a_signed_record_never_changes_but_takes_addenda(day):
    timeout(day), prepare(day), inject(day), complete(day)
    procedure = day["procedure"]
    page = day["physician"].get(f"/procedures/{procedure.pk}/")
    reasons = {n: "ok" for n in page.context["forms"]["sign"].fields if n != "version"}
    day["physician"].post(f"/procedures/{procedure.pk}/sign/", {"version": version(procedure), **reasons})
    before = Procedure.objects.get(pk=procedure.pk)
    assert inject(day).status_code == 400
    assert "not possible now: the procedure is signed" in inject(day).content.decode()
    assert procedure.injections.count() == 1
    cancel = day["nurse"].post(f"/procedures/{procedure.pk}/cancel/", {"version": version(procedure), "reason": "x"})
    assert cancel.status_code == 400
    assert day["physician"].post(f"/procedures/{procedure.pk}/addenda/", {"text": "Left L4-L5 needle re-directed once."}).status_code == 302
    after = Procedure.objects.get(pk=procedure.pk)
    assert (after.status, after.version, after.signed_at) == ("signed", before.version, before.signed_at)
    assert after.addenda.get().text == "Left L4-L5 needle re-directed once."


def test_only_the_operating_physician_signs_and_deviations_need_reasons(day, staff):
    timeout(day), prepare(day), inject(day, volume_ml="3.5"), complete(day)
    procedure = day["procedure"]
    procedure.refresh_from_db()
    assert any(c["status"] == "deviation" and c["code"] == "VOLUME_RANGE" for c in procedure.consistency)
    assert procedure.consistency_score < 1
    other = signed_in(staff[("south", "physician")], day["north"])  # not a member of north: 404 before anything
    assert other.post(f"/procedures/{procedure.pk}/sign/", {"version": version(procedure)}).status_code in (403, 404)
    no_reason = day["physician"].post(f"/procedures/{procedure.pk}/sign/", {"version": version(procedure)})
    assert no_reason.status_code == 400
    assert Procedure.objects.get(pk=procedure.pk).status == "completed"


@pytest.mark.parametrize("breakage, message", [
    ("screening", "The latest screening is not eligible"),
    ("consent", "no signed consent"),
    ("training", "Aseptic preparation"),
    ("lot_expired", "expired"),
    ("lot_empty", "out of stock"),
    ("centrifuge_out", "out of service"),
    ("maintenance", "maintenance"),
    ("no_team", "No operating physician is assigned"),
])
def test_each_hard_gate_blocks_the_time_out(day, breakage, message):
    procedure, lot = day["procedure"], day["lot"]
    if breakage == "screening":
        Screening.objects.filter(patient=procedure.patient).update(decision="ineligible")
    elif breakage == "consent":
        from accretion.consents.models import ConsentWithdrawal

        ConsentWithdrawal.objects.create(consent=procedure.consents.get(), recorded_by=procedure.created_by)
    elif breakage == "training":
        TrainingRecord.objects.filter(user=procedure.prep_tech, module="aseptic_preparation").update(
            expires_on=TODAY() - timedelta(days=1))
    elif breakage == "lot_expired":
        KitLot.objects.filter(pk=lot.pk).update(expiry_date=TODAY() - timedelta(days=1))
    elif breakage == "lot_empty":
        KitLot.objects.filter(pk=lot.pk).update(quantity_on_hand=0)
    elif breakage == "centrifuge_out":
        Equipment.objects.filter(pk=day["centrifuge"].pk).update(in_service=False)
    elif breakage == "maintenance":
        Equipment.objects.filter(pk=day["centrifuge"].pk).update(next_maintenance=TODAY() - timedelta(days=1))
    elif breakage == "no_team":
        Procedure.objects.filter(pk=procedure.pk).update(physician=None)
    response = timeout(day)
    assert response.status_code == 400 and message in response.content.decode()
    procedure.refresh_from_db()
    assert procedure.status == "planned" and not hasattr(procedure, "timeout")


def test_time_out_needs_every_checklist_item(day):
    response = timeout(day, confirmed=["two_identifiers"])
    assert response.status_code == 400 and "Not confirmed: Procedure, site, side and levels" in response.content.decode()


def test_two_people_saving_at_once_the_second_is_told(day):
    timeout(day)
    stale = version(day["procedure"])
    assert inject(day, version=stale).status_code == 302
    conflict = inject(day, version=stale, side="right")
    assert conflict.status_code == 409 and "Someone else saved this procedure" in conflict.content.decode()
    assert day["procedure"].injections.count() == 1


@pytest.mark.parametrize("change, field, message", [
    ({"levels": "C5-C6"}, "levels", "Not a lumbar level: C5-C6"),
    ({"screening_time_s": ""}, "screening_time_s", "needs the screening time"),
    ({"volume_ml": "0"}, "volume_ml", "more than 0"),
    ({"needle_gauge": "40"}, "needle_gauge", "between 18 and 30"),
    ({"guidance": "x-ray"}, "guidance", "Select a valid choice"),
    ({"placement_confirmed": ""}, "placement_confirmed", "required"),
])
def test_injection_bad_input_is_at_the_field(day, change, field, message):
    timeout(day)
    response = inject(day, **change)
    assert response.status_code == 400
    assert message in " ".join(response.context["forms"]["injection"].errors[field])
    assert day["procedure"].injections.count() == 0


def test_preparation_bad_input_and_draw_after_injection(day):
    timeout(day)
    more_prp = prepare(day, prp_volume_ml="40")
    assert more_prp.status_code == 400 and "prp_volume_ml" in more_prp.context["forms"]["preparation"].errors
    day["lot"].refresh_from_db()
    assert day["lot"].quantity_on_hand == 2  # nothing taken from stock
    prepare(day)
    inject(day)
    late = complete(day, minutes_after_draw=-10)
    assert late.status_code == 400 and "after the time of the draw" in late.content.decode()
    assert Procedure.objects.get(pk=day["procedure"].pk).status == "in_progress"


def test_more_injected_than_produced_is_refused_at_completion(day):
    timeout(day), prepare(day, prp_volume_ml="1.5")
    inject(day, volume_ml="1.0"), inject(day, volume_ml="1.0")
    response = complete(day)
    assert response.status_code == 400 and "2.00 mL injected in all" in response.content.decode()


def test_an_empty_lot_at_preparation_time_is_refused(day):
    timeout(day)
    KitLot.objects.filter(pk=day["lot"].pk).update(quantity_on_hand=0)
    response = prepare(day)
    assert response.status_code == 400
    assert not hasattr(Procedure.objects.get(pk=day["procedure"].pk), "preparation")


def test_cancel_needs_a_reason(day):
    url = f"/procedures/{day['procedure'].pk}/cancel/"
    assert day["nurse"].post(url, {"version": version(day["procedure"]), "reason": ""}).status_code == 400
    assert day["nurse"].post(url, {"version": version(day["procedure"]), "reason": "Patient has a fever."}).status_code == 302
    assert Procedure.objects.get(pk=day["procedure"].pk).cancel_reason == "Patient has a fever."


def _protocol_post(admin_client, **change):
    page = admin_client.get("/clinic/procedure-protocol/")
    form = page.context["form"]
    data = {}
    for name in form.fields:
        value = form.initial.get(name)
        data[name] = value if value is not None else ""
    data.update(change)
    return admin_client.post("/clinic/procedure-protocol/", data)


def test_clinic_admin_sets_the_procedure_protocol(day, staff):
    admin = signed_in(staff[("north", "clinic_admin")], day["north"])
    page = admin.get("/clinic/procedure-protocol/")
    assert page.status_code == 200 and "These are example values" in page.content.decode()
    bad = _protocol_post(admin, facet_joint__volume_min_ml="3", facet_joint__volume_max_ml="1")
    assert bad.status_code == 400
    day["north"].refresh_from_db()
    assert day["north"].procedure_protocol == {}
    assert _protocol_post(admin, facet_joint__volume_max_ml="4").status_code == 302
    day["north"].refresh_from_db()
    assert day["north"].procedure_protocol["targets"]["facet_joint"]["volume_max_ml"] == 4
    # A 3.5 mL facet injection is now within the clinic's protocol.
    timeout(day), prepare(day), inject(day, volume_ml="3.5"), complete(day)
    procedure = Procedure.objects.get(pk=day["procedure"].pk)
    assert not any(c["code"] == "VOLUME_RANGE" and c["status"] == "deviation" for c in procedure.consistency)
    nurse = signed_in(staff[("north", "nurse")], day["north"])
    assert nurse.get("/clinic/procedure-protocol/").status_code == 403


def _dicom_bytes() -> bytes:
    from io import BytesIO

    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.12.2"  # X-ray radiofluoroscopic image
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    dataset = Dataset()
    dataset.file_meta = meta
    dataset.Modality = "RF"
    dataset.Manufacturer = "Acme Imaging"
    dataset.BodyPartExamined = "LSPINE"
    dataset.StudyDate = "20261127"
    buffer = BytesIO()
    dataset.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def test_dicom_image_headers_are_read_and_a_fake_image_is_refused(day, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path
    timeout(day)
    dicom = SimpleUploadedFile("spot.dcm", _dicom_bytes(), content_type="application/dicom")
    assert inject(day, image=dicom).status_code == 302
    injection = day["procedure"].injections.get()
    assert injection.dicom_headers == {"Modality": "RF", "StudyDate": "20261127", "Manufacturer": "Acme Imaging",
                                       "BodyPartExamined": "LSPINE"}
    assert (tmp_path / injection.image.name).exists()
    fake = SimpleUploadedFile("spot.png", b"not really a picture", content_type="image/png")
    refused = inject(day, image=fake)
    assert refused.status_code == 400 and "PNG, JPEG or DICOM" in refused.content.decode()


def test_injection_images_are_served_to_staff_of_the_clinic_only_and_audited(day, settings, tmp_path, staff, clinics):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path
    timeout(day)
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200
    assert inject(day, image=SimpleUploadedFile("spot.png", png, content_type="image/png")).status_code == 302
    assert inject(day, image=SimpleUploadedFile("spot.dcm", _dicom_bytes())).status_code == 302
    picture, dicom = day["procedure"].injections.order_by("pk")
    page = day["nurse"].get(f"/procedures/{day['procedure'].pk}/").content.decode()
    assert f"/procedures/{day['procedure'].pk}/injections/{picture.pk}/image/" in page and "(download)" in page

    reader = signed_in(staff[("north", "front_desk")], clinics["north"])  # patient.view is enough to look
    shown = reader.get(f"/procedures/{day['procedure'].pk}/injections/{picture.pk}/image/")
    assert shown.status_code == 200 and shown["Content-Type"] == "image/png"
    assert shown["Content-Disposition"].startswith("inline") and b"".join(shown.streaming_content) == png
    assert "default-src 'none'" in shown["Content-Security-Policy"] and "no-store" in shown["Cache-Control"]
    downloaded = reader.get(f"/procedures/{day['procedure'].pk}/injections/{dicom.pk}/image/")
    assert downloaded["Content-Type"] == "application/dicom" and downloaded["Content-Disposition"].startswith(
        "attachment")
    viewed = AuditEvent.objects.filter(action="view", object_type="procedures.injection")
    assert sorted(viewed.values_list("object_id", flat=True)) == sorted([str(picture.pk), str(dicom.pk)])
    assert viewed.first().patient_id == day["procedure"].patient_id

    south = signed_in(staff[("south", "physician")], clinics["south"])
    assert south.get(f"/procedures/{day['procedure'].pk}/injections/{picture.pk}/image/").status_code == 404
    (tmp_path / picture.image.name).unlink()  # the file went missing from the storage: 404, not 500
    assert reader.get(f"/procedures/{day['procedure'].pk}/injections/{picture.pk}/image/").status_code == 404
    no_image = day["procedure"].injections.create(target="facet_joint", levels=["L4-L5"], side="left",
                                                  guidance="ultrasound", placement_confirmed=True, volume_ml=1,
                                                  needle_gauge=22, recorded_by=staff[("north", "nurse")])
    assert reader.get(f"/procedures/{day['procedure'].pk}/injections/{no_image.pk}/image/").status_code == 404
