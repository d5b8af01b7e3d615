"""Patient link tokens: derived, never stored (see models.QuestionnaireTask)."""

import base64
import hashlib
import hmac
import secrets

from django.conf import settings


def new_nonce() -> str:
    return secrets.token_hex(16)


def token_for(task_id: int, nonce: str) -> str:
    mac = hmac.new(settings.SECRET_KEY.encode(), f"questionnaire-task:{task_id}:{nonce}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()).decode().rstrip("=")


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
