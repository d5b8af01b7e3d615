"""Inputs that used to reach the database or a library unchecked: each is now a field error, never a 500."""

import io
from datetime import timedelta

import pytest
from django import forms
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from pydicom.dataset import FileDataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from accretion.clinics.forms import AddMemberForm
from accretion.consents.services import Refused, decode_signature
from accretion.procedures.forms import CompleteForm, PlanProcedureForm, read_dicom_headers
from accretion.procedures.models import injection_image_path
from tests.conftest import api_client, signed_in


def test_an_injection_time_in_the_future_is_refused():
    for moment in ("9999-12-31T23:59", (timezone.localtime() + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")):
        form = CompleteForm({"version": "1", "injected_at": moment})
        assert not form.is_valid() and "cannot be in the future" in form.errors["injected_at"][0]
    assert CompleteForm({"version": "1", "injected_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M")}).is_valid()


def test_a_plan_more_than_two_years_ahead_is_refused(clinics):
    data = {"region": "lumbar", "targets": ["facet_joint"], "levels": "L4-L5", "kits": "1"}
    far = PlanProcedureForm({**data, "planned_date": "9999-01-01"}, clinic=clinics["north"])
    assert not far.is_valid() and "at most two years ahead" in far.errors["planned_date"][0]
    near = PlanProcedureForm({**data, "planned_date": (timezone.localdate() + timedelta(days=700)).isoformat()},
                             clinic=clinics["north"])
    assert near.is_valid(), near.errors


def _dicom(**elements) -> bytes:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.12.1"
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    dataset = FileDataset("upload", {}, file_meta=meta, preamble=b"\0" * 128)
    for name, value in elements.items():
        setattr(dataset, name, value)
    buffer = io.BytesIO()
    dataset.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def test_dicom_text_loses_nul_and_runaway_length():
    upload = SimpleUploadedFile("spot.dcm", _dicom(Modality="RF", Manufacturer="AC\x00ME",
                                                   ManufacturerModelName="M" * 60))
    headers = read_dicom_headers(upload)
    assert headers["Manufacturer"] == "ACME" and headers["Modality"] == "RF"
    assert upload.tell() == 0  # the file is read again when it is stored


def test_a_dicom_element_that_cannot_be_decoded_is_a_field_error():
    broken = _dicom(Modality="RF").replace(b"\x08\x00\x60\x00CS\x02\x00RF", b"\x08\x00\x60\x00FD\x03\x00RFX")
    with pytest.raises(forms.ValidationError) as error:
        read_dicom_headers(SimpleUploadedFile("spot.dcm", broken))
    assert "could not be read (BytesLengthException)" in error.value.messages[0]


@pytest.mark.parametrize("strokes", ['[{"points": 1}]', '[{"points": null}, {"points": "ab"}]', "[" * 100_000, "{}",
                                     "not json"])
def test_signature_strokes_that_are_not_strokes_ask_for_a_signature(strokes):
    with pytest.raises(Refused) as refused:
        decode_signature("data:image/png;base64,AAAA", strokes)
    assert refused.value.field == "signature"


def test_an_uploaded_file_name_never_reaches_the_disk():
    long_name = "scan.2024.06.01.left-L4-L5-" + "x" * 200 + "-Lovelace_Ada.PNG"
    path = injection_image_path(None, long_name)
    assert path.startswith("injections/") and path.endswith(".png") and "Lovelace" not in path and len(path) < 60
    assert injection_image_path(None, "no-extension").endswith(tuple("0123456789abcdef"))
    assert not injection_image_path(None, "evil.p$p").endswith(".p$p")


def test_a_staff_address_longer_than_a_user_name_is_refused(clinics):
    email = "a" * 140 + "@example.org"  # 152 characters: a valid address, too long to sign in with
    form = AddMemberForm({"email": email, "role": "nurse", "password": "a long passphrase 2026"},
                         clinic=clinics["north"])
    assert not form.is_valid() and "at most 150 characters" in form.errors["email"][0]


def test_adding_the_same_person_twice_at_once_is_a_message(clinics, staff, monkeypatch):
    from django.db import IntegrityError

    from accretion.clinics import views

    def lost_the_race(request, data):
        raise IntegrityError("duplicate key value violates unique constraint")

    monkeypatch.setattr(views, "_add_member", lost_the_race)
    admin = signed_in(staff[("north", "clinic_admin")], clinics["north"])
    response = admin.post("/members/", {"email": "new@north.test", "role": "nurse",
                                        "password": "a long passphrase 2026"})
    assert response.status_code == 400
    assert "added a moment ago" in response.context["form"].errors["email"][0]


def test_a_review_reason_with_nul_is_refused_by_the_api(clinics, staff):
    client = api_client(staff[("north", "physician")], clinics["north"])
    response = client.post("/api/v1/screenings/1/review", {"outcome": "proceed", "reasons": {"PLT": "ok\x00"}},
                           content_type="application/json")
    assert response.status_code == 422
    assert "reasons" in response.content.decode()
    long = client.post("/api/v1/screenings/1/review", {"outcome": "proceed", "reasons": {"PLT": "x" * 2001}},
                       content_type="application/json")
    assert long.status_code == 422
