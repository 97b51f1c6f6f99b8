"""A WeChat Pay v2 micropay sandbox, mounted in the same app at ``/sandbox/wxpay``.

Endpoints (XML in, XML out, like the real API): ``/pay/micropay``, ``/pay/orderquery``,
``/secapi/pay/reverse``. Every request's MD5 signature is checked (``return_code=FAIL`` on a bad
one) and every ``return_code=SUCCESS`` answer is signed with the same merchant key. Orders live
in memory (lost on restart; a resumed payment then finds ORDERNOTEXIST and ends REVERSED).

The outcome is chosen by the LAST DIGIT of the 18-digit auth_code:

====== ====================================================================================
digit  behaviour
====== ====================================================================================
0-5    SUCCESS at once
6      USERPAYING; orderquery reports SUCCESS once ``sandbox_userpaying_s`` have passed
7      USERPAYING forever; the first reverse answers SYSTEMERROR recall=Y, the next one
       succeeds -> the server ends REVERSED
8      FAIL err_code NOTENOUGH (balance insufficient) -> FAILED
9      the order is recorded as paid but the answer is withheld longer than the provider
       read timeout (the response is "lost") -> the server must query and find SUCCESS
====== ====================================================================================

An auth_code that isn't 18 digits starting 10-15 gets FAIL AUTH_CODE_INVALID (no order).
Re-sending micropay for a known out_trade_no never creates a second order.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime

from fastapi import APIRouter, Request, Response

from server.payments.codes import mask_auth_code
from server.payments.wechat import from_xml, nonce_str, sign_md5, to_xml, verify_md5

logger = logging.getLogger(__name__)

_WECHAT_CODE_DIGITS = 18


@dataclass
class SandboxOrder:
    out_trade_no: str
    total_fee: int
    digit: int
    created: float  # time.monotonic()
    state: str  # SUCCESS | USERPAYING | PAYERROR | REVOKED | REFUND
    transaction_id: str
    reverse_calls: int = 0


class SandboxStore:
    """Thread-safe in-memory orders plus the knobs the tests turn."""

    def __init__(self, *, key: str, appid: str, mch_id: str, userpaying_s: float, lost_response_s: float) -> None:
        self.key = key
        self.appid = appid
        self.mch_id = mch_id
        self.userpaying_s = userpaying_s
        self.lost_response_s = lost_response_s
        self._orders: dict[str, SandboxOrder] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()

    def order_count(self) -> int:
        with self._lock:
            return len(self._orders)

    def order(self, out_trade_no: str) -> SandboxOrder | None:
        with self._lock:
            return self._orders.get(out_trade_no)

    def stop(self) -> None:
        """Release withheld answers at once, so a server shutdown never waits for them."""
        self._stopping.set()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def _state(self, order: SandboxOrder) -> str:
        if order.state == "USERPAYING" and order.digit == 6 and time.monotonic() - order.created >= self.userpaying_s:
            order.state = "SUCCESS"
        return order.state

    # -- answers -----------------------------------------------------------------------------------

    def _signed(self, fields: dict[str, object]) -> dict[str, object]:
        out: dict[str, object] = {
            "return_code": "SUCCESS",
            "return_msg": "OK",
            "appid": self.appid,
            "mch_id": self.mch_id,
            "nonce_str": nonce_str(),
            **fields,
        }
        out["sign"] = sign_md5(out, self.key)
        return out

    @staticmethod
    def _fail(msg: str) -> dict[str, object]:
        # Real return_code=FAIL answers carry no signature.
        return {"return_code": "FAIL", "return_msg": msg}

    def _biz_fail(self, err_code: str, des: str, **extra: object) -> dict[str, object]:
        return self._signed({"result_code": "FAIL", "err_code": err_code, "err_code_des": des, **extra})

    def check(self, req: dict[str, str], required: tuple[str, ...]) -> dict[str, object] | None:
        """The communication-level checks; returns a FAIL answer or None when the request is fine."""
        if not verify_md5(req, self.key):
            return self._fail("签名错误")
        if req.get("appid") != self.appid or req.get("mch_id") != self.mch_id:
            return self._fail("appid和mch_id不匹配")
        missing = [k for k in ("nonce_str", *required) if not req.get(k)]
        if missing:
            return self._fail(f"缺少参数{missing[0]}")
        return None

    def _paid_fields(self, order: SandboxOrder) -> dict[str, object]:
        return {
            "result_code": "SUCCESS",
            "openid": "oSANDBOX0000000000000000000",
            "is_subscribe": "N",
            "trade_type": "MICROPAY",
            "bank_type": "OTHERS",
            "total_fee": order.total_fee,
            "cash_fee": order.total_fee,
            "fee_type": "CNY",
            "transaction_id": order.transaction_id,
            "out_trade_no": order.out_trade_no,
            "time_end": datetime.now().strftime("%Y%m%d%H%M%S"),
        }

    def micropay(self, req: dict[str, str]) -> tuple[dict[str, object], float]:
        """The answer and how long to withhold it (seconds)."""
        bad = self.check(req, ("body", "out_trade_no", "total_fee", "spbill_create_ip", "auth_code"))
        if bad:
            return bad, 0.0
        code = req["auth_code"]
        if not (len(code) == _WECHAT_CODE_DIGITS and code.isdigit() and "10" <= code[:2] <= "15"):
            return self._biz_fail("AUTH_CODE_INVALID", "付款码无效，请重新扫码"), 0.0
        if not req["total_fee"].isdigit() or int(req["total_fee"]) <= 0:
            return self._fail("total_fee无效"), 0.0
        otn = req["out_trade_no"]
        with self._lock:
            order = self._orders.get(otn)
            if order is None:
                digit = int(code[-1])
                state = {6: "USERPAYING", 7: "USERPAYING", 8: "PAYERROR"}.get(digit, "SUCCESS")
                order = SandboxOrder(
                    otn, int(req["total_fee"]), digit, time.monotonic(), state, "42" + secrets.token_hex(13)[:26]
                )
                self._orders[otn] = order
                logger.info("sandbox order %s for code %s: %s", otn, mask_auth_code(code), state)
            state = self._state(order)
            withhold = self.lost_response_s if order.digit == 9 else 0.0
        if state == "SUCCESS":
            return self._signed(self._paid_fields(order)), withhold
        if state == "USERPAYING":
            return self._biz_fail("USERPAYING", "需要用户输入支付密码"), 0.0
        if state == "PAYERROR":
            return self._biz_fail("NOTENOUGH", "余额不足"), 0.0
        return self._biz_fail("ORDERREVERSED", "订单已撤销"), 0.0

    def orderquery(self, req: dict[str, str]) -> dict[str, object]:
        bad = self.check(req, ("out_trade_no",))
        if bad:
            return bad
        with self._lock:
            order = self._orders.get(req["out_trade_no"])
            if order is None:
                return self._biz_fail("ORDERNOTEXIST", "此交易订单号不存在")
            state = self._state(order)
        fields: dict[str, object] = (
            self._paid_fields(order)
            if state == "SUCCESS"
            else {"result_code": "SUCCESS", "out_trade_no": order.out_trade_no, "total_fee": order.total_fee}
        )
        fields["trade_state"] = state
        fields["trade_state_desc"] = state
        return self._signed(fields)

    def reverse(self, req: dict[str, str]) -> dict[str, object]:
        bad = self.check(req, ("out_trade_no",))
        if bad:
            return bad
        with self._lock:
            order = self._orders.get(req["out_trade_no"])
            if order is None:
                return self._biz_fail("ORDERNOTEXIST", "订单不存在", recall="N")
            order.reverse_calls += 1
            if order.digit == 7 and order.reverse_calls == 1:
                return self._biz_fail("SYSTEMERROR", "系统超时，请重试", recall="Y")
            # an unpaid order is closed, a paid one refunded: either way it ends REVOKED
            order.state = "REVOKED"
        logger.info("sandbox order %s reversed", order.out_trade_no)
        return self._signed({"result_code": "SUCCESS", "recall": "N"})


def make_sandbox_router(store: SandboxStore) -> APIRouter:
    router = APIRouter(prefix="/sandbox/wxpay", tags=["sandbox"], include_in_schema=False)

    async def _parse(request: Request) -> dict[str, str] | None:
        try:
            return from_xml(await request.body())
        except ValueError:
            return None

    def _xml(answer: dict[str, object]) -> Response:
        return Response(content=to_xml(answer), media_type="application/xml")

    @router.post("/pay/micropay")
    async def micropay(request: Request) -> Response:
        req = await _parse(request)
        if req is None:
            return _xml(SandboxStore._fail("XML格式错误"))
        answer, withhold = store.micropay(req)
        # The "lost response": the order is already paid, the caller times out before this returns.
        deadline = time.monotonic() + withhold
        while time.monotonic() < deadline and not store.stopping:
            await asyncio.sleep(0.05)
        return _xml(answer)

    @router.post("/pay/orderquery")
    async def orderquery(request: Request) -> Response:
        req = await _parse(request)
        return _xml(store.orderquery(req) if req is not None else SandboxStore._fail("XML格式错误"))

    @router.post("/secapi/pay/reverse")
    async def reverse(request: Request) -> Response:
        req = await _parse(request)
        return _xml(store.reverse(req) if req is not None else SandboxStore._fail("XML格式错误"))

    return router
