"""Schema v10: first-time filing (建档), server/filing.py.

Patients gain what a filing records: the phone (a FieldCipher blob, like the name and ID number),
the visit-card number (server/visit_card.py), when and how the identity was checked, and whether
the patient consented to the face check. Only the consent is kept: face templates and photos stay
on the kiosk and never reach the server.

``patient_filings`` holds every filing request under its idempotency key for good, like payments,
so a kiosk retrying after days offline gets the first answer back.

A separate module, like the other features' ``tables`` modules: server/schema.py imports it, and
server/filing.py (the routes) imports the database layer.
"""

from __future__ import annotations

from server.dbapi import Conn
from server.ddl import Statement
from server.visit_card import visit_card_no

FILING_V10: tuple[Statement, ...] = (
    # Added nullable: SQLite cannot add a NOT NULL column without a default to a filled table.
    "ALTER TABLE patients ADD COLUMN phone_enc BLOB",
    "ALTER TABLE patients ADD COLUMN visit_card_no TEXT",
    "ALTER TABLE patients ADD COLUMN filed_at TEXT",
    "ALTER TABLE patients ADD COLUMN verification TEXT CHECK (verification IN ('face', 'staff', 'card'))",
    "ALTER TABLE patients ADD COLUMN face_consent INTEGER CHECK (face_consent IN (0, 1))",
    "CREATE UNIQUE INDEX IF NOT EXISTS patients_by_visit_card ON patients(visit_card_no)",
    """CREATE TABLE IF NOT EXISTS patient_filings (
    id INTEGER PRIMARY KEY,
    -- permanent: a kiosk may retry after days offline, so keys are never pruned
    idempotency_key TEXT NOT NULL UNIQUE,
    request_hash TEXT NOT NULL,     -- keyed (blind index): the request holds an ID number and a phone
    kiosk_id TEXT NOT NULL,
    patient_id INTEGER NOT NULL REFERENCES patients(id),
    verification TEXT NOT NULL CHECK (verification IN ('face', 'staff', 'card')),
    face_consent INTEGER NOT NULL CHECK (face_consent IN (0, 1)),
    response_json TEXT NOT NULL,    -- the first answer, replayed verbatim on a retry
    created_at TEXT NOT NULL
)""",
    "CREATE INDEX IF NOT EXISTS patient_filings_by_patient ON patient_filings(patient_id)",
)


def backfill_visit_cards(conn: Conn) -> None:
    """Give patients created before v10 their number, in the migration's transaction.

    Computed here rather than in SQL: the Luhn digit would need two dialects of string arithmetic.
    """
    rows = conn.execute("SELECT id FROM patients WHERE visit_card_no IS NULL").fetchall()
    for row in rows:
        patient_id = int(row[0])
        conn.execute("UPDATE patients SET visit_card_no = ? WHERE id = ?", (visit_card_no(patient_id), patient_id))
