"""Payment state machine: PENDING -> SUCCESS | FAILED | REVERSED, never charged twice.

1. The idempotency key is committed (UNIQUE, never pruned) together with a PENDING row and our
   own out_trade_no BEFORE the provider is called, so a crash or a retry can never start a second
   charge: a retried POST finds the row and answers its current state.
2. micropay is called once. SUCCESS -> paid; a definitive failure -> FAILED; anything unclear
   (USERPAYING, SYSTEMERROR, timeout, bad signature) stays PENDING and goes to a resolver thread.
3. The resolver follows the official rules (protocols.md §3.2): orderquery every
   ``query_interval_s`` until ``query_deadline_s`` after the charge; SUCCESS -> paid; otherwise
   reverse, not sooner than ``reverse_delay_s`` after the charge, again while recall=Y -> REVERSED.
4. On startup every PENDING row is handed to a resolver again (crash recovery).

Resolvers stop promptly on shutdown and leave the row PENDING for the next start.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import time
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, Self

from pydantic import BaseModel, Field, model_validator

from server import audit
from server.accounts import ledger
from server.db import Store
from server.dbapi import Conn, utc_now, write_tx
from server.errors import ApiError
from server.payments.codes import SUPPORTED_CHANNELS, detect_channel, mask_auth_code
from server.payments.qr_tables import qr_view_fields
from server.payments.wechat import MicropayAnswer, Outcome, QueryAnswer, ReverseAnswer
from server.registrations import IDEMPOTENCY_KEY_PATTERN
from server.resolvers import Resolvers
from server.schemas import RowId, Text
from server.settings import ServerSettings

if TYPE_CHECKING:
    from server.bills.service import BillService
    from server.payments.qr import QrPayments

logger = logging.getLogger(__name__)

# trade_state values after which the order will not become paid any more
_DEAD_STATES = frozenset({"CLOSED", "PAYERROR", "REFUND"})
_MAX_BACKOFF_S = 60.0

_MESSAGES = {
    "USERPAYING": "waiting for the payer to confirm on their phone",
    "NOTENOUGH": "insufficient balance",
    "AUTH_CODE_INVALID": "the payment code is invalid; refresh it and scan again",
    "AUTHCODEEXPIRE": "the payment code has expired; refresh it and scan again",
    "CHANNEL_UNSUPPORTED": "this wallet is not accepted here",
    # kiosk-shown QR payments (server/payments/qr.py)
    "USER_CANCELLED": "the payment was cancelled before it was paid",
    "QR_EXPIRED": "the QR code expired before it was paid",
    "QR_UNAVAILABLE": "no QR code could be made; pay with your payment code or at the cashier",
    "REFUNDED_ON_CANCEL": "the payment arrived as it was being cancelled and was returned at once",
}


class PayProvider(Protocol):
    def micropay(
        self, *, out_trade_no: str, total_fee: int, auth_code: str, body: str, device_info: str = ...
    ) -> MicropayAnswer: ...

    def orderquery(self, out_trade_no: str) -> QueryAnswer: ...

    def reverse(self, out_trade_no: str) -> ReverseAnswer: ...

    def close(self) -> None: ...


class PaymentRequest(BaseModel):
    idempotency_key: str = Field(pattern=IDEMPOTENCY_KEY_PATTERN)
    # What is paid: a registration fee, the self-pay share of a bill locked under this same key, or a
    # top-up of this patient's prepaid account (server/accounts/).
    registration_id: RowId | None = None
    bill_id: RowId | None = None
    top_up_patient_id: RowId | None = None
    # The provider's total_fee is a 32-bit int; anything above is no fee, and must not reach SQLite.
    amount_cents: int = Field(ge=0, le=2**31 - 1)
    # Any scanned text is accepted: only an 18-digit WeChat code is sent to the provider, anything
    # else is answered FAILED (AUTH_CODE_INVALID / CHANNEL_UNSUPPORTED) at once, which the kiosk shows
    # as "not a payment code" rather than as a request error.
    auth_code: Text = Field(min_length=1, max_length=64)
    kiosk_id: str = Field(pattern=r"^[A-Za-z0-9._-]{1,32}$")

    @model_validator(mode="after")
    def _one_target(self) -> Self:
        targets = (self.registration_id, self.bill_id, self.top_up_patient_id)
        if sum(t is not None for t in targets) != 1:
            raise ValueError("give exactly one of registration_id, bill_id and top_up_patient_id")
        return self


def _target(req: PaymentRequest) -> str:
    if req.bill_id is not None:
        return f"bill {req.bill_id}"
    if req.top_up_patient_id is not None:
        return f"top-up of patient {req.top_up_patient_id}"
    return f"registration {req.registration_id}"


def new_out_trade_no() -> str:
    """29 characters (the provider allows 32): time for humans reading bills, randomness for uniqueness."""
    return f"K{datetime.now():%y%m%d%H%M%S}{secrets.token_hex(8)}"


def _message(status: str, error_code: str | None) -> str:
    if status == "SUCCESS":
        return "payment confirmed"
    if status == "REVERSED":
        return "the payment was not confirmed and has been cancelled; any amount taken is returned"
    if error_code in _MESSAGES:
        return _MESSAGES[error_code]
    if status == "PENDING":
        return "payment result not known yet; checking with the provider"
    return "payment failed"


def payment_view(conn: Conn, row: Any) -> dict[str, Any]:
    reg = bill = None
    if row["registration_id"] is not None:
        reg = conn.execute("SELECT status FROM registrations WHERE id = ?", (row["registration_id"],)).fetchone()
    if row["bill_id"] is not None:
        bill = conn.execute("SELECT status FROM bills WHERE id = ?", (row["bill_id"],)).fetchone()
    return {
        "idempotency_key": row["idempotency_key"],
        "status": row["status"],
        "error_code": row["error_code"],
        "message": _message(row["status"], row["error_code"]),
        "registration_status": reg["status"] if reg else None,
        "registration_id": row["registration_id"],
        "bill_id": row["bill_id"],
        "bill_status": bill["status"] if bill else None,
        "top_up_patient_id": row["top_up_patient_id"],
        "channel": row["channel"],
        "amount_cents": row["amount_cents"],
        **qr_view_fields(conn, row["id"]),
    }


class PaymentService:
    def __init__(
        self,
        db: Store,
        providers: dict[str, PayProvider],
        settings: ServerSettings,
        bills: BillService | None = None,
    ) -> None:
        """``providers``: one per channel (``wechat``, ``alipay``); codes of other channels are refused."""
        self.db = db
        self.providers = providers
        self.settings = settings
        self.bills = bills
        self.qr: QrPayments | None = None  # kiosk-shown QR payments (server/payments/qr.py) register here
        self._resolvers = Resolvers("pay", lambda payment_id: self._resolve(payment_id))  # late-bound: tests patch it

    # -- API ---------------------------------------------------------------------------------------

    def _request_hash(self, req: PaymentRequest) -> str:
        # Keyed, because an 18-digit code with a known prefix is cheap to brute-force from a bare hash.
        target: list[Any] = [req.registration_id] if req.bill_id is None else ["bill", req.bill_id]
        if req.top_up_patient_id is not None:
            target = ["top_up", req.top_up_patient_id]
        text = json.dumps([*target, req.amount_cents, req.auth_code.strip(), req.kiosk_id])
        return hmac.new(self.settings.merchant_key.encode(), text.encode(), hashlib.sha256).hexdigest()

    def create(self, req: PaymentRequest) -> tuple[int, dict[str, Any]]:
        """Returns (HTTP status, body): 201 for a new payment, 200 for a replay."""
        auth_code = req.auth_code.strip()
        request_hash = self._request_hash(req)
        channel = detect_channel(auth_code)
        with self.db.connection() as conn, write_tx(conn):
            row = conn.execute(
                "SELECT * FROM payments WHERE idempotency_key = ?", (req.idempotency_key,)
            ).fetchone()
            if row is not None:
                if not hmac.compare_digest(row["request_hash"], request_hash):
                    raise ApiError(
                        422, "idempotency_key_reused", "this idempotency_key was used for another payment"
                    )
                return 200, payment_view(conn, row)
            if req.bill_id is not None:
                if self.bills is None:
                    raise ApiError(404, "bill_not_found", "bills are not served here")
                description = self.bills.check_payable(conn, req.bill_id, req.idempotency_key, req.amount_cents)[
                    "description"
                ]
            elif req.top_up_patient_id is not None:
                description = ledger.check_top_up(
                    conn, req.top_up_patient_id, req.amount_cents, req.idempotency_key, self.settings
                )
            else:
                reg = self._payable_registration(conn, req)
                description = f"挂号费-{reg['department_name_zh']}"
            status, error_code = "PENDING", None
            if channel not in SUPPORTED_CHANNELS or channel not in self.providers:
                # Nothing is sent to any provider, so this is definitive and safe to answer now.
                status = "FAILED"
                error_code = "AUTH_CODE_INVALID" if channel == "unknown" else "CHANNEL_UNSUPPORTED"
            now = utc_now()
            cur = conn.execute(
                "INSERT INTO payments(idempotency_key, request_hash, registration_id, bill_id, top_up_patient_id,"
                " amount_cents, auth_code_masked, channel, kiosk_id, status, out_trade_no, error_code, created_at,"
                " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id, out_trade_no",
                (
                    req.idempotency_key,
                    request_hash,
                    req.registration_id,
                    req.bill_id,
                    req.top_up_patient_id,
                    req.amount_cents,
                    mask_auth_code(auth_code),
                    channel,
                    req.kiosk_id,
                    status,
                    new_out_trade_no(),
                    error_code,
                    now,
                    now,
                ),
            )
            payment_id, out_trade_no = cur.fetchone()
            detail = {"payment_id": payment_id, "registration_id": req.registration_id, "status": status}
            if req.bill_id is not None:
                detail["bill_id"] = req.bill_id
            if req.top_up_patient_id is not None:
                detail["top_up_patient_id"] = req.top_up_patient_id
            # ids, amount and channel only: never the auth code, not even masked
            detail |= {"amount_cents": req.amount_cents, "channel": channel}
            audit.append(conn, f"kiosk:{req.kiosk_id}", "payment.created", detail)
        logger.info(
            "payment %d for %s, %d cents, %s code %s from kiosk %s: %s",
            payment_id,
            _target(req),
            req.amount_cents,
            channel,
            mask_auth_code(auth_code),
            req.kiosk_id,
            status,
        )
        if status == "PENDING":
            # Outside the transaction, and with no connection held: the key is durable before any
            # money can move, and a slow provider must not hold one of the pool's connections.
            try:
                answer = self.providers[channel].micropay(
                    out_trade_no=out_trade_no,
                    total_fee=req.amount_cents,
                    auth_code=auth_code,
                    body=description,
                    device_info=req.kiosk_id,
                )
            except Exception:  # an adapter bug must not strand the row: treat it as an unclear outcome
                logger.exception("micropay for payment %d raised", payment_id)
                answer = MicropayAnswer(Outcome.UNKNOWN, "PROVIDER_ERROR", "adapter error")
            self._apply_micropay(payment_id, answer)
        with self.db.connection() as conn:
            row = conn.execute("SELECT * FROM payments WHERE id = ?", (payment_id,)).fetchone()
            return 201, payment_view(conn, row)

    def _payable_registration(self, conn: Conn, req: PaymentRequest) -> Any:
        reg = conn.execute(
            "SELECT r.status, r.amount_cents, dep.name_zh AS department_name_zh FROM registrations r"
            " JOIN slots s ON s.id = r.slot_id JOIN doctors d ON d.code = s.doctor_code"
            " JOIN departments dep ON dep.code = d.department_code WHERE r.id = ?",
            (req.registration_id,),
        ).fetchone()
        if reg is None:
            raise ApiError(404, "registration_not_found", f"no registration {req.registration_id}")
        if reg["status"] == "paid":
            raise ApiError(409, "already_paid", "this registration is already paid")
        if reg["status"] == "cancelled":
            raise ApiError(409, "registration_cancelled", "this registration was cancelled")
        pending = conn.execute(
            "SELECT 1 FROM payments WHERE registration_id = ? AND status = 'PENDING'", (req.registration_id,)
        ).fetchone()
        if pending is not None:
            raise ApiError(409, "payment_pending", "another payment for this registration is still being resolved")
        if req.amount_cents != reg["amount_cents"]:
            raise ApiError(409, "amount_mismatch", f"the fee is {reg['amount_cents']} cents")
        return reg

    def get(self, idempotency_key: str) -> dict[str, Any] | None:
        with self.db.connection() as conn:
            row = conn.execute("SELECT * FROM payments WHERE idempotency_key = ?", (idempotency_key,)).fetchone()
            return payment_view(conn, row) if row is not None else None

    # -- state changes -----------------------------------------------------------------------------

    def _apply_micropay(self, payment_id: int, answer: MicropayAnswer) -> None:
        if answer.outcome is Outcome.SUCCESS:
            self._finish(payment_id, "SUCCESS", None, answer.raw, answer.transaction_id)
        elif answer.outcome is Outcome.FAILED:
            self._finish(payment_id, "FAILED", answer.code, answer.raw)
        else:
            with self.db.connection() as conn, write_tx(conn):
                conn.execute(
                    "UPDATE payments SET error_code = ?, response_json = ?, updated_at = ?"
                    " WHERE id = ? AND status = 'PENDING'",
                    (answer.code, json.dumps(answer.raw, ensure_ascii=False), utc_now(), payment_id),
                )
            self._start_resolver(payment_id)

    def _finish(
        self,
        payment_id: int,
        status: str,
        error_code: str | None,
        raw: dict[str, str],
        provider_trade_no: str | None = None,
    ) -> None:
        """Move a PENDING payment to its final state; a paid one pays its registration in the same transaction."""
        settlement_ref = None
        with self.db.connection() as conn, write_tx(conn):
            row = conn.execute(
                "UPDATE payments SET status = ?, error_code = ?, response_json = ?, updated_at = ?,"
                " provider_trade_no = coalesce(?, provider_trade_no) WHERE id = ? AND status = 'PENDING'"
                " RETURNING *",
                (status, error_code, json.dumps(raw, ensure_ascii=False), utc_now(), provider_trade_no, payment_id),
            ).fetchone()
            if row is None:
                return  # already final: a resolver and a request raced, the first one won
            bill_id, payment_key = row["bill_id"], row["idempotency_key"]
            if bill_id is not None and self.bills is not None:
                settlement_ref = self.bills.on_payment_final(conn, bill_id, payment_key, status)
            detail = {"payment_id": payment_id, "status": status, "error_code": error_code}
            audit.append(conn, "server", "payment.final", detail)
            if status == "SUCCESS" and row["top_up_patient_id"] is not None:
                # In this same transaction: a paid top-up is credited exactly when it becomes SUCCESS.
                ledger.credit_top_up(conn, row)
            if status == "SUCCESS":
                conn.execute(
                    "UPDATE registrations SET status = 'paid', updated_at = ? WHERE id ="
                    " (SELECT registration_id FROM payments WHERE id = ?) AND status = 'unpaid'",
                    (utc_now(), payment_id),
                )
        if bill_id is not None and self.bills is not None:
            self.bills.after_payment_final(settlement_ref, payment_key, status)
        logger.info("payment %d -> %s %s", payment_id, status, error_code or "")

    # -- resolver ----------------------------------------------------------------------------------

    def resume_pending(self) -> int:
        """Hand every PENDING payment (left by a crash or a shutdown) to a resolver."""
        with self.db.connection() as conn:
            ids = [r[0] for r in conn.execute("SELECT id FROM payments WHERE status = 'PENDING' ORDER BY id")]
        for payment_id in ids:
            self._start_resolver(payment_id)
        if ids:
            logger.info("resuming %d pending payment(s)", len(ids))
        return len(ids)

    def _start_resolver(self, payment_id: int) -> None:
        self._resolvers.start(payment_id)

    def pending_resolvers(self) -> int:
        return self._resolvers.pending()

    def shutdown(self, timeout: float = 5.0) -> None:
        self._resolvers.shutdown(timeout)

    def _sleep(self, seconds: float) -> bool:
        """Wait; False when the service is shutting down."""
        return self._resolvers.sleep(seconds)

    def _resolve(self, payment_id: int) -> None:
        if self.qr is not None and self.qr.owns(payment_id):
            self.qr.resolve(payment_id)  # a QR order is watched and closed, never reversed
            return
        with self.db.connection() as conn:
            row = conn.execute(
                "SELECT status, out_trade_no, error_code, created_at, channel FROM payments WHERE id = ?", (payment_id,)
            ).fetchone()
        if row is None or row["status"] != "PENDING":
            return
        out_trade_no = row["out_trade_no"]
        provider = self.providers.get(row["channel"])
        if provider is None:
            logger.error("payment %d: no provider for channel %s; left PENDING", payment_id, row["channel"])
            return
        reason = row["error_code"] or "NOT_CONFIRMED"
        charged_at = datetime.fromisoformat(row["created_at"]).timestamp()
        s = self.settings

        # Query phase: at least one query, even when resuming long after the deadline.
        while True:
            if not self._sleep(s.query_interval_s):
                return
            q = provider.orderquery(out_trade_no)
            if q.trade_state == "SUCCESS":
                self._finish(payment_id, "SUCCESS", None, q.raw, q.transaction_id)
                return
            if q.trade_state == "REVOKED":
                self._finish(payment_id, "REVERSED", reason, q.raw)
                return
            if q.trade_state in _DEAD_STATES or time.time() >= charged_at + s.query_deadline_s:
                break

        # Reverse phase: never sooner than reverse_delay_s after the charge; again while recall=Y.
        attempt = 0
        while True:
            if not self._sleep(charged_at + s.reverse_delay_s - time.time()):
                return
            r = provider.reverse(out_trade_no)
            if r.reversed:
                self._finish(payment_id, "REVERSED", reason, r.raw)
                return
            if r.recall or r.transport_error:
                attempt += 1
                backoff = s.query_interval_s * (2 ** min(attempt - 1, 6) if r.transport_error else 1)
                if not self._sleep(min(backoff, _MAX_BACKOFF_S)):
                    return
                continue
            if r.code == "ORDERNOTEXIST":
                # the charge never reached the provider (e.g. a crash right after the row was written)
                self._finish(payment_id, "REVERSED", reason, r.raw)
                return
            # A definitive refusal to reverse: if the money did arrive, honour it rather than strand it.
            q = provider.orderquery(out_trade_no)
            if q.trade_state == "SUCCESS":
                self._finish(payment_id, "SUCCESS", None, q.raw, q.transaction_id)
                return
            logger.error(
                "payment %d (%s): reverse refused (%s), trade_state %s; needs manual reconciliation",
                payment_id,
                out_trade_no,
                r.code,
                q.trade_state,
            )
            self._finish(payment_id, "REVERSED", r.code or reason, r.raw)
            return
