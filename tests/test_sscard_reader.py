"""The real InsuranceCardReader through the real pcscd and pyscard, against a VirtualSsCard on vpcd.

A session fixture makes sure pcscd runs: a pcscd already answering is used as it is; otherwise one is
started (as root) with a private reader.conf.d holding a vpcd reader on free ports, and stopped at
the end. Tests that stop and restart pcscd need that private one. The tests are skipped, with the
reason, only when pcscd or the vpcd driver cannot be started at all (not installed, not root).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from devices.emulators import pcsc_service
from devices.emulators.pcsc_service import VpcdConfig, ensure_pcscd, read_vpcd_config, stop_pcscd, write_vpcd_config
from devices.emulators.vpcd import VirtualSsCard, sample_cards
from devices.errors import CardReadError, DeviceError, DeviceState, DeviceUnavailable
from devices.sscard import apdu, pcsc
from devices.sscard.errors import CardPinBlocked, NotSocialSecurityCard
from devices.sscard.reader import InsuranceCardReader
from devices.sscard.records import Convention, InsuranceCardData

CARDS = sample_cards()
ZHANG = CARDS["zhangsan"]
TIMEOUT_S = 15.0  # generous: pcscd polls a reader every 400 ms, the driver backs off up to 2 s
TEST_READER = "Kiosk Test PCD"
LATE_READER = "Kiosk Late PCD"


@dataclass
class PcscEnv:
    config: VpcdConfig
    config_dir: Path | None  # our private reader.conf.d, None when a system pcscd is used

    @property
    def owned(self) -> bool:
        return self.config_dir is not None

    @property
    def url(self) -> str:
        return f"pcsc://{self.config.reader_name(0)}"

    def ensure(self, reader_prefix: str | None = None) -> None:
        ok = ensure_pcscd(config_dir=self.config_dir, reader_prefix=reader_prefix or self.config.name)
        assert ok, pcsc_service.last_reason()

    def require_own_pcscd(self) -> None:
        if not self.owned:
            pytest.skip("needs a pcscd started by the tests (a system pcscd was already running)")




@pytest.fixture(scope="session")
def pcsc_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PcscEnv]:
    if pcsc_service.list_readers() is not None:
        config = read_vpcd_config()
        if config is None:
            pytest.skip("a pcscd not started by the tests runs without a vpcd reader (/etc/reader.conf.d/vpcd)")
        if not ensure_pcscd(reader_prefix=config.name):
            pytest.skip(f"pcscd cannot serve the vpcd reader: {pcsc_service.last_reason()}")
        yield PcscEnv(config, None)
        return
    config_dir = tmp_path_factory.mktemp("reader.conf.d")
    # Two vpcd slots for the test reader, two for the one that appears later.
    port = pcsc_service.free_port_block(4, first=36100, step=8)
    config = write_vpcd_config(config_dir, name=TEST_READER, port=port, filename="test")
    if not ensure_pcscd(config_dir=config_dir, reader_prefix=config.name):
        pytest.skip(f"pcscd with the vpcd driver cannot be started: {pcsc_service.last_reason()}")
    yield PcscEnv(config, config_dir)
    stop_pcscd()


def wait_slot_empty(reader_name: str) -> None:
    """pcscd notices a hung-up virtual card at its next poll; a test must not start before that."""
    ctx = pcsc.Context()
    try:
        deadline = time.monotonic() + TIMEOUT_S
        while time.monotonic() < deadline:
            current = ctx.wait(reader_name, pcsc.STATE_UNAWARE, 0)
            if current is not None and not current.present:
                return
            time.sleep(0.05)
        raise AssertionError(f"{reader_name} still holds a card")
    finally:
        ctx.release()


@pytest.fixture
def env(pcsc_session: PcscEnv) -> PcscEnv:
    # A test that restarts pcscd and fails half-way must not take the following tests with it.
    pcsc_session.ensure()
    wait_slot_empty(pcsc_session.config.reader_name(0))
    return pcsc_session


class Events:
    """Everything the driver reported, in order, with waits."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self.items: list[tuple[str, Any]] = []

    def add(self, kind: str, value: Any = None) -> None:
        with self._cond:
            self.items.append((kind, value))
            self._cond.notify_all()

    def of(self, kind: str) -> list[Any]:
        with self._cond:
            return [v for k, v in self.items if k == kind]

    def kinds(self) -> list[str]:
        with self._cond:
            return [k for k, _ in self.items if k != "state"]

    def wait_for(self, kind: str, n: int = 1, timeout_s: float = TIMEOUT_S) -> list[Any]:
        with self._cond:
            ok = self._cond.wait_for(lambda: len([1 for k, _ in self.items if k == kind]) >= n, timeout_s)
        assert ok, f"no {n} x {kind!r} within {timeout_s}s; got {self.kinds()}"
        return self.of(kind)

    def clear(self) -> None:
        with self._cond:
            self.items.clear()


