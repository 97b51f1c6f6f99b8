"""The identification step every patient service shares: who is at the kiosk?

A patient may identify with the resident ID card, the social-security (insurance) card, a QR
code on the scanner — the hospital visit card printed at filing (``HVC:<number>``) or the
medical-insurance e-voucher (医保电子凭证) shown in a phone app — or, when the kiosk holds
their consented face template, their face plus the last four digits of their phone number.

Pure: it turns device events into a :class:`FindPatient` command for the shell, and the
shell's answer into a :class:`Patient` (masked values only). The e-voucher is never parsed on
the kiosk (its payload format is the insurance platform's business, protocols.md 2.6): it is
recognised by a configurable pattern and sent to the server, which asks the platform.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field

from devices.idcard import IdCardData, mask_id, mask_name
from devices.scanner.codes import DEFAULT_RULES, CodeKind, Rules, classify, normalize
from devices.sscard.records import InsuranceCardData
from face.types import FrameReport, Template

VISIT_CARD_QR = "HVC:"
# The e-voucher's payload format is the insurance platform's (not published, protocols.md 2.6):
# the hospital configures what its scanners deliver. The default is the sandbox's token shape.
SANDBOX_EVOUCHER = r"ECT[0-9A-F]{32}"


def code_rules(evoucher_pattern: str = SANDBOX_EVOUCHER) -> Rules:
    """The scanner's code rules with the e-voucher pattern filled in."""
    voucher = re.compile(evoucher_pattern)
    return tuple((kind, voucher if kind is CodeKind.INSURANCE_VOUCHER else rx) for kind, rx in DEFAULT_RULES)


RULES = code_rules()


class Method(enum.StrEnum):
    ID_CARD = "id_card"
    INSURANCE_CARD = "insurance_card"
    VISIT_CARD = "visit_card"
    EVOUCHER = "evoucher"
    FACE = "face"
    TYPED = "typed"  # a visit-card number typed by staff (cashier mode)


@dataclass(frozen=True)
class Patient:
    """A patient found at the server: its opaque id and what may be shown (masked)."""

    patient_id: int
    name_masked: str
    id_masked: str
    visit_card_no: str = ""
    method: Method = Method.ID_CARD


@dataclass(frozen=True)
class FindPatient:
    """Ask the server (or the offline cache) for the patient behind ``value``.

    ``value`` is the ID number, the visit-card number or the e-voucher token: sensitive, so
    it is kept out of ``repr`` (commands are logged by type name only, but be safe).
    """

    method: Method
    value: str = field(repr=False)
    id_type: str = "resident"
    name_masked: str = ""  # from the card itself, when it was read locally
    id_masked: str = ""


@dataclass(frozen=True, eq=False)
class IdentifyByFace:
    """1:N among this kiosk's consented templates, only those enrolled with these phone digits."""

    template: Template = field(repr=False)
    digits: str = field(repr=False)


FACTOR_LEN = 4  # the last four digits of the phone number given at filing


def visit_card_number(code: str) -> str | None:
    """The number in a visit-card QR (``HVC:80…``), else None."""
    text = normalize(code)
    if text.upper().startswith(VISIT_CARD_QR):
        number = text[len(VISIT_CARD_QR) :]
        return number if number.isdigit() and 8 <= len(number) <= 20 else None
    return None


def find_by_code(code: str, rules: Rules = RULES) -> FindPatient | str:
    """A :class:`FindPatient` for an identity QR, or the message key explaining why not."""
    number = visit_card_number(code)
    if number is not None:
        return FindPatient(Method.VISIT_CARD, number)
    kind = classify(code, rules)
    if kind is CodeKind.INSURANCE_VOUCHER:
        return FindPatient(Method.EVOUCHER, normalize(code))
    if kind in (CodeKind.WECHAT, CodeKind.ALIPAY, CodeKind.UNIONPAY):
        return "identify.payment_code_here"  # a payment code shown too early: not an identity
    return "identify.unknown_code"


def find_by_id_card(card: IdCardData) -> FindPatient:
    return FindPatient(Method.ID_CARD, card.id_number, card.card_type, mask_name(card.name), mask_id(card.id_number))


def find_by_insurance_card(card: InsuranceCardData) -> FindPatient:
    # The social-security number is the holder's resident ID number: the same record as the ID card.
    return FindPatient(Method.INSURANCE_CARD, card.id_number, "resident", mask_name(card.name), mask_id(card.id_number))


class Phase(enum.StrEnum):
    WAITING = "waiting"  # for a card, a QR code or the face button
    FINDING = "finding"  # FindPatient is running
    NOT_FOUND = "not_found"  # no record: offer filing (建档) or the staff window
    FACE_DIGITS = "face_digits"  # typing the phone's last four digits (the second factor)
    FACE_CAPTURE = "face_capture"  # live face with the liveness challenge


@dataclass
class Identification:
    """State of the identification step inside a feature flow."""

    phase: Phase = Phase.WAITING
    method: Method | None = None
    message: str = ""
    digits: str = field(default="", repr=False)
    report: FrameReport | None = None  # the face capture's latest frame report

    @property
    def finding(self) -> bool:
        return self.phase is Phase.FINDING

    def card_read(self, card: IdCardData) -> FindPatient | None:
        return self._start(find_by_id_card(card))

    def insurance_card_read(self, card: InsuranceCardData) -> FindPatient | None:
        return self._start(find_by_insurance_card(card))

    def code_scanned(self, code: str) -> FindPatient | None:
        if self.finding:
            return None
        found = find_by_code(code)
        if isinstance(found, str):
            self.message = found
            return None
        return self._start(found)

    def typed(self, number: str) -> FindPatient | None:
        digits = normalize(number)
        if not digits.isdigit():
            self.message = "identify.unknown_code"
            return None
        return self._start(FindPatient(Method.TYPED, digits))

    def not_found(self) -> None:
        self.phase, self.message = Phase.NOT_FOUND, "identify.not_found"

    def failed(self, key: str) -> None:
        self.phase, self.message = Phase.WAITING, key

    def found(self) -> None:
        self.phase, self.message = Phase.WAITING, ""

    def _start(self, cmd: FindPatient) -> FindPatient | None:
        if self.finding:
            return None
        self.phase, self.method, self.message = Phase.FINDING, cmd.method, ""
        return cmd
