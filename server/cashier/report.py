"""The end-of-shift report: totals per channel, the transaction count, and the reconciliation.

Reconciliation compares three things and lists every difference (``mismatches``):

- the shift's settlements against the ``payments`` rows that carry them (``payment_missing``: the
  payment service was never reached; ``payment_amount``: a payment for another amount;
  ``unresolved``: a code payment or a refund still PENDING at report time);
- what the kiosk counted (its journal, sent when the shift closes) against what the server holds:
  ``missing_on_server`` (the kiosk counted money the server never recorded: the one that matters
  most, the drawer holds cash nobody booked), ``missing_on_kiosk``, ``amount_differs``,
  ``channel_differs``, ``status_differs``;
- the cash the cashier counted in the drawer against cash taken minus cash refunded.

Only SUCCESS settlements and ``refunded`` refunds count towards the totals; a code settlement the
payment service refused was never recorded and so is neither counted nor a mismatch, and a kiosk
entry that says FAILED with nothing on the server is the same refusal seen from the kiosk.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from server.cashier.refunds import cashier_refund_view
from server.cashier.settlements import settlement_view
from server.cashier.shifts import Shift, kiosk_ledger, shift_view
from server.dbapi import Conn, read_tx, utc_now

CHANNELS = ("code", "cash", "card")
# How the kiosk's statuses and the server's line up (refunds: the refund service's statuses).
_SETTLED = "SUCCESS"
_REFUNDED = "refunded"
_NOT_TAKEN = frozenset({"FAILED", "REVERSED", "REFUSED", "failed"})


def _totals(entries: Iterable[dict[str, Any]], *, done: str) -> dict[str, dict[str, int]]:
    out = {c: {"count": 0, "amount_cents": 0} for c in CHANNELS}
    for e in entries:
        if e["status"] == done:
            bucket = out.setdefault(str(e["channel"]), {"count": 0, "amount_cents": 0})
            bucket["count"] += 1
            bucket["amount_cents"] += int(e["amount_cents"])
    return out


def _refund_channel(channel: str) -> str:
    """A refund's payment channel as the window counts it: wechat/alipay are 'code'."""
    return channel if channel in ("cash", "card") else "code"


def _server_checks(
    conn: Conn, settlements: list[dict[str, Any]], refunds: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    problems: list[dict[str, Any]] = []
    for s in settlements:
        for p in s["payments"]:
            row = conn.execute(
                "SELECT amount_cents FROM payments WHERE idempotency_key = ?", (p["payment_key"],)
            ).fetchone()
            if row is None:
                problems.append({"kind": "payment_missing", "key": s["key"], "detail": p["payment_key"]})
            elif int(row["amount_cents"]) != int(p["amount_cents"]):
                problems.append(
                    {
                        "kind": "payment_amount",
                        "key": s["key"],
                        "detail": f"{row['amount_cents']} != {p['amount_cents']}",
                    }
                )
        if s["status"] == "PENDING" and all(p["status"] is not None for p in s["payments"]):
            problems.append({"kind": "unresolved", "key": s["key"], "detail": "payment still PENDING"})
    for r in refunds:
        if r["status"] in ("requested", "pending"):
            problems.append({"kind": "unresolved", "key": r["refund_key"], "detail": f"refund {r['status']}"})
    return problems


def _kiosk_checks(
    ledger: list[dict[str, Any]], settlements: list[dict[str, Any]], refunds: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    server: dict[str, dict[str, Any]] = {}
    for s in settlements:
        server[s["key"]] = {
            "kind": "settlement",
            "channel": s["channel"],
            "amount_cents": s["amount_cents"],
            "status": s["status"],
        }
    for r in refunds:
        server[r["refund_key"]] = {
            "kind": "refund",
            "channel": _refund_channel(r["channel"]),
            "amount_cents": r["amount_cents"],
            "status": r["status"],
        }
    problems: list[dict[str, Any]] = []
    seen: set[str] = set()
    for entry in ledger:
        key = str(entry.get("key"))
        seen.add(key)
        theirs = server.get(key)
        if theirs is None:
            if str(entry.get("status")) not in _NOT_TAKEN:
                problems.append({"kind": "missing_on_server", "key": key, "kiosk": entry, "server": None})
            continue
        for field_name, kind in (
            ("amount_cents", "amount_differs"),
            ("channel", "channel_differs"),
            ("status", "status_differs"),
        ):
            if str(entry.get(field_name)) != str(theirs[field_name]):
                problems.append({"kind": kind, "key": key, "kiosk": entry, "server": theirs})
                break
    for key, theirs in server.items():
        if key not in seen:
            problems.append({"kind": "missing_on_kiosk", "key": key, "kiosk": None, "server": theirs})
    return problems


def shift_report(conn: Conn, shift: Shift) -> dict[str, Any]:
    """The report of one shift, open (so far) or closed (with the kiosk's count)."""
    with read_tx(conn):
        keys = [
            r[0]
            for r in conn.execute(
                "SELECT idempotency_key FROM cashier_settlements WHERE shift_id = ? ORDER BY id", (shift.shift_id,)
            )
        ]
        settlements = [v for v in (settlement_view(conn, k) for k in keys) if v is not None]
        refund_keys = [
            r[0]
            for r in conn.execute(
                "SELECT refund_key FROM cashier_refunds WHERE shift_id = ? ORDER BY id", (shift.shift_id,)
            )
        ]
        refunds = [v for v in (cashier_refund_view(conn, k) for k in refund_keys) if v is not None]
        ledger, cash_counted = kiosk_ledger(conn, shift.shift_id)
        mismatches = _server_checks(conn, settlements, refunds)
    if ledger is not None:
        mismatches += _kiosk_checks(ledger, settlements, refunds)
    taken = _totals(settlements, done=_SETTLED)
    given_back = _totals(({**r, "channel": _refund_channel(r["channel"])} for r in refunds), done=_REFUNDED)
    refunded_total = sum(b["amount_cents"] for b in given_back.values())
    cash_expected = taken["cash"]["amount_cents"] - given_back["cash"]["amount_cents"]
    return {
        "shift": shift_view(shift),
        "generated_at": utc_now(),
        "totals": taken,
        "refunds": {
            "count": sum(b["count"] for b in given_back.values()),
            "amount_cents": refunded_total,
            "by_channel": given_back,
        },
        "transaction_count": sum(b["count"] for b in taken.values()) + sum(b["count"] for b in given_back.values()),
        "taken_cents": sum(b["amount_cents"] for b in taken.values()),
        "net_cents": sum(b["amount_cents"] for b in taken.values()) - refunded_total,
        "cash": {
            "expected_cents": cash_expected,
            "counted_cents": cash_counted,
            "difference_cents": None if cash_counted is None else cash_counted - cash_expected,
        },
        "settlements": [
            {
                k: s[k]
                for k in ("key", "channel", "amount_cents", "status", "created_at", "bill_ids", "registration_ids")
            }
            for s in settlements
        ],
        "refund_entries": [
            {
                k: r[k]
                for k in ("refund_key", "payment_key", "channel", "amount_cents", "status", "approved_by", "created_at")
            }
            for r in refunds
        ],
        "reconciliation": {
            "kiosk_reported": ledger is not None,
            "mismatches": mismatches,
            "ok": not mismatches and (cash_counted is None or cash_counted == cash_expected),
        },
    }