def wait_state(reader: InsuranceCardReader, state: DeviceState, reason: str | None = None) -> None:
    deadline = time.monotonic() + TIMEOUT_S
    while time.monotonic() < deadline:
        if reader.state is state and (reason is None or reader.reason == reason):
            return
        time.sleep(0.02)
    raise AssertionError(f"reader {reader.state} ({reader.reason!r}), expected {state} ({reason!r})")


@pytest.fixture
def events() -> Events:
    return Events()


@pytest.fixture
def make_reader(events: Events) -> Iterator[Callable[..., InsuranceCardReader]]:
    readers: list[InsuranceCardReader] = []

    def make(url: str, **kwargs: Any) -> InsuranceCardReader:
        reader = InsuranceCardReader(
            url,
            on_state=lambda s: events.add("state", s),
            on_inserted=lambda: events.add("inserted"),
            on_removed=lambda: events.add("removed"),
            on_card=lambda c: events.add("card", c),
            on_error=lambda e: events.add("error", e),
            **kwargs,
        )
        readers.append(reader)
        reader.start()
        return reader

    yield make
    for reader in readers:
        reader.stop()


@pytest.fixture
def make_card(env: PcscEnv) -> Iterator[Callable[..., VirtualSsCard]]:
    cards: list[VirtualSsCard] = []

    def make(port: int | None = None, **kwargs: Any) -> VirtualSsCard:
        card = VirtualSsCard(port=env.config.port if port is None else port, **kwargs)
        card.start()
        cards.append(card)
        return card

    yield make
    for card in cards:
        card.stop()


def _only_keyed(errors: list[Any]) -> None:
    for err in errors:
        assert isinstance(err, DeviceError), err
        assert type(err).__module__.startswith("devices."), type(err)


# ---- Card events


def test_insert_reads_the_card_and_remove_is_reported(
    env: PcscEnv,
    make_reader: Callable[..., InsuranceCardReader],
    make_card: Callable[..., VirtualSsCard],
    events: Events,
) -> None:
    reader = make_reader(env.url)
    wait_state(reader, DeviceState.READY)
    card = make_card()
    card.insert(ZHANG)
    (got,) = events.wait_for("card")
    assert isinstance(got, InsuranceCardData) and got == ZHANG
    assert (got.name, got.id_number, got.card_number, got.sex, got.birth) == (
        "张三",
        ZHANG.id_number,
        "A12345678",
        "1",
        "19800101",
    )
    assert (got.region, got.card_version, got.issue_date, got.expiry_date) == ("110100", "3.00", "20200315", "20300315")
    assert events.kinds() == ["inserted", "card"]
    assert DeviceState.BUSY in events.of("state")
    card.remove()
    events.wait_for("removed")
    assert events.kinds() == ["inserted", "card", "removed"]
    wait_state(reader, DeviceState.READY)
    assert card.count(apdu.INS_VERIFY) == 0
    counters = reader.status().counters
    assert counters["cards_read"] == 1 and counters["cards_inserted"] == 1 and counters["cards_removed"] == 1
    assert reader.identity == env.url


def test_reader_found_by_part_of_its_name_and_a_second_card(
    env: PcscEnv,
    make_reader: Callable[..., InsuranceCardReader],
    make_card: Callable[..., VirtualSsCard],
    events: Events,
) -> None:
    reader = make_reader("pcsc://" + env.config.name.lower().split()[-2] + " pcd 00 00")
    wait_state(reader, DeviceState.READY)
    assert reader.identity == env.url
    card = make_card()
    card.insert(CARDS["elder"])
    assert events.wait_for("card")[0] == CARDS["elder"]
    card.insert(CARDS["first_generation"])  # swapped without a pause
    assert events.wait_for("card", 2)[1] == CARDS["first_generation"]
    assert events.wait_for("removed")


