"""The prepaid-account ledger, on a connection inside the caller's write transaction.

Every change of a balance is one ``account_entries`` row written in the same transaction as the
change (and as whatever caused it: the payment becoming SUCCESS, the bill becoming paid), so the
kept balance and the ledger cannot drift apart; :func:`check` proves it for one account.

A debit is one conditional UPDATE (``balance + amount >= 0``), so two kiosks spending the same
balance at once cannot take it below zero even without the server's write lock; the CHECK on
``accounts.balance_cents`` is the last line of defence.
"""

from __future__ import annotations

import logging
from typing import Any

from server import audit
from server.dbapi import Conn, utc_now
from server.errors import ApiError
from server.settings import ServerSettings

logger = logging.getLogger(__name__)

RECENT_ENTRIES = 10
TOP_UP_DESCRIPTION = "预交金充值"


def patient_exists(conn: Conn, patient_id: int) -> bool:
    return conn.execute("SELECT 1 FROM patients WHERE id = ?", (patient_id,)).fetchone() is not None


def ensure_account(conn: Conn, patient_id: int) -> int:
    """The patient's account id; opened (balance 0) on first use."""
    now = utc_now()
    conn.execute(
        "INSERT INTO accounts(patient_id, balance_cents, created_at, updated_at) VALUES (?, 0, ?, ?)"
        " ON CONFLICT (patient_id) DO NOTHING",
        (patient_id, now, now),
    )
    return int(conn.execute("SELECT id FROM accounts WHERE patient_id = ?", (patient_id,)).fetchone()[0])


def balance(conn: Conn, patient_id: int) -> int:
    row = conn.execute("SELECT balance_cents FROM accounts WHERE patient_id = ?", (patient_id,)).fetchone()
    return int(row[0]) if row is not None else 0


def entry_by_key(conn: Conn, key: str) -> Any:
    return conn.execute("SELECT * FROM account_entries WHERE idempotency_key = ?", (key,)).fetchone()


def post(
    conn: Conn,
    *,
    patient_id: int,
    kind: str,
    amount_cents: int,
    key: str,
    request_hash: str,
    actor: str,
    payment_id: int | None = None,
    bill_id: int | None = None,
    verification: str | None = None,
    kiosk_id: str | None = None,
    note: str | None = None,
) -> int:
    """Apply ``amount_cents`` (credits positive, debits negative) and write its entry; the new balance.

    A debit larger than the balance is 409 ``insufficient_balance`` and changes nothing.
    """
    account_id = ensure_account(conn, patient_id)
    now = utc_now()
    row = conn.execute(
        "UPDATE accounts SET balance_cents = balance_cents + ?, updated_at = ?"
        " WHERE id = ? AND balance_cents + ? >= 0 RETURNING balance_cents",
        (amount_cents, now, account_id, amount_cents),
    ).fetchone()
    if row is None:
        raise ApiError(
            409, "insufficient_balance", f"the balance is {balance(conn, patient_id)} cents, {-amount_cents} needed"
        )
    balance_after = int(row[0])
    entry_id = conn.execute(
        "INSERT INTO account_entries(account_id, kind, amount_cents, balance_after_cents, idempotency_key,"
        " request_hash, payment_id, bill_id, verification, kiosk_id, note, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (
            account_id,
            kind,
            amount_cents,
            balance_after,
            key,
            request_hash,
            payment_id,
            bill_id,
            verification,
            kiosk_id,
            note,
            now,
        ),
    ).fetchone()[0]
    detail: dict[str, Any] = {"account_id": account_id, "entry_id": entry_id, "kind": kind}
    detail["amount_cents"] = amount_cents
    optional = (("payment_id", payment_id), ("bill_id", bill_id), ("verification", verification))
    detail |= {name: value for name, value in optional if value is not None}
    audit.append(conn, actor, f"account.{kind}", detail)
    logger.info("account %d: %s %+d cents -> balance %d", account_id, kind, amount_cents, balance_after)
    return balance_after


# -- top-ups: the payment service's side ------------------------------------------------------------


