"""A virtual social-security card behind the vsmartcard ``vpcd`` reader driver, for development and tests.

pcscd loads ``libifdvpcd.so`` (Debian package ``vsmartcard-vpcd``), which listens on a TCP port per
virtual slot (35963 for "Virtual PCD 00 00" by default, see ``/etc/reader.conf.d/vpcd``). A client
connecting there *is* a card inserted in that slot; closing the connection is pulling it out. The
driver therefore talks to this emulator through the real pcscd and the real pyscard, exactly as it
talks to a real reader.

The vpcd protocol: every message is a 2-byte big-endian length and a payload. One-byte payloads are
control messages (00 power off, 01 power on, 02 reset, 04 "send your ATR"); anything longer is a
command APDU, answered with the response APDU (data + SW1 SW2). vpcd asks for the ATR on each of
pcscd's presence polls, so answering it promptly is what keeps the card "in".

Only 127.0.0.1 is used. The Python virtual card shipped by Debian (vpicc) is not used: it is broken there.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import struct
import threading
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from devices.emulators.pcsc_service import read_vpcd_config
from devices.idcard.masking import mask_id
from devices.idcard.parser import id_check_digit
from devices.sscard import apdu as a
from devices.sscard.records import Convention, InsuranceCardData, encode_records

log = logging.getLogger(__name__)

HOST = "127.0.0.1"
DEFAULT_PORT = 35963  # 0x8C7B, vpcd's first slot
# TS=3B, T0=6B: TB1 and TC1 follow, 11 historical bytes, no TD1 -> T=0 only, like the real cards.
DEFAULT_ATR = bytes.fromhex("3B6B0000") + b"KIOSK-SSCRD"

CTRL_OFF, CTRL_ON, CTRL_RESET, CTRL_ATR = 0x00, 0x01, 0x02, 0x04

# Faults last for one insertion: inject before insert(), they are cleared when the card is removed.
FAULTS = ("not_social_security", "pin_blocked", "pin_attempts_left", "pull_mid_read", "slow")

SSSE_DF = 0xDDF1
_FCI_TAG = 0x6F
_DF_NAME_TAG = 0x84


def _sw(sw: int) -> bytes:
    return sw.to_bytes(2, "big")


@dataclass(frozen=True)
class Command:
    cla: int
    ins: int
    p1: int
    p2: int
    data: bytes
    le: int | None  # 256 for Le=00


def parse_command(raw: bytes) -> Command | None:
    """Split a short command APDU into its cases 1-4; None if the lengths do not add up."""
    if len(raw) < 4:
        return None
    cla, ins, p1, p2 = raw[:4]
    if len(raw) == 4:
        return Command(cla, ins, p1, p2, b"", None)
    if len(raw) == 5:
        return Command(cla, ins, p1, p2, b"", raw[4] or 256)
    lc = raw[4]
    if lc == 0 or len(raw) not in (5 + lc, 6 + lc):
        return None
    le = (raw[5 + lc] or 256) if len(raw) == 6 + lc else None
    return Command(cla, ins, p1, p2, bytes(raw[5 : 5 + lc]), le)


class SsseCard:
    """The card's file system and command logic, without any transport (pure tests use ``answer``).

    ``t0=True`` behaves like a T=0 card: SELECT answers 61xx and READ RECORD with a wrong Le answers
    6Cxx. ``conventions`` limits the READ RECORD forms the card accepts.
    """

    def __init__(
        self,
        card: InsuranceCardData,
        *,
        t0: bool = True,
        conventions: Iterable[Convention] = (Convention.RECORD_NUMBER, Convention.RECORD_ID),
        name_length: int = 30,
        faults: Iterable[str] = (),
    ) -> None:
        self.t0 = t0
        self.conventions = frozenset(conventions)
        self.faults = set(faults)
        self.records = encode_records(card, name_length=name_length)
        self.commands: Counter[int] = Counter()  # INS -> times received, for pure tests
        self._df: int | None = None  # None = MF, else the selected DF (only SSSE exists)
        self._ef: int | None = None
        self._pending = b""  # FCI waiting for GET RESPONSE

    def reset(self) -> None:
        self._df = self._ef = None
        self._pending = b""

    def answer(self, raw: bytes) -> bytes | None:
        """The response APDU for ``raw``; None means "the card was pulled out right now"."""
        cmd = parse_command(raw)
        if cmd is None:
            return _sw(0x6700)
        self.commands[cmd.ins] += 1
        if cmd.cla != 0x00:
            return _sw(0x6E00)
        pending, self._pending = self._pending, b""  # GET RESPONSE must follow at once
        if cmd.ins == a.INS_SELECT:
            return self._select(cmd)
        if cmd.ins == a.INS_READ_RECORD:
            return self._read_record(cmd)
        if cmd.ins == a.INS_GET_RESPONSE:
            return self._get_response(cmd, pending)
        if cmd.ins == a.INS_VERIFY:
            return _sw(0x6985)  # counted, so tests can show the driver never sends one
        return _sw(0x6D00)

    def _select(self, cmd: Command) -> bytes:
        if cmd.p1 == a.SELECT_BY_AID:
            if cmd.data != a.SSSE_AID or "not_social_security" in self.faults:
                return _sw(a.SW_NOT_FOUND)
            self._df, self._ef = SSSE_DF, None
            fci = bytes((_FCI_TAG, len(a.SSSE_AID) + 2, _DF_NAME_TAG, len(a.SSSE_AID))) + a.SSSE_AID
            if self.t0:
                self._pending = fci
                return _sw(0x6100 | len(fci))
            return fci + _sw(a.SW_OK) if cmd.le is not None else _sw(a.SW_OK)
        if cmd.p1 not in (a.SELECT_BY_FID, a.SELECT_ANY) or len(cmd.data) != 2:
            return _sw(a.SW_WRONG_P1P2)
        fid = int.from_bytes(cmd.data, "big")
        if fid == a.MF:
            self._df = self._ef = None
            return _sw(a.SW_OK)
        if self._df is None or fid not in (a.EF05, a.EF06):
            return _sw(a.SW_NOT_FOUND)
        self._ef = fid
        return _sw(a.SW_OK)

    def _read_record(self, cmd: Command) -> bytes | None:
        sfi, mode = cmd.p2 >> 3, cmd.p2 & 0x07
        form = {0x04: Convention.RECORD_NUMBER, 0x00: Convention.RECORD_ID}.get(mode)
        if form is None or form not in self.conventions:
            return _sw(a.SW_WRONG_P1P2)
        if self._df is None:
            return _sw(a.SW_NOT_FOUND)
        ef = {5: a.EF05, 6: a.EF06}.get(sfi) if sfi else self._ef
        if ef is None:
            return _sw(0x6986 if not sfi else a.SW_NOT_FOUND)
        if ef == a.EF06:
            if "pull_mid_read" in self.faults:
                return None
            if "pin_blocked" in self.faults:
                return _sw(a.SW_PIN_BLOCKED)
            if "pin_attempts_left" in self.faults:
                return _sw(0x63C2)
        if form is Convention.RECORD_NUMBER:
            tag = cmd.p1 if ef == a.EF05 else cmd.p1 + 0x07
            in_ef = 1 <= cmd.p1 <= (7 if ef == a.EF05 else 6)
        else:
            tag = cmd.p1
            in_ef = (0x01 <= tag <= 0x07) if ef == a.EF05 else (0x08 <= tag <= 0x0D)
        record = self.records.get(tag) if in_ef else None
        if record is None:
            return _sw(a.SW_RECORD_NOT_FOUND)
        return self._with_le(record, cmd.le)

    def _get_response(self, cmd: Command, pending: bytes) -> bytes:
        if not pending:
            return _sw(0x6985)
        le = cmd.le or 256
        if le < len(pending):
            self._pending = pending[le:]
            return pending[:le] + _sw(0x6100 | min(len(self._pending), 0xFF))
        if self.t0 and le != len(pending):
            self._pending = pending  # still there for the GET RESPONSE with the right Le
        return self._with_le(pending, cmd.le)

    def _with_le(self, data: bytes, le: int | None) -> bytes:
        if self.t0 and le != len(data):
            return _sw(0x6C00 | len(data))
        return data[: le or len(data)] + _sw(a.SW_OK)


class VirtualSsCard:
    """A vpcd client holding a virtual social-security card: ``insert()`` connects, ``remove()`` hangs up."""

    def __init__(
        self,
        *,
        port: int | None = None,
        atr: bytes = DEFAULT_ATR,
        t0: bool = True,
        conventions: Iterable[Convention] = (Convention.RECORD_NUMBER, Convention.RECORD_ID),
        name_length: int = 30,
        slow_s: float = 0.3,
    ) -> None:
        if port is None:
            config = read_vpcd_config()
            port = config.port if config is not None else DEFAULT_PORT
        self.port = port
        self.atr = atr
        self.t0 = t0
        self.conventions = tuple(conventions)
        self.name_length = name_length
        self.slow_s = slow_s
        self._lock = threading.Condition()
        self._faults: set[str] = set()
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._hangup = threading.Event()
        self._commands: Counter[int] = Counter()
        self._started = False

    # -- control -----------------------------------------------------------------------------------

    def start(self) -> None:
        """Ready to take cards; nothing is inserted yet (the reader slot stays empty)."""
        self._started = True

    def stop(self) -> None:
        self.remove()
        self._started = False

    def insert(self, card_data: InsuranceCardData) -> None:
        """Connect to vpcd: pcscd sees a card at its next presence poll. ``OSError`` if vpcd is not there."""
        if not self._started:
            raise RuntimeError("VirtualSsCard not started")
        self._hang_up()  # a card still in is taken out first; armed faults stay armed
        with self._lock:
            card = SsseCard(
                card_data,
                t0=self.t0,
                conventions=self.conventions,
                name_length=self.name_length,
                faults=self._faults,
            )
        sock = socket.create_connection((HOST, self.port), timeout=5.0)
        sock.settimeout(None)  # remove() wakes the blocked recv by shutting the socket down
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._hangup.clear()
        with self._lock:
            self._sock = sock
        self._thread = threading.Thread(target=self._serve, args=(sock, card), name="vpcd-card", daemon=True)
        self._thread.start()
        log.debug("virtual card %s inserted on port %d", mask_id(card_data.card_number), self.port)

    def remove(self) -> None:
        """Hang up: pcscd sees the card gone at its next presence poll. Clears the faults."""
        self._hang_up()
        with self._lock:
            self._faults.clear()

    def _hang_up(self) -> None:
        self._hangup.set()
        with self._lock:
            sock, self._sock = self._sock, None
        if sock is not None:
            self._close(sock)
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(5.0)

    def inject(self, fault: str) -> None:
        """Arm a fault for the next inserted card (or the one in now) until it is removed."""
        if fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}, expected one of {FAULTS}")
        with self._lock:
            self._faults.add(fault)

    @property
    def inserted(self) -> bool:
        with self._lock:
            return self._sock is not None

    def count(self, ins: int) -> int:
        """How many command APDUs with this INS the card received since start."""
        with self._lock:
            return self._commands[ins]

    def wait_removed(self, timeout_s: float = 5.0) -> bool:
        """Block until the connection is gone (after a pull fault or pcscd hanging up)."""
        with self._lock:
            return self._lock.wait_for(lambda: self._sock is None, timeout_s)

    # -- connection thread -------------------------------------------------------------------------

    def _serve(self, sock: socket.socket, card: SsseCard) -> None:
        try:
            while not self._hangup.is_set():
                payload = self._recv_message(sock)
                if payload is None:
                    break  # vpcd hung up (pcscd stopped) or remove() shut the socket
                reply, pulled = self._handle(payload, card)
                if pulled:
                    log.debug("virtual card pulled mid-read")
                    break
                if reply is not None:
                    sock.sendall(struct.pack(">H", len(reply)) + reply)
        except OSError:
            pass  # the socket went away under us: the card is out
        finally:
            with self._lock:
                if self._sock is sock:
                    self._sock = None
                    self._faults.clear()
                self._lock.notify_all()
            self._close(sock)

    def _handle(self, payload: bytes, card: SsseCard) -> tuple[bytes | None, bool]:
        """(reply or None for no reply, True if the card is pulled out now)."""
        if len(payload) == 1:
            ctrl = payload[0]
            if ctrl == CTRL_ATR:
                return self.atr, False
            if ctrl in (CTRL_OFF, CTRL_RESET):
                card.reset()
            return None, False  # power on/off and reset have no answer
        with self._lock:
            card.faults = set(self._faults)  # faults injected after insert() apply too
            if len(payload) >= 4:
                self._commands[payload[1]] += 1
        if "slow" in card.faults and self._hangup.wait(self.slow_s):
            return None, False
        reply = card.answer(payload)
        return reply, reply is None

    @staticmethod
    def _recv_message(sock: socket.socket) -> bytes | None:
        header = _recv_exact(sock, 2)
        if header is None:
            return None
        (length,) = struct.unpack(">H", header)
        return _recv_exact(sock, length) if length else b""

    @staticmethod
    def _close(sock: socket.socket) -> None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(OSError):
            sock.close()


def _recv_exact(sock: socket.socket, n: int) -> bytes | None:
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return bytes(buf)


def _resident_id(first17: str) -> str:
    return first17 + id_check_digit(first17)


def sample_cards() -> dict[str, InsuranceCardData]:
    """Fictitious demo cards: plausible data, valid ID check digits, same people as the ID-card samples."""
    return {
        "zhangsan": InsuranceCardData(
            card_number="A12345678",
            name="张三",
            id_number=_resident_id("11010119800101001"),
            sex="1",
            nation="01",
            birth="19800101",
            birth_place="110101",
            issue_date="20200315",
            expiry_date="20300315",
            card_id="110100D15600000599110145FFFFFFFF",
            card_type="1",
            card_version="3.00",
            issuer_org="110100000000000000000000",
        ),
        "elder": InsuranceCardData(
            card_number="B87654321",
            name="王秀英",
            id_number=_resident_id("31010119480315002"),
            sex="2",
            nation="01",
            birth="19480315",
            birth_place="310101",
            issue_date="20121001",
            expiry_date="20221001",
            card_id="310000D15600000500000001FFFFFFFF",
            card_type="1",
            card_version="2.00",
            issuer_org="310000000000000000000000",
        ),
        "first_generation": InsuranceCardData(  # an old 1.00 card: fewer records written
            card_number="C00000017",
            name="阿依古丽·买买提",
            id_number=_resident_id("65010219900701002"),
            sex="2",
            nation="05",
            birth="19900701",
            card_version="1.00",
        ),
    }
