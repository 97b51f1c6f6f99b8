"""Cashier profiles of staff accounts: the staff number and PIN typed at the window, the staff card,
the supervisor flag, and the checks behind sign-in and refund approval.

A PIN is 4-12 digits: at most 10^12 values, so it is never the only protection. It is hashed like
a password (scrypt with the parameters kept in the hash, server/auth/staff.py), checked only on
the server, and five wrong PINs in a row lock the profile for 15 minutes whoever is asking (a
window signing in, or a cashier asking for a supervisor's approval). Every failure looks the same
to the caller; the audit log says which it was.

A staff card is the staff member's own ID card on the window's reader. The kiosk sends
``sync.staffcard.staff_card_hash`` of its number, never the number; the server keeps only a keyed
blind index of that hash, so a copy of the database does not name the staff's ID numbers.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from server import audit
from server.auth.staff import hash_password, needs_rehash, verify_password
from server.crypto import FieldCipher
from server.dbapi import Conn, joined_write_tx
from sync.staffcard import CARD_HASH_PATTERN

logger = logging.getLogger(__name__)

STAFF_NO_PATTERN = r"^[0-9]{3,12}$"
PIN_PATTERN = r"^[0-9]{4,12}$"
MAX_FAILED_PINS = 5
PIN_LOCKOUT = timedelta(minutes=15)
# Roles of staff accounts that may hold a cashier profile.
CASHIER_ROLES = ("cashier", "admin")

_STAFF_NO = re.compile(STAFF_NO_PATTERN)
_PIN = re.compile(PIN_PATTERN)
_CARD = re.compile(CARD_HASH_PATTERN)
# Checked against when the staff number is unknown, so "no such person" takes as long as "wrong PIN".
_DUMMY_HASH = hash_password("0000000000")


def _now() -> datetime:
    """Server time; a function so tests can move the clock."""
    return datetime.now(UTC)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class CashierStaff:
    staff_no: str
    username: str
    supervisor: bool


def _card_index(cipher: FieldCipher, card_hash: str) -> str:
    return cipher.blind_index("staff-card:" + card_hash.lower())


def add_cashier(
    conn: Conn,
    cipher: FieldCipher,
    *,
    username: str,
    staff_no: str,
    pin: str,
    supervisor: bool = False,
    card_hash: str | None = None,
) -> None:
    """Give the staff account ``username`` a cashier profile; ValueError names what is wrong."""
    if not _STAFF_NO.match(staff_no):
        raise ValueError("a staff number is 3-12 digits")
    if not _PIN.match(pin):
        raise ValueError("a PIN is 4-12 digits")
    if card_hash is not None and not _CARD.match(card_hash):
        raise ValueError("a staff card hash is 64 hex digits (sync.staffcard.staff_card_hash)")
    pin_hash = hash_password(pin)  # outside the write lock: scrypt is slow on purpose
    with joined_write_tx(conn):
        account = conn.execute("SELECT role FROM staff WHERE username = ?", (username,)).fetchone()
        if account is None:
            raise ValueError(f"no staff account {username}; create it first (python -m server staff add)")
        if account["role"] not in CASHIER_ROLES:
            raise ValueError(f"a {account['role']} account cannot work a cashier window")
        taken = conn.execute(
            "SELECT 1 FROM cashier_staff WHERE staff_no = ? OR username = ?", (staff_no, username)
        ).fetchone()
        if taken is not None:
            raise ValueError(f"staff number {staff_no} or account {username} already has a cashier profile")
        card_index = _card_index(cipher, card_hash) if card_hash is not None else None
        if (
            card_index is not None
            and conn.execute("SELECT 1 FROM cashier_staff WHERE card_index = ?", (card_index,)).fetchone()
        ):
            raise ValueError("this staff card belongs to another profile")
        conn.execute(
            "INSERT INTO cashier_staff(staff_no, username, pin_hash, card_index, supervisor, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (staff_no, username, pin_hash, card_index, int(supervisor), _iso(_now())),
        )
        audit.append(
            conn,
            "system",
            "cashier.profile_created",
            {"staff_no": staff_no, "username": username, "supervisor": supervisor, "card": card_index is not None},
        )
    logger.info("cashier profile %s for %s created (supervisor=%s)", staff_no, username, supervisor)


def _usable(conn: Conn, row: object) -> bool:
    account = conn.execute(
        "SELECT role, disabled FROM staff WHERE username = ?",
        (row["username"],),  # type: ignore[index]
    ).fetchone()
    return account is not None and not account["disabled"] and account["role"] in CASHIER_ROLES


def check_pin(conn: Conn, staff_no: str, pin: str, *, purpose: str) -> CashierStaff | None:
    """The profile if the PIN is right and the account usable, else None (every reason alike).

    ``purpose`` (``sign_in``, ``approve_refund``) goes to the audit log only.
    """
    row = None
    if _STAFF_NO.match(staff_no) and _PIN.match(pin):
        row = conn.execute("SELECT * FROM cashier_staff WHERE staff_no = ?", (staff_no,)).fetchone()
    if row is None:
        verify_password(pin[:16], _DUMMY_HASH)
        with joined_write_tx(conn):
            audit.append(conn, "anonymous", "cashier.pin_failed", {"reason": "unknown_staff", "purpose": purpose})
        return None
    actor = f"cashier:{staff_no}"
    now = _now()
    if row["locked_until"] is not None and row["locked_until"] > _iso(now):
        with joined_write_tx(conn):
            audit.append(conn, actor, "cashier.pin_failed", {"reason": "locked", "purpose": purpose})
        return None
    if not _usable(conn, row):
        with joined_write_tx(conn):
            audit.append(conn, actor, "cashier.pin_failed", {"reason": "account_unusable", "purpose": purpose})
        return None
    if not verify_password(pin, row["pin_hash"]):
        with joined_write_tx(conn):
            failed = int(
                conn.execute(
                    "UPDATE cashier_staff SET failed_attempts = failed_attempts + 1 WHERE staff_no = ?"
                    " RETURNING failed_attempts",
                    (staff_no,),
                ).fetchone()[0]
            )
            detail: dict[str, object] = {"reason": "bad_pin", "purpose": purpose, "failed_attempts": failed}
            if failed >= MAX_FAILED_PINS:
                conn.execute(
                    "UPDATE cashier_staff SET failed_attempts = 0, locked_until = ? WHERE staff_no = ?",
                    (_iso(now + PIN_LOCKOUT), staff_no),
                )
                detail["locked_for_s"] = int(PIN_LOCKOUT.total_seconds())
                logger.warning("cashier PIN of %s locked after %d failures", staff_no, failed)
            audit.append(conn, actor, "cashier.pin_failed", detail)
        return None
    new_hash = hash_password(pin) if needs_rehash(row["pin_hash"]) else None
    with joined_write_tx(conn):
        conn.execute(
            "UPDATE cashier_staff SET failed_attempts = 0, locked_until = NULL WHERE staff_no = ?", (staff_no,)
        )
        if new_hash is not None:
            conn.execute("UPDATE cashier_staff SET pin_hash = ? WHERE staff_no = ?", (new_hash, staff_no))
    return CashierStaff(row["staff_no"], row["username"], bool(row["supervisor"]))


def check_card(conn: Conn, cipher: FieldCipher, card_hash: str) -> CashierStaff | None:
    """The profile holding this staff card, if its account is usable and not locked; else None."""
    row = None
    if _CARD.match(card_hash):
        row = conn.execute(
            "SELECT * FROM cashier_staff WHERE card_index = ?", (_card_index(cipher, card_hash),)
        ).fetchone()
    usable = (
        row is not None and _usable(conn, row) and (row["locked_until"] is None or row["locked_until"] <= _iso(_now()))
    )
    if row is None or not usable:
        actor = "anonymous" if row is None else f"cashier:{row['staff_no']}"
        with joined_write_tx(conn):
            audit.append(conn, actor, "cashier.card_failed", {"reason": "unknown_card" if row is None else "unusable"})
        return None
    return CashierStaff(row["staff_no"], row["username"], bool(row["supervisor"]))
