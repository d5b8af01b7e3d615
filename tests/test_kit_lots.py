"""Lot numbers compared without case or spaces; a recalled lot is quarantined until released."""

from datetime import date, timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from accretion.audit.models import AuditEvent
from accretion.practice import services
from accretion.practice.models import KitLot, lot_key
from accretion.procedures.models import Procedure
from accretion.procedures.services import gate_problems
from accretion.recall.services import recall
from tests import test_procedure_day
from tests.conftest import signed_in
from tests.test_procedure_day import prepare, timeout

day = test_procedure_day.day  # the procedure-day fixture: a planned procedure that passes every gate

TODAY = timezone.localdate


@pytest.mark.parametrize("raw, key", [
    ("abc123", "ABC123"), (" ABC 123 ", "ABC123"), ("abc\t12\u00a03", "ABC123"), ("ＡＢＣ１２３", "ABC123"),
    ("AB-12", "AB-12"), ("ab.12/x", "AB.12/X"), ("", ""),
])
def test_lot_key(raw, key):
    assert lot_key(raw) == key


def receive(client, **change):
    data = {"product": "Angel cPRP set", "manufacturer": "Arthrex", "lot_number": "abc123",
            "expiry_date": "2030-06-30", "quantity_on_hand": "10", "received_on": TODAY().isoformat(), **change}
    return client.post("/practice/kits/receive/", data)


@pytest.mark.django_db
def test_the_same_lot_received_twice_adds_to_it_and_keeps_the_number_as_first_printed(clinics, staff):
    admin = signed_in(staff[("north", "clinic_admin")], clinics["north"])
    assert receive(admin).status_code == 302
    assert receive(admin, lot_number=" ABC 123 ", quantity_on_hand="4").status_code == 302
    lot = KitLot.objects.get()
    assert (lot.lot_number, lot.lot_key, lot.quantity_on_hand) == ("abc123", "ABC123", 14)
    added = AuditEvent.objects.filter(object_type="practice.kitlot").order_by("-id").first()
    assert added.detail["received"] == 4 and added.detail["lot_number_as_received"] == "ABC 123"
    # Another product's lot with the same number, or another clinic's, is a lot of its own.
    assert receive(admin, product="Other kit").status_code == 302
    south = signed_in(staff[("south", "clinic_admin")], clinics["south"])
    assert receive(south).status_code == 302
    assert KitLot.objects.count() == 3


@pytest.mark.django_db
def test_a_stocked_lot_with_another_expiry_is_a_field_error(clinics, staff):
    admin = signed_in(staff[("north", "clinic_admin")], clinics["north"])
    receive(admin)
    response = receive(admin, lot_number="ABC123", expiry_date="2031-01-01")
    assert response.status_code == 400
    assert "one lot has one expiry date" in response.context["form"].errors["expiry_date"][0]
    assert KitLot.objects.get().quantity_on_hand == 10


@pytest.mark.django_db
def test_the_database_refuses_a_second_row_of_the_same_key(clinics):
    from django.db import IntegrityError

    values = {"clinic": clinics["north"], "product": "Kit", "manufacturer": "A", "expiry_date": date(2030, 1, 1),
              "quantity_on_hand": 1, "received_on": date(2026, 1, 1)}
    KitLot.objects.create(lot_number="abc123", **values)
    with pytest.raises(IntegrityError):
        KitLot.objects.create(lot_number="ABC 123", **values)


def test_recalling_upper_case_finds_the_lot_stored_in_lower_case(day):
    KitLot.objects.filter(pk=day["lot"].pk).update(lot_number="abc123", lot_key="ABC123")
    assert timeout(day).status_code == 302
    assert prepare(day).status_code == 302
    rows = recall("ABC123", clinic=day["north"])
    assert [row.procedure_id for row in rows] == [day["procedure"].pk]
    assert rows[0].lot_number == "abc123"


def test_a_typed_lot_number_at_the_time_out_takes_from_that_lot(day):
    lot = day["lot"]
    lot.lot_number = "ABC123"
    lot.save()
    assert timeout(day, kit_lot="", kit_lot_number=" abc123 ").status_code == 302
    assert Procedure.objects.get(pk=day["procedure"].pk).timeout.kit_lot == lot
    assert prepare(day).status_code == 302
    assert KitLot.objects.get(pk=lot.pk).quantity_on_hand == 1


@pytest.mark.parametrize("change, field, message", [
    ({"kit_lot": "", "kit_lot_number": "nope-1"}, "kit_lot_number", "no kit lot with this number"),
    ({"kit_lot_number": "OTHER"}, "kit_lot_number", "not the lot chosen above"),
    ({"kit_lot": ""}, "kit_lot", "Choose the kit lot"),
])
def test_time_out_lot_errors_are_at_the_field(day, change, field, message):
    response = timeout(day, **change)
    assert response.status_code == 400
    assert message in " ".join(response.context["forms"]["timeout"].errors[field])


