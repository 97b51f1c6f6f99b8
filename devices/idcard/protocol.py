"""GA/T 467 SAM_A serial frames (二代身份证阅读器).

request : AA AA AA 96 69 | LEN_H LEN_L | CMD PARA | DATA... | CHK
response: AA AA AA 96 69 | LEN_H LEN_L | SW1 SW2 SW3 | DATA... | CHK
LEN counts the bytes after the two length bytes (CHK included); CHK is the XOR of LEN_H up to the last
data byte. See /work/shared/reference/protocols.md section 1.
"""

from __future__ import annotations

import functools
import logging
import operator
import threading
import time
from dataclasses import dataclass
from typing import NamedTuple, Protocol

from devices.errors import CardReadError, DeviceError, DeviceTimeout, DeviceUnavailable, ProtocolError

log = logging.getLogger(__name__)

PREAMBLE = bytes.fromhex("AAAAAA9669")
HEADER_LEN = 7  # preamble + two length bytes
# The largest real reply (text + photo + 1024 B fingerprint) has LEN 0x090A; anything far above that
# means we locked onto noise that happened to contain a preamble.
MAX_LEN = 4096
# Noise we are willing to skip while looking for a preamble before calling the stream broken.
MAX_RESYNC_BYTES = 4096
_MIN_REQUEST_LEN = 3  # CMD PARA CHK
_MIN_RESPONSE_LEN = 4  # SW1 SW2 SW3 CHK


class Command(NamedTuple):
    """CMD and PARA bytes; ``build_frame(*FIND)`` builds the request."""

    cmd: int
    para: int


RESET = Command(0x10, 0xFF)  # 复位 SAM_A
SAM_STATUS = Command(0x11, 0xFF)  # 状态检测, expect SW3 0x90
SAM_ID = Command(0x12, 0xFF)  # 读 SAM 编号
FIND = Command(0x20, 0x01)  # 寻卡, 0x9F = card in field, 0x80 = none
SELECT = Command(0x20, 0x02)  # 选卡
READ_BASE = Command(0x30, 0x01)  # text + photo
READ_APPENDED = Command(0x30, 0x03)  # 最新追加住址 (reply layout unconfirmed, unused by the driver)
READ_FINGER = Command(0x30, 0x10)  # text + photo + fingerprint

COMMAND_NAMES: dict[Command, str] = {
    RESET: "reset",
    SAM_STATUS: "sam_status",
    SAM_ID: "sam_id",
    FIND: "find",
    SELECT: "select",
    READ_BASE: "read_base",
    READ_APPENDED: "read_appended",
    READ_FINGER: "read_finger",
}

SW3_OK = 0x90
SW3_CARD_FOUND = 0x9F
SW3_NO_CARD = 0x80
SW3_SELECT_FAILED = 0x81
SW3_READ_FAILED = 0x41
SW3_BAD_CHECKSUM = 0x10
SW3_BAD_LENGTH = 0x11
SW3_UNRECOGNISED = 0x24
SW3_SAM_SELF_TEST_FAILED = 0x60


@dataclass(frozen=True)
class Sw3Status:
    """One SW3 value: ``code`` for logs, ``error`` the class to raise (``None``: not a failure)."""

    code: str
    meaning: str
    error: type[DeviceError] | None
    error_code: str = ""  # code of the raised error when it differs from ``code``


