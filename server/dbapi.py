"""One connection API over SQLite and PostgreSQL, so the SQL in ``server/`` is written once.

The code keeps sqlite3's shape: ``conn.execute(sql, params)`` with ``?`` placeholders, rows that
answer both ``row["name"]`` and ``row[0]``, explicit transactions through :func:`write_tx`. For
PostgreSQL the placeholders are rewritten to psycopg's ``%s`` and the rows are :class:`PgRow`.

Portable SQL only: no ``lastrowid`` (use ``INSERT ... RETURNING id``, which SQLite has since
3.35), no PRAGMA outside the SQLite branches, ``ON CONFLICT ... DO UPDATE`` for upserts.

Write transactions serialize on both backends, on purpose: SQLite's ``BEGIN IMMEDIATE`` takes
the database's single write lock, and on PostgreSQL every write transaction first takes one
transaction-scoped advisory lock. The server's invariants (one PENDING payment per bill, slot
capacity, the audit hash chain, idempotency keys checked then inserted) were written and tested
under "one writer at a time"; keeping that on PostgreSQL means the same code is correct on both
without retry loops for serialization failures. Reads never take the lock. At hospital scale
(hundreds of kiosks, writes of a few milliseconds) the lock is not the bottleneck:
``bench/server_load.py`` measures it.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal, Protocol

if TYPE_CHECKING:
    import psycopg

Dialect = Literal["sqlite", "postgres"]
Params = Sequence[Any] | Mapping[str, Any]

# Any number: the lock only has to be the same for every writer of this server's database.
WRITE_LOCK_KEY = 0x6B696F736B  # "kiosk"

try:  # psycopg is needed only for PostgreSQL; a SQLite-only install may lack it
    import psycopg.errors as _pg_errors

    _PG_INTEGRITY: tuple[type[Exception], ...] = (_pg_errors.IntegrityError,)
except ImportError:  # pragma: no cover - psycopg is a dependency, but the SQLite path must not need it
    _PG_INTEGRITY = ()

# Catch this, not a driver's class, so a constraint violation means the same on both backends.
IntegrityError: tuple[type[Exception], ...] = (sqlite3.IntegrityError, *_PG_INTEGRITY)


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class Cursor(Protocol):
    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


class Conn(Protocol):
    """What the server's SQL code may use of a connection."""

    dialect: Dialect

    def execute(self, sql: str, params: Params = ()) -> Cursor: ...

    def executemany(self, sql: str, seq: Sequence[Params]) -> None: ...

    @property
    def in_transaction(self) -> bool: ...

    def begin_write(self) -> None: ...

    def begin_read(self) -> None: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...


class SqliteConn:
    """sqlite3 in autocommit mode (``isolation_level=None``): transactions are explicit."""

    dialect: Dialect = "sqlite"

    def __init__(self, raw: sqlite3.Connection) -> None:
        self.raw = raw

    def execute(self, sql: str, params: Params = ()) -> Cursor:
        return self.raw.execute(sql, params)

    def executemany(self, sql: str, seq: Sequence[Params]) -> None:
        self.raw.executemany(sql, seq)

    @property
    def in_transaction(self) -> bool:
        return self.raw.in_transaction

    def begin_write(self) -> None:
        self.raw.execute("BEGIN IMMEDIATE")

    def begin_read(self) -> None:
        self.raw.execute("BEGIN")

    def commit(self) -> None:
        self.raw.execute("COMMIT")

    def rollback(self) -> None:
        # SQLite may already have rolled back by itself (e.g. disk full).
        if self.raw.in_transaction:
            self.raw.execute("ROLLBACK")

    def close(self) -> None:
        self.raw.close()


class PgRow:
    """A result row like sqlite3.Row: by position, by column name, ``keys()``, and ``dict(row)``."""

    __slots__ = ("_index", "_values")

    def __init__(self, index: Mapping[str, int], values: Sequence[Any]) -> None:
        self._index = index
        self._values = values

    def __getitem__(self, key: int | str) -> Any:
        if isinstance(key, str):
            return self._values[self._index[key]]
        return self._values[key]

    def __iter__(self) -> Iterator[Any]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def keys(self) -> list[str]:
        return list(self._index)

    def __repr__(self) -> str:
        return f"PgRow({dict(zip(self._index, self._values, strict=True))!r})"


def pg_row_factory(cursor: psycopg.Cursor[Any]) -> Any:
    names = [column.name for column in cursor.description or ()]
    index = {name: i for i, name in enumerate(names)}

    def make(values: Sequence[Any]) -> PgRow:
        return PgRow(index, values)

    return make


# ``?`` outside quotes becomes ``%s``; a literal ``%`` must be doubled for psycopg.
_TOKENS = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"])*\"|\?|%")


def to_pg_placeholders(sql: str) -> str:
    def swap(match: re.Match[str]) -> str:
        token = match.group(0)
        if token == "?":
            return "%s"
        if token == "%":
            return "%%"
        return token.replace("%", "%%")  # quoted text: only escape percent signs

    return _TOKENS.sub(swap, sql)


class PgConn:
    """psycopg 3 in autocommit mode, so ``BEGIN`` / ``COMMIT`` are as explicit as on SQLite."""

    dialect: Dialect = "postgres"

    def __init__(self, raw: psycopg.Connection[Any]) -> None:
        self.raw = raw

    def execute(self, sql: str, params: Params = ()) -> Cursor:
        return self.raw.execute(to_pg_placeholders(sql), params or None)

    def executemany(self, sql: str, seq: Sequence[Params]) -> None:
        with self.raw.cursor() as cur:
            cur.executemany(to_pg_placeholders(sql), seq)

    @property
    def in_transaction(self) -> bool:
        import psycopg.pq

        return self.raw.info.transaction_status != psycopg.pq.TransactionStatus.IDLE

    def begin_write(self) -> None:
        self.raw.execute("BEGIN")
        self.raw.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK_KEY,))

    def begin_read(self) -> None:
        # One snapshot for the whole read (e.g. an audit walk with its count).
        self.raw.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")

    def commit(self) -> None:
        self.raw.execute("COMMIT")

    def rollback(self) -> None:
        if self.in_transaction:
            self.raw.execute("ROLLBACK")


@contextmanager
def write_tx(conn: Conn) -> Iterator[Conn]:
    """A serialized write transaction: ``COMMIT`` at the end, ``ROLLBACK`` on any exception."""
    conn.begin_write()
    try:
        yield conn
    except BaseException:
        conn.rollback()
        raise
    conn.commit()


@contextmanager
def joined_write_tx(conn: Conn) -> Iterator[Conn]:
    """The caller's open transaction if there is one, else a new write transaction."""
    if conn.in_transaction:
        yield conn
    else:
        with write_tx(conn):
            yield conn


@contextmanager
def read_tx(conn: Conn) -> Iterator[Conn]:
    """A consistent snapshot for several reads; always rolled back (nothing to commit)."""
    conn.begin_read()
    try:
        yield conn
    finally:
        conn.rollback()
