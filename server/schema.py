"""The server's schema: a baseline plus numbered migrations, applied alike on SQLite and PostgreSQL.

How it works (the role Alembic plays elsewhere, without an ORM underneath):

- ``schema_version`` holds one row per migration applied; its lowest row also stands for every
  version below it (databases written before rows were kept one by one hold a single row). A new
  database gets the baseline (v3, the schema every PostgreSQL database starts from) and then every
  migration, in one transaction.
- An existing database gets every migration it has no row for, in one transaction: a failed
  upgrade leaves the database exactly as it was. Rows, not a single high-water mark, because
  numbers may be reserved and land later (9 after 10): a mark of 10 would skip 9 for good.
- SQLite files older than the baseline (v1, v2: written before PostgreSQL was supported) are
  brought to the baseline by ``server/migrations.py`` first.
- DDL is written once, in SQLite's spelling, and :func:`to_pg_ddl` translates the few types that
  differ; a statement that cannot be shared (a trigger) is a :class:`PerDialect` pair.

To change the schema: add a :class:`Migration` to ``MIGRATIONS`` under the number you took
(numbers only ever go upwards in the tuple). Never edit one that has shipped; a database that
already ran it would not run it again.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from dataclasses import dataclass

from server.accounts.tables import ACCOUNTS_V13, rebuild_sqlite_payments
from server.appointments.tables import APPOINTMENTS_V11
from server.auth.tables import AUTH_V4
from server.bills.tables import BILLS_V6, BILLS_V12
from server.cashier.tables import CASHIER_V15
from server.dashboard.tables import WORKLIST_V5
from server.dbapi import Conn
from server.ddl import PerDialect, Statement, render
from server.filing_tables import FILING_V10, backfill_visit_cards
from server.payments.qr_tables import QR_V12
from server.reconcile.tables import RECONCILE_V7
from server.refunds.tables import REFUNDS_V9
from server.reports.tables import REPORTS_V11
from server.sync_tables import SYNC_OPS_V8

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    statements: tuple[Statement, ...]
    # Data the new columns need that SQL alone can't compute alike on both backends; runs after the DDL.
    backfill: Callable[[Conn], None] | None = None


# -- baseline (schema v3) ----------------------------------------------------------------------------

# The patients table of v2 on; server/migrations.py builds the same table when upgrading a v1 file.
PATIENTS_V2 = """
CREATE TABLE IF NOT EXISTS {table} (
    id INTEGER PRIMARY KEY,
    id_type TEXT NOT NULL,
    id_index TEXT NOT NULL,        -- HMAC blind index of the ID number, for lookups
    id_number_enc BLOB NOT NULL,   -- FieldCipher blob
    name_enc BLOB NOT NULL,        -- FieldCipher blob
    id_masked TEXT NOT NULL,       -- display only, e.g. 110***********1234
    sex TEXT NOT NULL,
    birth TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (id_type, id_index)
)"""

CATALOG_AND_MONEY: tuple[Statement, ...] = (
    """CREATE TABLE IF NOT EXISTS departments (
    code TEXT PRIMARY KEY,
    name_zh TEXT NOT NULL,
    name_en TEXT NOT NULL,
    sort_order INTEGER NOT NULL DEFAULT 0
)""",
    """CREATE TABLE IF NOT EXISTS doctors (
    code TEXT PRIMARY KEY,
    department_code TEXT NOT NULL REFERENCES departments(code),
    name_zh TEXT NOT NULL,
    name_en TEXT NOT NULL,
    title_zh TEXT NOT NULL,
    title_en TEXT NOT NULL,
    fee_cents INTEGER NOT NULL CHECK (fee_cents >= 0)
)""",
    """CREATE TABLE IF NOT EXISTS slots (
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
)""",
    "CREATE INDEX IF NOT EXISTS slots_by_date ON slots(date, doctor_code)",
    PATIENTS_V2.format(table="patients"),
    """CREATE TABLE IF NOT EXISTS registrations (
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
)""",
    """CREATE TABLE IF NOT EXISTS payments (
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
)""",
    "CREATE INDEX IF NOT EXISTS payments_by_registration ON payments(registration_id, status)",
    "CREATE INDEX IF NOT EXISTS payments_by_status ON payments(status)",
)

_PG_APPEND_ONLY = """CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$ BEGIN
    -- SQLSTATE 23000, so both backends report an integrity violation (dbapi.IntegrityError)
    RAISE EXCEPTION 'audit_log is append-only' USING ERRCODE = 'integrity_constraint_violation';
