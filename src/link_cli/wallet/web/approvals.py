"""The spend-request approval page (the ``approval_url`` an agent shows the person).

``GET /approve/{id}`` shows the signed-in owner what the agent wants to pay: merchant,
amount, context, line items, totals, the card that pays and the kind of credential, with
Approve / Deny buttons while the request is pending. ``POST`` (CSRF-checked, ``action =
approve | deny``) decides and redirects back to the page, which then shows the outcome.
``GET /approve/{id}/status`` feeds the page's long-poll, so it updates itself the moment the
request expires, the agent cancels it or it is decided elsewhere. Anyone but the owner gets 404; a visitor who is
not signed in is sent to the sign-in page and back.

The page also contributes "Recent spend requests" to the wallet home.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from link_cli.money import format_amount

from ..access_log import SECURITY_HEADERS
from ..deps import ClientAddress, DbSession, Form, Now, issuing_for
from ..domain.errors import WalletError
from ..domain.spend_request import CredentialType, SpendRequest, Status, deadline
from ..issuing.base import Issuer
from ..long_poll import Seen, hold_until_changed
from ..services import issuing as issuing_service
from ..services import spend_requests as spend_service
from ..store import accounts, issued_credentials, merchants, oauth, reports
from ..store import spend_requests as repository
from ..store.changes import person_key, person_version, spend_request_key
from ..store.models.accounts import User
from ..store.models.reports import AgentReport
from .csrf import verify_csrf
from .payee import SiteParts, site_parts
from .session import PersonSession
from .templating import render


@asynccontextmanager
async def _contribute_home_section(app: FastAPI) -> AsyncIterator[None]:
    app.state.home_sections.append(recent_requests_section)
    yield


router = APIRouter(tags=["pages"], include_in_schema=False, lifespan=_contribute_home_section)

RECENT_ON_HOME = 10

STATUS_TEXT = {
    Status.CREATED: "Waiting for the agent to ask for your approval",
    Status.PENDING_APPROVAL: "Waiting for your approval",
    Status.APPROVED: "Approved",
    Status.DENIED: "Denied",
    Status.EXPIRED: "Expired",
    Status.CANCELED: "Canceled by the agent",
    Status.SUCCEEDED: "Paid",
    Status.FAILED: "Payment failed",
    Status.REQUIRES_ACTION: "Needs your attention",
}
CREDENTIAL_TEXT = {
    CredentialType.CARD: "A one-time virtual card, only for this purchase",
    CredentialType.SHARED_PAYMENT_TOKEN: (
        "A one-time payment token that only this seller can charge, up to this amount"
    ),
}
LINK_PAY_TOKEN_TEXT = (
    "A one-time Link Pay Token that only this merchant's account can charge, up to this "
    "amount, for 30 minutes at most; the agent never sees a card number"
)

TIME_FORMAT = "%Y-%m-%d %H:%M UTC"


@dataclass(frozen=True)
class LineRow:
    """One line item as shown: name, quantity and the formatted line amount."""

    name: str
    quantity: int | None
    amount_text: str | None
    description: str | None


@dataclass(frozen=True)
class ReportRow:
    """One agent report as the person reads it."""

    summary: str
    domain: str
    step: str | None
    context: str | None
    reported_at: str


def report_summary(report: AgentReport) -> str:
    """``the agent reported: blocked — captcha, timeout`` in plain words."""
    text = f"The agent reported: {report.outcome}"
    if report.tags:
        text += " — " + ", ".join(tag.replace("_", " ") for tag in report.tags)
    return text


def _report_rows(db: Session, person: User, request: SpendRequest) -> list[ReportRow]:
    return [
        ReportRow(
            summary=report_summary(report),
            domain=report.domain,
            step=report.step,
            context=report.freeform_context,
            reported_at=report.created_at.strftime(TIME_FORMAT),
        )
        for report in reports.reports_for_request(db, person.id, request.id)
    ]


@dataclass(frozen=True)
class Payee:
    """Who gets the money, and how far the wallet vouches for that name."""

    name: str
    registered: bool
    """The name is this wallet's registration of the merchant, not what the agent typed."""
    site: SiteParts | None
    source: str
    """One sentence on where the name comes from."""
    agent_name: str | None
    """The name the agent typed, when it differs from the registered one."""


@dataclass(frozen=True)
class AgentInfo:
    """The agent connection that asked: its name and when the person connected it."""

    name: str
    connected_at: str | None
    revoked: bool


