"""The outbox: operations the server must apply exactly once, kept on the kiosk until it has.

The business row and its outbox row are written in the same store transaction (the caller's
``store.write`` function calls :meth:`Outbox.add`), so there is never a receipt without a queued
operation, nor an operation without its business row. Delivery is at least once (the uploader
retries until it has an answer); the server applies each key once and replays its stored answer,
which makes the effect exactly once (``../shared/reference/sync.md`` §1.1-1.2).

Bodies are sealed with AES-GCM (a first-time filing carries a name and an ID number) and bound
to their key, so a body cannot be moved to another row. Capacity is capped in rows and bytes:
warnings at 50 % and 80 %, new operations refused at 90 %, so a kiosk that has been offline for
days fails loudly instead of filling its disk.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlite_utils

from offline_cache.ids import uuid7
from offline_cache.journal import now
from offline_cache.store import Store
from sync.fieldcrypto import FieldCipher

log = logging.getLogger(__name__)

PENDING, CONFIRMED, REJECTED = "pending", "confirmed", "rejected"

# Statuses the server stores under the key: any retry gets the same answer, so they are final.
# 422 idempotency_key_reused is not stored but is final too (a retry can only repeat it).
RETRY_LATER = {425}


class QueueFull(Exception):
    """The outbox is at 90 % of its row or byte cap: no new offline operation is accepted."""

    tr_key = "offline.queue_full"


@dataclass(frozen=True)
class Caps:
    max_rows: int = 100_000
    max_bytes: int = 200 * 1024 * 1024
    warn_levels: tuple[float, ...] = (0.5, 0.8)
    refuse_at: float = 0.9


@dataclass(frozen=True)
class QueueStats:
    pending: int
    pending_bytes: int
    rejected: int
    oldest_created_at: str | None
    fill: float  # the larger of rows / max_rows and bytes / max_bytes
    level: str  # "ok", "warn50", "warn80" or "full" (new operations refused), from the outbox's caps

    def oldest_age_s(self, at: datetime | None = None) -> float | None:
        if self.oldest_created_at is None:
            return None
        return ((at or datetime.now(UTC)) - datetime.fromisoformat(self.oldest_created_at)).total_seconds()


@dataclass(frozen=True)
class Op:
    seq: int
    key: str
    kind: str
    depends_on: str | None
    created_at: str
    body: dict[str, Any]
    attempts: int

    def wire(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "kind": self.kind,
            "depends_on": self.depends_on,
            "claimed_at": self.created_at,
            "body": self.body,
        }


@dataclass(frozen=True)
class Result:
    """The server's answer for one operation."""

    key: str
    status: int
    body: dict[str, Any] | None
    error_code: str | None
    replayed: bool = False

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


# Called inside the write transaction that records a result, to update the business row.
Applier = Callable[[sqlite_utils.Database, dict[str, Any], Result], None]


