"""A network ESC/POS printer on 127.0.0.1 for tests and for development without hardware.

It answers DLE EOT status queries from a settable state, records every byte, splits the stream
into jobs (at GS V or when the connection closes) and decodes them with ``decode_escpos``.
"""

from __future__ import annotations

import functools
import logging
import socket
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

from devices.emulators.escpos_decode import DecodedLine, DecodedReceipt, decode_escpos, tokenize
from devices.printer.receipt import char_width, text_width

log = logging.getLogger(__name__)

_POLL_S = 0.1  # how often blocked accept/recv calls look at the stop flag
_REALTIME = ("DLE EOT", "DLE ENQ", "DLE DC4")  # executed on arrival, never part of a job


@dataclass(frozen=True)
class PrintedJob:
    raw: bytes  # the job's bytes without real-time status queries
    text: str
    qr: list[str]
    cut: bool


@dataclass
class _State:
    paper_end: bool = False
    paper_near_end: bool = False
    cover_open: bool = False
    offline: bool = False


class PrinterEmulator:
    """Single-connection-at-a-time TCP printer, like a real port 9100 interface."""

    def __init__(self, port: int = 0, *, fail_mid_job: int | None = None, answer_status: bool = True) -> None:
        """``fail_mid_job=N`` sets paper end after N bytes of print data have arrived;
        ``answer_status=False`` mimics a one-way print server that never answers DLE EOT."""
        self.fail_mid_job = fail_mid_job
        self.answer_status = answer_status
        self._port = port
        self._state = _State()
        self._lock = threading.Lock()
        self._jobs_changed = threading.Condition(self._lock)
        self._jobs: list[PrintedJob] = []
        self._connections: list[bytes] = []
        self._printed_bytes = 0
        self._stop = threading.Event()
        self._server: socket.socket | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ------------------------------------------------------------------------

    def start(self) -> PrinterEmulator:
        if self._thread is not None:
            return self
        server = socket.create_server(("127.0.0.1", self._port))
        server.settimeout(_POLL_S)
        self._server, self._port = server, server.getsockname()[1]
        self._stop.clear()
        self._thread = threading.Thread(target=self._serve, name="printer-emulator", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self._server is not None:
            self._server.close()
            self._server = None

    def __enter__(self) -> PrinterEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"tcp://127.0.0.1:{self._port}"

    # --- state and results ----------------------------------------------------------------

    def set_state(self, paper_end: bool = False, paper_near_end: bool = False, cover_open: bool = False,
                  offline: bool = False) -> None:
        with self._lock:
            self._state = _State(paper_end, paper_near_end, cover_open, offline)

    @property
    def jobs(self) -> list[PrintedJob]:
        with self._lock:
            return list(self._jobs)

    @property
    def connections(self) -> list[bytes]:
        """Every byte received, one entry per closed connection (status queries included)."""
        with self._lock:
            return list(self._connections)

    def wait_for_jobs(self, n: int, timeout: float = 5.0) -> list[PrintedJob]:
        with self._jobs_changed:
            if not self._jobs_changed.wait_for(lambda: len(self._jobs) >= n, timeout):
                raise TimeoutError(f"expected {n} print jobs, got {len(self._jobs)}")
            return list(self._jobs)

    def status_byte(self, n: int) -> int | None:
        """The reply to DLE EOT n for the current state (None: no reply)."""
        with self._lock:
            st = self._state
        if n == 1:  # printer status: a printer stopped by cover or paper is offline too
            return 0x12 | (0x08 if st.offline or st.cover_open or st.paper_end else 0)
        if n == 2:  # offline cause
            return 0x12 | (0x04 if st.cover_open else 0) | (0x20 if st.paper_end else 0)
        if n == 3:  # error cause: no errors emulated
            return 0x12
        if n == 4:  # roll paper sensor
            return 0x12 | (0x0C if st.paper_near_end else 0) | (0x60 if st.paper_end else 0)
        return None

    # --- server ---------------------------------------------------------------------------

    def _serve(self) -> None:
        assert self._server is not None
        while not self._stop.is_set():
            try:
                conn, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                break
            with conn:
                self._handle(conn)

    def _handle(self, conn: socket.socket) -> None:
        conn.settimeout(_POLL_S)
        received, pending, job = bytearray(), b"", bytearray()
        while not self._stop.is_set():
            try:
                data = conn.recv(4096)
            except TimeoutError:
                continue
            except OSError:
                break
            if not data:
                break
            received += data
            tokens, used = tokenize(pending + data, final=False)
            pending = (pending + data)[used:]
            for tok in tokens:
                if tok.name in _REALTIME:
                    self._realtime(conn, tok.raw)
                    continue
                job += tok.raw
                self._count_printed(len(tok.raw))
                if tok.name == "GS V":
                    self._finish_job(bytes(job))
                    job.clear()
        job += pending
        if job:
            self._finish_job(bytes(job))
        with self._lock:
            self._connections.append(bytes(received))

    def _realtime(self, conn: socket.socket, raw: bytes) -> None:
        if raw[:2] != b"\x10\x04" or len(raw) < 3 or not self.answer_status:
            return
        reply = self.status_byte(raw[2])
        if reply is not None:
            try:
                conn.sendall(bytes([reply]))
            except OSError as err:
                log.debug("status reply not sent: %s", err)

    def _count_printed(self, n: int) -> None:
        with self._lock:
            self._printed_bytes += n
            if self.fail_mid_job is not None and self._printed_bytes >= self.fail_mid_job:
                self._state.paper_end = True

    def _finish_job(self, raw: bytes) -> None:
        decoded = decode_escpos(raw)
        job = PrintedJob(raw=raw, text=decoded.text, qr=list(decoded.qr), cut=decoded.cut)
        with self._jobs_changed:
            self._jobs.append(job)
            self._jobs_changed.notify_all()


# --- PNG preview ----------------------------------------------------------------------------

_FALLBACK_FONTS = ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",)


@functools.lru_cache(maxsize=1)
def find_cjk_font() -> str | None:
    try:
        found = subprocess.run(["fc-match", "-f", "%{file}", "Noto Sans CJK SC"], capture_output=True,
                               text=True, timeout=5, check=False).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        found = ""
    for path in (found, *_FALLBACK_FONTS):
        if path and Path(path).is_file():
            return path
    return None


def render_png(decoded: DecodedReceipt, path: str | Path, width_px: int = 576) -> None:
    """Draw the decoded receipt roughly as the paper would look (12x24 dot font, 576 dots = 80 mm)."""
    import qrcode
    from PIL import Image, ImageDraw, ImageFont, ImageOps

    font_path = find_cjk_font()

    def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
        if font_path:
            return ImageFont.truetype(font_path, size)
        return ImageFont.load_default(size=size)

    blocks: list[tuple[Image.Image | None, int, DecodedLine]] = []
    for line in decoded.lines:
        if line.kind == "qr":
            qr_img = qrcode.make(line.text, box_size=6, border=2).get_image().convert("L")
            blocks.append((qr_img, qr_img.height, line))
        elif line.kind == "image" and line.image:
            bitmap = Image.frombytes("1", line.image_size, line.image)
            # ESC/POS raster: bit 1 = black dot; PIL mode "1": 1 = white.
            img = ImageOps.invert(bitmap.convert("L"))
            blocks.append((img, img.height, line))
        else:
            blocks.append((None, 24 * line.height + 6, line))
    canvas = Image.new("L", (width_px, sum(b[1] for b in blocks) + 40), 255)
    draw = ImageDraw.Draw(canvas)
    y = 20
    for block, h, line in blocks:
        if block is not None:
            canvas.paste(block, (_aligned_x(line.align, width_px, block.width), y))
        elif line.text:
            # A fixed 12-dot cell per column (two for Hanzi), as the printer's own font.
            f, cell = font(24 * line.height), 12 * line.width
            x = _aligned_x(line.align, width_px, text_width(line.text) * cell)
            for ch in line.text:
                draw.text((x, y), ch, fill=0, font=f, stroke_width=1 if line.bold else 0, stroke_fill=0)
                x += char_width(ch) * cell
        y += h
    canvas.convert("1").save(path, format="PNG")


def _aligned_x(align: int, width: int, used: int) -> int:
    if align == 1:
        return max(0, (width - used) // 2)
    if align == 2:
        return max(0, width - used)
    return 0
