"""Schema v9: refunds (server/refunds/service.py).

One row per refund asked for, keyed by the client's refund key for good (like payments: a kiosk or
a cashier may retry days later and must get the same refund back, never a second one). The row is
committed, status ``requested``, before any provider is called. ``out_refund_no`` is ours and is
what the provider deduplicates on: asking again with it can never refund twice.

Statuses: ``requested`` (recorded, the provider's answer not known yet), ``pending`` (the provider
answered unclearly or is still processing: the resolver queries), ``refunded`` (the provider
confirmed the money went back), ``failed`` (definitively not refunded; a staff work item is filed).
"""

from __future__ import annotations

REFUNDS_V9: tuple[str, ...] = (
    """CREATE TABLE IF NOT EXISTS refunds (
    id INTEGER PRIMARY KEY,
    -- permanent: a kiosk may retry after days offline, so keys are never pruned
    refund_key TEXT NOT NULL UNIQUE,
    request_hash TEXT NOT NULL,
    payment_id INTEGER NOT NULL REFERENCES payments(id),
    registration_id INTEGER REFERENCES registrations(id),  -- set when a 退号 asked for it
    amount_cents INTEGER NOT NULL CHECK (amount_cents > 0),
    reason TEXT NOT NULL,
    requested_by TEXT NOT NULL,   -- kiosk:<id>
    approved_by TEXT,             -- the supervisor who approved a cashier refund
    kiosk_id TEXT NOT NULL,
    channel TEXT NOT NULL,
    out_refund_no TEXT NOT NULL UNIQUE,
    provider_refund_id TEXT,
    status TEXT NOT NULL CHECK (status IN ('requested', 'pending', 'refunded', 'failed')),
    error_code TEXT,
    response_json TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    refunded_at TEXT
)""",
    "CREATE INDEX IF NOT EXISTS refunds_by_payment ON refunds(payment_id, status)",
    "CREATE INDEX IF NOT EXISTS refunds_by_status ON refunds(status)",
    "CREATE INDEX IF NOT EXISTS refunds_by_created ON refunds(created_at)",
)
