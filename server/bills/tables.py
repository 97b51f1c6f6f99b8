"""Schema v6: bills, their items and insurance settlements; payments may pay a bill or a registration."""

from __future__ import annotations

from server.ddl import PerDialect, Statement

_PAYMENTS_COLUMNS = (
    "id, idempotency_key, request_hash, registration_id, amount_cents, auth_code_masked, channel, kiosk_id,"
    " status, out_trade_no, provider_trade_no, error_code, response_json, created_at, updated_at"
)

BILLS_V6: tuple[Statement, ...] = (
    """CREATE TABLE IF NOT EXISTS bills (
    id INTEGER PRIMARY KEY,
    bill_no TEXT NOT NULL UNIQUE,
    patient_id INTEGER NOT NULL REFERENCES patients(id),
    kind TEXT NOT NULL CHECK (kind IN ('prescription', 'lab', 'imaging', 'treatment')),
    department_code TEXT REFERENCES departments(code),
    title_zh TEXT NOT NULL,
    title_en TEXT NOT NULL,
    total_cents INTEGER NOT NULL CHECK (total_cents > 0),
    status TEXT NOT NULL CHECK (status IN ('unpaid', 'locked', 'paid', 'cancelled')),
    -- the idempotency key of the payment attempt holding (or, once paid, that paid) the bill
    lock_key TEXT,
    locked_until TEXT,
    -- bumped whenever the items change, so a kiosk paying what it listed earlier can be told "changed"
    version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    CHECK (status IN ('unpaid', 'cancelled') OR lock_key IS NOT NULL)
)""",
    "CREATE INDEX IF NOT EXISTS bills_by_patient ON bills(patient_id, status)",
    """CREATE TABLE IF NOT EXISTS bill_items (
    id INTEGER PRIMARY KEY,
    bill_id INTEGER NOT NULL REFERENCES bills(id),
    code TEXT NOT NULL,
    name_zh TEXT NOT NULL,
    name_en TEXT NOT NULL,
    category TEXT NOT NULL,  -- the insurer's category: drug_a, drug_b, drug_c, exam, treatment, material
    quantity INTEGER NOT NULL CHECK (quantity > 0),
    unit_cents INTEGER NOT NULL CHECK (unit_cents >= 0),
    amount_cents INTEGER NOT NULL,
    CHECK (amount_cents = quantity * unit_cents)
)""",
    "CREATE INDEX IF NOT EXISTS bill_items_by_bill ON bill_items(bill_id)",
    """CREATE TABLE IF NOT EXISTS insurance_settlements (
    id INTEGER PRIMARY KEY,
    bill_id INTEGER NOT NULL REFERENCES bills(id),
    lock_key TEXT NOT NULL UNIQUE,
    scheme TEXT,  -- employee | resident; NULL = no insurance card, all self-pay
    ref TEXT,     -- the insurer's id of the pre-settlement
    insurance_cents INTEGER,
    self_pay_cents INTEGER,
    status TEXT NOT NULL CHECK (status IN ('presettling', 'presettled', 'settled', 'cancelled', 'failed')),
    detail_json TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
)""",
    # payments: registration_id becomes optional and bill_id is added; exactly one names what is paid.
    PerDialect(
        sqlite=f"""CREATE TABLE payments_v6 (
    id INTEGER PRIMARY KEY,
    -- permanent: a kiosk may retry after days offline, so keys are never pruned
    idempotency_key TEXT NOT NULL UNIQUE,
    request_hash TEXT NOT NULL,
    registration_id INTEGER REFERENCES registrations(id),
    bill_id INTEGER REFERENCES bills(id),
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
    updated_at TEXT NOT NULL,
    CHECK ((registration_id IS NULL) <> (bill_id IS NULL))
);
INSERT INTO payments_v6({_PAYMENTS_COLUMNS}) SELECT {_PAYMENTS_COLUMNS} FROM payments;
DROP TABLE payments;
ALTER TABLE payments_v6 RENAME TO payments;
CREATE INDEX payments_by_registration ON payments(registration_id, status);
CREATE INDEX payments_by_status ON payments(status)""",
        postgres="""ALTER TABLE payments ALTER COLUMN registration_id DROP NOT NULL;
ALTER TABLE payments ADD COLUMN bill_id BIGINT REFERENCES bills(id);
ALTER TABLE payments ADD CONSTRAINT payments_one_target CHECK ((registration_id IS NULL) <> (bill_id IS NULL))""",
    ),
    "CREATE INDEX IF NOT EXISTS payments_by_bill ON payments(bill_id, status)",
)

# Schema v12: one payment may pay several bills (a lock group: every bill locked under the payment's
# key), so a pre-settlement is unique per (key, bill) rather than per key.
_SETTLEMENT_COLUMNS = (
    "id, bill_id, lock_key, scheme, ref, insurance_cents, self_pay_cents, status, detail_json, created_at, updated_at"
)

BILLS_V12: tuple[Statement, ...] = (
    PerDialect(
        sqlite=f"""CREATE TABLE insurance_settlements_v12 (
    id INTEGER PRIMARY KEY,
    bill_id INTEGER NOT NULL REFERENCES bills(id),
    lock_key TEXT NOT NULL,
    scheme TEXT,
    ref TEXT,
    insurance_cents INTEGER,
    self_pay_cents INTEGER,
    status TEXT NOT NULL CHECK (status IN ('presettling', 'presettled', 'settled', 'cancelled', 'failed')),
    detail_json TEXT NOT NULL DEFAULT '{{}}',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (lock_key, bill_id)
);
INSERT INTO insurance_settlements_v12({_SETTLEMENT_COLUMNS}) SELECT {_SETTLEMENT_COLUMNS} FROM insurance_settlements;
DROP TABLE insurance_settlements;
ALTER TABLE insurance_settlements_v12 RENAME TO insurance_settlements""",
        postgres="""ALTER TABLE insurance_settlements DROP CONSTRAINT insurance_settlements_lock_key_key;
ALTER TABLE insurance_settlements ADD CONSTRAINT insurance_settlements_key_bill UNIQUE (lock_key, bill_id)""",
    ),
)
