"""HID keyboard-wedge scanner read at the device level through Linux evdev (protocols.md 5.3).

``evdev:///dev/input/by-id/usb-<vendor>_<model>-event-kbd``: the driver opens the scanner's event
device and *grabs* it, so its keystrokes never reach the focused application (no IME, no layout, no
focus problems), decodes the key codes itself (``keymap.py``, US layout) and ends a code on Enter
(suffix CR, LF, CRLF or ANY) or Tab (suffix TAB). The kiosk user needs read access to the device
(the ``input`` group or a udev rule). Where it cannot be grabbed, ``kiosk_app/wedge.py`` tells
scanner bursts from typing by timing instead.

python-evdev is optional: without it the driver is UNAVAILABLE with reason "evdev_missing" and
nothing fails at import. Not exercised on this machine (no /dev/uinput, no wedge scanner): the grab,
real event reads and identity; the tests cover the decoding, the missing-package and missing-device
paths, and the read loop against a stand-in device object.
"""

from __future__ import annotations

import errno
import logging
import os
import select
import time
from collections.abc import Callable
from types import ModuleType
from typing import Any

from devices.errors import DeviceError, DeviceState, DeviceUnavailable
from devices.scanner.driver import READ_TIMEOUT_S, ScannerDevice
from devices.scanner.framing import normalize_suffix
from devices.scanner.keymap import EV_KEY, KeyDecoder, keys_to_text
from devices.url import parse_device_url

__all__ = ["EvdevScanner", "keys_to_text"]

log = logging.getLogger(__name__)

_OPEN_REASONS = {
    errno.ENOENT: "no_such_device",
    errno.ENODEV: "no_such_device",
    errno.ENXIO: "no_such_device",
    errno.EACCES: "permission_denied",
    errno.EPERM: "permission_denied",
}


def load_evdev() -> ModuleType | None:
    """python-evdev, or None when it is not installed (it needs a compiler and kernel headers)."""
    try:
        import evdev
    except ImportError:
        return None
    return evdev


class EvdevScanner(ScannerDevice[Any]):
    """``EvdevScanner(url, on_scan=..., on_error=..., on_state=..., suffix="ANY", grab=True)``."""

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
        grab: bool = True,
    ) -> None:
        configured = normalize_suffix(suffix)
        # A wedge types CR and LF alike as Enter: only TAB needs its own terminator.
        super().__init__(url, on_scan=on_scan, on_error=on_error, on_state=on_state,
                         suffix="TAB" if configured == "TAB" else "ANY", dedup_window_s=dedup_window_s,
                         max_len=max_len, name=name)
        self._configured_suffix = configured
        self._grab = grab
        self._decoder = KeyDecoder()
        self._identity = ""
        self._evdev = load_evdev()
        if self._evdev is None:
            # Known at once and permanent: say so now rather than stay UNKNOWN until start().
            self._record_error(self._missing())
            self._set_state(DeviceState.UNAVAILABLE, "evdev_missing")

    @property
    def suffix(self) -> str:
        return self._configured_suffix

    @property
    def identity(self) -> str:
        return self._identity or self.url

    def start(self) -> None:
        if self._evdev is None:
            # No thread: retrying cannot make the package appear.
            self._stop.clear()
            self._outage(self._missing())
            return
        super().start()

    @staticmethod
    def _missing() -> DeviceUnavailable:
        return DeviceUnavailable("python-evdev is not installed", code="evdev_missing")

    def _open(self) -> Any:
        if self._evdev is None:
            raise self._missing()
        try:
            dev_url = parse_device_url(self.url)
        except ValueError as err:
            raise DeviceUnavailable(str(err), code="bad_url") from err
        if dev_url.scheme != "evdev" or not dev_url.path:
            raise DeviceUnavailable(f"not an evdev:///dev/input/... URL: {self.url}", code="bad_url")
        try:
            device = self._evdev.InputDevice(dev_url.path)
        except OSError as err:
            code = _OPEN_REASONS.get(err.errno or 0, "device_unavailable")
            raise DeviceUnavailable(f"cannot open {dev_url.path}: {err}", code=code) from err
        if self._grab:
            try:
                device.grab()
            except OSError as err:
                self._release(device)
                # EBUSY: someone else (the X server, another kiosk instance) holds it.
                raise DeviceUnavailable(f"cannot grab {dev_url.path}: {err}", code="grab_failed") from err
        self._identity = _identity(dev_url.path, device)
        self._decoder.reset()
        return device

    def _serve(self, device: Any) -> None:
        while not self._stop.is_set():
            try:
                ready, _, _ = select.select([device.fd], [], [], READ_TIMEOUT_S)
                events = list(device.read()) if ready else []
            except BlockingIOError:
                continue  # select saw an incomplete packet
            except (OSError, ValueError) as err:  # ENODEV: unplugged; ValueError: fd already closed
                if self._stop.is_set():
                    return
                raise self._lost(err) from err
            now = time.monotonic()
            text = "".join(self._decoder.feed(e.code, e.value) for e in events if e.type == EV_KEY)
            if text:
                self._feed(text.encode("utf-8"), now)
            else:
                self._idle(now)

    def _release(self, device: Any) -> None:
        for action in ("ungrab", "close"):
            try:
                getattr(device, action)()
            except (OSError, AttributeError) as err:  # ungrab of an unplugged device fails: fine
                log.debug("%s %s: %s", self.name, action, err)


def _identity(path: str, device: Any) -> str:
    """``path -> /dev/input/eventN [VID:PID s/n uniq] name``: VID:PID survive a replug, eventN does not."""
    real = os.path.realpath(path)
    where = path if real == path else f"{path} -> {real}"
    info = getattr(device, "info", None)
    ids = f" [{info.vendor:04X}:{info.product:04X}" if info is not None else ""
    uniq = getattr(device, "uniq", "") or ""
    if ids:
        ids += f" s/n {uniq}]" if uniq else "]"
    name = getattr(device, "name", "")
    return f"{where}{ids} {name}".rstrip()
