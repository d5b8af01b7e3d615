"""Kit lot recall: the query, the clinic administrator's page and the operator's command."""

import csv
import io
import json
import textwrap
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accretion.audit.models import AuditEvent
from accretion.practice.models import Equipment, KitLot
from accretion.procedures.models import Preparation, Procedure
from accretion.recall import services
from tests import installed
from tests.conftest import signed_in
from tests.installed import command_env, copy_of

LOT = "RC-2026-07"
NEW_YORK = ZoneInfo("America/New_York")


def make_lot(clinic, lot_number=LOT, product="Angel PRP kit", expiry=date(2027, 6, 30)):
    return KitLot.objects.create(clinic=clinic, product=product, manufacturer="Arthrex", lot_number=lot_number,
                                 expiry_date=expiry, quantity_on_hand=10, received_on=date(2025, 1, 10))


def use_lot(lot, patient, planned, *, physician, recorder, started_at=None, status="signed"):
    """A procedure of `patient` whose preparation took a kit of `lot`."""
    procedure = Procedure.objects.create(
        clinic=lot.clinic, patient=patient, planned_date=planned, region="lumbar", targets=["facet_joint"],
        levels=["L4-L5"], physician=physician, created_by=recorder, started_at=started_at, status=status)
    centrifuge = Equipment.objects.filter(clinic=lot.clinic, kind="centrifuge").first() or Equipment.objects.create(
        clinic=lot.clinic, kind="centrifuge", manufacturer="Acme", model="Spin 2", serial=f"C-{lot.clinic.slug}",
        fda_510k="K123456")
    Preparation.objects.create(
        procedure=procedure, kit_lot=lot, centrifuge=centrifuge, whole_blood_ml=Decimal(30), anticoagulant="acd_a",
        spin_speed=1500, spin_minutes=Decimal(10), baseline_platelets=Decimal(220), baseline_wbc=Decimal("6.5"),
        prp_platelets=Decimal(1100), prp_wbc=Decimal("1.2"), prp_volume_ml=Decimal(4),
        drawn_at=started_at or datetime.combine(planned, datetime.min.time(), NEW_YORK), recorded_by=recorder)
    return procedure


@pytest.fixture
def world(clinics, staff, make_patient):
    """Lot RC-2026-07 used twice in north and once in south; another north lot used once."""
    north, south = clinics["north"], clinics["south"]
    staff[("north", "physician")].first_name, staff[("north", "physician")].last_name = "Grace", "Hopper"
    staff[("north", "physician")].save()
    north_lot, south_lot = make_lot(north), make_lot(south, expiry=date(2027, 7, 31))
    other_lot = make_lot(north, lot_number="OTHER-1")
    ada = make_patient(north, given_name="Ada", family_name="Byron", phone="+1 555 0101", email="ada@example.org",
                       date_of_birth=date(1961, 12, 10))
    alan = make_patient(north, given_name="Alan", family_name="Turing", phone="555 0102")
    maria = make_patient(south, given_name="María", family_name="García", email="maria@example.org")
    ned = make_patient(north, given_name="Ned", family_name="Other")

    def use(lot, patient, planned, clinic, **kwargs):
        return use_lot(lot, patient, planned, physician=staff[(clinic, "physician")],
                       recorder=staff[(clinic, "prep_tech")], **kwargs)

    # Planned for the 10th but started late on the 12th, New York time (already the 13th in UTC).
    late = use(north_lot, ada, date(2026, 3, 10), "north",
               started_at=datetime(2026, 3, 12, 22, 30, tzinfo=NEW_YORK))
    planned_only = use(north_lot, alan, date(2026, 2, 1), "north", status="in_progress")
    south_one = use(south_lot, maria, date(2026, 2, 20), "south")
    use(other_lot, ned, date(2026, 1, 5), "north")
    return {"north": north, "south": south, "north_lot": north_lot, "south_lot": south_lot,
            "late": late, "planned_only": planned_only, "south_one": south_one, "ada": ada, "alan": alan,
            "maria": maria}


