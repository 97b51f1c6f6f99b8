"""Readiness report: device statuses, versions, free disk, the sync state (online or not, the
offline outbox, the clock offset), recent transactions by state and recent errors, as JSON plus a
plain-text twin (no Qt; blocking: build and write from a worker).

It goes to a mounted USB stick when one is found (``/media/*/*``, ``/run/media/*/*``), else to
``<data_dir>/reports``. It holds no patient data: journal rows are only counted, and log lines
have already passed the log privacy filter.
"""

from __future__ import annotations

import glob
import json
import os
import platform
import shutil
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from devices.base import DeviceStatus
from devices.errors import DeviceState
from kiosk_app.diagnostics.logtail import recent_problems
from offline_cache.journal import Journal
from offline_cache.outbox import QueueStats
from sync.uploader import UploaderStatus

USB_PATTERNS = ("/media/*/*", "/run/media/*/*")
USB_SUBDIR = "kiosk-reports"
RECENT_TRANSACTIONS = 200
OK_STATES = (DeviceState.READY, DeviceState.BUSY)


@dataclass(frozen=True)
class ReportInputs:
    """What the GUI thread knows; the rest is gathered in the worker."""

    kiosk_id: str
    hospital: str
    server_url: str
    app_version: str
    qt_version: str
    pyside_version: str
    devices: Sequence[DeviceStatus]
    data_dir: Path
    log_path: Path
    sync: UploaderStatus | None = None  # None: no offline support in this build


def app_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("hospital-kiosk")
    except PackageNotFoundError:
        return "unknown"


def find_usb_target(patterns: Sequence[str] = USB_PATTERNS) -> Path | None:
    """The first writable mounted stick, e.g. ``/media/kiosk/USB01``; None if there is none."""
    for pattern in patterns:
        for found in sorted(glob.glob(pattern)):
            p = Path(found)
            if p.is_dir() and os.path.ismount(p) and os.access(p, os.W_OK):
                return p
    return None


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds") if ts else ""


def device_dict(s: DeviceStatus) -> dict[str, Any]:
    return {
        "kind": s.kind.value,
        "name": s.name,
        "url": s.url,
        "identity": s.identity,
        "state": s.state.value,
        "reason": s.reason,
        "last_error_code": s.last_error_code,
        "last_error_detail": s.last_error_detail,
        "counters": dict(s.counters),
        "changed_at": _iso(s.changed_at),
    }


def human_bytes(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB"):
        if size < 1024:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GB"


def human_age(seconds: float) -> str:
    """``45 s``, ``12 min 5 s``, ``3 h 20 min``, ``2 d 4 h`` (English, for the text report)."""
    s = max(0, int(seconds))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60} s"
    if s < 86400:
        return f"{s // 3600} h {s % 3600 // 60} min"
    return f"{s // 86400} d {s % 86400 // 3600} h"


def connection_state(status: UploaderStatus) -> str:
    """``online``, ``offline`` or ``unknown`` (no contact with the server yet)."""
    return "unknown" if status.online is None else "online" if status.online else "offline"


def sync_dict(status: UploaderStatus, queue: QueueStats | None, at: datetime) -> dict[str, Any]:
    """The sync section: what the uploader last reported and the outbox's numbers at ``at``."""
    outbox: dict[str, Any] | None = None
    if queue is not None:
        age = queue.oldest_age_s(at)
        outbox = {
            "pending": queue.pending,
            "pending_bytes": queue.pending_bytes,
            "fill": round(queue.fill, 4),
            "level": queue.level,
            "oldest_created_at": queue.oldest_created_at,
            "oldest_age_s": round(age, 1) if age is not None else None,
            "rejected": queue.rejected,
        }
    offset = status.clock_offset_s
    return {
        "connection": connection_state(status),
        "last_error": status.last_error,
        "clock_offset_s": round(offset, 2) if offset is not None else None,  # server minus kiosk
        "sent_since_start": status.sent,
        "outbox": outbox,
    }


def build_report(
    inputs: ReportInputs, journal: Journal, *, at: datetime | None = None, queue: QueueStats | None = None
) -> dict[str, Any]:
    """``queue``: the outbox's numbers (a store read: take them in the same worker)."""
    at = at or datetime.now(UTC)
    try:
        usage = shutil.disk_usage(inputs.data_dir)
        disk = {"path": str(inputs.data_dir), "free_bytes": usage.free, "total_bytes": usage.total}
    except OSError as err:
        disk = {"path": str(inputs.data_dir), "error": type(err).__name__}
    rows = journal.recent(RECENT_TRANSACTIONS)
    by_state = Counter(str(r["state"]) for r in rows)
    devices = [device_dict(s) for s in inputs.devices]
    return {
        "report": "kiosk readiness",
        "generated_at": at.isoformat(timespec="seconds"),
        "kiosk_id": inputs.kiosk_id,
        "hospital": inputs.hospital,
        "server_url": inputs.server_url,
        "ready": bool(inputs.devices) and all(s.state in OK_STATES for s in inputs.devices),
        "versions": {
            "app": inputs.app_version,
            "python": platform.python_version(),
            "qt": inputs.qt_version,
            "pyside6": inputs.pyside_version,
            "platform": platform.platform(),
        },
        "disk": disk,
        "devices": devices,
        "sync": sync_dict(inputs.sync, queue, at) if inputs.sync is not None else None,
        "transactions": {
            "window": f"last {RECENT_TRANSACTIONS}",
            "total": len(rows),
            "by_state": dict(sorted(by_state.items())),
        },
        "recent_errors": recent_problems(inputs.log_path),
    }


