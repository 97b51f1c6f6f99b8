"""Barcode/QR scanner in virtual-COM (USB-CDC) or RS-232 mode: a reader thread turning bytes into codes.

Virtual COM is preferred over keyboard-wedge mode on a kiosk: no focus, IME or keyboard-layout
problems, and the application owns the data (protocols.md 5.1).
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from typing import TypeVar

import serial

from devices.errors import DeviceError, DeviceState, DeviceUnavailable, ProtocolError
from devices.scanner.codes import mask_code
from devices.url import PORT_LOST, open_serial

log = logging.getLogger(__name__)

_READ_TIMEOUT_S = 0.2  # bounds how long stop() waits for the reader to notice
_RECONNECT_MIN_S, _RECONNECT_MAX_S = 0.5, 5.0
# A scanner sends a whole code within milliseconds; bytes without a CR/LF for this long are
# noise or a scanner configured without suffix. Dropping them keeps them from being glued to
# the front of the next code (a partial payment code must never be submitted).
_STALE_PARTIAL_S = 0.5
_TERMINATOR = re.compile(rb"[\r\n]")

T = TypeVar("T")


def decode_line(raw: bytes) -> str | None:
    """UTF-8 first (modern scanners), then GB18030 (Chinese-configured ones); None if neither."""
    for codec in ("utf-8", "gb18030"):
        try:
            return raw.decode(codec)
        except UnicodeDecodeError:
            continue
    return None


class SerialScanner:
    def __init__(
        self,
        url: str,
        *,
        on_scan: Callable[[str], None],
        on_error: Callable[[DeviceError], None],
        on_state: Callable[[DeviceState], None] | None = None,
        dedup_window_s: float = 1.0,
        max_len: int = 512,
    ) -> None:
        self.url = url
        self._on_scan, self._on_error, self._on_state = on_scan, on_error, on_state
        self.dedup_window_s = dedup_window_s
        self.max_len = max_len
        self._state = DeviceState.UNKNOWN
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._port: serial.SerialBase | None = None
        self._port_lock = threading.Lock()
        # Reader-thread-only state.
        self._buf = bytearray()
        self._discarding = False  # inside an over-long line: drop until the next terminator
        self._last_rx = 0.0
        self._last_code: str | None = None
        self._last_code_at = 0.0

    @property
    def state(self) -> DeviceState:
        return self._state

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="scanner", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Idempotent. Wakes the reader, which closes the port, then joins it.

        The port is closed by the reader thread itself: closing it from here while a read is in
        progress makes pyserial fail with a TypeError on the cleared file descriptor.
        """
        self._stop.set()
        with self._port_lock:
            port = self._port
        if port is not None:
            try:
                port.cancel_read()
            except (AttributeError, OSError, serial.SerialException) as err:
                log.debug("cancel_read: %s", err)
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout=5)
            if thread.is_alive():
                log.warning("scanner thread did not stop within 5 s")

    # --- reader thread ----------------------------------------------------------------------

    def _run(self) -> None:
        backoff = _RECONNECT_MIN_S
        while not self._stop.is_set():
            port = self._connect()
            if port is None:
                self._stop.wait(backoff)  # throttle: an unplugged scanner must not spin the CPU
                backoff = min(backoff * 2, _RECONNECT_MAX_S)
                continue
            backoff = _RECONNECT_MIN_S
            try:
                self._read_loop(port)
            finally:
                with self._port_lock:
                    self._port = None
                try:
                    port.close()
                except (OSError, serial.SerialException) as err:
                    log.debug("closing scanner port: %s", err)
        log.debug("scanner thread stopped")

    def _connect(self) -> serial.SerialBase | None:
        if self._state is not DeviceState.UNAVAILABLE:
            self._set_state(DeviceState.CONNECTING)
        try:
            port = open_serial(self.url, timeout=_READ_TIMEOUT_S, default_baud=9600)
        except DeviceUnavailable as err:
            if self._state is not DeviceState.UNAVAILABLE:
                log.warning("scanner unavailable: %s", err)
                self._set_state(DeviceState.UNAVAILABLE)
                self._call(self._on_error, err)
            return None
        with self._port_lock:
            self._port = port
        if self._stop.is_set():  # stop() ran while we were opening: it could not cancel this port
            return port
        self._buf.clear()
        self._discarding = False
        log.info("scanner ready on %s", self.url)
        self._set_state(DeviceState.READY)
        return port

    def _read_loop(self, port: serial.SerialBase) -> None:
        while not self._stop.is_set():
            try:
                data = port.read(max(1, port.in_waiting))
            except PORT_LOST as err:
                if self._stop.is_set():
                    return
                log.warning("scanner port lost: %s", err)
                self._set_state(DeviceState.UNAVAILABLE)
                self._call(self._on_error, DeviceUnavailable(f"scanner port lost: {err}"))
                return
            now = time.monotonic()
            if data:
                self._last_rx = now
                self._feed(data, now)
            elif self._buf and now - self._last_rx > _STALE_PARTIAL_S:
                self._reject(f"{len(self._buf)} bytes without CR/LF suffix dropped (check scanner suffix)")
                self._buf.clear()
                self._discarding = False

    def _feed(self, data: bytes, now: float) -> None:
        self._buf += data
        while (m := _TERMINATOR.search(self._buf)) is not None:
            line = bytes(self._buf[: m.start()])
            del self._buf[: m.end()]
            if self._discarding:  # tail of an over-long line, already reported
                self._discarding = False
                continue
            self._line(line, now)
        if len(self._buf) > self.max_len:
            if not self._discarding:
                self._reject(f"line longer than {self.max_len} bytes")
            self._discarding = True
            self._buf.clear()

    def _line(self, raw: bytes, now: float) -> None:
        # CR LF yields an empty line between the two terminators: dropping empties counts CRLF once.
        if not raw.strip():
            return
        if len(raw) > self.max_len:
            self._reject(f"line longer than {self.max_len} bytes")
            return
        text = decode_line(raw)
        code = text.strip() if text is not None else ""
        if not code or not code.isprintable():
            self._reject(f"{len(raw)} bytes of non-printable or undecodable data")
            return
        if code == self._last_code and now - self._last_code_at < self.dedup_window_s:
            # Sliding window: a code held in front of a continuous-mode scanner stays suppressed.
            self._last_code_at = now
            log.debug("duplicate scan %s dropped", mask_code(code))
            return
        self._last_code, self._last_code_at = code, now
        log.info("scanned %s (%d chars)", mask_code(code), len(code))
        self._call(self._on_scan, code)

    def _reject(self, why: str) -> None:
        log.warning("scanner data rejected: %s", why)
        self._call(self._on_error, ProtocolError(why))

    def _set_state(self, state: DeviceState) -> None:
        if state is self._state:
            return
        self._state = state
        if self._on_state is not None:
            self._call(self._on_state, state)

    @staticmethod
    def _call(callback: Callable[[T], None], arg: T) -> None:
        try:
            callback(arg)
        except Exception:  # a faulty UI callback must not kill the reader thread
            log.exception("scanner callback %r failed", callback)
