"""WeChat Pay and Alipay refunds through one small interface, so the refund state machine is written once.

Every answer is reduced to a :class:`RefundReply` state:

``refunded``   the provider confirms the money went back.
``accepted``   the provider took the refund and is still moving the money (WeChat's refund answer,
               refundquery PROCESSING): query later.
``failed``     definitively not refunded, nothing moved (over the refundable amount, REFUNDCLOSE, ...).
``not_found``  (queries only) the provider has no such refund: the request never arrived or did not
               take; asking again with the SAME refund number is safe, it can never refund twice.
``unknown``    no trustworthy answer (timeout, SYSTEMERROR, bad signature): query, never guess.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol

from server.payments.alipay import AlipayClient
from server.payments.wechat import Outcome, WeChatPayClient

RefundState = Literal["refunded", "accepted", "failed", "not_found", "unknown"]

# WeChat's refundquery refund_status_n values
_WECHAT_STATES: dict[str, RefundState] = {
    "SUCCESS": "refunded",
    "PROCESSING": "accepted",
    "REFUNDCLOSE": "failed",
    # CHANGE: the original account could not take the money back; it needs a person at the merchant
    # platform. Not refunded through us: the service files a work item.
    "CHANGE": "failed",
}


@dataclass(frozen=True)
class RefundReply:
    state: RefundState
    code: str | None = None  # the provider's code, or ours (TIMEOUT, NETWORK_ERROR, BAD_SIGNATURE, ...)
    message: str = ""
    provider_refund_id: str | None = None
    raw: dict[str, str] = field(default_factory=dict)


class RefundProvider(Protocol):
    def refund(
        self, *, out_trade_no: str, out_refund_no: str, total_cents: int, refund_cents: int, reason: str
    ) -> RefundReply: ...

    def refund_query(self, *, out_trade_no: str, out_refund_no: str) -> RefundReply: ...


def _strings(raw: dict[str, object]) -> dict[str, str]:
    return {k: str(v) for k, v in raw.items()}


class WeChatRefunds:
    def __init__(self, client: WeChatPayClient) -> None:
        self.client = client

    def refund(
        self, *, out_trade_no: str, out_refund_no: str, total_cents: int, refund_cents: int, reason: str
    ) -> RefundReply:
        a = self.client.refund(
            out_trade_no=out_trade_no,
            out_refund_no=out_refund_no,
            total_fee=total_cents,
            refund_fee=refund_cents,
            refund_desc=reason,
        )
        # WeChat's SUCCESS means "application accepted"; refundquery says when the money has moved.
        states: dict[Outcome, RefundState] = {Outcome.SUCCESS: "accepted", Outcome.FAILED: "failed"}
        state = states.get(a.outcome, "unknown")
        return RefundReply(state, a.code, a.message, a.refund_id, dict(a.raw))

    def refund_query(self, *, out_trade_no: str, out_refund_no: str) -> RefundReply:
        q = self.client.refundquery(out_refund_no=out_refund_no)
        if q.code == "REFUNDNOTEXIST":
            return RefundReply("not_found", q.code, q.message, raw=dict(q.raw))
        record = next((r for r in q.refunds if r.out_refund_no == out_refund_no), None)
        if record is None:
            return RefundReply("unknown", q.code or "NO_RECORD", q.message, raw=dict(q.raw))
        state = _WECHAT_STATES.get(record.refund_status, "unknown")
        code = None if state == "refunded" else record.refund_status or "UNKNOWN_STATUS"
        return RefundReply(state, code, q.message, record.refund_id or None, dict(q.raw))


class AlipayRefunds:
    def __init__(self, client: AlipayClient) -> None:
        self.client = client

    def refund(
        self, *, out_trade_no: str, out_refund_no: str, total_cents: int, refund_cents: int, reason: str
    ) -> RefundReply:
        a = self.client.refund(
            out_trade_no=out_trade_no, refund_cents=refund_cents, out_request_no=out_refund_no, reason=reason
        )
        raw = _strings(a.raw)
        if a.outcome is Outcome.SUCCESS:
            # fund_change=N is no proof either way (a repeat of an earlier request, or not taken):
            # Alipay's own rule is to confirm it with the refund query.
            return RefundReply("refunded" if a.fund_change else "accepted", None, a.message, a.trade_no, raw)
        if a.outcome is Outcome.FAILED:
            return RefundReply("failed", a.code, a.message, raw=raw)
        return RefundReply("unknown", a.code, a.message, raw=raw)

    def refund_query(self, *, out_trade_no: str, out_refund_no: str) -> RefundReply:
        q = self.client.refund_query(out_trade_no=out_trade_no, out_request_no=out_refund_no)
        raw = _strings(q.raw)
        if q.found is True:
            return RefundReply("refunded", None, q.message, raw=raw)
        if q.found is False:
            return RefundReply("not_found", q.code or "REFUND_NOT_EXIST", q.message, raw=raw)
        return RefundReply("unknown", q.code, q.message, raw=raw)
