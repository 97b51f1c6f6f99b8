"""SQLite store: schema, pragmas, and the write-transaction helper.

One connection per request or worker thread (never shared), WAL so readers don't block the
writer, ``BEGIN IMMEDIATE`` for every write so two writers serialize at the start of the
transaction instead of failing halfway with SQLITE_BUSY. The SQL is kept plain (no SQLite-only
types beyond INTEGER/TEXT/BLOB) so a later move to PostgreSQL is a driver change, not a redesign.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from server.crypto import DecryptError, FieldCipher
from server.migrations import FLEET_AUDIT_V3, PATIENTS_V2, migrate
from server.patient_store import check_key

logger = logging.getLogger(__name__)

# v2: patient name and ID number encrypted at rest (server/migrations.py upgrades a v1 file).
# v3: kiosk heartbeats and commands, hash-chained audit log.
SCHEMA_VERSION = 3

# The v3 tables and triggers, from the statements migrations._v2_to_v3 runs on an upgraded file.
_V3_SCHEMA = "".join(f"{statement};\n" for statement in FLEET_AUDIT_V3)

# The patients table comes from migrations.PATIENTS_V2 so a new file and an upgraded one match.
_SCHEMA = """
CREATE TABLE IF NOT EXISTS schema_version (
    version INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS departments (
    code TEXT PRIMARY KEY,
    name_zh TEXT NOT NULL,
    name_en TEXT NOT NULL,
    sort_order INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS doctors (
    code TEXT PRIMARY KEY,
    department_code TEXT NOT NULL REFERENCES departments(code),
    name_zh TEXT NOT NULL,
    name_en TEXT NOT NULL,
    title_zh TEXT NOT NULL,
    title_en TEXT NOT NULL,
    fee_cents INTEGER NOT NULL CHECK (fee_cents >= 0)
);
CREATE TABLE IF NOT EXISTS slots (
    id INTEGER PRIMARY KEY,
    doctor_code TEXT NOT NULL REFERENCES doctors(code),
    date TEXT NOT NULL,
    start TEXT NOT NULL,
    "end" TEXT NOT NULL,
    capacity INTEGER NOT NULL CHECK (capacity >= 0),
    booked INTEGER NOT NULL DEFAULT 0,
    -- the last line of defence against overbooking, whatever the application code does
    CHECK (booked >= 0 AND booked <= capacity),
    UNIQUE (doctor_code, date, start)
);
CREATE INDEX IF NOT EXISTS slots_by_date ON slots(date, doctor_code);
CREATE TABLE IF NOT EXISTS registrations (
    id INTEGER PRIMARY KEY,
    reg_no TEXT NOT NULL UNIQUE,
    patient_id INTEGER NOT NULL REFERENCES patients(id),
    slot_id INTEGER NOT NULL REFERENCES slots(id),
    status TEXT NOT NULL CHECK (status IN ('unpaid', 'paid', 'cancelled')),
    amount_cents INTEGER NOT NULL,
    idempotency_key TEXT NOT NULL UNIQUE,
    response_json TEXT NOT NULL,  -- the first answer, replayed verbatim on a retry
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS payments (
    id INTEGER PRIMARY KEY,
    -- permanent: a kiosk may retry after days offline, so keys are never pruned
    idempotency_key TEXT NOT NULL UNIQUE,
    request_hash TEXT NOT NULL,
    registration_id INTEGER NOT NULL REFERENCES registrations(id),
    amount_cents INTEGER NOT NULL,
    auth_code_masked TEXT NOT NULL,
    channel TEXT NOT NULL,
    kiosk_id TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('PENDING', 'SUCCESS', 'FAILED', 'REVERSED')),
    out_trade_no TEXT NOT NULL UNIQUE,
    provider_trade_no TEXT,
    error_code TEXT,
    response_json TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS payments_by_registration ON payments(registration_id, status);
CREATE INDEX IF NOT EXISTS payments_by_status ON payments(status);
""" + PATIENTS_V2.format(table="patients") + _V3_SCHEMA


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def connect(db_path: Path | str) -> sqlite3.Connection:
    """A new connection with the per-connection pragmas; autocommit mode, transactions are explicit."""
    # check_same_thread=False: FastAPI may open a connection in one pool thread and finish the
    # request in another; the connection is still used by one request at a time.
    conn = sqlite3.connect(str(db_path), timeout=5.0, isolation_level=None, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA busy_timeout=5000")
    conn.execute("PRAGMA foreign_keys=ON")
    # FULL: a payment marked SUCCESS must survive a power cut right after the answer was sent.
    conn.execute("PRAGMA synchronous=FULL")
    return conn


@contextmanager
def write_tx(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """``BEGIN IMMEDIATE`` ... ``COMMIT`` (``ROLLBACK`` on any exception)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        # SQLite may already have rolled back by itself (e.g. disk full); don't mask the real error.
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


class Database:
    """Knows the file; hands out short-lived connections."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)

    @contextmanager
    def connection(self) -> Iterator[sqlite3.Connection]:
        conn = connect(self.path)
        try:
            yield conn
        finally:
            conn.close()

    def init(self, cipher: FieldCipher | None = None) -> None:
        """Create the file and schema if missing, upgrade an older one, refuse a newer one.

        ``cipher`` is needed to upgrade a v1 file (plain-text patients) and to check that the key
        matches the data; it may be omitted only for a database without patients to read.
        """
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.connection() as conn:
            # journal_mode is persistent in the file, so setting it once here is enough.
            conn.execute("PRAGMA journal_mode=WAL")
            # executescript would COMMIT a surrounding transaction, so the script carries its own.
            # On a v1 file CREATE ... IF NOT EXISTS leaves the old patients table for migrate().
            conn.executescript("BEGIN IMMEDIATE;" + _SCHEMA + "COMMIT;")
            migrated = self._check_version(conn, cipher)
            if migrated:
                # The dropped plain-text pages were zeroed (secure_delete); copy them over the main
                # file and empty the WAL, so no old name or ID number survives anywhere on disk.
                busy = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
                if busy:
                    logger.warning("WAL checkpoint after the migration was blocked; it completes on a later one")
            if cipher is not None:
                try:
                    check_key(conn, cipher)
                except DecryptError:
                    raise RuntimeError(
                        f"the server key does not decrypt the patients in {self.path}: "
                        "restore the key file this database was created with"
                    ) from None
            check = conn.execute("PRAGMA quick_check").fetchone()[0]
            if check != "ok":
                logger.error("database quick_check failed: %s", check)
        logger.info("database ready at %s (schema v%d)", self.path, SCHEMA_VERSION)

    @staticmethod
    def _check_version(conn: sqlite3.Connection, cipher: FieldCipher | None) -> bool:
        """Record, upgrade or refuse the schema version; True if an upgrade ran."""
        # Foreign keys can't be switched inside a transaction, and the upgrade rebuilds patients,
        # which registrations reference; migrate() runs PRAGMA foreign_key_check itself.
        conn.execute("PRAGMA foreign_keys=OFF")
        # Pages freed by dropping the plain-text table are overwritten with zeros, not left readable.
        secure_delete = conn.execute("PRAGMA secure_delete").fetchone()[0]
        conn.execute("PRAGMA secure_delete=ON")
        try:
            with write_tx(conn):
                version = conn.execute("SELECT max(version) AS v FROM schema_version").fetchone()["v"]
                if version is None:
                    conn.execute("INSERT INTO schema_version(version) VALUES (?)", (SCHEMA_VERSION,))
                    return False
                if version > SCHEMA_VERSION:
                    raise RuntimeError(f"database schema v{version} is newer than this server (v{SCHEMA_VERSION})")
                if version == SCHEMA_VERSION:
                    return False
                migrate(conn, version, cipher)
                conn.execute("DELETE FROM schema_version")
                conn.execute("INSERT INTO schema_version(version) VALUES (?)", (SCHEMA_VERSION,))
            logger.info("database upgraded from schema v%d to v%d", version, SCHEMA_VERSION)
            return True
        finally:
            conn.execute(f"PRAGMA secure_delete={int(secure_delete)}")
            conn.execute("PRAGMA foreign_keys=ON")
