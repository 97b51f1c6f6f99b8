"""Second-generation ID-card reader (GA/T 467 SAM_A over serial/USB-CDC).

The emulator lives in ``devices.emulators.idcard``.
"""

from devices.idcard.masking import mask_id, mask_name
from devices.idcard.parser import (
    CARD_FOREIGN_2017,
    CARD_FOREIGN_2023,
    CARD_HK_MO_TW,
    CARD_RESIDENT,
    LONG_TERM,
    IdCardData,
    encode_read_reply,
    encode_text,
    id_check_digit,
    id_checksum_ok,
    parse_read_reply,
    parse_text,
)
from devices.idcard.protocol import (
    FIND,
    READ_BASE,
    READ_FINGER,
    RESET,
    SAM_ID,
    SAM_STATUS,
    SELECT,
    SW3_TABLE,
    Command,
    Response,
    Sw3Status,
    build_frame,
    build_response,
    describe_sw3,
    error_for_sw3,
    read_frame,
)
from devices.idcard.reader import IdCardReader, read_once

__all__ = [
    "CARD_FOREIGN_2017",
    "CARD_FOREIGN_2023",
    "CARD_HK_MO_TW",
    "CARD_RESIDENT",
    "FIND",
    "LONG_TERM",
    "READ_BASE",
    "READ_FINGER",
    "RESET",
    "SAM_ID",
    "SAM_STATUS",
    "SELECT",
    "SW3_TABLE",
    "Command",
    "IdCardData",
    "IdCardReader",
    "Response",
    "Sw3Status",
    "build_frame",
    "build_response",
    "describe_sw3",
    "encode_read_reply",
    "encode_text",
    "error_for_sw3",
    "id_check_digit",
    "id_checksum_ok",
    "mask_id",
    "mask_name",
    "parse_read_reply",
    "parse_text",
    "read_frame",
    "read_once",
]
