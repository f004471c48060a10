"""The demo's form reader: it must see forms the way a browser submits them."""

from __future__ import annotations

import pytest

from link_cli.demo.pages import HttpPage, elements_by_id, parse_forms

PAGE = """
<form method="post" action="/signin?next=/wallet">
  <input type="hidden" name="csrf_token" value="tok&amp;en">
  <input name="email" type="email">
  <input name="password" type="password" value="">
  <input type="checkbox" name="remember" value="yes">
  <input type="reset" name="clear" value="Clear">
  <input type="button" name="show" value="Show password">
  <button type="submit">Sign in</button>
</form>
<form method="POST" action="/approve/lsrq_1">
  <input type="hidden" name="csrf_token" value="t2">
  <textarea name="note">hello &lt;you&gt;</textarea>
  <select name="country"><option value="US">US</option><option value="FR" selected>FR</option></select>
  <button name="action" value="approve">Approve</button>
  <button name="action" value="deny">Deny</button>
</form>
<input name="outside" value="ignored">
"""


def test_hidden_fields_carry_their_decoded_values() -> None:
    signin, approval = parse_forms(PAGE)
    assert signin.method == "post"
    assert signin.action == "/signin?next=/wallet"
    assert signin.fields == {"csrf_token": "tok&en", "email": "", "password": ""}
    assert approval.fields["csrf_token"] == "t2"


def test_unchecked_boxes_and_unpressed_buttons_are_not_sent() -> None:
    signin, approval = parse_forms(PAGE)
    assert "remember" not in signin.fields
    assert "clear" not in signin.fields
    assert "show" not in signin.fields
    assert "action" not in approval.fields
    assert approval.buttons == [("action", "approve"), ("action", "deny")]


def test_textarea_and_selected_option_values() -> None:
    _, approval = parse_forms(PAGE)
    assert approval.fields["note"] == "hello <you>"
    assert approval.fields["country"] == "FR"


def test_form_with_finds_the_form_by_its_fields() -> None:
    page = HttpPage(url="http://127.0.0.1/signin", status=200, headers={}, text=PAGE)
    assert page.form_with("email", "password").action == "/signin?next=/wallet"
    assert page.form_with("note").method == "post"


def test_form_with_reports_a_missing_form() -> None:
    page = HttpPage(url="http://127.0.0.1/x", status=200, headers={}, text=PAGE)
    with pytest.raises(LookupError, match="number, cvc"):
        page.form_with("number", "cvc")


def test_elements_by_id_read_nested_text_and_attributes() -> None:
    found = elements_by_id(
        '<p id="order">Order <b id="order-id">ord_1</b><br> paid</p><span id="total" data-amount="250"></span>'
    )
    assert found.text == {"order": "Order ord_1 paid", "order-id": "ord_1", "total": ""}
    assert found.attributes["total"]["data-amount"] == "250"
