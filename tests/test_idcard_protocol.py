"""GA/T 467 frames, the 256-byte text block of all four card types, and masking."""

from __future__ import annotations

from dataclasses import replace

import pytest

from devices.emulators.idcard import sample_cards
from devices.errors import CardReadError, DeviceError, DeviceTimeout, DeviceUnavailable, ProtocolError
from devices.idcard import protocol as p
from devices.idcard.masking import mask_id, mask_name
from devices.idcard.parser import (
    CARD_FOREIGN_2017,
    CARD_FOREIGN_2023,
    CARD_HK_MO_TW,
    CARD_RESIDENT,
    IdCardData,
    encode_read_reply,
    encode_text,
    id_check_digit,
    id_checksum_ok,
    parse_read_reply,
    parse_text,
)


class ChunkPort:
    """A pyserial stand-in that hands out at most ``chunk`` bytes per read, then b"" (a read timeout)."""

    def __init__(self, data: bytes, chunk: int = 64) -> None:
        self.data = bytearray(data)
        self.chunk = chunk

    def read(self, size: int = 1) -> bytes:
        n = min(size, self.chunk, len(self.data))
        out = bytes(self.data[:n])
        del self.data[:n]
        return out


def hexb(text: str) -> bytes:
    return bytes.fromhex(text.replace(" ", ""))


# -- frames ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cmd", "para", "data", "expected"),
    [
        (0x10, 0xFF, b"", "AA AA AA 96 69 00 03 10 FF EC"),
        (0x11, 0xFF, b"", "AA AA AA 96 69 00 03 11 FF ED"),
        (0x12, 0xFF, b"", "AA AA AA 96 69 00 03 12 FF EE"),
        (0x20, 0x01, b"", "AA AA AA 96 69 00 03 20 01 22"),
        (0x20, 0x02, b"", "AA AA AA 96 69 00 03 20 02 21"),
        (0x30, 0x01, b"", "AA AA AA 96 69 00 03 30 01 32"),
        (0x30, 0x03, b"", "AA AA AA 96 69 00 03 30 03 30"),
        (0x30, 0x10, b"", "AA AA AA 96 69 00 03 30 10 23"),
        (0x61, 0xFF, b"\x50", "AA AA AA 96 69 00 04 61 FF 50 CA"),
    ],
)
def test_build_frame_matches_notes_table(cmd: int, para: int, data: bytes, expected: str) -> None:
    assert p.build_frame(cmd, para, data) == hexb(expected)


def test_command_constants() -> None:
    assert p.build_frame(*p.RESET) == hexb("AA AA AA 96 69 00 03 10 FF EC")
    assert p.build_frame(*p.SAM_STATUS) == hexb("AA AA AA 96 69 00 03 11 FF ED")
    assert p.build_frame(*p.SAM_ID) == hexb("AA AA AA 96 69 00 03 12 FF EE")
    assert p.build_frame(*p.FIND) == hexb("AA AA AA 96 69 00 03 20 01 22")
    assert p.build_frame(*p.SELECT) == hexb("AA AA AA 96 69 00 03 20 02 21")
    assert p.build_frame(*p.READ_BASE) == hexb("AA AA AA 96 69 00 03 30 01 32")
    assert p.build_frame(*p.READ_FINGER) == hexb("AA AA AA 96 69 00 03 30 10 23")


def test_build_response_and_checksum() -> None:
    frame = p.build_response(0x9F)
    assert frame == hexb("AA AA AA 96 69 00 04 00 00 9F 9B")  # 00^04^00^00^9F = 9B
    assert p.checksum(frame[5:-1]) == frame[-1]
    assert p.read_frame(ChunkPort(frame), 0.2) == p.Response(0, 0, 0x9F, b"")


def test_read_reply_sizes_match_notes() -> None:
    card = sample_cards()["zhangsan"]
    base = p.build_response(0x90, encode_read_reply(card, False))
    assert len(base) == 1295 and base[5:7] == hexb("05 08")
    assert base[10:14] == hexb("01 00 04 00")
    assert base[14:270] == card.raw_text  # text starts at frame offset 14
    finger = p.build_response(0x90, encode_read_reply(card, True))
    assert len(finger) == 2321 and finger[5:7] == hexb("09 0A")
    assert finger[16:272] == card.raw_text
    no_fp = p.build_response(0x90, encode_read_reply(replace(card, fingerprint=b""), True))
    assert no_fp[5:7] == hexb("05 0A")


def test_read_frame_reassembles_chunks() -> None:
    card = sample_cards()["elder"]
    payload = encode_read_reply(card, False)
    resp = p.read_frame(ChunkPort(p.build_response(0x90, payload), chunk=7), 0.5)
    assert resp.sw3 == 0x90 and resp.payload == payload
    assert "王" not in repr(resp) and "1284 bytes" in repr(resp)


