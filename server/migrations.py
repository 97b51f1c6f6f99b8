"""Upgrades of SQLite files older than the baseline (server/schema.py), in the caller's transaction.

Only SQLite databases predate the baseline, so these steps may use SQLite's PRAGMAs.

v1 -> v2: ``patients`` held the name and ID number in clear. SQLite cannot drop a UNIQUE column in
place, so the table is rebuilt: every row is encrypted into a new table, which then replaces the
old one. Patient ids are kept, so registrations still point at the same people.

v2 -> v3: new tables only (kiosk heartbeats, kiosk commands, the hash-chained audit log).
"""

from __future__ import annotations

import logging

from server.crypto import FieldCipher
from server.dbapi import Conn
from server.patient_store import encrypted_identity
from server.schema import FLEET_AUDIT_V3, PATIENTS_V2, apply

logger = logging.getLogger(__name__)


def migrate(conn: Conn, from_version: int, cipher: FieldCipher | None) -> None:
    """Bring a SQLite file from ``from_version`` to the baseline (v3); the caller owns the transaction
    and must have turned foreign key enforcement off (it cannot change inside a transaction)."""
    if from_version < 2:
        _v1_to_v2(conn, cipher)
    if from_version < 3:
        _v2_to_v3(conn)


def _v1_to_v2(conn: Conn, cipher: FieldCipher | None) -> None:
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


def _v2_to_v3(conn: Conn) -> None:
    # IF NOT EXISTS throughout: db.py's schema script may already have created them on this file.
    apply(conn, FLEET_AUDIT_V3)
    logger.info("added the fleet and audit tables (schema v2 -> v3)")
