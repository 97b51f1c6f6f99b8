"""Audit log of technician actions (diagnostics mode) on top of :class:`Store`.

One row per action: when, who (``actor``), what (``action``) and a short ``detail``. Callers
must never put a PIN, a payment code or patient data in it; :meth:`AuditLog.record` refuses
details that look like an ID number or a payment code, as a last line of defence.
"""

from __future__ import annotations

import logging
import re
from concurrent.futures import Future
from typing import Any

import sqlite_utils

from offline_cache.journal import now
from offline_cache.store import Store

log = logging.getLogger(__name__)

MAX_DETAIL = 500
# Same shape as the log privacy filter: 15+ digit runs (ID numbers, payment codes) are masked.
_SENSITIVE = re.compile(r"(?<![0-9A-Za-z])(\d{11,20})(\d{3}[0-9Xx])(?![0-9A-Za-z])")


class AuditLog:
    def __init__(self, store: Store) -> None:
        self.store = store

    def record(self, actor: str, action: str, detail: str = "") -> Future[int]:
        """Queue one row on the store's writer; returns at once (safe on the GUI thread).

        The future gives the row id; a failed write is logged, so callers may ignore it.
        """
        clean = _SENSITIVE.sub(lambda m: "*" * len(m.group(1)) + m.group(2), detail)[:MAX_DETAIL]
        row = {"at": now(), "actor": actor[:64], "action": action[:64], "detail": clean}

        def op(db: sqlite_utils.Database) -> int:
            return int(db.table("audit").insert(row).last_rowid or 0)

        fut = self.store.submit(op)
        fut.add_done_callback(_log_failure)
        log.info("audit %s %s %s", actor, action, clean)
        return fut

    def recent(self, n: int = 50) -> list[dict[str, Any]]:
        """The newest ``n`` rows, newest first."""
        return list(self.store.read().query("SELECT * FROM audit ORDER BY id DESC LIMIT ?", [n]))


def _log_failure(fut: Future[int]) -> None:
    if not fut.cancelled() and fut.exception() is not None:
        log.error("audit row could not be written: %s", type(fut.exception()).__name__)
