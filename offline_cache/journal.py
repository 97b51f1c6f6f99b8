"""Transaction journal and print-job records on top of :class:`Store`.

Every external step (server call, payment, print) is bracketed by a journal write: the state
is recorded *before* the call with the idempotency key that call will carry, and again after
with its outcome. After a crash the row says exactly where the transaction stood.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlite_utils

from offline_cache.store import Store

# Transaction states, in the order a registration passes through them.
CREATED = "created"
REGISTERING = "registering"  # registration request about to be sent (key stored)
REGISTERED = "registered"  # server holds the slot, unpaid
PAYING = "paying"  # payment key stored, request about to be sent
PAYMENT_PENDING = "payment_pending"  # provider has not decided yet (USERPAYING / unclear)
PAID = "paid"
PAYMENT_FAILED = "payment_failed"
PAYMENT_UNKNOWN = "payment_unknown"  # kiosk stopped waiting; the server settles it
CANCELLED = "cancelled"
FAILED = "failed"
QUEUED = "queued"  # made offline: in the outbox, the slip says "pending confirmation"
REJECTED = "rejected"  # the server refused a queued operation (slot taken meanwhile): staff rebook
# A first-time filing (建档) on its own.
FILING = "filing"  # filing key stored, request about to be sent
FILED = "filed"  # the server made (or replayed) the record; the visit-card number is known
# A refund (退号, kiosk_app/features/refund): the key is stored before the request.
REFUNDING = "refunding"
REFUND_UNKNOWN = "refund_unknown"  # the kiosk stopped asking; the server settles it

# Print-job states.
PRINT_PENDING = "pending"
PRINTING = "printing"
PRINTED = "printed"
PRINT_FAILED = "failed"


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class PrintClaim:
    """Whether a print job may go ahead; ``already_printed`` means never print it again."""

    job_id: str
    allowed: bool
    already_printed: bool


def insert_transaction(
    db: sqlite_utils.Database, txn_id: str, kind: str, *, patient_masked: str, patient_ref: str, state: str = CREATED
) -> None:
    """Insert a transaction row and its first event (inside the caller's write transaction)."""
    ts = now()
    db.table("transactions").insert(
        {
            "id": txn_id,
            "kind": kind,
            "state": state,
            "created_at": ts,
            "updated_at": ts,
            "patient_masked": patient_masked,
            "patient_ref": patient_ref,
        }
    )
    db.table("events").insert({"txn_id": txn_id, "at": ts, "state": state, "detail": kind})


def set_state(db: sqlite_utils.Database, txn_id: str, state: str, detail: str = "", **fields: Any) -> None:
    """Move a transaction to ``state`` and record the event (inside the caller's write transaction)."""
    ts = now()
    values = {k: (json.dumps(v, ensure_ascii=False) if k == "details" else v) for k, v in fields.items()}
    db.table("transactions").update(txn_id, {"state": state, "updated_at": ts, **values})
    db.table("events").insert({"txn_id": txn_id, "at": ts, "state": state, "detail": detail})


class Journal:
    def __init__(self, store: Store) -> None:
        self.store = store

    def create(self, txn_id: str, kind: str, *, patient_masked: str, patient_ref: str) -> None:
        self.store.write(
            lambda db: insert_transaction(db, txn_id, kind, patient_masked=patient_masked, patient_ref=patient_ref)
        )

    def update(self, txn_id: str, state: str, detail: str = "", **fields: Any) -> None:
        """Move a transaction to ``state`` and record the step in the audit trail."""
        self.store.write(lambda db: set_state(db, txn_id, state, detail, **fields))

    def get(self, txn_id: str) -> dict[str, Any] | None:
        rows = list(self.store.read().query("SELECT * FROM transactions WHERE id = ?", [txn_id]))
        return rows[0] if rows else None

    def events(self, txn_id: str) -> list[dict[str, Any]]:
        return list(self.store.read().query("SELECT * FROM events WHERE txn_id = ? ORDER BY id", [txn_id]))

    def recent(self, limit: int = 20) -> list[dict[str, Any]]:
        return list(self.store.read().query("SELECT * FROM transactions ORDER BY created_at DESC LIMIT ?", [limit]))

    # ---- Print jobs: a job id plus a print-back record means nothing prints twice by accident

    def claim_print(self, job_id: str, txn_id: str, receipt: dict[str, Any]) -> PrintClaim:
        """Record the job before printing; refuse a job that already printed."""

        def op(db: sqlite_utils.Database) -> PrintClaim:
            ts = now()
            rows = list(db.query("SELECT status, attempts FROM print_jobs WHERE job_id = ?", [job_id]))
            if rows and rows[0]["status"] == PRINTED:
                return PrintClaim(job_id, allowed=False, already_printed=True)
            if rows and rows[0]["status"] == PRINTING:
                # A crash mid-print: the paper may or may not have come out. Only a person can
                # tell, so an automatic retry is refused; staff reprint it deliberately.
                return PrintClaim(job_id, allowed=False, already_printed=False)
            attempts = rows[0]["attempts"] + 1 if rows else 1
            db.table("print_jobs").upsert(
                {
                    "job_id": job_id,
                    "txn_id": txn_id,
                    "status": PRINTING,
                    "attempts": attempts,
                    "receipt": json.dumps(receipt, ensure_ascii=False),
                    "created_at": ts,
                    "updated_at": ts,
                },
                pk="job_id",
            )
            return PrintClaim(job_id, allowed=True, already_printed=False)

        return self.store.write(op)

    def finish_print(self, job_id: str, *, ok: bool, error_code: str = "") -> None:
        def op(db: sqlite_utils.Database) -> None:
            db.table("print_jobs").update(
                job_id,
                {"status": PRINTED if ok else PRINT_FAILED, "error_code": error_code, "updated_at": now()},
            )

        self.store.write(op)

    def print_job(self, job_id: str) -> dict[str, Any] | None:
        rows = list(self.store.read().query("SELECT * FROM print_jobs WHERE job_id = ?", [job_id]))
        return rows[0] if rows else None


# States whose outcome the kiosk does not know for sure yet: what a heartbeat reports as its queue.
UNRESOLVED = (REGISTERING, FILING, PAYING, PAYMENT_PENDING, PAYMENT_UNKNOWN, REFUNDING, REFUND_UNKNOWN)


def unresolved(journal: Journal) -> tuple[int, float | None]:
    """(count, age in seconds of the oldest) of transactions still waiting for an outcome."""
    marks = ",".join("?" * len(UNRESOLVED))
    row = next(
        iter(
            journal.store.read().query(
                f"SELECT count(*) AS n, min(created_at) AS oldest FROM transactions WHERE state IN ({marks})",
                list(UNRESOLVED),
            )
        )
    )
    if not row["n"]:
        return 0, None
    oldest = datetime.fromisoformat(row["oldest"])
    return int(row["n"]), (datetime.now(UTC) - oldest).total_seconds()