def admin(staff, world, slug):
    return signed_in(staff[(slug, "clinic_admin")], world[slug])


# --- The query ------------------------------------------------------------------------------


def test_recall_lists_every_procedure_of_the_lot_in_every_clinic_by_date(world):
    rows = services.recall(LOT)
    assert [row.procedure_id for row in rows] == [world["planned_only"].pk, world["south_one"].pk, world["late"].pk]
    assert [row.procedure_date for row in rows] == [date(2026, 2, 1), date(2026, 2, 20), date(2026, 3, 12)]
    late = rows[2]
    assert (late.patient_name, late.mrn, late.date_of_birth, late.phone, late.email) == (
        "Ada Byron", world["ada"].mrn, date(1961, 12, 10), "+1 555 0101", "ada@example.org")
    assert (late.physician, late.clinic, late.status, late.status_label) == (
        "Grace Hopper", "north", "signed", "Signed")
    assert (late.product, late.manufacturer, late.lot_number, late.expiry_date) == (
        "Angel PRP kit", "Arthrex", LOT, date(2027, 6, 30))
    assert rows[1].clinic == "south" and rows[1].patient_name == "María García"
    assert rows[1].physician == "Sam Physician"
    assert rows[1].expiry_date == date(2027, 7, 31)
    assert rows[0].as_dict()["procedure_date"] == "2026-02-01"


def test_recall_is_scoped_to_a_clinic_when_asked(world):
    assert [row.procedure_id for row in services.recall(LOT, clinic=world["north"])] == [
        world["planned_only"].pk, world["late"].pk]
    assert [row.procedure_id for row in services.recall(LOT, clinic=world["south"])] == [world["south_one"].pk]
    assert services.recall("NO-SUCH-LOT") == []
    assert services.recall(f" {LOT.lower()} ", clinic=world["north"]) == services.recall(LOT, clinic=world["north"])


def test_the_same_lot_number_of_another_product_is_recalled_too(world, staff, make_patient):
    harvest = make_lot(world["north"], product="Harvest kit")
    patient = make_patient(world["north"])
    extra = use_lot(harvest, patient, date(2026, 4, 1), physician=None, recorder=staff[("north", "prep_tech")])
    rows = services.recall(LOT, clinic=world["north"])
    assert [(row.procedure_id, row.product, row.physician) for row in rows][-1] == (extra.pk, "Harvest kit", "")


def test_recall_is_one_query(world, django_assert_num_queries):
    with django_assert_num_queries(1):
        services.recall(LOT)
    with django_assert_num_queries(1):
        services.recall(LOT, clinic=world["north"])


@pytest.mark.parametrize("raw, message", [
    ("", "enter a lot number"),
    ("   ", "enter a lot number"),
    ("A\x00B", "NUL"),
    ("A\x1bB", "control characters"),
    ("X" * 61, "at most 60 characters"),
])
def test_impossible_lot_numbers_are_refused(raw, message):
    with pytest.raises(services.InvalidLotNumber, match=message):
        services.clean_lot_number(raw)
    assert services.clean_lot_number(f"  {'X' * 60} ") == "X" * 60


# --- The page --------------------------------------------------------------------------------


def test_the_page_shows_only_the_signed_in_clinics_rows(world, staff):
    response = admin(staff, world, "south").get("/practice/recall/", {"lot": LOT})
    assert response.status_code == 200
    page = response.content.decode()
    assert "María García" in page and "maria@example.org" in page and world["maria"].mrn in page
    assert "Ada Byron" not in page and "Alan Turing" not in page and "+1 555 0101" not in page
    assert "1 procedure, 1 patient" in page

    page = admin(staff, world, "north").get("/practice/recall/", {"lot": LOT}).content.decode()
    assert "Ada Byron" in page and "Alan Turing" in page and "+1 555 0101" in page and "Grace Hopper" in page
    assert "María García" not in page and "Ned Other" not in page
    assert "2 procedures, 2 patients" in page
    assert page.index("Alan Turing") < page.index("Ada Byron")  # by date
    assert f'href="/procedures/{world["late"].pk}/"' in page and "2026-03-12" in page
    assert f"?lot={LOT}&amp;format=csv" in page


