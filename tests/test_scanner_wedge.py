"""Keyboard-wedge scanners through evdev: key decoding, and the driver without a real device.

There is no /dev/uinput here, so no virtual keyboard: the read loop runs against a stand-in for
python-evdev's ``InputDevice`` (a pipe for ``select``, a queue of events), and the real package's
absence is the "evdev_missing" path.
"""

from __future__ import annotations

import errno
import os
import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest

from devices.base import DeviceKind
from devices.errors import DeviceError, DeviceState, DeviceUnavailable, ProtocolError
from devices.scanner import EvdevScanner, keys_to_text
from devices.scanner import wedge as wedge_mod
from devices.scanner.keymap import EV_KEY, KEY_DOWN, KEY_REPEAT, KEY_UP, US_KEYMAP, KeyDecoder
from devices.url import parse_device_url

WAIT = 5.0
URL = "evdev:///dev/input/by-id/usb-Test_Scanner-event-kbd"
LSHIFT, RSHIFT, CAPS, LCTRL, LALT, ENTER, TAB = 42, 54, 58, 29, 56, 28, 15
_CHAR_KEYS = {(plain, False): code for code, (plain, _) in US_KEYMAP.items()} | {
    (shifted, True): code for code, (plain, shifted) in US_KEYMAP.items() if shifted != plain
}


def type_text(text: str) -> list[tuple[int, int]]:
    """What a US-layout wedge scanner sends for ``text``: Shift around shifted characters."""
    events: list[tuple[int, int]] = []
    for ch in text:
        if (ch, False) in _CHAR_KEYS:
            code = _CHAR_KEYS[ch, False]
            events += [(code, KEY_DOWN), (code, KEY_UP)]
        else:
            code = _CHAR_KEYS[ch, True]
            events += [(LSHIFT, KEY_DOWN), (code, KEY_DOWN), (code, KEY_UP), (LSHIFT, KEY_UP)]
    return events


def press(*codes: int) -> list[tuple[int, int]]:
    return [e for c in codes for e in ((c, KEY_DOWN), (c, KEY_UP))]


# ---- decoding (pure)


@pytest.mark.parametrize(
    "text",
    ["134567890123456789", "https://hospital.example/visit?id=00123&x=Y", "A-Z a_z {}|:\"<>?~!@#$%^&*()+"],
)
def test_keys_to_text_round_trip(text: str) -> None:
    assert keys_to_text(type_text(text)) == text


def test_terminators_and_keypad() -> None:
    assert keys_to_text(press(2, 3) + press(ENTER)) == "12\r"
    assert keys_to_text(press(79, 80, 83, 96)) == "12.\r"  # keypad 1 2 . Enter
    assert keys_to_text(press(TAB)) == "\t"


def test_shift_state_is_tracked_per_key() -> None:
    # Right Shift, and Shift released between keys.
    events = [(RSHIFT, KEY_DOWN), (30, KEY_DOWN), (30, KEY_UP), (RSHIFT, KEY_UP), (30, KEY_DOWN), (30, KEY_UP)]
    assert keys_to_text(events) == "Aa"
    # Both shifts down, one released: still shifted.
    events = [(LSHIFT, KEY_DOWN), (RSHIFT, KEY_DOWN), (LSHIFT, KEY_UP), (2, KEY_DOWN)]
    assert keys_to_text(events) == "!"


def test_caps_lock_inverts_letters_only() -> None:
    events = press(CAPS) + press(30) + press(2) + [(LSHIFT, KEY_DOWN), (30, KEY_DOWN), (LSHIFT, KEY_UP)]
    assert keys_to_text(events) == "A1a"


def test_ctrl_and_alt_codes() -> None:
    ctrl_m = [(LCTRL, KEY_DOWN), (50, KEY_DOWN), (50, KEY_UP), (LCTRL, KEY_UP)]
    assert keys_to_text(ctrl_m) == "\r"
    # FNC1 / GS as "Alt+029" on the keypad (protocols.md 5.2).
    alt_029 = [(LALT, KEY_DOWN), *press(82, 80, 73), (LALT, KEY_UP)]
    assert keys_to_text(alt_029) == "\x1d"
    alt_65 = [(LALT, KEY_DOWN), *press(77, 76), (LALT, KEY_UP)]
    assert keys_to_text(alt_65) == "A"


def test_unmapped_and_repeats() -> None:
    assert keys_to_text(press(59)) == "\ufffd"  # F1: never part of a code
    assert keys_to_text([(2, KEY_DOWN), (2, KEY_REPEAT), (2, KEY_UP)]) == "1"
    assert keys_to_text(press(69) + press(2)) == "1"  # NumLock changes nothing
    decoder = KeyDecoder()
    decoder.feed(LSHIFT, KEY_DOWN)
    decoder.reset()  # a new connection forgets a Shift whose release was lost
    assert decoder.feed(30, KEY_DOWN) == "a"


def test_evdev_urls_parse() -> None:
    dev = parse_device_url(URL)
    assert dev.scheme == "evdev" and dev.path == "/dev/input/by-id/usb-Test_Scanner-event-kbd"


# ---- driver


@dataclass
class Recorder:
    scans: queue.Queue[str] = field(default_factory=queue.Queue)
    errors: queue.Queue[DeviceError] = field(default_factory=queue.Queue)
    states: list[DeviceState] = field(default_factory=list)

    def scanner(self, url: str = URL, **kwargs: Any) -> EvdevScanner:
        return EvdevScanner(url, on_scan=self.scans.put, on_error=self.errors.put, on_state=self.states.append,
                            **kwargs)


