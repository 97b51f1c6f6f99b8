"""The read sequence of a social-security card over any transmit function (PC/SC, a test fake).

SELECT SSSE -> SELECT EF05 -> READ RECORD 01..07 -> SELECT EF06 -> READ RECORD 08..0D, plain read,
no PIN. The READ RECORD convention is found on the first record the card answers, then kept.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from devices.errors import CardReadError
from devices.sscard import apdu
from devices.sscard.errors import MalformedRecord
from devices.sscard.records import (
    EF05_FIELDS,
    EF06_FIELDS,
    Convention,
    FieldSpec,
    InsuranceCardData,
    card_from_records,
    parse_record,
    read_record_apdu,
)

# Answers that mean "not like this" rather than "no": try the other form of the command.
_TRY_OTHER_FORM = frozenset({apdu.SW_RECORD_NOT_FOUND, apdu.SW_WRONG_P1P2, apdu.SW_WRONG_P1P2_OLD, 0x6A81, 0x6D00})


def deadline_send(send: apdu.Send, deadline: float | None, clock: Callable[[], float] = time.monotonic) -> apdu.Send:
    """``send`` that refuses to start an exchange after ``deadline`` (a stuck card cannot hold the kiosk)."""
    if deadline is None:
        return send

    def timed(command: bytes) -> bytes:
        if clock() > deadline:
            raise CardReadError("card answers too slowly", code="card_read_timeout")
        return send(command)

    return timed


def select_ssse(send: apdu.Send) -> apdu.Response:
    """Select the SSSE application; ``NotSocialSecurityCard`` on 6A82."""
    return apdu.check(apdu.transmit(send, apdu.select_aid()), "select SSSE", selecting_ssse=True)


class _Session:
    def __init__(self, send: apdu.Send) -> None:
        self._send = send
        self.convention: Convention | None = None

    def select_ef(self, fid: int) -> None:
        resp = apdu.transmit(self._send, apdu.select_fid(fid))
        if resp.sw in (apdu.SW_WRONG_P1P2, apdu.SW_WRONG_P1P2_OLD):
            resp = apdu.transmit(self._send, apdu.select_fid(fid, apdu.SELECT_ANY))
        apdu.check(resp, f"select {fid:04X}")

    def read(self, spec: FieldSpec) -> bytes | None:
        """The record bytes for ``spec``, ``None`` if the card does not have it."""
        forms = [self.convention] if self.convention else [Convention.RECORD_NUMBER, Convention.RECORD_ID]
        for i, form in enumerate(forms):
            last = i == len(forms) - 1
            resp = apdu.transmit(self._send, read_record_apdu(spec, form))
            if resp.ok:
                try:
                    parse_record(resp.data, spec.tag)
                except MalformedRecord:
                    # Numbered differently than expected: the other convention may name it right.
                    if last:
                        raise
                    continue
                self.convention = form
                return resp.data
            if resp.sw in _TRY_OTHER_FORM:
                continue
            apdu.check(resp, f"read record {spec.tag:02X}")
        return None


def read_card(send: apdu.Send, *, deadline: float | None = None) -> InsuranceCardData:
    """Read a card in the reader; every failure is a ``CardReadError`` (or one of its keyed subclasses)."""
    send = deadline_send(send, deadline)
    select_ssse(send)
    session = _Session(send)
    records: dict[int, bytes] = {}
    for fid, specs in ((apdu.EF05, EF05_FIELDS), (apdu.EF06, EF06_FIELDS)):
        session.select_ef(fid)
        for spec in specs:
            data = session.read(spec)
            if data is not None:
                records[spec.tag] = data
    return card_from_records(records)
