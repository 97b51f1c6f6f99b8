"""Named, ordered schema migrations; each runs in one transaction with its record."""

from __future__ import annotations

from collections.abc import Callable

import sqlite_utils

Migration = Callable[[sqlite_utils.Database], None]


def _m001_transactions(db: sqlite_utils.Database) -> None:
    # One row per patient transaction; `state` records where it stood at the last external step.
    db.table("transactions").create(
        {
            "id": str,
            "kind": str,
            "state": str,
            "created_at": str,
            "updated_at": str,
            "patient_masked": str,
            "patient_ref": str,
            "registration_key": str,
            "registration_id": str,
            "reg_no": str,
            "amount_cents": int,
            "payment_key": str,
            "payment_status": str,
            "error_code": str,
            "details": str,  # JSON: department, doctor, time (no identity data)
        },
        pk="id",
        not_null={"kind", "state", "created_at", "updated_at"},
    )
    db.table("transactions").create_index(["payment_key"], unique=True)
    db.table("transactions").create_index(["registration_key"], unique=True)
    db.table("events").create(
        {"id": int, "txn_id": str, "at": str, "state": str, "detail": str},
        pk="id",
        foreign_keys=[("txn_id", "transactions", "id")],
    )
    db.table("print_jobs").create(
        {
            "job_id": str,
            "txn_id": str,
            "status": str,  # pending | printing | printed | failed
            "attempts": int,
            "error_code": str,
            "receipt": str,  # JSON of the masked receipt, for a reprint
            "created_at": str,
            "updated_at": str,
        },
        pk="job_id",
        foreign_keys=[("txn_id", "transactions", "id")],
    )


def _m002_audit(db: sqlite_utils.Database) -> None:
    # Technician actions (diagnostics mode): who, what, a short detail. Never a PIN or patient data.
    db.table("audit").create({"id": int, "at": str, "actor": str, "action": str, "detail": str}, pk="id")
    db.table("audit").create_index(["at"])


def _m003_pin_gate(db: sqlite_utils.Database) -> None:
    # Wrong-PIN count and lock-out end per gate, so a power cycle does not reset a lock-out.
    db.table("pin_gate").create(
        {"name": str, "failures": int, "locked_until": float, "updated_at": str},
        pk="name",
        not_null={"failures", "locked_until"},
    )


MIGRATIONS: list[tuple[str, Migration]] = [
    ("001_transactions", _m001_transactions),
    ("002_audit", _m002_audit),
    ("003_pin_gate", _m003_pin_gate),
]


def migrate(db: sqlite_utils.Database) -> list[str]:
    """Apply pending migrations; return the names applied."""
    db.execute("CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT)")
    done = {row["name"] for row in db.query("SELECT name FROM _migrations")}
    applied = []
    for name, fn in MIGRATIONS:
        if name in done:
            continue
        db.execute("BEGIN IMMEDIATE")
        try:
            fn(db)
            db.execute("INSERT INTO _migrations VALUES (?, datetime('now'))", [name])
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        applied.append(name)
    return applied