def payee_of(db: Session, request: SpendRequest) -> Payee:
    """The payee as registered here: an SPT's seller by its network id (in the request's
    mode), a Link Pay Token's merchant by its account; a card's by the agent's words."""
    typed = request.merchant_name
    if request.is_link_pay_token and request.merchant_account_id:
        merchant = merchants.get_merchant(db, request.merchant_account_id)
        if merchant is not None:
            return Payee(
                name=merchant.name,
                registered=True,
                site=site_parts(merchant.site),
                source=f"Registered at this wallet as merchant account {merchant.id}.",
                agent_name=None,
            )
    if request.credential_type is CredentialType.SHARED_PAYMENT_TOKEN and request.network_id:
        merchant = merchants.merchant_for_network_id(
            db, request.network_id, livemode=not request.test
        )
        if merchant is not None:
            return Payee(
                name=merchant.name,
                registered=True,
                site=site_parts(merchant.site),
                source=f"Registered at this wallet as seller {merchant.network_id}.",
                agent_name=typed if typed and typed != merchant.name else None,
            )
        return Payee(
            name=request.network_id,
            registered=False,
            site=site_parts(request.merchant_url),
            source="No merchant with this seller id is registered at this wallet.",
            agent_name=typed,
        )
    return Payee(
        name=typed or "Unknown seller",
        registered=False,
        site=site_parts(request.merchant_url),
        source=("Named by your agent: check that the website above is the shop you expect."),
        agent_name=None,
    )


def agent_of(db: Session, person: User, request: SpendRequest) -> AgentInfo:
    """The connection label the person approved at sign-in, and when."""
    grant = oauth.grant_of_user(db, person.id, request.grant_id) if request.grant_id else None
    if grant is None:
        return AgentInfo(
            name="An agent connection the wallet has no record of", connected_at=None, revoked=False
        )
    return AgentInfo(
        name=grant.connection_label or "An agent that gave no name",
        connected_at=grant.created_at.strftime(TIME_FORMAT),
        revoked=grant.revoked_at is not None,
    )


@dataclass(frozen=True)
class ApprovalPage:
    """Everything the approval template shows (contract tests read this too)."""

    id: str
    status: str
    status_text: str
    pending: bool
    merchant: str
    merchant_url: str | None
    payee: Payee
    agent: AgentInfo
    network_id: str | None
    merchant_account_id: str | None
    """The registered merchant a Link Pay Token request pays (its name is ``merchant``)."""
    amount_text: str
    currency: str
    context: str
    line_items: list[LineRow]
    totals: list[tuple[str, str]]
    payment_method: str | None
    credential_text: str
    test: bool
    expires_at: int | None
    """Unix seconds of the current deadline (approval window or validity), None if final."""
    revision: str
    issued_card_last4: str | None
    reports: list[ReportRow]
    terms_url: str | None = None
    """The card program's Authorized User Terms, while the person must still accept them
    to approve this request (a required checkbox)."""


def _line_rows(request: SpendRequest) -> list[LineRow]:
    rows = []
    for item in request.line_items:
        quantity = item.get("quantity")
        unit = item.get("unit_amount")
        amount = unit * (quantity if quantity is not None else 1) if unit is not None else None
        rows.append(
            LineRow(
                name=item["name"],
                quantity=quantity,
                amount_text=None if amount is None else format_amount(amount, request.currency),
                description=item.get("description"),
            )
        )
    return rows


def approval_page(
    db: Session, person: User, request: SpendRequest, issuer: Issuer | None = None
) -> ApprovalPage:
    """Build the page's context for ``request`` (already scoped to ``person``)."""
    pending = request.status is Status.PENDING_APPROVAL
    method = accounts.get_payment_method(db, person.id, request.payment_method_id)
    credential = issued_credentials.get_for_request(db, person.id, request.id)
    due = deadline(request)
    payee = payee_of(db, request)
    return ApprovalPage(
        id=request.id,
        status=str(request.status),
        status_text=STATUS_TEXT[request.status],
        pending=pending,
        merchant=payee.name,
        merchant_url=request.merchant_url,
        payee=payee,
        agent=agent_of(db, person, request),
        network_id=request.network_id,
        merchant_account_id=request.merchant_account_id if request.is_link_pay_token else None,
        amount_text=format_amount(request.amount, request.currency),
        currency=request.currency.upper(),
        context=request.context,
        line_items=_line_rows(request),
        totals=[
            (str(total["display_text"]), format_amount(total["amount"], request.currency))
            for total in request.totals
        ],
        payment_method=(
            f"{method.brand.title()} ···· {method.last4}" if method is not None else None
        ),
        credential_text=(
            LINK_PAY_TOKEN_TEXT
            if request.is_link_pay_token
            else CREDENTIAL_TEXT[request.credential_type]
        ),
        test=request.test,
        expires_at=int(due.timestamp()) if due is not None else None,
        revision=spend_service.revision(request),
        issued_card_last4=credential.card_last4 if credential is not None else None,
        reports=_report_rows(db, person, request),
        terms_url=(
            issuer.user_terms_url
            if issuer is not None and pending and issuing_service.needs_terms(db, issuer, request)
            else None
        ),
    )


def _load(db: Session, person: User, request_id: str, now: datetime) -> SpendRequest:
    request = repository.get_for_user(db, person.id, request_id, now=now)
    if request is None:
        raise spend_service.not_found(request_id)
    return request


