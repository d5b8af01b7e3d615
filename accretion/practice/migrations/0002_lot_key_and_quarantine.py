"""Lot numbers are matched by `lot_key` (trimmed, no inner spaces, upper-case); recalled lots are quarantined.

Existing lots whose keys collide (the same product stocked as "abc1" and as "ABC1" in one clinic)
are kept, not merged: the oldest keeps the plain key, the others are marked `key_clash` and listed
on standard output. Recalls find all of them; new kits received add to the oldest.
"""

import unicodedata

from django.db import migrations, models


def _key(lot_number):
    return "".join(unicodedata.normalize("NFKC", lot_number or "").split()).upper()


def fill_keys(apps, schema_editor):
    KitLot = apps.get_model("practice", "KitLot")
    seen = set()
    clashes = []
    for lot in KitLot.objects.order_by("created_at", "id"):
        lot.lot_key = _key(lot.lot_number)
        group = (lot.clinic_id, lot.product, lot.lot_key)
        lot.key_clash = group in seen
        seen.add(group)
        lot.save(update_fields=["lot_key", "key_clash"])
        if lot.key_clash:
            clashes.append(lot)
    for lot in clashes:
        print(f"\n  Kit lot {lot.pk} ({lot.product}, lot {lot.lot_number!r}, clinic {lot.clinic_id}) has the same "
              f"lot number as an older lot apart from case or spaces; both are kept (key_clash).", end="")


class Migration(migrations.Migration):

    dependencies = [
        ("practice", "0001_initial"),
    ]

    operations = [
        migrations.AddField(model_name="kitlot", name="lot_key",
                            field=models.CharField(default="", editable=False, max_length=60), preserve_default=False),
        migrations.AddField(model_name="kitlot", name="key_clash",
                            field=models.BooleanField(default=False, editable=False)),
        migrations.AddField(model_name="kitlot", name="quarantined_at",
                            field=models.DateTimeField(blank=True, null=True)),
        migrations.AddField(model_name="kitlot", name="quarantine_reason",
                            field=models.CharField(blank=True, max_length=500)),
        migrations.RunPython(fill_keys, migrations.RunPython.noop),
        migrations.RemoveConstraint(model_name="kitlot", name="kit_lot_unique_in_clinic"),
        migrations.RemoveIndex(model_name="kitlot", name="kit_lot_number"),
        migrations.AddConstraint(
            model_name="kitlot",
            constraint=models.UniqueConstraint(condition=models.Q(("key_clash", False)),
                                               fields=("clinic", "product", "lot_key"),
                                               name="kit_lot_key_unique_in_clinic"),
        ),
        migrations.AddConstraint(
            model_name="kitlot",
            constraint=models.CheckConstraint(
                condition=models.Q(("quarantined_at__isnull", True), models.Q(("quarantine_reason", ""), _negated=True),
                                   _connector="OR"),
                name="kit_lot_quarantine_has_reason"),
        ),
        migrations.AddIndex(model_name="kitlot", index=models.Index(fields=["lot_key"], name="kit_lot_key")),
    ]
