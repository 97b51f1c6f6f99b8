"""What the dashboard reads: plain SELECTs over the server's tables, portable between SQLite and PostgreSQL.

The kiosk list is :func:`server.fleet.list_kiosks` itself, so "online" and "device fault" mean exactly what the
fleet API says. Payments are read column by column: never the response_json, and only the masked payment code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from server import fleet
from server.dashboard.tables import list_work_items
from server.db import Store
from server.dbapi import read_tx
from server.settings import ServerSettings

PaymentStatus = Literal["PENDING", "SUCCESS", "FAILED", "REVERSED"]
PAYMENT_STATUSES: tuple[PaymentStatus, ...] = ("SUCCESS", "PENDING", "FAILED", "REVERSED")
_PAYMENT_COLUMNS = "id, created_at, kiosk_id, channel, amount_cents, status, auth_code_masked, error_code, out_trade_no"


@dataclass(frozen=True)
class PaymentPage:
    rows: list[dict[str, Any]]
    total: int  # rows matching the filter
    counts: dict[str, int]  # per status, unfiltered


def kiosks(db: Store, settings: ServerSettings) -> list[dict[str, Any]]:
    return fleet.list_kiosks(db, settings)


def payments(db: Store, status: PaymentStatus | None, limit: int, offset: int) -> PaymentPage:
    where, params = ("WHERE status = ?", (status,)) if status else ("", ())
    with db.connection() as conn, read_tx(conn):
        rows = conn.execute(
            f"SELECT {_PAYMENT_COLUMNS} FROM payments {where} ORDER BY id DESC LIMIT ? OFFSET ?",
            (*params, limit, offset),
        ).fetchall()
        counts = {str(r[0]): int(r[1]) for r in conn.execute("SELECT status, count(*) FROM payments GROUP BY status")}
    total = counts.get(status, 0) if status else sum(counts.values())
    return PaymentPage([{k: r[k] for k in r.keys()} for r in rows], total, counts)  # noqa: SIM118 - PgRow


def reconciliation_runs(db: Store, limit: int = 60) -> list[dict[str, Any]]:
    """The stored runs, newest bill day first (one row per day and provider: a re-run replaces its row)."""
    with db.connection() as conn:
        rows = conn.execute(
            "SELECT id, bill_date, provider, status, findings, error, report_html, created_at"
            " FROM reconciliation_runs ORDER BY bill_date DESC, provider LIMIT ?",
            (limit,),
        ).fetchall()
    return [{k: r[k] for k in r.keys()} for r in rows]  # noqa: SIM118 - PgRow


def worklist(db: Store) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(open items oldest first, the 20 most recently resolved)."""
    with db.connection() as conn, read_tx(conn):
        return list_work_items(conn, "open"), list_work_items(conn, "resolved", limit=20)


def open_work_count(db: Store) -> int:
    with db.connection() as conn:
        row = conn.execute("SELECT count(*) FROM worklist_items WHERE status = 'open'").fetchone()
    return int(row[0])
