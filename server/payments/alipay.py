"""Alipay OpenAPI adapter (当面付): ``trade.pay`` (bar_code), ``precreate``, ``query``, ``cancel``,
``refund``, ``fastpay.refund.query`` and the daily bill download URL (plus fetching the file).

Requests go to the gateway (``.../gateway.do``) as a form-encoded POST of the public parameters
``app_id, method, format=JSON, charset=utf-8, sign_type=RSA2, timestamp, version=1.0, biz_content
[, notify_url]`` and ``sign``, with explicit (connect, read) timeouts.

RSA2 signing (as the official SDK v1 does for requests): take every parameter except ``sign`` with
a non-empty value (``sign_type`` included), sort by key, join ``k=v`` with ``&`` without any URL
encoding, SHA256withRSA (PKCS#1 v1.5) with the merchant's private key, base64.

Answer verification: the body is ``{"alipay_trade_pay_response":{...},"sign":"..."}``; the
signature covers the raw JSON text of the ``..._response`` member EXACTLY as it appears in the body
(extracted by brace matching, never re-serialized: key order, spacing and escapes matter) and is
checked with Alipay's public key. An answer without a valid signature is never trusted.

Outcomes follow the WeChat adapter's discipline: ``SUCCESS`` / ``FAILED`` (definitive, no money
moved) / ``UNKNOWN`` (query, then cancel). Codes: ``10000`` success, ``10003`` waiting for the
buyer (like USERPAYING), ``20000`` unknown, ``40004`` business failure with a ``sub_code``.
Amounts: the API speaks yuan strings with 2 decimals; this module speaks integer cents and
converts with Decimal only. The full auth_code and the keys are never logged.
"""

from __future__ import annotations

import base64
import enum
import json
import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import requests
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from server.payments.codes import mask_auth_code
from server.payments.wechat import Outcome

logger = logging.getLogger(__name__)

CODE_SUCCESS = "10000"
CODE_WAITING = "10003"  # 用户支付中: the buyer must confirm on the phone
CODE_UNKNOWN = "20000"
CODE_INVALID_ARGUMENTS = "40002"  # includes isv.invalid-signature
CODE_BUSINESS_FAILED = "40004"

TRADE_NOT_EXIST = "ACQ.TRADE_NOT_EXIST"
# 40004 sub_codes after which the money may still move: query (then cancel) rather than give up.
UNCLEAR_SUB_CODES = frozenset({"ACQ.SYSTEM_ERROR", "ACQ.TRADE_HAS_SUCCESS", "ACQ.REQUEST_PROCESSING"})

PAID_TRADE_STATUSES = frozenset({"TRADE_SUCCESS", "TRADE_FINISHED"})
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S"

MAX_RESPONSE_BYTES = 256 * 1024
MAX_BILL_BYTES = 64 * 1024 * 1024

_CENT = Decimal("0.01")


# -- money ---------------------------------------------------------------------------------------


def cents_to_yuan(cents: int) -> str:
    """``1505 -> "15.05"``; never through float."""
    if isinstance(cents, bool) or not isinstance(cents, int):
        raise TypeError("cents must be an int")
    return str((Decimal(cents) / 100).quantize(_CENT))


def yuan_to_cents(yuan: str) -> int:
    """``"15.05" -> 1505``; ValueError for anything that isn't a finite amount with at most 2 decimals."""
    try:
        amount = Decimal(yuan.strip())
    except (InvalidOperation, AttributeError):
        raise ValueError(f"not an amount: {yuan!r}") from None
    if not amount.is_finite():
        raise ValueError(f"not an amount: {yuan!r}")
    cents = amount * 100
    if cents != cents.to_integral_value():
        raise ValueError(f"more than 2 decimals: {yuan!r}")
    return int(cents)


# -- RSA2 ------------------------------------------------------------------------------------------


def sign_content(params: Mapping[str, object]) -> str:
    """The string that is signed: sorted ``k=v`` pairs (sign and empty values left out), unencoded."""
    items = sorted((k, str(v)) for k, v in params.items() if k != "sign" and v is not None and str(v) != "")
    return "&".join(f"{k}={v}" for k, v in items)


