"""The clinic settings page: the clinic's name and phone, and a summary of every setting with a link to it."""

import pytest

from accretion.audit.models import AuditEvent
from accretion.clinics.models import Clinic
from tests.conftest import signed_in

URL = "/clinic/"


@pytest.fixture
def admin(clinics, staff):
    return signed_in(staff[("north", "clinic_admin")], clinics["north"])


def test_every_setting_is_summarised_and_linked(admin):
    response = admin.get(URL)
    html = response.content.decode()
    assert response.status_code == 200
    for link in ("/members/", "/clinic/prices/", "/clinic/screening-protocol/", "/screenings/rules/",
                 "/clinic/procedure-protocol/", "/clinic/aftercare-settings/", "/clinic/responder-thresholds/",
                 "/practice/training/", "/practice/equipment/", "/practice/kits/", "/audit/"):
        assert f'href="{link}"' in html, link
    assert "6 members" in html  # one per role
    assert "not set" in html  # no price list yet: said, with its consequence
    assert "example values" in html and "Published defaults" in html
    assert "follow-ups 2w, 6w, 3m, 6m, 12m" in html and "±7 days (weeks)" in html


def test_the_admin_corrects_name_and_phone_and_the_change_is_audited(admin, clinics):
    response = admin.post(URL, {"name": "  North   Spine & Pain  ", "phone": "+1 (555) 010-0199"}, follow=True)
    assert response.status_code == 200 and "Clinic details saved." in response.content.decode()
    north = Clinic.objects.get(pk=clinics["north"].pk)
    assert (north.name, north.phone) == ("North Spine & Pain", "+1 (555) 010-0199")
    row = AuditEvent.objects.get(object_type="clinics.clinic")
    assert row.action == "update" and sorted(row.detail["fields"]) == ["name", "phone"]
    admin.post(URL, {"name": "North Spine & Pain", "phone": "+1 (555) 010-0199"})  # nothing changed: no row
    assert AuditEvent.objects.filter(object_type="clinics.clinic").count() == 1
    assert Clinic.objects.get(pk=clinics["south"].pk).name == "South Spine"


@pytest.mark.parametrize("data, field, message", [
    ({"name": "   ", "phone": ""}, "name", "This field is required."),
    ({"name": "x" * 201, "phone": ""}, "name", "at most 200 characters"),
    ({"name": "North", "phone": "call us"}, "phone", "at least 7 digits"),
    ({"name": "North", "phone": "555-01"}, "phone", "at least 7 digits"),
    ({"name": "North\x00", "phone": ""}, "name", "Null characters are not allowed."),
])
def test_wrong_details_are_refused_at_their_field(admin, clinics, data, field, message):
    response = admin.post(URL, data)
    assert response.status_code == 400
    assert message in " ".join(response.context["form"].errors[field])
    assert Clinic.objects.get(pk=clinics["north"].pk).name == "North Spine"
    assert "North Spine" in response.content.decode()  # the header keeps the stored name
    assert not AuditEvent.objects.filter(object_type="clinics.clinic").exists()


@pytest.mark.parametrize("role", ["physician", "nurse", "prep_tech", "front_desk", "auditor"])
def test_only_the_clinic_admin_opens_the_settings(clinics, staff, role):
    client = signed_in(staff[("north", role)], clinics["north"])
    assert client.get(URL).status_code == 403
    assert client.post(URL, {"name": "Taken over", "phone": ""}).status_code == 403
    assert Clinic.objects.get(pk=clinics["north"].pk).name == "North Spine"
