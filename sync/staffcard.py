"""The staff-card hash a cashier window sends instead of a staff member's ID number.

Shared by the kiosk (which reads the card) and the server's profile tool (which registers it), so
both compute exactly the same value. Unkeyed on purpose (the kiosk holds no hospital-wide secret),
so it hides the number only from a casual reader of a log or a packet; the server stores nothing
but a keyed blind index of it (server/cashier/staff.py).
"""

from __future__ import annotations

import hashlib

CARD_HASH_PATTERN = r"^[0-9a-f]{64}$"
_DOMAIN = "hospital-kiosk:staff-card:v1:"


def staff_card_hash(id_number: str) -> str:
    """64 lowercase hex digits for an ID number as read from the card (blanks and case ignored)."""
    return hashlib.sha256((_DOMAIN + id_number.strip().upper()).encode("utf-8")).hexdigest()
