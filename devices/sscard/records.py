"""EF05/EF06 records of the SSSE application: TLV parsing, field decoding, and the card data.

Each record is ``tag(1) len(1) value``. Values are decoded at the byte level (padding stripped by
byte, never by searching the hex text for "00" or "9000", which corrupts values that contain them).
Every malformed input raises :class:`MalformedRecord` and nothing else.
"""

from __future__ import annotations

import datetime
import enum
from collections.abc import Mapping
from dataclasses import dataclass

from devices.idcard.masking import mask_id, mask_name
from devices.sscard import apdu
from devices.sscard.errors import MalformedRecord


class Encoding(enum.Enum):
    HEX = "hex"  # binary shown as upper-case hex digits
    ASCII = "ascii"
    GBK = "gbk"
    BCD = "bcd"  # packed digits, 0xF nibbles pad the end
    DATE = "date"  # BCD YYYYMMDD
    BYTE = "byte"  # one byte shown as 2 hex digits (民族 "01" = 汉)


@dataclass(frozen=True)
class FieldSpec:
    tag: int
    ef: int
    length: int  # the value length cards are personalised with; Le = length + 2 (tag, len)
    attr: str
    encoding: Encoding

    @property
    def record_number(self) -> int:
        """Position inside its EF: EF05 holds tags 01..07 as records 1..7, EF06 tags 08..0D as 1..6."""
        return self.tag if self.ef == apdu.EF05 else self.tag - 0x07


EF05_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec(0x01, apdu.EF05, 16, "card_id", Encoding.HEX),  # 卡识别码
    FieldSpec(0x02, apdu.EF05, 1, "card_type", Encoding.ASCII),  # 卡的类别
    FieldSpec(0x03, apdu.EF05, 4, "card_version", Encoding.ASCII),  # 规范版本
    FieldSpec(0x04, apdu.EF05, 12, "issuer_org", Encoding.HEX),  # 初始化机构编号
    FieldSpec(0x05, apdu.EF05, 4, "issue_date", Encoding.DATE),  # 发卡日期
    FieldSpec(0x06, apdu.EF05, 4, "expiry_date", Encoding.DATE),  # 卡有效期
    FieldSpec(0x07, apdu.EF05, 9, "card_number", Encoding.ASCII),  # 社会保障卡卡号
)
EF06_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec(0x08, apdu.EF06, 18, "id_number", Encoding.ASCII),  # 社会保障号码
    FieldSpec(0x09, apdu.EF06, 30, "name", Encoding.GBK),  # 姓名
    FieldSpec(0x0A, apdu.EF06, 1, "sex", Encoding.ASCII),  # 性别
    FieldSpec(0x0B, apdu.EF06, 1, "nation", Encoding.BYTE),  # 民族
    FieldSpec(0x0C, apdu.EF06, 3, "birth_place", Encoding.BCD),  # 出生地
    FieldSpec(0x0D, apdu.EF06, 4, "birth", Encoding.DATE),  # 出生日期
)
FIELDS: tuple[FieldSpec, ...] = EF05_FIELDS + EF06_FIELDS
FIELD_BY_TAG: dict[int, FieldSpec] = {f.tag: f for f in FIELDS}
REQUIRED_TAGS = frozenset({0x07, 0x08, 0x09})  # card number, ID number, name: without them the read failed


class Convention(enum.Enum):
    """READ RECORD P1/P2: both are found in the field and both work on real cards."""

    RECORD_NUMBER = 0x04  # P2=04: P1 is the record number in the current EF (tecsun, Z390Kylin)
    RECORD_ID = 0x00  # P2=00: P1 is the record identifier, i.e. the TLV tag (hiquotion, HD_XJDLL)


def read_record_apdu(spec: FieldSpec, convention: Convention, le: int | None = None) -> bytes:
    p1 = spec.record_number if convention is Convention.RECORD_NUMBER else spec.tag
    return apdu.read_record(p1, convention.value, spec.length + 2 if le is None else le)


# ---- TLV


@dataclass(frozen=True)
class Tlv:
    tag: int
    value: bytes


_FILL = frozenset((0x00, 0xFF))  # unwritten space after the last TLV


