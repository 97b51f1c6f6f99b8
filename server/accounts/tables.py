"""Schema v13: the prepaid account (预交金) and its ledger; payments may top an account up.

- ``accounts`` keeps one balance per patient, never negative (CHECK), for fast reads and the
  conditional debit that keeps it so under concurrent requests.
- ``account_entries`` is the ledger: append-only (triggers refuse UPDATE and DELETE, as for the
  audit log), one row per credit or debit with the balance after it, so the kept balance can be
  checked against the sum of the entries at any time (``ledger.check``).
- ``payments.top_up_patient_id``: a payment's third purpose, next to a registration and a bill.
  Exactly one of the three is set. A top-up entry names its payment (UNIQUE), so a paid top-up is
  credited at most once, whatever races between the request and the resolver.

SQLite cannot alter a CHECK constraint, so the payments table is rebuilt there
(:func:`rebuild_sqlite_payments`) from its own stored definition rather than from a column list
written here: migrations of other features that add columns to payments keep them.
"""

from __future__ import annotations

from server.dbapi import Conn
from server.ddl import PerDialect, Statement

# What v6 wrote into the payments table, and what replaces it.
_TWO_PURPOSES = "CHECK ((registration_id IS NULL) <> (bill_id IS NULL))"
_THREE_PURPOSES = (
    "CHECK ((registration_id IS NOT NULL) + (bill_id IS NOT NULL) + (top_up_patient_id IS NOT NULL) = 1)"
)

_PG_APPEND_ONLY = """CREATE OR REPLACE FUNCTION account_entries_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$ BEGIN
    RAISE EXCEPTION 'account_entries is append-only' USING ERRCODE = 'integrity_constraint_violation';
END $$"""

ACCOUNTS_V13: tuple[Statement, ...] = (
    "ALTER TABLE payments ADD COLUMN top_up_patient_id INTEGER REFERENCES patients(id)",
    PerDialect(
        sqlite="",  # rebuilt by rebuild_sqlite_payments, the migration's backfill step
        postgres="ALTER TABLE payments DROP CONSTRAINT payments_one_target;"
        " ALTER TABLE payments ADD CONSTRAINT payments_one_purpose"
        " CHECK (num_nonnulls(registration_id, bill_id, top_up_patient_id) = 1)",
    ),
    """CREATE TABLE IF NOT EXISTS accounts (
    id INTEGER PRIMARY KEY,
    patient_id INTEGER NOT NULL UNIQUE REFERENCES patients(id),
    balance_cents INTEGER NOT NULL DEFAULT 0 CHECK (balance_cents >= 0),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
)""",
    """CREATE TABLE IF NOT EXISTS account_entries (
    id INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    kind TEXT NOT NULL CHECK (kind IN ('top_up', 'bill_payment', 'refund')),
    amount_cents INTEGER NOT NULL,  -- signed: credits positive, debits negative
    balance_after_cents INTEGER NOT NULL CHECK (balance_after_cents >= 0),
    -- permanent, like payment keys: a kiosk may retry after days offline
    idempotency_key TEXT NOT NULL UNIQUE,
    request_hash TEXT NOT NULL,
    payment_id INTEGER UNIQUE REFERENCES payments(id),  -- top_up: the payment that brought the money
    bill_id INTEGER REFERENCES bills(id),               -- bill_payment: the bill paid; refund: its source
    verification TEXT CHECK (verification IN ('face', 'pin', 'staff')),
    kiosk_id TEXT,
    note TEXT,
    created_at TEXT NOT NULL,
    CHECK (amount_cents <> 0),
    CHECK ((kind = 'bill_payment') = (amount_cents < 0)),
    CHECK (kind <> 'top_up' OR payment_id IS NOT NULL),
    CHECK (kind <> 'bill_payment' OR (bill_id IS NOT NULL AND verification IS NOT NULL))
)""",
    "CREATE INDEX IF NOT EXISTS account_entries_by_account ON account_entries(account_id, id)",
    # The last line of defence against paying one bill twice from an account.
    "CREATE UNIQUE INDEX IF NOT EXISTS account_entries_one_per_bill ON account_entries(bill_id)"
    " WHERE kind = 'bill_payment'",
    "CREATE INDEX IF NOT EXISTS payments_by_top_up ON payments(top_up_patient_id, status)",
    PerDialect(
        sqlite="""CREATE TRIGGER IF NOT EXISTS account_entries_no_update BEFORE UPDATE ON account_entries
BEGIN SELECT RAISE(ABORT, 'account_entries is append-only'); END""",
        postgres=_PG_APPEND_ONLY,
    ),
    PerDialect(
        sqlite="""CREATE TRIGGER IF NOT EXISTS account_entries_no_delete BEFORE DELETE ON account_entries
BEGIN SELECT RAISE(ABORT, 'account_entries is append-only'); END""",
        postgres="CREATE TRIGGER account_entries_no_change BEFORE UPDATE OR DELETE ON account_entries"
        " FOR EACH ROW EXECUTE FUNCTION account_entries_append_only();"
        " CREATE TRIGGER account_entries_no_truncate BEFORE TRUNCATE ON account_entries"
        " FOR EACH STATEMENT EXECUTE FUNCTION account_entries_append_only()",
    ),
)


def rebuild_sqlite_payments(conn: Conn) -> None:
    """Swap the payments CHECK for the three-purpose one (SQLite only; PostgreSQL altered it in place).

    The official 12-step rebuild, in the migration's transaction with foreign keys off (server/db.py):
    the new table is the old one's stored SQL with the CHECK replaced, every column is copied by
    name, and the table's own indexes and triggers are re-created from their stored SQL.
    """
    if conn.dialect != "sqlite":
        return
    row = conn.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'payments'").fetchone()
    table_sql = str(row[0])
    if _TWO_PURPOSES not in table_sql:
        # Something else changed this table: stop the upgrade (it rolls back) rather than guess.
        raise RuntimeError("payments: the v6 purpose CHECK was not found; cannot add top-ups")
    new_sql = "CREATE TABLE payments_v13 " + table_sql[table_sql.index("(") :].replace(_TWO_PURPOSES, _THREE_PURPOSES)
    extras = [
        str(r[0])
        for r in conn.execute(
            "SELECT sql FROM sqlite_master WHERE tbl_name = 'payments' AND type IN ('index', 'trigger')"
            " AND sql IS NOT NULL ORDER BY type, name"
        )
    ]
    columns = ", ".join(f'"{r[1]}"' for r in conn.execute("PRAGMA table_info(payments)"))
    conn.execute(new_sql)
    conn.execute(f"INSERT INTO payments_v13({columns}) SELECT {columns} FROM payments")
    conn.execute("DROP TABLE payments")
    conn.execute("ALTER TABLE payments_v13 RENAME TO payments")
    for sql in extras:
        conn.execute(sql)
