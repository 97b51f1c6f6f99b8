"""Device errors as a small tree with stable codes and translation keys.

The UI never shows an exception text: it looks up ``tr_key`` in its own translated table
(``kiosk_app/messages.py``), so every device failure reaches the patient as a clear message in
the current language, and the log gets ``code`` plus the technical detail.
"""

from __future__ import annotations

import enum


class DeviceState(enum.Enum):
    """Connection state of one device, shown in diagnostics and in the UI."""

    UNKNOWN = "unknown"  # never probed yet: not the same as unavailable
    CONNECTING = "connecting"
    READY = "ready"
    BUSY = "busy"  # ready, and in the middle of an operation (printing, reading a card)
    UNAVAILABLE = "unavailable"  # cannot be opened (unplugged, permission, no such port)
    ERROR = "error"  # opened but misbehaving (bad frames, paper out, SAM failure)


class DeviceError(Exception):
    """Base of every error a driver raises; ``code`` is for logs, ``tr_key`` for the screen."""

    code = "device_error"
    tr_key = "device.error"

    def __init__(self, detail: str = "", *, code: str | None = None) -> None:
        super().__init__(detail or self.code)
        self.detail = detail
        if code is not None:
            self.code = code


class DeviceUnavailable(DeviceError):
    code = "device_unavailable"
    tr_key = "device.unavailable"


class DeviceTimeout(DeviceError):
    code = "device_timeout"
    tr_key = "device.timeout"


class ProtocolError(DeviceError):
    """A frame that is malformed: bad preamble, length or checksum."""

    code = "protocol_error"
    tr_key = "device.protocol"


class CardReadError(DeviceError):
    """The card could not be read completely (moved away mid-read, weak RF, unknown type)."""

    code = "card_read_failed"
    tr_key = "card.read_failed"


class PrinterError(DeviceError):
    code = "printer_error"
    tr_key = "printer.error"


class PaperOut(PrinterError):
    code = "paper_out"
    tr_key = "printer.paper_out"


class CoverOpen(PrinterError):
    code = "cover_open"
    tr_key = "printer.cover_open"


class PrinterOffline(PrinterError):
    code = "printer_offline"
    tr_key = "printer.offline"
