"""Repository for people, their cards, shipping addresses and browser sessions.

Every read of a person's data takes the acting ``user_id``: there is no way to fetch another
person's card by guessing its id.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..domain.cards import CardInput, TokenisedCardInput
from ..domain.errors import Conflict, InvalidRequest
from ..domain.text import CONTROL_SINGLE_LINE
from .crypto import FieldCipher, sha256_hex
from .models.accounts import PaymentMethod, ShippingAddress, User, WebSession
from .models.base import new_id

WEB_SESSION_LIFETIME = timedelta(days=7)
_Owned = TypeVar("_Owned", PaymentMethod, ShippingAddress)


def normalize_email(email: str) -> str:
    """Trimmed, lower-cased email; raises InvalidRequest when it does not look like one."""
    value = email.strip().lower()
    local, _, domain = value.partition("@")
    if (
        not local
        or "." not in domain
        or len(value) > 320
        or any(c.isspace() or not c.isprintable() for c in value)
    ):
        raise InvalidRequest(f"{email[:320]!r} is not a valid email address", code="invalid_email")
    return value


MAX_NAME_LENGTH = 200


def normalize_name(name: str | None) -> str | None:
    """A person's display name, trimmed (None when blank); refuses control characters and
    names longer than the column holds, so no store rejects or truncates it later."""
    value = (name or "").strip()
    if not value:
        return None
    if len(value) > MAX_NAME_LENGTH:
        raise InvalidRequest(
            f"the name must have at most {MAX_NAME_LENGTH} characters", code="invalid_name"
        )
    if CONTROL_SINGLE_LINE.search(value):
        raise InvalidRequest("the name must not contain control characters", code="invalid_name")
    return value


def create_user(
    session: Session, *, email: str, password_hash: str, name: str | None, now: datetime
) -> User:
    """Insert a person; raises Conflict when the email is already registered."""
    address = normalize_email(email)
    name = normalize_name(name)
    if get_user_by_email(session, address) is not None:
        raise Conflict(f"a user with email {address} already exists", code="email_taken")
    user = User(
        id=new_id("usr"), email=address, name=name, password_hash=password_hash, created_at=now
    )
    session.add(user)
    try:
        session.flush()
    except IntegrityError:
        raise Conflict(f"a user with email {address} already exists", code="email_taken") from None
    return user


def get_user(session: Session, user_id: str) -> User | None:
    """The person with ``user_id``, or None."""
    return session.get(User, user_id)


def get_user_by_email(session: Session, email: str) -> User | None:
    """The person registered with ``email`` (case-insensitive), or None."""
    return session.scalar(select(User).where(User.email == email.strip().lower()))


def add_card(
    session: Session,
    *,
    user_id: str,
    card: CardInput,
    cipher: FieldCipher,
    now: datetime,
    make_default: bool = False,
) -> PaymentMethod:
    """Store a validated card with number and CVC encrypted; the first card becomes default."""
    has_cards = session.scalar(select(PaymentMethod.id).where(PaymentMethod.user_id == user_id))
    is_default = make_default or has_cards is None
    if is_default:
        session.execute(
            update(PaymentMethod).where(PaymentMethod.user_id == user_id).values(is_default=False)
        )
    method_id = new_id("csmrpd")
    method = PaymentMethod(
        id=method_id,
        user_id=user_id,
        type="card",
        brand=card.brand,
        last4=card.last4,
        exp_month=card.exp_month,
        exp_year=card.exp_year,
        number_encrypted=cipher.encrypt(method_id, "number", card.number),
        cvc_encrypted=cipher.encrypt(method_id, "cvc", card.cvc),
        billing_name=card.billing.name,
        billing_line1=card.billing.line1,
        billing_line2=card.billing.line2,
        billing_city=card.billing.city,
        billing_state=card.billing.state,
        billing_postal_code=card.billing.postal_code,
        billing_country=card.billing.country,
        nickname=card.nickname,
        is_default=is_default,
        created_at=now,
    )
    session.add(method)
    session.flush()
    return method


def add_stripe_card(
    session: Session,
    *,
    user_id: str,
    card: TokenisedCardInput,
    brand: str,
    last4: str,
    exp_month: int,
    exp_year: int,
    now: datetime,
    make_default: bool = False,
) -> PaymentMethod:
    """Store a card tokenised by Stripe.js: its PaymentMethod id and what Stripe reports
    (brand, last four, expiry); no number or CVC exists here to encrypt."""
    taken = select(PaymentMethod.id).where(
        PaymentMethod.stripe_payment_method == card.payment_method
    )
    if session.scalar(taken) is not None:
        raise Conflict(
            "This card was already added; add it again with Stripe's form to get a new one.",
            code="payment_method_taken",
        )
    has_cards = session.scalar(select(PaymentMethod.id).where(PaymentMethod.user_id == user_id))
    is_default = make_default or has_cards is None
    method = PaymentMethod(
        id=new_id("csmrpd"),
        user_id=user_id,
        type="card",
        brand=brand[:20],
        last4=last4[-4:],
        exp_month=exp_month,
        exp_year=exp_year,
        number_encrypted=None,
        cvc_encrypted=None,
        billing_name=card.billing.name,
        billing_line1=card.billing.line1,
        billing_line2=card.billing.line2,
        billing_city=card.billing.city,
        billing_state=card.billing.state,
        billing_postal_code=card.billing.postal_code,
        billing_country=card.billing.country,
        nickname=card.nickname,
        is_default=is_default,
        created_at=now,
        stripe_payment_method=card.payment_method,
    )
    try:
        with session.begin_nested():  # two posts of one pm_ at once: the loser is told
            session.add(method)
    except IntegrityError:
        raise Conflict(
            "This card was already added; add it again with Stripe's form to get a new one.",
            code="payment_method_taken",
        ) from None
    if is_default:
        session.execute(
            update(PaymentMethod)
            .where(PaymentMethod.user_id == user_id, PaymentMethod.id != method.id)
            .values(is_default=False)
        )
    return method


def list_payment_methods(session: Session, user_id: str) -> list[PaymentMethod]:
    """The person's cards, default first, then newest first."""
    return _default_first(session, PaymentMethod, user_id)


