"""Cashier shifts: open (or resume) at sign-in, the short-lived token, close with the kiosk's count.

The token authorises cashier calls from the kiosk that opened the shift, on top of that kiosk's
own request signature: a token copied to another machine is useless without that kiosk's key, and
a kiosk without the token cannot act for a cashier. It expires ``TOKEN_IDLE`` after its last use
(a window left alone needs the PIN again) and never later than ``TOKEN_MAX`` after sign-in.
Signing in again while one's own shift is open resumes that shift with a new token; the old token
stops working at once.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from server import audit
from server.cashier.staff import CashierStaff
from server.dbapi import Conn, utc_now, write_tx
from server.errors import ApiError

logger = logging.getLogger(__name__)

TOKEN_IDLE = timedelta(minutes=30)
TOKEN_MAX = timedelta(hours=12)
TOKEN_HEADER = "X-Cashier-Token"


def _now() -> datetime:
    """Server time; a function so tests can move the clock."""
    return datetime.now(UTC)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Shift:
    shift_id: int
    staff_no: str
    username: str
    supervisor: bool
    kiosk_id: str
    window_label: str
    status: str
    opened_at: str
    closed_at: str | None
    token_expires_at: str


_SELECT = (
    "SELECT sh.id, sh.staff_no, cs.username, cs.supervisor, sh.kiosk_id, sh.window_label, sh.status,"
    " sh.opened_at, sh.closed_at, sh.token_expires_at, sh.token_hard_expiry"
    " FROM cashier_shifts sh JOIN cashier_staff cs ON cs.staff_no = sh.staff_no"
)


def _shift(row: Any) -> Shift:
    return Shift(
        shift_id=int(row["id"]),
        staff_no=row["staff_no"],
        username=row["username"],
        supervisor=bool(row["supervisor"]),
        kiosk_id=row["kiosk_id"],
        window_label=row["window_label"],
        status=row["status"],
        opened_at=row["opened_at"],
        closed_at=row["closed_at"],
        token_expires_at=row["token_expires_at"],
    )


def shift_view(shift: Shift) -> dict[str, Any]:
    return {
        "shift_id": shift.shift_id,
        "staff_no": shift.staff_no,
        "staff_name": shift.username,
        "supervisor": shift.supervisor,
        "kiosk_id": shift.kiosk_id,
        "window_label": shift.window_label,
        "status": shift.status,
        "opened_at": shift.opened_at,
        "closed_at": shift.closed_at,
        "token_expires_at": shift.token_expires_at,
    }


def get_shift(conn: Conn, shift_id: int) -> Shift | None:
    row = conn.execute(f"{_SELECT} WHERE sh.id = ?", (shift_id,)).fetchone()
    return None if row is None else _shift(row)


def open_shift(conn: Conn, staff: CashierStaff, kiosk_id: str, window_label: str) -> tuple[int, Shift, str]:
    """(201, shift, token) for a new shift, (200, shift, token) when the person's open shift resumes."""
    token = secrets.token_urlsafe(32)
    now = _now()
    idle_until = _iso(now + TOKEN_IDLE)
    with write_tx(conn):
        here = conn.execute(
            "SELECT id, staff_no FROM cashier_shifts WHERE kiosk_id = ? AND status = 'open'", (kiosk_id,)
        ).fetchone()
        mine = conn.execute(
            "SELECT id, kiosk_id FROM cashier_shifts WHERE staff_no = ? AND status = 'open'", (staff.staff_no,)
        ).fetchone()
        if here is not None and here["staff_no"] != staff.staff_no:
            raise ApiError(409, "window_in_use", "another cashier's shift is open at this window; it must close first")
        if mine is not None and mine["kiosk_id"] != kiosk_id:
            raise ApiError(409, "shift_open_elsewhere", "your shift is open at another window; close it there first")
        if mine is not None:
            shift_id = int(mine["id"])
            conn.execute(
                "UPDATE cashier_shifts SET token_hash = ?, token_expires_at = ?, token_hard_expiry = ? WHERE id = ?",
                (token_hash(token), idle_until, _iso(now + TOKEN_MAX), shift_id),
            )
            audit.append(conn, f"cashier:{staff.staff_no}", "cashier.shift_resumed", {"shift_id": shift_id})
            status = 200
        else:
            shift_id = int(
                conn.execute(
                    "INSERT INTO cashier_shifts(staff_no, kiosk_id, window_label, status, token_hash,"
                    " token_expires_at, token_hard_expiry, opened_at) VALUES (?, ?, ?, 'open', ?, ?, ?, ?)"
                    " RETURNING id",
                    (
                        staff.staff_no,
                        kiosk_id,
                        window_label,
                        token_hash(token),
                        idle_until,
                        _iso(now + TOKEN_MAX),
                        _iso(now),
                    ),
                ).fetchone()[0]
            )
            audit.append(
                conn,
                f"cashier:{staff.staff_no}",
                "cashier.shift_opened",
                {"shift_id": shift_id, "kiosk_id": kiosk_id, "window": window_label},
            )
            status = 201
        shift = get_shift(conn, shift_id)
    assert shift is not None
    logger.info(
        "cashier %s %s shift %d at %s", staff.staff_no, "resumed" if status == 200 else "opened", shift_id, kiosk_id
    )
    return status, shift, token