# From libzhouyb ISdtApi.h (notes §1.5). 0x01..0x05 are sdtapi return values, never seen on the wire,
# but listed so logs from vendor-SDK paths decode the same way.
SW3_TABLE: dict[int, Sw3Status] = {
    0x90: Sw3Status("ok", "success", None),
    0x9F: Sw3Status("card_found", "find card succeeded", None),
    0x80: Sw3Status("no_card", "no card in the field", None),
    0x81: Sw3Status("select_failed", "select card failed", CardReadError),
    0x91: Sw3Status("no_content", "no content for this item", CardReadError),
    0x41: Sw3Status("card_moved", "read failed, card moved away or weak RF", CardReadError),
    0x40: Sw3Status("unknown_card_type", "unrecognised card type", CardReadError),
    0x31: Sw3Status("card_auth_failed", "card-to-SAM authentication failed", CardReadError),
    0x32: Sw3Status("sam_auth_failed", "SAM-to-card authentication failed", CardReadError),
    0x33: Sw3Status("verify_failed", "information verification failed", CardReadError),
    0x47: Sw3Status("random_failed", "get random number failed", CardReadError),
    0x10: Sw3Status("bad_checksum", "reader received a bad checksum", ProtocolError),
    0x11: Sw3Status("bad_length", "reader received a bad length", ProtocolError),
    0x21: Sw3Status("bad_baud", "bad baud-rate parameter", DeviceError),
    0x23: Sw3Status("unauthorised", "unauthorised operation", DeviceError),
    0x24: Sw3Status("unrecognised", "unrecognised command or error", DeviceError),
    0x60: Sw3Status("sam_self_test_failed", "SAM_A self-test failed", DeviceError, "sam_failed"),
    0x66: Sw3Status("sam_not_authorised", "SAM_A not authorised", DeviceError, "sam_failed"),
    0x01: Sw3Status("port_error", "port error (API level)", DeviceUnavailable),
    0x02: Sw3Status("timeout", "timeout (API level)", DeviceTimeout),
    0x03: Sw3Status("transmit_error", "transmit error (API level)", DeviceError),
    0x05: Sw3Status("samv_baud_unknown", "SAM_V baud rate unknown (API level)", DeviceError),
}


def describe_sw3(sw3: int) -> Sw3Status:
    return SW3_TABLE.get(sw3) or Sw3Status(f"sw3_{sw3:02x}", "undocumented status", DeviceError)


def error_for_sw3(sw3: int, during: str = "") -> DeviceError | None:
    """The error an SW3 stands for, or ``None`` for success and the idle "no card" answer."""
    status = describe_sw3(sw3)
    if status.error is None:
        return None
    where = f" during {during}" if during else ""
    detail = f"{status.meaning} (SW3=0x{sw3:02X}{where})"
    return status.error(detail, code=status.error_code or status.code)


def checksum(data: bytes) -> int:
    return functools.reduce(operator.xor, data, 0)


def _frame(head: bytes, data: bytes) -> bytes:
    length = len(head) + len(data) + 1
    if length > 0xFFFF:
        raise ValueError(f"frame too long: {length}")
    body = length.to_bytes(2, "big") + head + data
    return PREAMBLE + body + bytes((checksum(body),))


def build_frame(cmd: int, para: int, data: bytes = b"") -> bytes:
    """A host-to-reader request frame."""
    return _frame(bytes((cmd, para)), data)


def build_response(sw3: int, payload: bytes = b"", sw1: int = 0, sw2: int = 0) -> bytes:
    """A reader-to-host reply frame (used by the emulator and tests)."""
    return _frame(bytes((sw1, sw2, sw3)), payload)


@dataclass(frozen=True, repr=False)
class Response:
    sw1: int
    sw2: int
    sw3: int
    payload: bytes

    def __repr__(self) -> str:
        # The payload of a read reply holds the holder's name and ID number: never print it.
        return (
            f"Response(sw1=0x{self.sw1:02X}, sw2=0x{self.sw2:02X}, sw3=0x{self.sw3:02X}, "
            f"payload={len(self.payload)} bytes)"
        )


class ReadablePort(Protocol):
    """What ``read_frame`` needs: pyserial's ``read`` (returns fewer bytes on its own timeout)."""

    def read(self, size: int = 1) -> bytes: ...


class _DeadlineReader:
    """Exact-size reads that fail with ``DeviceTimeout`` when no byte arrives for ``timeout_s``."""

    def __init__(self, port: ReadablePort, timeout_s: float, abort: threading.Event | None) -> None:
        self._port = port
        self._timeout_s = timeout_s
        self._abort = abort
        self.total = 0

    def read(self, size: int) -> bytes:
        out = bytearray()
        deadline = time.monotonic() + self._timeout_s
        while len(out) < size:
            if self._abort is not None and self._abort.is_set():
                raise DeviceTimeout("read aborted")
            chunk = self._port.read(size - len(out))
            if chunk:
                out += chunk
                self.total += len(chunk)
                # Inactivity, not total time: USB-CDC hands over a long reply in bursts.
                deadline = time.monotonic() + self._timeout_s
                continue
            if time.monotonic() >= deadline:
                raise DeviceTimeout(f"no data for {self._timeout_s:.1f}s after {self.total} bytes")
            time.sleep(0.002)  # only matters for ports opened with timeout=0
        return bytes(out)


