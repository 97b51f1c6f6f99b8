"""The closed shift's report as files under the kiosk's data directory: JSON (everything the
server answered plus what the kiosk counted) and CSV (one row per settlement and refund, then the
totals), for the finance office. Written to a temporary name and renamed, so a file that exists
is complete."""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kiosk_app.features.cashier.commands import Exported
from sync.client import ShiftReport

CSV_HEADER = ("kind", "key", "channel", "amount_cents", "status", "created_at", "detail")


def _write(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    with tmp.open("w", encoding="utf-8", newline="") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    tmp.replace(path)


def report_csv(report: ShiftReport) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    for s in report.raw.get("settlements", []):
        bills = " ".join(str(b) for b in s.get("bill_ids", []))
        regs = " ".join(str(r) for r in s.get("registration_ids", []))
        writer.writerow(
            ("settlement", s["key"], s["channel"], s["amount_cents"], s["status"], s["created_at"],
             f"bills {bills}; registrations {regs}".strip())
        )  # fmt: skip
    for r in report.raw.get("refund_entries", []):
        writer.writerow(
            ("refund", r["refund_key"], r["channel"], r["amount_cents"], r["status"], r["created_at"],
             f"payment {r['payment_key']}; approved by {r['approved_by']}")
        )  # fmt: skip
    for channel, total in sorted(report.totals.items()):
        writer.writerow(("total", channel, channel, total.amount_cents, total.count, report.generated_at, ""))
    writer.writerow(("total", "refunds", "", report.refund_cents, report.refund_count, report.generated_at, ""))
    writer.writerow(("total", "net", "", report.net_cents, report.transaction_count, report.generated_at, ""))
    counted = "" if report.cash_counted_cents is None else report.cash_counted_cents
    writer.writerow(("cash", "expected", "cash", report.cash_expected_cents, "", "", f"counted {counted}"))
    for m in report.mismatches:
        writer.writerow(("mismatch", m.key, "", "", m.kind, "", m.detail or ""))
    return out.getvalue()


def export_report(directory: Path, report: ShiftReport, ledger: Sequence[dict[str, Any]]) -> Exported:
    """Write ``shift-<kiosk>-<id>.json`` and ``.csv`` into ``directory`` (created if missing)."""
    directory.mkdir(parents=True, exist_ok=True)
    shift = report.shift
    stem = f"shift-{shift.kiosk_id}-{shift.shift_id}"
    json_path, csv_path = directory / f"{stem}.json", directory / f"{stem}.csv"
    document = {"report": report.raw, "kiosk_ledger": list(ledger)}
    _write(json_path, json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True))
    _write(csv_path, report_csv(report))
    return Exported(str(json_path), str(csv_path))
