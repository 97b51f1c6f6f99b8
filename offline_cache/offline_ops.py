"""Registrations made while the server is unreachable: queued with their filing, confirmed later.

:meth:`OfflineRegistrar.queue_registration` writes the transaction row, a first-time patient's
filing (``patient.file``) and the registration (``registration.create``, depending on the
filing) in ONE store transaction; the pending slip is printed only after it returns. When the
uploader brings back the server's answers, the appliers registered here move the transaction to
``registered`` (with the real number) or ``rejected`` in the same transaction that records the
answer. A rejected registration is the server's business: it files a rebooking task for staff.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

import sqlite_utils

from offline_cache import journal as J
from offline_cache.catalog import get_state, set_sync_state
from offline_cache.outbox import Outbox, Result
from offline_cache.patients import RecentPatients
from offline_cache.store import Store

log = logging.getLogger(__name__)

FILE_PATIENT = "patient.file"
CREATE_REGISTRATION = "registration.create"
FILING = J.FILING  # transaction kind of a first-time filing queued on its own (建档)
FILED = J.FILED  # its state once the server confirmed it; the visit-card number is in ``details``


@dataclass(frozen=True)
class IdentityClaim:
    """A first-time patient's card data, kept in memory until the filing is queued (never logged)."""

    id_type: str
    id_number: str = field(repr=False)
    name: str = field(repr=False)
    sex: str  # M / F
    birth: str  # YYYY-MM-DD
    # A first-time filing (建档) also carries these; a filing queued with a registration alone may not.
    phone: str | None = field(default=None, repr=False)
    verification: str | None = None  # face | staff | card
    face_consent: bool = False

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id_type": self.id_type,
            "id_number": self.id_number,
            "name": self.name,
            "sex": self.sex,
            "birth": self.birth,
        }
        if self.phone is not None:
            # Only when given, so a claim without them makes the same body (and op hash) as before.
            body |= {"phone": self.phone, "verification": self.verification, "face_consent": self.face_consent}
        return body


@dataclass(frozen=True)
class Queued:
    txn_id: str
    provisional_no: str
    registration_key: str
    filing_key: str | None


@dataclass(frozen=True)
class QueuedFiling:
    txn_id: str
    provisional_no: str
    filing_key: str


