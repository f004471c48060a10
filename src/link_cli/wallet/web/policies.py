"""The person's spending-policy pages (docs/policies.md).

``/wallet/policies`` lists the policies (pause, resume, delete, edit), creates one, sets the
time zone budgets reset in and whether auto-approvals are notified, and lists recent
auto-approvals with a Revoke button while the credential is unused.
``/wallet/policies/dry-run`` answers "what would happen to this request?" without writing.
Every change is a CSRF-checked POST; only the signed-in person's policies are reachable.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from link_cli.money import format_amount, is_currency_code, minor_unit_digits

from ..deps import DbSession, Form, Now, Settings
from ..domain.errors import InvalidRequest, NotFound
from ..domain.policies import CREDENTIAL_KINDS
from ..services import manage
from ..services import policies as service
from ..services import spend_requests as spend_service
from ..store import policies as store
from .csrf import verify_csrf
from .session import PersonSession
from .templating import render

router = APIRouter(tags=["pages"], include_in_schema=False)

PAGE = "/wallet/policies"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_NOTICES = {
    "created": "Policy created. It decides from now on.",
    "saved": "Policy saved.",
    "paused": "Policy paused. Requests it covered now ask you.",
    "resumed": "Policy resumed.",
    "deleted": "Policy deleted.",
    "settings": "Settings saved.",
    "revoked": "Credential revoked: the request is canceled and its budget given back.",
}
_MONEY_FIELDS = ("max_amount", "budget", "agent_budget")


def _to_minor(text: str, currency: str, param: str) -> str | None:
    """``12.50`` typed on the page → ``"1250"`` (the domain checks the range)."""
    text = text.strip().replace(",", "")
    if not text:
        return None
    digits = minor_unit_digits(currency)
    whole, _, fraction = text.partition(".")
    ok = whole.isascii() and whole.isdigit() and len(whole) <= 10
    ok = ok and (not fraction or (fraction.isascii() and fraction.isdigit()))
    if not ok or len(fraction) > digits:
        raise InvalidRequest(
            f"{param.replace('_', ' ')} must be an amount such as 20.00",
            code="invalid_policy",
            extra={"param": param},
        )
    return str(int(whole) * 10**digits + int((fraction or "0").ljust(digits, "0")))


def _from_minor(value: int | None, currency: str | None) -> str:
    if value is None:
        return ""
    digits = minor_unit_digits(currency or "usd")
    if digits == 0:
        return str(value)
    return f"{value // 10**digits}.{value % 10**digits:0{digits}d}"


def _raw_from_form(form: Any) -> dict[str, Any]:
    currency = str(form.get("currency") or "").strip().lower()
    money_currency = currency if is_currency_code(currency) else "usd"
    raw: dict[str, Any] = {
        "name": str(form.get("name") or ""),
        "kind": str(form.get("kind") or "auto_approve"),
        "agent_id": str(form.get("agent_id") or ""),
        "currency": currency,
        "credential_types": [str(v) for v in form.getlist("credential_types")],
        "merchants": str(form.get("merchants") or ""),
        "test_only": form.get("test_only") == "1",
        "window_start": str(form.get("window_start") or ""),
        "window_end": str(form.get("window_end") or ""),
        "weekdays": [str(v) for v in form.getlist("weekdays")],
        "period": str(form.get("period") or ""),
    }
    for name in _MONEY_FIELDS:
        raw[name] = _to_minor(str(form.get(name) or ""), money_currency, name)
    return raw


def _form_values(policy: dict[str, Any] | None) -> dict[str, Any]:
    if policy is None:
        return {"kind": "auto_approve", "currency": "usd", "credential_types": [], "weekdays": []}
    values = dict(policy)
    for name in _MONEY_FIELDS:
        values[name] = _from_minor(policy.get(name), policy.get("currency"))
    values["merchants"] = "\n".join(policy.get("merchants") or [])
    return values


def _context(db: Session, person: Any, now: Any) -> dict[str, Any]:
    policies = service.list_policies(db, person.id)
    agents = manage.list_agents(db, person.id)
    names = {a["id"]: a["name"] for a in agents}
    approvals = []
    for approval, request in store.recent_approvals(db, person.id, now=now):
        approvals.append(
            {
                "id": request.id,
                "summary": approval.summary,
                "status": str(request.status),
                "revocable": str(request.status) == "approved",
                "at": approval.approved_at.isoformat()[:16].replace("T", " "),
            }
        )
    for policy in policies:
        policy["agent_name"] = names.get(policy["agent_id"], policy["agent_id"])
        currency = policy.get("currency") or "usd"
        policy["money"] = {
            name: format_amount(policy[name], currency)
            for name in _MONEY_FIELDS
            if policy.get(name) is not None
        }
    return {
        "person": person,
        "policies": policies,
        "agents": agents,
        "approvals": approvals,
        "prefs": service.get_preferences(db, person.id),
        "kinds": CREDENTIAL_KINDS,
        "weekdays": WEEKDAYS,
    }


def _back(done: str) -> Response:
    return RedirectResponse(f"{PAGE}?done={done}", status_code=303)


@router.get(PAGE)
def policies_page(request: Request, person: PersonSession, db: DbSession, now: Now) -> Response:
    """The person's policies, the new-policy form, settings and recent auto-approvals."""
    context = _context(db, person, now)
    context |= {
        "notice": _NOTICES.get(request.query_params.get("done", "")),
        "values": _form_values(None),
        "error": None,
    }
    return render(request, "policies.html", context)


