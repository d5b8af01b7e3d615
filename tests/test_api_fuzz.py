"""Generated requests against every API operation: whatever the input, never a server error.

schemathesis builds requests from the OpenAPI schema (valid and invalid ones,
including NUL characters) and sends them through the real WSGI application,
authenticated as a clinic member, against the test database.
"""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode

from accretion.clinics.models import ApiToken
from accretion.wsgi import application

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)
schema.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE], allow_x00=True)


@pytest.fixture
def token(staff, clinics, make_patient):
    make_patient(clinics["north"])
    # Django's test client disconnects these; do the same so the test transaction's connection stays open.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    _, raw = ApiToken.issue(staff[("north", "physician")], clinics["north"], hours=1)
    yield raw
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@pytest.mark.django_db
def test_no_input_makes_a_server_error(case, token):
    case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=[not_a_server_error])
