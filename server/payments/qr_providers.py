"""Kiosk-shown QR payments at each provider: create the order, query it, close it.

WeChat Pay v2 Native (``/pay/unifiedorder`` with ``trade_type=NATIVE`` gives a ``code_url``;
``/pay/orderquery``; ``/pay/closeorder``) and Alipay 当面付 (``alipay.trade.precreate`` gives a
``qr_code``; ``alipay.trade.query``; ``alipay.trade.close``, and ``alipay.trade.cancel`` for a trade
that does not exist yet). Both are seen through one small interface so the QR state machine
(``server/payments/qr.py``) is written once.

The rule both adapters keep: a close is never taken on trust when the money may have moved. A
close refused because the order is paid says ``PAID`` and the caller confirms it by query.

Alipay's QR trade only exists once the payer scanned it: ``alipay.trade.close`` of a code nobody
scanned answers ACQ.TRADE_NOT_EXIST and would leave the code payable until its timeout, so that
case goes to ``alipay.trade.cancel``, which also closes an out_trade_no Alipay has not seen (a later
scan is refused). If the payer paid in the instant between the query and that cancel, the cancel
refunds it at once (``action=refund``): ``REFUNDED``, the money is back with the payer.

WeChat: notifications (``notify_url``, required by the API) are not relied on; the server polls
``orderquery``, which WeChat's own guidance requires anyway because notifications can be lost.
"""

from __future__ import annotations

import enum
import logging
import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from server.payments.alipay import CODE_SUCCESS, TRADE_NOT_EXIST, AlipayClient, TradeState
from server.payments.clock import CHINA
from server.payments.wechat import Outcome, WeChatPayClient

logger = logging.getLogger(__name__)

UNIFIEDORDER_PATH = "/pay/unifiedorder"
CLOSEORDER_PATH = "/pay/closeorder"

# unifiedorder err_codes after which the order may exist: create again with the same out_trade_no.
_UNCLEAR_CREATE = frozenset({"SYSTEMERROR", "BANKERROR"})


class QrState(enum.StrEnum):
    PAID = "PAID"
    NOTPAY = "NOTPAY"  # made, not scanned (or WeChat: scanned, not paid yet)
    SCANNED = "SCANNED"  # the payer opened it and is confirming
    CLOSED = "CLOSED"  # closed, expired or failed at the provider: will not be paid
    UNKNOWN = "UNKNOWN"  # no usable answer


class CloseResult(enum.StrEnum):
    CLOSED = "CLOSED"  # definitively unpaid and closed
    PAID = "PAID"  # refused because the order is paid: confirm by query
    REFUNDED = "REFUNDED"  # paid in the last instant and returned to the payer by the close itself
    RETRY = "RETRY"  # no definitive answer: try again later


@dataclass(frozen=True)
class QrCreated:
    outcome: Outcome
    code_url: str | None = None
    code: str | None = None
    message: str = ""
    raw: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class QrQuery:
    state: QrState
    transaction_id: str | None = None
    total_cents: int | None = None
    code: str | None = None
    raw: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class QrClosed:
    result: CloseResult
    code: str | None = None
    raw: dict[str, str] = field(default_factory=dict)


class QrProvider(Protocol):
    def create(
        self, *, out_trade_no: str, total_cents: int, subject: str, expires_at: datetime, device_info: str
    ) -> QrCreated: ...

    def query(self, out_trade_no: str) -> QrQuery: ...

    def close(self, out_trade_no: str) -> QrClosed: ...


def _flat(raw: dict[str, Any]) -> dict[str, str]:
    return {k: str(v) for k, v in raw.items()}


def china_time(at: datetime) -> datetime:
    """An aware time as China's wall clock (naive), as the providers' time fields are written."""
    return at.astimezone(CHINA).replace(tzinfo=None)


