"""A method a route does not take (405) answers a page with a way back, JSON in the API, FHIR in FHIR."""

from html.parser import HTMLParser

import pytest

from accretion.clinics.roles import ROLE_NAMES, role_has
from accretion.not_allowed import allowed_methods, page_back
from tests.conftest import api_client, signed_in
from tests.test_tenancy import fill, is_public, operations, world  # noqa: F401 - the fixture


class BackLink(HTMLParser):
    def __init__(self):
        super().__init__()
        self.href = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "a" and attributes.get("id") == "back":
            self.href = attributes.get("href")


def back_link(html: str) -> str | None:
    parser = BackLink()
    parser.feed(html)
    return parser.href


def _role_with(permission):
    return next(role for role in ROLE_NAMES if role_has(role, permission))


@pytest.mark.django_db
def test_every_post_only_address_opened_in_a_browser_explains_and_links_back(request, clinics, staff):
    records = request.getfixturevalue("world")
    north, checked = clinics["north"], []
    for route, methods, permission in operations():
        if methods is not None or permission is None or is_public(route) or route.startswith("fhir/"):
            continue
        url = fill(route, records)
        client = signed_in(staff[("north", _role_with(permission))], north)
        response = client.get(url)
        if response.status_code != 405:
            continue
        html = response.content.decode()
        assert response["Content-Type"].startswith("text/html"), route
        assert "GET" not in response["Allow"] and "POST" in response["Allow"], (route, response["Allow"])
        assert "Nothing to show at this address" in html and "Nothing was saved" in html, route
        back = back_link(html)
        assert back and back != url, (route, back)
        page = client.get(back)
        assert page.status_code == 200 and page["Content-Type"].startswith("text/html"), (route, back)
        checked.append((url, back))
    assert len(checked) >= 15, checked
    links = dict(checked)
    procedure = records["procedure"].pk
    assert links[f"/procedures/{procedure}/timeout/"] == f"/procedures/{procedure}/"
    removal = f"/procedures/{procedure}/injections/{records['injection'].pk}/remove/"
    assert links[removal] == f"/procedures/{procedure}/"  # past the POST-only /injections/ to the procedure
    assert links[f"/consents/{records['consent'].pk}/withdraw/"] == f"/consents/{records['consent'].pk}/"


@pytest.mark.django_db
def test_a_form_sent_to_a_page_that_does_not_take_it_links_to_the_page(clinics, staff):
    admin = signed_in(staff[("north", "clinic_admin")], clinics["north"])
    response = admin.post("/practice/recall/", {"lot": "X"})
    assert response.status_code == 405 and response["Allow"] == "GET"
    assert back_link(response.content.decode()) == "/practice/recall/"


def test_the_way_back_is_found_from_the_address():
    assert page_back("/procedures/5/timeout/", "POST") == ("/procedures/5/", "the procedure")
    assert page_back("/procedures/5/injections/7/remove/", "POST") == ("/procedures/5/", "the procedure")
    assert page_back("/members/3/", "POST") == ("/members/", "the clinic's staff")
    assert page_back("/nowhere/at/all/", "POST") == ("/", "Today")
    from accretion.procedures import views

    assert allowed_methods(views.timeout) == {"POST"} and allowed_methods(views.procedure_detail) is None


@pytest.mark.django_db
def test_the_api_answers_its_json_error_and_fhir_an_operation_outcome(request, clinics, staff):
    records = request.getfixturevalue("world")
    north = clinics["north"]
    by_route: dict[str, set[str]] = {}
    for route, methods, _ in operations():
        if route.startswith("api/") and methods:
            by_route.setdefault(route, set()).update(methods)
    checked = 0
    client = api_client(staff[("north", "physician")], north)
    for route, methods in by_route.items():
        wrong = next(m for m in ("delete", "put", "patch", "post", "get") if m not in methods)
        response = getattr(client, wrong)(fill(route, records), data="{}", content_type="application/json")
        assert response.status_code == 405, (route, wrong)
        assert response["Content-Type"] == "application/json", route
        body = response.json()
        assert body["errors"] == [] and wrong.upper() in body["detail"], (route, body)
        assert set(response["Allow"].replace(" ", "").split(",")) == {m.upper() for m in methods}, route
        checked += 1
    assert checked >= 5
    fhir = client.post("/fhir/r4/Patient", data="{}", content_type="application/fhir+json")
    assert fhir.status_code == 405 and fhir["Allow"] == "GET"
    assert fhir["Content-Type"].startswith("application/fhir+json")
    outcome = fhir.json()
    assert outcome["resourceType"] == "OperationOutcome" and outcome["issue"][0]["code"] == "not-supported"
