"""Code classification, and the real SerialScanner reading from a pty scanner emulator."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from devices.emulators.scanner import ScannerEmulator
from devices.errors import DeviceError, DeviceState, DeviceUnavailable, ProtocolError
from devices.scanner import CodeKind, SerialScanner, classify, is_payment_code, mask_code

WAIT = 5.0
WECHAT = "134567890123456789"
ALIPAY = "281234567890123456"


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        ("101234567890123456", CodeKind.WECHAT),
        ("151234567890123456", CodeKind.WECHAT),
        ("161234567890123456", CodeKind.UNKNOWN),  # prefix 16 is not WeChat
        ("13456789012345678", CodeKind.UNKNOWN),  # 17 digits
        ("2512345678901234", CodeKind.ALIPAY),  # 16 digits
        ("301234567890123456789012", CodeKind.ALIPAY),  # 24 digits
        ("3012345678901234567890123", CodeKind.UNKNOWN),  # 25 digits
        ("241234567890123456", CodeKind.UNKNOWN),  # prefix 24
        ("6212345678901234567", CodeKind.UNIONPAY),  # 19 digits
        ("621234567890123456", CodeKind.UNKNOWN),  # 18 digits
        ("０１２３", CodeKind.UNKNOWN),  # full-width digits are not \d here
        ("１３４５６７８９０１２３４５６７８９", CodeKind.UNKNOWN),
        ("https://example.org/q?x=1", CodeKind.UNKNOWN),
        ("", CodeKind.UNKNOWN),
        ("\x02 134567890123456789\r\n", CodeKind.WECHAT),  # control chars and whitespace stripped
    ],
)
def test_classify(code: str, kind: CodeKind) -> None:
    assert classify(code) is kind


def test_codes_stay_strings() -> None:
    assert classify("0013456789") is CodeKind.UNKNOWN
    assert is_payment_code(WECHAT) and not is_payment_code("0" + WECHAT[1:])
    with pytest.raises(TypeError):
        classify(134567890123456789)  # type: ignore[arg-type]
    masked = mask_code(WECHAT)
    assert WECHAT not in masked and masked.endswith("6789") and len(masked) == len(WECHAT)


@dataclass
class Recorder:
    scans: queue.Queue[str] = field(default_factory=queue.Queue)
    errors: queue.Queue[DeviceError] = field(default_factory=queue.Queue)
    states: list[DeviceState] = field(default_factory=list)
    ready: threading.Event = field(default_factory=threading.Event)
    unavailable: threading.Event = field(default_factory=threading.Event)

    def on_state(self, state: DeviceState) -> None:
        self.states.append(state)
        if state is DeviceState.READY:
            self.ready.set()
        if state is DeviceState.UNAVAILABLE:
            self.unavailable.set()

    def scanner(self, url: str, **kwargs: float) -> SerialScanner:
        return SerialScanner(url, on_scan=self.scans.put, on_error=self.errors.put, on_state=self.on_state,
                             **kwargs)  # type: ignore[arg-type]

    def next_scan(self) -> str:
        return self.scans.get(timeout=WAIT)

    def next_error(self) -> DeviceError:
        return self.errors.get(timeout=WAIT)


@pytest.fixture
def emu() -> Iterator[ScannerEmulator]:
    with ScannerEmulator() as emulator:
        yield emulator


@pytest.fixture
def rec() -> Recorder:
    return Recorder()


@pytest.fixture
def running(emu: ScannerEmulator, rec: Recorder) -> Iterator[SerialScanner]:
    scanner = rec.scanner(emu.url)
    scanner.start()
    try:
        assert rec.ready.wait(WAIT)
        yield scanner
    finally:
        scanner.stop()
    assert not any(t.name == "scanner" and t.is_alive() for t in threading.enumerate())


@pytest.mark.parametrize("suffix", [b"\r", b"\n", b"\r\n"])
def test_suffixes(emu: ScannerEmulator, rec: Recorder, running: SerialScanner, suffix: bytes) -> None:
    emu.scan(WECHAT, suffix)
    emu.scan(ALIPAY, suffix)
    assert rec.next_scan() == WECHAT
    assert rec.next_scan() == ALIPAY
    assert rec.scans.empty() and rec.errors.empty()  # CRLF counted once: no empty line, no error


def test_chunked_delivery(emu: ScannerEmulator, rec: Recorder, running: SerialScanner) -> None:
    emu.scan("https://hospital.example/visit?id=00123", b"\r\n", chunk_size=3)
    assert rec.next_scan() == "https://hospital.example/visit?id=00123"


def test_gb18030_fallback(emu: ScannerEmulator, rec: Recorder, running: SerialScanner) -> None:
    emu.scan("挂号单：00123", encoding="gb18030")
    emu.scan("就诊卡 00456")
    assert rec.next_scan() == "挂号单：00123"
    assert rec.next_scan() == "就诊卡 00456"


def test_duplicates_within_window_dropped(emu: ScannerEmulator, rec: Recorder, running: SerialScanner) -> None:
    emu.scan(WECHAT)
    emu.scan(WECHAT)
    emu.scan(ALIPAY)
    emu.scan(WECHAT)  # a different code came between: not a duplicate
    assert [rec.next_scan() for _ in range(3)] == [WECHAT, ALIPAY, WECHAT]
    assert rec.scans.empty()


def test_same_code_after_window_delivered(emu: ScannerEmulator, rec: Recorder) -> None:
    scanner = rec.scanner(emu.url, dedup_window_s=0.2)
    scanner.start()
    try:
        assert rec.ready.wait(WAIT)
        emu.scan(WECHAT)
        assert rec.next_scan() == WECHAT
        threading.Event().wait(0.4)
        emu.scan(WECHAT)
        assert rec.next_scan() == WECHAT
    finally:
        scanner.stop()


def test_garbage_reported_and_session_survives(emu: ScannerEmulator, rec: Recorder,
                                               running: SerialScanner) -> None:
    emu.send_raw(b"\x00\xff\xfe\x01\x9c\r")
    assert isinstance(rec.next_error(), ProtocolError)
    emu.scan(WECHAT)
    assert rec.next_scan() == WECHAT


def test_unterminated_garbage_is_not_glued_to_next_code(emu: ScannerEmulator, rec: Recorder,
                                                        running: SerialScanner) -> None:
    emu.send_raw(b"\x15\x07noise")
    assert isinstance(rec.next_error(), ProtocolError)  # dropped after the scanner went quiet
    emu.scan(ALIPAY)
    assert rec.next_scan() == ALIPAY


def test_overlong_line_dropped(emu: ScannerEmulator, rec: Recorder) -> None:
    scanner = rec.scanner(emu.url, max_len=32)
    scanner.start()
    try:
        assert rec.ready.wait(WAIT)
        emu.scan("9" * 100, chunk_size=16)
        assert isinstance(rec.next_error(), ProtocolError)
        emu.scan(WECHAT)
        assert rec.next_scan() == WECHAT
        assert rec.errors.empty()  # one error for the long line, none for its tail
    finally:
        scanner.stop()


def test_callback_exception_does_not_kill_thread(emu: ScannerEmulator, rec: Recorder) -> None:
    calls: list[str] = []

    def on_scan(code: str) -> None:
        calls.append(code)
        if len(calls) == 1:
            raise RuntimeError("UI bug")
        rec.scans.put(code)

    scanner = SerialScanner(emu.url, on_scan=on_scan, on_error=rec.errors.put, on_state=rec.on_state)
    scanner.start()
    try:
        assert rec.ready.wait(WAIT)
        emu.scan(WECHAT)
        emu.scan(ALIPAY)
        assert rec.next_scan() == ALIPAY
    finally:
        scanner.stop()


def test_emulator_gone_becomes_unavailable(emu: ScannerEmulator, rec: Recorder, running: SerialScanner) -> None:
    emu.stop()
    assert rec.unavailable.wait(WAIT)
    assert isinstance(rec.next_error(), DeviceUnavailable)
    assert running.state is DeviceState.UNAVAILABLE
    emu.stop()  # idempotent


def test_missing_port_unavailable_and_stop_is_idempotent(rec: Recorder) -> None:
    scanner = rec.scanner("serial:///dev/no-such-scanner?baud=9600")
    scanner.start()
    try:
        assert rec.unavailable.wait(WAIT)
        assert isinstance(rec.next_error(), DeviceUnavailable)
        threading.Event().wait(1.0)  # retries are throttled and do not repeat the error
        assert rec.errors.empty()
    finally:
        scanner.stop()
        scanner.stop()
    assert rec.states[:2] == [DeviceState.CONNECTING, DeviceState.UNAVAILABLE]
