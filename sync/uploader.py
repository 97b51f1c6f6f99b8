"""Drains the outbox to the server: in order, in batches, with backoff, a breaker and probes.

One daemon thread with its own :class:`ServerClient` (its own keep-alive session; every call has
connect and read timeouts). Retries belong to this loop alone (sync.md §3.3): requests never
retries a POST by itself.

- A batch that gets no usable answer (refused, timed out, cut off, 5xx) stays pending and is
  sent again, whole, after a full-jitter delay ``uniform(0, min(cap, base * 2**n))`` (base 1 s,
  cap 300 s). Re-sending is safe: the server replays its stored answer for every key it has.
- Transport failures (the server could not be reached) count towards the circuit breaker. After
  ``failure_threshold`` (3) in a row it opens: the kiosk is offline, nothing is sent, and a cheap
  ``/health`` probe runs every 30-60 s. A good probe closes it and resets the backoff, so the
  drain starts at once instead of waiting out a long delay.
- An answer per operation is final when the server stored it (2xx, 409, 422, 404); 425 means
  "an operation this depends on has not arrived yet" and stays pending.
- A whole batch refused as malformed (4xx) is split in halves until the one bad operation is
  found; that one is marked rejected locally so it cannot block the queue forever.
- When the queue is empty the WAL is checkpointed; final rows are purged after 30 days; the
  day's catalog is refreshed (ETag) every few minutes.
"""

from __future__ import annotations

import enum
import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from offline_cache.catalog import CatalogCache
from offline_cache.outbox import Op, Outbox, Result
from sync.client import BusinessError, KioskAuthError, ServerClient, ServerError, ServerTimeout, ServerUnavailable

log = logging.getLogger(__name__)


class FullJitterBackoff:
    """AWS "full jitter": the n-th delay is uniform(0, min(cap, base * 2**n))."""

    def __init__(self, base_s: float = 1.0, cap_s: float = 300.0, rng: random.Random | None = None) -> None:
        self.base_s, self.cap_s = base_s, cap_s
        self.attempt = 0
        self._rng = rng or random.Random()

    def next_delay(self) -> float:
        ceiling = min(self.cap_s, self.base_s * 2 ** min(self.attempt, 30))
        self.attempt += 1
        return self._rng.uniform(0, ceiling)

    def reset(self) -> None:
        self.attempt = 0


class Breaker(enum.StrEnum):
    CLOSED = "closed"  # sending
    OPEN = "open"  # offline: only probes


class CircuitBreaker:
    def __init__(self, failure_threshold: int = 5) -> None:
        self.failure_threshold = failure_threshold
        self.failures = 0
        self.state = Breaker.CLOSED

    def success(self) -> None:
        self.failures, self.state = 0, Breaker.CLOSED

    def failure(self) -> bool:
        """Count a transport failure; True when this one opened the breaker."""
        self.failures += 1
        if self.state is Breaker.CLOSED and self.failures >= self.failure_threshold:
            self.state = Breaker.OPEN
            return True
        return False


@dataclass(frozen=True)
class UploaderStatus:
    online: bool | None  # None: no contact yet
    last_error: str = ""
    clock_offset_s: float | None = None
    sent: int = 0  # operations made final since start


@dataclass
class UploaderSettings:
    batch_size: int = 100
    base_s: float = 1.0
    cap_s: float = 300.0
    # Three, not the usual five: until it opens, every step of a patient's visit waits out a
    # connect timeout before falling back to the cache.
    failure_threshold: int = 3
    probe_interval_s: tuple[float, float] = (30.0, 60.0)
    idle_s: float = 10.0  # with nothing to send, /health is probed this often, so the banner is current
    catalog_every_s: float = 300.0
    purge_every_s: float = 3600.0
    keep_done: timedelta = timedelta(days=30)


