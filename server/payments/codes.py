"""Telling scanned payment codes apart (protocols.md §3.1) and masking them for logs.

Codes stay strings: 18-digit codes exceed 2**53 and lose digits as floats.
"""

from __future__ import annotations

import re

# Prefix rules change over time (Alipay went 28 -> 25-30); keep them in one table.
CHANNEL_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("wechat", re.compile(r"^1[0-5]\d{16}$")),
    ("alipay", re.compile(r"^(2[5-9]|30)\d{14,22}$")),
    ("unionpay", re.compile(r"^62\d{17}$")),
]

SUPPORTED_CHANNELS = frozenset({"wechat", "alipay"})


def detect_channel(auth_code: str) -> str:
    """``wechat`` / ``alipay`` / ``unionpay``, or ``unknown`` for anything else."""
    for name, pattern in CHANNEL_PATTERNS:
        if pattern.match(auth_code):
            return name
    return "unknown"


def mask_auth_code(auth_code: str) -> str:
    """All but the last four characters hidden: a payment code is a bearer credential."""
    return "*" * max(len(auth_code) - 4, 0) + auth_code[-4:]