END $$"""

FLEET_AUDIT_V3: tuple[Statement, ...] = (
    """CREATE TABLE IF NOT EXISTS kiosks (
    kiosk_id TEXT PRIMARY KEY,
    software_version TEXT NOT NULL,
    device_states_json TEXT NOT NULL,
    queue_depth INTEGER NOT NULL,
    oldest_pending_age_s REAL,
    kiosk_time TEXT NOT NULL,      -- the kiosk's claim, kept for diagnosis only
    clock_offset_s REAL NOT NULL,  -- server time minus kiosk time at the last heartbeat
    first_seen TEXT NOT NULL,
    last_seen TEXT NOT NULL        -- server time: kiosk clocks are never trusted
)""",
    """CREATE TABLE IF NOT EXISTS kiosk_commands (
    id INTEGER PRIMARY KEY,
    kiosk_id TEXT NOT NULL REFERENCES kiosks(kiosk_id),
    command TEXT NOT NULL CHECK (command IN ('reload_config', 'restart_app', 'print_test_page')),
    status TEXT NOT NULL CHECK (status IN ('pending', 'acked')),
    created_at TEXT NOT NULL,
    acked_at TEXT
)""",
    "CREATE INDEX IF NOT EXISTS kiosk_commands_by_kiosk ON kiosk_commands(kiosk_id, status, id)",
    """CREATE TABLE IF NOT EXISTS audit_log (
    seq INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    detail TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
)""",
    # Append-only is enforced by the database itself, not only by the absence of code that edits.
    PerDialect(
        sqlite="""CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END""",
        postgres=_PG_APPEND_ONLY,
    ),
    PerDialect(
        sqlite="""CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END""",
        # TRUNCATE too: on PostgreSQL it bypasses row triggers, so it needs its own statement trigger.
        postgres="CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log"
        " FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();"
        " CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log"
        " FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()",
    ),
)

BASELINE_VERSION = 3
BASELINE: tuple[Statement, ...] = CATALOG_AND_MONEY + FLEET_AUDIT_V3

# Numbered upwards; a reserved number may be filled in later (see the module docstring). Each feature
# keeps its DDL beside its code, as plain statements (server/ddl.py), so it is read where its code is.
MIGRATIONS: tuple[Migration, ...] = (
    Migration(4, "kiosk enrollment and credentials, request nonces, staff accounts", AUTH_V4),
    Migration(5, "staff worklist", WORKLIST_V5),
    Migration(6, "bills, bill items, insurance settlements; payments of bills", BILLS_V6),
    Migration(7, "reconciliation runs", RECONCILE_V7),
    Migration(8, "offline sync operations", SYNC_OPS_V8),
    Migration(9, "refunds of payments (server/refunds/)", REFUNDS_V9),
    Migration(10, "filing: patient phone, visit card, verification; filing requests", FILING_V10, backfill_visit_cards),
    Migration(11, "appointments and their check-in; reports and their print-back", APPOINTMENTS_V11 + REPORTS_V11),
    Migration(12, "bill payment: one payment for several bills; kiosk-shown QR payments", BILLS_V12 + QR_V12),
    Migration(13, "prepaid accounts and their ledger; top-up payments", ACCOUNTS_V13, rebuild_sqlite_payments),
    Migration(15, "cashier window: staff PINs and cards, shifts, settlements, approved refunds", CASHIER_V15),
)

SCHEMA_VERSION = max([BASELINE_VERSION, *(m.version for m in MIGRATIONS)])


def _check_order() -> None:
    versions = [BASELINE_VERSION, *(m.version for m in MIGRATIONS)]
    if any(b <= a for a, b in itertools.pairwise(versions)):
        raise RuntimeError(f"migrations must be numbered upwards from {BASELINE_VERSION + 1}")


_check_order()


def apply(conn: Conn, statements: tuple[Statement, ...]) -> None:
    for statement in statements:
        sql = render(statement, conn.dialect)
        if conn.dialect == "postgres":
            conn.execute(sql)  # no parameters: psycopg sends it as one simple query, several statements allowed
            continue
        # sqlite3 runs one statement per execute(), and executescript() would COMMIT our transaction;
        # ";\n" ends a statement in our DDL (a trigger's inner ";" is never followed by a newline).
        for part in sql.split(";\n"):
            if part.strip():
                conn.execute(part)


def _ensure_version_table(conn: Conn) -> None:
    conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")


def _applied(conn: Conn) -> set[int]:
    _ensure_version_table(conn)
    return {int(row[0]) for row in conn.execute("SELECT version FROM schema_version").fetchall()}


def read_version(conn: Conn) -> int | None:
    """The highest version applied, or None for a database without a schema yet."""
    return max(_applied(conn), default=None)


def write_version(conn: Conn, version: int) -> None:
    """Record ``version`` as the only row: everything up to it is applied (the baseline, a v1/v2 upgrade)."""
    _ensure_version_table(conn)
    conn.execute("DELETE FROM schema_version")
    conn.execute("INSERT INTO schema_version(version) VALUES (?)", (version,))


def pending(conn: Conn, migrations: tuple[Migration, ...] = MIGRATIONS) -> list[Migration]:
    """Migrations this database has not run, in order (it must have a schema already)."""
    applied = _applied(conn)
    floor = min(applied)
    return [m for m in migrations if m.version > floor and m.version not in applied]


def create_fresh(conn: Conn) -> None:
    """A new database: the baseline and every migration. The caller owns the transaction."""
    apply(conn, BASELINE)
    write_version(conn, BASELINE_VERSION)
    upgrade(conn)


def upgrade(conn: Conn, migrations: tuple[Migration, ...] = MIGRATIONS) -> list[int]:
    """Run every migration not yet applied and record each; the versions run (caller owns the transaction)."""
    done = []
    for migration in pending(conn, migrations):
        apply(conn, migration.statements)
        if migration.backfill is not None:
            migration.backfill(conn)
        conn.execute("INSERT INTO schema_version(version) VALUES (?)", (migration.version,))
        done.append(migration.version)
        logger.info("schema v%d: %s", migration.version, migration.description)
    return done