def shift_for_token(conn: Conn, token: str | None, kiosk_id: str, *, allow_closed: bool = False) -> Shift:
    """The shift this token stands for, used from ``kiosk_id``; slides the token's expiry.

    401 ``cashier_signed_out`` for a missing, unknown or expired token (sign in again);
    403 ``shift_kiosk_mismatch`` when another kiosk presents it; 409 ``shift_closed`` after close.
    """
    if not token or len(token) > 256:
        raise ApiError(401, "cashier_signed_out", f"cashier sign-in required ({TOKEN_HEADER})")
    now = _iso(_now())
    row = conn.execute(f"{_SELECT} WHERE sh.token_hash = ?", (token_hash(token),)).fetchone()
    if row is None or row["token_expires_at"] <= now:
        raise ApiError(401, "cashier_signed_out", "the cashier token is unknown or has expired; sign in again")
    if row["kiosk_id"] != kiosk_id:
        logger.warning("cashier token of shift %s presented by kiosk %s", row["id"], kiosk_id)
        raise ApiError(403, "shift_kiosk_mismatch", "this token belongs to another window")
    if row["status"] != "open" and not allow_closed:
        raise ApiError(409, "shift_closed", "this shift is closed")
    if row["status"] == "open":
        slid = min(_iso(_now() + TOKEN_IDLE), row["token_hard_expiry"])
        with write_tx(conn):
            conn.execute(
                "UPDATE cashier_shifts SET token_expires_at = ? WHERE id = ? AND token_expires_at < ?",
                (slid, row["id"], slid),
            )
    return _shift(row)


def expire_token(conn: Conn, shift: Shift) -> Shift:
    """Sign the window out without closing the shift: the token stops working now."""
    with write_tx(conn):
        conn.execute("UPDATE cashier_shifts SET token_expires_at = ? WHERE id = ?", (_iso(_now()), shift.shift_id))
        audit.append(conn, f"cashier:{shift.staff_no}", "cashier.signed_out", {"shift_id": shift.shift_id})
        signed_out = get_shift(conn, shift.shift_id)
    assert signed_out is not None
    return signed_out


def close_shift(conn: Conn, shift: Shift, ledger: list[dict[str, Any]], cash_counted_cents: int | None) -> Shift:
    """Close an open shift, keeping what the kiosk counted; closing a closed shift changes nothing."""
    with write_tx(conn):
        row = conn.execute("SELECT status FROM cashier_shifts WHERE id = ?", (shift.shift_id,)).fetchone()
        if row is not None and row["status"] == "open":
            conn.execute(
                "UPDATE cashier_shifts SET status = 'closed', closed_at = ?, kiosk_ledger_json = ?,"
                " cash_counted_cents = ? WHERE id = ?",
                (utc_now(), json.dumps(ledger, sort_keys=True), cash_counted_cents, shift.shift_id),
            )
            audit.append(
                conn,
                f"cashier:{shift.staff_no}",
                "cashier.shift_closed",
                {"shift_id": shift.shift_id, "kiosk_entries": len(ledger), "cash_counted_cents": cash_counted_cents},
            )
        closed = get_shift(conn, shift.shift_id)
    assert closed is not None
    logger.info("cashier %s closed shift %d", shift.staff_no, shift.shift_id)
    return closed


def kiosk_ledger(conn: Conn, shift_id: int) -> tuple[list[dict[str, Any]] | None, int | None]:
    """What the kiosk reported at close (None before close)."""
    row = conn.execute(
        "SELECT kiosk_ledger_json, cash_counted_cents FROM cashier_shifts WHERE id = ?", (shift_id,)
    ).fetchone()
    if row is None or row["kiosk_ledger_json"] is None:
        return None, None
    return list(json.loads(row["kiosk_ledger_json"])), row["cash_counted_cents"]
