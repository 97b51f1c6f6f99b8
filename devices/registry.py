"""Finding devices: a declared USB table, probing, and a hot-plug diff with a miss threshold.

Identity is stable: a serial device is named by its ``/dev/serial/by-id`` path (which carries
VID:PID and serial number) rather than ``ttyUSB0``, whose number changes after a replug. Many
ID-card readers sit behind generic USB-serial bridges, so a bridge only makes a port a
*candidate*; it is an ID reader if it answers SAM status ``11 FF`` with SW3 0x90 within 2 s
(the auto-discovery used by hev-idcard-reader, protocols.md §1.2).
"""

from __future__ import annotations

import glob
import logging
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from devices.base import DeviceKind
from devices.errors import DeviceError
from devices.url import PORT_LOST, open_serial

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class UsbMatch:
    vid: int
    pid: int | None  # None: any product of this vendor
    kind: DeviceKind | None  # None: a generic bridge, decided by probing
    description: str


# Model differences are data (python-escpos style). Vendor IDs are the USB-IF assignments; which
# products a hospital's kiosks carry is site knowledge, so extend this table rather than the code.
KNOWN_USB: tuple[UsbMatch, ...] = (
    UsbMatch(0x1A86, 0x7523, None, "WCH CH340 USB-serial bridge (probe)"),
    UsbMatch(0x1A86, 0x55D4, None, "WCH CH9102 USB-serial bridge (probe)"),
    UsbMatch(0x10C4, 0xEA60, None, "Silicon Labs CP210x USB-serial bridge (probe)"),
    UsbMatch(0x067B, 0x2303, None, "Prolific PL2303 USB-serial bridge (probe)"),
    UsbMatch(0x0403, 0x6001, None, "FTDI FT232 USB-serial bridge (probe)"),
    UsbMatch(0x0C2E, None, DeviceKind.SCANNER, "Honeywell (Metrologic) scanner"),
    UsbMatch(0x05E0, None, DeviceKind.SCANNER, "Zebra (Symbol) scanner"),
    UsbMatch(0x05F9, None, DeviceKind.SCANNER, "Datalogic scanner"),
    UsbMatch(0x1EAB, None, DeviceKind.SCANNER, "Newland scanner"),
    UsbMatch(0x04B8, None, DeviceKind.PRINTER, "Epson printer"),
    UsbMatch(0x0519, None, DeviceKind.PRINTER, "Star Micronics printer"),
)


@dataclass(frozen=True)
class Found:
    kind: DeviceKind
    url: str
    identity: str
    how: str  # "usb table", "probe", "pcsc", "video"


def match_usb(vid: int | None, pid: int | None, table: Iterable[UsbMatch] = KNOWN_USB) -> UsbMatch | None:
    if vid is None:
        return None
    for entry in table:
        if entry.vid == vid and (entry.pid is None or entry.pid == pid):
            return entry
    return None


def probe_id_reader(url: str, timeout_s: float = 2.0) -> bool:
    """True if a GA/T 467 SAM answers status with 0x90 on ``url``; never raises."""
    from devices.idcard import protocol as p

    try:
        port = open_serial(url, timeout=0.1)
    except DeviceError:
        return False
    try:
        port.reset_input_buffer()
        port.write(p.build_frame(*p.SAM_STATUS))
        return p.read_frame(port, timeout_s).sw3 == p.SW3_OK
    except DeviceError:
        return False
    except PORT_LOST:
        return False
    finally:
        port.close()


def _stable_path(device: str) -> str:
    for link in glob.glob("/dev/serial/by-id/*"):
        if os.path.realpath(link) == os.path.realpath(device):
            return link
    return device


def discover_serial(probe: Callable[[str], bool] = probe_id_reader) -> list[Found]:
    from serial.tools import list_ports

    found = []
    for port in list_ports.comports():
        entry = match_usb(port.vid, port.pid)
        if entry is None:
            continue
        path = _stable_path(port.device)
        ident = f"{path} [{port.vid:04X}:{port.pid:04X}{' s/n ' + port.serial_number if port.serial_number else ''}]"
        if entry.kind is not None:
            found.append(Found(entry.kind, f"serial://{path}", ident, "usb table"))
        elif probe(f"serial://{path}?baud=115200"):
            found.append(Found(DeviceKind.ID_READER, f"serial://{path}?baud=115200", ident, "probe"))
    return found


def discover_pcsc() -> list[Found]:
    try:
        from smartcard.Exceptions import SmartcardException
        from smartcard.pcsc.PCSCExceptions import BaseSCardException
        from smartcard.System import readers
    except ImportError:
        return []
    try:
        names = [str(r) for r in readers()]
    except (SmartcardException, BaseSCardException) as err:  # pcscd not running, or no reader
        log.info("PC/SC not available: %s", type(err).__name__)
        return []
    return [Found(DeviceKind.INSURANCE_CARD, f"pcsc://{name}", name, "pcsc") for name in names]


def discover_cameras() -> list[Found]:
    return [
        Found(DeviceKind.CAMERA, f"camera://{path}", path, "video")
        for path in sorted(glob.glob("/dev/v4l/by-id/*-video-index0")) or sorted(glob.glob("/dev/video*"))
    ]


def discover_usb_printers(pattern: str = "/dev/usb/lp*") -> list[Found]:
    """USB printer-class devices (usblp); printed to as files, identified by their sysfs USB ids."""
    found = []
    for path in sorted(glob.glob(pattern)):
        ident = path
        sysfs = f"/sys/class/usbmisc/{os.path.basename(path)}/device/.."
        try:
            with open(f"{sysfs}/idVendor") as v, open(f"{sysfs}/idProduct") as p:
                ident = f"{path} [{v.read().strip().upper()}:{p.read().strip().upper()}]"
        except OSError:
            pass  # no sysfs (a container): the path alone still names it
        found.append(Found(DeviceKind.PRINTER, f"file://{path}", ident, "usblp"))
    return found


def discover_all() -> list[Found]:
    return discover_serial() + discover_pcsc() + discover_usb_printers() + discover_cameras()


class HotplugWatcher:
    """Diffs successive scans: a device appears at once, and is declared gone only after
    ``misses`` consecutive scans without it (USB enumeration flickers during a replug)."""

    def __init__(
        self,
        scan: Callable[[], Iterable[Found]],
        *,
        on_added: Callable[[Found], None],
        on_removed: Callable[[Found], None],
        misses: int = 3,
    ) -> None:
        self._scan, self._on_added, self._on_removed = scan, on_added, on_removed
        self._misses_allowed = misses
        self._present: dict[str, Found] = {}
        self._misses: dict[str, int] = {}

    @property
    def present(self) -> list[Found]:
        return list(self._present.values())

    def poll(self) -> None:
        """One scan; call it every few seconds (from a worker: probing does I/O)."""
        seen = {f.identity: f for f in self._scan()}
        for ident, found in seen.items():
            self._misses.pop(ident, None)
            if ident not in self._present:
                self._present[ident] = found
                log.info("device appeared: %s %s", found.kind.value, ident)
                self._on_added(found)
        for ident in [i for i in self._present if i not in seen]:
            self._misses[ident] = self._misses.get(ident, 0) + 1
            if self._misses[ident] >= self._misses_allowed:
                found = self._present.pop(ident)
                del self._misses[ident]
                log.info("device gone: %s %s", found.kind.value, ident)
                self._on_removed(found)
