"""No internal code reaches the words of a page: every status, role and state is shown in words.

Every staff page (every GET route, filled with records in each state, the same crawl as
tests/test_forms_by_role.py) is rendered for several roles; its VISIBLE text (tags, scripts, styles and attribute
values removed; `<code>`, `<pre>` and `<kbd>`, which are meant to show codes, removed too) must not contain a known
internal code as a whole word. CSS classes and attribute values may carry codes.

Which codes: every choice value of every model field of the installed accretion apps whose value differs from its
label, plus the vocabularies that are not model choices (questionnaire task states, follow-up window states),
imported from where they are defined. User names (`prep_tech@north.test`, shown beside staff names) are words of
their own and are removed from the text before it is searched. Of those, only the codes that cannot be ordinary words: a code containing an
underscore (`in_progress`, `prep_tech`, `not_eligible`), and that code with its underscores cut (`inprogress`,
`notopen`, what `|cut:"_"` prints). Codes that are also English words (`open`, `planned`, `signed`) are skipped:
the page may say them.
"""

import re
from html.parser import HTMLParser

import pytest
from django.apps import apps

from accretion.clinical.followup import WINDOW_STATES
from accretion.outcomes.models import TASK_STATES
from tests.conftest import signed_in
from tests.test_forms_by_role import records, staff_pages  # noqa: F401  (records is a fixture)

ROLES = ["clinic_admin", "physician", "nurse", "prep_tech", "auditor"]
SKIPPED_ROUTES = ("/api/", "/fhir/", "/openapi")
HIDDEN = {"script", "style", "code", "pre", "kbd", "template", "textarea"}
USER_NAME = re.compile(r"\S+@\S+")
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


def internal_codes() -> dict[str, str]:
    """{code: where it comes from} for every code a page must never print."""
    vocabularies: dict[str, str] = {}
    for config in apps.get_app_configs():
        if not config.name.startswith("accretion"):
            continue
        for model in config.get_models():
            for field in model._meta.get_fields():
                for value, label in getattr(field, "flatchoices", None) or ():
                    if isinstance(value, str) and value != label:
                        vocabularies[value] = f"{model.__name__}.{field.name}"
    vocabularies.update({code: "QuestionnaireTask.state" for code in TASK_STATES})
    vocabularies.update({code: "Window.state" for code in WINDOW_STATES})
    codes = {}
    for code, source in vocabularies.items():
        if "_" in code.strip("_"):
            codes[code] = source
            codes[code.replace("_", "")] = source
    return codes


class VisibleText(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.hidden = 0
        self.stack: list[str] = []
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in VOID:
            return
        self.stack.append(tag)
        if tag in HIDDEN:
            self.hidden += 1

    def handle_endtag(self, tag):
        if tag not in self.stack:
            return
        while self.stack:
            open_tag = self.stack.pop()
            if open_tag in HIDDEN:
                self.hidden -= 1
            if open_tag == tag:
                break

    def handle_data(self, data):
        if not self.hidden:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = VisibleText()
    parser.feed(html)
    return " ".join(parser.parts)


def test_the_codes_are_collected_from_the_models_and_the_vocabularies():
    codes = internal_codes()
    for code in ("in_progress", "prep_tech", "clinic_admin", "not_open", "notopen", "facet_joint"):
        assert code in codes, code
    assert "open" not in codes and "planned" not in codes


def test_visible_text_leaves_out_markup_attributes_and_code():
    html = ('<p class="in_progress" title="prep_tech">In progress <code>not_open</code></p>'
            '<script>var a = "clinic_admin";</script><pre>x_y</pre><br><b>words</b>')
    assert visible_text(html).split() == ["In", "progress", "words"]


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_no_page_prints_an_internal_code(role, records, clinics, staff):  # noqa: F811
    codes = internal_codes()
    word = re.compile(r"(?<![\w-])(" + "|".join(sorted(map(re.escape, codes), key=len, reverse=True)) + r")(?![\w-])")
    client = signed_in(staff[("north", role)], clinics["north"])
    found, pages = [], 0
    for url in staff_pages(records):
        if url.startswith(SKIPPED_ROUTES):
            continue
        response = client.get(url)
        if response.status_code != 200 or not response.get("Content-Type", "").startswith("text/html"):
            continue
        pages += 1
        text = USER_NAME.sub(" ", visible_text(response.content.decode()))
        for match in word.finditer(text):
            context = text[max(0, match.start() - 40):match.end() + 40].replace("\n", " ")
            found.append(f"{url}: {match.group(1)} ({codes[match.group(1)]}) in '{' '.join(context.split())}'")
    assert pages >= 15, pages
    assert not found, f"{role} sees {len(found)} raw code(s) on {len({f.split(':')[0] for f in found})} page(s):\n" + "\n".join(sorted(set(found)))
