"""An injection row entered by mistake is removed before completion, audited, with its image."""

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accretion.audit.models import AuditEvent
from accretion.procedures.models import Injection
from tests.conftest import signed_in
from tests.test_procedure_day import complete, day, inject, prepare, timeout, version  # noqa: F401 - the `day` fixture

PNG = b"\x89PNG\r\n\x1a\n" + b"0" * 64


def remove(client, procedure, injection, *, confirm=True, at_version=None):
    data = {"version": at_version or version(procedure)}
    if confirm:
        data["confirm"] = "on"
    return client.post(f"/procedures/{procedure.pk}/injections/{injection.pk}/remove/", data)


@pytest.fixture
def two_rows(request, settings, tmp_path):
    """In progress, prepared, with a right row and a mistaken one (3.5 mL, with an image)."""
    d = request.getfixturevalue("day")
    settings.MEDIA_ROOT = tmp_path
    assert timeout(d).status_code == 302 and prepare(d).status_code == 302
    assert inject(d).status_code == 302
    image = SimpleUploadedFile("wrong.png", PNG, content_type="image/png")
    assert inject(d, volume_ml="3.5", side="right", image=image).status_code == 302
    right, wrong = d["procedure"].injections.order_by("id")
    return {**d, "right": right, "wrong": wrong, "media": tmp_path}


def test_a_mistaken_row_is_removed_with_its_image_and_audited(two_rows, django_capture_on_commit_callbacks):
    d, procedure, wrong = two_rows, two_rows["procedure"], two_rows["wrong"]
    stored = d["media"] / wrong.image.name
    assert stored.exists()
    page = d["nurse"].get(f"/procedures/{procedure.pk}/").content.decode()
    assert f'action="/procedures/{procedure.pk}/injections/{wrong.pk}/remove/"' in page
    unconfirmed = remove(d["nurse"], procedure, wrong, confirm=False)
    assert unconfirmed.status_code == 400 and "Tick the box to confirm" in unconfirmed.content.decode()
    assert Injection.objects.filter(pk=wrong.pk).exists()
    before = version(procedure)
    with django_capture_on_commit_callbacks(execute=True):
        assert remove(d["nurse"], procedure, wrong).status_code == 302
    assert list(procedure.injections.values_list("pk", flat=True)) == [d["right"].pk]
    assert version(procedure) == before + 1
    assert not stored.exists()  # the image went with the row
    row = AuditEvent.objects.get(action="delete")
    assert (row.object_type, row.object_id, row.patient_id) == ("procedures.injection", str(wrong.pk),
                                                                procedure.patient_id)
    assert row.username == "nurse@north.test" and row.detail["image_deleted"] == wrong.image.name
    assert {k: row.detail["values"][k] for k in ("volume_ml", "side", "target", "levels", "image")} == {
        "volume_ml": "3.50", "side": "right", "target": "facet_joint", "levels": ["L4-L5"], "image": wrong.image.name}
    page = d["nurse"].get(f"/procedures/{procedure.pk}/").content.decode()
    assert f"injections/{wrong.pk}/" not in page
    # Completion checks and doses the rows that remain: 1 mL, within the volume range.
    assert complete(d).status_code == 302
    procedure.refresh_from_db()
    assert procedure.preparation.derived["dose_billion"] == 1.1
    assert not any(c["code"] == "VOLUME_RANGE" and c["status"] == "deviation" for c in procedure.consistency)
    assert procedure.placement_rate == Decimal("1.00")


def test_a_stale_page_is_told_someone_else_saved(two_rows):
    d, procedure = two_rows, two_rows["procedure"]
    stale = version(procedure)
    assert inject(d, side="bilateral").status_code == 302  # someone records another row meanwhile
    response = remove(d["nurse"], procedure, d["wrong"], at_version=stale)
    assert response.status_code == 409 and "Someone else saved this procedure" in response.content.decode()
    assert procedure.injections.count() == 3 and not AuditEvent.objects.filter(action="delete").exists()


def test_after_completion_rows_are_not_removed(two_rows):
    d, procedure = two_rows, two_rows["procedure"]
    assert remove(d["nurse"], procedure, d["wrong"]).status_code == 302
    assert complete(d).status_code == 302
    page = d["nurse"].get(f"/procedures/{procedure.pk}/").content.decode()
    assert "/remove/" not in page  # no Remove button on a completed record
    refused = remove(d["nurse"], procedure, d["right"])
    assert refused.status_code == 400
    assert "The procedure is completed: its injection rows no longer change." in refused.content.decode()
    physician = d["physician"]
    sign_page = physician.get(f"/procedures/{procedure.pk}/")
    reasons = {n: "ok" for n in sign_page.context["forms"]["sign"].fields if n != "version"}
    assert physician.post(f"/procedures/{procedure.pk}/sign/", {"version": version(procedure), **reasons}).status_code == 302
    signed = remove(d["nurse"], procedure, d["right"])
    assert signed.status_code == 400 and "add an addendum to correct it" in signed.content.decode()
    assert procedure.injections.count() == 1


def test_other_clinic_and_other_procedure_are_not_found(two_rows, staff, clinics, make_patient):
    d, procedure = two_rows, two_rows["procedure"]
    south = signed_in(staff[("south", "nurse")], clinics["south"])
    assert remove(south, procedure, d["wrong"]).status_code == 404
    from accretion.procedures.models import Procedure

    other = Procedure.objects.create(clinic=d["north"], patient=make_patient(d["north"]), planned_date=procedure.planned_date,
                                     region="lumbar", targets=["facet_joint"], levels=["L4-L5"],
                                     created_by=staff[("north", "nurse")])
    response = d["nurse"].post(f"/procedures/{other.pk}/injections/{d['wrong'].pk}/remove/",
                               {"version": version(other), "confirm": "on"})
    assert response.status_code == 404
    assert procedure.injections.count() == 2


@pytest.mark.parametrize("role", ["prep_tech", "front_desk", "clinic_admin", "auditor"])
def test_roles_that_do_not_record_injections_are_refused(two_rows, staff, role):
    d, procedure = two_rows, two_rows["procedure"]
    client = signed_in(staff[("north", role)], d["north"])
    assert remove(client, procedure, d["wrong"]).status_code == 403
    assert procedure.injections.count() == 2