def get_payment_method(session: Session, user_id: str, method_id: str) -> PaymentMethod | None:
    """One of the person's cards, or None (also for another person's id)."""
    query = select(PaymentMethod).where(
        PaymentMethod.id == method_id, PaymentMethod.user_id == user_id
    )
    return session.scalar(query)


def billing_address(method: PaymentMethod) -> dict[str, str | None]:
    """The card's billing address in the contract's shape (contract §7.2)."""
    return {
        "name": method.billing_name,
        "line1": method.billing_line1,
        "line2": method.billing_line2,
        "city": method.billing_city,
        "state": method.billing_state,
        "postal_code": method.billing_postal_code,
        "country": method.billing_country,
    }


def add_shipping_address_from_billing(
    session: Session, *, user_id: str, method: PaymentMethod, now: datetime
) -> ShippingAddress:
    """Save a card's billing address as a shipping address (default if it is the first)."""
    has_any = session.scalar(select(ShippingAddress.id).where(ShippingAddress.user_id == user_id))
    address = ShippingAddress(
        id=new_id("shpadr"),
        user_id=user_id,
        is_default=has_any is None,
        nickname=method.nickname,
        name=method.billing_name,
        line_1=method.billing_line1,
        line_2=method.billing_line2,
        locality=method.billing_city,
        administrative_area=method.billing_state,
        postal_code=method.billing_postal_code,
        country_code=method.billing_country,
        created_at=now,
    )
    session.add(address)
    session.flush()
    return address


def list_shipping_addresses(session: Session, user_id: str) -> list[ShippingAddress]:
    """The person's shipping addresses, default first."""
    return _default_first(session, ShippingAddress, user_id)


def _default_first(session: Session, model: type[_Owned], user_id: str) -> list[_Owned]:
    """The person's rows of ``model``: the default one first, then newest first."""
    query = (
        select(model)
        .where(model.user_id == user_id)
        .order_by(model.is_default.desc(), model.created_at.desc())
    )
    return list(session.scalars(query))


def start_web_session(session: Session, *, user_id: str, now: datetime) -> str:
    """Create a browser session and return its raw id (only its hash is stored)."""
    raw = secrets.token_urlsafe(32)
    session.add(
        WebSession(
            id_hash=sha256_hex(raw),
            user_id=user_id,
            created_at=now,
            expires_at=now + WEB_SESSION_LIFETIME,
        )
    )
    session.flush()
    return raw


def user_for_web_session(session: Session, raw_id: str, *, now: datetime) -> User | None:
    """The signed-in person of a live browser session, or None."""
    record = session.get(WebSession, sha256_hex(raw_id))
    if record is None or record.expires_at <= now:
        return None
    return session.get(User, record.user_id)


def end_web_session(session: Session, raw_id: str) -> None:
    """Sign out: forget the session server-side, so a copied cookie stops working."""
    session.execute(delete(WebSession).where(WebSession.id_hash == sha256_hex(raw_id)))
