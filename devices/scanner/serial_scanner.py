"""Barcode/QR scanner in virtual-COM (USB-CDC) or RS-232 mode: a reader thread turning bytes into codes.

Virtual COM is preferred over keyboard-wedge mode on a kiosk: no focus, IME or keyboard-layout
problems, and the application owns the data (protocols.md 5.1). Point the URL at a stable name
(a udev ``/dev/kiosk/scanner`` link): after a replug the driver reopens the same name, which may
now lead to another ttyACM number.
"""

from __future__ import annotations

import errno
import logging
import time

import serial

from devices.errors import DeviceUnavailable
from devices.scanner.driver import READ_TIMEOUT_S, ScannerDevice
from devices.scanner.framing import decode_line
from devices.url import PORT_LOST, open_serial, serial_identity

__all__ = ["SerialScanner", "decode_line"]

log = logging.getLogger(__name__)

# errno of the failed open -> reason code, so diagnostics can say "unplugged" vs "no permission".
_OPEN_REASONS = {
    errno.ENOENT: "no_such_port",
    errno.ENXIO: "no_such_port",
    errno.ENODEV: "no_such_port",
    errno.EACCES: "permission_denied",
    errno.EPERM: "permission_denied",
    errno.EBUSY: "port_busy",
    errno.EIO: "port_lost",
}


# pyserial on a port whose fd it already cleared raises TypeError; a transport without cancel_read,
# AttributeError. Both only mean "nothing left to close or wake".
_RELEASE_ERRORS: tuple[type[BaseException], ...] = (*PORT_LOST, TypeError, AttributeError)


def _open_reason(err: DeviceUnavailable) -> str:
    cause = err.__cause__
    code = getattr(cause, "errno", None)
    return _OPEN_REASONS.get(code, err.code) if isinstance(code, int) else err.code


class SerialScanner(ScannerDevice[serial.SerialBase]):
    """``SerialScanner(url, on_scan=..., on_error=..., on_state=..., suffix="ANY")``.

    ``suffix``: "CR", "LF", "CRLF", "TAB" or "ANY" (CR or LF, the default). Counters: "scans",
    "rejected", "duplicates", "reconnects", "errors".
    """

    _identity = ""  # set at connect

    @property
    def identity(self) -> str:
        # Cached at connect: status() is called under a lock and must not scan sysfs every time.
        return self._identity or self.url

    def _open(self) -> serial.SerialBase:
        try:
            port = open_serial(self.url, timeout=READ_TIMEOUT_S, default_baud=9600)
        except DeviceUnavailable as err:
            raise DeviceUnavailable(err.detail, code=_open_reason(err)) from err.__cause__
        self._identity = serial_identity(self.url)
        return port

    def _serve(self, port: serial.SerialBase) -> None:
        while not self._stop.is_set():
            try:
                data = port.read(max(1, port.in_waiting))
            except PORT_LOST as err:
                if self._stop.is_set():
                    return
                raise self._lost(err) from err
            now = time.monotonic()
            if data:
                self._feed(data, now)
            else:
                self._idle(now)

    def _release(self, port: serial.SerialBase) -> None:
        try:
            port.close()
        except _RELEASE_ERRORS as err:
            log.debug("closing scanner port: %s", err)

    def _wake(self, port: serial.SerialBase) -> None:
        try:
            port.cancel_read()
        except _RELEASE_ERRORS as err:
            log.debug("cancel_read: %s", err)
