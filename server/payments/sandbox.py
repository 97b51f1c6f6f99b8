"""A WeChat Pay v2 sandbox, mounted in the same app at ``/sandbox/wxpay``.

Endpoints (XML in, XML out, like the real API): ``/pay/micropay``, ``/pay/orderquery``,
``/secapi/pay/reverse``, ``/secapi/pay/refund``, ``/pay/refundquery`` and ``/pay/downloadbill``
(text out). Every request's signature is checked with the ``sign_type`` it declares (``MD5`` when
absent, or ``HMAC-SHA256``; ``return_code=FAIL`` on a bad one) and every ``return_code=SUCCESS``
answer is signed with the same merchant key and the same sign_type. Orders live in memory (lost on
restart; a resumed payment then finds ORDERNOTEXIST and ends REVERSED).

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

Refunds: a paid order can be refunded in parts; the same ``out_refund_no`` always answers the same
refund (same refund_id, nothing refunded twice), and a refund that would take the refunds of the
order over its ``total_fee`` is refused with ``err_code=ERROR`` / ``累计退款金额大于支付金额``. A
``total_fee`` differing from the order's is ``PARAM_ERROR``, an unpaid order ``ERROR`` / ``交易未支付``.
Refunds succeed at once (refundquery: ``refund_status_n=SUCCESS``), unless a test scripted the
next new refunds with :meth:`SandboxStore.script_refunds`: ``lost`` (made, the answer withheld
``lost_response_s``), ``error`` (SYSTEMERROR, nothing made: refundquery says REFUNDNOTEXIST),
``processing`` (refundquery says PROCESSING for ``userpaying_s``, then SUCCESS) or ``close``
(refundquery says REFUNDCLOSE: the money never left).

The daily bill: see :meth:`SandboxStore.bill_text` for the exact format; the test hooks
:meth:`SandboxStore.add_bill_order`, :meth:`SandboxStore.add_bill_refund` and
:meth:`SandboxStore.alter_order` craft what reconciliation must catch.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from fastapi import APIRouter, Request, Response

from server.payments.clock import china_now
from server.payments.codes import mask_auth_code
from server.payments.wechat import SIGN_MD5, SIGN_TYPES, from_xml, nonce_str, sign, to_xml, verify

logger = logging.getLogger(__name__)

_WECHAT_CODE_DIGITS = 18
_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"

# The official column list of the ALL bill (the sandbox uses it for every bill_type).
BILL_COLUMNS: tuple[str, ...] = (
    "交易时间", "公众账号ID", "商户号", "特约商户号", "设备号", "微信订单号", "商户订单号", "用户标识",
    "交易类型", "交易状态", "付款银行", "货币种类", "应结订单金额", "代金券金额", "微信退款单号",
    "商户退款单号", "退款金额", "充值券退款金额", "退款类型", "退款状态", "商品名称", "商户数据包",
    "手续费", "费率", "订单金额", "申请退款金额", "费率备注",
)  # fmt: skip
BILL_SUMMARY_COLUMNS: tuple[str, ...] = (
    "总交易单数", "应结订单总金额", "退款总金额", "充值券退款总金额", "手续费总金额", "订单总金额", "申请退款总金额",
)  # fmt: skip
NO_BILL_ERROR_CODE = "20002"

_CENT = Decimal("0.01")
_FEE_QUANTUM = Decimal("0.00001")  # the bill shows the fee with 5 decimals


def _yuan(cents: int) -> Decimal:
    return (Decimal(cents) / 100).quantize(_CENT)


@dataclass
class SandboxRefund:
    out_refund_no: str
    refund_id: str
    refund_fee: int  # cents
    refunded_at: datetime
    status: str = "SUCCESS"  # SUCCESS | PROCESSING (until ``ready_at``) | REFUNDCLOSE
    ready_at: float = 0.0  # time.monotonic() when a PROCESSING refund becomes SUCCESS


@dataclass
class SandboxOrder:
    out_trade_no: str
    total_fee: int
    digit: int
    created: float  # time.monotonic()
    state: str  # SUCCESS | USERPAYING | PAYERROR | REVOKED | REFUND
    transaction_id: str
    reverse_calls: int = 0
    body: str = ""
    device_info: str = ""
    created_at: datetime = field(default_factory=china_now)
    paid_at: datetime | None = None
    revoked_at: datetime | None = None
    refunds: list[SandboxRefund] = field(default_factory=list)
    in_bill: bool = True  # test hook: False leaves a paid order out of the bill
    trade_type: str = "MICROPAY"  # NATIVE for a kiosk-shown QR order (server/payments/sandbox_native.py)

    @property
    def refunded(self) -> int:
        """What the refunds take from the order (a closed refund took nothing)."""
        return sum(r.refund_fee for r in self.refunds if r.status != "REFUNDCLOSE")


def _refund_status(refund: SandboxRefund) -> str:
    if refund.status == "PROCESSING" and time.monotonic() >= refund.ready_at:
        refund.status = "SUCCESS"
    return refund.status


class SandboxStore:
    """Thread-safe in-memory orders plus the knobs the tests turn."""

    def __init__(
        self,
        *,
        key: str,
        appid: str,
        mch_id: str,
        userpaying_s: float,
        lost_response_s: float,
        fee_rate: Decimal = Decimal("0.006"),
    ) -> None:
        self.key = key
        self.appid = appid
        self.mch_id = mch_id
        self.userpaying_s = userpaying_s
        self.lost_response_s = lost_response_s
        self.fee_rate = fee_rate
        self.bill_bom = False  # some real bills start with U+FEFF; a parser test can switch it on
        self._orders: dict[str, SandboxOrder] = {}
        self._refunds: dict[str, SandboxOrder] = {}  # out_refund_no -> its order (unique per merchant)
        self._refund_script: list[str] = []  # test hook: modes of the next new refunds
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
            order.paid_at = order.created_at + timedelta(seconds=self.userpaying_s)
        return order.state

    # -- test hooks: craft what reconciliation must find -------------------------------------------

    def script_refunds(self, *modes: str) -> None:
        """The next new refunds, one mode each: ``lost``, ``error``, ``processing``, ``close`` or ``ok``."""
        if any(m not in ("lost", "error", "processing", "close", "ok") for m in modes):
            raise ValueError(f"unknown refund modes {modes}")
        with self._lock:
            self._refund_script.extend(modes)

    def add_bill_order(
        self,
        out_trade_no: str,
        total_fee: int,
        *,
        paid_at: datetime | None = None,
        body: str = "sandbox",
        transaction_id: str | None = None,
    ) -> SandboxOrder:
        """A paid order the merchant never saw (or one on another day, with ``paid_at``)."""
        when = paid_at or china_now()
        order = SandboxOrder(
            out_trade_no, total_fee, 0, time.monotonic(), "SUCCESS", transaction_id or _transaction_id(), body=body
        )
        order.created_at = order.paid_at = when
        with self._lock:
            if out_trade_no in self._orders:
                raise ValueError(f"order {out_trade_no} exists")
            self._orders[out_trade_no] = order
        return order

    def add_bill_refund(
        self,
        out_trade_no: str,
        refund_fee: int,
        *,
        out_refund_no: str | None = None,
        refunded_at: datetime | None = None,
    ) -> SandboxRefund:
        """A refund the merchant never asked for; no over-refund check, so the bill can be made inconsistent."""
        with self._lock:
            order = self._orders[out_trade_no]
            refund = SandboxRefund(
                out_refund_no or "R" + secrets.token_hex(8), _refund_id(), refund_fee, refunded_at or china_now()
            )
            order.refunds.append(refund)
            order.state = "REFUND"
            self._refunds[refund.out_refund_no] = order
        return refund

    def alter_order(
        self,
        out_trade_no: str,
        *,
        total_fee: int | None = None,
        paid_at: datetime | None = None,
        in_bill: bool | None = None,
    ) -> None:
        """Change what the provider believes: another amount, another day, or absent from the bill."""
        with self._lock:
            order = self._orders[out_trade_no]
            if total_fee is not None:
                order.total_fee = total_fee
            if paid_at is not None:
                order.paid_at = paid_at
            if in_bill is not None:
                order.in_bill = in_bill

    # -- answers -----------------------------------------------------------------------------------

    def _signed(self, fields: dict[str, object], sign_type: str = SIGN_MD5) -> dict[str, object]:
        out: dict[str, object] = {
            "return_code": "SUCCESS",
            "return_msg": "OK",
            "appid": self.appid,
            "mch_id": self.mch_id,
            "nonce_str": nonce_str(),
            **fields,
        }
        out["sign"] = sign(out, self.key, sign_type)
        return out

    @staticmethod
    def _fail(msg: str) -> dict[str, object]:
        # Real return_code=FAIL answers carry no signature.
        return {"return_code": "FAIL", "return_msg": msg}

    def _biz_fail(self, sign_type: str, err_code: str, des: str, **extra: object) -> dict[str, object]:
        return self._signed({"result_code": "FAIL", "err_code": err_code, "err_code_des": des, **extra}, sign_type)

    @staticmethod
    def sign_type_of(req: dict[str, str]) -> str:
        return req.get("sign_type") or SIGN_MD5

    def check(self, req: dict[str, str], required: tuple[str, ...]) -> dict[str, object] | None:
        """The communication-level checks; returns a FAIL answer or None when the request is fine."""
        sign_type = self.sign_type_of(req)
        if sign_type not in SIGN_TYPES:
            return self._fail("sign_type参数错误")
        if not verify(req, self.key, sign_type):
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
            "trade_type": order.trade_type,
            "bank_type": "OTHERS",
            "total_fee": order.total_fee,
            "cash_fee": order.total_fee,
            "fee_type": "CNY",
            "transaction_id": order.transaction_id,
            "out_trade_no": order.out_trade_no,
            "time_end": (order.paid_at or china_now()).strftime("%Y%m%d%H%M%S"),
        }

    def micropay(self, req: dict[str, str]) -> tuple[dict[str, object], float]:
        """The answer and how long to withhold it (seconds)."""
        bad = self.check(req, ("body", "out_trade_no", "total_fee", "spbill_create_ip", "auth_code"))
        if bad:
            return bad, 0.0
        st = self.sign_type_of(req)
        code = req["auth_code"]
        if not (len(code) == _WECHAT_CODE_DIGITS and code.isdigit() and "10" <= code[:2] <= "15"):
            return self._biz_fail(st, "AUTH_CODE_INVALID", "付款码无效，请重新扫码"), 0.0
        if not req["total_fee"].isdigit() or int(req["total_fee"]) <= 0:
            return self._fail("total_fee无效"), 0.0
        otn = req["out_trade_no"]
        with self._lock:
            order = self._orders.get(otn)
            if order is None:
                digit = int(code[-1])
                state = {6: "USERPAYING", 7: "USERPAYING", 8: "PAYERROR"}.get(digit, "SUCCESS")
                order = SandboxOrder(
                    otn,
                    int(req["total_fee"]),
                    digit,
                    time.monotonic(),
                    state,
                    _transaction_id(),
                    body=req["body"],
                    device_info=req.get("device_info", ""),
                )
                if state == "SUCCESS":
                    order.paid_at = order.created_at
                self._orders[otn] = order
                logger.info("sandbox order %s for code %s: %s", otn, mask_auth_code(code), state)
            state = self._state(order)
            withhold = self.lost_response_s if order.digit == 9 else 0.0
        if state in ("SUCCESS", "REFUND"):
            return self._signed(self._paid_fields(order), st), withhold
        if state == "USERPAYING":
            return self._biz_fail(st, "USERPAYING", "需要用户输入支付密码"), 0.0
        if state == "PAYERROR":
            return self._biz_fail(st, "NOTENOUGH", "余额不足"), 0.0
        return self._biz_fail(st, "ORDERREVERSED", "订单已撤销"), 0.0

    def orderquery(self, req: dict[str, str]) -> dict[str, object]:
        bad = self.check(req, ("out_trade_no",))
        if bad:
            return bad
        st = self.sign_type_of(req)
        with self._lock:
            order = self._orders.get(req["out_trade_no"])
            if order is None:
                return self._biz_fail(st, "ORDERNOTEXIST", "此交易订单号不存在")
            state = self._state(order)
        fields: dict[str, object] = (
            self._paid_fields(order)
            if state in ("SUCCESS", "REFUND")
            else {"result_code": "SUCCESS", "out_trade_no": order.out_trade_no, "total_fee": order.total_fee}
        )
        fields["trade_state"] = state
        fields["trade_state_desc"] = state
        return self._signed(fields, st)

    def reverse(self, req: dict[str, str]) -> dict[str, object]:
        bad = self.check(req, ("out_trade_no",))
        if bad:
            return bad
        st = self.sign_type_of(req)
        with self._lock:
            order = self._orders.get(req["out_trade_no"])
            if order is None:
                return self._biz_fail(st, "ORDERNOTEXIST", "订单不存在", recall="N")
            order.reverse_calls += 1
            if order.digit == 7 and order.reverse_calls == 1:
                return self._biz_fail(st, "SYSTEMERROR", "系统超时，请重试", recall="Y")
            # an unpaid order is closed, a paid one refunded: either way it ends REVOKED
            if order.state != "REVOKED":
                self._state(order)
                order.state = "REVOKED"
                order.revoked_at = china_now()
        logger.info("sandbox order %s reversed", order.out_trade_no)
        return self._signed({"result_code": "SUCCESS", "recall": "N"}, st)

    # -- refunds -----------------------------------------------------------------------------------

    @staticmethod
    def _refund_fields(order: SandboxOrder, refund: SandboxRefund) -> dict[str, object]:
        return {
            "result_code": "SUCCESS",
            "transaction_id": order.transaction_id,
            "out_trade_no": order.out_trade_no,
            "out_refund_no": refund.out_refund_no,
            "refund_id": refund.refund_id,
            "refund_fee": refund.refund_fee,
            "settlement_refund_fee": refund.refund_fee,
            "total_fee": order.total_fee,
            "cash_fee": order.total_fee,
            "cash_refund_fee": refund.refund_fee,
            "refund_channel": "ORIGINAL",
        }

    def refund(self, req: dict[str, str]) -> dict[str, object]:
        return self.refund_withheld(req)[0]

    def refund_withheld(self, req: dict[str, str]) -> tuple[dict[str, object], float]:
        """The refund answer and how long to withhold it (seconds): a scripted ``lost`` refund."""
        answer = self._refund(req)
        lost = answer.pop("_withhold", None)
        return answer, self.lost_response_s if lost else 0.0

    def _refund(self, req: dict[str, str]) -> dict[str, object]:
        bad = self.check(req, ("out_refund_no", "total_fee", "refund_fee"))
        if bad:
            return bad
        st = self.sign_type_of(req)
        if not (req.get("out_trade_no") or req.get("transaction_id")):
            return self._fail("缺少参数out_trade_no")
        if not (req["total_fee"].isdigit() and req["refund_fee"].isdigit()) or int(req["refund_fee"]) <= 0:
            return self._biz_fail(st, "PARAM_ERROR", "订单金额或退款金额无效")
        total_fee, refund_fee = int(req["total_fee"]), int(req["refund_fee"])
        with self._lock:
            order = self._find(req)
            if order is None:
                return self._biz_fail(st, "ORDERNOTEXIST", "订单不存在")
            owner = self._refunds.get(req["out_refund_no"])
            if owner is not None:
                if owner is not order:
                    return self._biz_fail(st, "PARAM_ERROR", "退款单号已用于其他订单")
                # "同一退款单号多次请求只退一笔": the same refund again, whatever this request's amount
                same = next(r for r in order.refunds if r.out_refund_no == req["out_refund_no"])
                return self._signed(self._refund_fields(order, same), st)
            state = self._state(order)
            if state not in ("SUCCESS", "REFUND"):
                return self._biz_fail(st, "ERROR", "交易未支付" if state != "REVOKED" else "订单已撤销")
            if total_fee != order.total_fee:
                return self._biz_fail(st, "PARAM_ERROR", "订单金额与实际不符")
            if order.refunded + refund_fee > order.total_fee:
                return self._biz_fail(st, "ERROR", "累计退款金额大于支付金额")
            mode = self._refund_script.pop(0) if self._refund_script else "ok"
            if mode == "error":
                return self._biz_fail(st, "SYSTEMERROR", "系统超时，请用相同参数再次调用")
            refund = SandboxRefund(req["out_refund_no"], _refund_id(), refund_fee, china_now())
            if mode == "processing":
                refund.status, refund.ready_at = "PROCESSING", time.monotonic() + self.userpaying_s
            elif mode == "close":
                refund.status = "REFUNDCLOSE"
            order.refunds.append(refund)
            order.state = "REFUND"
            self._refunds[refund.out_refund_no] = order
        logger.info(
            "sandbox refund %s of order %s: %d (%s)", refund.out_refund_no, order.out_trade_no, refund_fee, mode
        )
        answer = self._signed(self._refund_fields(order, refund), st)
        if mode == "lost":
            answer["_withhold"] = True  # not part of the signed answer: popped by refund_withheld
        return answer

    def _find(self, req: dict[str, str]) -> SandboxOrder | None:
        if req.get("out_trade_no"):
            return self._orders.get(req["out_trade_no"])
        tid = req.get("transaction_id")
        return next((o for o in self._orders.values() if o.transaction_id == tid), None)

    def refundquery(self, req: dict[str, str]) -> dict[str, object]:
        bad = self.check(req, ())
        if bad:
            return bad
        st = self.sign_type_of(req)
        with self._lock:
            if req.get("out_refund_no"):
                order = self._refunds.get(req["out_refund_no"])
                refunds = [r for r in order.refunds if r.out_refund_no == req["out_refund_no"]] if order else []
            elif req.get("out_trade_no") or req.get("transaction_id"):
                order = self._find(req)
                refunds = list(order.refunds) if order else []
            else:
                return self._fail("缺少参数out_trade_no")
            if order is None or not refunds:
                return self._biz_fail(st, "REFUNDNOTEXIST", "退款订单查询失败")
            fields: dict[str, object] = {
                "result_code": "SUCCESS",
                "transaction_id": order.transaction_id,
                "out_trade_no": order.out_trade_no,
                "total_fee": order.total_fee,
                "cash_fee": order.total_fee,
                "refund_fee": sum(r.refund_fee for r in refunds),
                "refund_count": len(refunds),
            }
            for n, r in enumerate(refunds):
                fields[f"out_refund_no_{n}"] = r.out_refund_no
                fields[f"refund_id_{n}"] = r.refund_id
                fields[f"refund_fee_{n}"] = r.refund_fee
                fields[f"refund_status_{n}"] = _refund_status(r)
                fields[f"refund_channel_{n}"] = "ORIGINAL"
                fields[f"refund_success_time_{n}"] = r.refunded_at.strftime(_TIME_FORMAT)
        return self._signed(fields, st)

    # -- daily bill --------------------------------------------------------------------------------

    def _fee(self, cents: int) -> Decimal:
        return (Decimal(cents) / 100 * self.fee_rate).quantize(_FEE_QUANTUM, ROUND_HALF_UP)

    def _bill_rows(self, day: date, bill_type: str) -> list[tuple[datetime, dict[str, str]]]:
        rate = f"{(self.fee_rate * 100).normalize():f}%"
        rows: list[tuple[datetime, dict[str, str]]] = []
        with self._lock:
            for order in self._orders.values():
                self._state(order)
                if not order.in_bill or order.paid_at is None:
                    continue  # never paid: not in any bill
                common = {
                    "公众账号ID": self.appid,
                    "商户号": self.mch_id,
                    "特约商户号": "0",
                    "设备号": order.device_info,
                    "微信订单号": order.transaction_id,
                    "商户订单号": order.out_trade_no,
                    "用户标识": "oSANDBOX0000000000000000000",
                    "交易类型": order.trade_type,
                    "付款银行": "OTHERS",
                    "货币种类": "CNY",
                    "代金券金额": "0.00",
                    "充值券退款金额": "0.00",
                    # the bill is comma separated and unquoted: a comma or newline in the body would split the row
                    "商品名称": " ".join(order.body.replace(",", " ").split()),
                    "商户数据包": "",
                    "费率": rate,
                    "费率备注": "",
                }
                if order.paid_at.date() == day and bill_type in ("ALL", "SUCCESS"):
                    amount = f"{_yuan(order.total_fee)}"
                    rows.append((order.paid_at, {
                        **common, "交易时间": order.paid_at.strftime(_TIME_FORMAT), "交易状态": "SUCCESS",
                        "应结订单金额": amount, "微信退款单号": "0", "商户退款单号": "0", "退款金额": "0.00",
                        "退款类型": "", "退款状态": "", "手续费": f"{self._fee(order.total_fee)}",
                        "订单金额": amount, "申请退款金额": "0.00",
                    }))  # fmt: skip
                if bill_type not in ("ALL", "REFUND"):
                    continue
                backs = [
                    (r.refunded_at, "REFUND", r.refund_id, r.out_refund_no, r.refund_fee)
                    for r in order.refunds
                    if _refund_status(r) == "SUCCESS"  # the bill lists money that went back
                ]
                if order.state == "REVOKED" and order.revoked_at is not None:
                    # a paid order reversed: the whole amount goes back, listed under the original order number
                    backs.append((order.revoked_at, "REVOKED", _refund_id(order.transaction_id), "0", order.total_fee))
                for when, status, refund_id, out_refund_no, cents in backs:
                    if when.date() != day:
                        continue
                    rows.append((when, {
                        **common, "交易时间": when.strftime(_TIME_FORMAT), "交易状态": status,
                        "应结订单金额": "0.00", "微信退款单号": refund_id, "商户退款单号": out_refund_no,
                        "退款金额": f"{_yuan(cents)}", "退款类型": "ORIGINAL", "退款状态": "SUCCESS",
                        "手续费": f"{-self._fee(cents)}", "订单金额": "0.00", "申请退款金额": f"{_yuan(cents)}",
                    }))  # fmt: skip
        rows.sort(key=lambda pair: pair[0])
        return rows

    def bill_text(self, bill_date: str, bill_type: str = "ALL") -> str | None:
        """The bill of one day (``YYYYMMDD``) as the provider sends it, or None when there is none.

        Exact format (lines end with ``\\r\\n``; all amounts in yuan with 2 decimals except 手续费,
        which has 5, and 费率, a percentage like ``0.6%``)::

            交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,
            付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,
            退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注      (one line)
            `2026-11-22 09:00:00,`wx...,`1900000109,`0,`KIOSK-1,`42...,`P1,`oSANDBOX...,`MICROPAY,`SUCCESS,
            `OTHERS,`CNY,`15.00,`0.00,`0,`0,`0.00,`0.00,`,`,`挂号费,`,`0.09000,`0.6%,`15.00,`0.00,`   (one per row)
            总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额
            `2,`15.00,`5.00,`0.00,`0.06000,`15.00,`5.00

        One ``SUCCESS`` row per paid order at its payment time; one ``REFUND`` row per refund at its
        refund time (应结订单金额 and 订单金额 ``0.00``, 退款金额 = 申请退款金额 = the refund, negative
        手续费, 退款类型 ``ORIGINAL``, 退款状态 ``SUCCESS``); a paid order that was reversed gives one
        ``REVOKED`` row shaped like a refund of the whole amount with 商户退款单号 ``0``. SUCCESS rows
        carry ``0`` in 微信退款单号 and 商户退款单号. Rows are sorted by time. Every bill_type uses
        these 27 columns (a sandbox simplification): ``SUCCESS`` keeps only SUCCESS rows, ``REFUND``
        only REFUND/REVOKED rows. The summary's values are the row count and the column sums.
        With ``bill_bom`` the text starts with U+FEFF.
        """
        day = datetime.strptime(bill_date, "%Y%m%d").date()
        rows = [row for _, row in self._bill_rows(day, bill_type)]
        if not rows:
            return None

        def total(column: str, quantum: Decimal = _CENT) -> str:
            return f"{sum((Decimal(r[column]) for r in rows), Decimal(0)).quantize(quantum)}"

        lines = [",".join(BILL_COLUMNS)]
        lines += [",".join("`" + row[c] for c in BILL_COLUMNS) for row in rows]
        lines.append(",".join(BILL_SUMMARY_COLUMNS))
        summary = [
            str(len(rows)),
            total("应结订单金额"),
            total("退款金额"),
            total("充值券退款金额"),
            total("手续费", _FEE_QUANTUM),
            total("订单金额"),
            total("申请退款金额"),
        ]
        lines.append(",".join("`" + v for v in summary))
        return ("\ufeff" if self.bill_bom else "") + "\r\n".join(lines) + "\r\n"

    def downloadbill(self, req: dict[str, str]) -> dict[str, object] | str:
        """Bill text, or an XML answer (FAIL) as a dict."""
        bad = self.check(req, ("bill_date",))
        if bad:
            return bad
        bill_date, bill_type = req["bill_date"], req.get("bill_type") or "ALL"
        if bill_type not in ("ALL", "SUCCESS", "REFUND"):
            return {"return_code": "FAIL", "return_msg": "invalid bill_type", "error_code": "20001"}
        try:
            text = self.bill_text(bill_date, bill_type)
        except ValueError:
            return {"return_code": "FAIL", "return_msg": "invalid bill_date", "error_code": "20001"}
        if text is None:
            return {"return_code": "FAIL", "return_msg": "No Bill Exist", "error_code": NO_BILL_ERROR_CODE}
        return text


def _transaction_id() -> str:
    return "42" + secrets.token_hex(13)[:26]


def _refund_id(seed: str | None = None) -> str:
    # REVOKED rows derive theirs from the order so the same bill twice reads the same
    if seed is not None:
        return "50" + seed[-27:]
    return "50" + "".join(secrets.choice("0123456789") for _ in range(27))


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

    def _plain(handle: Callable[[dict[str, str]], dict[str, object]]) -> Callable[[Request], Awaitable[Response]]:
        """An endpoint that answers at once: parse, let the store decide, sign-and-send as XML."""

        async def endpoint(request: Request) -> Response:
            req = await _parse(request)
            return _xml(handle(req) if req is not None else SandboxStore._fail("XML格式错误"))

        return endpoint

    for path, handle in (
        ("/pay/orderquery", store.orderquery),
        ("/secapi/pay/reverse", store.reverse),
        ("/pay/refundquery", store.refundquery),
    ):
        router.add_api_route(path, _plain(handle), methods=["POST"])

    @router.post("/secapi/pay/refund")
    async def refund(request: Request) -> Response:
        req = await _parse(request)
        if req is None:
            return _xml(SandboxStore._fail("XML格式错误"))
        answer, withhold = store.refund_withheld(req)
        deadline = time.monotonic() + withhold  # a scripted "lost" refund: made, the answer late
        while time.monotonic() < deadline and not store.stopping:
            await asyncio.sleep(0.05)
        return _xml(answer)

    @router.post("/pay/downloadbill")
    async def downloadbill(request: Request) -> Response:
        req = await _parse(request)
        answer = store.downloadbill(req) if req is not None else SandboxStore._fail("XML格式错误")
        if isinstance(answer, str):
            return Response(content=answer.encode("utf-8"), media_type="text/plain; charset=utf-8")
        return _xml(answer)

    return router
