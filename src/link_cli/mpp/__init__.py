"""The MPP codec: HTTP 402 ``Payment`` challenges, credentials and receipts (mpp.md).

Pure and stdlib-only. The payer's HTTP logic lives in :mod:`link_cli.mpp.client` and the
merchant's challenge issuing and verification in :mod:`link_cli.mpp.server`; import those
explicitly. Every parser raises :class:`MppParseError` and nothing else.

The records (:class:`Challenge`, :class:`Credential`, :class:`Receipt`, …) are immutable and
compare by value like frozen dataclasses, but are not dataclasses (importing
:mod:`dataclasses` costs a short-lived CLI more than the rest of the codec): copy one with
:func:`replace` (or ``copy.replace`` on Python 3.13+).
"""

from __future__ import annotations

from link_cli._records import replace
from link_cli.mpp.challenge import (
    Challenge,
    format_challenge,
    format_www_authenticate,
    parse_challenge,
    parse_www_authenticate,
)
from link_cli.mpp.credential import Credential, format_authorization, parse_authorization
from link_cli.mpp.errors import MppParseError
from link_cli.mpp.methods.stripe import (
    StripeRequest,
    build_credential,
    network_id,
    parse_stripe_request,
    select_stripe_challenge,
)
from link_cli.mpp.problems import Problem, ProblemType, parse_problem
from link_cli.mpp.receipt import Receipt, format_payment_receipt, parse_payment_receipt

__all__ = [
    "Challenge",
    "Credential",
    "MppParseError",
    "Problem",
    "ProblemType",
    "Receipt",
    "StripeRequest",
    "build_credential",
    "format_authorization",
    "format_challenge",
    "format_payment_receipt",
    "format_www_authenticate",
    "network_id",
    "parse_authorization",
    "parse_challenge",
    "parse_payment_receipt",
    "parse_problem",
    "parse_stripe_request",
    "parse_www_authenticate",
    "replace",
    "select_stripe_challenge",
]
