"""Practice operations: training status and gaps, equipment, kit stock, and their pages."""

import threading
from datetime import date, timedelta

import pytest
from django.db import IntegrityError, close_old_connections, connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accretion.audit.models import AuditEvent
from accretion.clinics.roles import ROLE_NAMES, role_has
from accretion.practice import services
from accretion.practice.demo import load_demo
from accretion.practice.forms import EquipmentForm
from accretion.practice.models import REQUIRED_MODULES, Equipment, KitLot, TrainingModule, TrainingRecord
from accretion.practice.services import (
    KitUnavailable,
    centrifuge_problems,
    imaging_problems,
    kit_lot_problems,
    take_kit,
    training_gaps,
    training_status,
)
from tests.conftest import signed_in

DAY = date(2026, 10, 2)


def train(clinic, user, module, completed_on, expires_on=None, verified_by=None):
    return TrainingRecord.objects.create(clinic=clinic, user=user, module=module, completed_on=completed_on,
                                         expires_on=expires_on, verified_by=verified_by or user)


def train_all(clinic, user, completed_on):
    for module in REQUIRED_MODULES:
        train(clinic, user, module, completed_on)


def centrifuge(clinic, **fields):
    values = {"kind": "centrifuge", "manufacturer": "Harvest", "model": "SmartPReP 2", "serial": "SP-1",
              "fda_510k": "K123456", "in_service": True, "next_maintenance": DAY + timedelta(days=90)}
    values.update(fields)
    return Equipment.objects.create(clinic=clinic, **values)


def imaging(clinic, kind="fluoroscopy", **fields):
    values = {"kind": kind, "manufacturer": "GE", "model": "OEC", "serial": f"IM-{kind}", "in_service": True,
              "next_maintenance": DAY + timedelta(days=90)}
    values.update(fields)
    return Equipment.objects.create(clinic=clinic, **values)


def lot(clinic, **fields):
    values = {"product": "Angel cPRP set", "manufacturer": "Arthrex", "lot_number": "L-100",
              "expiry_date": DAY + timedelta(days=200), "quantity_on_hand": 5, "received_on": DAY - timedelta(days=10)}
    values.update(fields)
    return KitLot.objects.create(clinic=clinic, **values)


def record_at(expires_on, completed_on=date(2025, 1, 1)):
    return TrainingRecord(module="aseptic_preparation", completed_on=completed_on, expires_on=expires_on)


# --- training status -------------------------------------------------------------------


@pytest.mark.parametrize("expires_in_days, expected", [
    (-1, "expired"),     # expired yesterday
    (0, "expiring"),     # valid through today
    (1, "expiring"),
    (30, "expiring"),    # the last day of the 30-day window
    (31, "current"),
    (365, "current"),
])
def test_training_status_boundaries(expires_in_days, expected):
    assert training_status(record_at(DAY + timedelta(days=expires_in_days)), DAY) == expected


@pytest.mark.django_db
@pytest.mark.parametrize("completed, expires", [
    (date(2026, 1, 31), date(2027, 1, 31)),
    (date(2024, 2, 29), date(2025, 2, 28)),   # no 29 February next year: the last day of the month
    (date(2025, 8, 15), date(2026, 8, 15)),
])
def test_expiry_defaults_to_twelve_calendar_months(clinics, staff, completed, expires):
    row = train(clinics["north"], staff[("north", "nurse")], "emergency_protocols", completed)
    assert row.expires_on == expires


@pytest.mark.django_db
def test_expiry_must_be_after_completion_in_the_database(clinics, staff):
    nurse = staff[("north", "nurse")]
    with pytest.raises(IntegrityError), transaction.atomic():
        train(clinics["north"], nurse, "emergency_protocols", DAY, expires_on=DAY)


@pytest.mark.django_db
def test_latest_completion_counts_not_the_longest_valid(clinics, staff):
    north, nurse = clinics["north"], staff[("north", "nurse")]
    module = "aseptic_preparation"
    train(north, nurse, module, date(2024, 1, 10), expires_on=date(2030, 1, 1))  # older, long validity
    newer = train(north, nurse, module, date(2025, 3, 1), expires_on=date(2026, 3, 1))  # latest, expired on DAY
    latest = services.latest_records(north, DAY, users=[nurse])
    assert latest[(nurse.pk, module)] == newer
    assert "has no current training in Aseptic preparation (expired 2026-03-01)." in training_gaps(nurse, north, DAY)[0]


