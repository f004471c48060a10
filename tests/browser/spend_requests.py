"""The agent's spend requests in browser tests, over the Link API (JSON, Bearer)."""

from __future__ import annotations

from typing import Any


def create_spend_request(wallet_url: str, access_token: str, **fields: Any) -> dict[str, Any]:
    """``POST /spend_requests`` as the agent (JSON, Bearer), asking for approval."""
    import httpx2

    body: dict[str, Any] = {
        "credential_type": "card",
        "amount": 6300,
        "currency": "usd",
        "merchant_name": "Trailhead Supply Co.",
        "merchant_url": "https://trailhead.example/checkout?item=lantern",
        "context": (
            "Restocking the person's camping kit before Saturday's trip: one rechargeable "
            "camp lantern and a bag of trail coffee, shipped to their home address."
        ),
        "line_items": [
            {"name": "Camp lantern", "quantity": 1, "unit_amount": 4500},
            {"name": "Trail coffee 500 g", "quantity": 1, "unit_amount": 1800},
        ],
        "totals": [
            {"type": "subtotal", "display_text": "Subtotal", "amount": 6300},
            {"type": "shipping", "display_text": "Shipping", "amount": 0},
            {"type": "total", "display_text": "Total", "amount": 6300},
        ],
        "request_approval": True,
    }
    body.update(fields)
    response = httpx2.post(
        f"{wallet_url}/spend_requests",
        json=body,
        headers={"Authorization": f"Bearer {access_token}"},
        timeout=15,
    )
    assert response.status_code == 200, response.text
    return response.json()


def retrieve_spend_request(wallet_url: str, access_token: str, request_id: str) -> dict[str, Any]:
    """``GET /spend_requests/<id>`` as the agent."""
    import httpx2

    response = httpx2.get(
        f"{wallet_url}/spend_requests/{request_id}",
        headers={"Authorization": f"Bearer {access_token}"},
        timeout=15,
    )
    assert response.status_code == 200, response.text
    return response.json()


def report_attempt(wallet_url: str, access_token: str, **fields: Any) -> dict[str, Any]:
    """``POST /agent_observations`` as the agent: how its purchase attempt went."""
    import httpx2

    response = httpx2.post(
        f"{wallet_url}/agent_observations",
        json=fields,
        headers={"Authorization": f"Bearer {access_token}"},
        timeout=15,
    )
    assert response.status_code == 200, response.text
    return response.json()
