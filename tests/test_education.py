"""Patient education: public pages per clinic in English and Spanish, and the fingerprint a consent stores."""

import hashlib
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accretion.clinics.models import Clinic
from accretion.education import content

URL = "/learn/north/"


@pytest.fixture
def north(clinics):
    return clinics["north"]  # "North Spine", "+1 555 0100"


def text_of(response):
    return response.content.decode()


# --- English and Spanish pages ---------------------------------------------------------------


@pytest.mark.django_db
def test_english_page_renders_without_sign_in_with_the_key_facts(north):
    response = Client().get(URL)
    assert response.status_code == 200
    assert "education/page.html" in [t.name for t in response.templates]
    html = text_of(response)
    assert '<html lang="en"' in html
    assert response["Content-Language"] == "en"
    for fact in (
        "PRP injections for back and neck pain",
        "blood draw", "centrifuge", "Image-guided injection",
        "PDGF", "TGF-β", "VEGF",
        "Facet joints", "Interspinous ligaments", "Paraspinal muscles", "Thoracolumbar fascia",
        "investigational", "epidural", "intradiscal",
        "not a structural cure", "herniated", "spinal stenosis", "4 to 6 weeks",
        "2–3 days", "No NSAIDs for about a week", "acetaminophen",
        "insurance", "Medicare", "written estimate",
        "38.3 °C (101 °F)", "emergency department",
    ):
        assert fact.lower() in html.lower(), fact
    assert f"Version {content.VERSIONS['en']}" in html
    assert "North Spine" in html
    assert '<a href="tel:+15550100">+1 555 0100</a>' in html


@pytest.mark.django_db
def test_spanish_page_renders_without_sign_in_with_the_key_facts(north):
    response = Client().get(URL, {"lang": "es"})
    assert response.status_code == 200
    html = text_of(response)
    assert '<html lang="es"' in html
    assert response["Content-Language"] == "es"
    for fact in (
        "Inyecciones de PRP para el dolor de espalda y de cuello",
        "Extracción de sangre", "centrífuga", "Inyección guiada por imágenes",
        "PDGF", "TGF-β", "VEGF",
        "Articulaciones facetarias", "Ligamentos interespinosos", "Músculos paravertebrales", "Fascia toracolumbar",
        "experimental", "epidural", "intradiscal",
        "no es una cura estructural", "hernia de disco", "estenosis espinal", "de 4 a 6 semanas",
        "2–3 días", "Nada de antiinflamatorios", "acetaminofén",
        "seguro", "Medicare", "por escrito",
        "38.3 °C (101 °F)", "sala de emergencias",
        "usted",
    ):
        assert fact.lower() in html.lower(), fact
    assert f"Versión {content.VERSIONS['es']}" in html
    assert "North Spine" in html
    assert "+1 555 0100" in html
    assert "not a structural cure" not in html  # no English text left in the Spanish page


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "accept_language", "expected"),
    [
        ({"lang": "es"}, None, "es"),
        ({"lang": "en"}, "es-MX,es;q=0.9", "en"),  # the explicit choice wins over the browser
        ({}, "es-MX,es;q=0.9", "es"),
        ({}, None, "en"),
        ({}, "en-US,en;q=0.9,es;q=0.8", "en"),
        ({}, "fr-FR,fr;q=0.9,es;q=0.5", "es"),
        ({}, "de-DE,de;q=0.9", "en"),
        ({"lang": "de"}, None, "en"),  # unknown language: English, no error
        ({"lang": "de"}, "es-MX,es;q=0.9", "en"),
        ({"lang": "ES-mx"}, None, "es"),
        ({"lang": ""}, "es", "es"),  # an empty choice is no choice
    ],
)
def test_language_from_query_then_accept_language_then_english(north, query, accept_language, expected):
    headers = {"Accept-Language": accept_language} if accept_language else {}
    response = Client().get(URL, query, headers=headers)
    assert response.status_code == 200
    assert f'<html lang="{expected}"' in text_of(response)
    assert content.render_text(expected) in text_of(response)
    assert "Accept-Language" in response["Vary"]


@pytest.mark.django_db
def test_language_switch_links_to_the_other_language(north):
    english = text_of(Client().get(URL))
    assert '<a href="?lang=es" hreflang="es" lang="es">Español</a>' in english
    assert '<span aria-current="page" lang="en">English</span>' in english
    spanish = text_of(Client().get(URL, {"lang": "es"}))
    assert '<a href="?lang=en" hreflang="en" lang="en">English</a>' in spanish


@pytest.mark.django_db
@pytest.mark.parametrize("language,words", [("es", "Revise el enlace que le dio su clínica"),
                                            ("en", "Please check the link your clinic gave you")])
def test_unknown_clinic_is_a_patients_not_found_page_in_their_language(north, language, words):
    response = Client().get("/learn/nowhere/", {"lang": language})
    assert response.status_code == 404
    assert "education/not_found.html" in [t.name for t in response.templates]
    body = text_of(response)
    assert words in body and f'lang="{language}"' in response.content.decode()
    assert "PDGF" not in body and "active clinic" not in body and "Back to patients" not in body


