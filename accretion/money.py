"""Currencies and money formatting, from Babel's copy of the Unicode CLDR data.

`CURRENCIES` is every ISO 4217 code that some territory uses as legal tender
today (CLDR's territory-currency table; withdrawn codes such as DEM or the
fund codes are not offered). Amounts are formatted in the clinic's locale
(`Clinic.locale`, a BCP 47 tag such as ``en-US`` or ``es-ES``): ``$1,540.00``,
``1.540,00 €``. The API and CSV files keep plain decimals.
"""

from datetime import date
from decimal import Decimal
from functools import cache

from babel import Locale, UnknownLocaleError, localedata
from babel.core import get_global
from babel.numbers import format_currency, get_currency_name, get_territory_currencies

DEFAULT_LOCALE = "en-US"


@cache
def currencies() -> frozenset[str]:
    today = date.today()
    codes = set()
    for territory in get_global("territory_currencies"):
        codes.update(get_territory_currencies(territory, start_date=today, tender=True))
    return frozenset(codes)


def is_currency(code: str) -> bool:
    return code in currencies()


@cache
def currency_choices() -> list[tuple[str, str]]:
    """(code, "EUR · Euro") for every current currency, by code."""
    return [(code, f"{code} · {get_currency_name(code, locale='en')}") for code in sorted(currencies())]


def _babel_locale(tag: str) -> str:
    return (tag or DEFAULT_LOCALE).replace("-", "_")


def is_locale(tag: str) -> bool:
    try:
        Locale.parse(_babel_locale(tag))
    except (ValueError, TypeError, UnknownLocaleError):
        return False
    return "_" in _babel_locale(tag)


@cache
def locale_choices() -> list[tuple[str, str]]:
    """(BCP 47 tag, English name) for every locale with a territory that CLDR knows, by name."""
    choices = []
    for identifier in localedata.locale_identifiers():
        parts = identifier.split("_")
        if len(parts) != 2 or not parts[1].isalpha() or not parts[1].isupper():
            continue  # language-only, scripts and variants are left out: formatting needs a territory
        name = Locale.parse(identifier).get_display_name("en") or identifier
        choices.append((identifier.replace("_", "-"), name))
    return sorted(choices, key=lambda choice: choice[1])


def format_money(amount, currency: str, locale: str = DEFAULT_LOCALE) -> str:
    """``format_money(Decimal("1540"), "USD", "en-US") == "$1,540.00"``; empty for no amount."""
    if amount is None or amount == "":
        return ""
    try:
        return format_currency(Decimal(amount), currency, locale=_babel_locale(locale))
    except (ValueError, TypeError, UnknownLocaleError):
        return f"{Decimal(amount):.2f} {currency}"
