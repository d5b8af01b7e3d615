"""Staff appear by name (and role where it helps), not by user name or e-mail."""

import re

from django.contrib.auth.models import AnonymousUser, User

from accretion.clinics.people import staff_name
from tests import test_procedure_day
from tests.conftest import signed_in
from tests.test_procedure_day import prepare, timeout

day = test_procedure_day.day

NAMES = {"physician": ("Grace", "Hopper"), "prep_tech": ("Sam", "Okafor"), "nurse": ("Dana", "Reyes"),
         "clinic_admin": ("Lee", "Park")}


def visible_text(html: str) -> str:
    html = re.sub(r"(?s)<(script|style)\b.*?</\1>", " ", html)
    return re.sub(r"<[^>]+>", " ", html)


def test_staff_name_falls_back_to_the_user_name():
    user = User(username="dana@north.test", first_name=" Dana ", last_name="Reyes")
    assert staff_name(user) == "Dana Reyes"
    assert staff_name(user, "nurse") == "Dana Reyes (Nurse)"
    assert staff_name(User(username="dana@north.test")) == "dana@north.test"
    assert staff_name(None) == ""
    assert staff_name(AnonymousUser()) == ""  # a page rendered after the session was signed out


def test_main_pages_name_staff_instead_of_their_user_names(day, staff, clinics):
    for role, (first, last) in NAMES.items():
        User.objects.filter(pk=staff[("north", role)].pk).update(first_name=first, last_name=last)
    assert timeout(day).status_code == 302
    assert prepare(day).status_code == 302
    admin = signed_in(staff[("north", "clinic_admin")], clinics["north"])
    procedure = day["procedure"]
    pages = ["/", f"/procedures/{procedure.pk}/", f"/patients/{procedure.patient_id}/", "/practice/training/",
             "/practice/kits/"]
    for url in pages:
        response = admin.get(url)
        assert response.status_code == 200, url
        text = visible_text(response.content.decode())
        for role in NAMES:
            assert staff[("north", role)].username not in text, (url, role)
    procedure_page = visible_text(admin.get(f"/procedures/{procedure.pk}/").content.decode())
    assert "Grace Hopper" in procedure_page and "Sam Okafor" in procedure_page
    footer = visible_text(admin.get("/").content.decode())
    assert "signed in as Lee Park (Clinic administrator)" in " ".join(footer.split())
    # The members page shows the name with the user name beside it.
    members = visible_text(admin.get("/members/").content.decode())
    assert "Dana Reyes" in members and "nurse@north.test" in members
