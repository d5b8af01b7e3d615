"""With DEBUG on, a missing page is still the portal's own 404 page; developers can ask for Django's."""

import pytest
from django.test import Client, override_settings

from tests.conftest import signed_in

PORTAL = "There is nothing at this address in your active clinic"
TECHNICAL = "Using the URLconf defined in"


@pytest.fixture
def nurse(staff, clinics):
    return signed_in(staff[("north", "nurse")], clinics["north"])


@override_settings(DEBUG=True)
@pytest.mark.parametrize("url", ["/no-such-page/", "/patients/999999/"])
def test_staff_see_the_portal_page(nurse, url):
    response = nurse.get(url)
    body = response.content.decode()
    assert response.status_code == 404
    assert PORTAL in body and TECHNICAL not in body and "Django" not in body
    assert "North Spine" in body  # the portal's header, with the active clinic


@override_settings(DEBUG=True)
def test_another_clinics_patient_is_the_portal_page_too(nurse, clinics, make_patient):
    theirs = make_patient(clinics["south"])
    response = nurse.get(f"/patients/{theirs.pk}/")
    assert response.status_code == 404 and PORTAL in response.content.decode()


@override_settings(DEBUG=True)
def test_anonymous_visitors_see_the_portal_page(db):
    response = Client().get("/no-such-page/")
    assert response.status_code == 404 and PORTAL in response.content.decode()


@override_settings(DEBUG=True)
def test_a_missing_slash_still_redirects(nurse):
    response = nurse.get("/patients")
    assert response.status_code == 301 and response["Location"] == "/patients/"


@override_settings(DEBUG=True)
def test_developers_can_ask_for_the_technical_page(nurse, django_user_model):
    assert TECHNICAL in nurse.get("/no-such-page/?debug404").content.decode()
    admin = django_user_model.objects.create_superuser("dev@example.org", "dev@example.org", "x" * 16)
    developer = Client()
    developer.force_login(admin)
    response = developer.get("/no-such-page/")
    assert response.status_code == 404 and TECHNICAL in response.content.decode()


def test_without_debug_the_portal_page_as_before(nurse):
    response = nurse.get("/no-such-page/")
    assert response.status_code == 404 and PORTAL in response.content.decode()