class Outbox:
    def __init__(self, store: Store, cipher: FieldCipher, caps: Caps | None = None) -> None:
        self.store, self.cipher, self.caps = store, cipher, caps or Caps()
        self._appliers: dict[str, Applier] = {}
        self._warned = 0.0

    def on_result(self, kind: str, applier: Applier) -> None:
        """Register what a result of ``kind`` does to its business row (same transaction)."""
        self._appliers[kind] = applier

    # ---- Writing (inside the caller's store.write transaction)

    def add(
        self,
        db: sqlite_utils.Database,
        kind: str,
        body: dict[str, Any],
        *,
        key: str | None = None,
        depends_on: str | None = None,
        txn_id: str | None = None,
    ) -> str:
        """Queue one operation in the caller's transaction; raises :class:`QueueFull` at the cap."""
        key = key or uuid7()
        sealed = self.cipher.encrypt(f"outbox:{key}", json.dumps(body, ensure_ascii=False, sort_keys=True))
        fill = self._fill(db, extra_bytes=len(sealed))
        if fill >= self.caps.refuse_at:
            log.error("outbox at %.0f %% of its cap: new offline operation refused", fill * 100)
            raise QueueFull(f"outbox at {fill:.0%}")
        self._warn(fill)
        db.execute(
            "INSERT INTO outbox(key, kind, depends_on, txn_id, body, bytes, state, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [key, kind, depends_on, txn_id, sealed, len(sealed), PENDING, now()],
        )
        return key

    def _fill(self, db: sqlite_utils.Database, extra_bytes: int = 0) -> float:
        row = db.execute("SELECT count(*), coalesce(sum(bytes), 0) FROM outbox WHERE state = ?", [PENDING]).fetchone()
        return self._ratio(int(row[0]) + 1, int(row[1]) + extra_bytes)

    def _ratio(self, rows: int, size: int) -> float:
        return max(rows / self.caps.max_rows, size / self.caps.max_bytes)

    def _warn(self, fill: float) -> None:
        crossed = [lvl for lvl in self.caps.warn_levels if fill >= lvl > self._warned]
        if crossed:
            self._warned = crossed[-1]
            log.warning("outbox at %.0f %% of its cap (warning level %.0f %%)", fill * 100, crossed[-1] * 100)
        elif fill < self._warned:
            self._warned = max([lvl for lvl in self.caps.warn_levels if fill >= lvl], default=0.0)

    # ---- Reading (any thread)

    def stats(self) -> QueueStats:
        db = self.store.read()
        row = db.execute(
            "SELECT count(*), coalesce(sum(bytes), 0), min(created_at) FROM outbox WHERE state = ?", [PENDING]
        ).fetchone()
        rejected = db.execute("SELECT count(*) FROM outbox WHERE state = ?", [REJECTED]).fetchone()[0]
        pending, size = int(row[0]), int(row[1])
        fill = self._ratio(pending, size)
        return QueueStats(pending, size, int(rejected), row[2], fill, self._level(fill))

    def _level(self, fill: float) -> str:
        if fill >= self.caps.refuse_at:
            return "full"
        crossed = [lvl for lvl in self.caps.warn_levels if fill >= lvl]
        return f"warn{round(max(crossed) * 100)}" if crossed else "ok"

    def pending_batch(self, limit: int) -> list[Op]:
        """The oldest pending operations, in the order they were queued."""
        rows = self.store.read().execute(
            "SELECT seq, key, kind, depends_on, created_at, body, attempts FROM outbox"
            " WHERE state = ? ORDER BY seq LIMIT ?",
            [PENDING, limit],
        )
        return [
            Op(seq, key, kind, dep, created, json.loads(self.cipher.decrypt(f"outbox:{key}", body)), attempts)
            for seq, key, kind, dep, created, body, attempts in rows
        ]

    def get(self, key: str) -> dict[str, Any] | None:
        rows = list(self.store.read().query("SELECT * FROM outbox WHERE key = ?", [key]))
        return rows[0] if rows else None

    def body(self, row: dict[str, Any]) -> dict[str, Any]:
        return dict(json.loads(self.cipher.decrypt(f"outbox:{row['key']}", row["body"])))

    # ---- Results (uploader thread)

    def record_attempt(self, keys: list[str], error: str) -> None:
        """A batch got no usable answer: count the attempt, keep the rows pending."""

        def op(db: sqlite_utils.Database) -> None:
            db.conn.executemany(
                "UPDATE outbox SET attempts = attempts + 1, last_error = ? WHERE key = ? AND state = ?",
                [(error, k, PENDING) for k in keys],
            )

        self.store.write(op)

    def record_results(self, results: list[Result]) -> int:
        """Store the server's answers and update business rows, all in one transaction.

        Returns how many operations became final. A 425 (dependency not yet seen) stays pending.
        """

        def op(db: sqlite_utils.Database) -> int:
            done = 0
            ts = now()
            for result in results:
                rows = list(db.query("SELECT * FROM outbox WHERE key = ?", [result.key]))
                if not rows or rows[0]["state"] != PENDING:
                    continue  # an answer for a row already final (a duplicate answer): nothing to do
                row = rows[0]
                if result.status in RETRY_LATER:
                    db.execute(
                        "UPDATE outbox SET attempts = attempts + 1, last_error = ? WHERE key = ?",
                        [result.error_code or str(result.status), result.key],
                    )
                    continue
                state = CONFIRMED if result.ok else REJECTED
                answer = {"body": result.body, "error": result.error_code}
                db.execute(
                    "UPDATE outbox SET state = ?, attempts = attempts + 1, result_status = ?, result_json = ?,"
                    " last_error = ?, done_at = ? WHERE key = ?",
                    [state, result.status, json.dumps(answer, ensure_ascii=False), result.error_code, ts, result.key],
                )
                applier = self._appliers.get(row["kind"])
                if applier is not None:
                    applier(db, row, result)
                if state == REJECTED:
                    log.warning("outbox %s %s rejected by the server: %s", row["kind"], result.key, result.error_code)
                done += 1
            return done

        return self.store.write(op)

    # ---- Housekeeping

    def purge(self, older_than: timedelta = timedelta(days=30)) -> int:
        """Delete final rows older than ``older_than`` (secure_delete zeroes their pages)."""
        cutoff = (datetime.now(UTC) - older_than).isoformat(timespec="milliseconds")

        def op(db: sqlite_utils.Database) -> int:
            cur = db.execute("DELETE FROM outbox WHERE state != ? AND done_at < ?", [PENDING, cutoff])
            return int(cur.rowcount)

        purged = self.store.write(op)
        if purged:
            log.info("purged %d confirmed outbox rows older than %s", purged, older_than)
        return purged
