"""The kiosk's local SQLite store.

One writer thread owns the only write connection (datasette's pattern): callers submit a
function and get a future, every write runs inside ``BEGIN IMMEDIATE`` so it never fails half
way with SQLITE_BUSY, and the database runs in WAL with ``synchronous=FULL`` because a printed
receipt must survive a power cut. Reads use a connection per calling thread.

Privacy: this store holds masked names and ID numbers only, plus the server's opaque patient
id; the full identity never touches the kiosk's disk.
"""

from __future__ import annotations

import logging
import queue
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any, TypeVar

import sqlite_utils

from offline_cache.migrations import migrate

log = logging.getLogger(__name__)
T = TypeVar("T")

_STOP = object()
_CHECKPOINT = object()


def _connect(path: Path) -> sqlite3.Connection:
    # isolation_level=None: we issue BEGIN IMMEDIATE / COMMIT ourselves.
    conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False, timeout=10)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA busy_timeout=10000")
    # Deleted rows (purged outbox bodies, forgotten patients) are overwritten, not left in free pages.
    conn.execute("PRAGMA secure_delete=ON")
    conn.row_factory = sqlite3.Row
    return conn


class Store:
    """Write through one thread, read from any; ``close()`` is idempotent."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._queue: queue.Queue[Any] = queue.Queue()
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self._readers_lock = threading.Lock()
        self._closed = False
        ready: Future[None] = Future()
        self._thread = threading.Thread(target=self._run, args=(ready,), name="store-writer", daemon=True)
        self._thread.start()
        ready.result(timeout=30)  # surfaces a migration error to the caller

    # ---- Public API

    def submit(self, fn: Callable[[sqlite_utils.Database], T]) -> Future[T]:
        """Run ``fn(db)`` on the writer thread inside BEGIN IMMEDIATE … COMMIT."""
        if self._closed:
            raise RuntimeError("store is closed")
        fut: Future[T] = Future()
        self._queue.put((fn, fut))
        return fut

    def write(self, fn: Callable[[sqlite_utils.Database], T], timeout: float = 30) -> T:
        """Blocking form of :meth:`submit` for worker threads (never call it on the Qt thread)."""
        return self.submit(fn).result(timeout=timeout)

    def read(self) -> sqlite_utils.Database:
        """A read-only view for the calling thread (WAL lets it run beside the writer)."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = _connect(self.path)
            conn.execute("PRAGMA query_only=ON")
            self._local.conn = conn
            with self._readers_lock:
                self._readers.append(conn)
        return sqlite_utils.Database(conn)

    def checkpoint(self) -> Future[tuple[int, int, int]]:
        """Fold the WAL back into the database and truncate it (run when the outbox has drained).

        Returns (busy, wal pages, pages checkpointed) as SQLite reports them.
        """
        return self.submit(_CHECKPOINT)  # type: ignore[arg-type]

    def integrity_check(self) -> str:
        """``PRAGMA integrity_check``: "ok" or the first problems found."""
        rows = self.read().execute("PRAGMA integrity_check").fetchall()
        return "; ".join(str(r[0]) for r in rows)

    def close(self, timeout: float = 10) -> None:
        if self._closed:
            return
        self._closed = True
        self._queue.put(_STOP)
        self._thread.join(timeout)
        with self._readers_lock:
            for conn in self._readers:
                conn.close()
            self._readers.clear()

    # ---- Writer thread

    def _run(self, ready: Future[None]) -> None:
        try:
            conn = _connect(self.path)
            db = sqlite_utils.Database(conn)
            migrate(db)
        except BaseException as err:  # noqa: BLE001 - handed to the constructor, which re-raises
            ready.set_exception(err)
            return
        ready.set_result(None)
        while True:
            task = self._queue.get()
            if task is _STOP:
                break
            fn, fut = task
            if not fut.set_running_or_notify_cancel():
                continue
            if fn is _CHECKPOINT:  # outside any transaction: SQLite refuses a checkpoint inside one
                try:
                    fut.set_result(tuple(conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()))
                except sqlite3.Error as err:
                    fut.set_exception(err)
                continue
            try:
                conn.execute("BEGIN IMMEDIATE")
                result = fn(db)
                conn.execute("COMMIT")
            except BaseException as err:  # noqa: BLE001 - every failure goes back to the caller's future
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                log.warning("store write failed: %s", type(err).__name__)
                fut.set_exception(err)
            else:
                fut.set_result(result)
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.close()