class OfflineRegistrar:
    def __init__(self, store: Store, outbox: Outbox, patients: RecentPatients, kiosk_id: str) -> None:
        self.store, self.outbox, self.patients, self.kiosk_id = store, outbox, patients, kiosk_id
        outbox.on_result(CREATE_REGISTRATION, self._registration_answered)
        outbox.on_result(FILE_PATIENT, self._filing_answered)

    def queue_registration(
        self,
        txn_id: str,
        *,
        registration_key: str,
        slot_id: int,
        patient_masked: str,
        patient_id: int | None = None,
        claim: IdentityClaim | None = None,
        details: dict[str, Any] | None = None,
    ) -> Queued:
        """One transaction: transaction row, optional filing, registration. Raises ``QueueFull``.

        ``registration_key`` is the idempotency key of the registration: when an online attempt
        with that key got no answer, queueing the SAME key lets the server replay it, never book twice.
        """
        if (patient_id is None) == (claim is None):
            raise ValueError("a queued registration needs either a known patient_id or an identity claim")

        def op(db: sqlite_utils.Database) -> Queued:
            provisional_no = self._next_provisional(db)
            if db.execute("SELECT 1 FROM transactions WHERE id = ?", [txn_id]).fetchone() is None:
                J.insert_transaction(
                    db, txn_id, "registration", patient_masked=patient_masked, patient_ref=str(patient_id or "")
                )
            J.set_state(
                db,
                txn_id,
                J.QUEUED,
                "queued offline",
                slot_id=slot_id,
                provisional_no=provisional_no,
                registration_key=registration_key,
                details=details or {"slot": slot_id},
            )
            filing_key = None
            if claim is not None:
                filing_key = self.outbox.add(db, FILE_PATIENT, claim.body(), txn_id=txn_id)
            body = {
                "patient_id": patient_id,
                "patient_op": filing_key,
                "slot_id": slot_id,
                "provisional_no": provisional_no,
            }
            self.outbox.add(db, CREATE_REGISTRATION, body, key=registration_key, depends_on=filing_key, txn_id=txn_id)
            return Queued(txn_id, provisional_no, registration_key, filing_key)

        queued = self.store.write(op)
        log.info("registration %s queued offline as %s", txn_id, queued.provisional_no)
        return queued

    def queue_filing(
        self,
        txn_id: str,
        *,
        claim: IdentityClaim,
        patient_masked: str,
        filing_key: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> QueuedFiling:
        """One transaction: a ``filing`` transaction row and its ``patient.file`` op. Raises ``QueueFull``.

        ``filing_key``: the key of an online ``file_patient`` attempt that got no answer, so the server
        replays that filing instead of applying it again; None for a filing made offline from the start.
        """
        if claim.phone is None:
            raise ValueError("a filing on its own carries the phone and how the identity was verified")

        def op(db: sqlite_utils.Database) -> QueuedFiling:
            provisional_no = self._next_provisional(db)
            if db.execute("SELECT 1 FROM transactions WHERE id = ?", [txn_id]).fetchone() is None:
                J.insert_transaction(db, txn_id, FILING, patient_masked=patient_masked, patient_ref="")
            extra = {"details": details} if details is not None else {}
            J.set_state(db, txn_id, J.QUEUED, "queued offline", provisional_no=provisional_no, **extra)
            key = self.outbox.add(db, FILE_PATIENT, claim.body(), key=filing_key, txn_id=txn_id)
            return QueuedFiling(txn_id, provisional_no, key)

        queued = self.store.write(op)
        log.info("filing %s queued offline as %s", txn_id, queued.provisional_no)
        return queued

    def _next_provisional(self, db: sqlite_utils.Database) -> str:
        counter = int(get_state(db, "provisional_seq") or 0) + 1
        set_sync_state(db, "provisional_seq", str(counter))
        return f"P-{self.kiosk_id}-{counter:04d}"

    # ---- Appliers: run inside the transaction that records the server's answer

    def _registration_answered(self, db: sqlite_utils.Database, row: dict[str, Any], result: Result) -> None:
        txn_id = row["txn_id"]
        if txn_id is None:
            return
        if result.ok and result.body is not None:
            J.set_state(
                db,
                txn_id,
                J.REGISTERED,
                "confirmed by the server",
                registration_id=int(result.body["registration_id"]),
                reg_no=str(result.body["reg_no"]),
                amount_cents=int(result.body["amount_cents"]),
            )
        else:
            J.set_state(db, txn_id, J.REJECTED, result.error_code or "rejected", error_code=result.error_code)

    def _filing_answered(self, db: sqlite_utils.Database, row: dict[str, Any], result: Result) -> None:
        txn = db.execute("SELECT patient_masked, kind FROM transactions WHERE id = ?", [row["txn_id"]]).fetchone()
        on_its_own = txn is not None and txn[1] == FILING
        if not (result.ok and result.body is not None):
            # With a registration, the dependant is rejected too (dependency_rejected) and carries the state.
            if on_its_own:
                code = result.error_code
                J.set_state(db, row["txn_id"], J.REJECTED, code or "rejected", error_code=code)
            return
        claim = self.outbox.body(row)
        patient_id = int(result.body["patient_id"])
        name_masked, _, id_masked = (txn[0] if txn else "").rpartition(" ")
        self.patients.remember_in(db, claim["id_type"], claim["id_number"], patient_id, name_masked, id_masked)
        if row["txn_id"] is not None:
            db.execute("UPDATE transactions SET patient_ref = ? WHERE id = ?", [str(patient_id), row["txn_id"]])
        if on_its_own:
            # Answers of servers before issue #6 have no number; the kiosk then looks it up online.
            found = db.execute("SELECT details FROM transactions WHERE id = ?", [row["txn_id"]]).fetchone()
            details = json.loads(found[0]) if found and found[0] else {}
            details["visit_card_no"] = result.body.get("visit_card_no")
            J.set_state(db, row["txn_id"], FILED, "confirmed by the server", details=details)
