"""Social-security card, without PC/SC: APDUs, 61xx/6Cxx, status words, TLV/GBK/BCD, the read
sequence against the emulator's card logic, and masking.

The property tests (hypothesis) run a modest number of examples by default, profile
``sscard-fast``. For a longer search run::

    SSCARD_HYPOTHESIS_PROFILE=sscard-long pytest -q tests/test_sscard_records.py

(``sscard-long`` tries 20,000 examples per property; neither profile writes a ``.hypothesis`` database.)
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.emulators.vpcd import SsseCard, parse_command, sample_cards
from devices.errors import CardReadError, DeviceError, DeviceTimeout, DeviceUnavailable
from devices.sscard import apdu, pcsc
from devices.sscard.card import read_card
from devices.sscard.errors import CardPinBlocked, MalformedRecord, NotSocialSecurityCard
from devices.sscard.records import (
    EF05_FIELDS,
    EF06_FIELDS,
    FIELD_BY_TAG,
    Convention,
    InsuranceCardData,
    card_from_records,
    decode_bcd,
    decode_date,
    decode_field,
    decode_gbk,
    encode_records,
    encode_tlv,
    parse_record,
    parse_tlvs,
    read_record_apdu,
)

CARDS = sample_cards()
ZHANG = CARDS["zhangsan"]


# ---- APDUs


def test_ssse_aid_is_the_gbk_of_sx1_sh_shehuibaozhang() -> None:
    assert apdu.SSSE_AID.hex().upper() == "7378312E73682EC9E7BBE1B1A3D5CF"
    assert apdu.select_aid().hex().upper() == "00A404000F7378312E73682EC9E7BBE1B1A3D5CF"
    assert apdu.select_fid(apdu.EF05).hex().upper() == "00A4020002EF05"
    assert apdu.select_fid(apdu.EF06, apdu.SELECT_ANY).hex().upper() == "00A4000002EF06"


def test_read_record_in_both_conventions_matches_the_field_code() -> None:
    by_tag = FIELD_BY_TAG
    # P2=04, P1 = record number in the current EF (tecsun: 00B2010414 = ID number, 00B2020420 = name)
    assert read_record_apdu(by_tag[0x08], Convention.RECORD_NUMBER).hex().upper() == "00B2010414"
    assert read_record_apdu(by_tag[0x09], Convention.RECORD_NUMBER).hex().upper() == "00B2020420"
    assert read_record_apdu(by_tag[0x07], Convention.RECORD_NUMBER).hex().upper() == "00B207040B"
    # P2=00, P1 = record identifier = tag (hiquotion/HD_XJDLL: 00B2080014, 00B2090020, 00B20A0003)
    assert read_record_apdu(by_tag[0x08], Convention.RECORD_ID).hex().upper() == "00B2080014"
    assert read_record_apdu(by_tag[0x09], Convention.RECORD_ID).hex().upper() == "00B2090020"
    assert read_record_apdu(by_tag[0x0A], Convention.RECORD_ID).hex().upper() == "00B20A0003"
    assert [f.record_number for f in EF06_FIELDS] == [1, 2, 3, 4, 5, 6]
    assert [f.record_number for f in EF05_FIELDS] == [1, 2, 3, 4, 5, 6, 7]


def test_with_le_sets_le_for_every_case() -> None:
    assert apdu.with_le(bytes.fromhex("00B20704"), 0x0B) == bytes.fromhex("00B207040B")  # case 1
    assert apdu.with_le(bytes.fromhex("00B2070420"), 0x0B) == bytes.fromhex("00B207040B")  # case 2
    assert apdu.with_le(bytes.fromhex("00A4020002EF05"), 0x10) == bytes.fromhex("00A4020002EF0510")  # case 3
    assert apdu.with_le(bytes.fromhex("00A4020002EF0500"), 0x10) == bytes.fromhex("00A4020002EF0510")  # case 4


def test_no_apdu_builder_can_make_a_verify() -> None:
    built = [apdu.select_aid(), apdu.select_fid(apdu.EF05), apdu.get_response(5)]
    built += [read_record_apdu(f, c) for f in EF05_FIELDS + EF06_FIELDS for c in Convention]
    assert all(b[1] != apdu.INS_VERIFY for b in built)


# ---- 61xx / 6Cxx


class ScriptedCard:
    """A fake transmit: answers in order, records what was sent."""

    def __init__(self, answers: Iterable[str]) -> None:
        self.answers = [bytes.fromhex(a) for a in answers]
        self.sent: list[str] = []

    def __call__(self, command: bytes) -> bytes:
        self.sent.append(command.hex().upper())
        return self.answers.pop(0)


def test_61xx_is_followed_by_get_response() -> None:
    card = ScriptedCard(["6105", "01020304059000"])
    resp = apdu.transmit(card, apdu.select_aid())
    assert resp == apdu.Response(bytes.fromhex("0102030405"), 0x9000)
    assert card.sent[1] == "00C0000005"


def test_chained_61xx_collects_all_parts() -> None:
    card = ScriptedCard(["6103", "AABBCC6102", "DDEE9000"])
    resp = apdu.transmit(card, apdu.select_aid())
    assert resp.data == bytes.fromhex("AABBCCDDEE") and resp.ok
    assert card.sent[1:] == ["00C0000003", "00C0000002"]


def test_6cxx_resends_with_the_exact_le() -> None:
    card = ScriptedCard(["6C14", "0812" + "31" * 18 + "9000"])
    resp = apdu.transmit(card, bytes.fromhex("00B2010400"))
    assert resp.ok and resp.data[:2] == b"\x08\x12"
    assert card.sent == ["00B2010400", "00B2010414"]


def test_6cxx_then_61xx_and_6cxx_on_get_response() -> None:
    card = ScriptedCard(["6C02", "6102", "6C02", "AABB9000"])
    resp = apdu.transmit(card, bytes.fromhex("00B2010400"))
    assert resp.data == b"\xaa\xbb" and resp.ok
    assert card.sent == ["00B2010400", "00B2010402", "00C0000002", "00C0000002"]


def test_6cxx_is_followed_only_once() -> None:
    card = ScriptedCard(["6C05", "6C06"])
    assert apdu.transmit(card, bytes.fromhex("00B2010400")).sw == 0x6C06


def test_a_card_that_keeps_answering_61xx_is_cut_off() -> None:
    card = ScriptedCard(["6101"] + ["006101"] * (apdu.MAX_GET_RESPONSE_ROUNDS + 1))
    with pytest.raises(CardReadError) as info:
        apdu.transmit(card, apdu.select_aid())
    assert info.value.code == "apdu_get_response_loop"


def test_empty_and_short_responses_are_keyed_errors() -> None:
    with pytest.raises(CardReadError) as empty:
        apdu.transmit(ScriptedCard([""]), apdu.select_aid())
    assert empty.value.code == "card_removed"
    with pytest.raises(CardReadError) as short:
        apdu.transmit(ScriptedCard(["90"]), apdu.select_aid())
    assert short.value.code == "apdu_malformed_response"


# ---- Status words


def test_status_words_map_to_keyed_errors() -> None:
    assert apdu.error_for_sw(0x9000, "x") is None
    not_ss = apdu.error_for_sw(0x6A82, "select SSSE", selecting_ssse=True)
    assert isinstance(not_ss, NotSocialSecurityCard) and isinstance(not_ss, CardReadError)
    assert (not_ss.code, not_ss.tr_key) == ("not_social_security_card", "sscard.not_social_security_card")
    other = apdu.error_for_sw(0x6A82, "select EF05")
    assert type(other) is CardReadError and "6A82" in other.detail
    blocked = apdu.error_for_sw(0x6983, "read")
    assert isinstance(blocked, CardPinBlocked) and blocked.attempts_left == 0 and blocked.code == "card_pin_blocked"
    left = apdu.error_for_sw(0x63C2, "read")
    assert isinstance(left, CardPinBlocked) and left.attempts_left == 2 and left.code == "card_pin_attempts_left"
    assert left.tr_key == "sscard.pin_blocked"
    none_left = apdu.error_for_sw(0x63C0, "read")
    assert isinstance(none_left, CardPinBlocked) and none_left.code == "card_pin_blocked"
    security = apdu.error_for_sw(0x6982, "read")
    assert isinstance(security, CardPinBlocked) and security.attempts_left is None


def test_status_word_table_describes_every_family() -> None:
    assert apdu.describe_sw(0x6A82).startswith("file or application not found")
    assert apdu.describe_sw(0x6110) == "16 more bytes available (GET RESPONSE)"
    assert apdu.describe_sw(0x6C0B) == "wrong Le, exact length is 11"
    assert apdu.describe_sw(0x63C1) == "verification failed, 1 tries left"
    assert apdu.describe_sw(0x1234) == "unknown status"
    assert all(apdu.describe_sw(sw) == text for sw, text in apdu.SW_TABLE.items())


# ---- TLV, GBK, BCD


def test_tlv_parsing() -> None:
    assert parse_tlvs(bytes.fromhex("0304332E3030")) == [parse_tlvs(encode_tlv(3, b"3.00"))[0]]
    assert [t.tag for t in parse_tlvs(bytes.fromhex("0101AA0200" + "0000FFFF"))] == [1, 2]
    assert parse_tlvs(b"") == []
    assert parse_record(bytes.fromhex("0304332E3030"), 0x03) == b"3.00"
    for bad in ("03", "0305332E3030", "0304332E30", "0304332E303000AA"):
        with pytest.raises(MalformedRecord):
            parse_record(bytes.fromhex(bad), 0x03)
    with pytest.raises(MalformedRecord, match="expected tag 07"):
        parse_record(bytes.fromhex("0304332E3030"), 0x07)
    with pytest.raises(MalformedRecord, match="empty"):
        parse_record(bytes.fromhex("FFFF"), 0x07)


def test_gbk_names_are_stripped_by_byte() -> None:
    name = "张三".encode("gbk")
    assert decode_gbk(name + b"\x00" * 26) == "张三"
    assert decode_gbk(name + b"\x20" * 26) == "张三"
    assert decode_gbk(name + b"\xff" * 26) == "张三"
    # A value whose hex holds "00" and "9000" across byte boundaries (the tecsun bug) survives.
    # 寪 is 8C 90: with the padding its hex reads "8C9000…", which a text-level strip would eat.
    assert decode_gbk("李寪".encode("gbk") + b"\x00" * 26) == "李寪"
    assert decode_gbk("䶮".encode("gb18030") + b"\x00") == "䶮"  # four-byte rare character
    with pytest.raises(MalformedRecord):
        decode_gbk(b"\xc9")  # a lead byte without its trail
    with pytest.raises(MalformedRecord):
        decode_gbk(b"\x01\x02")


def test_bcd_and_dates() -> None:
    assert decode_bcd(bytes.fromhex("110101")) == "110101"
    assert decode_bcd(bytes.fromhex("4401FF")) == "4401"
    assert decode_date(bytes.fromhex("20200315")) == "20200315"
    assert decode_date(bytes.fromhex("00000000")) == ""
    assert decode_date(bytes.fromhex("FFFFFFFF")) == ""
    for bad in ("2020031A", "20201315", "202003FF"):
        with pytest.raises(MalformedRecord):
            decode_date(bytes.fromhex(bad))
    with pytest.raises(MalformedRecord):
        decode_bcd(bytes.fromhex("1F23"))


def test_nation_and_sex_fields() -> None:
    assert decode_field(FIELD_BY_TAG[0x0B], b"\x01") == "01"
    assert decode_field(FIELD_BY_TAG[0x0A], b"1") == "1"
    assert decode_field(FIELD_BY_TAG[0x0A], b"\x02") == "2"
    assert decode_field(FIELD_BY_TAG[0x01], bytes.fromhex("330300D15600000599110145FFFFFFFF")).startswith("330300")


@pytest.mark.parametrize("key", sorted(CARDS))
def test_records_round_trip(key: str) -> None:
    assert card_from_records(encode_records(CARDS[key])) == CARDS[key]


def test_region_and_generation() -> None:
    assert ZHANG.region == "110100"
    assert ZHANG.generation == 3
    assert CARDS["first_generation"].region == "" and CARDS["first_generation"].generation == 1


def test_missing_required_records_fail_the_read() -> None:
    records = encode_records(ZHANG)
    del records[0x09]
    with pytest.raises(MalformedRecord) as info:
        card_from_records(records)
    assert info.value.code == "sscard_record_missing" and "name" in info.value.detail


def test_unknown_tags_are_ignored() -> None:
    records = {**encode_records(ZHANG), 0x4E: encode_tlv(0x4E, b"ext")}
    assert card_from_records(records) == ZHANG


def test_repr_masks_name_id_and_card_number() -> None:
    text = repr(ZHANG)
    assert ZHANG.name not in text and ZHANG.id_number not in text and ZHANG.card_number not in text
    assert "张*" in text and "110***********0010" in text
    assert str(ZHANG) == text


# ---- The read sequence against the emulator's card logic


def _read(card: SsseCard) -> InsuranceCardData:
    def send(command: bytes) -> bytes:
        reply = card.answer(command)
        assert reply is not None
        return reply

    return read_card(send)


@pytest.mark.parametrize("t0", [True, False])
@pytest.mark.parametrize(
    "conventions",
    [(Convention.RECORD_NUMBER, Convention.RECORD_ID), (Convention.RECORD_NUMBER,), (Convention.RECORD_ID,)],
)
def test_read_sequence_works_with_either_convention(t0: bool, conventions: tuple[Convention, ...]) -> None:
    card = SsseCard(ZHANG, t0=t0, conventions=conventions)
    assert _read(card) == ZHANG
    assert card.commands[apdu.INS_VERIFY] == 0
    assert card.commands[apdu.INS_GET_RESPONSE] == (1 if t0 else 0)


def test_a_shorter_name_record_is_read_through_6cxx() -> None:
    card = SsseCard(ZHANG, t0=True, name_length=20)
    assert _read(card) == ZHANG
    wrong_le = parse_command(read_record_apdu(FIELD_BY_TAG[0x09], Convention.RECORD_NUMBER))
    assert wrong_le is not None and wrong_le.le == 32
    assert card.commands[apdu.INS_READ_RECORD] == 13 + 1  # one resend for the name


def test_a_card_without_optional_records_reads() -> None:
    card = SsseCard(CARDS["first_generation"])
    got = _read(card)
    assert got == CARDS["first_generation"] and got.card_id == "" and got.issue_date == ""


def test_not_a_social_security_card() -> None:
    with pytest.raises(NotSocialSecurityCard):
        _read(SsseCard(ZHANG, faults={"not_social_security"}))


@pytest.mark.parametrize(("fault", "left"), [("pin_blocked", 0), ("pin_attempts_left", 2)])
def test_pin_protected_ef06_is_reported_and_never_verified(fault: str, left: int) -> None:
    card = SsseCard(ZHANG, faults={fault})
    with pytest.raises(CardPinBlocked) as info:
        _read(card)
    assert info.value.attempts_left == left
    assert card.commands[apdu.INS_VERIFY] == 0


def test_emulated_card_answers_like_a_t0_card() -> None:
    card = SsseCard(ZHANG)
    assert card.answer(bytes.fromhex("00B2010414")) == bytes.fromhex("6A82")  # nothing selected yet
    assert card.answer(apdu.select_aid()) == bytes.fromhex("6113")
    assert card.answer(apdu.get_response(0x20)) == bytes.fromhex("6C13")
    fci = card.answer(apdu.get_response(0x13))
    assert fci is not None and fci[-2:] == b"\x90\x00" and apdu.SSSE_AID in fci
    # EF05 by SFI without selecting it (HD_XJDLL's 00 B2 07 2C 0B): the card number.
    number = card.answer(bytes.fromhex("00B2072C0B"))
    assert number == b"\x07\x09A12345678\x90\x00"
    assert card.answer(bytes.fromhex("00B2010400")) == bytes.fromhex("6986")  # no current EF
    assert card.answer(apdu.select_fid(apdu.EF06)) == bytes.fromhex("9000")
    assert card.answer(bytes.fromhex("00B2010400")) == bytes.fromhex("6C14")
    assert card.answer(bytes.fromhex("80B2010414")) == bytes.fromhex("6E00")
    assert card.answer(bytes.fromhex("00B2")) == bytes.fromhex("6700")


def test_the_read_stops_at_its_deadline() -> None:
    card = SsseCard(ZHANG)
    with pytest.raises(CardReadError) as info:
        read_card(lambda c: card.answer(c) or b"", deadline=0.0)
    assert info.value.code == "card_read_timeout"


# ---- PC/SC results


def test_pcsc_results_map_to_keyed_errors() -> None:
    assert isinstance(pcsc.error_for(pcsc.E_NO_SERVICE, "x"), DeviceUnavailable)
    assert pcsc.error_for(pcsc.E_NO_SERVICE, "x").code == pcsc.REASON_PCSCD_DOWN
    assert pcsc.error_for(pcsc.E_UNKNOWN_READER, "x").code == pcsc.REASON_READER_ABSENT
    assert pcsc.error_for(pcsc.W_REMOVED_CARD, "x").code == "card_removed"
    assert isinstance(pcsc.error_for(pcsc.E_NOT_TRANSACTED, "x"), CardReadError)
    assert isinstance(pcsc.error_for(pcsc.E_TIMEOUT, "x"), DeviceTimeout)
    unknown = pcsc.error_for(0x80100001, "x")
    assert type(unknown) is DeviceError and unknown.code == "pcsc_error"


def test_reader_name_matching() -> None:
    names = ["Virtual PCD 00 00", "Virtual PCD 00 01", "ACS ACR39U 01 00"]
    assert pcsc.pick_reader(names, "") == "Virtual PCD 00 00"
    assert pcsc.pick_reader(names, "Virtual PCD 00 01") == "Virtual PCD 00 01"
    assert pcsc.pick_reader(names, "acr39") == "ACS ACR39U 01 00"
    assert pcsc.pick_reader(names, "Gemalto") is None
    assert pcsc.pick_reader([], "") is None


# ---- Properties

settings.register_profile("sscard-fast", max_examples=60, deadline=None, database=None)
settings.register_profile("sscard-long", max_examples=20_000, deadline=None, database=None)
PROFILE = settings(settings.get_profile(os.environ.get("SSCARD_HYPOTHESIS_PROFILE", "sscard-fast")))


@PROFILE
@given(st.binary(max_size=300))
def test_tlv_parser_raises_only_its_keyed_error(data: bytes) -> None:
    try:
        tlvs = parse_tlvs(data)
    except MalformedRecord:
        return
    assert sum(2 + len(t.value) for t in tlvs) <= len(data)


@PROFILE
@given(st.integers(0, 255), st.binary(max_size=64))
def test_every_field_decoder_raises_only_its_keyed_error(tag: int, value: bytes) -> None:
    spec = FIELD_BY_TAG.get(tag % 0x0D + 1)
    assert spec is not None
    try:
        decode_field(spec, value)
        parse_record(value, tag)
    except MalformedRecord:
        pass


@PROFILE
@given(st.dictionaries(st.integers(0, 0x10), st.binary(max_size=40), max_size=14))
def test_records_from_any_bytes_give_a_card_or_a_keyed_error(records: dict[int, bytes]) -> None:
    try:
        card = card_from_records(records)
    except CardReadError:
        return
    assert card.card_number and card.name and card.id_number


@PROFILE
@given(st.lists(st.binary(max_size=12), min_size=1, max_size=40))
def test_transmit_against_any_answers_gives_a_response_or_a_keyed_error(answers: list[bytes]) -> None:
    script = iter(answers)

    def send(_command: bytes) -> bytes:
        return next(script, b"")

    try:
        resp = apdu.transmit(send, apdu.select_aid())
    except CardReadError:
        return
    assert 0 <= resp.sw <= 0xFFFF


_NAME_CHARS = st.characters(codec="gbk", categories=["Lo"])


@PROFILE
@given(
    name=st.text(_NAME_CHARS, min_size=1, max_size=15),
    number=st.from_regex(r"[A-Z][0-9]{8}", fullmatch=True),
    digits=st.from_regex(r"[0-9]{17}[0-9X]", fullmatch=True),
    birth=st.dates().map(lambda d: d.strftime("%Y%m%d")).filter(lambda s: len(s) == 8),
    nation=st.integers(1, 0x58).map(lambda n: f"{n:02X}"),
)
def test_any_card_round_trips(name: str, number: str, digits: str, birth: str, nation: str) -> None:
    card = replace(ZHANG, name=name, card_number=number, id_number=digits, birth=birth, nation=nation)
    assert card_from_records(encode_records(card)) == card
