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


def _m004_offline(db: sqlite_utils.Database) -> None:
    # The outbox: one row per operation the server must apply exactly once (sync/uploader.py).
    # AUTOINCREMENT so a sequence number is never reused after a purge: the drain order is seq.
    db.execute(
        """CREATE TABLE outbox (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            key TEXT NOT NULL UNIQUE,        -- idempotency key (UUIDv7), created before anything is sent
            kind TEXT NOT NULL,              -- patient.file | registration.create
            depends_on TEXT,                 -- an earlier op's key; the server checks it, purges may remove it here
            txn_id TEXT REFERENCES transactions(id),
            body BLOB NOT NULL,              -- AES-GCM sealed JSON: a filing holds a name and an ID number
            bytes INTEGER NOT NULL,
            state TEXT NOT NULL,             -- pending | confirmed | rejected
            attempts INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL,        -- the kiosk's clock: sent as a claim, never decides anything
            last_error TEXT,
            result_status INTEGER,
            result_json TEXT,                -- the server's answer (ids and codes, no identity data)
            done_at TEXT
        )"""
    )
    db.execute("CREATE INDEX outbox_state_seq ON outbox(state, seq)")
    db.execute("CREATE INDEX outbox_done ON outbox(done_at) WHERE done_at IS NOT NULL")
    # Small named values: the catalog ETag, the clock offset, the provisional-number counter.
    db.execute("CREATE TABLE sync_state (name TEXT PRIMARY KEY, value TEXT NOT NULL)")
    # Offline registrations: the slot they hold and the number printed on the pending slip.
    db.table("transactions").add_column("slot_id", int)
    db.table("transactions").add_column("provisional_no", str)
    # The day's catalog as last pulled from the server (offline_cache/catalog.py).
    db.execute(
        "CREATE TABLE catalog_departments (code TEXT PRIMARY KEY, name_zh TEXT NOT NULL, name_en TEXT NOT NULL,"
        " sort INTEGER NOT NULL)"
    )
    db.execute(
        "CREATE TABLE catalog_doctors (code TEXT PRIMARY KEY, department_code TEXT NOT NULL, name_zh TEXT NOT NULL,"
        " name_en TEXT NOT NULL, title_zh TEXT NOT NULL, title_en TEXT NOT NULL, fee_cents INTEGER NOT NULL)"
    )
    db.execute(
        "CREATE TABLE catalog_slots (slot_id INTEGER PRIMARY KEY, doctor_code TEXT NOT NULL, date TEXT NOT NULL,"
        ' start TEXT NOT NULL, "end" TEXT NOT NULL, capacity INTEGER NOT NULL, booked INTEGER NOT NULL)'
    )
    db.execute("CREATE INDEX catalog_slots_doctor ON catalog_slots(doctor_code, date)")
    # Patients seen recently, found by a keyed hash of their ID number (offline_cache/patients.py).
    db.execute(
        "CREATE TABLE recent_patients (blind TEXT PRIMARY KEY, patient_id INTEGER NOT NULL,"
        " display BLOB NOT NULL, seen_at TEXT NOT NULL)"
    )


MIGRATIONS: list[tuple[str, Migration]] = [
    ("001_transactions", _m001_transactions),
    ("002_audit", _m002_audit),
    ("003_pin_gate", _m003_pin_gate),
    ("004_offline", _m004_offline),
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