def check_top_up(conn: Conn, patient_id: int, amount_cents: int, key: str, settings: ServerSettings) -> str:
    """Inside the payment's write transaction, before its row is written; the provider's description."""
    if not patient_exists(conn, patient_id):
        raise ApiError(404, "patient_not_found", f"no patient {patient_id}")
    low, high = settings.top_up_min_cents, settings.top_up_max_cents
    if not low <= amount_cents <= high:
        raise ApiError(422, "amount_out_of_range", f"a top-up is {low} to {high} cents")
    if entry_by_key(conn, key) is not None:
        # Keys of ledger requests and of payments must never meet, or a credit could collide with a debit.
        raise ApiError(422, "idempotency_key_reused", "this idempotency_key was used for another account operation")
    return TOP_UP_DESCRIPTION


def credit_top_up(conn: Conn, payment: Any) -> int:
    """In the transaction that moves a top-up payment to SUCCESS: credit it. Exactly once, because
    only one transaction moves a payment out of PENDING, and ``payment_id`` is UNIQUE besides."""
    return post(
        conn,
        patient_id=int(payment["top_up_patient_id"]),
        kind="top_up",
        amount_cents=int(payment["amount_cents"]),
        key=str(payment["idempotency_key"]),
        request_hash=str(payment["request_hash"]),
        actor="server",
        payment_id=int(payment["id"]),
        kiosk_id=str(payment["kiosk_id"]),
    )


def refund_to_account(
    conn: Conn, *, patient_id: int, amount_cents: int, key: str, actor: str, bill_id: int | None, note: str
) -> int:
    """Give money back to the account (a refunded bill it paid); idempotent by ``key``. The balance."""
    if amount_cents <= 0:
        raise ValueError("a refund credits a positive amount")
    existing = entry_by_key(conn, key)
    if existing is not None:
        if existing["kind"] != "refund" or existing["amount_cents"] != amount_cents:
            raise ApiError(422, "idempotency_key_reused", "this idempotency_key was used for another account operation")
        return int(existing["balance_after_cents"])
    return post(
        conn,
        patient_id=patient_id,
        kind="refund",
        amount_cents=amount_cents,
        key=key,
        request_hash=f"refund:{bill_id}:{amount_cents}",
        actor=actor,
        bill_id=bill_id,
        note=note[:200],
    )


# -- reading ----------------------------------------------------------------------------------------


def recent_entries(conn: Conn, patient_id: int, limit: int = RECENT_ENTRIES) -> list[dict[str, Any]]:
    """Newest first; what a patient may see on the screen: no codes, no keys, no staff names."""
    rows = conn.execute(
        "SELECT e.id, e.kind, e.amount_cents, e.balance_after_cents, e.created_at, b.bill_no, p.channel"
        " FROM account_entries e JOIN accounts a ON a.id = e.account_id"
        " LEFT JOIN bills b ON b.id = e.bill_id LEFT JOIN payments p ON p.id = e.payment_id"
        " WHERE a.patient_id = ? ORDER BY e.id DESC LIMIT ?",
        (patient_id, limit),
    ).fetchall()
    return [
        {
            "entry_id": r["id"],
            "kind": r["kind"],
            "amount_cents": r["amount_cents"],
            "balance_after_cents": r["balance_after_cents"],
            "created_at": r["created_at"],
            "bill_no": r["bill_no"],
            "channel": r["channel"],
        }
        for r in rows
    ]


def check(conn: Conn, patient_id: int) -> bool:
    """The kept balance equals the sum of the entries and the last entry's balance_after."""
    row = conn.execute(
        "SELECT a.balance_cents, coalesce(sum(e.amount_cents), 0) AS total, max(e.id) AS last_id"
        " FROM accounts a LEFT JOIN account_entries e ON e.account_id = a.id WHERE a.patient_id = ?"
        " GROUP BY a.balance_cents",
        (patient_id,),
    ).fetchone()
    if row is None:
        return True  # no account, nothing to disagree
    if row["last_id"] is None:
        return int(row["balance_cents"]) == 0
    last = conn.execute("SELECT balance_after_cents FROM account_entries WHERE id = ?", (row["last_id"],)).fetchone()
    kept = int(row["balance_cents"])
    return kept == int(row["total"]) == int(last[0])
