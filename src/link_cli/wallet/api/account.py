"""Link API account endpoints (contract §7.1 rows 8–10, shapes in contract §7.5–7.7)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from ..deps import DbSession, Now, require_scope
from ..domain.oauth import SCOPE_PAYMENT_METHODS, SCOPE_USERINFO
from ..store import accounts
from ..store.models.accounts import PaymentMethod, ShippingAddress
from ..store.oauth import AccessContext
from .responses import ApiJSON

router = APIRouter(tags=["account"])

PaymentMethodsReader = Annotated[AccessContext, Depends(require_scope(SCOPE_PAYMENT_METHODS))]
UserInfoReader = Annotated[AccessContext, Depends(require_scope(SCOPE_USERINFO))]


def payment_method_json(
    method: PaymentMethod, *, today_year_month: tuple[int, int]
) -> dict[str, Any]:
    """A card as the contract shows it: brand, last 4 and expiry only (contract §7.5)."""
    expired = (method.exp_year, method.exp_month) < today_year_month
    return {
        "id": method.id,
        "type": method.type,
        "is_default": method.is_default,
        "nickname": method.nickname,
        "card_details": {
            "brand": method.brand,
            "last4": method.last4,
            "exp_month": method.exp_month,
            "exp_year": method.exp_year,
        },
        "capabilities": {
            "agentic_payments": {
                "eligible": not expired,
                "ineligibility_reasons": ["card_expired"] if expired else [],
            }
        },
    }


def shipping_address_json(address: ShippingAddress) -> dict[str, Any]:
    """A shipping address in the shape of contract §7.6."""
    return {
        "id": address.id,
        "is_default": address.is_default,
        "nickname": address.nickname,
        "address": {
            "name": address.name,
            "line_1": address.line_1,
            "line_2": address.line_2,
            "locality": address.locality,
            "dependent_locality": address.dependent_locality,
            "administrative_area": address.administrative_area,
            "postal_code": address.postal_code,
            "sorting_code": address.sorting_code,
            "country_code": address.country_code,
        },
    }


@router.get("/payment-details")
def list_payment_details(agent: PaymentMethodsReader, db: DbSession, now: Now) -> ApiJSON:
    """The person's cards (scope ``payment_methods.agentic``); never numbers or CVCs."""
    methods = accounts.list_payment_methods(db, agent.user_id)
    today = (now.year, now.month)
    return ApiJSON(
        {"payment_details": [payment_method_json(m, today_year_month=today) for m in methods]}
    )


@router.get("/shipping_addresses")
def list_shipping_addresses(agent: UserInfoReader, db: DbSession) -> ApiJSON:
    """The person's shipping addresses (scope ``userinfo:read``)."""
    addresses = accounts.list_shipping_addresses(db, agent.user_id)
    return ApiJSON({"shipping_addresses": [shipping_address_json(a) for a in addresses]})


@router.get("/userinfo")
def user_info(agent: UserInfoReader, db: DbSession) -> ApiJSON:
    """Who the token acts for (scope ``userinfo:read``), contract §7.7."""
    user = accounts.get_user(db, agent.user_id)
    name = user.name if user else None
    first, _, last = (name or "").partition(" ")
    return ApiJSON(
        {
            "email": user.email if user else None,
            "name": name,
            "first_name": first or None,
            "last_name": last or None,
            "phone": user.phone if user else None,
        }
    )
