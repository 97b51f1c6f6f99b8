"""WeChat Pay v2 Native (扫码支付 mode 2) in the WeChat sandbox: ``/pay/unifiedorder`` and ``/pay/closeorder``.

Modelled on the real API and sharing the sandbox's orders, signatures and ``/pay/orderquery``:

- ``unifiedorder`` needs ``body, out_trade_no, total_fee, spbill_create_ip, notify_url, trade_type``
  and, for ``NATIVE`` (the only trade_type here), ``product_id``; ``time_expire`` (``yyyyMMddHHmmss``,
  China time) is optional. It answers ``code_url`` (``weixin://wxpay/bizpayurl?pr=...``) and a
  ``prepay_id``. The order starts ``NOTPAY``. Sent again for the same out_trade_no with the same
  amount it answers the same code_url; with another amount ``OUT_TRADE_NO_USED``; for a paid order
  ``ORDERPAID``, a closed one ``ORDERCLOSED``.
- ``closeorder``: ``NOTPAY``/``USERPAYING`` -> ``CLOSED``; a paid order ``ORDERPAID``; closed already
  ``ORDERCLOSED``; unknown ``ORDERNOTEXIST``. (The real API wants 5 minutes between unifiedorder and
  closeorder; the sandbox does not, so tests stay short. The server retries a refused close anyway.)

The payer's phone, for tests and the demo: :meth:`NativeSandbox.scan` (the payer opened the code:
``USERPAYING``) and :meth:`NativeSandbox.pay` (paid: ``SUCCESS``), by out_trade_no or by the code_url
the kiosk shows, also over HTTP: ``POST /sandbox/wxpay/test/native/scan`` and ``.../native/pay``
with ``{"code_url": ...}`` or ``{"out_trade_no": ...}``. Paying a code after its time_expire, or
a closed one, is refused (409), as the phone would refuse it.
"""

from __future__ import annotations

import logging
import secrets
import time
from dataclasses import dataclass
from datetime import datetime

from fastapi import APIRouter, Request, Response

from server.payments.clock import china_now
from server.payments.sandbox import SandboxOrder, SandboxStore, _transaction_id
from server.payments.wechat import from_xml, to_xml

logger = logging.getLogger(__name__)

NATIVE = "NATIVE"
_NATIVE_DIGIT = -1  # sandbox orders carry an auth-code digit; a Native order has none


@dataclass
class _NativeInfo:
    code_url: str
    prepay_id: str
    time_expire: datetime | None  # China wall clock


