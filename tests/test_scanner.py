"""Code classification, and the real SerialScanner reading from a pty scanner emulator.

The unplug/replug test holds the issue's acceptance numbers: UNAVAILABLE within 1 s of the port
vanishing, READY again within 3 s of it coming back, without a restart.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from devices.base import Device, DeviceKind
from devices.emulators.scanner import ScannerEmulator
from devices.errors import DeviceError, DeviceState, DeviceUnavailable, ProtocolError
from devices.scanner import CodeKind, SerialScanner, classify, is_payment_code, mask_code
from devices.scanner.framing import LineSplitter

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

    def scanner(self, url: str, **kwargs: float | str) -> SerialScanner:
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
    assert scanner.reason == "no_such_port"


def test_is_a_device(emu: ScannerEmulator, rec: Recorder, running: SerialScanner) -> None:
    assert isinstance(running, Device) and running.kind is DeviceKind.SCANNER
    assert running.suffix == "ANY"
    # The stable link, and the pty it resolves to now.
    assert running.identity == f"{emu.path} -> {emu.pty_path}"
    emu.scan(WECHAT)
    emu.send_raw(b"\x00\x01\r")
    assert rec.next_scan() == WECHAT
    assert isinstance(rec.next_error(), ProtocolError)
    status = running.status()
    assert status.state is DeviceState.READY and status.reason == ""
    assert status.counters["scans"] == 1 and status.counters["rejected"] == 1
    assert status.last_error_code == "protocol_error"


def test_unplug_and_replug_within_acceptance_bounds(emu: ScannerEmulator, rec: Recorder,
                                                    running: SerialScanner) -> None:
    emu.scan(WECHAT)
    assert rec.next_scan() == WECHAT
    rec.ready.clear()

    unplugged_at = time.monotonic()
    emu.unplug()
    assert rec.unavailable.wait(1.0), "driver did not notice the port vanish within 1 s"
    unplug_s = time.monotonic() - unplugged_at
    assert running.state is DeviceState.UNAVAILABLE
    assert running.reason in ("port_lost", "no_such_port")  # the latter once a retry found no link
    err = rec.next_error()
    assert isinstance(err, DeviceUnavailable) and err.code == "port_lost"
    # Stay unplugged long enough for the reconnect backoff to reach its cap (the slow case).
    time.sleep(2.0)
    assert rec.errors.empty(), "retries while unplugged must not repeat the error"

    replugged_at = time.monotonic()
    emu.replug()
    assert rec.ready.wait(3.0), "driver did not find the replugged port within 3 s"
    replug_s = time.monotonic() - replugged_at
    emu.scan(ALIPAY)
    assert rec.next_scan() == ALIPAY
    assert running.status().counters["reconnects"] == 1
    print(f"unplug -> UNAVAILABLE {unplug_s * 1000:.0f} ms; replug -> READY {replug_s * 1000:.0f} ms")


def test_replug_twice_and_stop_while_unplugged(emu: ScannerEmulator, rec: Recorder,
                                               running: SerialScanner) -> None:
    for code in (WECHAT, ALIPAY):  # different codes: the same one within 1 s would be a duplicate
        rec.ready.clear()
        rec.unavailable.clear()
        emu.unplug()
        assert rec.unavailable.wait(1.0)
        emu.replug()
        assert rec.ready.wait(3.0)
        emu.scan(code, b"\r\n")
        assert rec.next_scan() == code
    emu.unplug()
    assert rec.unavailable.wait(1.0)
    stopped_at = time.monotonic()
    running.stop()  # interrupts the backoff wait
    assert time.monotonic() - stopped_at < 1.0


@pytest.mark.parametrize(("suffix", "sent"), [("CR", b"\r"), ("LF", b"\n"), ("CRLF", b"\r\n"), ("TAB", b"\t"),
                                              ("tab", b"\t")])
def test_suffix_option(emu: ScannerEmulator, rec: Recorder, suffix: str, sent: bytes) -> None:
    scanner = rec.scanner(emu.url, suffix=suffix)
    scanner.start()
    try:
        assert rec.ready.wait(WAIT)
        assert scanner.suffix == suffix.upper()
        emu.scan(WECHAT, sent, chunk_size=5)  # partial reads, and CRLF split across two reads
        emu.scan(ALIPAY, sent)
        assert [rec.next_scan(), rec.next_scan()] == [WECHAT, ALIPAY]
        assert rec.errors.empty()
    finally:
        scanner.stop()


def test_wrong_suffix_is_reported_not_glued(emu: ScannerEmulator, rec: Recorder) -> None:
    scanner = rec.scanner(emu.url, suffix="TAB")
    scanner.start()
    try:
        assert rec.ready.wait(WAIT)
        emu.scan(WECHAT, b"\r")  # scanner configured for CR, driver for TAB
        err = rec.next_error()
        assert isinstance(err, ProtocolError) and "TAB" in err.detail
        emu.scan(ALIPAY, b"\t")
        assert rec.next_scan() == ALIPAY
    finally:
        scanner.stop()


def test_cr_suffix_ignores_stray_lf(emu: ScannerEmulator, rec: Recorder) -> None:
    scanner = rec.scanner(emu.url, suffix="CR")
    scanner.start()
    try:
        assert rec.ready.wait(WAIT)
        emu.scan(WECHAT, b"\r\n")
        assert rec.next_scan() == WECHAT
        threading.Event().wait(0.8)  # past the stale-partial limit with "\n" left in the buffer
        emu.scan(ALIPAY, b"\r\n")
        assert rec.next_scan() == ALIPAY
        assert rec.errors.empty()
    finally:
        scanner.stop()


def test_bad_suffix_refused_at_construction(rec: Recorder) -> None:
    with pytest.raises(ValueError, match="CRLF"):
        rec.scanner("serial:///dev/null", suffix="ETX")


def test_self_test(emu: ScannerEmulator, rec: Recorder) -> None:
    scanner = rec.scanner(emu.url)
    result = scanner.self_test()  # not running: the port opens
    assert result.ok and emu.pty_path in result.detail
    assert scanner.state is DeviceState.UNKNOWN  # nothing reads yet, so not READY
    scanner.start()
    try:
        assert scanner.self_test(timeout_s=WAIT).ok
        emu.unplug()
        assert rec.unavailable.wait(1.0)
        result = scanner.self_test(timeout_s=0.2)
        # "port_lost" at first, "no_such_port" once a reconnect attempt found the link gone.
        assert not result.ok and result.code in ("port_lost", "no_such_port")
    finally:
        scanner.stop()


def test_self_test_missing_port(rec: Recorder) -> None:
    scanner = rec.scanner("serial:///dev/no-such-scanner?baud=9600")
    result = scanner.self_test()
    assert not result.ok and result.code == "no_such_port"
    assert scanner.state is DeviceState.UNAVAILABLE and scanner.reason == "no_such_port"


def test_splitter_keeps_crlf_half_when_dropping_overlong_line() -> None:
    splitter = LineSplitter("CRLF", max_len=4)
    assert [line.overlong for line in splitter.feed(b"123456\r")] == [True]
    assert list(splitter.feed(b"\nabc\r")) == []  # the "\n" ends the dropped line, not a new one
    assert [line.raw for line in splitter.feed(b"\n")] == [b"abc"]