def load_private_key(pem: str | bytes) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(pem.encode() if isinstance(pem, str) else pem, password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("not an RSA private key")
    return key


def load_public_key(pem: str | bytes) -> rsa.RSAPublicKey:
    key = serialization.load_pem_public_key(pem.encode() if isinstance(pem, str) else pem)
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("not an RSA public key")
    return key


def rsa2_sign(text: str, key: rsa.RSAPrivateKey) -> str:
    return base64.b64encode(key.sign(text.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())).decode("ascii")


def rsa2_verify(text: str, signature: str, key: rsa.RSAPublicKey) -> bool:
    try:
        raw = base64.b64decode(signature, validate=True)
        key.verify(raw, text.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, ValueError):
        return False
    return True


def response_key(method: str) -> str:
    """``alipay.trade.pay -> alipay_trade_pay_response``."""
    return method.replace(".", "_") + "_response"


def extract_member(body: str, key: str) -> str | None:
    """The raw text of the object value of top-level member ``key``, exactly as in ``body``.

    A small scanner instead of a regex: it skips over strings (with escapes), so braces or the key's
    name inside string values cannot fool it, and it only matches ``key`` at nesting depth 1.
    """
    depth = 0
    i, n = 0, len(body)
    while i < n:
        ch = body[i]
        if ch == '"':
            end = _string_end(body, i)
            if end < 0:
                return None
            if depth == 1 and body[i + 1 : end] == key:
                j = end + 1
                while j < n and body[j] in " \t\r\n":
                    j += 1
                if j < n and body[j] == ":":
                    j += 1
                    while j < n and body[j] in " \t\r\n":
                        j += 1
                    if j < n and body[j] == "{":
                        close = _object_end(body, j)
                        return body[j : close + 1] if close >= 0 else None
                    return None
            i = end + 1
            continue
        if ch in "{[":
            depth += 1
        elif ch in "}]":
            depth -= 1
        i += 1
    return None


def _string_end(text: str, start: int) -> int:
    """Index of the closing quote of the string opening at ``start``; -1 if unterminated."""
    i = start + 1
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text[i] == '"':
            return i
        i += 1
    return -1


def _object_end(text: str, start: int) -> int:
    depth = 0
    i = start
    while i < len(text):
        ch = text[i]
        if ch == '"':
            i = _string_end(text, i)
            if i < 0:
                return -1
        elif ch in "{[":
            depth += 1
        elif ch in "}]":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return -1


# -- answers ---------------------------------------------------------------------------------------


class TradeState(enum.StrEnum):
    PAID = "PAID"  # TRADE_SUCCESS / TRADE_FINISHED
    PENDING = "PENDING"  # WAIT_BUYER_PAY, or ACQ.TRADE_NOT_EXIST (not scanned yet)
    CLOSED = "CLOSED"  # TRADE_CLOSED: unpaid and closed, or fully refunded
    UNKNOWN = "UNKNOWN"  # the query itself gave no usable answer


@dataclass(frozen=True)
class PayAnswer:
    outcome: Outcome
    code: str | None = None  # Alipay sub_code / code, or ours: TIMEOUT, NETWORK_ERROR, BAD_SIGNATURE, ...
    message: str = ""
    trade_no: str | None = None
    total_cents: int | None = None
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PrecreateAnswer:
    outcome: Outcome
    qr_code: str | None = None
    code: str | None = None
    message: str = ""
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TradeQueryAnswer:
    """``state`` is what the caller acts on. ``exists=False`` with ``PENDING`` is ACQ.TRADE_NOT_EXIST:
    after a precreate it means the patient hasn't scanned yet; after a trade.pay whose answer was lost
    it may mean the request never arrived - the caller, who knows which call it made, decides when
    a long-standing "not exist" ends in a cancel."""

    state: TradeState
    trade_status: str | None = None  # WAIT_BUYER_PAY | TRADE_SUCCESS | TRADE_FINISHED | TRADE_CLOSED
    exists: bool = True
    code: str | None = None
    message: str = ""
    trade_no: str | None = None
    total_cents: int | None = None
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CancelAnswer:
    cancelled: bool
    retry: bool = False  # retry_flag=Y: call cancel again
    transport_error: bool = False  # no usable answer: retry later
    action: str | None = None  # close (never paid) | refund (paid, money returned)
    code: str | None = None
    message: str = ""
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RefundAnswer:
    """``SUCCESS``: refunded. ``refunded_cents`` is the order's refund total so far; ``fund_change``
    is False when this call moved no money (a repeated out_request_no answering the earlier refund).
    ``UNKNOWN``: call again with the SAME out_request_no. ``FAILED``: refused (e.g.
    ``ACQ.REFUND_AMT_NOT_EQUAL_TOTAL``, more than is refundable)."""

    outcome: Outcome
    code: str | None = None
    message: str = ""
    refunded_cents: int | None = None
    fund_change: bool = False
    trade_no: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RefundQueryAnswer:
    """``alipay.trade.fastpay.refund.query``. ``found``: True when Alipay holds this refund as done
    (``refund_status`` REFUND_SUCCESS or absent, with an amount), False when it answered but has no
    such refund (never arrived, or failed: refund again with the SAME out_request_no), None when
    there was no usable answer (query again later)."""

    found: bool | None
    refund_cents: int | None = None
    code: str | None = None
    message: str = ""
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class BillUrlAnswer:
    url: str | None  # None: no URL (code says why, e.g. isp.bill_not_exist)
    code: str | None = None
    message: str = ""
    raw: dict[str, Any] = field(default_factory=dict)


class BillFetchError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@dataclass(frozen=True)
class _Reply:
    data: dict[str, Any] | None  # the verified ``..._response`` member; None when untrustworthy/absent
    code: str | None = None
    message: str = ""

    @property
    def alipay_code(self) -> str:
        return str(self.data.get("code", "")) if self.data else ""

    @property
    def sub_code(self) -> str:
        return str(self.data.get("sub_code", "")) if self.data else ""

    @property
    def sub_msg(self) -> str:
        if not self.data:
            return self.message
        return str(self.data.get("sub_msg") or self.data.get("msg") or "")


def _cents_or_none(value: object) -> int | None:
    try:
        return yuan_to_cents(str(value)) if value not in (None, "") else None
    except ValueError:
        return None


class AlipayClient:
    """One instance per server; thread-safe (a requests.Session per thread)."""

    def __init__(
        self,
        gateway_url: str,
        *,
        app_id: str,
        private_key_pem: str | bytes,
        alipay_public_key_pem: str | bytes,
        connect_timeout: float = 3.0,
        read_timeout: float = 10.0,
        notify_url: str = "",
        seller_id: str = "",
    ) -> None:
        self.gateway_url = gateway_url
        self.app_id = app_id
        self.notify_url = notify_url
        self.seller_id = seller_id
        self.timeout = (connect_timeout, read_timeout)
        self._private_key = load_private_key(private_key_pem)
        self._alipay_key = load_public_key(alipay_public_key_pem)
        self._local = threading.local()
        self._sessions: list[requests.Session] = []
        self._lock = threading.Lock()

    def _session(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            self._local.session = session
            with self._lock:
                self._sessions.append(session)
        return session

    def close(self) -> None:
        with self._lock:
            for session in self._sessions:
                session.close()
            self._sessions.clear()

    def signed_params(self, method: str, biz: Mapping[str, object], *, notify: bool = False) -> dict[str, str]:
        params = {
            "app_id": self.app_id,
            "method": method,
            "format": "JSON",
            "charset": "utf-8",
            "sign_type": "RSA2",
            "timestamp": datetime.now().strftime(TIMESTAMP_FORMAT),
            "version": "1.0",
            "biz_content": json.dumps(dict(biz), ensure_ascii=False, separators=(",", ":")),
        }
        if notify and self.notify_url:
            params["notify_url"] = self.notify_url
        params["sign"] = rsa2_sign(sign_content(params), self._private_key)
        return params

    def _call(self, method: str, biz: Mapping[str, object], *, notify: bool = False) -> _Reply:
        params = self.signed_params(method, biz, notify=notify)
        try:
            resp = self._session().post(
                self.gateway_url,
                data=params,
                timeout=self.timeout,
                headers={"Content-Type": "application/x-www-form-urlencoded;charset=utf-8"},
            )
        except requests.ReadTimeout:
            return _Reply(None, "TIMEOUT", "no answer from Alipay in time")
        except requests.ConnectTimeout:
            return _Reply(None, "NETWORK_ERROR", "could not connect to Alipay (timeout)")
        except requests.RequestException as exc:
            return _Reply(None, "NETWORK_ERROR", f"Alipay call failed: {type(exc).__name__}")
        if resp.status_code != 200:
            return _Reply(None, f"HTTP_{resp.status_code}", f"Alipay answered HTTP {resp.status_code}")
        return self.parse_response(method, resp.content)

    def parse_response(self, method: str, content: bytes) -> _Reply:
        """Verify and unpack one gateway answer (public for tests of crafted bodies)."""
        if len(content) > MAX_RESPONSE_BYTES:
            return _Reply(None, "BAD_RESPONSE", "answer too large")
        try:
            text = content.decode("utf-8")
            whole = json.loads(text)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            return _Reply(None, "BAD_RESPONSE", f"malformed JSON from Alipay: {type(exc).__name__}")
        if not isinstance(whole, dict):
            return _Reply(None, "BAD_RESPONSE", "answer is not a JSON object")
        key = response_key(method)
        if key not in whole and "error_response" in whole:
            key = "error_response"  # the gateway answers this way when it can't route the method
        raw_member = extract_member(text, key)
        member = whole.get(key)
        signature = whole.get("sign")
        if raw_member is None or not isinstance(member, dict):
            return _Reply(None, "BAD_RESPONSE", f"answer has no {key} object")
        if not isinstance(signature, str) or not rsa2_verify(raw_member, signature, self._alipay_key):
            # A middlebox or a key mix-up: neither a success nor a failure in it can be believed.
            return _Reply(None, "BAD_SIGNATURE", "Alipay answer has a missing or wrong signature")
        try:
            # The signed text and the parsed member must be the same object (a duplicated key could differ).
            if json.loads(raw_member) != member:
                return _Reply(None, "BAD_RESPONSE", "ambiguous answer (duplicated member)")
        except json.JSONDecodeError:
            return _Reply(None, "BAD_RESPONSE", "malformed response member")
        return _Reply(member)

    # -- trades ------------------------------------------------------------------------------------

    def pay(
        self,
        *,
        out_trade_no: str,
        total_cents: int,
        auth_code: str,
        subject: str,
        terminal_id: str = "",
        timeout_express: str = "2m",
    ) -> PayAnswer:
        """``alipay.trade.pay`` in the bar_code scene (the patient shows the 付款码)."""
        biz: dict[str, object] = {
            "out_trade_no": out_trade_no,
            "scene": "bar_code",
            "auth_code": auth_code,
            "product_code": "FACE_TO_FACE_PAYMENT",
            "subject": subject[:256],
            "total_amount": cents_to_yuan(total_cents),
            "timeout_express": timeout_express,
        }
        if terminal_id:
            biz["terminal_id"] = terminal_id[:32]
        if self.seller_id:
            biz["seller_id"] = self.seller_id
        reply = self._call("alipay.trade.pay", biz, notify=True)
        answer = self._pay_answer(reply)
        logger.info(
            "alipay pay %s (code %s): %s %s", out_trade_no, mask_auth_code(auth_code), answer.outcome, answer.code or ""
        )
        return answer

    @staticmethod
    def _pay_answer(reply: _Reply) -> PayAnswer:
        data = reply.data
        if data is None:
            return PayAnswer(Outcome.UNKNOWN, reply.code, reply.message)
        code = reply.alipay_code
        if code == CODE_SUCCESS:
            return PayAnswer(
                Outcome.SUCCESS,
                None,
                "paid",
                trade_no=data.get("trade_no") or None,
                total_cents=_cents_or_none(data.get("total_amount")),
                raw=data,
            )
        if code == CODE_WAITING:
            return PayAnswer(Outcome.UNKNOWN, "WAIT_BUYER_PAY", reply.sub_msg or "用户支付中", raw=data)
        if code == CODE_BUSINESS_FAILED and reply.sub_code not in UNCLEAR_SUB_CODES:
            return PayAnswer(Outcome.FAILED, reply.sub_code or code, reply.sub_msg, raw=data)
        if code.startswith("400") and code != CODE_BUSINESS_FAILED:
            # 40001/40002/40003/40006: the request was refused before any trade was made.
            return PayAnswer(Outcome.FAILED, reply.sub_code or code, reply.sub_msg, raw=data)
        # 20000, unclear 40004 sub_codes, anything new: the trade may exist - query, then cancel.
        return PayAnswer(Outcome.UNKNOWN, reply.sub_code or code or "UNKNOWN_ERROR", reply.sub_msg, raw=data)

    def precreate(
        self, *, out_trade_no: str, total_cents: int, subject: str, timeout_express: str = "5m"
    ) -> PrecreateAnswer:
        """``alipay.trade.precreate``: a QR (``qr_code``) for the kiosk to show; poll ``query`` afterwards."""
        biz = {
            "out_trade_no": out_trade_no,
            "total_amount": cents_to_yuan(total_cents),
            "subject": subject[:256],
            "timeout_express": timeout_express,
        }
        reply = self._call("alipay.trade.precreate", biz, notify=True)
        data = reply.data
        if data is None:
            answer = PrecreateAnswer(Outcome.UNKNOWN, None, reply.code, reply.message)
        elif reply.alipay_code == CODE_SUCCESS and data.get("qr_code"):
            answer = PrecreateAnswer(Outcome.SUCCESS, str(data["qr_code"]), None, "", raw=data)
        elif reply.alipay_code.startswith("400") and reply.sub_code not in UNCLEAR_SUB_CODES:
            answer = PrecreateAnswer(Outcome.FAILED, None, reply.sub_code or reply.alipay_code, reply.sub_msg, raw=data)
        else:
            answer = PrecreateAnswer(
                Outcome.UNKNOWN, None, reply.sub_code or reply.alipay_code, reply.sub_msg, raw=data
            )
        logger.info("alipay precreate %s: %s %s", out_trade_no, answer.outcome, answer.code or "")
        return answer

    def query(self, out_trade_no: str) -> TradeQueryAnswer:
        reply = self._call("alipay.trade.query", {"out_trade_no": out_trade_no})
        data = reply.data
        if data is None:
            answer = TradeQueryAnswer(TradeState.UNKNOWN, code=reply.code, message=reply.message)
        elif reply.alipay_code == CODE_SUCCESS:
            status = str(data.get("trade_status") or "")
            if status in PAID_TRADE_STATUSES:
                state = TradeState.PAID
            elif status == "WAIT_BUYER_PAY":
                state = TradeState.PENDING
            elif status == "TRADE_CLOSED":
                state = TradeState.CLOSED
            else:
                state = TradeState.UNKNOWN
            answer = TradeQueryAnswer(
                state,
                status or None,
                trade_no=data.get("trade_no") or None,
                total_cents=_cents_or_none(data.get("total_amount")),
                raw=data,
            )
        elif reply.sub_code == TRADE_NOT_EXIST:
            # Not a failure: before the patient scans a precreate QR the trade does not exist yet.
            answer = TradeQueryAnswer(
                TradeState.PENDING, None, exists=False, code=TRADE_NOT_EXIST, message=reply.sub_msg, raw=data
            )
        else:
            answer = TradeQueryAnswer(
                TradeState.UNKNOWN, code=reply.sub_code or reply.alipay_code, message=reply.sub_msg, raw=data
            )
        logger.info("alipay query %s: %s %s", out_trade_no, answer.state, answer.code or "")
        return answer

    def cancel(self, out_trade_no: str) -> CancelAnswer:
        """``alipay.trade.cancel``: close an unpaid trade or refund a paid one; repeat while ``retry``."""
        reply = self._call("alipay.trade.cancel", {"out_trade_no": out_trade_no})
        data = reply.data
        if data is None:
            answer = CancelAnswer(False, transport_error=True, code=reply.code, message=reply.message)
        else:
            ok = reply.alipay_code == CODE_SUCCESS
            answer = CancelAnswer(
                ok,
                retry=data.get("retry_flag") == "Y" or reply.alipay_code == CODE_UNKNOWN,
                action=data.get("action") or None,
                code=None if ok else (reply.sub_code or reply.alipay_code),
                message=reply.sub_msg,
                raw=data,
            )
        logger.info("alipay cancel %s: cancelled=%s retry=%s", out_trade_no, answer.cancelled, answer.retry)
        return answer

    def refund(self, *, out_trade_no: str, refund_cents: int, out_request_no: str, reason: str = "") -> RefundAnswer:
        """``alipay.trade.refund``; the same out_request_no never refunds twice."""
        biz: dict[str, object] = {
            "out_trade_no": out_trade_no,
            "refund_amount": cents_to_yuan(refund_cents),
            "out_request_no": out_request_no,
        }
        if reason:
            biz["refund_reason"] = reason[:256]
        reply = self._call("alipay.trade.refund", biz)
        data = reply.data
        if data is None:
            answer = RefundAnswer(Outcome.UNKNOWN, reply.code, reply.message)
        elif reply.alipay_code == CODE_SUCCESS:
            answer = RefundAnswer(
                Outcome.SUCCESS,
                None,
                "refunded",
                refunded_cents=_cents_or_none(data.get("refund_fee")),
                fund_change=data.get("fund_change") == "Y",
                trade_no=data.get("trade_no") or None,
                raw=data,
            )
        elif reply.alipay_code.startswith("400") and reply.sub_code not in UNCLEAR_SUB_CODES:
            answer = RefundAnswer(Outcome.FAILED, reply.sub_code or reply.alipay_code, reply.sub_msg, raw=data)
        else:
            answer = RefundAnswer(Outcome.UNKNOWN, reply.sub_code or reply.alipay_code, reply.sub_msg, raw=data)
        logger.info("alipay refund %s/%s: %s %s", out_trade_no, out_request_no, answer.outcome, answer.code or "")
        return answer

    def refund_query(self, *, out_trade_no: str, out_request_no: str) -> RefundQueryAnswer:
        """``alipay.trade.fastpay.refund.query`` for one refund request of a trade."""
        reply = self._call(
            "alipay.trade.fastpay.refund.query", {"out_trade_no": out_trade_no, "out_request_no": out_request_no}
        )
        data = reply.data
        if data is None:
            answer = RefundQueryAnswer(None, code=reply.code, message=reply.message)
        elif reply.alipay_code == CODE_SUCCESS:
            cents = _cents_or_none(data.get("refund_amount"))
            status = str(data.get("refund_status") or "")
            # Alipay's rule: data with refund_status empty or REFUND_SUCCESS is a refund done;
            # no data means the request never arrived or did not succeed.
            done = cents is not None and status in ("", "REFUND_SUCCESS")
            answer = RefundQueryAnswer(done, cents if done else None, None if done else "REFUND_NOT_EXIST", raw=data)
        elif reply.sub_code == TRADE_NOT_EXIST:
            answer = RefundQueryAnswer(False, None, TRADE_NOT_EXIST, reply.sub_msg, raw=data)
        else:
            answer = RefundQueryAnswer(None, None, reply.sub_code or reply.alipay_code, reply.sub_msg, raw=data)
        logger.info(
            "alipay refund query %s/%s: found=%s %s", out_trade_no, out_request_no, answer.found, answer.code or ""
        )
        return answer

    # -- daily bill --------------------------------------------------------------------------------

    def bill_download_url(self, bill_date: date | str, bill_type: str = "trade") -> BillUrlAnswer:
        """``alipay.data.dataservice.bill.downloadurl.query``; the URL is valid for about 30 s."""
        day = bill_date.isoformat() if isinstance(bill_date, date) else bill_date
        reply = self._call("alipay.data.dataservice.bill.downloadurl.query", {"bill_type": bill_type, "bill_date": day})
        data = reply.data
        if data is None:
            return BillUrlAnswer(None, reply.code, reply.message)
        url = data.get("bill_download_url")
        if reply.alipay_code == CODE_SUCCESS and isinstance(url, str) and url:
            return BillUrlAnswer(url, None, "", raw=data)
        return BillUrlAnswer(None, reply.sub_code or reply.alipay_code or "BAD_RESPONSE", reply.sub_msg, raw=data)

    def fetch_bill(self, url: str) -> bytes:
        """The bill file's bytes (a zip of GBK CSVs; not parsed here); BillFetchError otherwise."""
        try:
            resp = self._session().get(url, timeout=self.timeout)
        except requests.ReadTimeout:
            raise BillFetchError("TIMEOUT", "no bill from Alipay in time") from None
        except requests.RequestException as exc:
            raise BillFetchError("NETWORK_ERROR", f"bill download failed: {type(exc).__name__}") from None
        if resp.status_code != 200:
            raise BillFetchError(f"HTTP_{resp.status_code}", f"bill download answered HTTP {resp.status_code}")
        content = resp.content
        if len(content) > MAX_BILL_BYTES:
            raise BillFetchError("BAD_RESPONSE", "bill larger than expected")
        if not content.startswith(b"PK\x03\x04"):
            raise BillFetchError("BAD_RESPONSE", "bill is not a zip file")
        return content

    def download_bill(self, bill_date: date | str, bill_type: str = "trade") -> bytes:
        """URL query then fetch, at once (the URL expires quickly)."""
        answer = self.bill_download_url(bill_date, bill_type)
        if answer.url is None:
            raise BillFetchError(answer.code or "NO_URL", answer.message or "no bill download URL")
        return self.fetch_bill(answer.url)
