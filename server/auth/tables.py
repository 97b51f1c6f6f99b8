"""Schema v4: kiosk enrollment and credentials, request nonces, staff accounts and sessions.

Plain portable DDL (server/schema.py translates the types for PostgreSQL); this module must not
import server.schema, which imports it.
"""

from __future__ import annotations

AUTH_V4: tuple[str, ...] = (
    # A kiosk asking to join: the pairing code (read aloud to an admin) and the poll token are
    # stored only as SHA-256 hashes; they live 15 minutes.
    """CREATE TABLE IF NOT EXISTS kiosk_enrollments (
    id INTEGER PRIMARY KEY,
    kiosk_id TEXT NOT NULL,
    software_version TEXT NOT NULL,
    code_hash TEXT NOT NULL,
    poll_token_hash TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'expired', 'delivered')),
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    approved_at TEXT,
    approved_by TEXT
)""",
    # Two pending enrollments never share a code, so an approval names exactly one kiosk.
    "CREATE UNIQUE INDEX IF NOT EXISTS kiosk_enrollments_pending_code"
    " ON kiosk_enrollments(code_hash) WHERE status = 'pending'",
    """CREATE TABLE IF NOT EXISTS kiosk_credentials (
    kiosk_id TEXT PRIMARY KEY,
    secret_enc BLOB NOT NULL,      -- FieldCipher blob of the HMAC secret
    status TEXT NOT NULL CHECK (status IN ('active', 'revoked')),
    created_at TEXT NOT NULL,
    revoked_at TEXT,
    last_used_at TEXT
)""",
    # Nonces of accepted signed requests, kept 10 minutes: longer than the +-300 s timestamp window
    # on both sides, so any replay still inside the window finds its nonce here.
    """CREATE TABLE IF NOT EXISTS request_nonces (
    kiosk_id TEXT NOT NULL,
    nonce TEXT NOT NULL,
    seen_at REAL NOT NULL,         -- unix seconds, server clock
    UNIQUE (kiosk_id, nonce)
)""",
    "CREATE INDEX IF NOT EXISTS request_nonces_by_age ON request_nonces(seen_at)",
    """CREATE TABLE IF NOT EXISTS staff (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL CHECK (role IN ('admin', 'cashier', 'technician')),
    password_hash TEXT NOT NULL,   -- scrypt$n$r$p$salt$hash (parameters kept with the hash)
    disabled INTEGER NOT NULL DEFAULT 0,
    failed_attempts INTEGER NOT NULL DEFAULT 0,
    locked_until TEXT,
    created_at TEXT NOT NULL
)""",
    """CREATE TABLE IF NOT EXISTS staff_sessions (
    id INTEGER PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,  -- SHA-256 of the token; the token itself is never stored
    username TEXT NOT NULL REFERENCES staff(username),
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
)""",
    "CREATE INDEX IF NOT EXISTS staff_sessions_by_expiry ON staff_sessions(expires_at)",
)
