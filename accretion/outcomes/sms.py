"""Text messages through a pluggable backend (SMS_BACKEND), like Django's e-mail backends."""

import sys

from django.conf import settings
from django.utils.module_loading import import_string


class ConsoleSMSBackend:
    """Prints messages instead of sending them (development, tests)."""

    def send(self, to: str, body: str) -> None:
        sys.stdout.write(f"SMS to {to}: {body}\n")


class LocmemSMSBackend:
    """Keeps messages in `outbox` (tests)."""

    outbox: list = []

    def send(self, to: str, body: str) -> None:
        type(self).outbox.append((to, body))


def send_sms(to: str, body: str) -> None:
    import_string(settings.SMS_BACKEND)().send(to, body)
