"""Paying by the patient's payment code, for any feature: a pure step for the flow, a loop for the worker.

Flow side (pure, no I/O): keep a :class:`CodePay` in the flow. At the pay step, hand each scanned
code to :meth:`CodePay.scan`; it answers the code to pay with (emit your own pay command) or None
with ``message`` set ("not a payment code", or a scan while a payment is in flight). The worker's
answers go to :meth:`CodePay.progress` and :meth:`CodePay.finish`, which set ``phase`` and the
message key the screen shows::

    def scanned(self, code):                       # FeatureFlow hook
        auth = self.pay.scan(code)
        self.message = self.pay.message
        if auth is None:
            return []
        self.step = "topup.paying"                 # in UNINTERRUPTIBLE
        return [TopUp(self.txn_id, key, amount, auth)]

Worker side: :func:`pay_until_final` is the registration service's pattern made reusable. The
journal row must exist (``journal.create``); the key is written to it BEFORE the request leaves.
Then: one request; ``ServerUnavailable`` on it means nothing was charged (``NOT_SENT``: the offline
policy sends the patient to the cashier); a ``BusinessError`` is a definite refusal (``REFUSED``
with the server's code, nothing charged); anything unclear is polled by key until final or until
``PaySettings.deadline_s``; a key the server never saw is sent again with the SAME key. It works
with any answer that has ``status`` and ``error_code`` (PaymentResult, TopUpResult, ...).
"""

from __future__ import annotations

import enum
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from devices.scanner import is_payment_code
from offline_cache import journal as J
from offline_cache.journal import Journal
from sync.client import BusinessError, ServerError, ServerUnavailable

log = logging.getLogger(__name__)

FINAL = frozenset({"SUCCESS", "FAILED", "REVERSED"})


class Answer(Protocol):
    """What every payment answer from the server has."""

    @property
    def status(self) -> str: ...

    @property
    def error_code(self) -> str | None: ...


R = TypeVar("R", bound=Answer)


# ---- flow side


class PayPhase(enum.StrEnum):
    WAITING = "waiting"  # for the payment code
    PAYING = "paying"  # sent: the server and the provider are deciding
    PAID = "paid"
    FAILED = "failed"  # definitive, nothing charged: another code may be tried (after retry())
    UNKNOWN = "unknown"  # the kiosk stopped waiting: the server settles it (never guessed)
    NOT_SENT = "not_sent"  # the server could not be reached: nothing charged, pay at the cashier


@dataclass(frozen=True)
class PayOutcome:
    """How a payment ended, from the kiosk's side. ``status``: SUCCESS, FAILED, REVERSED,
    REFUSED (a BusinessError: the server refused before charging), UNKNOWN, NOT_SENT."""

    status: str
    error_code: str | None = None
    result: Any = None  # the server's last answer, when there was one

    @property
    def charged(self) -> bool:
        return self.status == "SUCCESS"


@dataclass
class CodePay:
    """The pay-by-code step's state inside a feature flow."""

    phase: PayPhase = PayPhase.WAITING
    message: str = ""
    error_code: str | None = None

    @property
    def in_flight(self) -> bool:
        return self.phase is PayPhase.PAYING

    def scan(self, code: str) -> str | None:
        """The code to pay with, or None (see ``message``) when it cannot be used now."""
        if self.phase is not PayPhase.WAITING:
            log.info("payment code ignored: payment %s", self.phase)
            return None
        if not is_payment_code(code):
            self.message = "pay.not_payment_code"
            return None
        self.phase, self.message, self.error_code = PayPhase.PAYING, "pay.waiting", None
        return code.strip()

    def progress(self, answer: Answer) -> None:
        """An intermediate answer (PENDING): the payer is asked to confirm on the phone."""
        if self.phase is PayPhase.PAYING:
            self.message = "pay.userpaying"

    def finish(self, outcome: PayOutcome) -> None:
        self.error_code = outcome.error_code
        if outcome.status == "SUCCESS":
            self.phase, self.message = PayPhase.PAID, "pay.success"
        elif outcome.status in ("FAILED", "REVERSED"):
            self.phase = PayPhase.FAILED
            self.message = f"pay.failed.{outcome.error_code}" if outcome.error_code else "pay.failed"
        elif outcome.status == "REFUSED":
            self.phase, self.message = PayPhase.FAILED, f"server.rejected.{outcome.error_code}"
        elif outcome.status == "NOT_SENT":
            self.phase, self.message = PayPhase.NOT_SENT, "pay.offline_cashier"
        else:
            self.phase, self.message = PayPhase.UNKNOWN, "pay.unknown"

    def retry(self) -> None:
        """After a definite failure: wait for another code."""
        if self.phase is PayPhase.FAILED:
            self.phase = PayPhase.WAITING

    def reset(self) -> None:
        self.phase, self.message, self.error_code = PayPhase.WAITING, "", None


