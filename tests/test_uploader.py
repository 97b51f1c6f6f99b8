"""The outbox uploader's retry discipline, with a scripted client (no network)."""

from __future__ import annotations

import random
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from offline_cache.ids import uuid7
from offline_cache.offline_ops import OfflineRegistrar
from offline_cache.outbox import CONFIRMED, PENDING, REJECTED, Outbox
from offline_cache.patients import RecentPatients
from offline_cache.store import Store
from sync.client import BusinessError, ServerError, ServerTimeout, ServerUnavailable
from sync.fieldcrypto import FieldCipher
from sync.uploader import Breaker, FullJitterBackoff, Uploader, UploaderSettings


class ScriptedClient:
    """Answers sync_ops from a queue of callables; records every batch."""

    def __init__(self) -> None:
        self.script: list[Callable[[list[dict[str, Any]]], list[dict[str, Any]]]] = []
        self.batches: list[list[str]] = []
        self.healthy = True
        self.clock_offset_s: float | None = 2.5

    def sync_ops(self, ops: list[dict[str, Any]]) -> list[dict[str, Any]]:
        self.batches.append([op["key"] for op in ops])
        step = self.script.pop(0) if self.script else accept
        return step(ops)

    def health(self) -> bool:
        return self.healthy

    def catalog(self, day: str, etag: str | None) -> tuple[None, str | None]:
        return None, etag


def accept(ops: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "key": op["key"],
            "status": 201,
            "replayed": False,
            "error": None,
            "body": {"registration_id": i + 1, "reg_no": f"R{i}", "amount_cents": 100},
        }
        for i, op in enumerate(ops)
    ]


def fail(exc: ServerError) -> Callable[[list[dict[str, Any]]], list[dict[str, Any]]]:
    def step(ops: list[dict[str, Any]]) -> list[dict[str, Any]]:
        raise exc

    return step


@pytest.fixture
def parts(tmp_path: Path):
    store = Store(tmp_path / "kiosk.db")
    outbox = Outbox(store, FieldCipher(secrets.token_bytes(32), domain="kiosk"))
    registrar = OfflineRegistrar(store, outbox, RecentPatients(store, outbox.cipher), "K1")
    client = ScriptedClient()
    uploader = Uploader(outbox, client, settings=UploaderSettings(batch_size=3), rng=random.Random(1))  # type: ignore[arg-type]
    yield outbox, registrar, client, uploader
    store.close()


def enqueue(registrar: OfflineRegistrar, n: int) -> list[str]:
    return [
        registrar.queue_registration(
            uuid7(), registration_key=uuid7(), slot_id=1, patient_masked="x y", patient_id=1
        ).registration_key
        for _ in range(n)
    ]


def states(outbox: Outbox, keys: list[str]) -> list[str]:
    return [outbox.get(k)["state"] for k in keys]  # type: ignore[index]


def test_full_jitter_stays_under_the_capped_exponential() -> None:
    backoff = FullJitterBackoff(1.0, 300.0, random.Random(3))
    delays = [backoff.next_delay() for _ in range(20)]
    for n, d in enumerate(delays):
        assert 0 <= d <= min(300.0, 2**n)
    assert max(delays[10:]) > 30  # it does grow towards the cap
    backoff.reset()
    assert backoff.next_delay() <= 1.0


def test_drains_in_order_and_in_batches(parts) -> None:
    outbox, registrar, client, uploader = parts
    keys = enqueue(registrar, 7)
    while uploader.drain_once():
        pass
    assert client.batches == [keys[0:3], keys[3:6], keys[6:7]]
    assert states(outbox, keys) == [CONFIRMED] * 7
    assert uploader.status.online is True and uploader.status.sent == 7
    assert uploader.status.clock_offset_s == 2.5


def test_transport_failures_keep_rows_pending_and_open_the_breaker(parts) -> None:
    outbox, registrar, client, uploader = parts
    keys = enqueue(registrar, 2)
    client.script = [fail(ServerUnavailable("unavailable"))] * 4 + [fail(ServerTimeout("timeout"))]
    for _ in range(5):
        assert uploader.drain_once() is None
    assert uploader.breaker.state is Breaker.OPEN and uploader.offline
    assert uploader.status.online is False
    assert states(outbox, keys) == [PENDING, PENDING]
    assert outbox.get(keys[0])["attempts"] == 5  # type: ignore[index]
    assert uploader.backoff.attempt == 0  # drain_once itself does not sleep; _step adds the delay


def test_a_good_probe_closes_the_breaker_and_resets_the_backoff(parts, monkeypatch: pytest.MonkeyPatch) -> None:
    _outbox, registrar, client, uploader = parts
    enqueue(registrar, 1)
    for _ in range(5):
        uploader.note_unreachable("unavailable")
    uploader.backoff.attempt = 8
    waits: list[float] = []
    monkeypatch.setattr(uploader._stop, "wait", lambda t: waits.append(t) or False)
    client.healthy = False
    uploader._step()
    assert uploader.offline and 30 <= waits[-1] <= 60
    client.healthy = True
    uploader._step()
    assert not uploader.offline and uploader.backoff.attempt == 0 and uploader.status.online is True


def test_server_errors_back_off_without_opening_the_breaker(parts) -> None:
    _outbox, registrar, client, uploader = parts
    enqueue(registrar, 1)
    client.script = [fail(ServerError("http_500", status=500))] * 10
    for _ in range(10):
        assert uploader.drain_once() is None
    assert uploader.breaker.state is Breaker.CLOSED


def test_a_malformed_operation_is_isolated_and_rejected_so_the_queue_moves(parts) -> None:
    outbox, registrar, client, uploader = parts
    keys = enqueue(registrar, 3)
    bad = keys[1]

    def envelope_check(ops: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if any(op["key"] == bad for op in ops):
            raise BusinessError("invalid_request", "bad op", 422)
        return accept(ops)

    client.script = [envelope_check] * 10
    assert uploader.drain_once() == 3
    assert states(outbox, keys) == [CONFIRMED, REJECTED, CONFIRMED]


def test_dependency_not_seen_yet_stays_pending_and_backs_off(parts) -> None:
    outbox, registrar, client, uploader = parts
    keys = enqueue(registrar, 1)
    client.script = [
        lambda ops: [
            {"key": ops[0]["key"], "status": 425, "body": None, "error": {"code": "dependency_unknown", "message": ""}}
        ]
    ]
    assert uploader.drain_once() is None
    assert states(outbox, keys) == [PENDING]
    assert uploader.drain_once() == 1


def test_an_answer_that_does_not_match_the_batch_changes_nothing(parts) -> None:
    outbox, registrar, client, uploader = parts
    keys = enqueue(registrar, 2)
    client.script = [lambda ops: list(reversed(accept(ops)))]
    assert uploader.drain_once() is None
    assert states(outbox, keys) == [PENDING, PENDING]


def test_the_thread_drains_on_wake_and_stops(parts) -> None:
    outbox, registrar, _client, uploader = parts
    uploader.settings.idle_s = 30
    uploader.start()
    try:
        keys = enqueue(registrar, 4)
        uploader.wake()
        import time

        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and states(outbox, keys) != [CONFIRMED] * 4:
            time.sleep(0.02)
        assert states(outbox, keys) == [CONFIRMED] * 4
    finally:
        uploader.stop()
    assert uploader._thread is None
