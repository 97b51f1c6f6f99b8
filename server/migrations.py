"""Schema upgrades, run by ``Database.init`` inside its single write transaction.

v1 -> v2: ``patients`` held the name and ID number in clear. SQLite cannot drop a UNIQUE column in
place, so the table is rebuilt: every row is encrypted into a new table, which then replaces the
old one. Patient ids are kept, so registrations still point at the same people.

v2 -> v3: new tables only (kiosk heartbeats, kiosk commands, the hash-chained audit log).
"""

from __future__ import annotations

import logging
import sqlite3

from server.crypto import FieldCipher
from server.patient_store import encrypted_identity

logger = logging.getLogger(__name__)

# The v2 patients table; db.py creates it from the same text for a new database.
PATIENTS_V2 = """
CREATE TABLE IF NOT EXISTS {table} (
    id INTEGER PRIMARY KEY,
    id_type TEXT NOT NULL,
    id_index TEXT NOT NULL,        -- HMAC blind index of the ID number, for lookups
    id_number_enc BLOB NOT NULL,   -- FieldCipher blob
    name_enc BLOB NOT NULL,        -- FieldCipher blob
    id_masked TEXT NOT NULL,       -- display only, e.g. 110***********1234
    sex TEXT NOT NULL,
    birth TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (id_type, id_index)
);
"""


# v3: statements, not one script, because executescript() would COMMIT the caller's transaction
# and trigger bodies contain semicolons. db.py joins them into its schema for a new database.
FLEET_AUDIT_V3: tuple[str, ...] = (
    """CREATE TABLE IF NOT EXISTS kiosks (
    kiosk_id TEXT PRIMARY KEY,
    software_version TEXT NOT NULL,
    device_states_json TEXT NOT NULL,
    queue_depth INTEGER NOT NULL,
    oldest_pending_age_s REAL,
    kiosk_time TEXT NOT NULL,      -- the kiosk's claim, kept for diagnosis only
    clock_offset_s REAL NOT NULL,  -- server time minus kiosk time at the last heartbeat
    first_seen TEXT NOT NULL,
    last_seen TEXT NOT NULL        -- server time: kiosk clocks are never trusted
)""",
    """CREATE TABLE IF NOT EXISTS kiosk_commands (
    id INTEGER PRIMARY KEY,
    kiosk_id TEXT NOT NULL REFERENCES kiosks(kiosk_id),
    command TEXT NOT NULL CHECK (command IN ('reload_config', 'restart_app', 'print_test_page')),
    status TEXT NOT NULL CHECK (status IN ('pending', 'acked')),
    created_at TEXT NOT NULL,
    acked_at TEXT
)""",
    "CREATE INDEX IF NOT EXISTS kiosk_commands_by_kiosk ON kiosk_commands(kiosk_id, status, id)",
    """CREATE TABLE IF NOT EXISTS audit_log (
    seq INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    detail TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
)""",
    # Append-only is enforced by the database itself, not only by the absence of code that edits.
    """CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END""",
    """CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END""",
)


def migrate(conn: sqlite3.Connection, from_version: int, cipher: FieldCipher | None) -> None:
    """Bring the schema from ``from_version`` to the current one; the caller owns the transaction
    and must have turned foreign key enforcement off (it cannot change inside a transaction)."""
    if from_version < 2:
        _v1_to_v2(conn, cipher)
    if from_version < 3:
        _v2_to_v3(conn)


def _v1_to_v2(conn: sqlite3.Connection, cipher: FieldCipher | None) -> None:
    columns = {row[1] for row in conn.execute("PRAGMA table_info(patients)")}
    if "id_number" not in columns:
        return  # already encrypted (e.g. a v2 table under a stale version row)
    if cipher is None:
        raise RuntimeError("upgrading the patients table to encrypted storage needs the field cipher (key)")
    conn.execute(PATIENTS_V2.format(table="patients_v2"))
    rows = conn.execute("SELECT id, id_type, id_number, name, sex, birth, created_at FROM patients").fetchall()
    for row in rows:
        enc = encrypted_identity(cipher, row["id_number"], row["name"])
        conn.execute(
            "INSERT INTO patients_v2(id, id_type, id_index, id_number_enc, name_enc, id_masked, sex, birth,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                row["id"],  # kept: registrations refer to patients by id
                row["id_type"],
                enc["id_index"],
                enc["id_number_enc"],
                enc["name_enc"],
                enc["id_masked"],
                row["sex"],
                row["birth"],
                row["created_at"],
            ),
        )
    # Order matters: ALTER TABLE RENAME rewrites foreign keys that name the renamed table, so the
    # old table is dropped first and the new one takes its name; registrations keep "patients".
    conn.execute("DROP TABLE patients")
    conn.execute("ALTER TABLE patients_v2 RENAME TO patients")
    problems = conn.execute("PRAGMA foreign_key_check").fetchall()
    if problems:
        raise RuntimeError(f"patients migration would break {len(problems)} foreign key reference(s)")
    logger.info("encrypted %d patient record(s) at rest (schema v1 -> v2)", len(rows))


def _v2_to_v3(conn: sqlite3.Connection) -> None:
    # IF NOT EXISTS throughout: db.py's schema script may already have created them on this file.
    for statement in FLEET_AUDIT_V3:
        conn.execute(statement)
    logger.info("added the fleet and audit tables (schema v2 -> v3)")
