"""Provider-neutral bill records, money conversion and the one error type of this package.

Money is exact everywhere: bills state yuan as text with at most two decimals, which is parsed with ``Decimal``
and turned into integer cents. A float would turn "0.29" into 28 cents (the dax-pay bug, protocols.md §3.6).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

Provider = Literal["wechat", "alipay"]
Kind = Literal["payment", "refund"]
PROVIDERS: tuple[Provider, ...] = ("wechat", "alipay")

# Strict on purpose: Decimal alone would also accept "1e3", "NaN" and "Infinity", which no bill contains.
_YUAN_RE = re.compile(r"^[+-]?\d+(?:\.\d{1,2})?$")


# A day's bill for a hospital is a few MB at most; anything bigger is a mistake or a zip/gzip bomb.
MAX_BILL_BYTES = 50 * 1024 * 1024


class BillFormatError(ValueError):
    """A bill that cannot be reconciled as it is: unreadable, an error answer, truncated or inconsistent."""


class BillErrorAnswer(BillFormatError):
    """The provider answered an error instead of a bill (WeChat sends XML, e.g. ``No Bill Exist``)."""

    def __init__(self, message: str, *, return_code: str = "", return_msg: str = "", err_code: str = "") -> None:
        super().__init__(message)
        self.return_code = return_code
        self.return_msg = return_msg
        self.err_code = err_code

    @property
    def no_bill(self) -> bool:
        """True when the provider says there is no bill: a day without any transaction, not a failure."""
        return "no bill exist" in self.return_msg.lower()


def yuan_to_cents(text: str) -> int:
    """``"12.30"`` -> ``1230``; raises BillFormatError for anything that is not a plain amount with <= 2 decimals."""
    value = text.strip()
    if not _YUAN_RE.match(value):
        raise BillFormatError(f"not an amount in yuan: {text[:40]!r}")
    return int(Decimal(value) * 100)  # exact: at most two decimals, so the product is integral


def cents_to_decimal(cents: int) -> Decimal:
    """Integer cents -> yuan as a Decimal with exactly two places (``1230`` -> ``Decimal("12.30")``)."""
    return Decimal(cents).scaleb(-2)


def format_yuan(cents: int) -> str:
    """Integer cents -> ``"12.30"``; the only representation of money that leaves this package."""
    return f"{cents_to_decimal(cents):.2f}"


@dataclass(frozen=True)
class ProviderRecord:
    """One line of a provider's daily bill, reduced to what reconciliation needs.

    ``settled`` says whether money actually moved: taken from the payer for a payment, sent back for a refund.
    ``status`` keeps the provider's own word (SUCCESS, REVOKED, 交易, 退款, PROCESSING, ...) for the report.
    """

    provider: Provider
    kind: Kind
    out_trade_no: str
    amount_cents: int
    settled: bool
    status: str
    provider_trade_no: str = ""
    refund_no: str = ""
    time: str = ""
    line_no: int = 0


@dataclass(frozen=True)
class ParsedBill:
    """A whole daily bill whose detail lines were checked against its own summary."""

    provider: Provider
    records: tuple[ProviderRecord, ...]
    bill_date: str = ""
    # What the bill's own summary said, for the report; already verified against ``records``.
    summary: dict[str, str] = field(default_factory=dict)

    def payments(self) -> list[ProviderRecord]:
        return [r for r in self.records if r.kind == "payment"]

    def refunds(self) -> list[ProviderRecord]:
        return [r for r in self.records if r.kind == "refund"]
