"""Daily reconciliation of our payments with WeChat Pay and Alipay bills (protocols.md §3.6).

Pure functions over bytes and dataclasses: no database, no network, no Qt. The caller downloads the bills,
selects the day's ledger rows and stores or shows the report.
"""

from server.reconcile.alipay_bill import parse_alipay_bill_zip, parse_alipay_detail_csv
from server.reconcile.matcher import (
    FINDING_KINDS,
    Finding,
    FindingKind,
    LedgerEntry,
    ProviderReport,
    ReconciliationReport,
    china_day_bounds_utc,
    ledger_from_payment_rows,
    reconcile,
    reconcile_provider,
)
from server.reconcile.records import (
    MAX_BILL_BYTES,
    BillErrorAnswer,
    BillFormatError,
    ParsedBill,
    ProviderRecord,
    cents_to_decimal,
    format_yuan,
    yuan_to_cents,
)
from server.reconcile.report import render_html, render_text
from server.reconcile.wechat_bill import parse_wechat_bill

__all__ = [
    "FINDING_KINDS",
    "MAX_BILL_BYTES",
    "BillErrorAnswer",
    "BillFormatError",
    "Finding",
    "FindingKind",
    "LedgerEntry",
    "ParsedBill",
    "ProviderRecord",
    "ProviderReport",
    "ReconciliationReport",
    "cents_to_decimal",
    "china_day_bounds_utc",
    "format_yuan",
    "ledger_from_payment_rows",
    "parse_alipay_bill_zip",
    "parse_alipay_detail_csv",
    "parse_wechat_bill",
    "reconcile",
    "reconcile_provider",
    "render_html",
    "render_text",
    "yuan_to_cents",
]
