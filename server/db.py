"""The server's store: SQLite (embedded default) or PostgreSQL (production), chosen by URL.

``open_database("var/server.db")`` or ``open_database("sqlite:///var/server.db")`` gives SQLite;
``open_database("postgresql://kiosk@db.example/kiosk")`` gives PostgreSQL through a psycopg
connection pool. Both hand out short-lived :class:`server.dbapi.Conn` objects through
``with db.connection() as conn:``; the SQL, the schema (server/schema.py) and the transaction
rules (server/dbapi.py) are shared.

SQLite: one connection per request (never shared), WAL so readers don't block the writer,
``synchronous=FULL`` so a payment marked SUCCESS survives a power cut right after the answer.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from server import schema
from server.crypto import DecryptError, FieldCipher
from server.dbapi import Conn, Dialect, PgConn, SqliteConn, pg_row_factory, read_tx, utc_now, write_tx
from server.migrations import migrate
from server.patient_store import check_key

logger = logging.getLogger(__name__)

SCHEMA_VERSION = schema.SCHEMA_VERSION

__all__ = ["SCHEMA_VERSION", "Conn", "Database", "PostgresDatabase", "open_database", "read_tx", "utc_now", "write_tx"]


def connect(db_path: Path | str) -> SqliteConn:
    """A new SQLite connection with the per-connection pragmas; autocommit, transactions explicit."""
    # check_same_thread=False: FastAPI may open a connection in one pool thread and finish the
    # request in another; the connection is still used by one request at a time.
    raw = sqlite3.connect(str(db_path), timeout=5.0, isolation_level=None, check_same_thread=False)
    raw.row_factory = sqlite3.Row
    raw.execute("PRAGMA busy_timeout=5000")
    raw.execute("PRAGMA foreign_keys=ON")
    raw.execute("PRAGMA synchronous=FULL")
    return SqliteConn(raw)


class Database:
    """SQLite: knows the file, hands out short-lived connections."""

    dialect: Dialect = "sqlite"

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"Database(sqlite:///{self.path})"

    @contextmanager
    def connection(self) -> Iterator[Conn]:
        conn = connect(self.path)
        try:
            yield conn
        finally:
            conn.close()

    def close(self) -> None:
        """Nothing pooled for SQLite."""

    def init(self, cipher: FieldCipher | None = None) -> None:
        """Create the file and schema if missing, upgrade an older one, refuse a newer one.

        ``cipher`` is needed to upgrade a v1 file (plain-text patients) and to check that the key
        matches the data; it may be omitted only for a database without patients to read.
        """
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.connection() as conn:
            assert isinstance(conn, SqliteConn)
            # journal_mode is persistent in the file, so setting it once here is enough.
            conn.raw.execute("PRAGMA journal_mode=WAL")
            migrated = self._migrate(conn, cipher)
            if migrated:
                # Pages freed by the upgrade were zeroed (secure_delete); copy them over the main
                # file and empty the WAL, so no old name or ID number survives anywhere on disk.
                busy = conn.raw.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
                if busy:
                    logger.warning("WAL checkpoint after the migration was blocked; it completes on a later one")
            _check_key(conn, cipher, self)
            check = conn.raw.execute("PRAGMA quick_check").fetchone()[0]
            if check != "ok":
                logger.error("database quick_check failed: %s", check)
        logger.info("database ready at %s (schema v%d)", self.path, SCHEMA_VERSION)

    @staticmethod
    def _migrate(conn: SqliteConn, cipher: FieldCipher | None) -> bool:
        """Create, upgrade or refuse; True if an existing file was upgraded."""
        # Foreign keys can't be switched inside a transaction, and the v1 upgrade rebuilds patients,
        # which registrations reference; migrations.migrate runs PRAGMA foreign_key_check itself.
        conn.raw.execute("PRAGMA foreign_keys=OFF")
        # Pages freed by dropping the plain-text table are overwritten with zeros, not left readable.
        secure_delete = conn.raw.execute("PRAGMA secure_delete").fetchone()[0]
        conn.raw.execute("PRAGMA secure_delete=ON")
        try:
            with write_tx(conn):
                version = _check_version(conn)
                if version is None:
                    schema.create_fresh(conn)
                    return False
                legacy = version < schema.BASELINE_VERSION
                if legacy:
                    migrate(conn, version, cipher)
                    schema.write_version(conn, schema.BASELINE_VERSION)
                applied = schema.upgrade(conn)
            if not (legacy or applied):
                return False
            logger.info("database upgraded from schema v%d: ran %s", version, applied or "the pre-baseline steps")
            return True
        finally:
            conn.raw.execute(f"PRAGMA secure_delete={int(secure_delete)}")
            conn.raw.execute("PRAGMA foreign_keys=ON")


class PostgresDatabase:
    """PostgreSQL through a psycopg pool; connections are in autocommit, transactions explicit."""

    dialect: Dialect = "postgres"

    # max_size 40: one per worker of the threadpool FastAPI runs sync endpoints in (anyio's default),
    # so a request never waits for a connection while a worker is free.
    def __init__(self, url: str, *, min_size: int = 2, max_size: int = 40) -> None:
        from psycopg_pool import ConnectionPool

        self.url = url
        kwargs: dict[str, Any] = {"autocommit": True, "row_factory": pg_row_factory}
        # open=False: the pool starts in init(), so a bad URL fails there with a clear message.
        self._pool = ConnectionPool(url, min_size=min_size, max_size=max_size, kwargs=kwargs, open=False, timeout=10)
        self._opened = threading.Lock()
        self._is_open = False

    def _open(self) -> None:
        with self._opened:
            if not self._is_open:
                self._pool.open(wait=True, timeout=15)
                self._is_open = True

    def __repr__(self) -> str:
        return f"PostgresDatabase({_redact(self.url)})"

    @contextmanager
    def connection(self) -> Iterator[Conn]:
        self._open()
        with self._pool.connection() as raw:
            conn = PgConn(raw)
            try:
                yield conn
            finally:
                conn.rollback()  # never hand a connection back inside a transaction

    def close(self) -> None:
        self._pool.close()

    def init(self, cipher: FieldCipher | None = None) -> None:
        with self.connection() as conn:
            with write_tx(conn):
                version = _check_version(conn)
                if version is None:
                    schema.create_fresh(conn)
                elif applied := schema.upgrade(conn):
                    logger.info("database upgraded from schema v%d: ran %s", version, applied)
            _check_key(conn, cipher, self)
        logger.info("database ready at %s (schema v%d)", _redact(self.url), SCHEMA_VERSION)


Store = Database | PostgresDatabase


def open_database(location: str | Path) -> Store:
    text = str(location)
    if text.startswith(("postgresql://", "postgres://")):
        return PostgresDatabase(text)
    if text.startswith("sqlite:///"):
        text = text.removeprefix("sqlite:///")
    return Database(Path(text))


def _redact(url: str) -> str:
    """The URL without its password, for logs."""
    if "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    creds, host = rest.rsplit("@", 1)
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}" if ":" in creds else url


def _check_version(conn: Conn) -> int | None:
    version = schema.read_version(conn)
    if version is not None and version > SCHEMA_VERSION:
        raise RuntimeError(f"database schema v{version} is newer than this server (v{SCHEMA_VERSION})")
    return version


def _check_key(conn: Conn, cipher: FieldCipher | None, db: object) -> None:
    if cipher is None:
        return
    try:
        check_key(conn, cipher)
    except DecryptError:
        raise RuntimeError(
            f"the server key does not decrypt the patients in {db!r}: "
            "restore the key file this database was created with"
        ) from None
