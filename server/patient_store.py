"""Encrypted storage of patient identity rows; the only code that touches name/ID number/phone columns.

``name_enc``, ``id_number_enc`` and ``phone_enc`` hold FieldCipher blobs; ``id_index`` is the keyed
blind index of the ID number (unique per id_type) used for lookups; ``id_masked`` is the display
form staff see. ``visit_card_no`` is derived from the id (server/visit_card.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from server.crypto import FieldCipher
from server.dbapi import Conn
from server.visit_card import visit_card_no

NAME_COLUMN = "patients.name"
ID_NUMBER_COLUMN = "patients.id_number"
PHONE_COLUMN = "patients.phone"


def mask_id_number(id_number: str) -> str:
    """``110***********1234``: the same mask as kiosk screens and receipts (devices/idcard/masking).

    Not the common ``110101********1234``: ``birth`` is stored in clear, and with the full region
    code plus the last four it would rebuild the whole number, defeating the encryption.
    """
    if len(id_number) < 8:
        return "*" * len(id_number)
    return id_number[:3] + "*" * (len(id_number) - 7) + id_number[-4:]


def mask_phone(phone: str) -> str:
    """``138****5678``: enough for the patient to recognise their number, not enough to call it."""
    if len(phone) < 8:
        return "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]


@dataclass(frozen=True)
class PatientIdentity:
    id_type: str
    id_number: str
    name: str

    def __repr__(self) -> str:
        return f"PatientIdentity({self.id_type}, {mask_id_number(self.id_number)})"


def find_patient_id(conn: Conn, cipher: FieldCipher, id_type: str, id_number: str) -> int | None:
    row = conn.execute(
        "SELECT id FROM patients WHERE id_type = ? AND id_index = ?", (id_type, cipher.blind_index(id_number))
    ).fetchone()
    return None if row is None else int(row[0])


def encrypted_identity(cipher: FieldCipher, id_number: str, name: str) -> dict[str, str | bytes]:
    """The stored form of an identity: column name -> value, for INSERTs here and in migrations."""
    return {
        "id_index": cipher.blind_index(id_number),
        "id_number_enc": cipher.encrypt(ID_NUMBER_COLUMN, id_number),
        "name_enc": cipher.encrypt(NAME_COLUMN, name),
        "id_masked": mask_id_number(id_number),
    }


def insert_patient(
    conn: Conn,
    cipher: FieldCipher,
    *,
    id_type: str,
    id_number: str,
    name: str,
    sex: str,
    birth: str,
    created_at: str,
) -> int:
    enc = encrypted_identity(cipher, id_number, name)
    cur = conn.execute(
        "INSERT INTO patients(id_type, id_index, id_number_enc, name_enc, id_masked, sex, birth, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (id_type, enc["id_index"], enc["id_number_enc"], enc["name_enc"], enc["id_masked"], sex, birth, created_at),
    )
    patient_id = int(cur.fetchone()[0])
    # The number needs the id, so it is set right after, in the caller's transaction.
    conn.execute("UPDATE patients SET visit_card_no = ? WHERE id = ?", (visit_card_no(patient_id), patient_id))
    return patient_id


@dataclass(frozen=True)
class FilingState:
    patient_id: int
    visit_card_no: str
    filed: bool


def filing_state(conn: Conn, patient_id: int) -> FilingState:
    row = conn.execute("SELECT visit_card_no, filed_at FROM patients WHERE id = ?", (patient_id,)).fetchone()
    if row is None:
        raise LookupError(f"no patient {patient_id}")
    # A row another path inserted without the number still has one: it is a function of the id.
    return FilingState(patient_id, row[0] or visit_card_no(patient_id), row[1] is not None)


def record_filing(
    conn: Conn, cipher: FieldCipher, patient_id: int, *, phone: str, verification: str, face_consent: bool, at: str
) -> str:
    """Store what a filing adds to a patient; the visit-card number. ``filed_at`` keeps the first filing."""
    card_no = visit_card_no(patient_id)
    conn.execute(
        "UPDATE patients SET phone_enc = ?, verification = ?, face_consent = ?, visit_card_no = ?,"
        " filed_at = COALESCE(filed_at, ?) WHERE id = ?",
        (cipher.encrypt(PHONE_COLUMN, phone), verification, int(face_consent), card_no, at, patient_id),
    )
    return card_no


def read_phone(conn: Conn, cipher: FieldCipher, patient_id: int) -> str | None:
    row = conn.execute("SELECT phone_enc FROM patients WHERE id = ?", (patient_id,)).fetchone()
    return None if row is None or row[0] is None else cipher.decrypt(PHONE_COLUMN, bytes(row[0]))


def read_identity(conn: Conn, cipher: FieldCipher, patient_id: int) -> PatientIdentity | None:
    """Decrypted identity of one patient (raises DecryptError under the wrong key)."""
    row = conn.execute("SELECT id_type, id_number_enc, name_enc FROM patients WHERE id = ?", (patient_id,)).fetchone()
    if row is None:
        return None
    return PatientIdentity(
        id_type=row[0],
        id_number=cipher.decrypt(ID_NUMBER_COLUMN, row[1]),
        name=cipher.decrypt(NAME_COLUMN, row[2]),
    )


def check_key(conn: Conn, cipher: FieldCipher) -> None:
    """Raise DecryptError if the key cannot read existing rows.

    Without this, a server started with a new key would not find returning patients (their blind
    index differs) and would quietly create duplicates instead of failing.
    """
    row = conn.execute("SELECT id FROM patients ORDER BY id LIMIT 1").fetchone()
    if row is not None:
        read_identity(conn, cipher, int(row[0]))
