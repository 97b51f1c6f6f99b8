"""Receipt reprints (补打) from the journal's print-back records: a patient's recent slips, a capped count.

A reprint is a print job of its own, ``<original job id>:reprint:<n>``, claimed in ``print_jobs``
like any slip (journal.claim_print / finish_print), so every copy that left the printer is on
record with the original it copies. A copy counts once it printed, or may have (a crash mid-print
left it ``printing``: the paper may be out, so it counts; a person decides beyond the limit). A
failed copy (paper out) does not count, and trying again reuses its job id.

Only receipts already on record are reprinted, and those hold masked identity data only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from offline_cache.journal import PRINTED, PRINTING, Journal

MAX_REPRINTS = 2  # per original slip; more needs the staff
REPRINT_MARK = ":reprint:"
RECENT_DAYS = 30
RECENT_LIMIT = 10


@dataclass(frozen=True)
class PrintRecord:
    """An original slip of a transaction, as the journal holds it."""

    job_id: str
    txn_id: str
    kind: str  # the transaction's kind: registration, refund, filing, ...
    title: str
    lines: tuple[tuple[str, str], ...]
    printed_at: str  # UTC ISO, when the original was first claimed
    status: str  # the original's print status: printed | failed | printing
    reprints: int  # copies made so far (printed, or possibly printed)

    @property
    def reprints_left(self) -> int:
        return max(MAX_REPRINTS - self.reprints, 0)


def _lines(raw: object) -> tuple[tuple[str, str], ...]:
    if not isinstance(raw, list):
        return ()
    return tuple((str(pair[0]), str(pair[1])) for pair in raw if isinstance(pair, list) and len(pair) == 2)


NOT_REPRINTABLE = ("report_print",)  # a single "?" above: one kind


def recent_prints(
    journal: Journal, patient_ref: str, *, days: int = RECENT_DAYS, limit: int = RECENT_LIMIT
) -> list[PrintRecord]:
    """The patient's original slips of the last ``days``, newest first; reprints are not listed."""
    if not patient_ref:
        return []  # a transaction without a patient (an unfinished filing) is nobody's to reprint
    since = (datetime.now(UTC) - timedelta(days=days)).isoformat(timespec="milliseconds")
    rows = journal.store.read().query(
        "SELECT p.job_id, p.txn_id, p.status, p.receipt, p.created_at, t.kind,"
        # an exact prefix, not LIKE: a job id may hold "_" or "%"
        " (SELECT count(*) FROM print_jobs c WHERE substr(c.job_id, 1, length(p.job_id) + ?) = p.job_id || ?"
        "   AND c.status IN (?, ?)) AS reprints"
        " FROM print_jobs p JOIN transactions t ON t.id = p.txn_id"
        " WHERE t.patient_ref = ? AND p.created_at >= ? AND instr(p.job_id, ?) = 0"
        # A report's copies are counted by the server and a second one needs a reason (features/reports):
        # a receipt reprint must not become a way around that.
        " AND t.kind NOT IN (?)"
        " ORDER BY p.created_at DESC, p.rowid DESC LIMIT ?",
        [len(REPRINT_MARK), REPRINT_MARK, PRINTED, PRINTING, patient_ref, since, REPRINT_MARK, *NOT_REPRINTABLE, limit],
    )
    records = []
    for row in rows:
        try:
            receipt = json.loads(row["receipt"] or "{}")
        except json.JSONDecodeError:
            continue  # an unreadable record can't be reprinted faithfully; leave it to staff
        if not isinstance(receipt, dict) or not receipt.get("title"):
            continue
        records.append(
            PrintRecord(
                job_id=row["job_id"],
                txn_id=row["txn_id"],
                kind=row["kind"],
                title=str(receipt["title"]),
                lines=_lines(receipt.get("lines")),
                printed_at=row["created_at"],
                status=row["status"],
                reprints=int(row["reprints"]),
            )
        )
    return records


def next_reprint_job(journal: Journal, job_id: str) -> tuple[str, int] | None:
    """(job id, copy number) of the next reprint of ``job_id``, or None when the limit is reached."""
    prefix = job_id + REPRINT_MARK
    rows = journal.store.read().query(
        "SELECT job_id, status FROM print_jobs WHERE substr(job_id, 1, ?) = ?", [len(prefix), prefix]
    )
    counted = 0
    failed: list[int] = []
    for row in rows:
        n = int(row["job_id"].rsplit(":", 1)[1])
        if row["status"] in (PRINTED, PRINTING):
            counted += 1
        else:
            failed.append(n)
    if counted >= MAX_REPRINTS:
        return None
    # A copy that failed (paper out) is tried again under its own id; otherwise the next number.
    n = min(failed) if failed else counted + 1
    return f"{job_id}{REPRINT_MARK}{n}", n