def test_recall_quarantine_refuse_release_allow(day, staff, clinics):
    north_admin = signed_in(staff[("north", "clinic_admin")], clinics["north"])
    lot = day["lot"]
    # An administrator records the recall from the recall page, by the lot number in another case.
    assert north_admin.post("/practice/recall/quarantine/", {"lot": "lot-42", "reason": " "}).status_code == 400
    response = north_admin.post("/practice/recall/quarantine/", {"lot": "lot-42", "reason": "Manufacturer notice 7"})
    assert response.status_code == 302
    lot.refresh_from_db()
    assert lot.quarantined and lot.quarantine_reason == "Manufacturer notice 7"
    page = north_admin.get("/practice/kits/").content.decode()
    assert f"Quarantined (recall on {TODAY():%Y-%m-%d}, Manufacturer notice 7)" in page
    assert f"/practice/kits/{lot.pk}/release/" in page

    # The time-out refuses it at the field, and the gate treats it like an expired lot.
    response = timeout(day)
    assert response.status_code == 400
    assert "quarantined" in response.context["forms"]["timeout"].errors["kit_lot"][0]
    assert any("quarantined" in p for p in gate_problems(day["procedure"], kit_lot=lot, centrifuge=day["centrifuge"],
                                                         imaging_unit=day["fluoro"], on=TODAY()))

    # Nobody else releases it: another clinic's administrator, a nurse, or anyone without a reason.
    south_admin = signed_in(staff[("south", "clinic_admin")], clinics["south"])
    assert south_admin.post(f"/practice/kits/{lot.pk}/release/", {"reason": "ok"}).status_code == 404
    assert day["nurse"].post(f"/practice/kits/{lot.pk}/release/", {"reason": "ok"}).status_code == 403
    response = north_admin.post(f"/practice/kits/{lot.pk}/release/", {"reason": "  "})
    assert response.status_code == 400 and "Give the reason" in response.content.decode()
    assert KitLot.objects.get(pk=lot.pk).quarantined

    response = north_admin.post(f"/practice/kits/{lot.pk}/release/", {"reason": "Manufacturer cleared the lot"})
    assert response.status_code == 302
    assert not KitLot.objects.get(pk=lot.pk).quarantined
    rows = list(AuditEvent.objects.filter(object_type="practice.kitlot", object_id=str(lot.pk),
                                          action="update").order_by("id"))
    assert [r.detail["quarantined"] for r in rows] == [True, False]
    assert rows[1].detail["reason"] == "Manufacturer cleared the lot"
    assert rows[1].detail["released_from"] == f"recall on {TODAY():%Y-%m-%d}, Manufacturer notice 7"
    assert timeout(day).status_code == 302


def test_a_lot_quarantined_after_the_time_out_gives_no_kit_at_preparation(day):
    assert timeout(day).status_code == 302
    KitLot.objects.filter(pk=day["lot"].pk).update(quarantined_at=timezone.now(), quarantine_reason="recall")
    response = prepare(day)
    assert response.status_code == 400
    assert "quarantined" in response.content.decode()
    assert KitLot.objects.get(pk=day["lot"].pk).quantity_on_hand == 2
    with pytest.raises(services.KitUnavailable):
        services.take_kit(KitLot.objects.get(pk=day["lot"].pk), TODAY())


@pytest.mark.django_db(transaction=True)
def test_the_migration_keeps_both_lots_whose_numbers_differ_only_by_case(clinics):
    executor = MigrationExecutor(connection)
    executor.migrate([("practice", "0001_initial")])
    try:
        old = MigrationExecutor(connection).loader.project_state([("practice", "0001_initial")]).apps
        OldLot = old.get_model("practice", "KitLot")
        values = {"clinic_id": clinics["north"].pk, "manufacturer": "A", "expiry_date": date(2030, 1, 1),
                  "quantity_on_hand": 3, "received_on": date(2026, 1, 1)}
        first = OldLot.objects.create(product="Kit", lot_number="abc1", **values)
        second = OldLot.objects.create(product="Kit", lot_number="ABC 1", **values)
        other = OldLot.objects.create(product="Other", lot_number="ABC1", **values)
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
    lots = {lot.pk: lot for lot in KitLot.objects.all()}
    assert {pk: (lots[pk].lot_key, lots[pk].key_clash, lots[pk].quantity_on_hand)
            for pk in (first.pk, second.pk, other.pk)} == {
        first.pk: ("ABC1", False, 3), second.pk: ("ABC1", True, 3), other.pk: ("ABC1", False, 3)}
    assert services.find_lot(clinics["north"], "Kit", "abc 1").pk == first.pk
    assert len(KitLot.objects.filter(lot_key="ABC1")) == 3
    KitLot.objects.all().delete()


def test_gate_problems_name_the_quarantine_beside_expiry(day):
    lot = day["lot"]
    lot.quarantined_at, lot.quarantine_reason = timezone.now() - timedelta(days=1), "notice"
    problems = services.kit_lot_problems(lot, TODAY())
    assert len(problems) == 1 and "quarantined" in problems[0] and "notice" in problems[0]