@pytest.mark.django_db
def test_each_clinic_shows_its_own_name_and_phone(clinics):
    response = Client().get("/learn/south/")
    assert "South Spine" in text_of(response) and "+1 555 0200" in text_of(response)
    assert "North Spine" not in text_of(response)


@pytest.mark.django_db
def test_a_clinic_without_phone_shows_no_empty_call_line():
    Clinic.objects.create(slug="quiet", name="Quiet Clinic", phone="")
    html = text_of(Client().get("/learn/quiet/"))
    assert "Quiet Clinic" in html
    assert "tel:" not in html and "Questions? Call" not in html


@pytest.mark.django_db
def test_only_reading_is_allowed(north):
    assert Client().post(URL).status_code == 405
    assert Client().head(URL).status_code == 200


@pytest.mark.django_db
def test_signed_in_staff_see_the_same_patient_page(north, staff):
    from tests.conftest import signed_in

    response = signed_in(staff[("north", "front_desk")], north).get(URL)
    assert response.status_code == 200
    assert content.render_text("en") in text_of(response)


@pytest.mark.django_db
def test_page_is_strict_csp_clean_and_links_its_print_stylesheet(north):
    for query in ({}, {"lang": "es"}):
        html = text_of(Client().get(URL, query))
        assert "<script" not in html
        assert "<style" not in html and " style=" not in html
        assert "/static/css/education.css" in html
        assert "http://" not in html and "https://" not in html  # nothing prints as an address


@pytest.mark.django_db
def test_query_count_is_small_fixed_and_read_only(north, django_assert_max_num_queries):
    counts = []
    for query in ({}, {"lang": "es"}, {"lang": "xx"}):
        with django_assert_max_num_queries(2), CaptureQueriesContext(connection) as captured:
            assert Client().get(URL, query).status_code == 200
        assert all(q["sql"].lstrip().upper().startswith("SELECT") for q in captured.captured_queries), captured
        counts.append(len(captured))
    assert len(set(counts)) == 1, counts


# --- What was shown: content.py ----------------------------------------------------------------


def test_shown_gives_language_version_and_a_stable_fingerprint():
    spanish = content.shown("es")
    assert spanish["language"] == "es"
    assert spanish["version"] == content.VERSIONS["es"]
    assert re.fullmatch(r"[0-9a-f]{64}", spanish["sha256"])
    assert content.shown("es") == spanish
    english = content.shown("en")
    assert english["version"] == content.VERSIONS["en"]
    assert english["sha256"] != spanish["sha256"]
    assert set(spanish) == {"language", "version", "sha256"}


def test_fingerprint_is_the_sha256_of_the_text_without_any_clinic():
    for language in content.LANGUAGES:
        text = content.render_text(language)
        assert content.shown(language)["sha256"] == hashlib.sha256(text.encode("utf-8")).hexdigest()
        assert f"{content.VERSIONS[language]}" in text
        assert "North Spine" not in text and "{{" not in text and "{%" not in text


@pytest.mark.django_db
def test_the_page_shows_exactly_the_fingerprinted_text(north):
    for language in content.LANGUAGES:
        response = Client().get(URL, {"lang": language})
        shown = content.shown(language)
        assert content.render_text(language) in text_of(response)
        assert shown["sha256"][:12] in text_of(response)


def test_every_text_change_comes_with_a_new_version():
    """Editing the text changes its fingerprint: bump VERSIONS and record the new SHA-256 in PUBLISHED_SHA256."""
    for language in content.LANGUAGES:
        shown = content.shown(language)
        assert content.PUBLISHED_SHA256.get((language, shown["version"])) == shown["sha256"], (
            f"the {language} text of version {shown['version']} is not the published one"
        )


def test_unsupported_language_is_recorded_as_english():
    assert content.shown("fr") == content.shown("en")
    assert content.shown(None)["language"] == "en"


@pytest.mark.parametrize(
    ("code", "expected"),
    [("en", "en"), ("es", "es"), ("ES", "es"), ("es-MX", "es"), ("es_419", "es"), (" es ", "es"),
     ("fr", "en"), ("", "en"), (None, "en"), (42, "en"), ("english", "en"), ("esp", "en")],
)
def test_language_or_default(code, expected):
    assert content.language_or_default(code) == expected


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("es-MX,es;q=0.9", "es"),
        ("es-419", "es"),
        ("en-US,en;q=0.9,es;q=0.8", "en"),
        ("es;q=0.8, en;q=0.9", "en"),
        ("fr-FR,fr;q=0.9,es;q=0.4", "es"),
        ("es;q=0, en;q=0.1", "en"),
        ("es;q=0", "en"),
        ("es;q=abc", "en"),
        ("*", "en"),
        ("", "en"),
        (None, "en"),
        ("es, en", "es"),
    ],
)
def test_from_accept_language(header, expected):
    assert content.from_accept_language(header) == expected
