"""Hash-chained, append-only audit log (sync.md §5 "Tamper-evident audit log").

Each entry stores the previous entry's hash and ``hash = sha256(prev_hash|at|actor|action|detail)``,
so editing, deleting or reordering a row breaks the chain from that row on; the first entry chains
from 64 zeros. Triggers (server/migrations.py) make the table append-only in SQLite itself. A chain
alone cannot reveal that its newest entries were cut off; anchoring the head elsewhere is future work.

Entries are written inside the caller's write transaction, so an audited effect and its entry
commit or roll back together, and ``BEGIN IMMEDIATE`` serializes appenders (no forked chain).
Details carry ids, amounts and states only: never names, ID numbers or payment codes.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter

from server.dbapi import Conn, read_tx, utc_now
from server.deps import DbDep

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


@router.get("/audit/verify")
def verify_endpoint(db: DbDep) -> dict[str, Any]:
    # One read transaction, so the count and the walk see the same snapshot.
    with db.connection() as conn, read_tx(conn):
        entries = int(conn.execute("SELECT count(*) FROM audit_log").fetchone()[0])
        ok, first_bad = verify(conn)
    return {"ok": ok, "entries": entries, "first_bad": first_bad}