class WeChatNative:
    """WeChat Pay v2 Native payments over the same signed client as micropay."""

    def __init__(self, client: WeChatPayClient, *, notify_url: str, client_ip: str = "127.0.0.1") -> None:
        self.client = client
        self.notify_url = notify_url
        self.client_ip = client_ip

    def create(
        self, *, out_trade_no: str, total_cents: int, subject: str, expires_at: datetime, device_info: str
    ) -> QrCreated:
        reply = self.client._call(
            UNIFIEDORDER_PATH,
            {
                "body": subject[:40],
                "out_trade_no": out_trade_no,
                "total_fee": int(total_cents),
                "spbill_create_ip": self.client_ip,
                "time_expire": china_time(expires_at).strftime("%Y%m%d%H%M%S"),
                "notify_url": self.notify_url,
                "trade_type": "NATIVE",
                "product_id": out_trade_no[:32],  # required for NATIVE: what the code sells
                "device_info": device_info[:32],
            },
        )
        data = reply.data
        if data is None:
            answer = QrCreated(Outcome.UNKNOWN, None, reply.code, reply.message)
        elif data.get("return_code") != "SUCCESS":
            answer = QrCreated(Outcome.FAILED, None, "PROVIDER_REJECTED", data.get("return_msg", ""), data)
        elif data.get("result_code") == "SUCCESS" and data.get("code_url"):
            answer = QrCreated(Outcome.SUCCESS, data["code_url"], raw=data)
        else:
            err = data.get("err_code") or "UNKNOWN_ERROR"
            unclear = err in _UNCLEAR_CREATE or not data.get("result_code")
            outcome = Outcome.UNKNOWN if unclear else Outcome.FAILED
            answer = QrCreated(outcome, None, err, data.get("err_code_des", ""), data)
        logger.info("wechat native %s: %s %s", out_trade_no, answer.outcome, answer.code or "")
        return answer

    def query(self, out_trade_no: str) -> QrQuery:
        q = self.client.orderquery(out_trade_no)
        if q.trade_state is None:
            # ORDERNOTEXIST: the unifiedorder never arrived, so nothing can be paid.
            state = QrState.CLOSED if q.code == "ORDERNOTEXIST" else QrState.UNKNOWN
        else:
            state = {
                "SUCCESS": QrState.PAID,
                "REFUND": QrState.PAID,  # it was paid; a refund is a separate, later matter
                "NOTPAY": QrState.NOTPAY,
                "USERPAYING": QrState.SCANNED,
                "CLOSED": QrState.CLOSED,
                "REVOKED": QrState.CLOSED,
                "PAYERROR": QrState.CLOSED,
            }.get(q.trade_state, QrState.UNKNOWN)
        return QrQuery(state, q.transaction_id, q.total_fee, q.code, q.raw)

    def close(self, out_trade_no: str) -> QrClosed:
        reply = self.client._call(CLOSEORDER_PATH, {"out_trade_no": out_trade_no})
        data = reply.data
        if data is None or data.get("return_code") != "SUCCESS":
            return QrClosed(CloseResult.RETRY, reply.code or "PROVIDER_REJECTED", data or {})
        if data.get("result_code") == "SUCCESS":
            result = QrClosed(CloseResult.CLOSED, None, data)
        else:
            err = data.get("err_code") or "UNKNOWN_ERROR"
            if err == "ORDERPAID":
                result = QrClosed(CloseResult.PAID, err, data)
            elif err in ("ORDERCLOSED", "ORDERNOTEXIST"):
                result = QrClosed(CloseResult.CLOSED, err, data)
            else:  # SYSTEMERROR and anything new: the order's fate is not settled yet
                result = QrClosed(CloseResult.RETRY, err, data)
        logger.info("wechat closeorder %s: %s %s", out_trade_no, result.result, result.code or "")
        return result


class AlipayQr:
    """Alipay precreate / query / close (and cancel for a code nobody scanned)."""

    def __init__(self, client: AlipayClient) -> None:
        self.client = client

    def create(
        self, *, out_trade_no: str, total_cents: int, subject: str, expires_at: datetime, device_info: str
    ) -> QrCreated:
        # timeout_express counts whole minutes; the server closes the trade itself at expires_at.
        minutes = max(1, math.ceil((expires_at - datetime.now(expires_at.tzinfo)).total_seconds() / 60))
        a = self.client.precreate(
            out_trade_no=out_trade_no, total_cents=total_cents, subject=subject, timeout_express=f"{minutes}m"
        )
        return QrCreated(a.outcome, a.qr_code, a.code, a.message, _flat(a.raw))

    def query(self, out_trade_no: str) -> QrQuery:
        q = self.client.query(out_trade_no)
        if not q.exists:
            state = QrState.NOTPAY  # not scanned yet
        else:
            state = {
                TradeState.PAID: QrState.PAID,
                TradeState.PENDING: QrState.SCANNED,
                TradeState.CLOSED: QrState.CLOSED,
            }.get(q.state, QrState.UNKNOWN)
        return QrQuery(state, q.trade_no, q.total_cents, q.code, _flat(q.raw))

    def close(self, out_trade_no: str) -> QrClosed:
        reply = self.client._call("alipay.trade.close", {"out_trade_no": out_trade_no})
        data = reply.data
        if data is None:
            return QrClosed(CloseResult.RETRY, reply.code)
        if reply.alipay_code == CODE_SUCCESS:
            result = QrClosed(CloseResult.CLOSED, None, _flat(data))
        elif reply.sub_code == TRADE_NOT_EXIST:
            result = self._cancel_unscanned(out_trade_no)
        elif reply.sub_code == "ACQ.TRADE_STATUS_ERROR":
            # Paid, or already closed: the query tells which.
            state = self.query(out_trade_no).state
            if state is QrState.PAID:
                result = QrClosed(CloseResult.PAID, reply.sub_code, _flat(data))
            elif state is QrState.CLOSED:
                result = QrClosed(CloseResult.CLOSED, reply.sub_code, _flat(data))
            else:
                result = QrClosed(CloseResult.RETRY, reply.sub_code, _flat(data))
        else:
            result = QrClosed(CloseResult.RETRY, reply.sub_code or reply.alipay_code, _flat(data))
        logger.info("alipay close %s: %s %s", out_trade_no, result.result, result.code or "")
        return result

    def _cancel_unscanned(self, out_trade_no: str) -> QrClosed:
        c = self.client.cancel(out_trade_no)
        if not c.cancelled:
            return QrClosed(CloseResult.RETRY, c.code, _flat(c.raw))
        if c.action == "refund":
            logger.warning("alipay %s was paid as it was being cancelled; Alipay refunded it", out_trade_no)
            return QrClosed(CloseResult.REFUNDED, "REFUNDED_ON_CANCEL", _flat(c.raw))
        return QrClosed(CloseResult.CLOSED, None, _flat(c.raw))