@pytest.mark.parametrize(
    "noise",
    [b"\x00\x13\x37", b"\xaa\xaa\x00", b"\xaa", b"\xaa\xaa\xaa\xaa", b"\xaa\xaa\xaa\x96\x00\xaa", bytes(range(200))],
)
def test_read_frame_resyncs_after_noise(noise: bytes) -> None:
    frame = p.build_response(0x90, b"\x01\x02")
    port = ChunkPort(noise + frame + b"tail", chunk=3)
    assert p.read_frame(port, 0.2) == p.Response(0, 0, 0x90, b"\x01\x02")
    assert bytes(port.data) == b"tail"  # nothing past the frame was consumed


def test_endless_noise_is_a_protocol_error() -> None:
    with pytest.raises(ProtocolError):
        p.read_frame(ChunkPort(b"\x55" * (p.MAX_RESYNC_BYTES + 100)), 0.2)


def test_bad_checksum_is_a_protocol_error() -> None:
    frame = bytearray(p.build_response(0x90, b"abc"))
    frame[-1] ^= 0x01
    with pytest.raises(ProtocolError, match="checksum"):
        p.read_frame(ChunkPort(bytes(frame)), 0.2)


@pytest.mark.parametrize("length", [b"\x00\x02", b"\xff\xff"])
def test_bad_length_is_a_protocol_error(length: bytes) -> None:
    frame = p.PREAMBLE + length + b"\x00\x00\x90\x00\x00"
    with pytest.raises(ProtocolError, match="length"):
        p.read_frame(ChunkPort(frame), 0.2)


@pytest.mark.parametrize("cut", [3, 7, 100, 1294])
def test_truncated_frame_times_out(cut: int) -> None:
    frame = p.build_response(0x90, encode_read_reply(sample_cards()["zhangsan"], False))
    with pytest.raises(DeviceTimeout):
        p.read_frame(ChunkPort(frame[:cut]), 0.1)


def test_frame_assembler_and_parse_request() -> None:
    stream = b"\x01\xaa" + p.build_frame(*p.FIND) + b"\xaa\xaa" + p.build_frame(0x61, 0xFF, b"\x50")
    asm = p.FrameAssembler()
    frames = [f for i in range(0, len(stream), 4) for f in asm.feed(stream[i : i + 4])]
    assert [p.parse_request(f) for f in frames] == [(p.FIND, b""), (p.Command(0x61, 0xFF), b"\x50")]
    bad = bytearray(p.build_frame(*p.SELECT))
    bad[-1] ^= 0xFF
    with pytest.raises(ProtocolError):
        p.parse_request(bytes(bad))


def test_sw3_table_and_errors() -> None:
    for sw3 in (0x90, 0x9F, 0x80):
        assert p.error_for_sw3(sw3) is None
    moved = p.error_for_sw3(0x41, "read")
    assert isinstance(moved, CardReadError) and moved.code == "card_moved" and "0x41" in str(moved)
    assert isinstance(p.error_for_sw3(0x10), ProtocolError)
    assert isinstance(p.error_for_sw3(0x11), ProtocolError)
    for sw3 in (0x60, 0x66):
        err = p.error_for_sw3(sw3)
        assert type(err) is DeviceError and err.code == "sam_failed"
    assert isinstance(p.error_for_sw3(0x01), DeviceUnavailable)
    unknown = p.error_for_sw3(0x77)
    assert type(unknown) is DeviceError and unknown.code == "sw3_77"
    for sw3 in (0x81, 0x91, 0x40, 0x31, 0x32, 0x33, 0x47, 0x21, 0x23, 0x24, 0x02, 0x03, 0x05):
        assert sw3 in p.SW3_TABLE and p.SW3_TABLE[sw3].meaning


# -- text block ------------------------------------------------------------------------------------


