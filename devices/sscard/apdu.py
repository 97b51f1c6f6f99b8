"""ISO 7816-4 command APDUs for the SSSE application, and a transmit helper for T=0 cards.

pyscard hands back exactly what the card said. T=0 cards answer a case-2/4 command with ``61xx``
("xx bytes are waiting, fetch them with GET RESPONSE") or ``6Cxx`` ("wrong Le, the exact length is
xx"); :func:`transmit` does both so callers see one ``Response`` with the data and the final SW.

Nothing here ever builds a VERIFY (INS 20): a kiosk that guesses PINs blocks the patient's card.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from devices.errors import CardReadError, DeviceError
from devices.sscard.errors import CardPinBlocked, NotSocialSecurityCard

# One raw exchange: command APDU bytes in, response APDU bytes (data + SW1 SW2) out.
Send = Callable[[bytes], bytes]

SSSE_AID = "sx1.sh.社会保障".encode("gbk")  # 73 78 31 2E 73 68 2E C9 E7 BB E1 B1 A3 D5 CF
MF = 0x3F00
EF05 = 0xEF05
EF06 = 0xEF06

INS_SELECT = 0xA4
INS_READ_RECORD = 0xB2
INS_GET_RESPONSE = 0xC0
INS_VERIFY = 0x20  # named only so the emulator and tests can check it is never sent

SELECT_BY_AID = 0x04
SELECT_BY_FID = 0x02  # "EF under the current DF"; some readers' code uses 0x00 ("any file id")
SELECT_ANY = 0x00

SW_OK = 0x9000
SW_NOT_FOUND = 0x6A82
SW_RECORD_NOT_FOUND = 0x6A83
SW_WRONG_P1P2 = 0x6A86
SW_WRONG_P1P2_OLD = 0x6B00
SW_PIN_BLOCKED = 0x6983
SW_SECURITY = 0x6982

# A card that keeps answering 61xx would otherwise keep us here forever.
MAX_GET_RESPONSE_ROUNDS = 32

SW_TABLE: dict[int, str] = {
    0x9000: "success",
    0x6281: "part of the returned data may be corrupted",
    0x6282: "end of file or record reached before Le bytes",
    0x6283: "selected file invalidated",
    0x6581: "memory failure",
    0x6700: "wrong length",
    0x6881: "logical channel not supported",
    0x6882: "secure messaging not supported",
    0x6981: "command incompatible with the file structure",
    0x6982: "security status not satisfied (PIN or authentication needed)",
    0x6983: "authentication method blocked (PIN blocked)",
    0x6984: "referenced data invalidated",
    0x6985: "conditions of use not satisfied",
    0x6986: "command not allowed (no current EF)",
    0x6A80: "incorrect parameters in the data field",
    0x6A81: "function not supported",
    0x6A82: "file or application not found (at the SSSE select: not a social-security card)",
    0x6A83: "record not found",
    0x6A86: "incorrect parameters P1-P2",
    0x6A88: "referenced data not found",
    0x6B00: "wrong parameters P1-P2",
    0x6D00: "instruction not supported",
    0x6E00: "class not supported",
    0x6F00: "no precise diagnosis",
}


@dataclass(frozen=True)
class Response:
    data: bytes
    sw: int

    @property
    def sw1(self) -> int:
        return self.sw >> 8

    @property
    def sw2(self) -> int:
        return self.sw & 0xFF

    @property
    def ok(self) -> bool:
        return self.sw == SW_OK


def describe_sw(sw: int) -> str:
    """A technician's description of a status word (for logs and self-test details)."""
    sw1, sw2 = sw >> 8, sw & 0xFF
    if sw in SW_TABLE:
        return SW_TABLE[sw]
    if sw1 == 0x61:
        return f"{sw2 or 256} more bytes available (GET RESPONSE)"
    if sw1 == 0x6C:
        return f"wrong Le, exact length is {sw2 or 256}"
    if sw1 == 0x63 and sw2 & 0xF0 == 0xC0:
        return f"verification failed, {sw2 & 0x0F} tries left"
    return "unknown status"


