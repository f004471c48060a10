"""Background delivery: threads of the wallet process draining the outbox.

Each thread claims one due row at a time (``store.notifications.claim_due``, a
compare-and-set, so threads and other wallet processes never take the same row), sends it
outside any transaction, then records the outcome: sent, due again after an exponential
backoff, or failed for good. A commit that enqueued rows wakes the threads at once; rows
written by other processes are found by polling every ``LINK_WALLET_NOTIFY_POLL_SECONDS``.
Nothing here runs on the agent's request path.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime

from ..domain.notifications import Notice, retry_delay
from ..settings import WalletSettings
from ..store import notifications as outbox
from ..store.crypto import DecryptionError, FieldCipher
from ..store.engine import Database
from .senders import DeliveryError, http_client, send_email, send_push, send_webhook

log = logging.getLogger("link_wallet.notify")

THREADS = 3
"""One per channel kind of a typical person, so no notice waits behind another."""


def approval_url(public_url: str, request_id: str) -> str:
    """The approval page of one request (as the API's ``approval_url``)."""
    return f"{public_url}/approve/{request_id}"


class DeliveryWorker:
    """Start with :meth:`start`, stop with :meth:`stop` (joins the threads)."""

    def __init__(
        self,
        settings: WalletSettings,
        database: Database,
        cipher: FieldCipher,
        now: Callable[[], datetime],
    ) -> None:
        self._settings = settings
        self._database = database
        self._cipher = cipher
        self._now = now
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._http = http_client()

    def wake(self) -> None:
        """Look for due rows now."""
        self._wake.set()

    def start(self) -> None:
        """Start the threads and listen for local commits."""
        outbox.set_wakeup(self.wake)
        for index in range(THREADS):
            thread = threading.Thread(
                target=self._run, name=f"link-wallet-notify-{index}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float = 5.0) -> None:
        """Stop after the deliveries in flight."""
        outbox.clear_wakeup(self.wake)
        self._stop.set()
        self._wake.set()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self._threads.clear()
        self._http.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                worked = self.run_once()
            except Exception:  # a broken database must not kill the thread for good
                log.exception("notification worker: unexpected error")
                worked = False
            if not worked:
                self._wake.wait(self._settings.notify.poll_seconds)
                self._wake.clear()

    def run_once(self) -> bool:
        """Claim and deliver one row; False when none was due."""
        with self._database.write_scope() as session:
            claimed = outbox.claim_due(session, now=self._now())
        if claimed is None:
            return False
        error: str | None = None
        permanent = False
        try:
            self._deliver(claimed)
        except DeliveryError as exc:
            error, permanent = str(exc), exc.permanent
        except Exception as exc:  # a sender bug is a failed attempt, not a dead worker
            log.exception("notification %s: sender failed", claimed.outbox_id)
            error = f"internal error: {type(exc).__name__}"
        now = self._now()
        delay = None if error is None or permanent else retry_delay(claimed.attempts)
        with self._database.write_scope() as session:
            outbox.record_result(
                session,
                claimed=claimed,
                error=error,
                now=now,
                retry_at=None if delay is None else now + delay,
            )
        if error is None:
            log.info(
                "notification %s sent by %s for %s (attempt %d)",
                claimed.outbox_id, claimed.kind, claimed.spend_request_id, claimed.attempts,
            )  # fmt: skip
        else:
            outcome = f"retrying in {int(delay.total_seconds())}s" if delay else "giving up"
            log.warning(
                "notification %s by %s for %s failed (attempt %d, %s): %s",
                claimed.outbox_id, claimed.kind, claimed.spend_request_id, claimed.attempts,
                outcome, error,
            )  # fmt: skip
        return True

    def _deliver(self, claimed: outbox.Claimed) -> None:
        settings = self._settings
        notice = Notice(
            spend_request_id=claimed.spend_request_id,
            amount=claimed.amount,
            currency=claimed.currency,
            merchant_name=claimed.merchant_name,
            merchant_url=claimed.merchant_url,
            agent_name=claimed.agent_name,
            context=claimed.context,
            credential_type=claimed.credential_type,
            # An auto-approval links to the policies page, where it can be revoked.
            approval_url=approval_url(settings.public_url, claimed.spend_request_id)
            if claimed.summary is None
            else settings.public_url.rstrip("/") + "/wallet/policies",
            created_at=claimed.created_at,
            summary=claimed.summary,
        )
        if claimed.kind == "email":
            send_email(settings.notify.smtp, claimed.target, notice)
        elif claimed.kind == "webpush":
            send_push(
                self._http,
                settings.notify,
                settings.secret_key,
                settings.public_url,
                claimed.target,
                claimed.data,
                notice,
            )
        elif claimed.kind == "webhook":
            try:
                secret = self._cipher.decrypt(claimed.channel_id, "secret", claimed.data["secret"])
            except (KeyError, DecryptionError):
                raise DeliveryError("the webhook's secret cannot be read", permanent=True) from None
            send_webhook(
                self._http,
                settings.notify,
                claimed.target,
                secret,
                notice.webhook_payload(claimed.event, claimed.outbox_id),
            )
        else:
            raise DeliveryError(f"unknown channel kind {claimed.kind!r}", permanent=True)
