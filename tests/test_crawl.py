"""No dead ends: every role, signed in on the demo data, follows the links its pages show.

Each link a page offers must answer: a page (200), a redirect that ends in a
page, or a file (PDF, CSV, calendar, image). A link that answers 403 shows a
role something it may not open; 404 is a broken link; 500 is a bug. Only GET
links are followed (forms are not submitted), the sign-out form is never
used, and each kind of page (its URL name) is visited a few times at most,
so every role sees the breadth of the portal in seconds.
"""

import io
import re
from collections import Counter, deque
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import Resolver404, resolve

from accretion.clinics.models import Clinic
from accretion.clinics.roles import ROLE_NAMES
from accretion.clinics.tenancy import SESSION_KEY

PAGES_PER_KIND = 3
MOST_PAGES = 150
FILES = ("application/pdf", "text/csv", "text/calendar", "image/", "application/dicom", "application/octet-stream")
NEVER = ("/accounts/logout/",)


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        href = dict(attrs).get("href") if tag == "a" else None
        if href:
            self.found.append(href)


def links(page_url: str, html: str) -> list[str]:
    parser = Links()
    parser.feed(html)
    result = []
    for href in parser.found:
        if href.startswith(("mailto:", "tel:", "#", "javascript:")):
            continue
        url = urljoin(page_url, href)
        parts = urlsplit(url)
        if parts.netloc and parts.netloc != "testserver":
            continue  # another site
        result.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return result


def kind(url: str) -> str:
    try:
        return resolve(urlsplit(url).path).view_name
    except Resolver404:
        return url


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLE_NAMES)
def test_every_link_a_role_is_shown_opens(role, django_user_model):
    call_command("demo", stdout=io.StringIO())
    north = Clinic.objects.get(slug="north")
    client = Client()
    client.force_login(django_user_model.objects.get(username=f"{role}@north.demo"))
    session = client.session
    session[SESSION_KEY] = north.pk
    session.save()

    queue, seen, visits, problems = deque([("/", "start")]), {"/"}, Counter(), []
    pages = 0
    while queue and pages < MOST_PAGES:
        url, came_from = queue.popleft()
        if visits[kind(url)] >= PAGES_PER_KIND:
            continue
        visits[kind(url)] += 1
        pages += 1
        response = client.get(url, follow=True)
        content_type = response.get("Content-Type", "")
        if response.status_code != 200:
            problems.append(f"{response.status_code} {url} (linked from {came_from})")
            continue
        if not content_type.startswith("text/html"):
            assert content_type.startswith(FILES), (url, content_type)
            continue
        html = response.content.decode()
        for link in links(response.request["PATH_INFO"], html):
            if link not in seen and not link.startswith(NEVER) and not re.match(r"^/static/", link):
                seen.add(link)
                queue.append((link, url))
    assert not problems, "\n".join(problems)
    assert pages >= 10, f"{role} reached only {pages} pages: {sorted(visits)}"