@pytest.mark.django_db
def test_a_newer_completion_renews_an_expired_one(clinics, staff):
    north, nurse = clinics["north"], staff[("north", "nurse")]
    train_all(north, nurse, date(2024, 1, 10))                 # all expired 2025-01-10
    assert len(training_gaps(nurse, north, DAY)) == 3
    train_all(north, nurse, date(2026, 9, 1))
    assert training_gaps(nurse, north, DAY) == []


@pytest.mark.django_db
def test_training_completed_after_the_day_does_not_count_yet(clinics, staff):
    north, nurse = clinics["north"], staff[("north", "nurse")]
    train_all(north, nurse, DAY + timedelta(days=1))
    assert len(training_gaps(nurse, north, DAY)) == 3
    assert training_gaps(nurse, north, DAY + timedelta(days=1)) == []


@pytest.mark.django_db
def test_same_completion_date_the_entry_made_last_wins(clinics, staff):
    north, nurse = clinics["north"], staff[("north", "nurse")]
    train(north, nurse, "emergency_protocols", date(2025, 9, 1), expires_on=date(2026, 9, 1))
    correction = train(north, nurse, "emergency_protocols", date(2025, 9, 1), expires_on=date(2026, 12, 1))
    assert services.latest_records(north, DAY, users=[nurse])[(nurse.pk, "emergency_protocols")] == correction


# --- training gaps -------------------------------------------------------------------------


@pytest.mark.django_db
def test_training_gaps_name_each_missing_or_expired_required_module(clinics, staff):
    north, nurse = clinics["north"], staff[("north", "nurse")]
    train(north, nurse, "aseptic_preparation", date(2025, 10, 1))                 # expired 2026-10-01
    train(north, nurse, "emergency_protocols", date(2025, 10, 2))                 # expires on DAY: still current
    assert training_gaps(nurse, north, DAY) == [
        "Pat Nurse has no current training in Aseptic preparation (expired 2026-10-01).",
        "Pat Nurse has no training in Documentation and consent on record.",
    ]


@pytest.mark.django_db
def test_training_gaps_are_empty_when_current_and_ignore_clinic_modules_and_other_clinics(clinics, staff):
    north, south, nurse = clinics["north"], clinics["south"], staff[("north", "nurse")]
    TrainingModule.objects.create(clinic=north, code="laser_safety", name="Laser safety")
    train_all(south, nurse, date(2026, 9, 1))          # trained in another clinic: does not count here
    assert len(training_gaps(nurse, north, DAY)) == 3
    train_all(north, nurse, date(2025, 10, 20))         # expiring within 30 days is not a gap
    assert training_gaps(nurse, north, DAY) == []


# --- equipment ---------------------------------------------------------------------------------


def equipment_form(clinic, **fields):
    data = {"kind": "centrifuge", "manufacturer": "Harvest", "model": "SmartPReP 2", "serial": "SP-9",
            "fda_510k": "K123456", "in_service": "on", "next_maintenance": "2026-12-01"}
    data.update(fields)
    return EquipmentForm(data, clinic=clinic)


@pytest.mark.django_db
@pytest.mark.parametrize("kind, number, error", [
    ("centrifuge", "K123456", None),
    ("centrifuge", "K000001", None),
    ("centrifuge", "k123456", "capital K followed by six digits"),
    ("centrifuge", "K12345", "capital K followed by six digits"),
    ("centrifuge", "K1234567", "at most 7 characters"),
    ("centrifuge", "123456", "capital K followed by six digits"),
    ("centrifuge", "", "needs its FDA 510(k) number"),
    ("fluoroscopy", "", None),
    ("ultrasound", "", None),
    ("ultrasound", "K123456", "leave it empty for imaging units"),
])
def test_510k_number_format_and_only_for_centrifuges(clinics, kind, number, error):
    form = equipment_form(clinics["north"], kind=kind, fda_510k=number)
    if error is None:
        assert form.is_valid(), form.errors
    else:
        assert not form.is_valid()
        assert list(form.errors) == ["fda_510k"]
        assert error in form.errors["fda_510k"][0]


@pytest.mark.django_db
def test_database_refuses_a_centrifuge_without_510k_and_imaging_with_one(clinics):
    with pytest.raises(IntegrityError), transaction.atomic():
        centrifuge(clinics["north"], fda_510k="")
    with pytest.raises(IntegrityError), transaction.atomic():
        imaging(clinics["north"], fda_510k="K123456")


