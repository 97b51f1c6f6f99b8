"""Walk an ESC/POS byte stream and recover what a printer would put on paper.

Used by the printer emulator (job boundaries, status queries) and by tests (decoded text, QR
payloads). It must never raise on arbitrary bytes: anything it does not understand is skipped
by the command's known length, or one byte at a time, exactly as a forgiving printer would.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

ESC, FS, GS, DLE = 0x1B, 0x1C, 0x1D, 0x10
LF, CR, HT, FF = 0x0A, 0x0D, 0x09, 0x0C

# Fixed parameter counts after the two command bytes; anything unlisted is skipped as 2 bytes.
_ESC_PARAMS = {
    b"@": 0, b"a": 1, b"E": 1, b"!": 1, b"d": 1, b"-": 1, b"G": 1, b"M": 1, b"t": 1, b"J": 1,
    b"2": 0, b"3": 1, b"R": 1, b"{": 1, b"V": 1, b"r": 1, b"p": 3, b"$": 2, b"\\": 2, b"=": 1,
    b" ": 1, b"%": 1, b"?": 1, b"L": 0, b"S": 0, b"T": 1, b"W": 8, b"U": 1, b"i": 0, b"m": 0,
    b"c": 2, b"e": 1, b"u": 1, b"v": 0, b"<": 0,
}
_FS_PARAMS = {b"&": 0, b".": 0, b"!": 1, b"-": 1, b"W": 1, b"S": 2, b"C": 1, b"p": 2, b"2": 74}
_GS_PARAMS = {
    b"!": 1, b"B": 1, b"H": 1, b"f": 1, b"h": 1, b"w": 1, b"L": 2, b"W": 2, b"a": 1, b"r": 1,
    b"I": 1, b"P": 2, b"b": 1, b"$": 2, b"\\": 2, b"E": 1, b"T": 1, b":": 0, b"^": 3, b"/": 1,
}
_DLE_PARAMS = {0x04: 1, 0x05: 1}  # DLE EOT n, DLE ENQ n; DLE DC4 handled separately


@dataclass(frozen=True)
class Token:
    """One command (``name`` like ``"GS ( k"``) or a run of text bytes (``name == "TEXT"``)."""

    name: str
    raw: bytes

    @property
    def params(self) -> bytes:
        """Bytes after the command name (2 bytes for ESC/FS/GS x, 2 for DLE x)."""
        return self.raw[2:]


def _need(buf: bytes, pos: int, n: int) -> bool:
    return pos + n <= len(buf)


def _le16(buf: bytes, at: int) -> int:
    return buf[at] | (buf[at + 1] << 8)


def _variable_gs(buf: bytes, pos: int, sub: int) -> int | None:
    """Total length of a variable-length GS command starting at ``pos``; None while incomplete."""
    if sub == ord("("):  # GS ( x pL pH data: every GS ( function carries its own length
        if not _need(buf, pos, 5):
            return None
        return 5 + _le16(buf, pos + 3)
    if sub == ord("8"):  # GS 8 L p1 p2 p3 p4 data: 32-bit length
        if not _need(buf, pos, 7):
            return None
        return 7 + int.from_bytes(buf[pos + 3 : pos + 7], "little")
    if sub == ord("v"):  # GS v 0 m xL xH yL yH data
        if not _need(buf, pos, 8):
            return None
        return 8 + _le16(buf, pos + 4) * _le16(buf, pos + 6)
    if sub == ord("*"):  # GS * x y data (x*y*8 bytes)
        if not _need(buf, pos, 4):
            return None
        return 4 + buf[pos + 2] * buf[pos + 3] * 8
    if sub == ord("V"):  # GS V m, or GS V m n for the feed-and-cut functions B/C/D
        if not _need(buf, pos, 3):
            return None
        return 4 if buf[pos + 2] in (65, 66, 97, 98, 103, 104) else 3
    if sub == ord("k"):  # GS k m ...: NUL-terminated (m 0-6) or length-prefixed (m 65-79)
        if not _need(buf, pos, 4):
            return None
        m = buf[pos + 2]
        if m >= 65:
            return 4 + buf[pos + 3]
        end = buf.find(b"\x00", pos + 3, pos + 3 + 256)
        if end < 0:
            return None if len(buf) - pos < 259 else 3
        return end - pos + 1
    return None if not _need(buf, pos, 2) else 2 + _GS_PARAMS.get(bytes([sub]), 0)


def _length(buf: bytes, pos: int) -> int | None:
    """Length of the token starting at ``pos``; None when the buffer ends inside it."""
    b = buf[pos]
    if b >= 0x20:
        end = pos
        while end < len(buf) and buf[end] >= 0x20:
            end += 1
        return end - pos
    if b not in (ESC, FS, GS, DLE):
        return 1
    if not _need(buf, pos, 2):
        return None
    sub = buf[pos + 1]
    if b == ESC:
        if sub == ord("*"):  # ESC * m nL nH data; 8-dot modes send 1 byte per column, 24-dot 3
            if not _need(buf, pos, 5):
                return None
            return 5 + _le16(buf, pos + 3) * (1 if buf[pos + 2] in (0, 1) else 3)
        if sub == ord("D"):  # ESC D n1..nk NUL (tab stops, at most 32)
            end = buf.find(b"\x00", pos + 2, pos + 35)
            if end < 0:
                return None if len(buf) - pos < 35 else 2
            return end - pos + 1
        return 2 + _ESC_PARAMS.get(bytes([sub]), 0)
    if b == FS:
        return 2 + _FS_PARAMS.get(bytes([sub]), 0)
    if b == GS:
        return _variable_gs(buf, pos, sub)
    if sub == 0x14:  # DLE DC4 fn ...: fn 8 (clear buffer) has 7 parameter bytes, the others 2
        if not _need(buf, pos, 3):
            return None
        return 3 + (7 if buf[pos + 2] == 8 else 2)
    return 2 + _DLE_PARAMS[sub] if sub in _DLE_PARAMS else 1


def _name(raw: bytes) -> str:
    b = raw[0]
    if b >= 0x20:
        return "TEXT"
    prefix = {ESC: "ESC", FS: "FS", GS: "GS", DLE: "DLE"}.get(b)
    if prefix is None or len(raw) < 2:
        return {LF: "LF", CR: "CR", HT: "HT", FF: "FF"}.get(b, f"CTRL {b:02X}")
    if b == DLE:
        return {0x04: "DLE EOT", 0x05: "DLE ENQ", 0x14: "DLE DC4"}.get(raw[1], "DLE")
    sub = chr(raw[1]) if 0x20 <= raw[1] < 0x7F else f"{raw[1]:02X}"
    if b == GS and raw[1] in (ord("("), ord("8")) and len(raw) >= 3:
        return f"GS {sub} {chr(raw[2]) if 0x20 <= raw[2] < 0x7F else f'{raw[2]:02X}'}"
    return f"{prefix} {sub}"


def tokenize(buf: bytes, *, final: bool = True) -> tuple[list[Token], int]:
    """Split ``buf`` into tokens; returns them and how many bytes were consumed.

    With ``final=False`` (a live stream) an incomplete trailing command is left unconsumed so the
    caller can retry when more bytes arrive; with ``final=True`` it becomes a truncated token.
    """
    tokens: list[Token] = []
    pos = 0
    while pos < len(buf):
        n = _length(buf, pos)
        if n is None:
            if not final:
                break
            n = len(buf) - pos
        n = max(1, min(n, len(buf) - pos))
        raw = bytes(buf[pos : pos + n])
        tokens.append(Token(_name(raw), raw))
        pos += n
    return tokens, pos


@dataclass(frozen=True)
class DecodedLine:
    text: str
    align: int = 0  # 0 left, 1 center, 2 right (ESC a)
    bold: bool = False
    width: int = 1  # character magnification from GS ! / ESC !
    height: int = 1
    kind: str = "text"  # "text", "qr" (payload in ``text``), or "image" (1-bit raster)
    image: bytes = b""
    image_size: tuple[int, int] = (0, 0)  # pixels, for kind == "image"


@dataclass
class DecodedReceipt:
    lines: list[DecodedLine] = field(default_factory=list)
    qr: list[str] = field(default_factory=list)
    cut: bool = False
    status_queries: list[int] = field(default_factory=list)  # n of each DLE EOT n
    skipped: int = 0  # commands recognised only by length (not rendered)

    @property
    def text(self) -> str:
        out = []
        for line in self.lines:
            if line.kind == "qr":
                out.append(f"[QR {line.text}]")
            else:
                out.append(line.text)
        return "\n".join(out)


@dataclass
class _Style:
    align: int = 0
    bold: bool = False
    width: int = 1
    height: int = 1
    # Chinese-firmware printers power on in Chinese (Kanji) mode; FS . leaves it.
    chinese: bool = True


class _Decoder:
    def __init__(self) -> None:
        self.out = DecodedReceipt()
        self.style = _Style()
        self.line_style: _Style | None = None
        self.segments: list[str] = []
        self.qr_store: bytes | None = None

    def text(self, raw: bytes) -> None:
        if self.line_style is None:
            self.line_style = _Style(**vars(self.style))
        codec = "gb18030" if self.style.chinese else "cp437"
        self.segments.append(raw.decode(codec, errors="replace"))

    def flush(self, *, force: bool = True) -> None:
        if not self.segments and not force:
            return
        st = self.line_style or self.style
        text = "".join(self.segments)
        self.out.lines.append(DecodedLine(text, st.align, st.bold, st.width, st.height))
        self.segments, self.line_style = [], None

    def block(self, line: DecodedLine) -> None:
        self.flush(force=False)
        self.out.lines.append(line)

    def command(self, tok: Token) -> None:
        name, p = tok.name, tok.params
        if name == "LF":
            self.flush()
        elif name == "HT":
            self.text(b" ")
        elif name == "ESC @":
            self.flush(force=False)
            self.style = _Style()
        elif name == "ESC a" and p:
            self.style.align = p[0] % 48 if p[0] in (0, 1, 2, 48, 49, 50) else 0
        elif name == "ESC E" and p:
            self.style.bold = bool(p[0] & 1)
        elif name == "ESC !" and p:
            self.style.bold = bool(p[0] & 0x08)
            self.style.height = 2 if p[0] & 0x10 else 1
            self.style.width = 2 if p[0] & 0x20 else 1
        elif name == "GS !" and p:
            self.style.width = ((p[0] >> 4) & 7) + 1
            self.style.height = (p[0] & 7) + 1
        elif name == "FS &":
            self.style.chinese = True
        elif name == "FS .":
            self.style.chinese = False
        elif name == "ESC d" and p:
            self.flush()
            for _ in range(max(0, p[0] - 1)):
                self.flush()
        elif name == "GS V":
            self.flush(force=False)
            self.out.cut = True
        elif name == "GS ( k":
            self.qr_command(tok.raw)
        elif name == "GS v":
            self.raster(tok.raw)
        elif name == "DLE EOT" and p:
            self.out.status_queries.append(p[0])
        elif name != "CR":
            self.out.skipped += 1

    def qr_command(self, raw: bytes) -> None:
        # GS ( k pL pH cn fn [m] data; cn 49 ('1') is QR, other symbologies are ignored.
        if len(raw) < 7 or raw[5] != 0x31:
            self.out.skipped += 1
            return
        fn = raw[6]
        if fn == 80 and len(raw) >= 8:
            self.qr_store = raw[8:]
        elif fn == 81 and self.qr_store is not None:
            payload = self.qr_store.decode("utf-8", errors="replace")
            self.out.qr.append(payload)
            self.block(DecodedLine(payload, self.style.align, kind="qr"))

    def raster(self, raw: bytes) -> None:
        if len(raw) < 8:
            self.out.skipped += 1
            return
        width_bytes, height = _le16(raw, 4), _le16(raw, 6)
        data = raw[8 : 8 + width_bytes * height]
        if len(data) != width_bytes * height:
            self.out.skipped += 1  # truncated image
            return
        size = (width_bytes * 8, height)
        self.block(DecodedLine(f"[image {size[0]}x{size[1]}]", self.style.align, kind="image",
                               image=data, image_size=size))


def decode_escpos(raw: bytes) -> DecodedReceipt:
    """Decode a whole job (or any bytes); never raises."""
    dec = _Decoder()
    tokens, _ = tokenize(raw, final=True)
    for tok in tokens:
        if tok.name == "TEXT":
            dec.text(tok.raw)
        else:
            dec.command(tok)
    dec.flush(force=False)
    return dec.out
