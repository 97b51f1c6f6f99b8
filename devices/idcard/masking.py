"""Masking of names and ID numbers for logs, screens and receipts (personal data never shown whole)."""

from __future__ import annotations

_CJK_START = 0x2E80  # first CJK radical; everything below is treated as an alphabetic name


def mask_name(name: str) -> str:
    """张三 -> 张*, 张小三 -> 张*三, 欧阳小明 -> 欧**明, ZHANG SAN -> Z***."""
    name = name.strip()
    if not name:
        return ""
    if all(ord(ch) < _CJK_START for ch in name):
        # Alphabetic names: the length and the last letter would help re-identify the holder.
        return name[0] + "***"
    if len(name) == 1:
        return "*"
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def mask_id(id_number: str) -> str:
    """Keep the first 3 and last 4 characters: 110101198001011234 -> 110***********1234.

    Short strings keep only their last character (or nothing), so the clear part stays a minority.
    """
    value = id_number.strip()
    n = len(value)
    if n >= 8:
        return value[:3] + "*" * (n - 7) + value[-4:]
    if n >= 4:
        return "*" * (n - 1) + value[-1]
    return "*" * n
