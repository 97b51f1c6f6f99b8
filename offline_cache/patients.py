"""Patients seen recently, so a returning patient can register while the server is unreachable.

Found by a keyed hash of (ID type, ID number): the number itself is never stored. What the
screen shows (masked name and ID) is sealed with AES-GCM. Entries older than ``keep`` are
deleted; ``secure_delete`` zeroes their pages.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlite_utils

from offline_cache.journal import now
from offline_cache.store import Store
from sync.fieldcrypto import FieldCipher


@dataclass(frozen=True)
class KnownPatient:
    patient_id: int
    name_masked: str
    id_masked: str


class RecentPatients:
    def __init__(self, store: Store, cipher: FieldCipher, keep: timedelta = timedelta(days=30)) -> None:
        self.store, self.cipher, self.keep = store, cipher, keep

    def blind(self, id_type: str, id_number: str) -> str:
        return self.cipher.blind_index(f"{id_type}:{id_number.strip().upper()}")

    def remember_in(
        self, db: sqlite_utils.Database, id_type: str, id_number: str, patient_id: int, name_masked: str, id_masked: str
    ) -> None:
        """Record a patient inside the caller's write transaction."""
        blind = self.blind(id_type, id_number)
        display = self.cipher.encrypt(f"recent:{blind}", json.dumps([name_masked, id_masked], ensure_ascii=False))
        db.execute(
            "INSERT INTO recent_patients(blind, patient_id, display, seen_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT(blind) DO UPDATE SET patient_id = excluded.patient_id, display = excluded.display,"
            " seen_at = excluded.seen_at",
            [blind, patient_id, display, now()],
        )

    def remember(self, id_type: str, id_number: str, patient_id: int, name_masked: str, id_masked: str) -> None:
        self.store.write(lambda db: self.remember_in(db, id_type, id_number, patient_id, name_masked, id_masked))

    def find(self, id_type: str, id_number: str) -> KnownPatient | None:
        blind = self.blind(id_type, id_number)
        row = (
            self.store.read()
            .execute("SELECT patient_id, display FROM recent_patients WHERE blind = ?", [blind])
            .fetchone()
        )
        if row is None:
            return None
        name_masked, id_masked = json.loads(self.cipher.decrypt(f"recent:{blind}", row[1]))
        return KnownPatient(int(row[0]), name_masked, id_masked)

    def forget_old(self) -> int:
        cutoff = (datetime.now(UTC) - self.keep).isoformat(timespec="milliseconds")
        return self.store.write(
            lambda db: int(db.execute("DELETE FROM recent_patients WHERE seen_at < ?", [cutoff]).rowcount)
        )
