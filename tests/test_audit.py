import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from accretion.audit.chain import verify
from accretion.audit.models import AppendOnlyError, AuditEvent
from tests.conftest import api_client, signed_in


@pytest.fixture
def patient(clinics, make_patient):
    return make_patient(clinics["north"])


def test_reading_a_patient_page_writes_one_row(staff, clinics, patient):
    nurse = staff[("north", "nurse")]
    client = signed_in(nurse, clinics["north"])
    before = AuditEvent.objects.count()
    response = client.get(f"/patients/{patient.pk}/", REMOTE_ADDR="10.1.2.3")
    assert response.status_code == 200
    rows = list(AuditEvent.objects.filter(action="view"))
    assert AuditEvent.objects.count() == before + 1
    row = rows[0]
    assert (row.user_id, row.clinic_id, row.patient_id) == (nurse.pk, clinics["north"].pk, patient.pk)
    assert (row.object_type, row.object_id, row.client_address) == ("patients.patient", str(patient.pk), "10.1.2.3")


def test_api_read_is_audited(staff, clinics, patient):
    client = api_client(staff[("north", "physician")], clinics["north"])
    assert client.get(f"/api/v1/patients/{patient.pk}").status_code == 200
    assert AuditEvent.objects.filter(action="view", patient_id=patient.pk).count() == 1


def test_a_refused_read_is_not_logged_as_a_read(staff, clinics, patient):
    client = signed_in(staff[("south", "physician")])
    assert client.get(f"/patients/{patient.pk}/").status_code == 404
    assert not AuditEvent.objects.filter(action="view", patient_id=patient.pk).exists()


def test_chain_verifies_and_tampering_is_named(staff, clinics, patient):
    client = signed_in(staff[("north", "nurse")], clinics["north"])
    for _ in range(3):
        client.get(f"/patients/{patient.pk}/")
    call_command("audit", "verify")  # intact: no error
    victim = AuditEvent.objects.filter(action="view").order_by("id")[1]
    with connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditevent SET client_address = %s WHERE id = %s", ["192.0.2.99", victim.pk])
    with pytest.raises(CommandError, match=rf"row {victim.pk}: content does not match"):
        call_command("audit", "verify")


def test_deleting_the_newest_rows_is_detected(staff, clinics, patient):
    client = signed_in(staff[("north", "nurse")], clinics["north"])
    client.get(f"/patients/{patient.pk}/")
    client.get(f"/patients/{patient.pk}/")
    newest = AuditEvent.objects.order_by("-id").first()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE id = %s", [newest.pk])
    verdict = verify()
    assert not verdict.ok and "missing" in verdict.reason


def test_deleting_a_middle_row_breaks_the_link(staff, clinics, patient):
    client = signed_in(staff[("north", "nurse")], clinics["north"])
    for _ in range(3):
        client.get(f"/patients/{patient.pk}/")
    ids = list(AuditEvent.objects.order_by("id").values_list("id", flat=True))
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE id = %s", [ids[1]])
    verdict = verify()
    assert not verdict.ok and verdict.broken_id == ids[2]


def test_no_code_path_updates_or_deletes_rows(staff, clinics, patient):
    signed_in(staff[("north", "nurse")], clinics["north"]).get(f"/patients/{patient.pk}/")
    row = AuditEvent.objects.first()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=row.pk).update(action="update")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()
    with pytest.raises(AppendOnlyError):
        row.delete()
    row.action = "update"
    with pytest.raises(AppendOnlyError):
        row.save()


def test_audit_page_filters_and_is_scoped(staff, clinics, patient, make_patient):
    other = make_patient(clinics["south"])
    signed_in(staff[("north", "nurse")], clinics["north"]).get(f"/patients/{patient.pk}/")
    signed_in(staff[("south", "nurse")], clinics["south"]).get(f"/patients/{other.pk}/")
    admin = signed_in(staff[("north", "clinic_admin")], clinics["north"])
    page = admin.get("/audit/", {"action": "view"})
    assert page.status_code == 200
    rows = list(page.context["page"].object_list)
    assert [r.patient_id for r in rows] == [patient.pk]
    assert admin.get("/audit/", {"patient": other.pk}).context["page"].paginator.count == 0
    assert admin.get("/audit/", {"since": "not-a-date"}).status_code == 200  # a bad filter is shown, not a crash
    assert admin.get("/audit/", {"patient": 2**70}).status_code == 200


def test_permission_changes_are_audited(staff, clinics):
    admin = signed_in(staff[("north", "clinic_admin")], clinics["north"])
    nurse_membership = staff[("north", "nurse")].memberships.get()
    response = admin.post(f"/members/{nurse_membership.pk}/", {"role": "physician"})
    assert response.status_code == 302
    row = AuditEvent.objects.get(action="permission_change")
    assert row.detail == {"member": "nurse@north.test", "role": "physician", "previous": "nurse",
                          "changes": {"role": ["nurse", "physician"]}}
    nurse_membership.refresh_from_db()
    assert nurse_membership.role == "physician"


def test_audit_page_names_the_staff_in_a_constant_number_of_queries(staff, clinics, patient, django_user_model):
    from django.test.utils import CaptureQueriesContext

    north = clinics["north"]
    admin = signed_in(staff[("north", "clinic_admin")], north)

    def who_column():
        with CaptureQueriesContext(connection) as queries:
            response = admin.get("/audit/", {"action": "view"})
        html = response.content.decode()
        cells = [row.split("</td>")[2].removeprefix("<td>") for row in html.split("<tr><td>")[1:]]
        return cells, len(queries)

    signed_in(staff[("north", "nurse")], north).get(f"/patients/{patient.pk}/")
    few, queries_for_few = who_column()
    assert few == ['Pat Nurse <small class="username">nurse@north.test</small>']

    gone = django_user_model.objects.create_user(username="temp@north.test", password="x")
    from accretion.clinics.models import Membership

    Membership.objects.create(user=gone, clinic=north, role="nurse")
    for user in (staff[("north", "physician")], staff[("north", "prep_tech")], gone):
        signed_in(user, north).get(f"/patients/{patient.pk}/")
    Membership.objects.filter(user=gone).delete()
    gone_id = gone.pk
    gone.delete()
    assert AuditEvent.objects.filter(user_id=gone_id, username="temp@north.test").exists()
    many, queries_for_many = who_column()
    assert queries_for_many == queries_for_few
    assert many == ["temp@north.test",  # a deleted user: the row's copied user name
                    'Pat Prep <small class="username">prep_tech@north.test</small>',
                    'Pat Physician <small class="username">physician@north.test</small>',
                    'Pat Nurse <small class="username">nurse@north.test</small>']
    call_command("audit", "verify")  # the chain is untouched by how the page shows it
