"""ESC/POS receipt printer driver on top of python-escpos transports.

python-escpos is used for the transports (Network, Serial, Usb, File, Dummy) and for the
raster-QR fallback only. Text goes out as GB18030 bytes built here, because its MagicEncode
sends full-width punctuation (，：￥) through a code page as '?' and never enters Chinese mode.
Status is read with our own DLE EOT queries: python-escpos 3.1 reports "plenty of paper" when
the printer did not answer at all.
"""

from __future__ import annotations

import contextlib
import copy
import errno
import logging
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import serial

from devices.base import Device, DeviceKind, SelfTestResult, StateListener
from devices.errors import (
    CoverOpen,
    DeviceError,
    DeviceState,
    DeviceTimeout,
    DeviceUnavailable,
    PaperOut,
    PrinterOffline,
)
from devices.printer.profile import PrinterProfile
from devices.printer.receipt import Receipt, layout_rows, wrap
from devices.url import parse_device_url

if TYPE_CHECKING:
    from escpos.printer import Dummy

# python-escpos is imported where it is used: loading it (its capability database above all)
# costs ~160 ms, which would otherwise delay the kiosk's first paint.

log = logging.getLogger(__name__)

ESC_INIT = b"\x1b\x40"
FS_CHINESE_ON = b"\x1c\x26"
FS_CHINESE_OFF = b"\x1c\x2e"
ALIGN_LEFT, ALIGN_CENTER = b"\x1b\x61\x00", b"\x1b\x61\x01"
BOLD_ON, BOLD_OFF = b"\x1b\x45\x01", b"\x1b\x45\x00"
SIZE_DOUBLE, SIZE_NORMAL = b"\x1d\x21\x11", b"\x1d\x21\x00"
FEED_LINES = b"\x1b\x64\x04"  # ESC d 4: move the last line past the cutter blade
CUT_FULL = b"\x1d\x56\x00"  # GS V 0
LF = b"\n"
DLE_EOT = b"\x10\x04"
QR_MODULE_SIZE = 6  # dots per module: a payment URL (~version 3) stays under 30 mm wide
QR_EC_M = 1
_GB_ENCODINGS = {"gb18030", "gbk", "gb2312", "cp936"}


@dataclass(frozen=True)
class PrinterStatus:
    """Real-time status; the flags mean something only where ``known`` is True."""

    online: bool
    cover_open: bool
    paper_end: bool
    paper_near_end: bool
    known: bool


UNKNOWN_STATUS = PrinterStatus(online=False, cover_open=False, paper_end=False, paper_near_end=False, known=False)


def valid_status_byte(b: int) -> bool:
    """Every DLE EOT reply has bits 1 and 4 set and bits 0 and 7 clear (0xx1xx10)."""
    return b & 0x93 == 0x12


def parse_status(printer: int | None, offline_cause: int | None, paper: int | None) -> PrinterStatus:
    """Map the replies to DLE EOT 1, 2 and 4 (None = no valid reply) to a status."""
    if printer is None or offline_cause is None or paper is None:
        return UNKNOWN_STATUS
    return PrinterStatus(
        online=not printer & 0x08,
        cover_open=bool(offline_cause & 0x04),
        paper_end=bool(offline_cause & 0x20) or paper & 0x60 == 0x60,
        paper_near_end=paper & 0x0C == 0x0C,
        known=True,
    )


def encode_text(text: str, encoding: str) -> tuple[bytes, int]:
    """Encode for the printer; characters it cannot encode become '?' and are counted."""
    try:
        return text.encode(encoding), 0
    except UnicodeEncodeError:
        pass
    out, bad = bytearray(), 0
    for ch in text:
        try:
            out += ch.encode(encoding)
        except UnicodeEncodeError:
            out += b"?"
            bad += 1
    return bytes(out), bad


def qr_native(data: str) -> bytes:
    """GS ( k: model 2, module size, EC level M, store, print (protocols.md 4.2)."""
    payload = data.encode("utf-8")
    if len(payload) > 7089:
        raise ValueError("QR payload too long")
    store_len = (len(payload) + 3).to_bytes(2, "little")
    return (
        b"\x1d\x28\x6b\x04\x00\x31\x41\x32\x00"
        + b"\x1d\x28\x6b\x03\x00\x31\x43"
        + bytes([QR_MODULE_SIZE])
        + b"\x1d\x28\x6b\x03\x00\x31\x45"
        + bytes([48 + QR_EC_M])
        + b"\x1d\x28\x6b"
        + store_len
        + b"\x31\x50\x30"
        + payload
        + b"\x1d\x28\x6b\x03\x00\x31\x51\x30"
    )