@router.post(PAGE)
def create_policy(
    request: Request, person: PersonSession, form: Form, db: DbSession, now: Now
) -> Response:
    """Create a policy; the form comes back with the problem when a field is not valid."""
    verify_csrf(request, form)
    try:
        service.create_policy(db, user_id=person.id, raw=_raw_from_form(form), now=now)
    except InvalidRequest as error:
        context = _context(db, person, now)
        values = {k: form.get(k) for k in form} | {
            "credential_types": form.getlist("credential_types"),
            "weekdays": form.getlist("weekdays"),
        }
        context |= {"notice": None, "values": values, "error": error.message}
        return render(request, "policies.html", context, status=400)
    return _back("created")


@router.get(PAGE + "/dry-run")
def dry_run_page(
    request: Request, person: PersonSession, db: DbSession, now: Now, settings: Settings
) -> Response:
    """What would happen to this request?": the form, and the answer when one was asked."""
    query = dict(request.query_params)
    result = None
    error = None
    if query.get("amount"):
        currency = str(query.get("currency") or "usd").strip().lower()
        try:
            if not is_currency_code(currency):
                raise InvalidRequest("currency must be a code such as usd", code="invalid_dry_run")
            raw = dict(query, amount=_to_minor(str(query["amount"]), currency, "amount"))
            result = service.dry_run(
                db,
                user_id=person.id,
                raw=raw,
                now=now,
                limits=settings.limits,
                terms_url=settings.issuer.user_terms_url,
            )
        except InvalidRequest as failure:
            error = failure.message
    return render(
        request,
        "policies_dry_run.html",
        {
            "person": person,
            "query": query,
            "result": result,
            "error": error,
            "agents": manage.list_agents(db, person.id),
            "kinds": CREDENTIAL_KINDS,
            "left": None
            if not result or result.get("remaining") is None
            else format_amount(result["remaining"], str(query.get("currency") or "usd").lower()),
        },
        status=400 if error else 200,
    )


@router.post(PAGE + "/settings")
def save_settings(request: Request, person: PersonSession, form: Form, db: DbSession) -> Response:
    """Time zone (budgets reset at its midnight) and notification of auto-approvals."""
    verify_csrf(request, form)
    service.set_preferences(
        db,
        user_id=person.id,
        time_zone=str(form.get("time_zone") or "UTC")[:64],
        notify=form.get("notify") == "1",
    )
    return _back("settings")


@router.post(PAGE + "/approvals/{request_id}/revoke")
def revoke_approval(
    request: Request, request_id: str, person: PersonSession, form: Form, db: DbSession, now: Now
) -> Response:
    """Withdraw an auto-approved credential before a merchant redeems it."""
    verify_csrf(request, form)
    spend_service.revoke_auto_approved(db, user_id=person.id, request_id=request_id, now=now)
    return _back("revoked")


@router.get(PAGE + "/{policy_id}")
def edit_page(request: Request, policy_id: str, person: PersonSession, db: DbSession) -> Response:
    """One policy's form."""
    policy = service.show_policy(db, person.id, policy_id)
    return render(
        request,
        "policies_edit.html",
        {
            "person": person,
            "policy": policy,
            "values": _form_values(policy),
            "agents": manage.list_agents(db, person.id),
            "kinds": CREDENTIAL_KINDS,
            "weekdays": WEEKDAYS,
            "error": None,
        },
    )


@router.post(PAGE + "/{policy_id}")
def save_policy(
    request: Request, policy_id: str, person: PersonSession, form: Form, db: DbSession, now: Now
) -> Response:
    """Save the policy's form (every field, as shown)."""
    verify_csrf(request, form)
    policy = service.show_policy(db, person.id, policy_id)
    try:
        raw = _raw_from_form(form)
        # A field emptied on the form clears it: send explicit empties, not "keep".
        full = {k: ("" if v is None else v) for k, v in raw.items()}
        service.update_policy(db, user_id=person.id, policy_id=policy_id, raw=full, now=now)
    except InvalidRequest as error:
        values = {k: form.get(k) for k in form} | {
            "credential_types": form.getlist("credential_types"),
            "weekdays": form.getlist("weekdays"),
        }
        return render(
            request,
            "policies_edit.html",
            {
                "person": person,
                "policy": policy,
                "values": values,
                "agents": manage.list_agents(db, person.id),
                "kinds": CREDENTIAL_KINDS,
                "weekdays": WEEKDAYS,
                "error": error.message,
            },
            status=400,
        )
    return _back("saved")


@router.post(PAGE + "/{policy_id}/{action}")
def policy_action(
    request: Request,
    policy_id: str,
    action: str,
    person: PersonSession,
    form: Form,
    db: DbSession,
    now: Now,
) -> Response:
    """``pause``, ``resume`` or ``delete``."""
    verify_csrf(request, form)
    if action == "delete":
        service.delete_policy(db, user_id=person.id, policy_id=policy_id)
        return _back("deleted")
    if action not in ("pause", "resume"):
        raise NotFound("No such page.", code="resource_missing")
    paused = action == "pause"
    service.set_paused(db, user_id=person.id, policy_id=policy_id, paused=paused, now=now)
    return _back("paused" if paused else "resumed")
