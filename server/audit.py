"""Hash-chained, append-only audit log (sync.md §5 "Tamper-evident audit log").

Each entry stores the previous entry's hash and ``hash = sha256(prev_hash|at|actor|action|detail)``,
so editing, deleting or reordering a row breaks the chain from that row on; the first entry chains
from 64 zeros. Triggers (server/schema.py) make the table append-only in the database itself.

A chain alone cannot reveal that its newest entries were cut off, so the head is anchored outside
the database: :class:`Anchor` writes the latest (seq, hash) to a file (every minute and at
shutdown) and to the log, and ``verify`` checks that the anchored entry is still there, unchanged.
Keep the anchor file on other storage than the database (or ship the log lines off the machine).
Entries are never deleted: the log is kept for as long as the database (≥ 5 years by policy).

Entries are written inside the caller's write transaction, so an audited effect and its entry
commit or roll back together, and ``BEGIN IMMEDIATE`` serializes appenders (no forked chain).
Details carry ids, amounts and states only: never names, ID numbers or payment codes.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request

from server.dbapi import Conn, read_tx, utc_now
from server.deps import DbDep

if TYPE_CHECKING:
    from server.db import Store

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/api/v1", tags=["audit"])

GENESIS_HASH = "0" * 64
# The hash input is "|"-joined; only ``detail`` (the last field) may contain "|", so the split is
# unambiguous and a "|" cannot be moved between fields without changing the hash.
_TOKEN = re.compile(r"^[^|]{1,100}$")


def entry_hash(prev_hash: str, at: str, actor: str, action: str, detail: str) -> str:
    return hashlib.sha256("|".join((prev_hash, at, actor, action, detail)).encode()).hexdigest()


def append(conn: Conn, actor: str, action: str, detail: str | Mapping[str, Any]) -> int:
    """Add one entry in the caller's (already open, write) transaction; returns its seq."""
    if not conn.in_transaction:
        # Outside a transaction the read of the head and the insert could interleave with another writer.
        raise RuntimeError("audit.append must run inside the caller's write transaction")
    if not _TOKEN.match(actor) or not _TOKEN.match(action):
        raise ValueError("audit actor/action must be 1-100 characters without '|'")
    if not isinstance(detail, str):
        # Canonical JSON, so the same facts always hash the same way.
        detail = json.dumps(dict(detail), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    head = conn.execute("SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()
    prev_hash = head[0] if head is not None else GENESIS_HASH
    at = utc_now()
    cur = conn.execute(
        "INSERT INTO audit_log(at, actor, action, detail, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?) RETURNING seq",
        (at, actor, action, detail, prev_hash, entry_hash(prev_hash, at, actor, action, detail)),
    )
    return int(cur.fetchone()[0])


def verify(conn: Conn) -> tuple[bool, int | None]:
    """Walk the whole chain: (True, None) if intact, else (False, seq of the first entry that fails)."""
    prev_hash = GENESIS_HASH
    for seq, at, actor, action, detail, stored_prev, stored_hash in conn.execute(
        "SELECT seq, at, actor, action, detail, prev_hash, hash FROM audit_log ORDER BY seq"
    ):
        if stored_prev != prev_hash or stored_hash != entry_hash(stored_prev, at, actor, action, detail):
            logger.error("audit chain broken at seq %d", seq)
            return False, int(seq)
        prev_hash = stored_hash
    return True, None


def head(conn: Conn) -> tuple[int, str] | None:
    row = conn.execute("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()
    return None if row is None else (int(row[0]), str(row[1]))


class Anchor:
    """The chain's head as last seen, in a small file outside the database."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self) -> tuple[int, str] | None:
        try:
            data = json.loads(self.path.read_text())
            return int(data["seq"]), str(data["hash"])
        except FileNotFoundError:
            return None
        except (ValueError, KeyError, TypeError):
            logger.error("audit anchor %s is unreadable", self.path)
            return None

    def write(self, conn: Conn) -> tuple[int, str] | None:
        current = head(conn)
        if current is None or current == self.read():
            return current
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        with tmp.open("w") as f:
            json.dump({"seq": current[0], "hash": current[1], "at": utc_now()}, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)
        logger.info("audit head seq=%d hash=%s", *current)  # the log is a second witness
        return current

    def check(self, conn: Conn) -> bool:
        """False if the anchored entry is missing or different: the log was cut off or rewritten."""
        anchored = self.read()
        if anchored is None:
            return True
        row = conn.execute("SELECT hash FROM audit_log WHERE seq = ?", (anchored[0],)).fetchone()
        if row is None or row[0] != anchored[1]:
            logger.error("audit log no longer holds the anchored head seq=%d: truncated or rewritten", anchored[0])
            return False
        return True


class AnchorKeeper:
    """Writes the anchor every ``interval_s`` in a thread, and once more when stopped."""

    def __init__(self, anchor: Anchor, db: Store, interval_s: float = 60.0) -> None:
        self.anchor, self.db, self.interval_s = anchor, db, interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="audit-anchor", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5)
        self._write()

    def _write(self) -> None:
        try:
            with self.db.connection() as conn:
                self.anchor.write(conn)
        except Exception:  # never take the server down for the anchor; the next round retries
            logger.exception("could not write the audit anchor")

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self._write()


@router.get("/audit/verify")
def verify_endpoint(db: DbDep, request: Request) -> dict[str, Any]:
    """``ok`` is false if an entry was changed (``first_bad``) or the newest ones were cut off."""
    anchor: Anchor | None = getattr(request.app.state, "audit_anchor", None)
    # One read transaction, so the count and the walk see the same snapshot.
    with db.connection() as conn, read_tx(conn):
        entries = int(conn.execute("SELECT count(*) FROM audit_log").fetchone()[0])
        ok, first_bad = verify(conn)
        head_intact = anchor.check(conn) if anchor is not None else True
    return {"ok": ok and head_intact, "entries": entries, "first_bad": first_bad, "truncated": not head_intact}