@pytest.mark.django_db
def test_centrifuge_problems(clinics):
    north = clinics["north"]
    device = centrifuge(north)
    assert centrifuge_problems(device, DAY) == []
    device.next_maintenance = DAY
    assert centrifuge_problems(device, DAY) == []  # due today: still usable today
    device.next_maintenance = DAY - timedelta(days=1)
    assert centrifuge_problems(device, DAY) == [
        "Centrifuge system Harvest SmartPReP 2 (serial SP-1) is past its maintenance date (2026-10-01)."]
    device.in_service, device.next_maintenance = False, None
    assert centrifuge_problems(device, DAY) == [
        "Centrifuge system Harvest SmartPReP 2 (serial SP-1) is out of service.",
        "Centrifuge system Harvest SmartPReP 2 (serial SP-1) has no maintenance date on record.",
    ]
    assert centrifuge_problems(imaging(north), DAY) == [
        "Fluoroscopy unit GE OEC (serial IM-fluoroscopy) is not a centrifuge."]
    assert centrifuge_problems(None, DAY) == ["No centrifuge is selected."]


@pytest.mark.django_db
def test_imaging_problems(clinics):
    north = clinics["north"]
    for kind in ("fluoroscopy", "ultrasound"):
        assert imaging_problems(imaging(north, kind), DAY) == []
    unit = imaging(north, "ultrasound", serial="US-2", in_service=False, next_maintenance=DAY - timedelta(days=3))
    assert imaging_problems(unit, DAY) == [
        "Ultrasound unit GE OEC (serial US-2) is out of service.",
        "Ultrasound unit GE OEC (serial US-2) is past its maintenance date (2026-09-29).",
    ]
    assert imaging_problems(centrifuge(north), DAY) == [
        "Centrifuge system Harvest SmartPReP 2 (serial SP-1) is not an imaging unit (fluoroscopy or ultrasound)."]
    assert imaging_problems(None, DAY) == ["No imaging unit is selected."]


# --- kit lots --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_kit_lot_problems(clinics):
    north = clinics["north"]
    assert kit_lot_problems(lot(north, expiry_date=DAY), DAY) == []  # usable on its expiry date
    assert kit_lot_problems(lot(north, lot_number="L-2", expiry_date=DAY - timedelta(days=1)), DAY) == [
        "Kit lot L-2 (Angel cPRP set) expired on 2026-10-01."]
    assert kit_lot_problems(lot(north, lot_number="L-3", quantity_on_hand=0), DAY) == [
        "Kit lot L-3 (Angel cPRP set) is out of stock."]
    both = lot(north, lot_number="L-4", quantity_on_hand=0, expiry_date=date(2026, 1, 1))
    assert len(kit_lot_problems(both, DAY)) == 2
    assert kit_lot_problems(None, DAY) == ["No kit lot is selected."]


@pytest.mark.django_db
def test_take_kit_takes_one(clinics):
    kits = lot(clinics["north"], quantity_on_hand=2)
    take_kit(kits, DAY)
    assert kits.quantity_on_hand == 1
    assert KitLot.objects.get(pk=kits.pk).quantity_on_hand == 1
    take_kit(kits, DAY)
    assert KitLot.objects.get(pk=kits.pk).quantity_on_hand == 0


@pytest.mark.django_db
def test_take_kit_refuses_an_empty_lot(clinics):
    kits = lot(clinics["north"], quantity_on_hand=0)
    with pytest.raises(KitUnavailable, match="is out of stock"):
        take_kit(kits, DAY)
    assert KitLot.objects.get(pk=kits.pk).quantity_on_hand == 0


@pytest.mark.django_db
def test_take_kit_refuses_an_expired_lot_but_not_on_its_expiry_day(clinics):
    kits = lot(clinics["north"], expiry_date=DAY - timedelta(days=1), quantity_on_hand=3)
    with pytest.raises(KitUnavailable) as refused:
        take_kit(kits, DAY)
    assert str(refused.value) == "Kit lot L-100 (Angel cPRP set) expired on 2026-10-01."
    assert KitLot.objects.get(pk=kits.pk).quantity_on_hand == 3
    take_kit(kits, DAY - timedelta(days=1))
    assert KitLot.objects.get(pk=kits.pk).quantity_on_hand == 2


@pytest.mark.django_db
def test_take_kit_decides_on_the_database_row_not_a_stale_object(clinics):
    kits = lot(clinics["north"], quantity_on_hand=1)
    stale = KitLot.objects.get(pk=kits.pk)
    take_kit(kits, DAY)
    assert stale.quantity_on_hand == 1  # still says there is one
    with pytest.raises(KitUnavailable, match="out of stock"):
        take_kit(stale, DAY)
    assert KitLot.objects.get(pk=kits.pk).quantity_on_hand == 0