def test_the_page_without_a_lot_is_the_search_form_and_is_not_audited(world, staff):
    client = admin(staff, world, "north")  # signing in is audited: count after it
    before = AuditEvent.objects.count()
    response = client.get("/practice/recall/")
    assert response.status_code == 200 and 'name="lot"' in response.content.decode()
    assert AuditEvent.objects.count() == before


def test_the_page_says_when_no_procedure_used_the_lot(world, staff, clinics):
    client = admin(staff, world, "north")
    page = client.get("/practice/recall/", {"lot": "NOPE-1"}).content.decode()
    assert "No procedure in North Spine used lot NOPE-1." in page and "no kit lot with this number" in page
    make_lot(clinics["north"], lot_number="FRESH-9")
    page = client.get("/practice/recall/", {"lot": " FRESH-9 "}).content.decode()
    assert "used lot FRESH-9." in page and "is in the kit inventory" in page
    # The south clinic's lot is not this clinic's: nothing is shown, not even that it exists elsewhere.
    make_lot(clinics["south"], lot_number="SOUTH-ONLY")
    assert "no kit lot with this number" in client.get("/practice/recall/", {"lot": "SOUTH-ONLY"}).content.decode()


@pytest.mark.parametrize("query", [{"lot": "X" * 61}, {"lot": "A\x00B"}, {"lot": ""}, {"lot": LOT, "format": "xlsx"}])
def test_the_page_refuses_impossible_input(world, staff, query):
    client = admin(staff, world, "north")
    before = AuditEvent.objects.count()
    response = client.get("/practice/recall/", query)
    assert response.status_code == 400
    assert 'role="alert"' in response.content.decode()
    assert AuditEvent.objects.count() == before


def test_the_page_is_audited_with_the_lot_and_the_number_of_patients(world, staff):
    admin(staff, world, "north").get("/practice/recall/", {"lot": LOT})
    event = AuditEvent.objects.latest("id")
    assert (event.action, event.object_type, event.object_id) == ("view", "practice.kitlot", str(world["north_lot"].pk))
    assert (event.clinic_id, event.username) == (world["north"].pk, "clinic_admin@north.test")
    assert event.detail["lot"] == LOT and event.detail["count"] == 2 and event.detail["patients"] == 2
    assert event.detail["patient_ids"] == sorted([world["ada"].pk, world["alan"].pk])


def test_csv_download_is_the_clinics_rows_and_is_audited_as_an_export(world, staff, make_patient):
    hacker = make_patient(world["north"], given_name="=HYPERLINK(\"http://x\")", family_name="Evil")
    use_lot(world["north_lot"], hacker, date(2026, 5, 1), physician=None, recorder=staff[("north", "prep_tech")])
    response = admin(staff, world, "north").get("/practice/recall/", {"lot": LOT, "format": "csv"})
    assert response.status_code == 200 and response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="recall-{LOT}.csv"'
    table = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert table[0][:6] == ["Procedure date", "Procedure", "Status", "Clinic", "Patient", "MRN"]
    assert [line[4] for line in table[1:]] == ["Alan Turing", "Ada Byron", "'=HYPERLINK(\"http://x\") Evil"]
    assert table[2][7] == "'+1 555 0101"  # a leading + would start a spreadsheet formula
    assert table[2][0] == "2026-03-12" and table[2][-1] == "2027-06-30"
    event = AuditEvent.objects.latest("id")
    assert (event.action, event.object_type, event.clinic_id) == ("export", "practice.kitlot", world["north"].pk)
    assert event.detail["format"] == "csv" and event.detail["count"] == 3 and event.detail["patients"] == 3