def error_for_sw(sw: int, what: str, *, selecting_ssse: bool = False) -> DeviceError | None:
    """The keyed error for a final status word, ``None`` for 9000."""
    if sw == SW_OK:
        return None
    detail = f"{what}: SW {sw:04X} {describe_sw(sw)}"
    if sw == SW_NOT_FOUND and selecting_ssse:
        return NotSocialSecurityCard(detail)
    if sw == SW_PIN_BLOCKED:
        return CardPinBlocked(detail, attempts_left=0)
    if sw >> 8 == 0x63 and sw & 0xF0 == 0xC0:
        left = sw & 0x0F
        return CardPinBlocked(detail, attempts_left=left, code=None if left == 0 else "card_pin_attempts_left")
    if sw == SW_SECURITY:
        return CardPinBlocked(detail, attempts_left=None, code="card_security_not_satisfied")
    return CardReadError(detail, code="card_rejected_command")


def check(resp: Response, what: str, *, selecting_ssse: bool = False) -> Response:
    err = error_for_sw(resp.sw, what, selecting_ssse=selecting_ssse)
    if err is not None:
        raise err
    return resp


# ---- Building commands


def command(cla: int, ins: int, p1: int, p2: int, data: bytes = b"", le: int | None = None) -> bytes:
    """A short APDU; ``le=0`` means "up to 256 bytes", ``None`` means no Le field."""
    if len(data) > 255:
        raise ValueError("short APDUs carry at most 255 data bytes")
    if le is not None and not 0 <= le <= 256:
        raise ValueError(f"Le out of range: {le}")
    apdu = bytes((cla, ins, p1, p2))
    if data:
        apdu += bytes((len(data),)) + data
    if le is not None:
        apdu += bytes((le & 0xFF,))
    return apdu


def select_aid(aid: bytes = SSSE_AID) -> bytes:
    # No Le: T=0 cards answer 61xx for the FCI, which transmit() fetches; that is what cards expect.
    return command(0x00, INS_SELECT, SELECT_BY_AID, 0x00, aid)


def select_fid(fid: int, p1: int = SELECT_BY_FID) -> bytes:
    return command(0x00, INS_SELECT, p1, 0x00, fid.to_bytes(2, "big"))


def read_record(p1: int, p2: int, le: int) -> bytes:
    return command(0x00, INS_READ_RECORD, p1, p2, le=le)


def get_response(le: int) -> bytes:
    return command(0x00, INS_GET_RESPONSE, 0x00, 0x00, le=le)


def with_le(apdu: bytes, le: int) -> bytes:
    """The same command with its Le set to ``le`` (for a 6Cxx retry); works for all four cases."""
    if len(apdu) < 4:
        raise ValueError("an APDU has at least 4 header bytes")
    if len(apdu) == 4:  # case 1: no Lc, no Le
        return apdu + bytes((le & 0xFF,))
    if len(apdu) == 5:  # case 2: header + Le
        return apdu[:4] + bytes((le & 0xFF,))
    lc = apdu[4]
    body = apdu[: 5 + lc]  # header, Lc, data: drop any old Le
    return body + bytes((le & 0xFF,))


# ---- Exchanging


def split(raw: bytes) -> Response:
    if not raw:
        # What a reader hands back when the card went away inside the exchange (vpcd does so too).
        raise CardReadError("card gave no answer (pulled out?)", code="card_removed")
    if len(raw) < 2:
        raise CardReadError(f"response of {len(raw)} bytes has no status word", code="apdu_malformed_response")
    return Response(bytes(raw[:-2]), int.from_bytes(raw[-2:], "big"))


def _exchange(send: Send, apdu: bytes) -> Response:
    resp = split(send(apdu))
    if resp.sw1 == 0x6C:
        # Only once: a card that keeps asking for another Le is broken, and its SW says so.
        resp = split(send(with_le(apdu, resp.sw2)))
    return resp


def transmit(send: Send, apdu: bytes) -> Response:
    """Send ``apdu``; follow 6Cxx (resend with the exact Le) and 61xx (GET RESPONSE) to the end."""
    resp = _exchange(send, apdu)
    data = bytearray(resp.data)
    rounds = 0
    while resp.sw1 == 0x61:
        rounds += 1
        if rounds > MAX_GET_RESPONSE_ROUNDS:
            raise CardReadError("card keeps answering 61xx", code="apdu_get_response_loop")
        resp = _exchange(send, get_response(resp.sw2))
        data += resp.data
    return Response(bytes(data), resp.sw)
