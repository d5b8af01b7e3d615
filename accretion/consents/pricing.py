"""The self-pay cost estimate, as a pure function: price list + plan -> lines and total.

Money is Decimal throughout (never float) and rounded to cents half-up.
No Django imports, so the page, the API and tests compute it the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")

# code -> description, in the order lines appear on an estimate
ITEMS = {
    "consultation": "Consultation",
    "prp_kit": "PRP preparation, per kit",
    "injection_target": "Injection, per target",
    "additional_level": "Each additional spinal level",
    "image_guidance": "Image guidance (fluoroscopy or ultrasound)",
    "follow_up_visit": "Follow-up visit",
}


class EstimateError(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(field, message)
        self.field, self.message = field, message

    def __str__(self):
        return f"{self.field}: {self.message}"


@dataclass(frozen=True)
class Line:
    code: str
    description: str
    unit_price: Decimal
    quantity: int
    amount: Decimal


@dataclass(frozen=True)
class Quote:
    currency: str
    lines: tuple[Line, ...]
    total: Decimal


def quantities(*, targets: int, levels: int, kits: int, consultation: bool, follow_up_visits: int) -> dict[str, int]:
    """How many of each priced item a planned procedure uses."""
    for field, value in (("targets", targets), ("levels", levels), ("kits", kits), ("follow_up_visits", follow_up_visits)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise EstimateError(field, "must be a whole number, zero or more")
    if targets < 1:
        raise EstimateError("targets", "plan at least one target")
    if kits < 1:
        raise EstimateError("kits", "at least one PRP kit is needed")
    return {
        "consultation": 1 if consultation else 0,
        "prp_kit": kits,
        "injection_target": targets,
        "additional_level": max(0, levels - 1),
        "image_guidance": 1,
        "follow_up_visit": follow_up_visits,
    }


def quote(prices: dict[str, Decimal | None], counts: dict[str, int], currency: str) -> Quote:
    """Lines for every item used; a used item without a price is an error naming it."""
    lines = []
    for code, description in ITEMS.items():
        quantity = counts.get(code, 0)
        if quantity == 0:
            continue
        price = prices.get(code)
        if price is None:
            raise EstimateError(code, f"the price list has no price for “{description}”")
        price = Decimal(price)
        if price < 0:
            raise EstimateError(code, "a price cannot be negative")
        amount = (price * quantity).quantize(CENT, rounding=ROUND_HALF_UP)
        lines.append(Line(code, description, price.quantize(CENT, rounding=ROUND_HALF_UP), quantity, amount))
    return Quote(currency, tuple(lines), sum((line.amount for line in lines), Decimal("0.00")))