# ---- worker side


class Timings(Protocol):
    """How often to ask and when to stop waiting (``ServiceParts.pay``, a PaySettings)."""

    poll_interval_s: float
    deadline_s: float


def pay_until_final(
    *,
    journal: Journal,
    txn_id: str,
    key: str,
    amount_cents: int,
    send: Callable[[], R],
    query: Callable[[], R | None],
    timings: Timings,
    progress: Callable[[R], None] = lambda _r: None,
    unreachable: Callable[[ServerError], None] = lambda _e: None,
    sleep: Callable[[float], None] = time.sleep,
) -> PayOutcome:
    """Send one payment and follow it to a final answer; every step journalled (see module doc).

    ``send`` makes the request with ``key``; ``query`` asks the server about ``key`` (None: it never
    saw it). ``unreachable`` is told when the server could not be reached (the offline policy).
    """
    # The key is durable before the request leaves: after a crash we can still ask about it.
    journal.update(txn_id, J.PAYING, f"payment {key}", payment_key=key, amount_cents=amount_cents)
    try:
        result: R | None = send()
    except BusinessError as err:
        journal.update(txn_id, J.PAYMENT_FAILED, err.code, payment_status="REFUSED", error_code=err.code)
        return PayOutcome("REFUSED", err.code)
    except ServerUnavailable as err:
        # Never connected, so nothing can have been charged: a definite "not paid".
        unreachable(err)
        journal.update(txn_id, J.PAYMENT_FAILED, "server unreachable", payment_status="NOT_SENT")
        return PayOutcome("NOT_SENT", err.code)
    except ServerError as err:
        log.info("payment %s: outcome of the request unknown (%s)", key, err.code)
        result = None
    deadline = time.monotonic() + timings.deadline_s
    while (result is None or result.status not in FINAL) and time.monotonic() < deadline:
        if result is not None:
            journal.update(txn_id, J.PAYMENT_PENDING, result.error_code or "", payment_status="PENDING")
            progress(result)
        sleep(timings.poll_interval_s)
        try:
            result = query()
            if result is None:
                # The server has never seen this key, so nothing was charged: send it again.
                result = send()
        except BusinessError as err:
            journal.update(txn_id, J.PAYMENT_FAILED, err.code, payment_status="REFUSED", error_code=err.code)
            return PayOutcome("REFUSED", err.code)
        except ServerError as err:  # still unknown: keep asking until the deadline
            log.info("payment %s: status query failed (%s)", key, err.code)
            result = None
    if result is None or result.status not in FINAL:
        journal.update(txn_id, J.PAYMENT_UNKNOWN, "kiosk deadline", payment_status="UNKNOWN")
        return PayOutcome("UNKNOWN", None, result)
    state = J.PAID if result.status == "SUCCESS" else J.PAYMENT_FAILED
    journal.update(txn_id, state, result.error_code or "", payment_status=result.status)
    return PayOutcome(result.status, result.error_code, result)