def render_text(r: dict[str, Any]) -> str:
    """The human-readable twin of the JSON (English, for support staff)."""
    out = [
        f"Kiosk readiness report — {r['kiosk_id']} ({r['hospital']})",
        f"Generated: {r['generated_at']}",
        f"Overall: {'READY' if r['ready'] else 'NOT READY'}",
        "",
        "Versions",
    ]
    out += [f"  {k}: {v}" for k, v in r["versions"].items()]
    disk = r["disk"]
    if "free_bytes" in disk:
        free, total = disk["free_bytes"] / 1e9, disk["total_bytes"] / 1e9
        out += ["", f"Free disk: {free:.1f} GB of {total:.1f} GB ({disk['path']})"]
    else:
        out += ["", f"Free disk: unknown ({disk.get('error', '')})"]
    out += ["", f"Server: {r['server_url']}", "", "Devices"]
    for d in r["devices"]:
        out.append(f"  {d['name']} ({d['kind']}): {d['state'].upper()}" + (f" — {d['reason']}" if d["reason"] else ""))
        out.append(f"    identity: {d['identity']}")
        if d["last_error_code"]:
            out.append(f"    last error: {d['last_error_code']} {d['last_error_detail']}".rstrip())
        if d["counters"]:
            out.append("    counters: " + ", ".join(f"{k}={v}" for k, v in sorted(d["counters"].items())))
        if d["changed_at"]:
            out.append(f"    since: {d['changed_at']}")
    if not r["devices"]:
        out.append("  (no devices configured)")
    out += ["", "Sync", *_sync_lines(r.get("sync"))]
    tx = r["transactions"]
    out += ["", f"Transactions ({tx['window']}): {tx['total']}"]
    out += [f"  {state}: {n}" for state, n in tx["by_state"].items()]
    out += ["", "Recent warnings and errors"]
    out += [f"  {line}" for line in r["recent_errors"]] or ["  (none)"]
    return "\n".join(out) + "\n"


def _sync_lines(sync: dict[str, Any] | None) -> list[str]:
    if sync is None:
        return ["  (no offline support in this build)"]
    state = str(sync["connection"]).upper()
    out = [f"  connection: {state}" + (f" — last error: {sync['last_error']}" if sync["last_error"] else "")]
    box = sync["outbox"]
    if box is None:
        out.append("  outbox: unknown")
    else:
        out.append(
            f"  outbox: {box['pending']} pending ({human_bytes(box['pending_bytes'])}),"
            f" {box['fill'] * 100:.1f} % of the cap, level {box['level']}"
        )
        if box["oldest_created_at"]:
            age = human_age(box["oldest_age_s"]) if box["oldest_age_s"] is not None else "?"
            out.append(f"  oldest pending: {box['oldest_created_at']} ({age} ago)")
        else:
            out.append("  oldest pending: —")
        out.append(f"  rejected by the server: {box['rejected']}")
    offset = sync["clock_offset_s"]
    out.append("  clock offset (server − kiosk): " + (f"{offset:+.1f} s" if offset is not None else "not measured yet"))
    out.append(f"  operations settled since start: {sync['sent_since_start']}")
    return out


def write_report(report: dict[str, Any], target: Path) -> tuple[Path, Path]:
    """Write ``readiness-<kiosk>-<time>.json`` and ``.txt`` into ``target``; returns both paths."""
    target.mkdir(parents=True, exist_ok=True)
    stamp = datetime.fromisoformat(report["generated_at"]).strftime("%Y%m%d-%H%M%S")
    safe_id = "".join(c if c.isalnum() or c in "-_" else "_" for c in report["kiosk_id"])
    base = target / f"readiness-{safe_id}-{stamp}"
    json_path, text_path = base.with_suffix(".json"), base.with_suffix(".txt")
    for path, body in ((json_path, json.dumps(report, ensure_ascii=False, indent=2)), (text_path, render_text(report))):
        tmp = path.with_suffix(path.suffix + ".part")
        with tmp.open("w", encoding="utf-8") as f:
            f.write(body)
            f.flush()
            os.fsync(f.fileno())  # a stick pulled right after "saved" must still hold the file
        os.replace(tmp, path)
    return json_path, text_path