@pytest.mark.django_db
def test_a_rolled_back_caller_puts_the_kit_back(clinics):
    kits = lot(clinics["north"], quantity_on_hand=1)
    with pytest.raises(RuntimeError), transaction.atomic():
        take_kit(kits, DAY)
        raise RuntimeError("the preparation could not be saved")
    assert KitLot.objects.get(pk=kits.pk).quantity_on_hand == 1


@pytest.mark.django_db
def test_stock_can_never_be_negative_in_the_database(clinics):
    kits = lot(clinics["north"], quantity_on_hand=0)
    with pytest.raises(IntegrityError), transaction.atomic():
        KitLot.objects.filter(pk=kits.pk).update(quantity_on_hand=-1)


@pytest.mark.django_db(transaction=True)
def test_concurrent_takes_never_take_more_kits_than_there_are(clinics):
    """Eight preparations race for a lot of three kits: exactly three get one, stock ends at zero."""
    kits = lot(clinics["north"], quantity_on_hand=3)
    threads_count = 8
    start = threading.Barrier(threads_count)
    outcomes, errors = [], []

    def prepare():
        try:
            start.wait(timeout=10)
            with transaction.atomic():
                take_kit(KitLot.objects.get(pk=kits.pk), DAY)
                # hold the transaction open a little, as a real preparation would while saving its record
                KitLot.objects.filter(pk=kits.pk).exists()
            outcomes.append("taken")
        except KitUnavailable:
            outcomes.append("refused")
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(repr(error))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=prepare) for _ in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    close_old_connections()
    assert errors == []
    assert sorted(outcomes) == ["refused"] * 5 + ["taken"] * 3
    assert KitLot.objects.get(pk=kits.pk).quantity_on_hand == 0


@pytest.mark.django_db
def test_lot_numbers_are_indexed_for_recalls():
    indexes = [index.fields for index in KitLot._meta.indexes]
    assert ["lot_key"] in indexes


# --- pages -----------------------------------------------------------------------------------------


@pytest.fixture
def north(clinics):
    return clinics["north"]


@pytest.fixture
def admin(staff, north):
    return signed_in(staff[("north", "clinic_admin")], north)


def audit_rows(object_type):
    return list(AuditEvent.objects.filter(object_type=object_type).order_by("id"))


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLE_NAMES)
@pytest.mark.parametrize("url", ["/practice/training/", "/practice/equipment/", "/practice/kits/"])
def test_every_role_reads_the_practice_pages(staff, north, role, url):
    response = signed_in(staff[("north", role)], north).get(url)
    assert response.status_code == 200
    assert (b'method="post" action="/practice/' in response.content) == role_has(role, "practice.manage")


@pytest.mark.django_db
def test_training_page_shows_each_member_and_module_with_status(admin, staff, north):
    today = timezone.localdate()
    nurse, tech = staff[("north", "nurse")], staff[("north", "prep_tech")]
    train(north, nurse, "aseptic_preparation", today - timedelta(days=30))
    train(north, nurse, "emergency_protocols", today - timedelta(days=340))            # expiring
    train(north, nurse, "documentation_and_consent", today - timedelta(days=400))      # expired
    TrainingModule.objects.create(clinic=north, code="radiation_safety", name="Radiation safety")
    page = admin.get("/practice/training/")
    rows = {row.membership.user.username: [c.status for c in row.cells] for row in page.context["rows"]}
    assert list(page.context["modules"]) == [*REQUIRED_MODULES, "radiation_safety"]
    assert rows["nurse@north.test"] == ["current", "expiring", "expired", "missing"]
    assert rows[tech.username] == ["missing"] * 4
    assert len(rows) == len(ROLE_NAMES)  # every member of the clinic, none of the other
    html = page.content.decode()
    assert "Radiation safety" in html and "Pat Nurse" in html and "Sam Nurse" not in html
    expiring_until = TrainingRecord.objects.get(user=nurse, module="emergency_protocols").expires_on
    assert f"valid through {expiring_until:%Y-%m-%d}" in html