def test_t0_quirks_through_pcscd(
    env: PcscEnv,
    make_reader: Callable[..., InsuranceCardReader],
    make_card: Callable[..., VirtualSsCard],
    events: Events,
) -> None:
    """Only the record-identifier convention, and a name record shorter than its Le: 6Cxx, 61xx."""
    reader = make_reader(env.url)
    wait_state(reader, DeviceState.READY)
    card = make_card(conventions=(Convention.RECORD_ID,), name_length=20)
    card.insert(ZHANG)
    assert events.wait_for("card")[0] == ZHANG
    assert events.of("error") == []
    assert card.count(apdu.INS_GET_RESPONSE) >= 1


def test_not_a_social_security_card(
    env: PcscEnv,
    make_reader: Callable[..., InsuranceCardReader],
    make_card: Callable[..., VirtualSsCard],
    events: Events,
) -> None:
    reader = make_reader(env.url)
    wait_state(reader, DeviceState.READY)
    card = make_card()
    card.inject("not_social_security")
    card.insert(ZHANG)
    (err,) = events.wait_for("error")
    assert isinstance(err, NotSocialSecurityCard)
    assert (err.code, err.tr_key) == ("not_social_security_card", "sscard.not_social_security_card")
    result = reader.self_test()
    assert not result.ok and result.code == "not_social_security_card"
    time.sleep(1.0)  # no retry for a card that is simply not one
    assert events.kinds() == ["inserted", "error"]
    card.remove()
    events.wait_for("removed")
    assert reader.state is DeviceState.READY and reader.last_error is err


@pytest.mark.parametrize(
    ("fault", "left", "code"),
    [("pin_blocked", 0, "card_pin_blocked"), ("pin_attempts_left", 2, "card_pin_attempts_left")],
)
def test_pin_protected_card_is_reported_never_verified(
    env: PcscEnv,
    make_reader: Callable[..., InsuranceCardReader],
    make_card: Callable[..., VirtualSsCard],
    events: Events,
    fault: str,
    left: int,
    code: str,
) -> None:
    reader = make_reader(env.url)
    wait_state(reader, DeviceState.READY)
    card = make_card()
    card.inject(fault)
    card.insert(ZHANG)
    (err,) = events.wait_for("error")
    assert isinstance(err, CardPinBlocked) and err.attempts_left == left and err.code == code
    assert err.tr_key == "sscard.pin_blocked"
    time.sleep(1.0)
    assert events.of("card") == [] and len(events.of("error")) == 1
    assert card.count(apdu.INS_VERIFY) == 0


def test_card_pulled_mid_read_gives_one_error_then_recovers(
    env: PcscEnv,
    make_reader: Callable[..., InsuranceCardReader],
    make_card: Callable[..., VirtualSsCard],
    events: Events,
) -> None:
    reader = make_reader(env.url)
    wait_state(reader, DeviceState.READY)
    card = make_card()
    card.inject("pull_mid_read")
    card.insert(ZHANG)
    (err,) = events.wait_for("error")
    assert type(err) is CardReadError and err.code == "card_removed" and err.tr_key == "card.read_failed"
    _only_keyed([err])
    events.wait_for("removed")
    assert card.wait_removed()
    card.insert(CARDS["elder"])
    assert events.wait_for("card")[0] == CARDS["elder"]
    assert len(events.of("error")) == 1
    assert events.kinds() == ["inserted", "error", "removed", "inserted", "card"]
    wait_state(reader, DeviceState.READY)


def test_slow_card_is_read(
    env: PcscEnv,
    make_reader: Callable[..., InsuranceCardReader],
    make_card: Callable[..., VirtualSsCard],
    events: Events,
) -> None:
    reader = make_reader(env.url)
    wait_state(reader, DeviceState.READY)
    card = make_card(slow_s=0.05)
    card.inject("slow")
    card.insert(ZHANG)
    assert events.wait_for("card")[0] == ZHANG
    assert events.of("error") == []


def test_too_slow_card_times_out_with_one_error(
    env: PcscEnv,
    make_reader: Callable[..., InsuranceCardReader],
    make_card: Callable[..., VirtualSsCard],
    events: Events,
) -> None:
    reader = make_reader(env.url, read_timeout_s=0.3)
    wait_state(reader, DeviceState.READY)
    card = make_card(slow_s=0.1)
    card.inject("slow")
    card.insert(ZHANG)
    (err,) = events.wait_for("error")
    assert isinstance(err, CardReadError) and err.code == "card_read_timeout"
    time.sleep(1.5)  # silent retries while the card stays in
    assert len(events.of("error")) == 1 and events.of("card") == []


