"""Refund state machine: requested -> refunded | failed, or -> pending -> refunded | failed; never twice.

1. The refund key is committed (UNIQUE, never pruned) with a ``requested`` row and our own
   ``out_refund_no`` BEFORE the provider is called, in the same transaction as the check that the
   amount fits what is left refundable (the sum of the payment's refunds that are not ``failed``):
   a retry finds the row and answers its state, and two refunds can never together exceed the payment.
2. The provider's refund is called once. A confirmed refund -> ``refunded``; a definitive refusal
   -> ``failed``; anything else (accepted but still moving, timeout, SYSTEMERROR, bad signature) ->
   ``pending``. An accepted refund is queried once at once (the usual case answers ``refunded``).
3. A resolver thread per pending refund queries the provider with backoff, never guesses: refunded
   -> ``refunded``; closed -> ``failed``; "no such refund" -> the refund is asked again with the SAME
   out_refund_no (the providers deduplicate on it, so this can never refund twice).
4. On startup every ``requested`` or ``pending`` row is handed to a resolver (crash recovery).

A refund that ends ``failed`` files a staff work item (kind ``refund``): someone wanted money back
and did not get it. Refunds move money only: what was paid for (a registration, a bill) is changed
by the caller, e.g. server/refunds/registration.py for 退号.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field

from server import audit
from server.auth.kiosks import KIOSK_ID_PATTERN
from server.db import Store
from server.dbapi import Conn, utc_now, write_tx
from server.errors import ApiError
from server.reconcile.matcher import LedgerEntry, china_day_bounds_utc
from server.reconcile.records import PROVIDERS
from server.refunds.providers import RefundProvider, RefundReply
from server.registrations import IDEMPOTENCY_KEY_PATTERN
from server.resolvers import Resolvers
from server.schemas import Text
from server.settings import ServerSettings

logger = logging.getLogger(__name__)

FINAL = frozenset({"refunded", "failed"})
OPEN = ("requested", "pending")
_MAX_BACKOFF_S = 60.0
STAFF_PATTERN = r"^[A-Za-z0-9._-]{1,64}$"  # a staff username (server/auth/staff.py)

# (conn, kind, source, reference, detail): server.dashboard.tables.add_work_item
WorkItemSink = Callable[..., object]

_MESSAGES = {
    "requested": "refund recorded; waiting for the payment provider",
    "pending": "refund accepted or not confirmed yet; checking with the payment provider",
    "refunded": "refunded to the original payment account",
    "failed": "the refund could not be made automatically; staff will refund by hand",
}


class RefundRequest(BaseModel):
    refund_key: str = Field(pattern=IDEMPOTENCY_KEY_PATTERN)
    amount_cents: int = Field(gt=0, le=2**31 - 1)
    reason: Text = Field(min_length=1, max_length=80)
    kiosk_id: str = Field(pattern=KIOSK_ID_PATTERN)
    # A cashier refund carries the supervisor who approved it (checked by the cashier's sign-in).
    approved_by: str | None = Field(default=None, pattern=STAFF_PATTERN)


def request_hash(*parts: object) -> str:
    """What a refund key was first used for; nothing secret in it (ids, amounts, reasons)."""
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False).encode("utf-8")).hexdigest()


def new_out_refund_no() -> str:
    """29 characters (both providers allow 64): time for humans reading bills, randomness for uniqueness."""
    return f"F{datetime.now():%y%m%d%H%M%S}{secrets.token_hex(8)}"


def refunds_taken(conn: Conn, payment_id: int) -> int:
    """Cents of the payment refunded or on their way back (everything but failed refunds)."""
    row = conn.execute(
        "SELECT coalesce(sum(amount_cents), 0) FROM refunds WHERE payment_id = ? AND status <> 'failed'",
        (payment_id,),
    ).fetchone()
    return int(row[0])


def refund_view(conn: Conn, row: Any) -> dict[str, Any]:
    pay = conn.execute(
        "SELECT idempotency_key, amount_cents FROM payments WHERE id = ?", (row["payment_id"],)
    ).fetchone()
    return {
        "refund_key": row["refund_key"],
        "payment_key": pay["idempotency_key"],
        "registration_id": row["registration_id"],
        "status": row["status"],
        "amount_cents": row["amount_cents"],
        "payment_amount_cents": pay["amount_cents"],
        "refundable_cents": pay["amount_cents"] - refunds_taken(conn, row["payment_id"]),
        "channel": row["channel"],
        "reason": row["reason"],
        "requested_by": row["requested_by"],
        "approved_by": row["approved_by"],
        "error_code": row["error_code"],
        "message": _MESSAGES[row["status"]],
        "created_at": row["created_at"],
        "refunded_at": row["refunded_at"],
    }


def refund_ledger(conn: Conn, day: date) -> list[LedgerEntry]:
    """Our refunds of one bill day (China time, by when they were asked for) for reconciliation."""
    start, end = china_day_bounds_utc(day)
    rows = conn.execute(
        "SELECT r.channel, p.out_trade_no, r.out_refund_no, r.amount_cents, r.status FROM refunds r"
        " JOIN payments p ON p.id = r.payment_id WHERE r.created_at >= ? AND r.created_at < ? ORDER BY r.id",
        (start.isoformat(timespec="milliseconds"), end.isoformat(timespec="milliseconds")),
    ).fetchall()
    status = {"refunded": "SUCCESS", "failed": "FAILED"}
    return [
        LedgerEntry(
            provider=row["channel"],
            out_trade_no=row["out_trade_no"],
            amount_cents=int(row["amount_cents"]),
            status=status.get(row["status"], "PENDING"),
            kind="refund",
            refund_no=row["out_refund_no"],
        )
        for row in rows
        if row["channel"] in PROVIDERS
    ]


class RefundService:
    def __init__(
        self,
        db: Store,
        providers: Mapping[str, RefundProvider],
        settings: ServerSettings,
        work_items: WorkItemSink | None = None,
        clock: Callable[[], datetime] = datetime.now,
    ) -> None:
        """``providers``: one per payment channel; ``clock``: the hospital's local wall time (windows)."""
        self.db = db
        self.providers = dict(providers)
        self.settings = settings
        self.work_items = work_items
        self.clock = clock
        self._resolvers = Resolvers("refund", lambda refund_id: self._resolve(refund_id))  # late-bound

    # -- API ---------------------------------------------------------------------------------------

    def create(self, payment_key: str, req: RefundRequest) -> tuple[int, dict[str, Any]]:
        """Refund (part of) a paid payment: (201, view) for a new refund, (200, view) for a replay."""
        digest = request_hash("payment", payment_key, req.amount_cents, req.reason, req.kiosk_id, req.approved_by)
        with self.db.connection() as conn, write_tx(conn):
            existing = self.replay(conn, req.refund_key, digest)
            if existing is not None:
                return 200, existing
            payment = conn.execute("SELECT * FROM payments WHERE idempotency_key = ?", (payment_key,)).fetchone()
            if payment is None:
                raise ApiError(404, "payment_not_found", "no payment with this key")
            refund_id = self.record(
                conn,
                payment,
                refund_key=req.refund_key,
                digest=digest,
                amount_cents=req.amount_cents,
                reason=req.reason,
                kiosk_id=req.kiosk_id,
                approved_by=req.approved_by,
            )
        self.submit(refund_id)
        return 201, self.view(refund_id)

    def get(self, refund_key: str) -> dict[str, Any] | None:
        with self.db.connection() as conn:
            row = conn.execute("SELECT * FROM refunds WHERE refund_key = ?", (refund_key,)).fetchone()
            return refund_view(conn, row) if row is not None else None

    def view(self, refund_id: int) -> dict[str, Any]:
        with self.db.connection() as conn:
            return refund_view(conn, conn.execute("SELECT * FROM refunds WHERE id = ?", (refund_id,)).fetchone())

    # -- recording (in the caller's write transaction) ---------------------------------------------

    @staticmethod
    def replay(conn: Conn, refund_key: str, digest: str) -> dict[str, Any] | None:
        """The refund already made under this key (None: a new key); 422 when it was made for something else."""
        row = conn.execute("SELECT * FROM refunds WHERE refund_key = ?", (refund_key,)).fetchone()
        if row is None:
            return None
        if row["request_hash"] != digest:
            raise ApiError(422, "idempotency_key_reused", "this refund_key was used for another refund")
        return refund_view(conn, row)

    def record(
        self,
        conn: Conn,
        payment: Any,
        *,
        refund_key: str,
        digest: str,
        amount_cents: int,
        reason: str,
        kiosk_id: str,
        approved_by: str | None = None,
        registration_id: int | None = None,
    ) -> int:
        """Insert a ``requested`` refund of ``payment`` (a payments row); ApiError when it can't be made."""
        if payment["status"] != "SUCCESS":
            raise ApiError(409, "payment_not_paid", f"the payment is {payment['status']}, not paid")
        if payment["top_up_patient_id"] is not None:
            # The money of a top-up is in the prepaid account (server/accounts/): refunding the payment
            # here would give it back while the balance keeps it. It is paid out from the account.
            raise ApiError(409, "refund_top_up_unsupported", "a top-up is refunded from the prepaid account")
        if payment["channel"] not in self.providers:
            channel = payment["channel"]
            raise ApiError(409, "refund_channel_unsupported", f"{channel} payments are refunded at the cashier")
        left = payment["amount_cents"] - refunds_taken(conn, payment["id"])
        if amount_cents > left:
            raise ApiError(409, "refund_exceeds_refundable", f"{left} cents of this payment are left to refund")
        now = utc_now()
        cur = conn.execute(
            "INSERT INTO refunds(refund_key, request_hash, payment_id, registration_id, amount_cents, reason,"
            " requested_by, approved_by, kiosk_id, channel, out_refund_no, status, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'requested', ?, ?) RETURNING id",
            (
                refund_key,
                digest,
                payment["id"],
                registration_id,
                amount_cents,
                reason,
                f"kiosk:{kiosk_id}",
                approved_by,
                kiosk_id,
                payment["channel"],
                new_out_refund_no(),
                now,
                now,
            ),
        )
        refund_id = int(cur.fetchone()[0])
        detail = {
            "refund_id": refund_id,
            "payment_id": payment["id"],
            "registration_id": registration_id,
            "amount_cents": amount_cents,
            "approved_by": approved_by,
        }
        audit.append(conn, f"kiosk:{kiosk_id}", "refund.requested", detail)
        logger.info(
            "refund %d of payment %d: %d cents from kiosk %s%s",
            refund_id,
            payment["id"],
            amount_cents,
            kiosk_id,
            f", approved by {approved_by}" if approved_by else "",
        )
        return refund_id

    # -- talking to the provider -------------------------------------------------------------------

    def _target(self, refund_id: int) -> Any:
        with self.db.connection() as conn:
            return conn.execute(
                "SELECT r.status, r.channel, r.out_refund_no, r.amount_cents, r.reason, p.out_trade_no,"
                " p.amount_cents AS total_cents FROM refunds r JOIN payments p ON p.id = r.payment_id WHERE r.id = ?",
                (refund_id,),
            ).fetchone()

    def _call(self, refund_id: int, row: Any, provider: RefundProvider, *, query: bool) -> RefundReply:
        try:
            if query:
                return provider.refund_query(out_trade_no=row["out_trade_no"], out_refund_no=row["out_refund_no"])
            return provider.refund(
                out_trade_no=row["out_trade_no"],
                out_refund_no=row["out_refund_no"],
                total_cents=row["total_cents"],
                refund_cents=row["amount_cents"],
                reason=row["reason"],
            )
        except Exception:  # an adapter bug must not strand the row: it is an unclear answer
            logger.exception("refund %d: provider %s raised", refund_id, "query" if query else "call")
            return RefundReply("unknown", "PROVIDER_ERROR", "adapter error")

    def submit(self, refund_id: int) -> None:
        """Ask the provider once (outside any transaction), then query or hand over to a resolver."""
        row = self._target(refund_id)
        if row is None or row["status"] not in OPEN:
            return
        provider = self.providers[row["channel"]]
        reply = self._call(refund_id, row, provider, query=False)
        if self._apply(refund_id, reply):
            return
        # An accepted refund is usually done within a second; asking at once spares a "pending" slip.
        if reply.state == "accepted" and self._apply(refund_id, self._call(refund_id, row, provider, query=True)):
            return
        self._start_resolver(refund_id)

    def _apply(self, refund_id: int, reply: RefundReply) -> bool:
        """Record what the provider said; True when the refund is final."""
        if reply.state == "refunded":
            self._finish(refund_id, "refunded", None, reply)
            return True
        if reply.state == "failed":
            self._finish(refund_id, "failed", reply.code or "REFUND_FAILED", reply)
            return True
        with self.db.connection() as conn, write_tx(conn):
            conn.execute(
                "UPDATE refunds SET status = 'pending', error_code = ?, response_json = ?,"
                " provider_refund_id = coalesce(?, provider_refund_id), updated_at = ?"
                " WHERE id = ? AND status IN ('requested', 'pending')",
                (reply.code, json.dumps(reply.raw, ensure_ascii=False), reply.provider_refund_id, utc_now(), refund_id),
            )
        return False

    def _finish(self, refund_id: int, status: str, error_code: str | None, reply: RefundReply) -> None:
        now = utc_now()
        with self.db.connection() as conn, write_tx(conn):
            row = conn.execute(
                "UPDATE refunds SET status = ?, error_code = ?, response_json = ?, updated_at = ?,"
                " provider_refund_id = coalesce(?, provider_refund_id), refunded_at = ?"
                " WHERE id = ? AND status IN ('requested', 'pending')"
                " RETURNING refund_key, out_refund_no, payment_id, registration_id, amount_cents",
                (
                    status,
                    error_code,
                    json.dumps(reply.raw, ensure_ascii=False),
                    now,
                    reply.provider_refund_id,
                    now if status == "refunded" else None,
                    refund_id,
                ),
            ).fetchone()
            if row is None:
                return  # already final: a resolver and a request raced, the first one won
            detail = {"refund_id": refund_id, "status": status, "error_code": error_code}
            audit.append(conn, "server", "refund.final", detail)
            if status == "failed" and self.work_items is not None:
                self.work_items(
                    conn,
                    "refund",
                    "payment",
                    row["out_refund_no"],
                    {
                        "refund_key": row["refund_key"],
                        "payment_id": row["payment_id"],
                        "registration_id": row["registration_id"],
                        "amount_cents": row["amount_cents"],
                        "error_code": error_code,
                        "todo": "the provider did not refund: refund by hand and resolve",
                    },
                )
        log = logger.error if status == "failed" else logger.info
        log("refund %d -> %s %s", refund_id, status, error_code or "")

    # -- resolver ----------------------------------------------------------------------------------

    def resume_pending(self) -> int:
        """Hand every open refund (left by a crash or a shutdown) to a resolver."""
        with self.db.connection() as conn:
            rows = conn.execute("SELECT id FROM refunds WHERE status IN ('requested', 'pending') ORDER BY id")
            ids = [r[0] for r in rows]
        for refund_id in ids:
            self._start_resolver(refund_id)
        if ids:
            logger.info("resuming %d open refund(s)", len(ids))
        return len(ids)

    def _start_resolver(self, refund_id: int) -> None:
        self._resolvers.start(refund_id)

    def pending_resolvers(self) -> int:
        return self._resolvers.pending()

    def shutdown(self, timeout: float = 5.0) -> None:
        self._resolvers.shutdown(timeout)

    def _resolve(self, refund_id: int) -> None:
        attempt = 0
        while True:
            delay = self.settings.query_interval_s * 2 ** min(attempt, 6)
            if not self._resolvers.sleep(min(delay, _MAX_BACKOFF_S)):
                return
            attempt += 1
            row = self._target(refund_id)
            if row is None or row["status"] not in OPEN:
                return
            provider = self.providers.get(row["channel"])
            if provider is None:
                logger.error("refund %d: no provider for channel %s; left open", refund_id, row["channel"])
                return
            reply = self._call(refund_id, row, provider, query=True)
            if reply.state == "not_found":
                # The request never arrived or did not take: the same out_refund_no can't refund twice.
                logger.info("refund %d: the provider has no such refund; asking again", refund_id)
                reply = self._call(refund_id, row, provider, query=False)
            if self._apply(refund_id, reply):
                return