def _resync_offset(buf: bytes) -> int:
    """How many leading bytes to drop so ``buf`` could still be the start of a preamble.

    Offset 0 counts: a buffer that is itself a preamble prefix (a read ended inside the
    preamble) must be kept whole, or the frame it starts is lost.
    """
    for i in range(len(buf)):
        if PREAMBLE.startswith(buf[i : i + len(PREAMBLE)]):
            return i
    return len(buf)


def _read_body(port: ReadablePort, timeout_s: float, min_len: int, abort: threading.Event | None) -> bytes:
    """LEN_H..CHK of the next valid frame."""
    reader = _DeadlineReader(port, timeout_s, abort)
    head = reader.read(HEADER_LEN)
    skipped = 0
    while head[: len(PREAMBLE)] != PREAMBLE:
        drop = _resync_offset(head)
        skipped += drop
        if skipped > MAX_RESYNC_BYTES:
            raise ProtocolError(f"no frame preamble in {skipped} bytes")
        head = head[drop:] + reader.read(drop)
    if skipped:
        log.debug("skipped %d noise bytes before a frame", skipped)
    length = int.from_bytes(head[5:7], "big")
    if not min_len <= length <= MAX_LEN:
        raise ProtocolError(f"bad frame length {length}")
    rest = reader.read(length)
    if checksum(head[5:7] + rest[:-1]) != rest[-1]:
        raise ProtocolError(f"bad frame checksum (LEN={length})")
    return head[5:7] + rest


def read_frame(port: ReadablePort, timeout_s: float, *, abort: threading.Event | None = None) -> Response:
    """Read one reply frame; ``ProtocolError`` on a bad frame, ``DeviceTimeout`` when bytes stop.

    ``abort`` lets a stopping driver leave the read without waiting for the timeout.
    """
    body = _read_body(port, timeout_s, _MIN_RESPONSE_LEN, abort)
    return Response(body[2], body[3], body[4], body[5:-1])


def parse_request(frame: bytes) -> tuple[Command, bytes]:
    """Split a complete request frame into its command and data (for the emulator)."""
    if len(frame) < HEADER_LEN + _MIN_REQUEST_LEN or frame[: len(PREAMBLE)] != PREAMBLE:
        raise ProtocolError("not a request frame")
    length = int.from_bytes(frame[5:7], "big")
    if length != len(frame) - HEADER_LEN or length < _MIN_REQUEST_LEN:
        raise ProtocolError(f"bad request length {length}")
    if checksum(frame[5:-1]) != frame[-1]:
        raise ProtocolError("bad request checksum")
    return Command(frame[7], frame[8]), bytes(frame[9:-1])


class FrameAssembler:
    """Cuts a byte stream into frames (preamble through CHK), dropping noise; checksums are not checked."""

    def __init__(self) -> None:
        self._buf = bytearray()

    def feed(self, data: bytes) -> list[bytes]:
        self._buf += data
        frames: list[bytes] = []
        while True:
            start = self._buf.find(PREAMBLE)
            if start < 0:
                # Keep a tail that may be the first bytes of a preamble split across reads.
                del self._buf[: _resync_offset(bytes(self._buf))]
                return frames
            del self._buf[:start]
            if len(self._buf) < HEADER_LEN:
                return frames
            length = int.from_bytes(self._buf[5:7], "big")
            if not _MIN_REQUEST_LEN <= length <= MAX_LEN:
                del self._buf[:1]  # a false preamble: look for the next one
                continue
            if len(self._buf) < HEADER_LEN + length:
                return frames
            frames.append(bytes(self._buf[: HEADER_LEN + length]))
            del self._buf[: HEADER_LEN + length]
