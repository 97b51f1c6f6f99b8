"""Schema v8: the offline outbox's operations, as received from kiosks (server/sync_ops.py).

A separate module, like the other features' ``tables`` modules: server/schema.py imports it, and
server/sync_ops.py (the routes) imports the database layer, so the DDL there would be an import cycle.
"""

from __future__ import annotations

from server.ddl import Statement

SYNC_OPS_V8: tuple[Statement, ...] = (
    """CREATE TABLE IF NOT EXISTS sync_ops (
    key TEXT PRIMARY KEY,             -- the kiosk's op key; permanent, like payment keys
    kiosk_id TEXT NOT NULL,           -- the signer, never a kiosk id sent in the body
    kind TEXT NOT NULL,               -- patient.file / registration.create
    body_sha256 TEXT NOT NULL,        -- of {kind, depends_on, body}: the body itself (PII) is never stored
    status INTEGER NOT NULL,          -- the HTTP-like status of the stored result (2xx applied, 4xx rejected)
    response_json TEXT NOT NULL,      -- {"body", "error"}: replayed verbatim on a re-send
    claimed_at TEXT,                  -- the kiosk's own clock: a claim for staff, never used for decisions
    received_at TEXT NOT NULL         -- server time
)""",
    "CREATE INDEX IF NOT EXISTS sync_ops_by_kiosk ON sync_ops(kiosk_id, received_at)",
)