def content_security_policy(nonce: str) -> str:
    """The wallet's policy, letting this page's own inline style and script run (by nonce).

    The page's poller and countdown are small enough to stay inline; everything else the
    wallet-wide policy forbids stays forbidden.
    """
    policy = dict(SECURITY_HEADERS)[b"content-security-policy"].decode("ascii")
    directives = [d.strip() for d in policy.split(";") if d.strip()]
    source = f"'nonce-{nonce}'"
    for name in ("script-src", "style-src"):
        index = next((i for i, d in enumerate(directives) if d.split()[0] == name), None)
        if index is None:
            directives.append(f"{name} 'self' {source}")
        else:
            directives[index] = f"{directives[index]} {source}"
    return "; ".join(directives)


def _page(
    request: Request,
    db: Session,
    person: User,
    spend: SpendRequest,
    now: datetime,
    *,
    error: str | None = None,
    status: int = 200,
) -> Response:
    nonce = secrets.token_urlsafe(18)
    response = render(
        request,
        "approve.html",
        {
            "person": person,
            "page": approval_page(db, person, spend, issuing_for(request).issuer),
            "now": int(now.timestamp()),
            "error": error,
            "nonce": nonce,
        },
        status=status,
    )
    response.headers["content-security-policy"] = content_security_policy(nonce)
    return response


@router.get("/approve/{request_id}")
def approval_form(
    request: Request, request_id: str, person: PersonSession, db: DbSession, now: Now
) -> Response:
    """The request, and Approve / Deny while it is pending."""
    return _page(request, db, person, _load(db, person, request_id, now), now)


@router.post("/approve/{request_id}")
def decide(
    request: Request,
    request_id: str,
    person: PersonSession,
    form: Form,
    db: DbSession,
    now: Now,
    address: ClientAddress,
) -> Response:
    """Approve (issuing the credential) or deny, then show the outcome. Approving with the
    terms box ticked records the person's acceptance of the card program's terms too."""
    verify_csrf(request, form)
    action = form.get("action")
    if action not in {"approve", "deny"}:
        spend = _load(db, person, request_id, now)
        return _page(request, db, person, spend, now, error="Choose Approve or Deny.", status=400)
    try:
        seen = _seen_revision(form.get("revision"))
        if action == "approve":
            spend_service.approve(
                db,
                user_id=person.id,
                request_id=request_id,
                now=now,
                limits=request.app.state.settings.limits,
                issuing=issuing_for(request),
                seen_revision=seen,
                terms=(
                    issuing_service.TermsConsent(
                        address=address, user_agent=request.headers.get("user-agent")
                    )
                    if form.get("accept_terms") == "yes"
                    else None
                ),
            )
        else:
            spend_service.deny(
                db, user_id=person.id, request_id=request_id, now=now, seen_revision=seen
            )
    except WalletError as error:
        if error.status == 404:
            raise
        db.rollback()
        spend = _load(db, person, request_id, now)
        return _page(request, db, person, spend, now, error=error.message, status=error.status)
    return RedirectResponse(f"/approve/{request_id}", status_code=303)


def _seen_revision(value: object) -> int | None:
    """The revision the page showed (None if absent or malformed): the service decides only
    on what the person saw."""
    if not isinstance(value, str) or not value.isascii() or not value.isdigit() or len(value) > 18:
        return None
    return int(value)


@router.get("/approve/{request_id}/status")
async def approval_status(
    request: Request, request_id: str, person: PersonSession, revision: str | None = None
) -> JSONResponse:
    """``{"status", "revision", "expires_at"}`` for the page's self-update. With ``Prefer:
    wait=N`` and the ``revision`` the page shows, held until the request moves, expires or
    ``N`` seconds pass (docs/long-poll.md)."""
    shown = _seen_revision(revision)

    def read() -> Seen:
        now = request.app.state.clock.now()
        with request.app.state.db.read_scope() as db:
            spend = _load(db, person, request_id, now)
        due = deadline(spend)
        body = {
            "status": str(spend.status),
            "revision": spend.revision,
            "expires_at": int(due.timestamp()) if due else None,
        }
        waitable = due is not None and (shown is None or shown == spend.revision)
        return Seen(body, str(spend.revision), waitable, due)

    body, headers = await hold_until_changed(
        request, key=spend_request_key(request_id), agent=person_key(person.id), read=read
    )
    return JSONResponse(body, headers=headers)


def recent_requests_section(db: Session, person: User, now: datetime) -> tuple[str, dict[str, Any]]:
    """The wallet home's "Recent spend requests" list (newest first)."""
    spends = repository.list_for_user(
        db, person.id, now=now, include_history=True, limit=RECENT_ON_HOME
    )
    latest = reports.reports_for_requests(db, person.id, [s.id for s in spends])
    payees = {s.id: payee_of(db, s).name for s in spends}
    rows = [
        {
            "id": s.id,
            "merchant": payees[s.id],
            "amount_text": format_amount(s.amount, s.currency),
            "status_text": STATUS_TEXT[s.status],
            "pending": s.status is Status.PENDING_APPROVAL,
            "test": s.test,
            "report": report_summary(latest[s.id]) if s.id in latest else None,
        }
        for s in spends
    ]
    version = person_version(db, person.id)  # the home's live update compares it
    return "approve_recent.html", {"spend_requests": rows, "version": version}
