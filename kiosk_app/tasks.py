"""Background work with results handed back to the GUI thread (Anki's taskman pattern).

``run(fn, on_done)`` runs ``fn`` in a worker and calls ``on_done(result)`` on the GUI thread.
Never touch a widget inside ``fn``: that may crash Qt.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

from PySide6.QtCore import QObject, Signal, Slot

log = logging.getLogger(__name__)
T = TypeVar("T")


class TaskManager(QObject):
    _sig_deliver = Signal(object)
    """Internal: carries (callback, value) from a worker to the GUI thread."""

    def __init__(self, parent: QObject | None = None, *, workers: int = 2) -> None:
        super().__init__(parent)
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="kiosk-io")
        self._pending = 0
        self._closed = False
        self._sig_deliver.connect(self._deliver)

    # ---- Public API

    @property
    def pending(self) -> int:
        """Tasks submitted whose result has not yet reached the GUI thread."""
        return self._pending

    def run(self, fn: Callable[[], T], on_done: Callable[[T], None]) -> Future[T]:
        if self._closed:
            # Shutting down: an event queued before the shutdown must not crash it.
            log.info("task submitted after shutdown dropped")
            fut: Future[T] = Future()
            fut.cancel()
            return fut
        self._pending += 1
        fut = self._pool.submit(fn)
        fut.add_done_callback(lambda f: self._sig_deliver.emit((on_done, f, True)))
        return fut

    def run_on_main(self, fn: Callable[[], None]) -> None:
        """Schedule ``fn`` on the GUI thread (callable from any thread)."""
        self._sig_deliver.emit((lambda _v: fn(), None, False))

    def shutdown(self, wait: bool = True) -> None:
        self._closed = True
        self._pool.shutdown(wait=wait, cancel_futures=True)

    # ---- Internals

    @Slot(object)
    def _deliver(self, payload: tuple[Callable[[Any], None], Future[Any] | None, bool]) -> None:
        callback, fut, counted = payload
        if counted:
            self._pending -= 1
        try:
            value = fut.result() if fut is not None else None
        except BaseException:
            log.exception("background task failed")
            return
        try:
            callback(value)
        except Exception:
            log.exception("task callback failed")
