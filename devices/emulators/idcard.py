"""An emulated GA/T 467 ID-card reader on a pseudo-terminal, for development and tests.

The driver opens the pty slave with pyserial exactly as it would open /dev/ttyUSB0; this thread answers
on the master side, replying in 64-byte chunks the way USB-CDC readers deliver the long read reply.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import logging
import os
import random
import select
import shutil
import tempfile
import threading
import time
import tty
from dataclasses import replace

from devices.errors import ProtocolError
from devices.idcard import protocol as p
from devices.idcard.masking import mask_id
from devices.idcard.parser import (
    CARD_FOREIGN_2017,
    CARD_FOREIGN_2023,
    CARD_HK_MO_TW,
    LONG_TERM,
    IdCardData,
    encode_read_reply,
    encode_text,
    id_check_digit,
)
from devices.idcard.photo import MappedPhotoDecoder

log = logging.getLogger(__name__)

FAULTS = ("bad_checksum", "pull_mid_read", "sw3_41", "garbage")
SAM_ID_BYTES = bytes.fromhex("0501000000000000112233440000abcd")  # fictitious 16-byte SAM number
_SELECT_TIMEOUT_S = 0.05
_SEEN_TIMEOUT_S = 3.0  # many poll intervals (0.3 s), even on a loaded machine


class IdCardEmulator:
    """Answers SAM frames on a pty; ``url`` is what the driver should open."""

    def __init__(
        self,
        *,
        chunk_size: int = 64,
        chunk_delay: float = 0.002,
        baud: int = 115200,
        sam_status: int = p.SW3_OK,
        seed: int = 467,
    ) -> None:
        self.chunk_size = chunk_size
        self.chunk_delay = chunk_delay
        self.baud = baud
        self.sam_status = sam_status  # set to 0x60 to emulate a failed SAM self-test
        self._rng = random.Random(seed)
        self._lock = threading.Condition()
        self._card: IdCardData | None = None
        self._present = False
        self._removal_unseen = False  # the card left and no FIND has answered "no card" since
        self._faults: list[str] = []
        # Stands in for the vendor's WLT library: no open decoder exists (devices/idcard/photo.py).
        self.photos = MappedPhotoDecoder()
        self._counts: dict[p.Command, int] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._master = -1
        self._slave = -1
        self._path = ""
        # A stable path (symlink) to the current pty, so unplug/replug looks like the same
        # udev name (/dev/kiosk/idreader) going away and coming back.
        self._link_dir = ""
        self._link = ""

    # -- control -----------------------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None:
            return
        self._master, self._slave = os.openpty()
        # Raw from the start, and the slave kept open by us, so the master never sees EIO or
        # line-discipline rewriting before the driver opens the port.
        tty.setraw(self._slave)
        self._path = os.ttyname(self._slave)
        if not self._link:
            self._link_dir = tempfile.mkdtemp(prefix="idreader-emu-")
            self._link = os.path.join(self._link_dir, "idreader")
        tmp = self._link + ".new"
        os.symlink(self._path, tmp)
        os.replace(tmp, self._link)
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="idcard-emulator", daemon=True)
        self._thread.start()

    def unplug(self) -> None:
        """The cable is pulled: the pty closes and its stable path disappears."""
        self._shutdown()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self._link)

    def replug(self) -> None:
        """The cable is plugged back in: a new pty behind the same stable path."""
        self.start()

    def stop(self) -> None:
        """Stop answering, close the pty and remove the stable path."""
        self._shutdown()
        if self._link_dir:
            shutil.rmtree(self._link_dir, ignore_errors=True)
            self._link_dir = self._link = ""

    def _shutdown(self) -> None:
        self._stop.set()
        with self._lock:  # the driver's session ends with the port: nothing left to be seen
            self._removal_unseen = False
            self._lock.notify_all()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(5.0)
        for fd in (self._master, self._slave):
            if fd >= 0:
                with contextlib.suppress(OSError):  # already closed
                    os.close(fd)
        self._master = self._slave = -1

    @property
    def url(self) -> str:
        if not self._link:
            raise RuntimeError("emulator not started")
        return f"serial://{self._link}?baud={self.baud}"

    def place_card(self, card: IdCardData, photo: bytes | None = None) -> None:
        """Put ``card`` in the field; ``photo`` (JPEG) is what ``self.photos`` decodes its WLT to.

        A card taken away and put back before the polling driver asked once in between is, to
        the driver, a card that never left (it reads a card once per presence, as real readers
        do). No hand is that fast, but a test or a tour is: so this first waits, briefly, for a
        FIND to see the empty field.
        """
        if photo is not None:
            self.photos.register(card.photo_wlt, photo)
        with self._lock:
            if self._removal_unseen and not self._lock.wait_for(lambda: not self._removal_unseen, _SEEN_TIMEOUT_S):
                log.info("no FIND saw the card leave within %.0f s; placed anyway", _SEEN_TIMEOUT_S)
            self._card, self._present, self._removal_unseen = card, True, False

    def remove_card(self) -> None:
        with self._lock:
            # Only a driver that polls can miss the gap; without one there is nothing to wait for.
            self._removal_unseen = self._present and self._counts.get(p.FIND, 0) > 0 and not self._stop.is_set()
            self._present = False

    @property
    def card_present(self) -> bool:
        return self._present

    def inject(self, fault: str) -> None:
        """Spoil the next read reply; faults queue up, one per read."""
        if fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}, expected one of {FAULTS}")
        with self._lock:
            self._faults.append(fault)

    def count(self, command: p.Command) -> int:
        """How many times ``command`` was received."""
        with self._lock:
            return self._counts.get(command, 0)

    def wait_for_count(self, command: p.Command, n: int, timeout_s: float = 5.0) -> bool:
        """Block until ``command`` was received at least ``n`` times in total."""
        with self._lock:
            return self._lock.wait_for(lambda: self._counts.get(command, 0) >= n, timeout_s)

    # -- thread ------------------------------------------------------------------------------------

    def _run(self) -> None:
        assembler = p.FrameAssembler()
        while not self._stop.is_set():
            ready, _, _ = select.select([self._master], [], [], _SELECT_TIMEOUT_S)
            if not ready:
                continue
            try:
                data = os.read(self._master, 4096)
            except OSError as err:
                if err.errno == errno.EIO:  # no slave open right now
                    self._stop.wait(_SELECT_TIMEOUT_S)
                    continue
                raise
            for frame in assembler.feed(data):
                self._handle(frame)

    def _handle(self, frame: bytes) -> None:
        try:
            command, _data = p.parse_request(frame)
        except ProtocolError:
            self._send(p.build_response(p.SW3_BAD_CHECKSUM))
            return
        with self._lock:
            self._counts[command] = self._counts.get(command, 0) + 1
            present, card = self._present, self._card
            if command == p.FIND and not present:
                self._removal_unseen = False
            self._lock.notify_all()
        if command in (p.RESET, p.SAM_STATUS):
            self._send(p.build_response(self.sam_status))
        elif command == p.SAM_ID:
            self._send(p.build_response(p.SW3_OK, SAM_ID_BYTES))
        elif command == p.FIND:
            self._send(p.build_response(p.SW3_CARD_FOUND if present else p.SW3_NO_CARD))
        elif command == p.SELECT:
            self._send(p.build_response(p.SW3_OK if present else p.SW3_SELECT_FAILED))
        elif command in (p.READ_BASE, p.READ_FINGER):
            self._answer_read(card if present else None, command == p.READ_FINGER)
        else:
            self._send(p.build_response(p.SW3_UNRECOGNISED))

    def _answer_read(self, card: IdCardData | None, with_fingerprint: bool) -> None:
        with self._lock:
            fault = self._faults.pop(0) if self._faults else None
        if card is None or fault == "sw3_41":
            self._send(p.build_response(p.SW3_READ_FAILED))
            return
        frame = p.build_response(p.SW3_OK, encode_read_reply(card, with_fingerprint))
        log.debug("emulator answers read for %s (fault %s)", mask_id(card.id_number), fault)
        if fault == "bad_checksum":
            frame = frame[:-1] + bytes((frame[-1] ^ 0xFF,))
        elif fault == "pull_mid_read":
            self.remove_card()
            frame = frame[: len(frame) // 2]
        elif fault == "garbage":
            # No 0xAA in the noise, so it can never fake a preamble.
            noise = bytes(self._rng.choice(range(0x00, 0xAA)) for _ in range(37))
            frame = noise + frame
        self._send(frame)

    def _send(self, frame: bytes) -> None:
        view = memoryview(frame)
        while view and not self._stop.is_set():
            try:
                written = os.write(self._master, view[: self.chunk_size])
            except OSError:
                return  # the pty is going away with stop()
            view = view[written:]
            if view and self.chunk_delay:
                time.sleep(self.chunk_delay)  # USB-CDC-like bursts, so the driver must reassemble


def demo_photo(seed: str, size: int = 1024) -> bytes:
    """Deterministic filler standing in for WLT data (no open WLT codec exists)."""
    out = bytearray()
    block = seed.encode()
    while len(out) < size:
        block = hashlib.sha256(block).digest()
        out += block
    return bytes(out[:size])


def _resident_id(first17: str) -> str:
    return first17 + id_check_digit(first17)


def sample_cards() -> dict[str, IdCardData]:
    """Fictitious demo cards: plausible data, valid GB 11643 check digits, filler photos."""
    cards = {
        "zhangsan": IdCardData(
            name="张三",
            sex="1",
            nation="01",
            birth="19800101",
            address="北京市东城区示例胡同1号",
            id_number=_resident_id("11010119800101001"),
            authority="北京市公安局东城分局",
            valid_from="20200101",
            valid_to="20400101",
            fingerprint=demo_photo("zhangsan-fp"),
        ),
        "elder": IdCardData(
            name="王秀英",
            sex="2",
            nation="01",
            birth="19480315",
            address="上海市黄浦区示例路100弄5号",
            id_number=_resident_id("31010119480315002"),
            authority="上海市公安局黄浦分局",
            valid_from="20100315",
            valid_to=LONG_TERM,
        ),
        "hk_resident": IdCardData(
            card_type=CARD_HK_MO_TW,
            name="陈大文",
            sex="1",
            birth="19900101",
            address="广东省深圳市福田区示例路8号",
            id_number=_resident_id("81000019900101003"),
            authority="深圳市公安局福田分局",
            valid_from="20200601",
            valid_to="20250601",
            pass_number="H12345678",
            issue_count="01",
        ),
        "foreigner_2017": IdCardData(
            card_type=CARD_FOREIGN_2017,
            name="罗伯特",
            name_en="JOHNSON, ROBERT",
            sex="1",
            id_number="USA110075061201",
            nationality="USA",
            birth="19750612",
            valid_from="20180101",
            valid_to="20280101",
            card_version="01",
            authority="1100",
        ),
        "foreigner_2023": IdCardData(
            card_type=CARD_FOREIGN_2023,
            name="玛丽",
            name_en="SMITH, MARY JANE ELIZABETH ALEXANDRA",  # 36 chars: spans both parts
            sex="2",
            issue_count="00",
            birth="19850612",
            id_number=_resident_id("91182619850612002"),
            valid_from="20230101",
            valid_to="20330101",
            nationality="GBR",
        ),
    }
    return {key: replace(card, raw_text=encode_text(card), photo_wlt=demo_photo(key)) for key, card in cards.items()}
