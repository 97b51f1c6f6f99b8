"""Time-ordered unique ids (UUIDv7 layout) for transactions and idempotency keys."""

from __future__ import annotations

import os
import time
import uuid


def uuid7() -> str:
    """A UUIDv7: 48-bit Unix ms timestamp, version 7, 74 random bits; sorts by creation time."""
    ms = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76
    value |= ((rand >> 62) & 0xFFF) << 64
    value |= 0b10 << 62
    value |= rand & ((1 << 62) - 1)
    return str(uuid.UUID(int=value))