def parse_tlvs(data: bytes) -> list[Tlv]:
    """Consecutive one-byte-tag, one-byte-length TLVs; trailing 00/FF fill ends the list."""
    out: list[Tlv] = []
    i, n = 0, len(data)
    while i < n:
        if data[i] in _FILL and all(b in _FILL for b in data[i:]):
            break
        if i + 2 > n:
            raise MalformedRecord(f"TLV header truncated at offset {i}")
        length = data[i + 1]
        end = i + 2 + length
        if end > n:
            raise MalformedRecord(f"TLV tag {data[i]:02X} claims {length} bytes, {n - i - 2} left")
        out.append(Tlv(data[i], bytes(data[i + 2 : end])))
        i = end
    return out


def parse_record(data: bytes, tag: int) -> bytes:
    """The value of the record ``tag`` (the record must start with that tag)."""
    tlvs = parse_tlvs(data)
    if not tlvs:
        raise MalformedRecord(f"record {tag:02X} is empty")
    if tlvs[0].tag != tag:
        raise MalformedRecord(f"expected tag {tag:02X}, record starts with {tlvs[0].tag:02X}")
    return tlvs[0].value


def encode_tlv(tag: int, value: bytes) -> bytes:
    if not 0 <= tag <= 0xFF or len(value) > 0xFF:
        raise ValueError("tag and length are one byte each")
    return bytes((tag, len(value))) + value


# ---- Field decoding

_PAD = b"\x00\x20\xff"


def decode_ascii(value: bytes) -> str:
    raw = value.split(b"\x00", 1)[0].rstrip(_PAD)
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError as err:
        raise MalformedRecord("non-ASCII byte in an ASCII field") from err
    if not text.isprintable():
        raise MalformedRecord("control character in an ASCII field")
    return text


def decode_gbk(value: bytes) -> str:
    """GBK text padded with 00/20/FF. Decoded as GB18030, its superset, so rare name characters
    (生僻字) written with four-byte codes still come out right; padding bytes can never be part of a
    GBK character (trail bytes are 40..FE), so stripping them by byte is safe."""
    raw = value.split(b"\x00", 1)[0].rstrip(_PAD)
    try:
        text = raw.decode("gb18030")
    except UnicodeDecodeError as err:
        raise MalformedRecord("invalid GBK text") from err
    if not text.isprintable():
        raise MalformedRecord("control character in a GBK field")
    return text.strip()


def decode_bcd(value: bytes) -> str:
    digits: list[str] = []
    for b in value:
        digits.extend((f"{b >> 4:X}", f"{b & 0x0F:X}"))
    text = "".join(digits).rstrip("F")
    if not text.isdigit() and text:
        raise MalformedRecord("non-decimal nibble in a BCD field")
    return text


def decode_date(value: bytes) -> str:
    """BCD YYYYMMDD; an unwritten date (all 00 or all FF) is ""."""
    if all(b == 0x00 for b in value) or all(b == 0xFF for b in value):
        return ""
    text = decode_bcd(value)
    if len(text) != 8:
        raise MalformedRecord(f"date has {len(text)} digits, expected 8")
    try:
        datetime.date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError as err:
        raise MalformedRecord("date out of range") from err
    return text


def decode_field(spec: FieldSpec, value: bytes) -> str:
    enc = spec.encoding
    if enc is Encoding.HEX:
        return value.hex().upper()
    if enc is Encoding.GBK:
        return decode_gbk(value)
    if enc is Encoding.BCD:
        return decode_bcd(value)
    if enc is Encoding.DATE:
        return decode_date(value)
    if enc is Encoding.BYTE:
        if len(value) != 1:
            raise MalformedRecord(f"tag {spec.tag:02X} has {len(value)} bytes, expected 1")
        return f"{value[0]:02X}"
    if spec.attr == "sex" and len(value) == 1 and 1 <= value[0] <= 9:
        return str(value[0])  # some issuers write the code as a binary digit instead of ASCII
    return decode_ascii(value)


# ---- Field encoding (the emulator personalises its cards with these)


