"""What every scanner driver shares: a reader thread that reconnects, and the checks a code passes.

A subclass says how to open, serve and release its device; this class owns the thread, the
reconnect throttling, the state/reason bookkeeping and the path from raw bytes to ``on_scan``.
Callbacks run on the reader thread: a UI must hop to its own thread before touching widgets.
"""

from __future__ import annotations

import logging
import threading
import time
from abc import abstractmethod
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from devices.base import Device, DeviceKind, SelfTestResult
from devices.errors import DeviceError, DeviceState, DeviceUnavailable, ProtocolError
from devices.scanner.codes import mask_code
from devices.scanner.framing import DuplicateFilter, LineSplitter, decode_line

log = logging.getLogger(__name__)

# 0.5 s doubling to 2 s: an unplugged scanner does not spin the CPU, and one plugged back in is
# READY within ~2 s (the bound is 3 s).
RECONNECT_MIN_S, RECONNECT_MAX_S = 0.5, 2.0
READ_TIMEOUT_S = 0.2  # one blocking read; bounds how long stop() and stale-partial checks wait
JOIN_TIMEOUT_S = 5.0
# A scanner sends a whole code within milliseconds; bytes without a suffix for this long are noise
# or a scanner configured with another suffix. Dropping them keeps them from being glued to the front
# of the next code (a partial payment code must never be submitted).
STALE_PARTIAL_S = 0.5

H = TypeVar("H")  # the open device handle: a pyserial port, an evdev InputDevice


