"""Alipay's trade.pay / query / cancel seen through the payment service's micropay interface.

The payment state machine (service.py) was written against WeChat's micropay, orderquery and
reverse; Alipay's bar-code payment has the same shape (pay, query while the payer confirms,
cancel when unclear), so this adapter only translates answers:

- trade.pay 10000 -> SUCCESS; 10003 (waiting for the payer) and 20000 -> UNKNOWN (query, cancel).
- query PAID -> ``SUCCESS``; WAIT_BUYER_PAY -> ``USERPAYING``; CLOSED -> ``CLOSED``;
  ``ACQ.TRADE_NOT_EXIST`` -> ``NOTPAY`` (never arrived, or not yet): the resolver keeps querying
  until its deadline and then cancels, which also makes sure a late arrival can't be paid.
- cancel -> reverse: ``retry_flag=Y`` is WeChat's ``recall=Y``.
"""

from __future__ import annotations

from server.payments.alipay import AlipayClient, TradeState
from server.payments.wechat import MicropayAnswer, QueryAnswer, ReverseAnswer

_STATES = {TradeState.PAID: "SUCCESS", TradeState.PENDING: "USERPAYING", TradeState.CLOSED: "CLOSED"}


class AlipayMicropay:
    def __init__(self, client: AlipayClient) -> None:
        self.client = client

    def micropay(
        self, *, out_trade_no: str, total_fee: int, auth_code: str, body: str, device_info: str = ""
    ) -> MicropayAnswer:
        a = self.client.pay(
            out_trade_no=out_trade_no, total_cents=total_fee, auth_code=auth_code, subject=body, terminal_id=device_info
        )
        return MicropayAnswer(a.outcome, a.code, a.message, a.trade_no, {k: str(v) for k, v in a.raw.items()})

    def orderquery(self, out_trade_no: str) -> QueryAnswer:
        q = self.client.query(out_trade_no)
        state = "NOTPAY" if not q.exists else _STATES.get(q.state)
        return QueryAnswer(state, q.code, q.message, q.trade_no, q.total_cents, {k: str(v) for k, v in q.raw.items()})

    def reverse(self, out_trade_no: str) -> ReverseAnswer:
        c = self.client.cancel(out_trade_no)
        raw = {k: str(v) for k, v in c.raw.items()}
        return ReverseAnswer(c.cancelled, c.retry, c.transport_error, c.code, c.message, raw)

    def close(self) -> None:
        self.client.close()