def test_the_pages_query_count_does_not_grow_with_the_rows(world, staff, make_patient):
    lot = make_lot(world["north"], lot_number="GROW-1")
    physician, prep = staff[("north", "physician")], staff[("north", "prep_tech")]
    use_lot(lot, make_patient(world["north"]), date(2026, 1, 2), physician=physician, recorder=prep)
    client = admin(staff, world, "north")
    client.get("/practice/recall/", {"lot": "GROW-1"})  # warm: session, caches

    def queries():
        with CaptureQueriesContext(connection) as captured:
            response = client.get("/practice/recall/", {"lot": "GROW-1"})
        assert response.status_code == 200
        return len(captured), response.content.decode().count('href="/procedures/')

    one, shown = queries()
    assert shown == 1
    for number in range(49):
        use_lot(lot, make_patient(world["north"]), date(2026, 1, 3) + timedelta(days=number), physician=physician,
                recorder=prep)
    fifty, shown = queries()
    assert shown == 50 and fifty == one


@pytest.mark.parametrize("role", ["nurse", "physician", "front_desk", "prep_tech", "auditor"])
def test_only_clinic_administrators_may_recall(world, staff, role):
    client = signed_in(staff[("north", role)], world["north"])
    assert client.get("/practice/recall/", {"lot": LOT}).status_code == 403
    assert client.get("/practice/recall/", {"lot": LOT, "format": "csv"}).status_code == 403
    assert not AuditEvent.objects.filter(object_type="practice.kitlot").exists()


def test_the_page_only_answers_get(world, staff):
    assert admin(staff, world, "north").post("/practice/recall/", {"lot": LOT}).status_code == 405


# --- The command --------------------------------------------------------------------------------


def run_command(*args):
    out = io.StringIO()
    call_command("recall", *args, stdout=out)
    return out.getvalue()


def test_command_json_lists_every_clinic_and_writes_one_audit_row_per_clinic(world):
    before = AuditEvent.objects.count()
    data = json.loads(run_command(LOT, "--json"))
    assert (data["lot"], data["clinic"], data["count"], data["patients"]) == (LOT, None, 3, 3)
    assert [p["procedure_id"] for p in data["procedures"]] == [
        world["planned_only"].pk, world["south_one"].pk, world["late"].pk]
    first = data["procedures"][2]
    assert first["patient_name"] == "Ada Byron" and first["procedure_date"] == "2026-03-12"
    assert first["phone"] == "+1 555 0101" and first["clinic"] == "north" and first["expiry_date"] == "2027-06-30"

    events = list(AuditEvent.objects.filter(id__gt=before).order_by("id"))
    assert [(e.action, e.object_type, e.clinic_id, e.user_id) for e in events] == [
        ("export", "practice.kitlot", world["north"].pk, None), ("export", "practice.kitlot", world["south"].pk, None)]
    assert [(e.detail["lot"], e.detail["count"], e.detail["source"]) for e in events] == [
        (LOT, 2, "command"), (LOT, 1, "command")]


def test_command_clinic_option_and_text_table(world):
    before = AuditEvent.objects.count()
    data = json.loads(run_command(LOT, "--clinic", "south", "--json"))
    assert data["clinic"] == "south" and [p["patient_name"] for p in data["procedures"]] == ["María García"]

    text = run_command(LOT)
    lines = text.splitlines()
    assert lines[0] == f"Lot {LOT}: 3 procedures, 3 patients, clinics north, south"
    assert f"north: Angel PRP kit (Arthrex), lot {LOT}, expires 2027-06-30: 2 procedures" in lines
    header = next(line for line in lines if line.startswith("Date"))
    assert header.split() == ["Date", "Procedure", "Status", "Patient", "MRN", "Born", "Phone", "Email",
                              "Physician"]
    ada = next(line for line in lines if "Ada Byron" in line)
    assert ada.startswith("2026-03-12") and "+1 555 0101" in ada and "Grace Hopper" in ada
    assert "María García" in text
    assert AuditEvent.objects.filter(id__gt=before).count() == 3  # south once, then north and south


def test_command_unknown_lot_says_so_and_is_audited_without_a_clinic(world):
    before = AuditEvent.objects.count()
    assert run_command("NOPE-1").strip() == "no procedure used lot NOPE-1"
    event = AuditEvent.objects.get(id__gt=before)
    assert (event.action, event.clinic_id, event.detail["lot"], event.detail["count"]) == ("export", None, "NOPE-1", 0)
    assert json.loads(run_command("NOPE-1", "--json"))["procedures"] == []