@pytest.mark.django_db
def test_training_page_filters_to_problems_and_clinical_staff(admin, staff, north):
    today = timezone.localdate()
    for role in ("physician", "nurse", "prep_tech"):
        train_all(north, staff[("north", role)], today - timedelta(days=10))
    train(north, staff[("north", "nurse")], "emergency_protocols", today - timedelta(days=400))  # older: ignored
    problems = admin.get("/practice/training/", {"problems": "on"}).context["rows"]
    assert {row.membership.role for row in problems} == {"front_desk", "clinic_admin", "auditor"}
    clinical = admin.get("/practice/training/", {"clinical": "on"}).context["rows"]
    assert [row.membership.role for row in clinical] == ["physician", "nurse", "prep_tech"]
    both = admin.get("/practice/training/", {"clinical": "on", "problems": "on"})
    assert both.context["rows"] == [] and "Nobody matches" in both.content.decode()


def _queries(client, url):
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


@pytest.mark.django_db
def test_pages_run_a_fixed_number_of_queries(admin, staff, north, django_user_model):
    from accretion.clinics.models import Membership

    today = timezone.localdate()
    urls = ["/practice/training/", "/practice/equipment/", "/practice/kits/"]
    train_all(north, staff[("north", "nurse")], today)
    centrifuge(north, next_maintenance=today)
    lot(north)
    before = {url: _queries(admin, url) for url in urls}
    for number in range(6):
        user = django_user_model.objects.create_user(username=f"extra{number}@north.test", password="x" * 12)
        Membership.objects.create(user=user, clinic=north, role="nurse")
        train_all(north, user, today - timedelta(days=number * 60))
        centrifuge(north, serial=f"SP-extra-{number}")
        imaging(north, serial=f"US-extra-{number}", kind="ultrasound")
        lot(north, lot_number=f"L-extra-{number}", quantity_on_hand=number)
    TrainingModule.objects.create(clinic=north, code="laser_safety", name="Laser safety")
    after = {url: _queries(admin, url) for url in urls}
    assert after == before
    assert max(after.values()) <= 10, after


@pytest.mark.django_db
def test_recording_a_completion_is_verified_by_the_signed_in_user_and_audited(admin, staff, north):
    today = timezone.localdate()
    tech = staff[("north", "prep_tech")]
    response = admin.post("/practice/training/record/", {"member": tech.pk, "module": "aseptic_preparation",
                                                         "completed_on": today.isoformat()})
    assert response.status_code == 302 and response["Location"] == "/practice/training/"
    row = TrainingRecord.objects.get()
    assert (row.clinic, row.user, row.verified_by) == (north, tech, staff[("north", "clinic_admin")])
    assert row.expires_on == services.TrainingRecord.default_expiry(today)
    [event] = audit_rows("practice.trainingrecord")
    assert event.action == "create" and event.detail["member"] == tech.username
    assert event.detail["module"] == "aseptic_preparation" and event.user_id == staff[("north", "clinic_admin")].pk
    page = admin.get("/practice/training/")
    cells = {r.membership.user_id: r.cells for r in page.context["rows"]}[tech.pk]
    assert cells[0].status == "current"


@pytest.mark.django_db
def test_an_expiry_override_is_kept(admin, staff, north):
    today = timezone.localdate()
    admin.post("/practice/training/record/", {"member": staff[("north", "nurse")].pk, "module": "emergency_protocols",
                                              "completed_on": today.isoformat(),
                                              "expires_on": (today + timedelta(days=730)).isoformat()})
    assert TrainingRecord.objects.get().expires_on == today + timedelta(days=730)


@pytest.mark.django_db
@pytest.mark.parametrize("change, field, message", [
    ({"member": "south"}, "member", "Select a valid choice"),          # a member of another clinic
    ({"member": "999999"}, "member", "Select a valid choice"),
    ({"module": "juggling"}, "module", "Select a valid choice"),
    ({"completed_on": "tomorrow"}, "completed_on", "cannot be in the future"),
    ({"completed_on": "2026-02-30"}, "completed_on", "Enter a valid date"),
    ({"completed_on": "2026-01-01\x00"}, "completed_on", "Enter a valid date"),
    ({"expires_on": "same"}, "expires_on", "must be after the completion date"),
    ({"completed_on": ""}, "completed_on", "This field is required"),
])
def test_recording_errors_show_at_the_field(admin, staff, north, change, field, message):
    today = timezone.localdate()
    data = {"member": staff[("north", "nurse")].pk, "module": "aseptic_preparation",
            "completed_on": (today - timedelta(days=3)).isoformat()}
    data.update(change)
    if data["member"] == "south":
        data["member"] = staff[("south", "nurse")].pk
    if data["completed_on"] == "tomorrow":
        data["completed_on"] = (today + timedelta(days=1)).isoformat()
    if data.get("expires_on") == "same":
        data["expires_on"] = data["completed_on"]
    response = admin.post("/practice/training/record/", data)
    assert response.status_code == 400
    form = response.context["record_form"]
    assert message in " ".join(form.errors[field])
    assert 'class="field-error"' in response.content.decode()
    assert not TrainingRecord.objects.exists()