def ucs2(text: str, size: int) -> bytes:
    raw = text.encode("utf-16-le")
    return raw + b" \x00" * ((size - len(raw)) // 2)


def test_hand_built_resident_block_at_literal_offsets() -> None:
    block = bytearray(b" \x00" * 128)
    block[0:30] = ucs2("李四", 30)
    block[30:32] = ucs2("2", 2)
    block[32:36] = ucs2("03", 4)
    block[36:52] = ucs2("19700205", 16)
    block[52:122] = ucs2("四川省成都市武侯区示例街2号", 70)
    block[122:158] = ucs2("51010719700205002X", 36)
    block[158:188] = ucs2("成都市公安局武侯区分局", 30)
    block[188:204] = ucs2("20150301", 16)
    block[204:220] = ucs2("长期", 16)
    card = parse_text(bytes(block))
    assert card == IdCardData(
        card_type=CARD_RESIDENT,
        name="李四",
        sex="2",
        nation="03",
        birth="19700205",
        address="四川省成都市武侯区示例街2号",
        id_number="51010719700205002X",
        authority="成都市公安局武侯区分局",
        valid_from="20150301",
        valid_to="长期",
        raw_text=bytes(block),
    )
    assert card.long_term
    assert encode_text(card) == bytes(block)


def test_hand_built_foreign_blocks_at_literal_offsets() -> None:
    block = bytearray(b" \x00" * 128)
    block[0:120] = ucs2("VAN DER BERG, ANNA", 120)
    block[120:122] = ucs2("2", 2)
    block[122:152] = ucs2("NLD310090010101", 30)
    block[152:158] = ucs2("NLD", 6)
    block[158:188] = ucs2("安娜", 30)
    block[220:236] = ucs2("19900101", 16)
    block[248:250] = b"I\x00"
    card = parse_text(bytes(block))
    assert (card.card_type, card.name_en, card.name, card.nationality) == (
        CARD_FOREIGN_2017,
        "VAN DER BERG, ANNA",
        "安娜",
        "NLD",
    )
    assert (card.id_number, card.birth, card.sex) == ("NLD310090010101", "19900101", "2")

    block = bytearray(b" \x00" * 128)
    long_name = "ABCDEFGHIJ ABCDEFGHIJ ABCDEFGHIJ ABC DEFG HIJ"  # 45 chars, a space at the split
    block[52:122] = ucs2(long_name[:35], 70)
    block[220:242] = ucs2(long_name[35:], 22)
    block[242:248] = ucs2("GBR", 6)
    block[248:250] = b"Y\x00"
    card = parse_text(bytes(block))
    assert card.card_type == CARD_FOREIGN_2023 and card.name_en == long_name and card.nationality == "GBR"
    assert encode_text(card) == bytes(block)


@pytest.mark.parametrize("key", ["zhangsan", "elder", "hk_resident", "foreigner_2017", "foreigner_2023"])
def test_round_trip_all_card_types(key: str) -> None:
    card = sample_cards()[key]
    assert len(card.raw_text) == 256
    assert parse_text(encode_text(card)) == replace(card, photo_wlt=b"", fingerprint=b"")
    with_fp = parse_read_reply(encode_read_reply(card, True), with_fingerprint=True)
    assert with_fp == card
    base = parse_read_reply(encode_read_reply(card, False), with_fingerprint=False)
    assert base == replace(card, fingerprint=b"") and len(base.photo_wlt) == 1024


def test_sample_cards_cover_types_and_checksums() -> None:
    cards = sample_cards()
    assert {c.card_type for c in cards.values()} == {CARD_RESIDENT, CARD_HK_MO_TW, CARD_FOREIGN_2017, CARD_FOREIGN_2023}
    assert cards["elder"].valid_to == "长期" and cards["elder"].sex == "2"
    assert cards["zhangsan"].name == "张三" and cards["zhangsan"].nation == "01"
    for key in ("zhangsan", "elder", "hk_resident", "foreigner_2023"):
        assert id_checksum_ok(cards[key].id_number), key
    assert encode_text(cards["hk_resident"])[248:250] == b"J\x00"


def test_only_trailing_padding_is_stripped() -> None:
    card = IdCardData(card_type=CARD_FOREIGN_2017, name_en=" MARY  ANN ", name="玛丽")
    block = bytearray(encode_text(card))
    block[0 + 2 * len(" MARY  ANN") : 120] = b"\x00" * (120 - 2 * len(" MARY  ANN"))  # NUL padding
    assert parse_text(bytes(block)).name_en == " MARY  ANN"


def test_unknown_type_flag_and_bad_sizes() -> None:
    block = bytearray(encode_text(IdCardData(name="张三")))
    block[248:250] = b"Q\x00"
    with pytest.raises(CardReadError) as info:
        parse_text(bytes(block))
    assert info.value.code == "unknown_card_type"
    with pytest.raises(ProtocolError):
        parse_text(bytes(255))
    payload = encode_read_reply(sample_cards()["zhangsan"], False)
    with pytest.raises(ProtocolError):
        parse_read_reply(payload[:-1], with_fingerprint=False)
    with pytest.raises(ProtocolError):
        parse_read_reply(payload, with_fingerprint=True)  # the 3rd length word is really text
    with pytest.raises(ValueError):
        encode_text(IdCardData(name="一二三四五六七八九十一二三四五六"))  # 16 chars > 15


# -- checksums, masking, repr ----------------------------------------------------------------------


def test_id_checksum() -> None:
    assert id_checksum_ok("11010519491231002X")  # the GB 11643 example
    assert id_checksum_ok("11010519491231002x")
    assert not id_checksum_ok("110105194912310021")
    assert not id_checksum_ok("USA110075061201")
    assert not id_checksum_ok("1101051949123100２X")  # full-width digit
    assert id_check_digit("11010519491231002") == "X"


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("张三", "张*"),
        ("张小三", "张*三"),
        ("欧阳小明", "欧**明"),
        ("王", "*"),
        ("", ""),
        ("ZHANG SAN", "Z***"),
        ("SMITH, MARY", "S***"),
        ("阿依古丽·买买提", "阿******提"),
    ],
)
def test_mask_name(name: str, masked: str) -> None:
    assert mask_name(name) == masked


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("110101198001011234", "110***********1234"),
        ("USA110075061201", "USA********1201"),
        ("1234567", "******7"),
        ("123", "***"),
        ("", ""),
    ],
)
def test_mask_id(number: str, masked: str) -> None:
    assert mask_id(number) == masked


def test_repr_masks_personal_data() -> None:
    card = sample_cards()["zhangsan"]
    text = repr(card) + str(card) + repr([card]) + f"{card}"
    assert "张三" not in text and card.id_number not in text and card.address not in text
    assert "张*" in text and mask_id(card.id_number) in text
