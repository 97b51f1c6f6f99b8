"""Daily reconciliation: download each provider's bill, match it against our payments, store the report.

One run per provider and bill day (``reconciliation_runs``, replaced when the day is re-run).
A provider whose bill cannot be fetched or parsed is stored as ``failed`` with the reason: a day
is never shown as reconciled when it was not. Findings also go to the staff worklist, where a
person decides (refund a paid-but-unknown charge, chase a known-but-unpaid one).

Which of our payments belong to a bill day: those created within that day in China time, the
providers' day. A payment started seconds before midnight may be on the next day's bill; its
finding says so in plain words and re-running the next day's reconciliation clears it.
"""

from __future__ import annotations

import html
import json
import logging
from collections.abc import Callable
from datetime import date
from typing import Any

from server import audit
from server.db import Store
from server.dbapi import utc_now, write_tx
from server.payments.alipay import AlipayClient, BillFetchError
from server.payments.wechat import BillDownloadError, WeChatPayClient
from server.reconcile.alipay_bill import parse_alipay_bill_zip
from server.reconcile.matcher import (
    ReconciliationReport,
    china_day_bounds_utc,
    ledger_from_payment_rows,
    reconcile_provider,
)
from server.reconcile.records import BillFormatError, ParsedBill
from server.reconcile.report import render_html
from server.reconcile.wechat_bill import parse_wechat_bill
from server.refunds.service import refund_ledger

logger = logging.getLogger(__name__)

# Alipay answers this sub_code for a day without any trade: an empty bill, not a failure.
ALIPAY_NO_BILL = "isp.bill_not_exist"
WECHAT_NO_BILL = "20002"

# (conn, kind, source, reference, detail): server.dashboard.tables.add_work_item
WorkItemSink = Callable[..., object]


class Reconciler:
    def __init__(
        self, db: Store, wechat: WeChatPayClient, alipay: AlipayClient, work_items: WorkItemSink | None = None
    ) -> None:
        self.db = db
        self.wechat = wechat
        self.alipay = alipay
        self.work_items = work_items

    def _wechat_bill(self, day: date) -> ParsedBill:
        try:
            return parse_wechat_bill(self.wechat.downloadbill(f"{day:%Y%m%d}"))
        except BillDownloadError as exc:
            if exc.code == WECHAT_NO_BILL:
                return ParsedBill("wechat", (), bill_date=day.isoformat())
            raise

    def _alipay_bill(self, day: date) -> ParsedBill:
        answer = self.alipay.bill_download_url(day)
        if answer.url is None:
            if answer.code == ALIPAY_NO_BILL:
                return ParsedBill("alipay", (), bill_date=day.isoformat())
            raise BillFetchError(answer.code or "NO_URL", answer.message or "no bill URL")
        return parse_alipay_bill_zip(self.alipay.fetch_bill(answer.url))

    def _ledger_rows(self, day: date) -> list[dict[str, Any]]:
        start, end = china_day_bounds_utc(day)
        with self.db.connection() as conn:
            rows = conn.execute(
                "SELECT channel, out_trade_no, amount_cents, status FROM payments"
                " WHERE created_at >= ? AND created_at < ? ORDER BY id",
                (start.isoformat(timespec="milliseconds"), end.isoformat(timespec="milliseconds")),
            ).fetchall()
        return [dict(r) for r in rows]

    def run(self, day: date) -> list[dict[str, Any]]:
        """Reconcile both providers for ``day`` (China time); returns one summary per provider."""
        ledger = ledger_from_payment_rows(self._ledger_rows(day))
        with self.db.connection() as conn:
            ledger += refund_ledger(conn, day)  # our refunds, against the bills' refund lines
        fetchers = {"wechat": self._wechat_bill, "alipay": self._alipay_bill}
        results = []
        for provider, fetch in fetchers.items():
            try:
                bill = fetch(day)
            except (BillDownloadError, BillFetchError, BillFormatError) as exc:
                logger.error("reconciliation %s %s: bill unusable: %s", day, provider, exc)
                results.append(self._store_failure(day, provider, str(exc)))
                continue
            provider_report = reconcile_provider(provider, ledger, bill)  # type: ignore[arg-type]
            report = ReconciliationReport(day.isoformat(), (provider_report,))
            results.append(self._store(day, provider, report))
        return results

    def _store(self, day: date, provider: str, report: ReconciliationReport) -> dict[str, Any]:
        findings = report.findings
        status = "ok" if not findings else "findings"
        with self.db.connection() as conn, write_tx(conn):
            self._upsert(conn, day, provider, status, len(findings), None, report.to_dict(), render_html(report))
            for finding in findings:
                if self.work_items is not None:
                    self.work_items(conn, "manual_review", "reconciliation", finding.out_trade_no, finding.to_dict())
            audit.append(
                conn, "server", "reconciliation.run", {"date": day.isoformat(), "provider": provider, "status": status}
            )
        logger.info("reconciliation %s %s: %s (%d findings)", day, provider, status, len(findings))
        return {"bill_date": day.isoformat(), "provider": provider, "status": status, "findings": len(findings)}

    def _store_failure(self, day: date, provider: str, error: str) -> dict[str, Any]:
        fragment = f'<section class="reconcile-report"><p>bill unusable: {html.escape(error)}</p></section>'
        with self.db.connection() as conn, write_tx(conn):
            self._upsert(conn, day, provider, "failed", 0, error[:500], {"error": error[:500]}, fragment)
            detail = {"date": day.isoformat(), "provider": provider, "status": "failed"}
            audit.append(conn, "server", "reconciliation.run", detail)
        return {"bill_date": day.isoformat(), "provider": provider, "status": "failed", "findings": 0, "error": error}

    @staticmethod
    def _upsert(
        conn: Any,
        day: date,
        provider: str,
        status: str,
        findings: int,
        error: str | None,
        report: dict[str, Any],
        fragment: str,
    ) -> None:
        conn.execute(
            "INSERT INTO reconciliation_runs(bill_date, provider, status, findings, error, report_json, report_html,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(bill_date, provider) DO UPDATE SET"
            " status = excluded.status, findings = excluded.findings, error = excluded.error,"
            " report_json = excluded.report_json, report_html = excluded.report_html, created_at = excluded.created_at",
            (
                day.isoformat(),
                provider,
                status,
                findings,
                error,
                json.dumps(report, ensure_ascii=False),
                fragment,
                utc_now(),
            ),
        )
