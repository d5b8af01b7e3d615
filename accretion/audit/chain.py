"""Appending to and verifying the audit hash chain."""

import hashlib
import json
from dataclasses import dataclass

from django.db import transaction

from accretion.audit.models import AuditEvent, ChainHead

GENESIS = "0" * 64


def row_content(event: AuditEvent) -> str:
    """The canonical text of a row that its hash covers."""
    return json.dumps(
        [
            event.at.isoformat(timespec="microseconds"),
            event.user_id,
            event.username,
            event.clinic_id,
            event.action,
            event.object_type,
            event.object_id,
            event.patient_id,
            event.client_address,
            event.detail,
        ],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )


def chain_hash(prev_hash: str, event: AuditEvent) -> str:
    return hashlib.sha256((prev_hash + row_content(event)).encode()).hexdigest()


def append(event: AuditEvent) -> AuditEvent:
    """Link the event to the newest row and store it, in the caller's transaction."""
    with transaction.atomic():
        head, _ = ChainHead.objects.select_for_update().get_or_create(id=1, defaults={"last_hash": GENESIS})
        event.prev_hash = head.last_hash
        event.hash = chain_hash(head.last_hash, event)
        event.save()
        head.last_hash = event.hash
        head.count += 1
        head.save(update_fields=["last_hash", "count"])
    return event


@dataclass
class Verdict:
    ok: bool
    checked: int
    broken_id: int | None = None
    reason: str = ""


def verify(chunk_size: int = 5000) -> Verdict:
    prev = GENESIS
    checked = 0
    for event in AuditEvent.objects.order_by("id").iterator(chunk_size=chunk_size):
        if event.prev_hash != prev:
            return Verdict(False, checked, event.id, "does not link to the row before it")
        if chain_hash(prev, event) != event.hash:
            return Verdict(False, checked, event.id, "content does not match its hash")
        prev = event.hash
        checked += 1
    head = ChainHead.objects.filter(id=1).first()
    if head and (head.last_hash != prev or head.count != checked):
        return Verdict(False, checked, None, f"rows are missing after row {checked}: the chain head expects {head.count}")
    return Verdict(True, checked)