class NativeSandbox:
    def __init__(self, store: SandboxStore) -> None:
        self.store = store
        self._info: dict[str, _NativeInfo] = {}  # out_trade_no -> Native details

    # -- the API -----------------------------------------------------------------------------------

    def unifiedorder(self, req: dict[str, str]) -> dict[str, object]:
        store = self.store
        required = ("body", "out_trade_no", "total_fee", "spbill_create_ip", "notify_url", "trade_type")
        bad = store.check(req, required)
        if bad:
            return bad
        st = store.sign_type_of(req)
        if req["trade_type"] != NATIVE:
            return store._fail("trade_type参数错误: the sandbox supports NATIVE only")
        if not req.get("product_id"):
            return store._fail("缺少参数product_id")
        if not req["total_fee"].isdigit() or int(req["total_fee"]) <= 0:
            return store._fail("total_fee无效")
        expire = None
        if req.get("time_expire"):
            try:
                expire = datetime.strptime(req["time_expire"], "%Y%m%d%H%M%S")
            except ValueError:
                return store._biz_fail(st, "PARAM_ERROR", "time_expire格式错误")
        otn, fee = req["out_trade_no"], int(req["total_fee"])
        with store._lock:
            order = store._orders.get(otn)
            if order is None:
                order = SandboxOrder(
                    otn, fee, _NATIVE_DIGIT, time.monotonic(), "NOTPAY", _transaction_id(), body=req["body"]
                )
                order.device_info = req.get("device_info", "")
                order.trade_type = NATIVE
                store._orders[otn] = order
                self._info[otn] = _NativeInfo(
                    "weixin://wxpay/bizpayurl?pr=" + secrets.token_urlsafe(6), "wx" + secrets.token_hex(14), expire
                )
                logger.info("sandbox native order %s: %d", otn, fee)
            info = self._info.get(otn)
            if info is None or order.total_fee != fee:
                return store._biz_fail(st, "OUT_TRADE_NO_USED", "商户订单号重复")
            state = order.state
        if state in ("SUCCESS", "REFUND"):
            return store._biz_fail(st, "ORDERPAID", "该订单已支付")
        if state in ("CLOSED", "REVOKED"):
            return store._biz_fail(st, "ORDERCLOSED", "订单已关闭")
        return store._signed(
            {"result_code": "SUCCESS", "trade_type": NATIVE, "prepay_id": info.prepay_id, "code_url": info.code_url},
            st,
        )

    def closeorder(self, req: dict[str, str]) -> dict[str, object]:
        store = self.store
        bad = store.check(req, ("out_trade_no",))
        if bad:
            return bad
        st = store.sign_type_of(req)
        with store._lock:
            order = store._orders.get(req["out_trade_no"])
            if order is None:
                return store._biz_fail(st, "ORDERNOTEXIST", "订单不存在")
            state = order.state
            if state in ("NOTPAY", "USERPAYING"):
                order.state = "CLOSED"
        if state in ("SUCCESS", "REFUND"):
            return store._biz_fail(st, "ORDERPAID", "订单已支付，不能发起关单")
        if state in ("CLOSED", "REVOKED"):
            return store._biz_fail(st, "ORDERCLOSED", "订单已关闭")
        logger.info("sandbox native order %s closed", req["out_trade_no"])
        return store._signed({"result_code": "SUCCESS", "result_msg": "OK"}, st)

    # -- the payer's phone -------------------------------------------------------------------------

    def find(self, *, out_trade_no: str = "", code_url: str = "") -> str | None:
        with self.store._lock:
            if out_trade_no:
                return out_trade_no if out_trade_no in self._info else None
            return next((otn for otn, i in self._info.items() if i.code_url == code_url), None)

    def scan(self, out_trade_no: str) -> str:
        """The payer opened the code and is confirming: USERPAYING. ValueError when it can't be paid."""
        return self._move(out_trade_no, "USERPAYING")

    def pay(self, out_trade_no: str) -> str:
        """The payer scanned and paid: SUCCESS. ValueError when it can't be paid (closed, expired)."""
        return self._move(out_trade_no, "SUCCESS")

    def _move(self, out_trade_no: str, to: str) -> str:
        with self.store._lock:
            order, info = self.store._orders.get(out_trade_no), self._info.get(out_trade_no)
            if order is None or info is None:
                raise KeyError(out_trade_no)
            if order.state not in ("NOTPAY", "USERPAYING"):
                raise ValueError(f"order {out_trade_no} is {order.state}")
            if info.time_expire is not None and china_now() >= info.time_expire:
                raise ValueError(f"order {out_trade_no} expired at {info.time_expire}")
            order.state = to
            if to == "SUCCESS":
                order.paid_at = china_now()
        logger.info("sandbox native order %s: %s by the payer", out_trade_no, to)
        return to


def make_native_sandbox_router(native: NativeSandbox) -> APIRouter:
    router = APIRouter(prefix="/sandbox/wxpay", tags=["sandbox"], include_in_schema=False)

    def _xml(answer: dict[str, object]) -> Response:
        return Response(content=to_xml(answer), media_type="application/xml")

    @router.post("/pay/unifiedorder")
    async def unifiedorder(request: Request) -> Response:
        try:
            req = from_xml(await request.body())
        except ValueError:
            return _xml(SandboxStore._fail("XML格式错误"))
        return _xml(native.unifiedorder(req))

    @router.post("/pay/closeorder")
    async def closeorder(request: Request) -> Response:
        try:
            req = from_xml(await request.body())
        except ValueError:
            return _xml(SandboxStore._fail("XML格式错误"))
        return _xml(native.closeorder(req))

    async def _phone(request: Request, to: str) -> Response:
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return Response(content=b"send {code_url} or {out_trade_no}", status_code=400, media_type="text/plain")
        otn = native.find(out_trade_no=str(body.get("out_trade_no") or ""), code_url=str(body.get("code_url") or ""))
        if otn is None:
            return Response(content=b"no such order", status_code=404, media_type="text/plain")
        try:
            state = native.pay(otn) if to == "SUCCESS" else native.scan(otn)
        except ValueError as exc:
            return Response(content=str(exc).encode(), status_code=409, media_type="text/plain")
        return Response(content=state.encode(), media_type="text/plain")

    @router.post("/test/native/scan")
    async def scan(request: Request) -> Response:
        return await _phone(request, "USERPAYING")

    @router.post("/test/native/pay")
    async def pay(request: Request) -> Response:
        return await _phone(request, "SUCCESS")

    return router
