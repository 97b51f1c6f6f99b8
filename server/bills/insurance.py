"""Insurance pre-settlement (医保预结算): the adapter interface and the demo rule-table insurer.

A real deployment plugs in the regional insurance platform's client (national 医保信息平台
interfaces 2206 pre-settle / 2207 settle / 2208 cancel) behind :class:`InsuranceAdapter`; the
server's bill flow only ever calls these three methods:

1. ``presettle`` when a bill is locked for payment: splits it into insurance and self-pay shares.
2. ``settle`` after the self-pay share is paid: the insurer books its share.
3. ``cancel`` when the payment fails, is reversed, or the lock is given up.

:class:`DemoInsurance` applies a rule table (below) so the demo and the tests see realistic
splits. Its numbers are illustrative, not any city's policy.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Protocol


class InsuranceError(Exception):
    """The insurer could not answer (network, refusal); the bill stays unpaid and unlocked."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@dataclass(frozen=True)
class BillLine:
    code: str
    category: str
    amount_cents: int


@dataclass(frozen=True)
class PreSettlement:
    ref: str
    insurance_cents: int
    self_pay_cents: int
    detail: dict[str, Any] = field(default_factory=dict)


class InsuranceAdapter(Protocol):
    def presettle(self, *, bill_no: str, scheme: str | None, lines: Sequence[BillLine]) -> PreSettlement: ...

    def settle(self, ref: str) -> None: ...

    def cancel(self, ref: str) -> None: ...


# Share of each category's amount that the insurance covers at all (甲类 fully, 乙类 after a
# 10 % self-paid part, 丙类 never) ...
ELIGIBLE: dict[str, Decimal] = {
    "drug_a": Decimal("1.00"),
    "drug_b": Decimal("0.90"),
    "drug_c": Decimal("0.00"),
    "exam": Decimal("0.80"),
    "treatment": Decimal("0.90"),
    "material": Decimal("0.70"),
}
# ... and the share of the eligible amount the fund pays, by scheme (职工 / 城乡居民).
FUND_RATE: dict[str, Decimal] = {"employee": Decimal("0.70"), "resident": Decimal("0.55")}
CENT = Decimal("0.01")


def split(scheme: str | None, lines: Sequence[BillLine]) -> tuple[int, dict[str, Any]]:
    """The fund's share in cents and a per-category breakdown; Decimal throughout, rounded once."""
    total = sum(line.amount_cents for line in lines)
    rate = FUND_RATE.get(scheme or "", Decimal(0))
    eligible = Decimal(0)
    by_category: dict[str, int] = {}
    for line in lines:
        by_category[line.category] = by_category.get(line.category, 0) + line.amount_cents
        # Unknown categories are not covered: a new item code must be mapped before it is reimbursed.
        eligible += Decimal(line.amount_cents) * ELIGIBLE.get(line.category, Decimal(0))
    fund = (eligible * rate / 100).quantize(CENT, rounding=ROUND_HALF_UP)
    insurance_cents = min(int(fund * 100), total)
    detail = {"scheme": scheme, "fund_rate": str(rate), "eligible_cents": int(eligible), "by_category": by_category}
    return insurance_cents, detail


class DemoInsurance:
    """The rule table above, with the insurer's own record of each pre-settlement's state."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.states: dict[str, str] = {}

    def presettle(self, *, bill_no: str, scheme: str | None, lines: Sequence[BillLine]) -> PreSettlement:
        if not lines:
            raise InsuranceError("EMPTY_BILL", "a bill without items cannot be settled")
        insurance_cents, detail = split(scheme, lines)
        total = sum(line.amount_cents for line in lines)
        ref = f"PS{secrets.token_hex(8).upper()}"
        with self._lock:
            self.states[ref] = "presettled"
        return PreSettlement(ref, insurance_cents, total - insurance_cents, detail)

    def settle(self, ref: str) -> None:
        self._move(ref, "settled", allowed=("presettled", "settled"))

    def cancel(self, ref: str) -> None:
        self._move(ref, "cancelled", allowed=("presettled", "cancelled"))

    def _move(self, ref: str, to: str, *, allowed: tuple[str, ...]) -> None:
        with self._lock:
            state = self.states.get(ref)
            if state not in allowed:
                raise InsuranceError("BAD_STATE", f"pre-settlement {ref} is {state}, cannot become {to}")
            self.states[ref] = to
