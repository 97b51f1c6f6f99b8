"""Schema v11 (with server/reports/tables.py): booked visits (预约) and their check-in (取号).

A booking holds a place in a slot from the moment it is made (``slots.booked`` counts it), by
whatever channel made it: the hospital's WeChat account, the phone line, the web, a window. At the
kiosk the patient checks in: the booking becomes a registration (server/registrations.py) on the
same slot, without taking a second place, and the registration's fee is paid by the ordinary
payment flow unless the booking was paid when it was made.

The check-in key is kept on the booking for good (UNIQUE), like a payment key: a kiosk retrying
after a lost answer gets the same registration back, and a key can never check in two bookings.
"""

from __future__ import annotations

from server.ddl import Statement

APPOINTMENTS_V11: tuple[Statement, ...] = (
    """CREATE TABLE IF NOT EXISTS appointments (
    id INTEGER PRIMARY KEY,
    appt_no TEXT NOT NULL UNIQUE,
    patient_id INTEGER NOT NULL REFERENCES patients(id),
    slot_id INTEGER NOT NULL REFERENCES slots(id),
    fee_cents INTEGER NOT NULL CHECK (fee_cents >= 0),
    -- paid online when booked: the check-in's registration is paid from the start
    prepaid INTEGER NOT NULL DEFAULT 0 CHECK (prepaid IN (0, 1)),
    status TEXT NOT NULL CHECK (status IN ('booked', 'checked_in', 'cancelled', 'no_show')),
    booked_via TEXT NOT NULL CHECK (booked_via IN ('wechat', 'phone', 'web', 'window', 'kiosk')),
    booked_at TEXT NOT NULL,
    registration_id INTEGER REFERENCES registrations(id),
    queue_no INTEGER,
    checkin_key TEXT UNIQUE,
    checkin_kiosk TEXT,
    checked_in_at TEXT,
    updated_at TEXT NOT NULL,
    -- a checked-in booking always names its registration and its key, so a replay finds both
    CHECK (status <> 'checked_in' OR (registration_id IS NOT NULL AND checkin_key IS NOT NULL))
)""",
    "CREATE INDEX IF NOT EXISTS appointments_by_patient ON appointments(patient_id, status)",
)
