"""Background resolvers: one daemon thread per open item (a payment, a refund) until it is settled.

A payment or refund whose outcome is unclear is settled by asking the provider again, with
backoff, in a thread of its own: at most one per item, started again after a restart for every
row still open, and stopped together at shutdown (their waits wake at once).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

logger = logging.getLogger(__name__)


class Resolvers:
    def __init__(self, kind: str, resolve: Callable[[int], None]) -> None:
        """``resolve(item_id)`` settles one item; it should return when :meth:`sleep` says stop."""
        self.kind, self._resolve = kind, resolve
        self._stop = threading.Event()
        self._threads: dict[int, threading.Thread] = {}
        self._lock = threading.Lock()

    def start(self, item_id: int) -> None:
        """A resolver for ``item_id`` unless one is running (or the service is shutting down)."""
        with self._lock:
            if self._stop.is_set():
                return
            running = self._threads.get(item_id)
            if running is not None and running.is_alive():
                return
            thread = threading.Thread(
                target=self._run, args=(item_id,), name=f"{self.kind}-resolve-{item_id}", daemon=True
            )
            self._threads[item_id] = thread
        thread.start()

    def pending(self) -> int:
        with self._lock:
            return sum(t.is_alive() for t in self._threads.values())

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def sleep(self, seconds: float) -> bool:
        """Wait; False when the service is shutting down."""
        return not self._stop.wait(max(0.0, seconds))

    def shutdown(self, timeout: float = 5.0) -> None:
        self._stop.set()
        with self._lock:
            threads = list(self._threads.values())
        deadline = time.monotonic() + timeout
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def _run(self, item_id: int) -> None:
        try:
            self._resolve(item_id)
        except Exception:  # a resolver must never die silently; the row stays open for the next start
            logger.exception("resolver for %s %d failed", self.kind, item_id)
        finally:
            with self._lock:
                if self._threads.get(item_id) is threading.current_thread():
                    del self._threads[item_id]
