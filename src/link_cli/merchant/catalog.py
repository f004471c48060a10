"""What the demo shop sells: a few physical goods (card checkout) and one paid API."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["FORECAST_PRICE", "PRODUCTS", "Product", "find_product"]


@dataclass(frozen=True)
class Product:
    """One item of the shop; ``price`` in minor units of the shop's currency."""

    sku: str
    name: str
    price: int
    blurb: str


PRODUCTS: tuple[Product, ...] = (
    Product("notebook", "Waxed field notebook", 1200, "Rain-proof pages, 96 sheets, pencil loop."),
    Product("coffee", "Trail coffee, 500 g", 1850, "Medium roast, whole beans, roasted weekly."),
    Product("lantern", "Camp lantern", 4500, "Rechargeable, 300 lumens, 20-hour battery."),
)

FORECAST_PRICE = 250
"""Price of one call to the paid forecast API, in minor units."""


def find_product(sku: str | None) -> Product | None:
    """The product with this SKU, or None."""
    return next((product for product in PRODUCTS if product.sku == sku), None)
