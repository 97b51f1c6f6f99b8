"""Tell scanned codes apart by prefix and length (protocols.md 3.1).

Codes stay strings: an 18-digit WeChat code does not fit a float and leading zeros matter.
Wallets change their prefix ranges (Alipay went 28 -> 25-30, 16-18 -> 16-24 digits), so the rules
are data that configuration can replace; an unknown code is for the caller to ask about, not guess.
"""

from __future__ import annotations

import enum
import re
import unicodedata


class CodeKind(enum.Enum):
    WECHAT = "wechat"
    ALIPAY = "alipay"
    UNIONPAY = "unionpay"
    VISIT_CARD = "visit_card"
    INSURANCE_VOUCHER = "insurance_voucher"
    UNKNOWN = "unknown"


Rules = tuple[tuple[CodeKind, re.Pattern[str]], ...]

_NEVER = r"(?!)"  # placeholder that matches nothing

# [0-9], not \d: \d would also accept full-width and other Unicode digits.
DEFAULT_RULES: Rules = (
    (CodeKind.WECHAT, re.compile(r"1[0-5][0-9]{16}")),  # 18 digits, 10-15
    (CodeKind.ALIPAY, re.compile(r"(?:2[5-9]|30)[0-9]{14,22}")),  # 16-24 digits, 25-30
    (CodeKind.UNIONPAY, re.compile(r"62[0-9]{17}")),  # 19 digits, 62
    # Hospital visit cards and medical-insurance e-vouchers are site-specific (issue 7):
    # placeholders until the hospital's formats are configured.
    (CodeKind.VISIT_CARD, re.compile(_NEVER)),
    (CodeKind.INSURANCE_VOUCHER, re.compile(_NEVER)),
)

PAYMENT_KINDS = frozenset({CodeKind.WECHAT, CodeKind.ALIPAY, CodeKind.UNIONPAY})


def normalize(code: str) -> str:
    """Drop control/format characters anywhere (scanner prefixes, stray CR) and outer whitespace."""
    if not isinstance(code, str):
        raise TypeError(f"codes are strings, got {type(code).__name__}")
    return "".join(ch for ch in code if unicodedata.category(ch) not in ("Cc", "Cf")).strip()


def classify(code: str, rules: Rules = DEFAULT_RULES) -> CodeKind:
    """The first rule whose pattern matches the whole normalized code, else UNKNOWN."""
    text = normalize(code)
    for kind, pattern in rules:
        if pattern.fullmatch(text):
            return kind
    return CodeKind.UNKNOWN


def is_payment_code(code: str, rules: Rules = DEFAULT_RULES) -> bool:
    return classify(code, rules) in PAYMENT_KINDS


def mask_code(code: str) -> str:
    """For logs: a payment code is a bearer token for money, so show only its ends."""
    text = normalize(code)
    if len(text) <= 6:
        return "*" * len(text)
    return f"{text[:2]}{'*' * (len(text) - 6)}{text[-4:]}"