class Uploader:
    def __init__(
        self,
        outbox: Outbox,
        client: ServerClient,
        *,
        settings: UploaderSettings | None = None,
        catalog: CatalogCache | None = None,
        today: Callable[[], date] = date.today,
        on_status: Callable[[UploaderStatus], None] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.outbox, self.client, self.catalog, self.today = outbox, client, catalog, today
        self.settings = s = settings or UploaderSettings()
        self._rng = rng or random.Random()
        self.backoff = FullJitterBackoff(s.base_s, s.cap_s, self._rng)
        self.breaker = CircuitBreaker(s.failure_threshold)
        self.on_status = on_status
        self._status = UploaderStatus(online=None)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._next_catalog = 0.0
        self._next_purge = 0.0
        self._dirty = False  # something was drained since the last checkpoint

    # ---- Control (any thread)

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="outbox-uploader", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 15) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def wake(self) -> None:
        """Something was queued: send it now unless a backoff or the breaker says wait."""
        self._wake.set()

    @property
    def status(self) -> UploaderStatus:
        return self._status

    @property
    def offline(self) -> bool:
        return self.breaker.state is Breaker.OPEN

    def note_unreachable(self, code: str) -> None:
        """Another part of the kiosk failed to reach the server: evidence for the breaker."""
        if self.breaker.failure():
            self._opened(code)

    # ---- The loop (uploader thread)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._step()
            except Exception:
                log.exception("uploader step failed; retrying after a delay")
                self._stop.wait(self.backoff.next_delay())

    def _step(self) -> None:
        if self.breaker.state is Breaker.OPEN:
            self._stop.wait(self._rng.uniform(*self.settings.probe_interval_s))
            if not self._stop.is_set() and self.client.health():
                log.info("server reachable again: breaker closed, backoff reset, draining")
                self.breaker.success()
                self.backoff.reset()
                self._set(online=True, last_error="")
            return
        self._housekeeping()
        sent = self.drain_once()
        if sent is None:  # failed: wait out the backoff (a wake() does not shorten it)
            self._stop.wait(self.backoff.next_delay())
        elif sent == 0:
            woken = self._wake.wait(self.settings.idle_s)
            self._wake.clear()
            if not woken and not self._stop.is_set():
                self._probe_idle()

    def _probe_idle(self) -> None:
        """Nothing to send: a cheap /health call keeps "online" true to the facts."""
        if self.client.health():
            self.breaker.success()
            self._set(online=True)
        else:
            self.note_unreachable("health_failed")

    def drain_once(self) -> int | None:
        """Send one batch; the number of operations it made final, or None on failure."""
        batch = self.outbox.pending_batch(self.settings.batch_size)
        if not batch:
            if self._dirty:
                self._dirty = False
                self.outbox.store.checkpoint().result(timeout=30)
            return 0
        try:
            done = self._send(batch)
        except (ServerUnavailable, ServerTimeout) as err:
            self.outbox.record_attempt([op.key for op in batch], err.code)
            self.note_unreachable(err.code)
            self._set(last_error=err.code)
            return None
        except ServerError as err:  # reachable but refusing (5xx, auth, bad answer): back off, no breaker
            self.outbox.record_attempt([op.key for op in batch], err.code)
            log.warning("outbox batch of %d not accepted: %s", len(batch), err.code)
            self._set(online=True, last_error=err.code)
            return None
        self.breaker.success()
        self._set(online=True, last_error="", sent=self._status.sent + done)
        self._dirty = True
        if done == 0:
            return None  # only "dependency not seen yet" answers: back off rather than spin
        self.backoff.reset()
        return done

    def _send(self, batch: list[Op]) -> int:
        try:
            answers = self.client.sync_ops([op.wire() for op in batch])
        except KioskAuthError:
            raise
        except BusinessError as err:
            return self._isolate(batch, err)
        self._observe_clock()
        results = [_result(op, a) for op, a in zip(batch, answers, strict=True)]
        return self.outbox.record_results(results)

    def _isolate(self, batch: list[Op], err: BusinessError) -> int:
        """The server refused the whole envelope: find the operation that causes it."""
        if len(batch) == 1:
            log.error("outbox %s %s refused as malformed (%s): marked rejected", batch[0].kind, batch[0].key, err.code)
            return self.outbox.record_results([Result(batch[0].key, err.status or 400, None, err.code)])
        half = len(batch) // 2
        return self._send(batch[:half]) + self._send(batch[half:])

    def _observe_clock(self) -> None:
        if self.client.clock_offset_s is not None:
            self._set(clock_offset_s=self.client.clock_offset_s)

    def _housekeeping(self) -> None:
        now = time.monotonic()
        if self.catalog is not None and now >= self._next_catalog:
            self._next_catalog = now + self.settings.catalog_every_s
            self.refresh_catalog()
        if now >= self._next_purge:
            self._next_purge = now + self.settings.purge_every_s
            self.outbox.purge(self.settings.keep_done)

    def refresh_catalog(self) -> bool:
        """Pull today's catalog unless unchanged (ETag); False when the server could not be asked."""
        if self.catalog is None:
            return False
        day = self.today().isoformat()
        try:
            snapshot, etag = self.client.catalog(day, self.catalog.etag(day))
        except (ServerUnavailable, ServerTimeout) as err:
            self.note_unreachable(err.code)
            return False
        except ServerError as err:
            log.warning("catalog refresh refused: %s", err.code)
            return False
        if snapshot is not None and etag:
            self.catalog.save(snapshot, etag)
            log.info("catalog for %s updated (%d slots)", day, len(snapshot.get("slots", [])))
        return True

    def _opened(self, code: str) -> None:
        log.warning(
            "server unreachable (%s): offline mode, probing every %.0f-%.0f s", code, *self.settings.probe_interval_s
        )
        self._set(online=False, last_error=code)

    def _set(self, **changes: Any) -> None:
        new = replace(self._status, **changes)
        if new != self._status:
            self._status = new
            if self.on_status is not None:
                self.on_status(new)


def _result(op: Op, answer: dict[str, Any]) -> Result:
    error = answer.get("error") if isinstance(answer.get("error"), dict) else None
    body = answer.get("body") if isinstance(answer.get("body"), dict) else None
    status = answer.get("status")
    if answer.get("key") != op.key or not isinstance(status, int) or not 200 <= status < 600:
        raise ServerError("bad_response", "sync answer out of order or without a status")
    return Result(
        key=op.key,
        status=status,
        body=body,
        error_code=str(error.get("code")) if error else None,
        replayed=bool(answer.get("replayed", False)),
    )