class FakeInputDevice:
    """The part of ``evdev.InputDevice`` the driver uses."""

    def __init__(self, path: str, *, grab_error: int | None = None) -> None:
        self.path = path
        self.name = "Test Scanner"
        self.uniq = "SN42"
        self.info = SimpleNamespace(vendor=0x0C2E, product=0x0B61)
        self._r, self._w = os.pipe()
        self._events: queue.Queue[SimpleNamespace] = queue.Queue()
        self._grab_error = grab_error
        self.grabbed = False
        self.closed = threading.Event()
        self.gone = False

    @property
    def fd(self) -> int:
        return self._r

    def grab(self) -> None:
        if self._grab_error is not None:
            raise OSError(self._grab_error, os.strerror(self._grab_error))
        self.grabbed = True

    def ungrab(self) -> None:
        if self.gone:
            raise OSError(errno.ENODEV, "No such device")
        self.grabbed = False

    def send(self, events: list[tuple[int, int]]) -> None:
        for code, value in events:
            self._events.put(SimpleNamespace(type=EV_KEY, code=code, value=value))
            self._events.put(SimpleNamespace(type=0, code=0, value=0))  # EV_SYN, ignored
        os.write(self._w, b"x")

    def unplug(self) -> None:
        self.gone = True
        os.write(self._w, b"x")

    def read(self) -> Iterator[SimpleNamespace]:
        os.read(self._r, 4096)
        if self.gone:
            raise OSError(errno.ENODEV, "No such device")
        while not self._events.empty():
            yield self._events.get()

    def close(self) -> None:
        for fd in (self._r, self._w):
            os.close(fd)
        self.closed.set()


class FakeEvdev:
    """A stand-in ``evdev`` module whose devices exist only once ``plug()`` ran."""

    def __init__(self) -> None:
        self.paths: set[str] = set()
        self.opened: queue.Queue[FakeInputDevice] = queue.Queue()
        self.grab_error: int | None = None

    def InputDevice(self, path: str) -> FakeInputDevice:  # python-evdev's name
        if path not in self.paths:
            raise FileNotFoundError(errno.ENOENT, "No such file or directory", path)
        dev = FakeInputDevice(path, grab_error=self.grab_error)
        self.opened.put(dev)
        return dev

    def plug(self, url: str = URL) -> None:
        self.paths.add(parse_device_url(url).path)

    def unplug(self, dev: FakeInputDevice) -> None:
        self.paths.discard(dev.path)
        dev.unplug()


@pytest.fixture
def fake_evdev(monkeypatch: pytest.MonkeyPatch) -> FakeEvdev:
    fake = FakeEvdev()
    monkeypatch.setattr(wedge_mod, "load_evdev", lambda: fake)
    return fake


def test_without_python_evdev_unavailable_not_importerror(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(wedge_mod, "load_evdev", lambda: None)
    rec = Recorder()
    scanner = rec.scanner()
    assert scanner.kind is DeviceKind.SCANNER
    assert scanner.state is DeviceState.UNAVAILABLE and scanner.reason == "evdev_missing"
    scanner.start()  # reports once, starts no thread (nothing to retry)
    scanner.start()
    err = rec.errors.get_nowait()
    assert isinstance(err, DeviceUnavailable) and err.code == "evdev_missing"
    assert rec.errors.empty()
    assert not scanner.running
    result = scanner.self_test()
    assert not result.ok and result.code == "evdev_missing"
    scanner.stop()


def test_real_environment_has_no_evdev_and_imports_fine() -> None:
    # This machine has no python-evdev: the module imported above without it.
    if wedge_mod.load_evdev() is not None:
        pytest.skip("python-evdev is installed here")
    assert Recorder().scanner().reason == "evdev_missing"


def test_missing_device_and_bad_url(fake_evdev: FakeEvdev) -> None:
    rec = Recorder()
    result = rec.scanner().self_test()
    assert not result.ok and result.code == "no_such_device"
    result = rec.scanner("serial:///dev/ttyACM0").self_test()
    assert not result.ok and result.code == "bad_url"


def test_grab_refused(fake_evdev: FakeEvdev) -> None:
    fake_evdev.plug()
    fake_evdev.grab_error = errno.EBUSY
    scanner = Recorder().scanner()
    result = scanner.self_test()
    assert not result.ok and result.code == "grab_failed"
    assert fake_evdev.opened.get_nowait().closed.is_set()  # not left open half-usable


@pytest.mark.parametrize(("suffix", "end"), [("ANY", ENTER), ("CR", ENTER), ("CRLF", ENTER), ("TAB", TAB)])
def test_reads_grabbed_device_until_unplugged(fake_evdev: FakeEvdev, suffix: str, end: int) -> None:
    fake_evdev.plug()
    rec = Recorder()
    scanner = rec.scanner(suffix=suffix)
    assert scanner.suffix == suffix
    scanner.start()
    try:
        dev = fake_evdev.opened.get(timeout=WAIT)
        assert dev.grabbed
        dev.send(type_text("134567890123456789") + press(end))
        dev.send(type_text("Visit-00123") + press(end))
        assert rec.scans.get(timeout=WAIT) == "134567890123456789"
        assert rec.scans.get(timeout=WAIT) == "Visit-00123"
        dev.send(type_text("12") + press(59) + type_text("34") + press(end))  # F1 inside a code
        assert isinstance(rec.errors.get(timeout=WAIT), ProtocolError)
        assert scanner.state is DeviceState.READY
        assert "0C2E:0B61 s/n SN42" in scanner.identity
        fake_evdev.unplug(dev)
        err = rec.errors.get(timeout=WAIT)
        assert isinstance(err, DeviceUnavailable) and err.code == "port_lost"
        assert scanner.state is DeviceState.UNAVAILABLE
    finally:
        scanner.stop()
    assert rec.states[:2] == [DeviceState.CONNECTING, DeviceState.READY]
    assert scanner.status().counters["scans"] == 2
