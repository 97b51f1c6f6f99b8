"""The reprint of a slip: the original's text under a 补打 (REPRINT) mark, with its copy number."""

from __future__ import annotations

from datetime import datetime

from devices.printer import Receipt
from offline_cache.reprints import MAX_REPRINTS, PrintRecord


def local_time(utc_iso: str) -> str:
    try:
        return datetime.fromisoformat(utc_iso).astimezone().strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return utc_iso


def reprint_slip(*, job_id: str, record: PrintRecord, copy_no: int, kiosk_id: str, printed_at: str) -> Receipt:
    """Only what the journal kept of the original (title and lines, masked identity) is printed."""
    return Receipt(
        job_id=job_id,
        # the title prints in double size: the mark can't be missed
        title=f"{record.title}\n【补打 REPRINT】",
        lines=(
            ("补打", f"第{copy_no}次（共可补打{MAX_REPRINTS}次） Copy {copy_no} of {MAX_REPRINTS}"),
            ("原打印时间", local_time(record.printed_at)),
            *record.lines,
        ),
        footer=(
            f"终端：{kiosk_id}",
            f"补打时间：{printed_at}",
            "本单为补打凭条，内容与原凭条相同。This is a reprint of the original slip.",
        ),
    )
