"""Stored reconciliation runs: one row per provider and bill day, replaced when the day is re-run."""

from __future__ import annotations

RECONCILE_V7: tuple[str, ...] = (
    """CREATE TABLE IF NOT EXISTS reconciliation_runs (
    id INTEGER PRIMARY KEY,
    bill_date TEXT NOT NULL,          -- YYYY-MM-DD, the provider's (China Standard Time) day
    provider TEXT NOT NULL CHECK (provider IN ('wechat', 'alipay')),
    status TEXT NOT NULL CHECK (status IN ('ok', 'findings', 'failed')),
    findings INTEGER NOT NULL,        -- number of findings; 0 when ok
    error TEXT,                       -- why the bill could not be reconciled (status 'failed')
    report_json TEXT NOT NULL,        -- ReconciliationReport.to_dict(); amounts as "12.30" strings
    report_html TEXT NOT NULL,        -- server.reconcile.render_html(), already escaped
    created_at TEXT NOT NULL,
    UNIQUE (bill_date, provider)
)""",
    "CREATE INDEX IF NOT EXISTS reconciliation_runs_by_date ON reconciliation_runs(bill_date)",
)
