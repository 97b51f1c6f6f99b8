"""Schema v15: the cashier window (server/cashier/).

``cashier_staff`` gives a staff account (server/auth/staff.py) what a window needs: the number
typed on the keypad, a PIN (scrypt, like passwords), optionally the blind index of a staff card,
and whether the person may approve refunds. Its own failure counter: a PIN has little entropy, so
the lockout is what protects it, and it must not share a counter with the dashboard password.

A shift is one staff member at one kiosk (window) from sign-in to close. Its token is stored only
as a hash and is rotated when the same person signs in again (resume after the window idled).

A settlement is one money movement at the window under the kiosk's idempotency key. It is paid by
ordinary ``payments`` rows (``cashier_settlement_payments``): one for its bills, one per
registration, so bills, registrations, the dashboard and the provider reconciliation see window
payments like any other. Its status is never stored here: it is read from those payments rows, the
single source of truth.

A separate module, like the other features' ``tables`` modules: server/schema.py imports it.
"""

from __future__ import annotations

from server.ddl import Statement

CASHIER_V15: tuple[Statement, ...] = (
    """CREATE TABLE IF NOT EXISTS cashier_staff (
    staff_no TEXT PRIMARY KEY,          -- typed at the window, e.g. 1001
    username TEXT NOT NULL UNIQUE REFERENCES staff(username),
    pin_hash TEXT NOT NULL,             -- scrypt$n$r$p$salt$hash (server/auth/staff.py)
    card_index TEXT UNIQUE,             -- keyed blind index of the staff card's hash; NULL = no card
    supervisor INTEGER NOT NULL DEFAULT 0 CHECK (supervisor IN (0, 1)),
    failed_attempts INTEGER NOT NULL DEFAULT 0,
    locked_until TEXT,
    created_at TEXT NOT NULL
)""",
    """CREATE TABLE IF NOT EXISTS cashier_shifts (
    id INTEGER PRIMARY KEY,
    staff_no TEXT NOT NULL REFERENCES cashier_staff(staff_no),
    kiosk_id TEXT NOT NULL,
    window_label TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL CHECK (status IN ('open', 'closed')),
    token_hash TEXT NOT NULL UNIQUE,    -- SHA-256 of the current token; the token itself is never stored
    token_expires_at TEXT NOT NULL,     -- slides forward with every use, never past token_hard_expiry
    token_hard_expiry TEXT NOT NULL,
    opened_at TEXT NOT NULL,
    closed_at TEXT,
    kiosk_ledger_json TEXT,             -- what the kiosk counted, sent when the shift closes
    cash_counted_cents INTEGER          -- cash in the drawer at close, counted by the cashier
)""",
    # One open shift per window and per person: a second sign-in resumes, never forks, a shift.
    "CREATE UNIQUE INDEX IF NOT EXISTS cashier_shifts_open_kiosk ON cashier_shifts(kiosk_id) WHERE status = 'open'",
    "CREATE UNIQUE INDEX IF NOT EXISTS cashier_shifts_open_staff ON cashier_shifts(staff_no) WHERE status = 'open'",
    """CREATE TABLE IF NOT EXISTS cashier_settlements (
    id INTEGER PRIMARY KEY,
    -- permanent, like payment keys: a window may retry after a lost answer at any time
    idempotency_key TEXT NOT NULL UNIQUE,
    request_hash TEXT NOT NULL,         -- keyed: the request may hold a payment code
    shift_id INTEGER NOT NULL REFERENCES cashier_shifts(id),
    patient_id INTEGER NOT NULL REFERENCES patients(id),
    channel TEXT NOT NULL CHECK (channel IN ('code', 'cash', 'card')),
    bill_ids_json TEXT NOT NULL,        -- the bills paid (locked under this key), for the report
    amount_cents INTEGER NOT NULL CHECK (amount_cents >= 0),
    tendered_cents INTEGER,             -- cash: what the patient handed over
    change_cents INTEGER,               -- cash: what was handed back
    pos_ref TEXT,                       -- card: the POS terminal's reference number
    created_at TEXT NOT NULL,
    CHECK (channel <> 'cash' OR (tendered_cents >= amount_cents AND change_cents = tendered_cents - amount_cents)),
    CHECK (channel <> 'card' OR pos_ref IS NOT NULL)
)""",
    "CREATE INDEX IF NOT EXISTS cashier_settlements_by_shift ON cashier_settlements(shift_id)",
    # The payments a settlement made: one for its bills (the bill service's lock group, locked under
    # the settlement's own key), one per registration (key "<settlement key>:r<id>").
    """CREATE TABLE IF NOT EXISTS cashier_settlement_payments (
    id INTEGER PRIMARY KEY,
    settlement_id INTEGER NOT NULL REFERENCES cashier_settlements(id),
    payment_key TEXT NOT NULL UNIQUE,
    registration_id INTEGER REFERENCES registrations(id),  -- NULL: the payment of the settlement's bills
    amount_cents INTEGER NOT NULL CHECK (amount_cents >= 0)
)""",
    "CREATE INDEX IF NOT EXISTS cashier_settlement_payments_by_settlement"
    " ON cashier_settlement_payments(settlement_id)",
    # Which shift asked for a refund and who approved it; the refund itself (state, provider call)
    # belongs to the refund service (server/refunds/), looked up by refund_key.
    """CREATE TABLE IF NOT EXISTS cashier_refunds (
    id INTEGER PRIMARY KEY,
    refund_key TEXT NOT NULL UNIQUE,
    request_hash TEXT NOT NULL,
    shift_id INTEGER NOT NULL REFERENCES cashier_shifts(id),
    payment_key TEXT NOT NULL,
    channel TEXT NOT NULL,              -- the refunded payment's channel: wechat, alipay, cash, card
    pos_ref TEXT,                       -- card: the POS terminal's reference of the refund it made
    amount_cents INTEGER NOT NULL CHECK (amount_cents > 0),
    reason TEXT NOT NULL,
    approved_by TEXT NOT NULL REFERENCES cashier_staff(staff_no),
    created_at TEXT NOT NULL
)""",
    "CREATE INDEX IF NOT EXISTS cashier_refunds_by_shift ON cashier_refunds(shift_id)",
)
