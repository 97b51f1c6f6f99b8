"""Visit-card numbers (就诊卡号): printed on the filing slip and encoded in its ``HVC:`` QR code.

A number is a fixed prefix, the patient id zero-padded to nine digits, and a Luhn check digit.
It is derived from the patient id rather than drawn from a counter, so it is unique by
construction, needs no sequence that SQLite and PostgreSQL would spell differently, and can be
recomputed for patients filed before the column existed. The check digit lets a scanner or a
clerk typing the number catch any single wrong digit and most swapped neighbours before asking
the server. It is an identifier, not a secret: anyone holding the slip may read it.
"""

from __future__ import annotations

import re

PREFIX = "80"
_WIDTH = 9  # ids past 999,999,999 grow the number; lengths then differ, so it stays unique
QR_SCHEME = "HVC:"
_VISIT_CARD = re.compile(rf"^{PREFIX}[0-9]{{{_WIDTH},}}$")


def luhn_digit(digits: str) -> str:
    """The Luhn (ISO/IEC 7812-1) check digit to append to ``digits``."""
    total = 0
    # Doubling starts at the rightmost digit, because the check digit will sit to its right.
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 0:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return str(-total % 10)


def visit_card_no(patient_id: int) -> str:
    if patient_id <= 0:
        raise ValueError("patient ids are positive")
    body = f"{PREFIX}{patient_id:0{_WIDTH}d}"
    return body + luhn_digit(body)


def patient_id_of(card_no: str) -> int | None:
    """The patient id a well-formed number stands for, or None (wrong shape or check digit)."""
    if not _VISIT_CARD.fullmatch(card_no[:-1]) or not card_no[-1:].isdigit() or not card_no.isascii():
        return None
    body = card_no[:-1]
    if luhn_digit(body) != card_no[-1]:
        return None
    patient_id = int(body[len(PREFIX) :])
    return patient_id if patient_id > 0 and visit_card_no(patient_id) == card_no else None