def qr_raster(data: str, profile: PrinterProfile) -> bytes:
    """python-escpos renders the QR as a GS v 0 image, for printers without GS ( k."""
    from escpos.printer import Dummy

    dummy = Dummy()
    # Private copy: profile_data is shared by every printer object of the default profile.
    dummy.profile.profile_data = copy.deepcopy(dummy.profile.profile_data)
    dummy.profile.profile_data["media"]["width"]["pixels"] = profile.columns * 12  # 12-dot font
    dummy.qr(data, ec=QR_EC_M, size=QR_MODULE_SIZE, native=False, center=True)
    return bytes(dummy.output)


def build_job(receipt: Receipt, profile: PrinterProfile) -> tuple[bytes, int]:
    """All bytes of one receipt and the number of characters replaced by '?'."""
    chinese = profile.encoding.lower().replace("-", "") in _GB_ENCODINGS
    parts: list[bytes] = [ESC_INIT, FS_CHINESE_ON if chinese else FS_CHINESE_OFF]
    bad = 0

    def text(line: str) -> None:
        nonlocal bad
        data, n = encode_text(line, profile.encoding)
        parts.append(data + LF)
        bad += n

    # Double width halves the columns available to the title.
    parts += [ALIGN_CENTER, BOLD_ON, SIZE_DOUBLE]
    for line in wrap(receipt.title, max(2, profile.columns // 2)):
        text(line)
    parts += [SIZE_NORMAL, BOLD_OFF, ALIGN_LEFT]
    text("-" * profile.columns)
    for line in layout_rows(receipt.lines, profile.columns):
        text(line)
    if receipt.footer:
        text("-" * profile.columns)
        parts.append(ALIGN_CENTER)
        for footer in receipt.footer:
            for line in wrap(footer, profile.columns):
                text(line)
        parts.append(ALIGN_LEFT)
    if receipt.qr:
        if profile.supports_qr_native:
            parts += [ALIGN_CENTER, qr_native(receipt.qr), LF, ALIGN_LEFT]
        else:
            parts.append(qr_raster(receipt.qr, profile))
    parts.append(FEED_LINES)
    if profile.supports_cut:
        parts.append(CUT_FULL)
    return b"".join(parts), bad


class ReceiptPrinter(Device):
    """One ESC/POS printer addressed by URL; opens a fresh connection per call, thread-safe.

    URL query options: ``tcp://h:p?status=off`` for one-way print servers that never answer
    DLE EOT; ``serial:///dev/ttyS0?baud=9600&dsrdtr=0``; ``usb://04b8:0202?in_ep=0x82&out_ep=0x01``.

    Its device state follows every status check; ``start()`` adds a slow background check so
    "paper near end" shows in diagnostics before a patient meets an empty printer.
    """

    kind = DeviceKind.PRINTER

    def __init__(
        self,
        url: str,
        profile: PrinterProfile,
        timeout: float = 5.0,
        *,
        poll_interval_s: float = 30.0,
        on_state: StateListener | None = None,
    ) -> None:
        super().__init__(url, on_state=on_state)
        self.profile = profile
        self.poll_interval_s = poll_interval_s
        self._poll_stop = threading.Event()
        self._poll_thread: threading.Thread | None = None
        self.timeout = timeout
        self._dev = parse_device_url(url)  # ValueError now rather than at the first receipt
        if self._dev.scheme not in ("tcp", "serial", "usb", "file", "dummy"):
            raise ValueError(f"unsupported printer URL scheme: {url!r}")
        self._status_off = self._dev.params.get("status", "").lower() in ("off", "0", "no")
        self._status_timeout = min(timeout, 2.0)
        self._lock = threading.Lock()
        self._dummy: Dummy | None = None
        if self._dev.scheme == "dummy":
            from escpos.printer import Dummy

            self._dummy = Dummy()

    @property
    def dummy_output(self) -> bytes:
        """Everything sent so far to a ``dummy://`` printer (for development screens)."""
        return bytes(self._dummy.output) if self._dummy is not None else b""

    def query_status(self) -> PrinterStatus:
        """Query the printer; raises only when it cannot be reached."""
        try:
            with self._lock, self._connection() as conn:
                st = self._read_status(conn)
        except DeviceError as err:
            self._note_error(err)
            raise
        self._note_status(st)
        return st

    def print_receipt(self, receipt: Receipt) -> None:
        """Print one receipt, or raise a ``DeviceError`` saying why not (nothing printed before)."""
        job, bad = build_job(receipt, self.profile)
        if bad:
            log.warning(
                "job %s: %d characters not encodable in %s printed as '?'", receipt.job_id, bad, self.profile.encoding
            )
        try:
            with self._lock, self._connection() as conn:
                self._check(self._read_status(conn), receipt.job_id, "before")
                self._set_state(DeviceState.BUSY)
                conn._raw(job)
                after = self._read_status(conn)
                self._check(after, receipt.job_id, "after")
                log.info("job %s: printed %d bytes", receipt.job_id, len(job))
        except DeviceError as err:
            self._note_error(err)
            raise
        self._count("jobs")
        self._note_status(after)

    def print_test_page(self) -> None:
        """A technician's test page: Chinese, full-width punctuation, a QR code and the cut."""
        self.print_receipt(
            Receipt(
                title="打印测试 Test page",
                lines=(
                    ("纸宽 Paper", f"{self.profile.columns} 列 columns"),
                    ("二维码 QR", "原生 native" if self.profile.supports_qr_native else "图像 raster"),
                    ("标点 Punctuation", "，。：；！？（）￥"),
                    ("时间 Time", time.strftime("%Y-%m-%d %H:%M:%S")),
                ),
                footer=("如能看清本页全部文字与二维码，打印机工作正常。",),
                qr="KIOSK-PRINTER-TEST",
                job_id=f"test-{time.time_ns()}",
            )
        )

    # --- Device -----------------------------------------------------------------------------

    def start(self) -> None:
        if self._poll_thread is not None and self._poll_thread.is_alive():
            return
        self._poll_stop.clear()
        self._poll_thread = threading.Thread(target=self._poll, name="printer-status", daemon=True)
        self._poll_thread.start()

    def stop(self) -> None:
        self._poll_stop.set()
        thread, self._poll_thread = self._poll_thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(self.timeout + 2)

    def self_test(self, timeout_s: float = 5.0) -> SelfTestResult:
        """Non-destructive: a real-time status round trip (the test page is a separate action)."""
        try:
            st = self.query_status()
        except DeviceError as err:
            return SelfTestResult.failed(err)
        if not st.known:
            return SelfTestResult.passed("printing possible; this transport reports no status")
        if self.state is DeviceState.ERROR:
            return SelfTestResult.failed(self.reason)
        return SelfTestResult.passed("online, paper near end" if st.paper_near_end else "online, paper ok")

    def _poll(self) -> None:
        while True:
            with contextlib.suppress(DeviceError):  # already recorded as state and last error
                self.query_status()
            if self._poll_stop.wait(self.poll_interval_s):
                return

    def _note_status(self, st: PrinterStatus) -> None:
        problem: DeviceError | None = None
        if st.known and st.cover_open:
            problem = CoverOpen("cover open (status)")
        elif st.known and st.paper_end:
            problem = PaperOut("paper end (status)")
        elif st.known and not st.online:
            problem = PrinterOffline("offline (status)")
        if problem is not None:
            if (self.state, self.reason) != (DeviceState.ERROR, problem.code):
                self._record_error(problem)
            self._set_state(DeviceState.ERROR, problem.code)
        elif not st.known:
            self._set_state(DeviceState.READY, "status_unknown")
        else:
            self._set_state(DeviceState.READY, "paper_near_end" if st.paper_near_end else "")

    def _note_error(self, err: DeviceError) -> None:
        self._record_error(err)
        unreachable = isinstance(err, DeviceUnavailable | DeviceTimeout) or (
            isinstance(err, PrinterOffline) and self.state is not DeviceState.BUSY
        )
        self._set_state(DeviceState.UNAVAILABLE if unreachable else DeviceState.ERROR, err.code)

    # --- connection -----------------------------------------------------------------------

    @contextmanager
    def _connection(self) -> Iterator[Any]:
        conn = self._open()
        try:
            with self._mapped_errors():
                yield conn
        finally:
            if conn is not self._dummy:
                try:
                    conn.close()
                except (OSError, serial.SerialException) as err:
                    log.debug("closing %s: %s", self._dev.scheme, err)

    def _open(self) -> Any:
        from escpos.exceptions import DeviceNotFoundError
        from escpos.printer import File, Network, Serial

        dev = self._dev
        if self._dummy is not None:
            return self._dummy
        conn: Any
        try:
            if dev.scheme == "tcp":
                conn = Network(dev.host, dev.port, timeout=self.timeout)
            elif dev.scheme == "serial":
                dsrdtr = dev.params.get("dsrdtr", "1").lower() not in ("0", "false", "off")
                conn = Serial(dev.path, baudrate=int(dev.params.get("baud", 9600)), timeout=self.timeout, dsrdtr=dsrdtr)
            elif dev.scheme == "usb":
                conn = self._make_usb()
            else:
                conn = File(dev.path, auto_flush=True)
            conn.open()
        except DeviceNotFoundError as err:
            cause = err.__context__
            if dev.scheme == "tcp" and isinstance(cause, TimeoutError):
                raise DeviceTimeout(f"connecting to {self.url} timed out") from err
            if dev.scheme == "tcp":
                raise PrinterOffline(f"cannot connect to {self.url}: {cause}") from err
            raise DeviceUnavailable(f"cannot open {self.url}: {err}") from err
        except (OSError, ValueError, RuntimeError) as err:
            raise DeviceUnavailable(f"cannot open {self.url}: {err}") from err
        return conn

    def _make_usb(self) -> Any:
        netloc = urlsplit(self.url).netloc
        params = {k: v[-1] for k, v in parse_qs(urlsplit(self.url).query).items()}
        try:
            vid, pid = (int(x, 16) for x in netloc.split(":"))
            from escpos.printer import Usb  # pyusb is optional: only USB kiosks install it
        except (ValueError, ImportError) as err:
            raise DeviceUnavailable(f"bad or unsupported USB printer URL {self.url}: {err}") from err
        if not Usb.is_usable():
            # Checked first: a Usb object built without pyusb raises again from its __del__.
            raise DeviceUnavailable("USB printing needs pyusb, which is not installed")
        return Usb(
            vid,
            pid,
            timeout=max(1, int(self.timeout * 1000)),  # 0 would block forever
            in_ep=int(params.get("in_ep", "0x82"), 0),
            out_ep=int(params.get("out_ep", "0x01"), 0),
        )

    @contextmanager
    def _mapped_errors(self) -> Iterator[None]:
        try:
            yield
        except DeviceError:
            raise
        except (TimeoutError, serial.SerialTimeoutException) as err:
            raise DeviceTimeout(f"printer {self._dev.scheme} timed out: {err}") from err
        except (OSError, serial.SerialException) as err:
            if getattr(err, "errno", None) == errno.ETIMEDOUT:  # pyusb timeouts
                raise DeviceTimeout(f"printer {self._dev.scheme} timed out: {err}") from err
            raise PrinterOffline(f"printer {self._dev.scheme} connection failed: {err}") from err

    # --- status ---------------------------------------------------------------------------

    def _read_status(self, conn: Any) -> PrinterStatus:
        if self._status_off or self._dummy is not None or self._dev.scheme == "file":
            return UNKNOWN_STATUS  # write-only transports: nothing to read
        replies = [self._query(conn, n) for n in (1, 2, 4)]
        return parse_status(*replies)

    def _query(self, conn: Any, n: int) -> int | None:
        dev = conn.device
        self._drain(dev)  # a late reply to an earlier query must not be taken for this one
        conn._raw(DLE_EOT + bytes([n]))
        reply = self._read_reply(conn, dev)
        if not reply:
            raise DeviceTimeout(f"printer did not answer DLE EOT {n} within {self._status_timeout}s")
        if len(reply) > 1 or not valid_status_byte(reply[-1]):
            # Automatic Status Back or a non-Epson printer: the printer is there, state unknown.
            log.warning("unexpected reply to DLE EOT %d: %s", n, reply.hex(" "))
            return reply[-1] if valid_status_byte(reply[-1]) else None
        return reply[0]

    def _read_reply(self, conn: Any, dev: Any) -> bytes:
        if isinstance(dev, socket.socket):
            dev.settimeout(self._status_timeout)
            try:
                data = dev.recv(16)
            except TimeoutError:
                return b""
            finally:
                dev.settimeout(self.timeout)
            if not data:
                raise PrinterOffline("printer closed the connection")
            return data
        if isinstance(dev, serial.SerialBase):
            dev.timeout = self._status_timeout
            try:
                data = dev.read(1)
                return data + dev.read(dev.in_waiting) if data else b""
            finally:
                dev.timeout = self.timeout
        try:
            return bytes(conn._read())
        except NotImplementedError:
            return b""

    def _drain(self, dev: Any) -> None:
        if isinstance(dev, serial.SerialBase):
            dev.reset_input_buffer()
        elif isinstance(dev, socket.socket):
            dev.setblocking(False)
            try:
                while dev.recv(64):
                    pass
            except (BlockingIOError, InterruptedError):
                pass
            finally:
                dev.settimeout(self.timeout)

    def _check(self, st: PrinterStatus, job_id: str, when: str) -> None:
        if not st.known:
            log.info("job %s: printer status unknown %s printing (%s transport)", job_id, when, self._dev.scheme)
            return
        if st.cover_open:
            raise CoverOpen(f"cover open {when} job {job_id}")
        if st.paper_end:
            raise PaperOut(f"paper out {when} job {job_id}")
        if not st.online:
            raise PrinterOffline(f"printer offline {when} job {job_id}")
        if st.paper_near_end:
            log.warning("job %s: paper near end", job_id)