# ---- Self-test and availability


def test_self_test(
    env: PcscEnv,
    make_reader: Callable[..., InsuranceCardReader],
    make_card: Callable[..., VirtualSsCard],
    events: Events,
) -> None:
    reader = make_reader(env.url)
    wait_state(reader, DeviceState.READY)
    result = reader.self_test()
    assert result.ok and "no card" in result.detail
    card = make_card()
    card.insert(ZHANG)
    events.wait_for("card")
    result = reader.self_test()
    assert result.ok and "SSSE" in result.detail
    # The self-test's own select did not disturb the monitor: the card is not reported again.
    time.sleep(0.5)
    assert events.kinds() == ["inserted", "card"]


def test_reader_absent_then_appears(
    env: PcscEnv,
    make_reader: Callable[..., InsuranceCardReader],
    make_card: Callable[..., VirtualSsCard],
    events: Events,
) -> None:
    env.require_own_pcscd()
    assert env.config_dir is not None
    reader = make_reader(f"pcsc://{LATE_READER}")
    wait_state(reader, DeviceState.UNAVAILABLE, pcsc.REASON_READER_ABSENT)
    result = reader.self_test()
    assert not result.ok and result.code == pcsc.REASON_READER_ABSENT
    time.sleep(2.5)  # retries at about 0.5, 1.5, 3.5 s (backoff 0.5 s doubling to 2 s): reported once
    assert 2 <= reader.status().counters["connect_attempts"] <= 4
    (err,) = events.of("error")
    assert isinstance(err, DeviceUnavailable) and err.code == pcsc.REASON_READER_ABSENT
    try:
        # pcscd reads reader.conf.d only when it starts, and the vpcd driver serves one entry per
        # pcscd (a second entry would share its slots), so the new reader comes as a renamed
        # entry and a restart: what a technician swapping the reader and restarting pcscd does.
        stop_pcscd()
        late = write_vpcd_config(env.config_dir, name=LATE_READER, port=env.config.port, filename="test")
        env.ensure(LATE_READER)
        wait_state(reader, DeviceState.READY)
        assert reader.identity == f"pcsc://{late.reader_name(0)}"
        card = make_card()
        card.insert(ZHANG)
        assert events.wait_for("card")[0] == ZHANG
        card.remove()
        events.wait_for("removed")
    finally:
        stop_pcscd()
        write_vpcd_config(env.config_dir, name=env.config.name, port=env.config.port, filename="test")
        env.ensure()


def test_pcscd_absent_then_appears(
    env: PcscEnv,
    make_reader: Callable[..., InsuranceCardReader],
    make_card: Callable[..., VirtualSsCard],
    events: Events,
) -> None:
    env.require_own_pcscd()
    stop_pcscd()
    reader = make_reader(env.url)
    wait_state(reader, DeviceState.UNAVAILABLE, pcsc.REASON_PCSCD_DOWN)
    result = reader.self_test()
    assert not result.ok and result.code == pcsc.REASON_PCSCD_DOWN
    (err,) = events.wait_for("error")
    assert isinstance(err, DeviceUnavailable) and err.code == pcsc.REASON_PCSCD_DOWN
    env.ensure()
    wait_state(reader, DeviceState.READY)
    card = make_card()
    card.insert(ZHANG)
    assert events.wait_for("card")[0] == ZHANG
    # pcscd going away under a running reader with a card in, and coming back.
    stop_pcscd()
    wait_state(reader, DeviceState.UNAVAILABLE, pcsc.REASON_PCSCD_DOWN)
    events.wait_for("removed")  # the card went with it
    env.ensure()
    wait_state(reader, DeviceState.READY)
    card.insert(CARDS["elder"])
    assert events.wait_for("card", 2)[1] == CARDS["elder"]
    _only_keyed(events.of("error"))


def test_a_url_that_is_not_pcsc_is_refused() -> None:
    with pytest.raises(ValueError, match="pcsc://"):
        InsuranceCardReader("tcp://127.0.0.1:9100")
    with pytest.raises(ValueError, match="unknown device URL scheme"):
        InsuranceCardReader("smartcard://x")
