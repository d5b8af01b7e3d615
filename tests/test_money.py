"""Currencies are ISO 4217 codes from a list; money is written in the clinic's locale everywhere it is shown."""

import json
from decimal import Decimal

import pytest

from accretion import money
from accretion.consents.models import Consent, PriceList
from tests import test_consents
from tests.conftest import api_client, signed_in
from tests.conftest import screened as screen
from tests.test_consents import PRICES, _pdf_text, estimate, sign

setup = test_consents.setup  # a north clinic with a USD price list and a planned procedure


@pytest.mark.parametrize("amount, currency, locale, shown", [
    (Decimal(1540), "USD", "en-US", "$1,540.00"),
    (Decimal(1540), "EUR", "es-ES", "1.540,00\xa0€"),
    (Decimal("0.5"), "GBP", "en-GB", "£0.50"),
    (Decimal(1540), "JPY", "ja-JP", "￥1,540"),
    (None, "USD", "en-US", ""),
])
def test_format_money(amount, currency, locale, shown):
    assert money.format_money(amount, currency, locale) == shown


def test_the_currency_list_is_iso_4217_in_use():
    codes = money.currencies()
    assert {"USD", "EUR", "MXN", "GBP", "JPY", "CHF"} <= codes
    assert not {"DEM", "FRF", "XXX", "USN", "ZZZ"} & codes  # withdrawn, no currency, funds, nonsense
    assert all(len(code) == 3 and code.isupper() for code in codes)


@pytest.mark.parametrize("code", ["ZZZ", "DEM", "dollars", ""])
def test_an_unknown_currency_is_a_field_error(setup, staff, code):
    admin = signed_in(staff[("north", "clinic_admin")], setup["north"])
    response = admin.post("/clinic/prices/", {**PRICES, "currency": code})
    assert response.status_code == 400 and list(response.context["form"].errors) == ["currency"]
    assert PriceList.objects.get(clinic=setup["north"]).currency == "USD"


def test_the_price_list_offers_a_select_and_shows_prices_in_the_clinics_format(setup, staff):
    admin = signed_in(staff[("north", "clinic_admin")], setup["north"])
    page = admin.get("/clinic/prices/").content.decode()
    assert '<select name="currency"' in page and '<option value="EUR">EUR · Euro</option>' in page
    assert "$450.00" in page
    setup["north"].locale = "es-ES"
    setup["north"].save()
    assert admin.post("/clinic/prices/", {**PRICES, "currency": "EUR"}).status_code == 302
    assert "450,00\xa0€" in admin.get("/clinic/prices/").content.decode()


def test_the_clinic_chooses_its_format_on_the_settings_page(setup, staff):
    admin = signed_in(staff[("north", "clinic_admin")], setup["north"])
    base = {"name": "North Spine", "phone": "+1 555 0100"}
    assert admin.post("/clinic/", {**base, "locale": "xx-YY"}).status_code == 400
    assert admin.post("/clinic/", {**base, "locale": "es-ES"}).status_code == 302
    setup["north"].refresh_from_db()
    assert setup["north"].locale == "es-ES"
    assert admin.post("/clinic/", base).status_code == 302  # a page without the field keeps it
    setup["north"].refresh_from_db()
    assert setup["north"].locale == "es-ES"


@pytest.mark.parametrize("locale, currency, total", [("en-US", "USD", "$1,841.00"), ("es-ES", "EUR", "1.841,00\xa0€")])
def test_estimate_consent_and_pdf_show_money_in_the_clinics_locale(setup, staff, tmp_path, locale, currency, total):
    north = setup["north"]
    north.locale = locale
    north.save()
    PriceList.objects.filter(clinic=north).update(currency=currency)
    screen(setup["patient"])
    nurse = signed_in(staff[("north", "nurse")], north)
    estimate(nurse, setup["procedure"])
    procedure_page = nurse.get(f"/procedures/{setup['procedure'].pk}/").content.decode()
    assert total in procedure_page
    sign(nurse, setup["procedure"], lang="en")
    consent = Consent.objects.get()
    assert total in consent.document_html
    assert total in nurse.get(f"/consents/{consent.pk}/").content.decode()
    pdf = nurse.get(f"/consents/{consent.pk}/consent.pdf")
    assert total.replace("\xa0", " ") in " ".join(_pdf_text(pdf.content, tmp_path).split())


def test_the_api_keeps_plain_decimals_and_refuses_unknown_codes(setup, staff):
    client = api_client(staff[("north", "clinic_admin")], setup["north"])
    got = client.get("/api/v1/prices")
    assert got.status_code == 200
    assert got.json()["currency"] == "USD" and Decimal(str(got.json()["prp_kit"])) == Decimal("450.00")
    body = {**PRICES, "currency": "ZZZ"}
    bad = client.put("/api/v1/prices", json.dumps(body), content_type="application/json")
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "currency"
    good = client.put("/api/v1/prices", json.dumps({**PRICES, "currency": "eur", "prp_kit": "475.25"}),
                      content_type="application/json")
    assert good.status_code == 200 and good.json()["currency"] == "EUR"
    assert "€" not in good.content.decode() and "475.25" in good.content.decode()
    nurse = api_client(staff[("north", "nurse")], setup["north"])
    assert nurse.put("/api/v1/prices", json.dumps(PRICES), content_type="application/json").status_code == 403
