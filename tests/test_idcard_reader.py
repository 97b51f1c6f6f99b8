"""The real IdCardReader against IdCardEmulator over a pty."""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest

import devices.idcard.reader as reader_mod
from devices.emulators.idcard import IdCardEmulator, sample_cards
from devices.errors import CardReadError, DeviceError, DeviceState, DeviceTimeout, DeviceUnavailable
from devices.idcard import protocol as p
from devices.idcard.parser import IdCardData
from devices.idcard.reader import IdCardReader, read_once

WAIT_S = 5.0
CARDS = sample_cards()


def base(key: str) -> IdCardData:
    """What a 30 01 read returns for a sample card (no fingerprint)."""
    return replace(CARDS[key], fingerprint=b"")


class Recorder:
    def __init__(self) -> None:
        self.cards: queue.Queue[IdCardData] = queue.Queue()
        self.errors: queue.Queue[DeviceError] = queue.Queue()
        self.states: list[DeviceState] = []
        self._cond = threading.Condition()

    def on_card(self, card: IdCardData) -> None:
        self.cards.put(card)

    def on_error(self, err: DeviceError) -> None:
        self.errors.put(err)

    def on_state(self, state: DeviceState) -> None:
        with self._cond:
            self.states.append(state)
            self._cond.notify_all()

    def wait_state(self, state: DeviceState) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: bool(self.states) and self.states[-1] is state, WAIT_S)


MakeReader = Callable[..., IdCardReader]


@pytest.fixture(autouse=True)
def no_leftover_threads() -> Iterator[None]:
    yield
    left = [t.name for t in threading.enumerate() if t.name in ("idcard-reader", "idcard-emulator")]
    assert not left


@pytest.fixture
def emulator() -> Iterator[IdCardEmulator]:
    emu = IdCardEmulator()
    emu.start()
    yield emu
    emu.stop()


@pytest.fixture
def rec() -> Recorder:
    return Recorder()


@pytest.fixture
def make_reader(rec: Recorder) -> Iterator[MakeReader]:
    readers: list[IdCardReader] = []

    def make(url: str, **kwargs: Any) -> IdCardReader:
        kwargs.setdefault("poll_interval", 0.02)
        kwargs.setdefault("reconnect_interval", 0.05)
        reader = IdCardReader(url, on_card=rec.on_card, on_error=rec.on_error, on_state=rec.on_state, **kwargs)
        readers.append(reader)
        reader.start()
        return reader

    yield make
    for reader in readers:
        reader.stop()


def ready_reader(emulator: IdCardEmulator, rec: Recorder, make_reader: MakeReader, **kw: Any) -> IdCardReader:
    reader = make_reader(emulator.url, **kw)
    assert rec.wait_state(DeviceState.READY)
    return reader


def let_reader_poll(emulator: IdCardEmulator, polls: int = 5) -> None:
    """Wait until the reader sent ``polls`` more find commands (it has seen the current field)."""
    assert emulator.wait_for_count(p.FIND, emulator.count(p.FIND) + polls, WAIT_S)


def remove_and_wait(emulator: IdCardEmulator) -> None:
    emulator.remove_card()
    let_reader_poll(emulator, 2)  # the second find surely ran after the removal


def test_card_read_once_until_removed(emulator: IdCardEmulator, rec: Recorder, make_reader: MakeReader) -> None:
    reader = ready_reader(emulator, rec, make_reader)
    assert rec.states[:2] == [DeviceState.CONNECTING, DeviceState.READY]
    assert reader.state is DeviceState.READY
    emulator.place_card(CARDS["zhangsan"])
    assert rec.cards.get(timeout=WAIT_S) == base("zhangsan")

    let_reader_poll(emulator, 10)
    assert emulator.count(p.READ_BASE) == 1 and rec.cards.empty()

    remove_and_wait(emulator)
    emulator.place_card(CARDS["zhangsan"])  # the same card again is a new visit
    assert rec.cards.get(timeout=WAIT_S) == base("zhangsan")
    remove_and_wait(emulator)
    emulator.place_card(CARDS["elder"])
    elder = rec.cards.get(timeout=WAIT_S)
    assert elder == base("elder") and elder.valid_to == "长期"
    assert emulator.count(p.READ_BASE) == 3 and rec.errors.empty()


def test_emulator_swap_faster_than_a_poll_is_still_seen_as_two_cards(
    emulator: IdCardEmulator, rec: Recorder, make_reader: MakeReader
) -> None:
    """A test or tour takes the card and puts one back faster than the driver polls; the emulator
    holds the new card back until a FIND saw the empty field (else the driver would, rightly, see
    one card that never left, and a UI test waits for a read that never comes)."""
    ready_reader(emulator, rec, make_reader, poll_interval=0.5)
    emulator.place_card(CARDS["zhangsan"])
    assert rec.cards.get(timeout=WAIT_S) == base("zhangsan")
    emulator.remove_card()
    emulator.place_card(CARDS["elder"])  # no wait in between
    assert rec.cards.get(timeout=WAIT_S) == base("elder")
    assert emulator.count(p.READ_BASE) == 2