class ScannerDevice(Device, Generic[H]):
    kind = DeviceKind.SCANNER

    def __init__(
        self,
        url: str,
        *,
        on_scan: Callable[[str], None],
        on_error: Callable[[DeviceError], None],
        on_state: Callable[[DeviceState], None] | None = None,
        suffix: str = "ANY",
        dedup_window_s: float = 1.0,
        max_len: int = 512,
        name: str | None = None,
    ) -> None:
        super().__init__(url, name=name, on_state=on_state)
        self._on_scan, self._on_error = on_scan, on_error
        self.max_len = max_len
        self._splitter = LineSplitter(suffix, max_len)  # validates the suffix before anything starts
        self._dedup = DuplicateFilter(dedup_window_s)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._handle: H | None = None
        self._handle_lock = threading.Lock()
        self._connected_before = False
        self._outage_reported = False
        self._last_rx = 0.0

    @property
    def suffix(self) -> str:
        return self._splitter.suffix

    @property
    def dedup_window_s(self) -> float:
        return self._dedup.window_s

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # ---- Device API

    def start(self) -> None:
        if self.running:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Idempotent. Wakes the reader, which releases the device itself, then joins it.

        The reader releases the handle: closing a pyserial port from here while a read is in
        progress makes pyserial fail with a TypeError on the cleared file descriptor.
        """
        self._stop.set()
        with self._handle_lock:
            handle = self._handle
        if handle is not None:
            self._wake(handle)
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(JOIN_TIMEOUT_S)
            if thread.is_alive():
                log.warning("%s thread did not stop within %.0f s", self.name, JOIN_TIMEOUT_S)

    def self_test(self, timeout_s: float = 5.0) -> SelfTestResult:
        """The device opens (or, while running, is open) and is READY.

        Whether it actually reads is checked by a person: diagnostics listens for the next scan.
        """
        if self.running:
            deadline = time.monotonic() + timeout_s
            while self.state is not DeviceState.READY and time.monotonic() < deadline:
                self._stop.wait(0.05)
            if self.state is DeviceState.READY:
                return SelfTestResult.passed(f"open: {self.identity}")
            err = self.last_error
            return SelfTestResult.failed(err) if err else SelfTestResult.failed(self.reason or self.state.value)
        try:
            handle = self._open()
        except DeviceError as err:
            self._record_error(err)
            self._set_state(DeviceState.UNAVAILABLE, err.code)
            return SelfTestResult.failed(err)
        self._release(handle)
        # Not READY: nothing is reading until start(); the probe only proves the device is there.
        return SelfTestResult.passed(f"opens: {self.identity}")

    # ---- For subclasses

    @abstractmethod
    def _open(self) -> H:
        """Open the device; raise ``DeviceUnavailable`` (with a specific code) when it cannot be."""

    @abstractmethod
    def _serve(self, handle: H) -> None:
        """Read until stopped or the device is lost (raise ``DeviceUnavailable``); feed ``_feed``."""

    @abstractmethod
    def _release(self, handle: H) -> None:
        """Close the handle, swallowing errors: the device may already be gone."""

    def _wake(self, handle: H) -> None:
        """Interrupt a blocking read from another thread (default: the read timeout does it)."""

    def _feed(self, data: bytes, now: float) -> None:
        """Bytes from the device, in whatever chunks they came."""
        if data:
            self._last_rx = now
        for line in self._splitter.feed(data):
            if line.overlong:
                self._reject(f"line longer than {self.max_len} bytes")
            else:
                self._line(line.raw, now)

    def _idle(self, now: float) -> None:
        """Called when a read returned nothing: drop a partial line that went stale."""
        pending = self._splitter.pending
        if pending and now - self._last_rx > STALE_PARTIAL_S:
            self._splitter.reset()
            if pending.strip():  # a lone LF after a CR-only suffix is not worth a report
                self._reject(f"{len(pending)} bytes without {self.suffix} suffix dropped (check scanner suffix)")

    def _lost(self, err: BaseException) -> DeviceUnavailable:
        return DeviceUnavailable(f"{self.name} lost: {err}", code="port_lost")

    # ---- Reader thread

    def _run(self) -> None:
        backoff = RECONNECT_MIN_S
        while not self._stop.is_set():
            handle = self._connect()
            if handle is None:
                self._stop.wait(backoff)
                backoff = min(backoff * 2, RECONNECT_MAX_S)
                continue
            backoff = RECONNECT_MIN_S
            try:
                self._serve(handle)
            except DeviceUnavailable as err:
                if not self._stop.is_set():
                    self._outage(err)
            except Exception:
                if self._stop.is_set():
                    break
                # A bug must not leave the kiosk without a scanner until restart: report, retry.
                log.exception("%s reader loop failed", self.name)
                self._outage(DeviceError("scanner loop failed", code="internal_error"), DeviceState.ERROR)
                self._stop.wait(RECONNECT_MAX_S)
            finally:
                with self._handle_lock:
                    self._handle = None
                self._release(handle)
        log.debug("%s thread stopped", self.name)

    def _connect(self) -> H | None:
        if self.state is DeviceState.UNKNOWN:
            self._set_state(DeviceState.CONNECTING)
        try:
            handle = self._open()
        except DeviceError as err:
            self._outage(err)
            return None
        with self._handle_lock:
            self._handle = handle
        if self._stop.is_set():  # stop() ran while we were opening: it could not wake this handle
            return handle
        self._splitter.reset()
        if self._connected_before:
            self._count("reconnects")
        self._connected_before = True
        self._outage_reported = False
        log.info("%s ready on %s", self.name, self.identity)
        self._set_state(DeviceState.READY)
        return handle

    def _outage(self, err: DeviceError, state: DeviceState = DeviceState.UNAVAILABLE) -> None:
        self._record_error(err)
        self._set_state(state, err.code)
        if not self._outage_reported:  # retries are throttled and do not repeat the report
            self._outage_reported = True
            log.warning("%s %s: %s %s", self.name, state.value, err.code, err.detail)
            self._emit(self._on_error, err)

    def _line(self, raw: bytes, now: float) -> None:
        # CR LF under ANY yields an empty line between the two terminators: dropping empties counts it once.
        if not raw.strip():
            return
        text = decode_line(raw)
        code = text.strip() if text is not None else ""
        # U+FFFD: a wedge key with no mapping (see keymap.py); the code would be wrong, not just odd.
        if not code or not code.isprintable() or "\ufffd" in code:
            self._reject(f"{len(raw)} bytes of non-printable or undecodable data")
            return
        if self._dedup.is_duplicate(code, now):
            self._count("duplicates")
            log.debug("duplicate scan %s dropped", mask_code(code))
            return
        self._count("scans")
        log.info("scanned %s (%d chars)", mask_code(code), len(code))
        self._emit(self._on_scan, code)

    def _reject(self, why: str) -> None:
        err = ProtocolError(why)
        self._count("rejected")
        self._record_error(err)
        log.warning("%s data rejected: %s", self.name, why)
        self._emit(self._on_error, err)

    def _emit(self, callback: Callable[[Any], None], arg: Any) -> None:
        if self._stop.is_set():
            return  # stop() was asked for: the owner no longer expects callbacks
        self._safe_call(callback, arg)