@pytest.mark.django_db
def test_a_clinic_adds_its_own_module(admin, north, clinics, staff):
    response = admin.post("/practice/training/modules/", {"name": "  Radiation   safety "})
    assert response.status_code == 302
    module = TrainingModule.objects.get()
    assert (module.clinic, module.code, module.name) == (north, "radiation_safety", "Radiation safety")
    assert audit_rows("practice.trainingmodule")[0].detail == {"code": "radiation_safety", "name": "Radiation safety"}
    for name, message in [("Radiation safety", "already has this module"),
                          ("Emergency protocols", "one of the required modules"),
                          ("123", "Start the name with a letter"), ("x" * 101, "at most 100 characters")]:
        response = admin.post("/practice/training/modules/", {"name": name})
        assert response.status_code == 400
        assert message in response.context["module_form"].errors["name"][0]
    assert TrainingModule.objects.count() == 1
    # Another clinic may use the same name.
    other = signed_in(staff[("south", "clinic_admin")], clinics["south"])
    assert other.post("/practice/training/modules/", {"name": "Radiation safety"}).status_code == 302


EQUIPMENT = {"kind": "centrifuge", "manufacturer": "Harvest", "model": "SmartPReP 2", "serial": "SP-77",
             "fda_510k": "K123456", "in_service": "on", "next_maintenance": "2027-01-15"}


@pytest.mark.django_db
def test_adding_equipment_is_audited_and_listed(admin, north):
    response = admin.post("/practice/equipment/add/", EQUIPMENT)
    assert response.status_code == 302
    device = Equipment.objects.get()
    assert (device.clinic, device.fda_510k, device.in_service, device.version) == (north, "K123456", True, 1)
    assert audit_rows("practice.equipment")[0].action == "create"
    assert "SP-77" in admin.get("/practice/equipment/").content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("change, field", [
    ({"serial": "SP-1"}, "serial"),                     # the clinic already has it
    ({"manufacturer": "x" * 101}, "manufacturer"),
    ({"serial": "A\x00B"}, "serial"),
    ({"next_maintenance": "2026-13-01"}, "next_maintenance"),
    ({"next_maintenance": "99999-01-01"}, "next_maintenance"),
    ({"kind": "mri"}, "kind"),
    ({"fda_510k": "K12"}, "fda_510k"),
])
def test_equipment_errors_show_at_the_field(admin, north, clinics, change, field):
    centrifuge(north)
    centrifuge(clinics["south"], serial="SP-77")        # the same serial in another clinic is no clash
    response = admin.post("/practice/equipment/add/", {**EQUIPMENT, **change})
    assert response.status_code == 400
    assert list(response.context["form"].errors) == [field]
    assert Equipment.objects.filter(clinic=north).count() == 1


@pytest.mark.django_db
def test_a_serial_taken_between_check_and_save_is_a_field_error(admin, north, monkeypatch):
    centrifuge(north, serial="SP-77")
    monkeypatch.setattr(EquipmentForm, "clean_serial", lambda form: form.cleaned_data["serial"])
    response = admin.post("/practice/equipment/add/", EQUIPMENT)
    assert response.status_code == 400
    assert "already has this serial" in response.context["form"].errors["serial"][0]


@pytest.mark.django_db
def test_editing_equipment_bumps_the_version_and_a_stale_edit_changes_nothing(admin, north):
    device = centrifuge(north)
    url = f"/practice/equipment/{device.pk}/"
    page = admin.get(url)
    assert page.status_code == 200 and page.context["form"]["version"].value() == 1
    data = {**EQUIPMENT, "serial": "SP-1", "in_service": "", "version": 1}
    assert admin.post(url, data).status_code == 302
    device.refresh_from_db()
    assert (device.in_service, device.version) == (False, 2)
    event = audit_rows("practice.equipment")[-1]
    assert event.action == "update" and "in_service" in event.detail["fields"]

    stale = admin.post(url, {**data, "in_service": "on", "manufacturer": "Someone else", "version": 1})
    assert stale.status_code == 409
    assert "Someone else changed this equipment" in stale.content.decode()
    assert stale.context["current"].manufacturer == "Harvest"  # the page shows what is stored
    device.refresh_from_db()
    assert (device.in_service, device.manufacturer, device.version) == (False, "Harvest", 2)
    missing = admin.post(url, {k: v for k, v in data.items() if k != "version"})
    assert missing.status_code == 400 and Equipment.objects.get().version == 2


