"""The staff worklist: operations a person has to finish by hand (rebook, refund, review).

Other features file items with :func:`add_work_item` inside their own write transaction (offline sync rejections,
reconciliation findings, payments that need a look); admins resolve them on the dashboard. An item's ``detail`` is
shown to staff as it is, so it must never hold patient names or ID numbers: use masked forms and internal ids.

Plain portable DDL here (server/schema.py imports this module, so it must not import server.schema).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Literal, get_args

from server.dbapi import Conn, utc_now

WorkKind = Literal["rebook", "refund", "manual_review"]
WorkSource = Literal["offline_sync", "reconciliation", "payment"]
WORK_KINDS: tuple[str, ...] = get_args(WorkKind)
WORK_SOURCES: tuple[str, ...] = get_args(WorkSource)
MAX_REFERENCE = 200

WORKLIST_V5: tuple[str, ...] = (
    """CREATE TABLE IF NOT EXISTS worklist_items (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,               -- rebook / refund / manual_review (WORK_KINDS)
    source TEXT NOT NULL,             -- offline_sync / reconciliation / payment (WORK_SOURCES)
    reference TEXT NOT NULL,          -- what it is about: an out_trade_no, an idempotency key, a bill day
    detail_json TEXT NOT NULL,        -- a JSON object shown to staff; never names or ID numbers
    status TEXT NOT NULL CHECK (status IN ('open', 'resolved')),
    created_at TEXT NOT NULL,
    resolved_at TEXT,
    resolved_by TEXT                  -- the staff username
)""",
    "CREATE INDEX IF NOT EXISTS worklist_items_by_status ON worklist_items(status, id)",
    "CREATE INDEX IF NOT EXISTS worklist_items_by_reference ON worklist_items(reference)",
)


def add_work_item(conn: Conn, kind: WorkKind, source: WorkSource, reference: str, detail: Mapping[str, Any]) -> int:
    """File an open item and return its id; the caller owns the (write) transaction.

    Idempotent while the item is open: filing the same kind, source and reference again (a re-run reconciliation,
    a re-sent offline batch) returns the open item's id instead of a duplicate.
    """
    if kind not in WORK_KINDS:
        raise ValueError(f"unknown worklist kind {kind!r}")
    if source not in WORK_SOURCES:
        raise ValueError(f"unknown worklist source {source!r}")
    if not reference or len(reference) > MAX_REFERENCE:
        raise ValueError("a worklist reference is 1 to 200 characters")
    existing = conn.execute(
        "SELECT id FROM worklist_items WHERE kind = ? AND source = ? AND reference = ? AND status = 'open'",
        (kind, source, reference),
    ).fetchone()
    if existing is not None:
        return int(existing["id"])
    cur = conn.execute(
        "INSERT INTO worklist_items(kind, source, reference, detail_json, status, created_at)"
        " VALUES (?, ?, ?, ?, 'open', ?) RETURNING id",
        (kind, source, reference, json.dumps(dict(detail), ensure_ascii=False, sort_keys=True), utc_now()),
    )
    return int(cur.fetchone()[0])


def resolve_work_item(conn: Conn, item_id: int, resolved_by: str) -> bool:
    """Mark an open item resolved; False when there is no such open item. The caller owns the transaction."""
    cur = conn.execute(
        "UPDATE worklist_items SET status = 'resolved', resolved_at = ?, resolved_by = ?"
        " WHERE id = ? AND status = 'open'",
        (utc_now(), resolved_by, item_id),
    )
    return cur.rowcount == 1


def list_work_items(conn: Conn, status: Literal["open", "resolved"], limit: int = 200) -> list[dict[str, Any]]:
    """Open items oldest first (a queue); resolved ones newest first (a history)."""
    order = "id" if status == "open" else "resolved_at DESC, id DESC"
    rows = conn.execute(
        f"SELECT * FROM worklist_items WHERE status = ? ORDER BY {order} LIMIT ?", (status, limit)
    ).fetchall()
    items = []
    for row in rows:
        item = {key: row[key] for key in row.keys()}  # noqa: SIM118 - PgRow is not a Mapping
        item["detail"] = json.loads(row["detail_json"])
        items.append(item)
    return items