@pytest.mark.parametrize("key", ["hk_resident", "foreigner_2017", "foreigner_2023"])
def test_other_card_types(emulator: IdCardEmulator, rec: Recorder, make_reader: MakeReader, key: str) -> None:
    ready_reader(emulator, rec, make_reader)
    emulator.place_card(CARDS[key])
    assert rec.cards.get(timeout=WAIT_S) == base(key)


def test_fingerprint_read(emulator: IdCardEmulator, rec: Recorder, make_reader: MakeReader) -> None:
    ready_reader(emulator, rec, make_reader, with_fingerprint=True)
    emulator.place_card(CARDS["zhangsan"])
    card = rec.cards.get(timeout=WAIT_S)
    assert card == CARDS["zhangsan"] and len(card.fingerprint) == 1024
    assert emulator.count(p.READ_FINGER) == 1 and emulator.count(p.READ_BASE) == 0


@pytest.mark.parametrize(("fault", "code"), [("bad_checksum", "card_read_failed"), ("sw3_41", "card_moved")])
def test_read_fault_reported_once_then_read_succeeds(
    emulator: IdCardEmulator, rec: Recorder, make_reader: MakeReader, fault: str, code: str
) -> None:
    ready_reader(emulator, rec, make_reader)
    emulator.inject(fault)
    emulator.place_card(CARDS["zhangsan"])
    err = rec.errors.get(timeout=WAIT_S)
    assert isinstance(err, CardReadError) and err.code == code
    # The card stayed in the field: the silent retry reads it.
    assert rec.cards.get(timeout=WAIT_S) == base("zhangsan")
    remove_and_wait(emulator)
    emulator.place_card(CARDS["elder"])
    assert rec.cards.get(timeout=WAIT_S) == base("elder")
    assert rec.errors.empty()


def test_persistent_read_failure_gives_up_until_removed(
    emulator: IdCardEmulator, rec: Recorder, make_reader: MakeReader
) -> None:
    ready_reader(emulator, rec, make_reader)
    for _ in range(reader_mod.MAX_READ_ATTEMPTS):
        emulator.inject("sw3_41")
    emulator.place_card(CARDS["zhangsan"])
    assert isinstance(rec.errors.get(timeout=WAIT_S), CardReadError)
    assert emulator.wait_for_count(p.READ_BASE, reader_mod.MAX_READ_ATTEMPTS, WAIT_S)
    let_reader_poll(emulator, 10)
    assert emulator.count(p.READ_BASE) == reader_mod.MAX_READ_ATTEMPTS
    assert rec.cards.empty() and rec.errors.empty()
    remove_and_wait(emulator)
    emulator.place_card(CARDS["zhangsan"])
    assert rec.cards.get(timeout=WAIT_S) == base("zhangsan")


def test_pull_mid_read_then_recovery(emulator: IdCardEmulator, rec: Recorder, make_reader: MakeReader) -> None:
    ready_reader(emulator, rec, make_reader)
    emulator.inject("pull_mid_read")
    emulator.place_card(CARDS["zhangsan"])
    err = rec.errors.get(timeout=WAIT_S)
    assert isinstance(err, CardReadError) and isinstance(err.__cause__, DeviceTimeout)
    assert not emulator.card_present
    emulator.place_card(CARDS["zhangsan"])
    assert rec.cards.get(timeout=WAIT_S) == base("zhangsan")
    assert rec.errors.empty()


def test_garbage_before_reply_is_skipped(emulator: IdCardEmulator, rec: Recorder, make_reader: MakeReader) -> None:
    ready_reader(emulator, rec, make_reader)
    emulator.inject("garbage")
    emulator.place_card(CARDS["elder"])
    assert rec.cards.get(timeout=WAIT_S) == base("elder")
    assert rec.errors.empty()


def test_callback_exception_does_not_kill_reader(emulator: IdCardEmulator, make_reader: MakeReader) -> None:
    cards: queue.Queue[IdCardData] = queue.Queue()
    calls = []

    def on_card(card: IdCardData) -> None:
        calls.append(card)
        if len(calls) == 1:
            raise RuntimeError("UI bug")
        cards.put(card)

    reader = IdCardReader(emulator.url, on_card=on_card, on_error=lambda e: None, poll_interval=0.02)
    reader.start()
    try:
        emulator.place_card(CARDS["zhangsan"])
        assert emulator.wait_for_count(p.READ_BASE, 1, WAIT_S)
        remove_and_wait(emulator)
        emulator.place_card(CARDS["elder"])
        assert cards.get(timeout=WAIT_S) == base("elder")
        assert reader.state is DeviceState.READY
    finally:
        reader.stop()


