"""Turning a scanner's byte stream into candidate codes: suffix framing, decoding, de-duplication.

Pure and thread-agnostic, shared by the serial and the evdev driver, and property-tested in
``tests/test_properties.py`` (any chunking of the stream yields the same codes).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

# Which byte(s) end a code (protocols.md 5.2). ANY is the safe default because the factory suffix
# differs by vendor; TAB is only used when asked for, as a tab inside a code is rare but legal.
SUFFIXES: dict[str, bytes] = {"CR": b"\r", "LF": b"\n", "CRLF": b"\r\n", "TAB": b"\t", "ANY": b"[\r\n]"}


def normalize_suffix(suffix: str) -> str:
    """The canonical suffix name; ``ValueError`` naming the allowed ones."""
    name = suffix.upper()
    if name not in SUFFIXES:
        raise ValueError(f"scanner suffix must be one of {', '.join(SUFFIXES)}, not {suffix!r}")
    return name


def terminator_pattern(suffix: str) -> re.Pattern[bytes]:
    name = normalize_suffix(suffix)
    return re.compile(SUFFIXES[name] if name == "ANY" else re.escape(SUFFIXES[name]))


def decode_line(raw: bytes) -> str | None:
    """UTF-8 first (modern scanners), then GB18030 (Chinese-configured ones); None if neither."""
    for codec in ("utf-8", "gb18030"):
        try:
            return raw.decode(codec)
        except UnicodeDecodeError:
            continue
    return None


@dataclass(frozen=True)
class Line:
    """One framed line, or (``overlong``, no bytes kept) the report that a line was too long and dropped."""

    raw: bytes
    overlong: bool = False


class LineSplitter:
    """Cuts bytes into lines at the suffix, whatever the chunking; over-long lines are dropped whole."""

    def __init__(self, suffix: str = "ANY", max_len: int = 512) -> None:
        self.suffix = normalize_suffix(suffix)
        self.max_len = max_len
        self._terminator = terminator_pattern(self.suffix)
        self._buf = bytearray()
        self._discarding = False  # inside an over-long line: drop until the next terminator

    @property
    def pending(self) -> bytes:
        return bytes(self._buf)

    def feed(self, data: bytes) -> Iterator[Line]:
        self._buf += data
        while (m := self._terminator.search(self._buf)) is not None:
            raw = bytes(self._buf[: m.start()])
            del self._buf[: m.end()]
            if self._discarding:  # the tail of an over-long line, already reported
                self._discarding = False
                continue
            if len(raw) > self.max_len:
                yield Line(b"", overlong=True)
                continue
            yield Line(raw)
        if len(self._buf) > self.max_len:
            # Keep the last byte when it may be the first half of a CRLF split across reads.
            if not self._discarding:
                yield Line(b"", overlong=True)
            self._discarding = True
            keep = self._buf[-1:] if self.suffix == "CRLF" and self._buf.endswith(b"\r") else b""
            self._buf[:] = keep

    def reset(self) -> bytes:
        """Forget the partial line (new connection, or it went stale); returns what was dropped."""
        dropped = bytes(self._buf)
        self._buf.clear()
        self._discarding = False
        return dropped


class DuplicateFilter:
    """Sliding window: a code held in front of a continuous-mode scanner stays suppressed.

    A payment code must reach micropay exactly once per order (protocols.md 5.4).
    """

    def __init__(self, window_s: float = 1.0) -> None:
        self.window_s = window_s
        self._last: str | None = None
        self._last_at = 0.0

    def is_duplicate(self, code: str, now: float) -> bool:
        dup = code == self._last and now - self._last_at < self.window_s
        self._last, self._last_at = code, now
        return dup
