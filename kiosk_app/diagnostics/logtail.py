"""The tail of the kiosk's rotating log file, filtered by level (no Qt; blocking: call from a worker).

Lines follow ``kiosk_app.logsetup``'s format, ``2026-01-02 10:11:12,345 LEVEL name [thread] message``;
lines that do not start a record (tracebacks) belong to the record above them.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
_RANK = {"DEBUG": 10, "INFO": 20, "WARNING": 30, "ERROR": 40, "CRITICAL": 50}
_RECORD = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d[,.]\d{3} (DEBUG|INFO|WARNING|ERROR|CRITICAL) ")
TAIL_BYTES = 512 * 1024


@dataclass(frozen=True)
class LogTail:
    path: Path
    lines: list[str]  # matching lines, oldest first
    exists: bool = True
    scanned: int = 0  # records looked at


def read_tail(path: Path, min_level: str = "INFO", *, max_lines: int = 400, max_bytes: int = TAIL_BYTES) -> LogTail:
    """The last ``max_lines`` lines of records at ``min_level`` or above, from the last ``max_bytes``."""
    floor = _RANK[min_level]
    try:
        with path.open("rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - max_bytes))
            data = f.read()
    except FileNotFoundError:
        return LogTail(path, [], exists=False)
    text = data.decode("utf-8", errors="replace")
    raw = text.splitlines()
    if size > max_bytes and raw:
        raw = raw[1:]  # the first line was cut in the middle
    out: list[str] = []
    keep, scanned = False, 0
    for line in raw:
        m = _RECORD.match(line)
        if m:
            scanned += 1
            keep = _RANK[m.group(1)] >= floor
        if keep:
            out.append(line)
    return LogTail(path, out[-max_lines:], True, scanned)


def recent_problems(path: Path, n: int = 20) -> list[str]:
    """The last ``n`` WARNING/ERROR record lines (first line of each record only)."""
    tail = read_tail(path, "WARNING", max_lines=2000)
    return [line for line in tail.lines if _RECORD.match(line)][-n:]
