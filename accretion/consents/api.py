"""The clinic's price list over the API: read it, replace it. Amounts are plain decimals; the currency is
an ISO 4217 code from `accretion.money.currencies()` (another code answers 422 naming the field)."""

from decimal import Decimal

from django.db import transaction
from ninja import Router, Schema
from pydantic import Field

from accretion.api_base import ERRORS, FieldErrors, can
from accretion.audit.log import Action, record
from accretion.consents.forms import PriceListForm
from accretion.consents.models import PriceList
from accretion.consents.pricing import ITEMS

router = Router(tags=["prices"])

Price = Decimal | None


class PricesIn(Schema):
    currency: str = Field(min_length=3, max_length=3, pattern=r"^[A-Za-z]{3}$",
                          description="ISO 4217 code, e.g. USD or EUR.")
    consultation: Price = Field(None, ge=0, max_digits=10, decimal_places=2)
    prp_kit: Price = Field(None, ge=0, max_digits=10, decimal_places=2)
    injection_target: Price = Field(None, ge=0, max_digits=10, decimal_places=2)
    additional_level: Price = Field(None, ge=0, max_digits=10, decimal_places=2)
    image_guidance: Price = Field(None, ge=0, max_digits=10, decimal_places=2)
    follow_up_visit: Price = Field(None, ge=0, max_digits=10, decimal_places=2)


class PricesOut(Schema):
    currency: str
    consultation: Price
    prp_kit: Price
    injection_target: Price
    additional_level: Price
    image_guidance: Price
    follow_up_visit: Price


def _out(price_list: PriceList) -> dict:
    return {"currency": price_list.currency, **{code: getattr(price_list, code) for code in ITEMS}}


@router.get("/prices", auth=can("prices.manage"), response={200: PricesOut, **ERRORS})
def get_prices(request):
    price_list = PriceList.objects.filter(clinic=request.clinic).first()
    if price_list is None:
        raise FieldErrors({}, status=404, detail="This clinic has no price list yet.")
    return _out(price_list)


@router.put("/prices", auth=can("prices.manage"), response={200: PricesOut, **ERRORS})
def put_prices(request, payload: PricesIn):
    instance = PriceList.objects.filter(clinic=request.clinic).first() or PriceList(clinic=request.clinic)
    data = {key: "" if value is None else str(value) for key, value in payload.dict().items()}
    data["currency"] = data["currency"].upper()
    form = PriceListForm(data, instance=instance)
    if not form.is_valid():
        raise FieldErrors(form.errors)
    with transaction.atomic():
        saved = form.save()
        record(request, Action.UPDATE, saved, object_type="consents.pricelist")
    return _out(saved)