def encode_field(spec: FieldSpec, text: str, *, length: int | None = None) -> bytes:
    """The value bytes for ``text``, padded to the field length; ``ValueError`` if it does not fit."""
    size = spec.length if length is None else length
    enc = spec.encoding
    if enc is Encoding.HEX:
        raw = bytes.fromhex(text)
        if len(raw) != size:
            raise ValueError(f"{spec.attr}: {len(raw)} bytes, field holds {size}")
        return raw
    if enc in (Encoding.BCD, Encoding.DATE):
        if not text.isdigit() or len(text) > 2 * size:
            raise ValueError(f"{spec.attr}: not up to {2 * size} digits")
        return bytes.fromhex(text.ljust(2 * size, "F"))
    if enc is Encoding.BYTE:
        return bytes.fromhex(text.rjust(2, "0"))
    raw = text.encode("gb18030" if enc is Encoding.GBK else "ascii")
    if len(raw) > size:
        raise ValueError(f"{spec.attr}: {len(raw)} bytes, field holds {size}")
    # Names are padded with 00 (most issuers); ASCII fields are normally full, else space padded.
    return raw.ljust(size, b"\x00" if enc is Encoding.GBK else b" ")


# ---- The card


@dataclass(frozen=True, repr=False)
class InsuranceCardData:
    """What a social-security card says about its holder; ``repr`` masks the personal fields."""

    card_number: str  # 社会保障卡卡号, what the insurance platform calls mdtrt_cert_no for type 03
    name: str
    id_number: str  # 社会保障号码, the resident ID number
    sex: str = ""  # "1" male, "2" female (GB/T 2261.1)
    nation: str = ""  # GB/T 3304 code, "01" = 汉
    birth: str = ""  # YYYYMMDD
    birth_place: str = ""  # region code digits
    issue_date: str = ""  # YYYYMMDD
    expiry_date: str = ""  # YYYYMMDD, "" if the card has none
    card_id: str = ""  # 卡识别码, 32 hex digits: the platform's card_sn
    card_type: str = ""
    card_version: str = ""  # 规范版本: "1.00", "2.00", "3.00"
    issuer_org: str = ""  # 初始化机构编号, hex

    @property
    def region(self) -> str:
        """统筹区 (the issuing region's division code): the first six digits of the card id."""
        return self.card_id[:6]

    @property
    def generation(self) -> int | None:
        """1, 2 or 3 for a 1.00 / 2.00 / 3.00 card; None if the version is not a number."""
        head = self.card_version.split(".", 1)[0]
        return int(head) if head.isdigit() else None

    def __repr__(self) -> str:
        return (
            f"InsuranceCardData(card_number={mask_id(self.card_number)!r}, name={mask_name(self.name)!r}, "
            f"id_number={mask_id(self.id_number)!r}, sex={self.sex!r}, birth={self.birth!r}, "
            f"region={self.region!r}, card_version={self.card_version!r}, expiry_date={self.expiry_date!r})"
        )


def card_from_records(records: Mapping[int, bytes]) -> InsuranceCardData:
    """Build the card from raw records (tag -> record bytes as read, TLV included)."""
    values: dict[str, str] = {}
    for tag, data in records.items():
        spec = FIELD_BY_TAG.get(tag)
        if spec is None:
            continue  # tags this driver does not know (4E 姓名扩展 …) are not an error
        values[spec.attr] = decode_field(spec, parse_record(data, tag))
    missing = [FIELD_BY_TAG[t].attr for t in sorted(REQUIRED_TAGS) if not values.get(FIELD_BY_TAG[t].attr)]
    if missing:
        raise MalformedRecord(f"card lacks {', '.join(missing)}", code="sscard_record_missing")
    return InsuranceCardData(**values)


def encode_records(card: InsuranceCardData, *, name_length: int = 30) -> dict[int, bytes]:
    """Records for a card (tag -> TLV bytes); empty optional fields are left out."""
    out: dict[int, bytes] = {}
    for spec in FIELDS:
        text: str = getattr(card, spec.attr)
        if not text:
            continue
        length = name_length if spec.attr == "name" else None
        out[spec.tag] = encode_tlv(spec.tag, encode_field(spec, text, length=length))
    return out