RECEIVE = {"product": "Angel cPRP set", "manufacturer": "Arthrex", "lot_number": "A-55",
           "expiry_date": "2030-06-30", "quantity_on_hand": "10"}


@pytest.mark.django_db
def test_receiving_a_lot_is_audited(admin, north):
    response = admin.post("/practice/kits/receive/", {**RECEIVE, "received_on": timezone.localdate().isoformat()})
    assert response.status_code == 302
    received = KitLot.objects.get()
    assert (received.clinic, received.quantity_on_hand) == (north, 10)
    assert audit_rows("practice.kitlot")[0].detail["quantity"] == 10
    assert "A-55" in admin.get("/practice/kits/").content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("change, field", [
    ({"lot_number": " l-100", "expiry_date": "2099-01-01"}, "expiry_date"),  # this lot is stocked with another expiry
    ({"lot_number": "  "}, "lot_number"),
    ({"product": "p" * 121}, "product"),
    ({"lot_number": "x\x00"}, "lot_number"),
    ({"quantity_on_hand": "0"}, "quantity_on_hand"),
    ({"quantity_on_hand": "-3"}, "quantity_on_hand"),
    ({"quantity_on_hand": "99999999999999999999"}, "quantity_on_hand"),
    ({"received_on": "2999-01-01"}, "received_on"),
    ({"expiry_date": "2020-01-01"}, "expiry_date"),    # expired before it was received
    ({"expiry_date": "31/31/2030"}, "expiry_date"),
])
def test_receiving_errors_show_at_the_field(admin, north, change, field):
    lot(north)
    data = {**RECEIVE, "product": "Angel cPRP set", "received_on": timezone.localdate().isoformat(), **change}
    response = admin.post("/practice/kits/receive/", data)
    assert response.status_code == 400
    assert list(response.context["form"].errors) == [field]
    assert KitLot.objects.count() == 1


@pytest.mark.django_db
def test_the_same_lot_number_of_another_product_is_a_different_lot(admin, north):
    lot(north, lot_number="A-55")
    response = admin.post("/practice/kits/receive/", {**RECEIVE, "product": "GPS III kit",
                                                      "received_on": timezone.localdate().isoformat()})
    assert response.status_code == 302 and KitLot.objects.filter(lot_number="A-55").count() == 2


@pytest.mark.django_db
def test_stock_correction_needs_a_reason_is_audited_and_never_negative(admin, north):
    kits = lot(north, quantity_on_hand=5)
    url = f"/practice/kits/{kits.pk}/"
    assert admin.get(url).status_code == 200
    no_reason = admin.post(url, {"seen": 5, "counted": 3, "reason": "   "})
    assert no_reason.status_code == 400 and "reason" in no_reason.context["form"].errors
    negative = admin.post(url, {"seen": 5, "counted": -1, "reason": "miscount"})
    assert negative.status_code == 400 and "counted" in negative.context["form"].errors
    same = admin.post(url, {"seen": 5, "counted": 5, "reason": "recount"})
    assert same.status_code == 400 and "nothing to correct" in same.context["form"].errors["counted"][0]
    assert KitLot.objects.get().quantity_on_hand == 5 and audit_rows("practice.kitlot") == []

    assert admin.post(url, {"seen": 5, "counted": 3, "reason": "Two kits damaged in storage"}).status_code == 302
    assert KitLot.objects.get().quantity_on_hand == 3
    [event] = audit_rows("practice.kitlot")
    assert event.action == "update"
    assert event.detail == {"previous_quantity": 5, "quantity": 3, "change": -2,
                            "reason": "Two kits damaged in storage"}


@pytest.mark.django_db
def test_a_stock_correction_from_a_stale_page_is_refused(admin, north):
    kits = lot(north, quantity_on_hand=5)
    take_kit(kits, timezone.localdate())  # a preparation took one after the page was opened
    response = admin.post(f"/practice/kits/{kits.pk}/", {"seen": 5, "counted": 2, "reason": "count"})
    assert response.status_code == 409
    assert "changed while you were counting (it is now 4)" in response.content.decode()
    assert response.context["form"].initial["seen"] == 4
    assert KitLot.objects.get().quantity_on_hand == 4


# --- tenancy and permissions -------------------------------------------------------------------


