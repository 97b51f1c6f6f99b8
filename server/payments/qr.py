"""Kiosk-shown QR payments (the patient scans the kiosk's code): create, watch, cancel, never lose one.

A QR payment is a ``payments`` row like a scanned-code payment - the same idempotency key rules,
the same PENDING -> SUCCESS | FAILED | REVERSED states, the same bill / registration hooks - plus a
``payment_qr`` row (server/payments/qr_tables.py) with the provider order's code and expiry.

1. ``create``: the row (PENDING) and the key are committed BEFORE the provider is called. Then the
   provider order is made (WeChat Native / Alipay precreate) with an expiry of ``qr_ttl_s``. An
   unclear answer is asked again once with the same out_trade_no (both providers answer the same
   code again); still unclear, the order is closed rather than guessed at. A definitive refusal is
   FAILED (nothing can be paid).
2. A resolver thread (the payment service's, so it stops on shutdown and resumes after a crash)
   queries every ``query_interval_s``: paid -> SUCCESS; scanned -> shown as "scanned"; at expiry it
   closes the order.
3. ``cancel`` (the patient pressed cancel, or the kiosk's countdown ran out) queries first, then
   closes. Paid meanwhile -> the answer is SUCCESS, never "cancelled". A close the provider refuses
   because the order is paid -> SUCCESS after a confirming query. A close without a definitive
   answer leaves the payment PENDING ("closing") and the resolver keeps at it, backing off.

Final FAILED codes: ``USER_CANCELLED``, ``QR_EXPIRED``, ``QR_UNAVAILABLE`` (no code could be made),
or the provider's refusal. ``REVERSED`` with ``REFUNDED_ON_CANCEL``: Alipay took the money in the
instant of the cancel and gave it straight back.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, Self

from pydantic import BaseModel, Field, model_validator

from server import audit
from server.db import Store
from server.dbapi import Conn, utc_now, write_tx
from server.errors import ApiError
from server.payments.qr_providers import CloseResult, QrClosed, QrProvider, QrState
from server.payments.service import PaymentRequest, PaymentService, new_out_trade_no, payment_view
from server.payments.wechat import Outcome
from server.registrations import IDEMPOTENCY_KEY_PATTERN
from server.schemas import RowId
from server.settings import ServerSettings

logger = logging.getLogger(__name__)

_MAX_CLOSE_BACKOFF_S = 60.0


class QrPaymentRequest(BaseModel):
    idempotency_key: str = Field(pattern=IDEMPOTENCY_KEY_PATTERN)
    # What is paid, as for POST /payments: a registration fee, or the self-pay share of the bills
    # locked under this same key (bill_id names any of them).
    registration_id: RowId | None = None
    bill_id: RowId | None = None
    amount_cents: int = Field(ge=1, le=2**31 - 1)
    provider: Literal["wechat", "alipay"]
    kiosk_id: str = Field(pattern=r"^[A-Za-z0-9._-]{1,32}$")

    @model_validator(mode="after")
    def _one_target(self) -> Self:
        if (self.registration_id is None) == (self.bill_id is None):
            raise ValueError("give exactly one of registration_id and bill_id")
        return self


def _now() -> datetime:
    """A function so tests can move the clock."""
    return datetime.now(UTC)


class QrPayments:
    def __init__(
        self, db: Store, payments: PaymentService, providers: dict[str, QrProvider], settings: ServerSettings
    ) -> None:
        self.db = db
        self.payments = payments
        self.providers = providers
        self.settings = settings
        payments.qr = self  # the payment service's resolver threads hand QR rows to resolve()

    # -- API ---------------------------------------------------------------------------------------

    def _request_hash(self, req: QrPaymentRequest) -> str:
        target: list[Any] = [req.registration_id] if req.bill_id is None else ["bill", req.bill_id]
        text = json.dumps(["qr", *target, req.amount_cents, req.provider, req.kiosk_id])
        return hmac.new(self.settings.merchant_key.encode(), text.encode(), hashlib.sha256).hexdigest()

    def create(self, req: QrPaymentRequest) -> tuple[int, dict[str, Any]]:
        """(201, view) for a new QR payment, (200, view) for a retry with the same key."""
        request_hash = self._request_hash(req)
        if req.provider not in self.providers:
            raise ApiError(422, "provider_unavailable", f"{req.provider} QR payments are not offered here")
        with self.db.connection() as conn, write_tx(conn):
            row = conn.execute("SELECT * FROM payments WHERE idempotency_key = ?", (req.idempotency_key,)).fetchone()
            if row is not None:
                if not hmac.compare_digest(row["request_hash"], request_hash):
                    raise ApiError(422, "idempotency_key_reused", "this idempotency_key was used for another payment")
                return 200, payment_view(conn, row)
            description = self._check_payable(conn, req)
            now = _now()
            expires_at = (now + timedelta(seconds=self.settings.qr_ttl_s)).isoformat(timespec="seconds")
            payment_id, out_trade_no = conn.execute(
                "INSERT INTO payments(idempotency_key, request_hash, registration_id, bill_id, amount_cents,"
                " auth_code_masked, channel, kiosk_id, status, out_trade_no, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, '', ?, ?, 'PENDING', ?, ?, ?) RETURNING id, out_trade_no",
                (
                    req.idempotency_key,
                    request_hash,
                    req.registration_id,
                    req.bill_id,
                    req.amount_cents,
                    req.provider,
                    req.kiosk_id,
                    new_out_trade_no(),
                    utc_now(),
                    utc_now(),
                ),
            ).fetchone()
            conn.execute(
                "INSERT INTO payment_qr(payment_id, provider, expires_at, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (payment_id, req.provider, expires_at, utc_now(), utc_now()),
            )
            detail: dict[str, Any] = {"payment_id": payment_id, "method": "qr", "status": "PENDING"}
            detail |= {"registration_id": req.registration_id, "bill_id": req.bill_id}
            detail |= {"amount_cents": req.amount_cents, "channel": req.provider}
            audit.append(conn, f"kiosk:{req.kiosk_id}", "payment.created", detail)
        logger.info(
            "QR payment %d (%s) for %s, %d cents, from kiosk %s",
            payment_id,
            req.provider,
            f"bill {req.bill_id}" if req.bill_id is not None else f"registration {req.registration_id}",
            req.amount_cents,
            req.kiosk_id,
        )
        self._make_order(payment_id, out_trade_no, req, description, datetime.fromisoformat(expires_at))
        return 201, self._view(req.idempotency_key)

    def _check_payable(self, conn: Conn, req: QrPaymentRequest) -> str:
        if req.bill_id is not None:
            if self.payments.bills is None:
                raise ApiError(404, "bill_not_found", "bills are not served here")
            check = self.payments.bills.check_payable(conn, req.bill_id, req.idempotency_key, req.amount_cents)
            return str(check["description"])
        as_payment = PaymentRequest(
            idempotency_key=req.idempotency_key,
            registration_id=req.registration_id,
            amount_cents=req.amount_cents,
            auth_code="QR",
            kiosk_id=req.kiosk_id,
        )
        reg = self.payments._payable_registration(conn, as_payment)
        return f"挂号费-{reg['department_name_zh']}"

    def _make_order(
        self, payment_id: int, out_trade_no: str, req: QrPaymentRequest, subject: str, expires_at: datetime
    ) -> None:
        provider = self.providers[req.provider]
        answer = None
        for _attempt in range(2):  # an unclear answer is asked once more with the SAME out_trade_no
            answer = provider.create(
                out_trade_no=out_trade_no,
                total_cents=req.amount_cents,
                subject=subject,
                expires_at=expires_at,
                device_info=req.kiosk_id,
            )
            if answer.outcome is not Outcome.UNKNOWN:
                break
        assert answer is not None
        if answer.outcome is Outcome.SUCCESS:
            with self.db.connection() as conn, write_tx(conn):
                conn.execute(
                    "UPDATE payment_qr SET code_url = ?, updated_at = ? WHERE payment_id = ?",
                    (answer.code_url, utc_now(), payment_id),
                )
            self.payments._start_resolver(payment_id)
        elif answer.outcome is Outcome.FAILED:
            # Refused outright: no order exists that could be paid.
            self.payments._finish(payment_id, "FAILED", answer.code or "QR_UNAVAILABLE", answer.raw)
        else:
            # Maybe an order exists, maybe not; the patient never saw a code. Close it to be sure.
            logger.warning("QR payment %d: no clear answer from %s; closing the order", payment_id, req.provider)
            self._request_cancel(payment_id)
            if not self._close(payment_id, out_trade_no, provider, "QR_UNAVAILABLE"):
                self.payments._start_resolver(payment_id)

    def cancel(self, idempotency_key: str) -> dict[str, Any]:
        """Close the QR order; the payment's view afterwards (SUCCESS if it was paid meanwhile)."""
        with self.db.connection() as conn:
            row = conn.execute(
                "SELECT p.id, p.status, p.out_trade_no, q.provider, q.expires_at FROM payments p"
                " LEFT JOIN payment_qr q ON q.payment_id = p.id WHERE p.idempotency_key = ?",
                (idempotency_key,),
            ).fetchone()
        if row is None:
            raise ApiError(404, "not_found", "no payment with this idempotency_key")
        if row["provider"] is None:
            # A scanned-code payment is settled by the server (query, then reverse), never by the kiosk.
            raise ApiError(409, "not_cancellable", "only a QR payment can be cancelled")
        if row["status"] == "PENDING":
            # A kiosk closing a code whose time is up (its countdown ran out) is an expiry, not a cancel.
            expired = _now() >= datetime.fromisoformat(row["expires_at"])
            reason = "QR_EXPIRED" if expired else "USER_CANCELLED"
            self._request_cancel(row["id"])
            if not self._close(row["id"], row["out_trade_no"], self.providers[row["provider"]], reason):
                self.payments._start_resolver(row["id"])  # still unclear: the resolver keeps closing
        return self._view(idempotency_key)

    # -- resolver ----------------------------------------------------------------------------------

    def owns(self, payment_id: int) -> bool:
        with self.db.connection() as conn:
            return conn.execute("SELECT 1 FROM payment_qr WHERE payment_id = ?", (payment_id,)).fetchone() is not None

    def resolve(self, payment_id: int) -> None:
        """Watch one QR payment until it is final (or the server stops); runs in a resolver thread."""
        s = self.settings
        close_attempts = 0
        while True:
            with self.db.connection() as conn:
                row = conn.execute(
                    "SELECT p.status, p.out_trade_no, q.provider, q.code_url, q.expires_at, q.provider_state,"
                    " q.cancel_requested_at FROM payments p JOIN payment_qr q ON q.payment_id = p.id WHERE p.id = ?",
                    (payment_id,),
                ).fetchone()
            if row is None or row["status"] != "PENDING":
                return
            provider = self.providers.get(row["provider"])
            if provider is None:
                logger.error("QR payment %d: no provider %s; left PENDING", payment_id, row["provider"])
                return
            otn = row["out_trade_no"]
            expired = _now() >= datetime.fromisoformat(row["expires_at"])
            if row["cancel_requested_at"] is not None or expired or row["code_url"] is None:
                reason = "USER_CANCELLED" if row["cancel_requested_at"] is not None else "QR_EXPIRED"
                if row["code_url"] is None:
                    reason = "QR_UNAVAILABLE"
                if self._close(payment_id, otn, provider, reason):
                    return
                close_attempts += 1
                backoff = min(s.query_interval_s * 2 ** min(close_attempts - 1, 6), _MAX_CLOSE_BACKOFF_S)
                if not self.payments._sleep(backoff):
                    return
                continue
            q = provider.query(otn)
            if q.state is QrState.PAID:
                self.payments._finish(payment_id, "SUCCESS", None, q.raw, q.transaction_id)
                return
            if q.state is QrState.CLOSED:
                # Closed at the provider (its own expiry): nothing more can be paid.
                self.payments._finish(payment_id, "FAILED", "QR_EXPIRED", q.raw)
                return
            if q.state is QrState.SCANNED and row["provider_state"] == "created":
                self._set_state(payment_id, "scanned")
            if not self.payments._sleep(min(s.query_interval_s, self._until(row["expires_at"]))):
                return

    # -- internals ---------------------------------------------------------------------------------

    @staticmethod
    def _until(expires_at: str) -> float:
        """Seconds to the expiry (at least a tick), so the resolver closes the order on time."""
        return max(0.05, (datetime.fromisoformat(expires_at) - _now()).total_seconds())

    def _request_cancel(self, payment_id: int) -> None:
        with self.db.connection() as conn, write_tx(conn):
            conn.execute(
                "UPDATE payment_qr SET cancel_requested_at = coalesce(cancel_requested_at, ?), updated_at = ?"
                " WHERE payment_id = ?",
                (utc_now(), utc_now(), payment_id),
            )

    def _set_state(self, payment_id: int, state: str) -> None:
        with self.db.connection() as conn, write_tx(conn):
            conn.execute(
                "UPDATE payment_qr SET provider_state = ?, updated_at = ? WHERE payment_id = ?",
                (state, utc_now(), payment_id),
            )

    def _close(self, payment_id: int, out_trade_no: str, provider: QrProvider, reason: str) -> bool:
        """Query, then close; True when the payment became final (paid, closed or refunded)."""
        q = provider.query(out_trade_no)
        if q.state is QrState.PAID:
            # Paid before the close: honoured, whatever the patient pressed.
            self.payments._finish(payment_id, "SUCCESS", None, q.raw, q.transaction_id)
            return True
        self._set_state(payment_id, "closing")
        closed: QrClosed = provider.close(out_trade_no)
        if closed.result is CloseResult.CLOSED:
            self.payments._finish(payment_id, "FAILED", reason, closed.raw)
            return True
        if closed.result is CloseResult.REFUNDED:
            self.payments._finish(payment_id, "REVERSED", closed.code or reason, closed.raw)
            return True
        if closed.result is CloseResult.PAID:
            confirm = provider.query(out_trade_no)
            if confirm.state is QrState.PAID:
                self.payments._finish(payment_id, "SUCCESS", None, confirm.raw, confirm.transaction_id)
                return True
        logger.warning("QR payment %d: close not confirmed (%s); will retry", payment_id, closed.code)
        return False

    def _view(self, idempotency_key: str) -> dict[str, Any]:
        with self.db.connection() as conn:
            row = conn.execute("SELECT * FROM payments WHERE idempotency_key = ?", (idempotency_key,)).fetchone()
            return payment_view(conn, row)

    def pending_count(self) -> int:
        """QR payments not final yet (for tests and the operator's overview)."""
        with self.db.connection() as conn:
            return int(
                conn.execute(
                    "SELECT count(*) FROM payment_qr q JOIN payments p ON p.id = q.payment_id"
                    " WHERE p.status = 'PENDING'"
                ).fetchone()[0]
            )
