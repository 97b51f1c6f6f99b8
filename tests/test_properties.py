"""Property-based tests (hypothesis) for the parsers that take bytes or text from outside.

- GA/T 467 frames: ``read_frame`` on any byte stream, in any chunking, returns a frame that really is
  in the stream or raises a ``DeviceError`` (nothing else); build -> read round trips.
- Payment codes: ``classify`` takes any text; strings of the WeChat rule are always WECHAT.
- ESC/POS status: ``parse_status`` / ``valid_status_byte`` over every byte value and None.
- Scanner framing and wedge key decoding: any chunking gives the same codes; typing round trips.

The default run is quick (200 examples a test, the "kiosk-fast" profile). A long run:

    HYPOTHESIS_PROFILE=long .venv/bin/python -m pytest -q tests/test_properties.py

The profiles are applied per test (not loaded globally), so other modules' settings are untouched.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from devices.errors import DeviceError, DeviceTimeout, ProtocolError
from devices.idcard import protocol as p
from devices.printer.escpos_printer import UNKNOWN_STATUS, parse_status, valid_status_byte
from devices.scanner.codes import PAYMENT_KINDS, CodeKind, classify, mask_code, normalize
from devices.scanner.framing import LineSplitter
from devices.scanner.keymap import KEY_DOWN, KEY_UP, US_KEYMAP, keys_to_text

settings.register_profile("kiosk-fast", max_examples=200, deadline=None)
settings.register_profile("long", max_examples=20_000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
PROFILE = settings.get_profile(os.environ.get("HYPOTHESIS_PROFILE", "kiosk-fast"))


class ChunkedPort:
    """A serial port that hands over ``data`` in the given chunk sizes, then times out (b"")."""

    def __init__(self, data: bytes, chunks: list[int]) -> None:
        self._data = data
        self._chunks = chunks or [len(data) or 1]
        self._pos = 0
        self._n = 0

    def read(self, size: int = 1) -> bytes:
        step = self._chunks[self._n % len(self._chunks)]
        self._n += 1
        out = self._data[self._pos : self._pos + min(size, step)]
        self._pos += len(out)
        return out


chunkings = st.lists(st.integers(1, 64), max_size=8)
bytes_no_preamble_start = st.binary(max_size=64).map(lambda b: b.replace(b"\xaa", b""))


# ---- GA/T 467 frames


@PROFILE
@given(stream=st.binary(max_size=3000), chunks=chunkings)
@example(stream=p.PREAMBLE + b"\x00\x04\x00\x00\x90\x94", chunks=[])
@example(stream=p.PREAMBLE * 3 + b"\xff\xff", chunks=[1])
@example(stream=p.PREAMBLE + b"\x00\x00", chunks=[])
def test_read_frame_returns_a_real_frame_or_raises_device_error(stream: bytes, chunks: list[int]) -> None:
    try:
        resp = p.read_frame(ChunkedPort(stream, chunks), timeout_s=0)
    except DeviceError as err:
        assert isinstance(err, ProtocolError | DeviceTimeout)
        return
    # Whatever it returns was sent, byte for byte, checksum and all.
    assert p.build_response(resp.sw3, resp.payload, resp.sw1, resp.sw2) in stream


@PROFILE
@given(
    sw=st.tuples(st.integers(0, 255), st.integers(0, 255), st.integers(0, 255)),
    payload=st.binary(max_size=1500),
    noise=bytes_no_preamble_start,
    chunks=chunkings,
)
@example(sw=(0, 0, 0x90), payload=bytes(p.MAX_LEN - 4), noise=b"", chunks=[])  # the largest frame allowed
def test_response_round_trip(sw: tuple[int, int, int], payload: bytes, noise: bytes, chunks: list[int]) -> None:
    sw1, sw2, sw3 = sw
    frame = p.build_response(sw3, payload, sw1, sw2)
    resp = p.read_frame(ChunkedPort(noise + frame, chunks), timeout_s=0)
    assert (resp.sw1, resp.sw2, resp.sw3, resp.payload) == (sw1, sw2, sw3, payload)


@PROFILE
@given(payload=st.binary(max_size=300), data=st.data())
def test_any_single_byte_corruption_after_the_length_is_caught(payload: bytes, data: st.DataObject) -> None:
    frame = bytearray(p.build_response(0x90, payload))
    index = data.draw(st.integers(p.HEADER_LEN, len(frame) - 1), label="index")
    frame[index] ^= data.draw(st.integers(1, 255), label="xor")
    with pytest.raises(ProtocolError):
        p.read_frame(ChunkedPort(bytes(frame), []), timeout_s=0)


@PROFILE
@given(cmd=st.integers(0, 255), para=st.integers(0, 255), data=st.binary(max_size=600))
def test_request_round_trip(cmd: int, para: int, data: bytes) -> None:
    assert p.parse_request(p.build_frame(cmd, para, data)) == (p.Command(cmd, para), data)


requests_st = st.lists(st.tuples(st.integers(0, 255), st.integers(0, 255), st.binary(max_size=100)), max_size=5)
noise_st = st.lists(bytes_no_preamble_start, min_size=6, max_size=6)


def _assemble(requests: list[tuple[int, int, bytes]], noise: list[bytes], chunks: list[int]) -> tuple[list[bytes],
                                                                                                     list[bytes]]:
    frames = [p.build_frame(*r) for r in requests]
    stream = b"".join(n + f for n, f in zip(noise, frames, strict=False)) + noise[-1]
    assembler = p.FrameAssembler()
    got: list[bytes] = []
    pos, sizes, n = 0, chunks or [len(stream) or 1], 0
    while pos < len(stream):
        step = sizes[n % len(sizes)]
        got += assembler.feed(stream[pos : pos + step])
        pos, n = pos + step, n + 1
    return frames, got


@PROFILE
@given(requests=requests_st, noise=noise_st)
def test_frame_assembler_whole_stream(requests: list[tuple[int, int, bytes]], noise: list[bytes]) -> None:
    frames, got = _assemble(requests, noise, [])
    assert got == frames


@PROFILE
@given(requests=requests_st, noise=noise_st, chunks=chunkings)
@example(requests=[(0x11, 0xFF, b"")], noise=[b""] * 6, chunks=[1])  # a read ending inside the preamble
def test_frame_assembler_any_chunking(requests: list[tuple[int, int, bytes]], noise: list[bytes],
                                      chunks: list[int]) -> None:
    frames, got = _assemble(requests, noise, chunks)
    assert got == frames


# ---- payment codes

wechat_codes = st.from_regex(r"1[0-5][0-9]{16}", fullmatch=True)
invisible = st.sampled_from(["\x00", "\x02", "\x03", "\t", "\r", "\n", "\x1d", "\u200b", "\ufeff"])


@PROFILE
@given(text=st.text())
@example(text="\ud800")  # a lone surrogate, as a bad decoder might hand over
def test_classify_takes_any_text(text: str) -> None:
    kind = classify(text)
    assert isinstance(kind, CodeKind)
    assert classify(normalize(text)) is kind
    if kind in PAYMENT_KINDS:
        code = normalize(text)
        assert code.isascii() and code.isdigit()  # never full-width or other Unicode digits
        masked = mask_code(text)
        assert code not in masked and masked.endswith(code[-4:])


@PROFILE
@given(code=wechat_codes, data=st.data())
def test_wechat_rule_strings_are_wechat(code: str, data: st.DataObject) -> None:
    assert classify(code) is CodeKind.WECHAT
    # Scanner prefixes/suffixes and control characters anywhere, spaces at the ends: still WeChat.
    chars = list(code)
    for _ in range(data.draw(st.integers(0, 4), label="insertions")):
        chars.insert(data.draw(st.integers(0, len(chars)), label="at"), data.draw(invisible, label="char"))
    padded = data.draw(st.text(" ", max_size=2)) + "".join(chars) + data.draw(st.text(" ", max_size=2))
    assert classify(padded) is CodeKind.WECHAT


@PROFILE
@given(code=wechat_codes, at=st.integers(2, 17), digit=st.characters(categories=["Nd"]))
def test_non_ascii_digit_never_makes_a_payment_code(code: str, at: int, digit: str) -> None:
    # Past the 10-15 prefix any ASCII digit keeps the rule; a full-width or other script's digit never.
    mangled = code[:at] + digit + code[at + 1 :]
    assert classify(mangled) is (CodeKind.WECHAT if digit.isascii() else CodeKind.UNKNOWN)


# ---- ESC/POS status

status_byte = st.one_of(st.none(), st.integers(0, 255))


def test_valid_status_bytes_exhaustive() -> None:
    valid = [b for b in range(256) if valid_status_byte(b)]
    # Bits 1 and 4 fixed to 1, bits 0 and 7 to 0: the other four free.
    assert len(valid) == 16 and all(b & 0x12 == 0x12 and not b & 0x81 for b in valid)
    assert 0x12 in valid and 0x16 in valid and 0x7E in valid and 0xFF not in valid and 0x00 not in valid


@PROFILE
@given(printer=status_byte, offline=status_byte, paper=status_byte)
def test_parse_status_any_replies(printer: int | None, offline: int | None, paper: int | None) -> None:
    status = parse_status(printer, offline, paper)
    if None in (printer, offline, paper):
        assert status == UNKNOWN_STATUS and not status.known
        return
    assert status.known
    assert all(isinstance(v, bool) for v in (status.online, status.cover_open, status.paper_end,
                                             status.paper_near_end))


def _problems(printer: int, offline: int, paper: int) -> set[str]:
    s = parse_status(printer, offline, paper)
    return {name for name, bad in [("offline", not s.online), ("cover", s.cover_open), ("end", s.paper_end),
                                   ("near", s.paper_near_end)] if bad}


@PROFILE
@given(a=st.tuples(*[st.integers(0, 255)] * 3), extra=st.tuples(*[st.integers(0, 255)] * 3))
def test_more_status_bits_never_hide_a_problem(a: tuple[int, int, int], extra: tuple[int, int, int]) -> None:
    b = tuple(x | y for x, y in zip(a, extra, strict=True))
    assert _problems(*a) <= _problems(*b)


@pytest.mark.parametrize("position", [0, 1, 2])
def test_parse_status_every_byte_in_each_position(position: int) -> None:
    for value in [None, *range(256)]:
        replies: list[int | None] = [0x12, 0x12, 0x12]
        replies[position] = value
        status = parse_status(*replies)
        assert status.known is (value is not None)
    assert _problems(0x12, 0x12, 0x12) == set()  # the nominal reply means all is well


# ---- scanner framing and wedge decoding

code_text = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=40)


@PROFILE
@given(codes=st.lists(code_text, max_size=6), suffix=st.sampled_from(["CR", "LF", "CRLF", "TAB", "ANY"]),
       chunks=chunkings)
def test_scanner_lines_survive_any_chunking(codes: list[str], suffix: str, chunks: list[int]) -> None:
    sent = {"CR": b"\r", "LF": b"\n", "CRLF": b"\r\n", "TAB": b"\t", "ANY": b"\r\n"}[suffix]
    stream = b"".join(c.encode() + sent for c in codes)
    splitter = LineSplitter(suffix)
    lines: list[bytes] = []
    pos, sizes = 0, chunks or [len(stream) or 1]
    while pos < len(stream):
        step = sizes[len(lines) % len(sizes)]
        lines += [line.raw for line in splitter.feed(stream[pos : pos + step]) if line.raw]
        pos += step
    assert lines == [c.encode() for c in codes] and splitter.pending == b""


_KEYS = {plain: (code, False) for code, (plain, _) in US_KEYMAP.items()} | {
    shifted: (code, True) for code, (plain, shifted) in US_KEYMAP.items() if shifted != plain
}


@PROFILE
@given(text=st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=80))
def test_wedge_typing_round_trips(text: str) -> None:
    events: list[tuple[int, int]] = []
    for ch in text:
        code, shift = _KEYS[ch]
        events += [(42, KEY_DOWN)] * shift + [(code, KEY_DOWN), (code, KEY_UP)] + [(42, KEY_UP)] * shift
    assert keys_to_text(events) == text


@PROFILE
@given(events=st.lists(st.tuples(st.integers(0, 255), st.integers(0, 2)), max_size=60))
def test_wedge_decoder_takes_any_events(events: list[tuple[int, int]]) -> None:
    assert isinstance(keys_to_text(events), str)