@pytest.mark.django_db
def test_another_clinics_equipment_and_lots_are_not_found(staff, clinics):
    device, kits = centrifuge(clinics["north"]), lot(clinics["north"])
    south_admin = signed_in(staff[("south", "clinic_admin")], clinics["south"])
    north_admin = signed_in(staff[("north", "clinic_admin")], clinics["north"])
    for url, data in [(f"/practice/equipment/{device.pk}/", {**EQUIPMENT, "version": 1}),
                      (f"/practice/kits/{kits.pk}/", {"seen": 5, "counted": 0, "reason": "take it"})]:
        assert south_admin.get(url).status_code == 404
        assert south_admin.post(url, data).status_code == 404
        assert north_admin.get(url).status_code == 200
    device.refresh_from_db(), kits.refresh_from_db()
    assert (device.version, kits.quantity_on_hand) == (1, 5)
    south_page = south_admin.get("/practice/kits/").content.decode()
    assert "L-100" not in south_page
    assert "SP-1" not in south_admin.get("/practice/equipment/").content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("role", [r for r in ROLE_NAMES if not role_has(r, "practice.manage")])
def test_roles_without_practice_manage_may_not_write(staff, clinics, role):
    north = clinics["north"]
    device, kits = centrifuge(north), lot(north)
    client = signed_in(staff[("north", role)], north)
    writes = [
        ("/practice/training/record/", {"member": staff[("north", role)].pk, "module": "aseptic_preparation",
                                        "completed_on": "2026-01-01"}),
        ("/practice/training/modules/", {"name": "Laser safety"}),
        ("/practice/equipment/add/", {**EQUIPMENT, "serial": "NEW"}),
        (f"/practice/equipment/{device.pk}/", {**EQUIPMENT, "version": 1}),
        ("/practice/kits/receive/", {**RECEIVE, "received_on": "2026-01-01"}),
        (f"/practice/kits/{kits.pk}/", {"seen": 5, "counted": 0, "reason": "gone"}),
    ]
    for url, data in writes:
        assert client.post(url, data).status_code == 403, url
    assert client.get(f"/practice/equipment/{device.pk}/").status_code == 403
    assert client.get(f"/practice/kits/{kits.pk}/").status_code == 403
    assert not TrainingRecord.objects.exists() and not TrainingModule.objects.exists()
    assert Equipment.objects.count() == 1 and KitLot.objects.get().quantity_on_hand == 5


@pytest.mark.django_db
def test_write_routes_only_accept_post(admin):
    for url in ["/practice/training/record/", "/practice/training/modules/", "/practice/equipment/add/",
                "/practice/kits/receive/"]:
        assert admin.get(url).status_code == 405


@pytest.mark.django_db
def test_signed_out_visitors_are_sent_to_sign_in():
    from django.test import Client

    response = Client().get("/practice/training/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


# --- demo ----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_demo_data_is_idempotent_and_passes_the_gates(staff, clinics):
    north, today = clinics["north"], timezone.localdate()
    members = {role: staff[("north", role)] for role in ROLE_NAMES}
    load_demo(north, members, today)
    counts = (TrainingRecord.objects.count(), Equipment.objects.count(), KitLot.objects.count())
    load_demo(north, members, today)
    assert not AuditEvent.objects.exists()  # seed data, like the demo price list
    assert (TrainingRecord.objects.count(), Equipment.objects.count(), KitLot.objects.count()) == counts == (9, 3, 3)
    for role in ("physician", "nurse", "prep_tech"):
        assert training_gaps(members[role], north, today) == []
    statuses = [training_status(row, today) for row in TrainingRecord.objects.all()]
    assert statuses.count("expiring") == 1 and statuses.count("current") == 8
    [spinner] = Equipment.objects.filter(kind="centrifuge")
    assert centrifuge_problems(spinner, today) == [] and spinner.fda_510k == "K123456"
    assert all(imaging_problems(unit, today) == [] for unit in Equipment.objects.exclude(kind="centrifuge"))
    assert sorted(Equipment.objects.values_list("kind", flat=True)) == ["centrifuge", "fluoroscopy", "ultrasound"]
    lots = list(KitLot.objects.all())
    assert sorted(services.kit_expiry_status(x, today) for x in lots) == ["current", "current", "expiring"]
    assert min(x.quantity_on_hand for x in lots) == 0
    load_demo(clinics["south"], {role: staff[("south", role)] for role in ROLE_NAMES}, today)
    assert Equipment.objects.filter(clinic=clinics["south"]).count() == 3