def test_emulator_stopped_means_unavailable_reported_once(
    emulator: IdCardEmulator, rec: Recorder, make_reader: MakeReader, monkeypatch: pytest.MonkeyPatch
) -> None:
    opens = threading.Semaphore(0)
    real_open = reader_mod.open_serial

    def counting_open(url: str, **kw: Any) -> Any:
        opens.release()
        return real_open(url, **kw)

    monkeypatch.setattr(reader_mod, "open_serial", counting_open)
    reader = ready_reader(emulator, rec, make_reader)
    emulator.stop()
    assert rec.wait_state(DeviceState.UNAVAILABLE)
    assert isinstance(rec.errors.get(timeout=WAIT_S), DeviceUnavailable)
    for _ in range(4):  # several reconnect attempts, all failing
        assert opens.acquire(timeout=WAIT_S)
    assert rec.errors.empty()
    assert reader.state is DeviceState.UNAVAILABLE


@pytest.mark.parametrize("url", ["serial:///dev/no-such-idcard-reader", "bogus://nothing", "serial://"])
def test_bad_url_is_unavailable_not_a_crash(rec: Recorder, make_reader: MakeReader, url: str) -> None:
    reader = make_reader(url)
    assert rec.wait_state(DeviceState.UNAVAILABLE)
    assert isinstance(rec.errors.get(timeout=WAIT_S), DeviceUnavailable)
    assert reader.state is DeviceState.UNAVAILABLE
    reader.stop()
    reader.stop()  # idempotent


def test_silent_port_is_unavailable(rec: Recorder, make_reader: MakeReader) -> None:
    master, slave = os.openpty()  # a tty where nothing answers
    try:
        make_reader(f"serial://{os.ttyname(slave)}")
        assert rec.wait_state(DeviceState.UNAVAILABLE)
        assert isinstance(rec.errors.get(timeout=WAIT_S), DeviceUnavailable)
    finally:
        os.close(master)
        os.close(slave)


def test_sam_failure_is_error_state(rec: Recorder, make_reader: MakeReader) -> None:
    emu = IdCardEmulator(sam_status=0x60)
    emu.start()
    try:
        make_reader(emu.url)
        assert rec.wait_state(DeviceState.ERROR)
        err = rec.errors.get(timeout=WAIT_S)
        assert type(err) is DeviceError and err.code == "sam_failed"
    finally:
        emu.stop()


def test_stop_before_start_and_restart(emulator: IdCardEmulator, rec: Recorder) -> None:
    reader = IdCardReader(emulator.url, on_card=rec.on_card, on_error=rec.on_error, on_state=rec.on_state)
    reader.stop()
    reader.start()
    assert rec.wait_state(DeviceState.READY)
    reader.stop()
    reader.stop()


def test_read_once(emulator: IdCardEmulator) -> None:
    emulator.place_card(CARDS["foreigner_2023"])
    assert read_once(emulator.url, WAIT_S) == base("foreigner_2023")
    emulator.place_card(CARDS["zhangsan"])
    assert read_once(emulator.url, WAIT_S, with_fingerprint=True) == CARDS["zhangsan"]
    emulator.remove_card()
    with pytest.raises(DeviceTimeout):
        read_once(emulator.url, 0.3)
    with pytest.raises(DeviceUnavailable):
        read_once("serial:///dev/no-such-idcard-reader", 0.3)
    with pytest.raises(DeviceUnavailable):
        read_once("bogus://x", 0.3)


def test_unplug_is_reported_within_1s_and_replug_ready_within_3s() -> None:
    """Issue #3's acceptance numbers, on the real driver against the emulator's stable path."""
    import time

    from devices.emulators.idcard import IdCardEmulator, sample_cards
    from devices.errors import DeviceState
    from devices.idcard import IdCardReader

    emu = IdCardEmulator()
    emu.start()
    states: list[tuple[float, DeviceState]] = []
    cards: list[object] = []
    reader = IdCardReader(
        emu.url,
        on_card=cards.append,
        on_error=lambda e: None,
        on_state=lambda st: states.append((time.monotonic(), st)),
        poll_interval=0.05,
    )
    try:
        reader.start()
        deadline = time.monotonic() + 5
        while reader.state is not DeviceState.READY and time.monotonic() < deadline:
            time.sleep(0.01)
        assert reader.state is DeviceState.READY
        pulled = time.monotonic()
        emu.unplug()
        while reader.state is DeviceState.READY and time.monotonic() < pulled + 5:
            time.sleep(0.01)
        lost_after = time.monotonic() - pulled
        assert reader.state is DeviceState.UNAVAILABLE and lost_after < 1.0, lost_after
        time.sleep(3)  # a long outage: the reconnect backoff reaches its cap
        back = time.monotonic()
        emu.replug()
        while reader.state is not DeviceState.READY and time.monotonic() < back + 10:
            time.sleep(0.01)
        ready_after = time.monotonic() - back
        assert reader.state is DeviceState.READY and ready_after < 3.0, ready_after
        emu.place_card(sample_cards()["zhangsan"])
        deadline = time.monotonic() + 5
        while not cards and time.monotonic() < deadline:
            time.sleep(0.01)
        assert cards, "no card read after the replug"
        status = reader.status()
        assert status.counters["cards_read"] == 1 and status.reason == ""
        assert status.counters["state_unavailable"] >= 1
    finally:
        reader.stop()
        emu.stop()
