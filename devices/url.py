"""Device addresses as URLs, so dev, tests and the field differ only in configuration.

``serial:///dev/ttyUSB0?baud=115200``  a serial or USB-CDC port (pyserial)
``tcp://127.0.0.1:9100``               a network printer (raw TCP, port 9100)
``pcsc://<reader name>``                a PC/SC reader
``camera://0``                          an OpenCV VideoCapture index or a file path
``loop://``, ``socket://``, ``spy://``  passed to pyserial's ``serial_for_url`` unchanged
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from urllib.parse import parse_qs, unquote, urlsplit

import serial

from devices.errors import DeviceUnavailable

try:
    from termios import error as _TermiosError
except ImportError:  # not POSIX: pyserial reports everything as SerialException/OSError there
    _TermiosError = OSError  # type: ignore[misc,assignment]

# What a serial port raises when the device behind it vanishes (USB unplugged, pty peer gone):
# pyserial's SerialException is an OSError, but termios calls raise termios.error, which is not.
PORT_LOST: tuple[type[BaseException], ...] = (OSError, serial.SerialException, _TermiosError)

SCHEMES = ("serial", "tcp", "pcsc", "camera", "usb", "file", "loop", "socket", "spy", "hwgrep", "dummy", "evdev")


@dataclass(frozen=True)
class DeviceURL:
    scheme: str
    host: str = ""
    port: int | None = None
    path: str = ""
    params: dict[str, str] = field(default_factory=dict)
    raw: str = ""


def parse_device_url(url: str) -> DeviceURL:
    """Split a device URL; raises ``ValueError`` naming what is wrong."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise ValueError(f"unknown device URL scheme {scheme!r} in {url!r}")
    params = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    port = parts.port if scheme in ("tcp", "socket") else None
    if scheme == "tcp" and (not parts.hostname or port is None):
        raise ValueError(f"tcp URL needs host and port: {url!r}")
    path = unquote(parts.path)
    if scheme in ("pcsc", "camera"):
        path = unquote(parts.netloc + parts.path)
    if scheme == "serial" and not path:
        raise ValueError(f"serial URL needs a device path: {url!r}")
    return DeviceURL(scheme, parts.hostname or "", port, path, params, url)


def open_serial(url: str, *, timeout: float = 0.5, default_baud: int = 115200) -> serial.SerialBase:
    """Open a serial transport chosen by URL; ``DeviceUnavailable`` if it cannot be opened."""
    try:
        dev = parse_device_url(url)
        if dev.scheme == "serial":
            baud = int(dev.params.get("baud", default_baud))
            return serial.Serial(dev.path, baudrate=baud, bytesize=8, parity="N", stopbits=1, timeout=timeout)
        return serial.serial_for_url(url, timeout=timeout, baudrate=default_baud)
    except (serial.SerialException, OSError, ValueError) as err:
        raise DeviceUnavailable(f"cannot open {url}: {err}") from err


def serial_identity(url: str) -> str:
    """The configured path, what it resolves to now, and VID:PID / serial number when known.

    Enumeration order (ttyUSB0 vs ttyUSB1) changes after a replug; VID:PID and serial do not.
    """
    try:
        dev = parse_device_url(url)
    except ValueError:
        return url
    if dev.scheme != "serial":
        return url
    real = os.path.realpath(dev.path)
    where = dev.path if real == dev.path else f"{dev.path} -> {real}"
    from serial.tools import list_ports  # scans sysfs: only when asked, never at import

    for port in list_ports.comports():
        if port.device in (dev.path, real) and port.vid is not None:
            serial_no = f" s/n {port.serial_number}" if port.serial_number else ""
            return f"{where} [{port.vid:04X}:{port.pid:04X}{serial_no}]"
    return where
