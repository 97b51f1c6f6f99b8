"""The 256-byte text block of 居民身份证 and the three other cards the same reader reads.

All fields are UCS-2 little-endian padded with spaces; the card type flag sits at offset 248
(notes §1.8-1.9). Only trailing padding is stripped, so interior spaces of English names survive.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Any

from devices.errors import CardReadError, ProtocolError
from devices.idcard.masking import mask_id, mask_name

log = logging.getLogger(__name__)

TEXT_LEN = 256
TYPE_FLAG_OFFSET = 248
LONG_TERM = "长期"  # valid_to of cards issued to holders over 46: no expiry date

CARD_RESIDENT = "resident"  # 居民身份证
CARD_HK_MO_TW = "hk_mo_tw"  # 港澳台居民居住证, flag 'J'
CARD_FOREIGN_2017 = "foreign_2017"  # 外国人永久居留身份证 2017, flag 'I'
CARD_FOREIGN_2023 = "foreign_2023"  # 外国人永久居留身份证 2023, flag 'Y'

_FLAG_TO_TYPE = {
    " ": CARD_RESIDENT,
    "\x00": CARD_RESIDENT,
    "J": CARD_HK_MO_TW,
    "I": CARD_FOREIGN_2017,
    "Y": CARD_FOREIGN_2023,
}
_TYPE_TO_FLAG = {CARD_RESIDENT: " ", CARD_HK_MO_TW: "J", CARD_FOREIGN_2017: "I", CARD_FOREIGN_2023: "Y"}

# (field, offset, size in bytes); bytes not covered are reserved and written as spaces.
_Layout = tuple[tuple[str, int, int], ...]
_RESIDENT: _Layout = (
    ("name", 0, 30),
    ("sex", 30, 2),
    ("nation", 32, 4),
    ("birth", 36, 16),
    ("address", 52, 70),
    ("id_number", 122, 36),
    ("authority", 158, 30),
    ("valid_from", 188, 16),
    ("valid_to", 204, 16),
)
_HK_MO_TW: _Layout = (*_RESIDENT, ("pass_number", 220, 18), ("issue_count", 238, 4))
_FOREIGN_2017: _Layout = (
    ("name_en", 0, 120),
    ("sex", 120, 2),
    ("id_number", 122, 30),
    ("nationality", 152, 6),
    ("name", 158, 30),
    ("valid_from", 188, 16),
    ("valid_to", 204, 16),
    ("birth", 220, 16),
    ("card_version", 236, 4),
    ("authority", 240, 8),  # 受理机关代码
)
_FOREIGN_2023: _Layout = (
    ("name", 0, 30),
    ("sex", 30, 2),
    ("issue_count", 32, 4),  # 换证次数
    ("birth", 36, 16),
    ("id_number", 122, 36),
    ("valid_from", 188, 16),
    ("valid_to", 204, 16),
    ("nationality", 242, 6),
    ("old_id_ref", 250, 6),  # 旧证号码关联项
)
# The 2023 card splits the English name: characters 1-35 at 52, 36-46 at 220.
_NAME_EN_2023 = ((52, 70), (220, 22))
_LAYOUTS: dict[str, _Layout] = {
    CARD_RESIDENT: _RESIDENT,
    CARD_HK_MO_TW: _HK_MO_TW,
    CARD_FOREIGN_2017: _FOREIGN_2017,
    CARD_FOREIGN_2023: _FOREIGN_2023,
}


@dataclass(frozen=True, repr=False)
class IdCardData:
    """What one read returns. Fields not printed on a card type stay empty strings."""

    card_type: str = CARD_RESIDENT
    name: str = ""
    name_en: str = ""
    sex: str = ""  # GB/T 2261.1 code: "1" male, "2" female, "9" unspecified
    nation: str = ""  # 民族 code "01".."56", "97", "98"; empty on non-resident cards
    birth: str = ""  # YYYYMMDD
    address: str = ""
    id_number: str = ""
    authority: str = ""  # 签发机关; on the 2017 foreigner card the 受理机关代码
    valid_from: str = ""  # YYYYMMDD
    valid_to: str = ""  # YYYYMMDD or "长期"
    raw_text: bytes = b""  # the 256-byte block as read, kept for characters UCS-2 cannot show
    photo_wlt: bytes = b""  # 1024 B vendor-compressed photo, needs the vendor decoder
    fingerprint: bytes = b""
    nationality: str = ""  # ISO 3166 alpha-3, foreigner cards
    pass_number: str = ""  # 通行证号码, 'J' cards
    issue_count: str = ""  # 签发次数 ('J') or 换证次数 ('Y')
    card_version: str = ""  # 证件版本, 2017 foreigner card
    old_id_ref: str = ""  # 旧证号码关联项, 2023 foreigner card

    def __repr__(self) -> str:
        # Dataclass reprs end up in logs and tracebacks: personal fields are masked or left out.
        return (
            f"IdCardData(card_type={self.card_type!r}, name={mask_name(self.name or self.name_en)!r}, "
            f"id_number={mask_id(self.id_number)!r}, valid_to={self.valid_to!r}, "
            f"photo_wlt={len(self.photo_wlt)} bytes, fingerprint={len(self.fingerprint)} bytes)"
        )

    @property
    def long_term(self) -> bool:
        return self.valid_to == LONG_TERM


def _decode(raw: bytes) -> str:
    text = raw.decode("utf-16-le", errors="replace")
    if "\ufffd" in text:
        # Lone surrogates: the raw bytes stay in raw_text so nothing is lost silently.
        log.warning("undecodable UCS-2 in a card field (%d bytes)", len(raw))
    return text.rstrip(" \x00")


def _field(block: bytes, offset: int, size: int) -> str:
    return _decode(block[offset : offset + size])


def card_type_of(block: bytes) -> str:
    """The card type named by the flag at offset 248; ``CardReadError`` for an unknown flag."""
    if len(block) != TEXT_LEN:
        raise ProtocolError(f"text block is {len(block)} bytes, expected {TEXT_LEN}")
    flag = block[TYPE_FLAG_OFFSET : TYPE_FLAG_OFFSET + 2].decode("utf-16-le", errors="replace")
    card_type = _FLAG_TO_TYPE.get(flag)
    if card_type is None:
        raise CardReadError(f"unknown card type flag {flag!r}", code="unknown_card_type")
    return card_type


def parse_text(block: bytes) -> IdCardData:
    """Parse the 256-byte text block of any of the four card types (photo/fingerprint left empty)."""
    card_type = card_type_of(block)
    fields: dict[str, Any] = {name: _field(block, offset, size) for name, offset, size in _LAYOUTS[card_type]}
    if card_type == CARD_FOREIGN_2023:
        # Join before stripping: a space at the end of part one may belong inside the name.
        fields["name_en"] = _decode(b"".join(block[o : o + n] for o, n in _NAME_EN_2023))
    return IdCardData(card_type=card_type, raw_text=bytes(block), **fields)


def _put(block: bytearray, offset: int, size: int, value: str, field: str) -> None:
    raw = value.encode("utf-16-le")
    if len(raw) > size:
        raise ValueError(f"{field} does not fit in {size // 2} UCS-2 characters")
    block[offset : offset + len(raw)] = raw


def encode_text(card: IdCardData) -> bytes:
    """The inverse of ``parse_text``: the 256-byte block for ``card`` (``raw_text`` is ignored)."""
    layout = _LAYOUTS.get(card.card_type)
    if layout is None:
        raise ValueError(f"unknown card type {card.card_type!r}")
    block = bytearray(" ".encode("utf-16-le") * (TEXT_LEN // 2))
    for name, offset, size in layout:
        _put(block, offset, size, getattr(card, name), name)
    if card.card_type == CARD_FOREIGN_2023:
        (off1, size1), (off2, size2) = _NAME_EN_2023
        name_en = card.name_en.ljust(size1 // 2 + size2 // 2)
        _put(block, off1, size1, name_en[: size1 // 2], "name_en")
        _put(block, off2, size2, name_en[size1 // 2 :], "name_en")
    _put(block, TYPE_FLAG_OFFSET, 2, _TYPE_TO_FLAG[card.card_type], "type flag")
    return bytes(block)


def _words(payload: bytes, count: int) -> list[int]:
    return [int.from_bytes(payload[2 * i : 2 * i + 2], "big") for i in range(count)]


def parse_read_reply(payload: bytes, with_fingerprint: bool) -> IdCardData:
    """Parse the payload of a ``30 01`` (or ``30 10``) reply: length words, text, photo(, fingerprint)."""
    count = 3 if with_fingerprint else 2
    head = 2 * count
    if len(payload) < head:
        raise ProtocolError(f"read reply too short ({len(payload)} bytes)")
    lengths = _words(payload, count)
    if head + sum(lengths) != len(payload):
        raise ProtocolError(f"read reply length words {lengths} do not match {len(payload) - head} bytes")
    text_len, photo_len = lengths[0], lengths[1]
    if text_len != TEXT_LEN:
        raise CardReadError(f"text block is {text_len} bytes", code="unknown_card_type")
    text = payload[head : head + text_len]
    photo = payload[head + text_len : head + text_len + photo_len]
    fingerprint = payload[head + text_len + photo_len :] if with_fingerprint else b""
    return replace(parse_text(text), photo_wlt=bytes(photo), fingerprint=bytes(fingerprint))


def encode_read_reply(card: IdCardData, with_fingerprint: bool) -> bytes:
    """The payload a reader sends for ``card``; uses ``raw_text`` when it is a full block."""
    text = card.raw_text if len(card.raw_text) == TEXT_LEN else encode_text(card)
    parts = [len(text).to_bytes(2, "big"), len(card.photo_wlt).to_bytes(2, "big")]
    if with_fingerprint:
        parts.append(len(card.fingerprint).to_bytes(2, "big"))
    parts += [text, card.photo_wlt]
    if with_fingerprint:
        parts.append(card.fingerprint)
    return b"".join(parts)


_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK_CHARS = "10X98765432"
_DIGITS = frozenset("0123456789")


def id_check_digit(first17: str) -> str:
    """GB 11643 check character for the first 17 digits of an 18-character ID number."""
    if len(first17) != 17 or not set(first17) <= _DIGITS:
        raise ValueError("need exactly 17 ASCII digits")
    return _ID_CHECK_CHARS[sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=True)) % 11]


def id_checksum_ok(id_number: str) -> bool:
    """True for an 18-character number whose GB 11643 check character matches (15-char cards: False)."""
    if len(id_number) != 18 or not set(id_number[:17]) <= _DIGITS:
        return False
    return id_number[17].upper() == id_check_digit(id_number[:17])
