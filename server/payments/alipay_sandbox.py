"""An Alipay OpenAPI sandbox (当面付), served by a router the app mounts at ``/sandbox/alipay``.

``POST /sandbox/alipay/gateway.do`` takes the public parameters form-encoded (body and/or query
string, as the official SDKs send them), checks ``app_id`` and the merchant's RSA2 signature with
the merchant public key it was given (``40002`` / ``isv.invalid-signature`` when wrong), and answers
``{"<method>_response":{...},"sign":"..."}`` signed with its own "Alipay" key (generated at start
unless a PEM is given; :attr:`AlipaySandboxStore.public_key_pem` is what the adapter needs).

``alipay.trade.pay`` outcomes by the LAST DIGIT of the auth code (``^(2[5-9]|30)\\d{14,22}$``):

====== ====================================================================================
digit  behaviour
====== ====================================================================================
0-5    10000, TRADE_SUCCESS at once
6      10003 (WAIT_BUYER_PAY); query reports TRADE_SUCCESS once ``waiting_s`` have passed
7      10003 forever; the first cancel answers 40004 ACQ.SYSTEM_ERROR with retry_flag=Y,
       the next one closes the trade (action=close)
8      40004 ACQ.BUYER_BALANCE_NOT_ENOUGH (no trade is kept)
9      paid, but the answer is withheld ``lost_response_s`` (past the client's read timeout)
====== ====================================================================================

Another auth code gets 40004 ACQ.PAYMENT_AUTH_CODE_INVALID. A repeated trade.pay for a known
out_trade_no never makes a second trade; it answers the trade's current state.

``alipay.trade.precreate`` returns a ``qr_code``; until a test calls :meth:`AlipaySandboxStore.scan`
(the patient scanned: WAIT_BUYER_PAY) or :meth:`AlipaySandboxStore.pay` (paid: TRADE_SUCCESS), or
the HTTP hooks ``POST /sandbox/alipay/test/scan/{out_trade_no}`` / ``.../test/pay/{out_trade_no}``,
``alipay.trade.query`` answers 40004 ACQ.TRADE_NOT_EXIST, as the real one does.
``alipay.trade.close`` closes a trade waiting for the buyer; a code nobody scanned has no trade to
close (ACQ.TRADE_NOT_EXIST: cancel it instead), a paid one is ACQ.TRADE_STATUS_ERROR. The payer's
phone by the code the kiosk shows: :meth:`AlipaySandboxStore.find_qr` and ``POST
/sandbox/alipay/test/qr/scan`` / ``.../test/qr/pay`` with ``{"qr_code": ...}``.

``alipay.trade.cancel`` closes an unpaid trade (action=close) or refunds a paid one in full
(action=refund); a cancel of an unknown out_trade_no closes it, so a late trade.pay is refused
(ACQ.TRADE_HAS_CLOSE). ``alipay.trade.refund`` is idempotent on ``out_request_no`` (default: the
out_trade_no): a repeat answers the earlier refund with ``fund_change=N``; a refund taking the total
over the order's amount is refused with 40004 ACQ.REFUND_AMT_NOT_EQUAL_TOTAL; a full refund closes
the trade (TRADE_CLOSED). ``alipay.trade.fastpay.refund.query`` answers a refund made under an
out_request_no with ``refund_status=REFUND_SUCCESS`` and 10000 without refund data otherwise.
:meth:`AlipaySandboxStore.script_refunds` makes the next new refunds misbehave: ``lost`` (made,
answer withheld ``lost_response_s``) or ``error`` (20000 ACQ.SYSTEM_ERROR, nothing made).

``alipay.data.dataservice.bill.downloadurl.query`` (``bill_type=trade``, ``bill_date=yyyy-MM-dd``)
answers a ``bill_download_url`` served by this router, ``GET /sandbox/alipay/bill/{yyyymmdd}.zip?
token=...``, valid ``bill_url_ttl_s`` (30 s like the real one); a day without any trade answers
40004 isp.bill_not_exist. The file format is documented on :meth:`AlipaySandboxStore.bill_files`.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import re
import secrets
import threading
import time
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import APIRouter, Request, Response

from server.payments.alipay import (
    load_private_key,
    load_public_key,
    response_key,
    rsa2_sign,
    rsa2_verify,
    sign_content,
    yuan_to_cents,
)
from server.payments.clock import china_now
from server.payments.codes import mask_auth_code

logger = logging.getLogger(__name__)

_ALIPAY_CODE = re.compile(r"^(2[5-9]|30)\d{14,22}$")
_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
_CN_TIME_FORMAT = "%Y年%m月%d日 %H:%M:%S"
_CENT = Decimal("0.01")

# Trade statuses; CREATED is ours: precreated but not scanned, which the real API reports as not existing.
CREATED = "CREATED"
WAIT_BUYER_PAY = "WAIT_BUYER_PAY"
TRADE_SUCCESS = "TRADE_SUCCESS"
TRADE_CLOSED = "TRADE_CLOSED"

BILL_DETAIL_COLUMNS: tuple[str, ...] = (
    "支付宝交易号", "商户订单号", "业务类型", "商品名称", "创建时间", "完成时间", "门店编号", "门店名称", "操作员",
    "终端号", "对方账户", "订单金额（元）", "商家实收（元）", "支付宝红包（元）", "集分宝（元）", "支付宝优惠（元）",
    "商家优惠（元）", "券核销金额（元）", "券名称", "商家红包消费金额（元）", "卡消费金额（元）", "退款批次号/请求号",
    "服务费（元）", "分润（元）", "备注",
)  # fmt: skip
BILL_SUMMARY_COLUMNS: tuple[str, ...] = (
    "门店编号", "门店名称", "交易订单总笔数", "退款订单总笔数", "订单金额（元）", "商家实收（元）", "支付宝优惠（元）",
    "商家优惠（元）", "卡消费金额（元）", "服务费（元）", "分润（元）", "实收净额（元）",
)  # fmt: skip
BILL_LIST_START = "#-----------------------------------------业务明细列表----------------------------------------"
BILL_LIST_END = "#-----------------------------------------业务明细列表结束------------------------------------"
SUMMARY_LIST_START = "#-----------------------------------------业务汇总列表----------------------------------------"
SUMMARY_LIST_END = "#-----------------------------------------业务汇总列表结束------------------------------------"


def _yuan(cents: int) -> str:
    return str((Decimal(cents) / 100).quantize(_CENT))


@dataclass
class AlipayRefund:
    out_request_no: str
    cents: int
    refunded_at: datetime


@dataclass
class AlipayTrade:
    out_trade_no: str
    trade_no: str
    total_cents: int
    subject: str
    status: str  # CREATED | WAIT_BUYER_PAY | TRADE_SUCCESS | TRADE_CLOSED
    digit: int | None = None  # trade.pay's auth code digit; None for precreate
    created: float = field(default_factory=time.monotonic)
    created_at: datetime = field(default_factory=china_now)
    paid_at: datetime | None = None
    terminal_id: str = ""
    qr_code: str = ""
    cancel_calls: int = 0
    cancel_action: str | None = None
    refunds: list[AlipayRefund] = field(default_factory=list)
    in_bill: bool = True  # test hook: False leaves the trade out of the bill
    buyer_logon_id: str = "pat***@sandbox.com"

    @property
    def refunded(self) -> int:
        return sum(r.cents for r in self.refunds)


class _GbkZipInfo(zipfile.ZipInfo):
    """Member names stored in GBK without the UTF-8 flag, as Alipay's bill zips are (readers see
    cp437 mojibake and must do ``name.encode("cp437").decode("gbk")``)."""

    def _encodeFilenameFlags(self) -> tuple[bytes, int]:  # overrides zipfile's private hook
        return self.filename.encode("gbk"), self.flag_bits & ~0x800


class AlipaySandboxStore:
    """Thread-safe in-memory trades, the "Alipay" key pair and the knobs the tests turn."""

    def __init__(
        self,
        *,
        app_id: str,
        merchant_public_key_pem: str | bytes,
        private_key_pem: str | bytes | None = None,
        pid: str = "2088000000000000",
        waiting_s: float = 4.0,
        lost_response_s: float = 12.0,
        bill_url_ttl_s: float = 30.0,
    ) -> None:
        self.app_id = app_id
        self.pid = pid
        self.waiting_s = waiting_s
        self.lost_response_s = lost_response_s
        self.bill_url_ttl_s = bill_url_ttl_s
        self.gbk_zip_names = True
        self._merchant_key = load_public_key(merchant_public_key_pem)
        if private_key_pem is None:
            self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        else:
            self._key = load_private_key(private_key_pem)
        self._trades: dict[str, AlipayTrade] = {}
        self._closed_unknown: set[str] = set()  # cancelled before any trade existed
        self._bill_tokens: dict[str, tuple[str, float]] = {}  # token -> (yyyymmdd, expiry monotonic)
        self._refund_script: list[str] = []  # test hook: modes of the next new refunds
        self._lock = threading.Lock()
        self._stopping = threading.Event()

    @property
    def public_key_pem(self) -> bytes:
        return self._key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def stop(self) -> None:
        """Release withheld answers at once, so a server shutdown never waits for them."""
        self._stopping.set()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def trade_count(self) -> int:
        with self._lock:
            return len(self._trades)

    def trade(self, out_trade_no: str) -> AlipayTrade | None:
        with self._lock:
            return self._trades.get(out_trade_no)

    def _status(self, trade: AlipayTrade) -> str:
        if trade.status == WAIT_BUYER_PAY and trade.digit == 6 and time.monotonic() - trade.created >= self.waiting_s:
            trade.status = TRADE_SUCCESS
            trade.paid_at = trade.created_at + timedelta(seconds=self.waiting_s)
        return trade.status

    # -- test hooks --------------------------------------------------------------------------------

    def scan(self, out_trade_no: str) -> None:
        """The patient scanned the precreate QR but has not paid yet."""
        with self._lock:
            trade = self._trades[out_trade_no]
            if trade.status == CREATED:
                trade.status = WAIT_BUYER_PAY

    def pay(self, out_trade_no: str) -> None:
        """The patient scanned and paid the precreate QR."""
        with self._lock:
            trade = self._trades[out_trade_no]
            if trade.status not in (CREATED, WAIT_BUYER_PAY):
                raise ValueError(f"trade {out_trade_no} is {trade.status}")
            trade.status = TRADE_SUCCESS
            trade.paid_at = china_now()

    def script_refunds(self, *modes: str) -> None:
        """The next new refunds (one mode each): ``lost`` (made, answer withheld ``lost_response_s``),
        ``error`` (20000 ACQ.SYSTEM_ERROR, nothing made) or ``ok``."""
        if any(m not in ("lost", "error", "ok") for m in modes):
            raise ValueError(f"unknown refund modes {modes}")
        with self._lock:
            self._refund_script.extend(modes)

    def find_qr(self, qr_code: str) -> str | None:
        """The out_trade_no behind a precreate QR code (what the payer's phone reads off the kiosk)."""
        with self._lock:
            return next((t.out_trade_no for t in self._trades.values() if qr_code and t.qr_code == qr_code), None)

    def add_bill_trade(
        self, out_trade_no: str, total_cents: int, *, paid_at: datetime | None = None, subject: str = "sandbox"
    ) -> AlipayTrade:
        """A paid trade the merchant never saw (or on another day, with ``paid_at``)."""
        when = paid_at or china_now()
        trade = AlipayTrade(out_trade_no, _trade_no(), total_cents, subject, TRADE_SUCCESS, created_at=when)
        trade.paid_at = when
        with self._lock:
            if out_trade_no in self._trades:
                raise ValueError(f"trade {out_trade_no} exists")
            self._trades[out_trade_no] = trade
        return trade

    def add_bill_refund(
        self,
        out_trade_no: str,
        refund_cents: int,
        *,
        out_request_no: str | None = None,
        refunded_at: datetime | None = None,
    ) -> AlipayRefund:
        """A refund the merchant never asked for; no over-refund check, so the bill can be made inconsistent."""
        refund = AlipayRefund(out_request_no or "R" + secrets.token_hex(8), refund_cents, refunded_at or china_now())
        with self._lock:
            self._trades[out_trade_no].refunds.append(refund)
        return refund

    def alter_trade(
        self,
        out_trade_no: str,
        *,
        total_cents: int | None = None,
        paid_at: datetime | None = None,
        in_bill: bool | None = None,
    ) -> None:
        """Change what "Alipay" believes: another amount, another day, or absent from the bill."""
        with self._lock:
            trade = self._trades[out_trade_no]
            if total_cents is not None:
                trade.total_cents = total_cents
            if paid_at is not None:
                trade.paid_at = paid_at
            if in_bill is not None:
                trade.in_bill = in_bill

    # -- the gateway -------------------------------------------------------------------------------

    def respond(self, method: str, fields: dict[str, Any]) -> str:
        """The body as Alipay sends it: the signature covers the member's text exactly as written here."""
        member = json.dumps(fields, ensure_ascii=False, separators=(",", ":"))
        signature = rsa2_sign(member, self._key)
        return f'{{"{response_key(method)}":{member},"sign":"{signature}"}}'

    @staticmethod
    def _ok(**fields: Any) -> dict[str, Any]:
        return {"code": "10000", "msg": "Success", **fields}

    @staticmethod
    def _err(code: str, sub_code: str, sub_msg: str, **fields: Any) -> dict[str, Any]:
        msg = {
            "20000": "Service Currently Unavailable",
            "40001": "Missing Required Arguments",
            "40002": "Invalid Arguments",
            "40004": "Business Failed",
        }.get(code, "Error")
        return {"code": code, "msg": msg, "sub_code": sub_code, "sub_msg": sub_msg, **fields}

    def gateway(self, form: dict[str, str], base_url: str = "") -> tuple[str, float]:
        """The answer body and how long to withhold it (seconds); ``base_url`` roots the bill URLs."""
        method = form.get("method", "")
        handlers = {
            "alipay.trade.pay": self._trade_pay,
            "alipay.trade.precreate": self._precreate,
            "alipay.trade.query": self._query,
            "alipay.trade.cancel": self._cancel,
            "alipay.trade.close": self._close,
            "alipay.trade.refund": self._refund,
            "alipay.trade.fastpay.refund.query": self._refund_query,
            "alipay.data.dataservice.bill.downloadurl.query": self._bill_url,
        }
        required = ("app_id", "method", "charset", "sign_type", "timestamp", "version", "sign", "biz_content")
        missing = [k for k in required if not form.get(k)]
        if missing:
            return self.respond(method or "error", self._err("40001", f"isv.missing-{missing[0]}", "缺少参数")), 0.0
        if form["app_id"] != self.app_id:
            return self.respond(method, self._err("40002", "isv.invalid-app-id", "无效的AppID参数")), 0.0
        if form["sign_type"] != "RSA2":
            return self.respond(method, self._err("40002", "isv.invalid-signature-type", "无效签名类型")), 0.0
        if not rsa2_verify(sign_content(form), form["sign"], self._merchant_key):
            err = self._err(
                "40002", "isv.invalid-signature", "验签出错，建议检查签名字符串或签名私钥与应用公钥是否匹配"
            )
            return self.respond(method, err), 0.0
        handler = handlers.get(method)
        if handler is None:
            return self.respond("error", self._err("40002", "isv.invalid-method", "不存在的方法名")), 0.0
        try:
            biz = json.loads(form["biz_content"])
        except json.JSONDecodeError:
            biz = None
        if not isinstance(biz, dict):
            return self.respond(method, self._err("40002", "isv.invalid-parameter", "biz_content无效")), 0.0
        fields, withhold = handler({k: str(v) for k, v in biz.items()}, base_url)
        return self.respond(method, fields), withhold

    @staticmethod
    def _amount(text: str) -> int | None:
        try:
            cents = yuan_to_cents(text)
        except ValueError:
            return None
        return cents if 1 <= cents <= 100_000_000_00 else None

    def _paid_fields(self, trade: AlipayTrade) -> dict[str, Any]:
        amount = _yuan(trade.total_cents)
        return self._ok(
            trade_no=trade.trade_no,
            out_trade_no=trade.out_trade_no,
            buyer_logon_id=trade.buyer_logon_id,
            buyer_user_id="2088000000000001",
            total_amount=amount,
            receipt_amount=amount,
            buyer_pay_amount=amount,
            point_amount="0.00",
            invoice_amount=amount,
            gmt_payment=(trade.paid_at or china_now()).strftime(_TIME_FORMAT),
            fund_bill_list=[{"fund_channel": "ALIPAYACCOUNT", "amount": amount}],
        )

    def _waiting_fields(self, trade: AlipayTrade) -> dict[str, Any]:
        return {
            "code": "10003",
            "msg": " order success pay inprocess",
            "trade_no": trade.trade_no,
            "out_trade_no": trade.out_trade_no,
            "buyer_logon_id": trade.buyer_logon_id,
            "total_amount": _yuan(trade.total_cents),
        }

    def _trade_pay(self, biz: dict[str, str], _base_url: str) -> tuple[dict[str, Any], float]:
        missing = [k for k in ("out_trade_no", "scene", "auth_code", "subject", "total_amount") if not biz.get(k)]
        if missing:
            return self._err("40002", "isv.missing-parameter", f"缺少参数{missing[0]}"), 0.0
        cents = self._amount(biz["total_amount"])
        if cents is None or biz["scene"] not in ("bar_code", "security_code"):
            return self._err("40004", "ACQ.INVALID_PARAMETER", "参数无效"), 0.0
        code, otn = biz["auth_code"], biz["out_trade_no"]
        if not _ALIPAY_CODE.match(code):
            return self._err("40004", "ACQ.PAYMENT_AUTH_CODE_INVALID", "支付失败，获取顾客账户信息失败"), 0.0
        with self._lock:
            if otn in self._closed_unknown:
                return self._err("40004", "ACQ.TRADE_HAS_CLOSE", "交易已经关闭"), 0.0
            trade = self._trades.get(otn)
            if trade is None:
                digit = int(code[-1])
                if digit == 8:
                    logger.info("alipay sandbox %s for code %s: balance", otn, mask_auth_code(code))
                    return self._err("40004", "ACQ.BUYER_BALANCE_NOT_ENOUGH", "买家余额不足"), 0.0
                status = WAIT_BUYER_PAY if digit in (6, 7) else TRADE_SUCCESS
                trade = AlipayTrade(otn, _trade_no(), cents, biz["subject"], status, digit=digit)
                trade.terminal_id = biz.get("terminal_id", "")
                if status == TRADE_SUCCESS:
                    trade.paid_at = trade.created_at
                self._trades[otn] = trade
                logger.info("alipay sandbox %s for code %s: %s", otn, mask_auth_code(code), status)
            status = self._status(trade)
            withhold = self.lost_response_s if trade.digit == 9 else 0.0
        if status == TRADE_SUCCESS:
            return self._paid_fields(trade), withhold
        if status == WAIT_BUYER_PAY:
            return self._waiting_fields(trade), 0.0
        if status == TRADE_CLOSED:
            return self._err("40004", "ACQ.TRADE_HAS_CLOSE", "交易已经关闭"), 0.0
        return self._err("40004", "ACQ.TRADE_STATUS_ERROR", "交易状态不合法"), 0.0

    def _precreate(self, biz: dict[str, str], _base_url: str) -> tuple[dict[str, Any], float]:
        missing = [k for k in ("out_trade_no", "subject", "total_amount") if not biz.get(k)]
        if missing:
            return self._err("40002", "isv.missing-parameter", f"缺少参数{missing[0]}"), 0.0
        cents = self._amount(biz["total_amount"])
        if cents is None:
            return self._err("40004", "ACQ.INVALID_PARAMETER", "参数无效"), 0.0
        otn = biz["out_trade_no"]
        with self._lock:
            trade = self._trades.get(otn)
            if trade is None:
                trade = AlipayTrade(otn, _trade_no(), cents, biz["subject"], CREATED)
                trade.qr_code = "https://qr.alipay.com/bax0" + secrets.token_hex(10)
                self._trades[otn] = trade
            status = self._status(trade)
        if status == TRADE_SUCCESS:
            return self._err("40004", "ACQ.TRADE_HAS_SUCCESS", "交易已被支付"), 0.0
        if status == TRADE_CLOSED or not trade.qr_code:
            return self._err("40004", "ACQ.TRADE_HAS_CLOSE", "交易已经关闭"), 0.0
        return self._ok(out_trade_no=otn, qr_code=trade.qr_code), 0.0

    def _find(self, biz: dict[str, str]) -> AlipayTrade | None:
        if biz.get("out_trade_no"):
            return self._trades.get(biz["out_trade_no"])
        return next((t for t in self._trades.values() if t.trade_no == biz.get("trade_no")), None)

    def _query(self, biz: dict[str, str], _base_url: str) -> tuple[dict[str, Any], float]:
        with self._lock:
            trade = self._find(biz)
            status = self._status(trade) if trade else CREATED
        if trade is None or status == CREATED:
            return self._err("40004", "ACQ.TRADE_NOT_EXIST", "交易不存在"), 0.0
        fields = self._paid_fields(trade) if status == TRADE_SUCCESS or trade.paid_at else self._ok(
            trade_no=trade.trade_no,
            out_trade_no=trade.out_trade_no,
            buyer_logon_id=trade.buyer_logon_id,
            total_amount=_yuan(trade.total_cents),
        )  # fmt: skip
        fields["trade_status"] = status
        return fields, 0.0

    def _cancel(self, biz: dict[str, str], _base_url: str) -> tuple[dict[str, Any], float]:
        otn = biz.get("out_trade_no", "")
        if not otn:
            return self._err("40002", "isv.missing-parameter", "缺少参数out_trade_no"), 0.0
        with self._lock:
            trade = self._trades.get(otn)
            if trade is None:
                # Closing an order that was never made: a trade.pay arriving late must not charge.
                self._closed_unknown.add(otn)
                return self._ok(out_trade_no=otn, retry_flag="N", action="close"), 0.0
            trade.cancel_calls += 1
            status = self._status(trade)
            if trade.digit == 7 and trade.cancel_calls == 1:
                return self._err("40004", "ACQ.SYSTEM_ERROR", "系统错误", retry_flag="Y"), 0.0
            if trade.cancel_action is None:
                if status == TRADE_SUCCESS:
                    trade.cancel_action = "refund"
                    trade.refunds.append(AlipayRefund(otn, trade.total_cents - trade.refunded, china_now()))
                else:
                    trade.cancel_action = "close"
                trade.status = TRADE_CLOSED
        logger.info("alipay sandbox %s cancelled (%s)", otn, trade.cancel_action)
        fields = self._ok(trade_no=trade.trade_no, out_trade_no=otn, retry_flag="N", action=trade.cancel_action)
        return fields, 0.0

    def _close(self, biz: dict[str, str], _base_url: str) -> tuple[dict[str, Any], float]:
        """``alipay.trade.close``: only a trade waiting for the buyer closes; a QR code nobody scanned
        has no trade yet (ACQ.TRADE_NOT_EXIST), and a paid or closed one is ACQ.TRADE_STATUS_ERROR."""
        with self._lock:
            trade = self._find(biz)
            status = self._status(trade) if trade else CREATED
            if trade is None or status == CREATED:
                return self._err("40004", "ACQ.TRADE_NOT_EXIST", "交易不存在"), 0.0
            if status != WAIT_BUYER_PAY:
                return self._err("40004", "ACQ.TRADE_STATUS_ERROR", "交易状态不合法"), 0.0
            trade.status = TRADE_CLOSED
        logger.info("alipay sandbox %s closed", trade.out_trade_no)
        return self._ok(trade_no=trade.trade_no, out_trade_no=trade.out_trade_no), 0.0

    def _refund(self, biz: dict[str, str], _base_url: str) -> tuple[dict[str, Any], float]:
        if not biz.get("refund_amount") or not (biz.get("out_trade_no") or biz.get("trade_no")):
            return self._err("40002", "isv.missing-parameter", "缺少参数"), 0.0
        cents = self._amount(biz["refund_amount"])
        if cents is None:
            return self._err("40004", "ACQ.INVALID_PARAMETER", "参数无效"), 0.0
        with self._lock:
            trade = self._find(biz)
            if trade is None or self._status(trade) == CREATED:
                return self._err("40004", "ACQ.TRADE_NOT_EXIST", "交易不存在"), 0.0
            request_no = biz.get("out_request_no") or trade.out_trade_no
            earlier = next((r for r in trade.refunds if r.out_request_no == request_no), None)
            if earlier is not None:
                # The same request again: the earlier refund, and this call moved no money.
                return self._refund_fields(trade, earlier, fund_change=False), 0.0
            if trade.status != TRADE_SUCCESS:
                return self._err("40004", "ACQ.TRADE_STATUS_ERROR", "交易状态不合法"), 0.0
            if trade.refunded + cents > trade.total_cents:
                return self._err("40004", "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL", "退款金额超限"), 0.0
            mode = self._refund_script.pop(0) if self._refund_script else "ok"
            if mode == "error":
                return self._err("20000", "ACQ.SYSTEM_ERROR", "系统错误"), 0.0
            refund = AlipayRefund(request_no, cents, china_now())
            trade.refunds.append(refund)
            if trade.refunded == trade.total_cents:
                trade.status = TRADE_CLOSED  # a fully refunded trade is closed
        logger.info("alipay sandbox refund %s of %s: %d (%s)", request_no, trade.out_trade_no, cents, mode)
        withhold = self.lost_response_s if mode == "lost" else 0.0
        return self._refund_fields(trade, refund, fund_change=True), withhold

    def _refund_query(self, biz: dict[str, str], _base_url: str) -> tuple[dict[str, Any], float]:
        if not biz.get("out_request_no") or not (biz.get("out_trade_no") or biz.get("trade_no")):
            return self._err("40002", "isv.missing-parameter", "缺少参数"), 0.0
        with self._lock:
            trade = self._find(biz)
            if trade is None or self._status(trade) == CREATED:
                return self._err("40004", "ACQ.TRADE_NOT_EXIST", "交易不存在"), 0.0
            refund = next((r for r in trade.refunds if r.out_request_no == biz["out_request_no"]), None)
            if refund is None:
                # Alipay's way of saying "no such refund": success, without any refund data
                return self._ok(trade_no=trade.trade_no, out_trade_no=trade.out_trade_no), 0.0
            return self._ok(
                trade_no=trade.trade_no,
                out_trade_no=trade.out_trade_no,
                out_request_no=refund.out_request_no,
                total_amount=_yuan(trade.total_cents),
                refund_amount=_yuan(refund.cents),
                refund_status="REFUND_SUCCESS",
                gmt_refund_pay=refund.refunded_at.strftime(_TIME_FORMAT),
            ), 0.0

    def _refund_fields(self, trade: AlipayTrade, refund: AlipayRefund, *, fund_change: bool) -> dict[str, Any]:
        return self._ok(
            trade_no=trade.trade_no,
            out_trade_no=trade.out_trade_no,
            buyer_logon_id=trade.buyer_logon_id,
            fund_change="Y" if fund_change else "N",
            refund_fee=_yuan(trade.refunded),
            gmt_refund_pay=refund.refunded_at.strftime(_TIME_FORMAT),
            buyer_user_id="2088000000000001",
        )

    def _bill_url(self, biz: dict[str, str], base_url: str) -> tuple[dict[str, Any], float]:
        if biz.get("bill_type") not in ("trade", "signcustomer"):
            return self._err("40004", "isv.invalid-bill-type", "账单类型无效"), 0.0
        try:
            day = datetime.strptime(biz.get("bill_date", ""), "%Y-%m-%d").date()
        except ValueError:
            return self._err("40004", "isv.invalid-bill-date", "账单日期格式不正确"), 0.0
        if self.bill_files(day) is None:
            return self._err("40004", "isp.bill_not_exist", "账单不存在"), 0.0
        token = secrets.token_urlsafe(16)
        with self._lock:
            now = time.monotonic()
            self._bill_tokens = {t: v for t, v in self._bill_tokens.items() if v[1] > now}
            self._bill_tokens[token] = (f"{day:%Y%m%d}", now + self.bill_url_ttl_s)
        url = f"{base_url}/sandbox/alipay/bill/{day:%Y%m%d}.zip?token={token}"
        return self._ok(bill_download_url=url), 0.0

    def bill_token_valid(self, day: str, token: str) -> bool:
        with self._lock:
            entry = self._bill_tokens.get(token)
        return entry is not None and entry[0] == day and entry[1] > time.monotonic()

    # -- the bill file -----------------------------------------------------------------------------

    def _bill_rows(self, day: date) -> list[tuple[datetime, list[str]]]:
        rows: list[tuple[datetime, list[str]]] = []
        with self._lock:
            for trade in self._trades.values():
                self._status(trade)
                if not trade.in_bill or trade.paid_at is None:
                    continue
                # The trade numbers end with a tab, as in the real file (spreadsheets keep them as text).
                # Fields are unquoted: a comma in the subject would split the row.
                subject = " ".join(trade.subject.replace(",", " ").split())
                base = [trade.trade_no + "\t", trade.out_trade_no + "\t"]
                tail_zero = ["0.00", "0.00", "0.00", "0.00", "0.00", "", "0.00", "0.00"]
                if trade.paid_at.date() == day:
                    rows.append((trade.paid_at, [
                        *base, "交易", subject, trade.created_at.strftime(_TIME_FORMAT),
                        trade.paid_at.strftime(_TIME_FORMAT), "", "", "", trade.terminal_id, trade.buyer_logon_id,
                        _yuan(trade.total_cents), _yuan(trade.total_cents), *tail_zero, "", "0.00", "0.00", "",
                    ]))  # fmt: skip
                for refund in trade.refunds:
                    if refund.refunded_at.date() != day:
                        continue
                    rows.append((refund.refunded_at, [
                        *base, "退款", subject, trade.created_at.strftime(_TIME_FORMAT),
                        refund.refunded_at.strftime(_TIME_FORMAT), "", "", "", trade.terminal_id,
                        trade.buyer_logon_id, _yuan(trade.total_cents), _yuan(-refund.cents), *tail_zero,
                        refund.out_request_no, "0.00", "0.00", "",
                    ]))  # fmt: skip
        rows.sort(key=lambda pair: pair[0])
        return rows

    def bill_files(self, day: date) -> dict[str, str] | None:
        """The two CSV files of one day's ``trade`` bill (name -> text), or None when no trade touched that day.

        ``<pid>_<yyyymmdd>_业务明细.csv`` (lines end with ``\\r\\n``; GBK once zipped; an indented line below
        continues the one above it, ``(one line)`` ends a wrapped line)::

            #支付宝业务明细查询
            #账号：[<pid>0156]
            #起始日期：[2026年11月22日 00:00:00]   终止日期：[2026年11月23日 00:00:00]
            #-----------------------------------------业务明细列表----------------------------------------
            支付宝交易号,商户订单号,业务类型,商品名称,创建时间,完成时间,门店编号,门店名称,操作员,终端号,对方账户,
              订单金额（元）,商家实收（元）,支付宝红包（元）,集分宝（元）,支付宝优惠（元）,商家优惠（元）,券核销金额（元）,
              券名称,商家红包消费金额（元）,卡消费金额（元）,退款批次号/请求号,服务费（元）,分润（元）,备注   (one line)
            <trade_no>\\t,<out_trade_no>\\t,交易,挂号费,2026-11-22 09:00:00,2026-11-22 09:00:01,,,,K1,
              pat***@sandbox.com,
              15.00,15.00,0.00,0.00,0.00,0.00,0.00,,0.00,0.00,,0.00,0.00,                                    (one line)
            <trade_no>\\t,<out_trade_no>\\t,退款,挂号费,<created>,<refunded>,,,,K1,pat***@sandbox.com,
              15.00,-5.00,0.00,0.00,0.00,0.00,0.00,,0.00,0.00,<out_request_no>,0.00,0.00,                   (one line)
            #-----------------------------------------业务明细列表结束------------------------------------
            #交易合计：1笔，商家实收共15.00元，商家优惠共0.00元，服务费共0.00元，分润共0.00元
            #退款合计：1笔，商家实收共-5.00元，商家优惠共0.00元，服务费共0.00元，分润共0.00元
            #导出时间：[2026年11月23日 09:00:00]

        A ``交易`` row per trade paid that day (at its payment time), a ``退款`` row per refund made
        that day (订单金额 = the order's amount, 商家实收 = minus the refund, 退款批次号/请求号 = the
        out_request_no; a cancel of a paid trade is a refund with the out_trade_no as request no).
        The trade numbers carry a trailing tab. Amounts in yuan, 2 decimals; the sandbox merchant's
        service fee is 0.

        ``<pid>_<yyyymmdd>_业务明细(汇总).csv``::

            #支付宝业务汇总查询
            #账号：[<pid>0156]
            #起始日期：[...]   终止日期：[...]
            #-----------------------------------------业务汇总列表----------------------------------------
            门店编号,门店名称,交易订单总笔数,退款订单总笔数,订单金额（元）,商家实收（元）,支付宝优惠（元）,商家优惠（元）,
              卡消费金额（元）,服务费（元）,分润（元）,实收净额（元）      (one line)
            合计,,<n trades>,<n refunds>,<sum of trade 订单金额>,<sum of all 商家实收>,0.00,0.00,0.00,0.00,0.00,
              <sum of all 商家实收>                                                                         (one line)
            #-----------------------------------------业务汇总列表结束------------------------------------
            #导出时间：[...]
        """
        rows = [row for _, row in self._bill_rows(day)]
        if not rows:
            return None
        trades = [r for r in rows if r[2] == "交易"]
        refunds = [r for r in rows if r[2] == "退款"]

        def received(subset: list[list[str]]) -> str:
            return str(sum((Decimal(r[12]) for r in subset), Decimal(0)).quantize(_CENT))

        start = datetime.combine(day, datetime.min.time())
        header = [
            f"#账号：[{self.pid}0156]",
            f"#起始日期：[{start:{_CN_TIME_FORMAT}}]   终止日期：[{start + timedelta(days=1):{_CN_TIME_FORMAT}}]",
        ]
        exported = f"#导出时间：[{china_now():{_CN_TIME_FORMAT}}]"
        detail = [
            "#支付宝业务明细查询",
            *header,
            BILL_LIST_START,
            ",".join(BILL_DETAIL_COLUMNS),
            *(",".join(r) for r in rows),
            BILL_LIST_END,
            f"#交易合计：{len(trades)}笔，商家实收共{received(trades)}元，商家优惠共0.00元，服务费共0.00元，分润共0.00元",
            f"#退款合计：{len(refunds)}笔，商家实收共{received(refunds)}元，商家优惠共0.00元，服务费共0.00元，分润共0.00元",
            exported,
        ]
        ordered = str(sum((Decimal(r[11]) for r in trades), Decimal(0)).quantize(_CENT))
        net = received(rows)
        total = ["合计", "", str(len(trades)), str(len(refunds)), ordered, net, *["0.00"] * 5, net]
        summary = [
            "#支付宝业务汇总查询",
            *header,
            SUMMARY_LIST_START,
            ",".join(BILL_SUMMARY_COLUMNS),
            ",".join(total),
            SUMMARY_LIST_END,
            exported,
        ]
        stem = f"{self.pid}_{day:%Y%m%d}"
        return {
            f"{stem}_业务明细.csv": "\r\n".join(detail) + "\r\n",
            f"{stem}_业务明细(汇总).csv": "\r\n".join(summary) + "\r\n",
        }

    def bill_zip(self, day: date) -> bytes | None:
        """``<pid>_<yyyymmdd>.csv.zip`` as served: both CSV files GBK-encoded (names GBK too, by default)."""
        files = self.bill_files(day)
        if files is None:
            return None
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            for name, text in files.items():
                info = _GbkZipInfo(name) if self.gbk_zip_names else zipfile.ZipInfo(name)
                info.date_time = china_now().timetuple()[:6]
                info.compress_type = zipfile.ZIP_DEFLATED
                zf.writestr(info, text.encode("gbk", errors="replace"))  # a subject outside GBK must not break the file
        return buf.getvalue()


def _trade_no() -> str:
    return f"{china_now():%Y%m%d}22001" + "".join(secrets.choice("0123456789") for _ in range(15))


def make_alipay_sandbox_router(store: AlipaySandboxStore) -> APIRouter:
    router = APIRouter(prefix="/sandbox/alipay", tags=["sandbox"], include_in_schema=False)

    @router.post("/gateway.do")
    async def gateway(request: Request) -> Response:
        body = await request.body()
        try:
            # Official SDKs put the public parameters in the query string and biz_content in the body.
            form = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        except UnicodeDecodeError:
            form = {}
        form = {**dict(request.query_params), **form}
        text, withhold = store.gateway(form, str(request.base_url).rstrip("/"))
        # The "lost response": the trade is already paid, the caller times out before this returns.
        deadline = time.monotonic() + withhold
        while time.monotonic() < deadline and not store.stopping:
            await asyncio.sleep(0.05)
        return Response(content=text.encode("utf-8"), media_type="application/json; charset=utf-8")

    @router.get("/bill/{day}.zip")
    def bill(day: str, token: str = "") -> Response:
        if not store.bill_token_valid(day, token):
            return Response(content=b"URL expired or invalid", status_code=403, media_type="text/plain")
        data = store.bill_zip(datetime.strptime(day, "%Y%m%d").date())
        if data is None:
            return Response(content=b"no bill", status_code=404, media_type="text/plain")
        return Response(
            content=data,
            media_type="application/zip",
            headers={"Content-Disposition": f'attachment; filename="{store.pid}_{day}.csv.zip"'},
        )

    @router.post("/test/scan/{out_trade_no}")
    def scan(out_trade_no: str) -> Response:
        try:
            store.scan(out_trade_no)
        except KeyError:
            return Response(content=b"no such trade", status_code=404, media_type="text/plain")
        return Response(content=WAIT_BUYER_PAY.encode(), media_type="text/plain")

    @router.post("/test/pay/{out_trade_no}")
    def pay(out_trade_no: str) -> Response:
        try:
            store.pay(out_trade_no)
        except KeyError:
            return Response(content=b"no such trade", status_code=404, media_type="text/plain")
        except ValueError as exc:
            return Response(content=str(exc).encode(), status_code=409, media_type="text/plain")
        return Response(content=TRADE_SUCCESS.encode(), media_type="text/plain")

    @router.post("/test/qr/{action}")
    async def by_qr(action: str, request: Request) -> Response:
        """The payer's phone: ``scan`` or ``pay`` the QR code the kiosk shows, ``{"qr_code": ...}``."""
        try:
            body = await request.json()
        except ValueError:
            body = None
        otn = store.find_qr(str(body.get("qr_code") or "")) if isinstance(body, dict) else None
        if action not in ("scan", "pay") or otn is None:
            return Response(content=b"no such QR code", status_code=404, media_type="text/plain")
        return scan(otn) if action == "scan" else pay(otn)

    return router