@pytest.mark.parametrize("args, message", [
    (["A\x00B"], "LOT: a lot number cannot contain a NUL character"),
    (["X" * 61], "LOT: a lot number has at most 60 characters, not 61"),
    ([" "], "LOT: enter a lot number"),
    ([LOT, "--clinic", "nowhere"], "--clinic: no clinic with the slug 'nowhere'"),
    ([LOT, "--clinic", "no\x00where"], "--clinic: no clinic with the slug 'no\\x00where'"),
])
def test_command_bad_input_is_one_line_and_exit_2(world, args, message):
    before = AuditEvent.objects.count()
    with pytest.raises(CommandError) as raised:
        run_command(*args)
    assert raised.value.returncode == 2 and str(raised.value) == message
    assert AuditEvent.objects.count() == before


SEED = textwrap.dedent("""
    from datetime import date, datetime, timezone
    from django.contrib.auth.models import User
    from accretion.clinics.models import Clinic
    from accretion.patients.models import Patient
    from accretion.practice.models import Equipment, KitLot
    from accretion.procedures.models import Preparation, Procedure
    clinic = Clinic.objects.create(slug="east", name="East Spine")
    user = User.objects.create(username="doc@east", first_name="Rita", last_name="Levi")
    patient = Patient.objects.create(clinic=clinic, mrn="E1", given_name="Lin", family_name="Wu",
                                     date_of_birth=date(1950, 1, 2), sex="female", phone="555 0199")
    lot = KitLot.objects.create(clinic=clinic, product="Kit", manufacturer="Acme", lot_number="SUB-1",
                                expiry_date=date(2027, 1, 1), quantity_on_hand=1, received_on=date(2026, 1, 1))
    spin = Equipment.objects.create(clinic=clinic, kind="centrifuge", manufacturer="A", model="B", serial="1",
                                    fda_510k="K123456")
    procedure = Procedure.objects.create(clinic=clinic, patient=patient, planned_date=date(2026, 6, 1),
                                         region="lumbar", physician=user, created_by=user, status="signed")
    Preparation.objects.create(procedure=procedure, kit_lot=lot, centrifuge=spin, whole_blood_ml=30,
                               anticoagulant="acd_a", spin_speed=1500, spin_minutes=10, baseline_platelets=200,
                               baseline_wbc=6, prp_platelets=900, prp_wbc=1, prp_volume_ml=4,
                               drawn_at=datetime(2026, 6, 1, 14, tzinfo=timezone.utc), recorded_by=user)
""")


def test_installed_command_against_a_real_database_file(tmp_path, migrated_file):
    env = command_env(copy_of(migrated_file, tmp_path, "recall.sqlite3"))

    def run(*args):
        return installed.run(*args, env=env)

    assert run("shell", "-c", SEED).returncode == 0

    found = run("recall", "SUB-1")
    assert found.returncode == 0, found.stderr
    assert found.stdout.splitlines()[0] == "Lot SUB-1: 1 procedure, 1 patient, clinic east"
    assert "Lin Wu" in found.stdout and "Rita Levi" in found.stdout and "2026-06-01" in found.stdout
    as_json = run("recall", "SUB-1", "--clinic", "east", "--json")
    assert as_json.returncode == 0 and json.loads(as_json.stdout)["procedures"][0]["phone"] == "555 0199"

    missing = run("recall", "NOPE")
    assert (missing.returncode, missing.stdout.strip()) == (0, "no procedure used lot NOPE")
    for args in (["recall", "X" * 61], ["recall", "SUB-1", "--clinic", "west"], ["recall"],
                 ["recall", "SUB-1", "--format", "xml"]):
        bad = run(*args)
        assert bad.returncode == 2 and bad.stderr.strip().count("\n") == 0, (args, bad.stderr)
        assert "Traceback" not in bad.stderr and bad.stdout == ""

    verified = run("audit", "verify")  # three exports, chained
    assert verified.returncode == 0 and "3 rows verified" in verified.stdout
