"""Compare our ledger for one bill day with the providers' daily bills.

Only money counts: a payment is "paid" for us when our row is SUCCESS, and for the provider when its bill shows a
settled line that was not revoked. Every disagreement becomes a Finding; agreements are only counted.

Choosing the ledger rows is the caller's job: bills are cut at midnight China time (UTC+8, see china_day_bounds_utc),
and a payment made seconds before midnight can land on the next day's bill, so such findings need a second look.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Literal

from server.reconcile.records import (
    PROVIDERS,
    Kind,
    ParsedBill,
    Provider,
    ProviderRecord,
    cents_to_decimal,
    format_yuan,
)

FindingKind = Literal[
    "paid_but_unknown",
    "known_but_unpaid",
    "amount_mismatch",
    "refunded_but_unknown",
    "known_but_unrefunded",
    "refund_amount_mismatch",
]
FINDING_KINDS: tuple[FindingKind, ...] = (
    "paid_but_unknown",
    "known_but_unpaid",
    "amount_mismatch",
    "refunded_but_unknown",
    "known_but_unrefunded",
    "refund_amount_mismatch",
)
_CHINA = timezone(timedelta(hours=8))


@dataclass(frozen=True)
class LedgerEntry:
    """One of our own payments or refunds. ``status`` is ours: PENDING / SUCCESS / FAILED / REVERSED."""

    provider: Provider
    out_trade_no: str
    amount_cents: int
    status: str
    kind: Kind = "payment"
    refund_no: str | None = None  # out_refund_no / out_request_no; refunds only


@dataclass(frozen=True)
class Finding:
    kind: FindingKind
    provider: Provider
    out_trade_no: str
    ours_cents: int | None  # None: we have no (successful) entry
    theirs_cents: int | None  # None: the bill has no settled line
    reason: str
    refund_no: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "provider": self.provider,
            "out_trade_no": self.out_trade_no,
            "refund_no": self.refund_no,
            "ours": None if self.ours_cents is None else format_yuan(self.ours_cents),
            "theirs": None if self.theirs_cents is None else format_yuan(self.theirs_cents),
            "reason": self.reason,
        }


@dataclass(frozen=True)
class ProviderReport:
    provider: Provider
    matched_payments: int = 0
    matched_payment_cents: int = 0
    matched_refunds: int = 0
    matched_refund_cents: int = 0
    findings: tuple[Finding, ...] = ()
    bill_summary: dict[str, str] = field(default_factory=dict)

    @property
    def matched_payment_total(self) -> Decimal:
        return cents_to_decimal(self.matched_payment_cents)

    @property
    def matched_refund_total(self) -> Decimal:
        return cents_to_decimal(self.matched_refund_cents)

    def to_dict(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "matched": {
                "payments": {"count": self.matched_payments, "total": format_yuan(self.matched_payment_cents)},
                "refunds": {"count": self.matched_refunds, "total": format_yuan(self.matched_refund_cents)},
            },
            "findings": [f.to_dict() for f in self.findings],
            "bill_summary": dict(self.bill_summary),
        }


@dataclass(frozen=True)
class ReconciliationReport:
    bill_date: str
    providers: tuple[ProviderReport, ...]
    # Providers with ledger entries but no bill given: nothing about them was checked.
    unreconciled_providers: tuple[Provider, ...] = ()

    @property
    def findings(self) -> tuple[Finding, ...]:
        return tuple(f for p in self.providers for f in p.findings)

    @property
    def ok(self) -> bool:
        return not self.findings and not self.unreconciled_providers

    def to_dict(self) -> dict[str, Any]:
        return {
            "bill_date": self.bill_date,
            "ok": self.ok,
            "providers": [p.to_dict() for p in self.providers],
            "unreconciled_providers": list(self.unreconciled_providers),
        }


def china_day_bounds_utc(bill_date: date) -> tuple[datetime, datetime]:
    """[start, end) in UTC of a bill day; providers cut their bills at midnight China time."""
    start = datetime(bill_date.year, bill_date.month, bill_date.day, tzinfo=_CHINA)
    return start.astimezone(UTC), (start + timedelta(days=1)).astimezone(UTC)


def ledger_from_payment_rows(rows: Iterable[Mapping[str, Any]]) -> list[LedgerEntry]:
    """LedgerEntry list from rows shaped like the ``payments`` table (channel, out_trade_no, amount_cents, status).

    Rows of other channels (unionpay, unknown) or without an out_trade_no never reached a provider's bill.
    """
    entries = []
    for row in rows:
        channel = row["channel"]
        if channel in PROVIDERS and row["out_trade_no"]:
            entries.append(
                LedgerEntry(
                    provider=channel,
                    out_trade_no=str(row["out_trade_no"]),
                    amount_cents=int(row["amount_cents"]),
                    status=str(row["status"]),
                )
            )
    return entries


def _describe_theirs(lines: list[ProviderRecord]) -> str:
    return "not on the bill" if not lines else "the bill shows it " + "/".join(sorted({r.status for r in lines}))


def _compare(
    kind: Kind,
    provider: Provider,
    key: tuple[str, str],
    ours: LedgerEntry | None,
    theirs: list[ProviderRecord],
) -> Finding | int | None:
    """A Finding; the matched amount in cents when both sides moved the same money; None when neither did."""
    out_trade_no, refund_no = key
    settled = [r for r in theirs if r.settled]
    # A revoked order is money returned, whatever other line the bill carries for it.
    theirs_moved = bool(settled) and not any(r.status == "REVOKED" for r in theirs)
    theirs_cents = sum(r.amount_cents for r in settled) if theirs_moved else None
    ours_moved = ours is not None and ours.status == "SUCCESS"
    ours_cents = ours.amount_cents if ours is not None and ours_moved else None
    names: tuple[FindingKind, FindingKind, FindingKind] = (
        ("paid_but_unknown", "known_but_unpaid", "amount_mismatch")
        if kind == "payment"
        else ("refunded_but_unknown", "known_but_unrefunded", "refund_amount_mismatch")
    )
    if ours_cents is not None and theirs_cents is not None:
        if ours_cents == theirs_cents:
            return ours_cents
        lines = f" on {len(settled)} lines" if len(settled) > 1 else ""
        reason = f"we recorded {format_yuan(ours_cents)}, the bill shows {format_yuan(theirs_cents)}{lines}"
        return Finding(names[2], provider, out_trade_no, ours_cents, theirs_cents, reason, refund_no)
    if theirs_cents is not None:
        ours_text = "not in our ledger" if ours is None else f"we have it {ours.status}"
        reason = f"the bill shows {format_yuan(theirs_cents)} settled; {ours_text}"
        return Finding(names[0], provider, out_trade_no, None, theirs_cents, reason, refund_no)
    if ours_cents is not None:
        reason = f"we have it SUCCESS for {format_yuan(ours_cents)}; {_describe_theirs(theirs)}"
        return Finding(names[1], provider, out_trade_no, ours_cents, None, reason, refund_no)
    return None


def _pair_refund_keys(
    ours: dict[tuple[str, str], LedgerEntry], theirs: dict[tuple[str, str], list[ProviderRecord]]
) -> None:
    """Re-key a refund whose number is missing on one side, when it is the only unmatched one for its order.

    An Alipay full refund made without out_request_no shows an empty 退款批次号/请求号, for example.
    """
    lone_ours: dict[str, list[tuple[str, str]]] = defaultdict(list)
    lone_theirs: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for key in ours.keys() - theirs.keys():
        lone_ours[key[0]].append(key)
    for key in theirs.keys() - ours.keys():
        lone_theirs[key[0]].append(key)
    for out_trade_no, our_keys in lone_ours.items():
        their_keys = lone_theirs.get(out_trade_no, [])
        if len(our_keys) == 1 and len(their_keys) == 1 and "" in (our_keys[0][1], their_keys[0][1]):
            theirs[our_keys[0]] = theirs.pop(their_keys[0])


def reconcile_provider(provider: Provider, ledger: Iterable[LedgerEntry], bill: ParsedBill) -> ProviderReport:
    """Match one provider's ledger entries (others are ignored) against its parsed daily bill."""
    if bill.provider != provider:
        raise ValueError(f"a {bill.provider} bill cannot reconcile {provider} entries")
    ours: dict[Kind, dict[tuple[str, str], LedgerEntry]] = {"payment": {}, "refund": {}}
    for entry in ledger:
        if entry.provider != provider:
            continue
        key = (entry.out_trade_no, (entry.refund_no or "") if entry.kind == "refund" else "")
        if key in ours[entry.kind]:
            raise ValueError(f"ledger lists {entry.kind} {key} twice")
        ours[entry.kind][key] = entry
    theirs: dict[Kind, dict[tuple[str, str], list[ProviderRecord]]] = {"payment": {}, "refund": {}}
    for record in bill.records:
        key = (record.out_trade_no, record.refund_no if record.kind == "refund" else "")
        theirs[record.kind].setdefault(key, []).append(record)
    _pair_refund_keys(ours["refund"], theirs["refund"])

    findings: list[Finding] = []
    counts: dict[Kind, list[int]] = {"payment": [0, 0], "refund": [0, 0]}
    for kind in ("payment", "refund"):
        for key in sorted(ours[kind].keys() | theirs[kind].keys()):
            result = _compare(kind, provider, key, ours[kind].get(key), theirs[kind].get(key, []))
            if isinstance(result, Finding):
                findings.append(result)
            elif result is not None:
                counts[kind][0] += 1
                counts[kind][1] += result
    findings.sort(key=lambda f: (FINDING_KINDS.index(f.kind), f.out_trade_no, f.refund_no))
    return ProviderReport(
        provider=provider,
        matched_payments=counts["payment"][0],
        matched_payment_cents=counts["payment"][1],
        matched_refunds=counts["refund"][0],
        matched_refund_cents=counts["refund"][1],
        findings=tuple(findings),
        bill_summary=dict(bill.summary),
    )


def reconcile(ledger: Iterable[LedgerEntry], bills: Sequence[ParsedBill], bill_date: str = "") -> ReconciliationReport:
    """Reconcile every provider that has a bill; providers with ledger entries but no bill are listed, not skipped."""
    entries = list(ledger)
    seen: set[Provider] = set()
    reports = []
    for bill in bills:
        if bill.provider in seen:
            raise ValueError(f"two {bill.provider} bills given for one day")
        seen.add(bill.provider)
        reports.append(reconcile_provider(bill.provider, entries, bill))
    missing = tuple(p for p in PROVIDERS if p not in seen and any(e.provider == p for e in entries))
    return ReconciliationReport(bill_date=bill_date, providers=tuple(reports), unreconciled_providers=missing)
