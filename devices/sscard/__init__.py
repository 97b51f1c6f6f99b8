"""Social-security / medical-insurance card (社会保障卡) over PC/SC: ISO 7816 T=0, SSSE application.

The wire-level emulator (a vpcd virtual card) lives in ``devices.emulators.vpcd``; the helper that
makes sure pcscd runs for tests and the demo in ``devices.emulators.pcsc_service``.
"""

from devices.sscard.apdu import SSSE_AID, SW_TABLE, Response, describe_sw, error_for_sw, transmit
from devices.sscard.card import read_card, select_ssse
from devices.sscard.errors import CardPinBlocked, MalformedRecord, NotSocialSecurityCard
from devices.sscard.reader import InsuranceCardReader
from devices.sscard.records import (
    EF05_FIELDS,
    EF06_FIELDS,
    Convention,
    InsuranceCardData,
    card_from_records,
    encode_records,
    parse_record,
    parse_tlvs,
)

__all__ = [
    "EF05_FIELDS",
    "EF06_FIELDS",
    "SSSE_AID",
    "SW_TABLE",
    "CardPinBlocked",
    "Convention",
    "InsuranceCardData",
    "InsuranceCardReader",
    "MalformedRecord",
    "NotSocialSecurityCard",
    "Response",
    "card_from_records",
    "describe_sw",
    "encode_records",
    "error_for_sw",
    "parse_record",
    "parse_tlvs",
    "read_card",
    "select_ssse",
    "transmit",
]
