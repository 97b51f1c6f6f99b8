"""WeChat Pay API v2 adapter: 付款码支付 (``micropay``, ``orderquery``, ``reverse``), refunds
(``refund``, ``refundquery``) and the daily bill (``downloadbill``).

XML over HTTP with ``requests`` and explicit (connect, read) timeouts on every call. Requests are
signed with MD5 (drop empty values and ``sign``, sort keys by ASCII, ``k=v`` joined by ``&``,
``&key=<API key>``, MD5, upper-case hex) or, when the client is built with
``sign_type="HMAC-SHA256"``, HMAC-SHA256 of the same string keyed with the API key (the request
then carries ``sign_type``, and the provider signs its answer the same way). Every
``return_code=SUCCESS`` answer's signature is verified. The adapter never decides business state;
it reports what the provider said in three outcomes, and anything it cannot be sure of (timeout,
connection lost, bad signature, garbled XML, USERPAYING/SYSTEMERROR/BANKERROR) is ``UNKNOWN`` so
the caller queries, then reverses (refunds: calls again with the same out_refund_no). Amounts are
integer cents (``total_fee``). The full auth_code is never logged.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import logging
import secrets
import threading
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass, field

import requests

logger = logging.getLogger(__name__)

MICROPAY_PATH = "/pay/micropay"
ORDERQUERY_PATH = "/pay/orderquery"
REVERSE_PATH = "/secapi/pay/reverse"
REFUND_PATH = "/secapi/pay/refund"
REFUNDQUERY_PATH = "/pay/refundquery"
DOWNLOADBILL_PATH = "/pay/downloadbill"

SIGN_MD5 = "MD5"
SIGN_HMAC_SHA256 = "HMAC-SHA256"
SIGN_TYPES = frozenset({SIGN_MD5, SIGN_HMAC_SHA256})

BILL_TYPES = frozenset({"ALL", "SUCCESS", "REFUND"})

# err_codes after which the money may still move: query, then reverse (protocols.md §3.2).
# ORDERPAID means this out_trade_no is already paid, which a query will confirm.
UNCLEAR_ERR_CODES = frozenset({"USERPAYING", "SYSTEMERROR", "BANKERROR", "ORDERPAID"})
# Refund err_codes the official doc answers with "retry with the same parameters": the refund may or
# may not have been taken, and the same out_refund_no never refunds twice.
UNCLEAR_REFUND_ERR_CODES = frozenset({"SYSTEMERROR", "BIZERR_NEED_RETRY", "FREQUENCY_LIMITED", "INVALID_REQ_TOO_MUCH"})

MAX_XML_BYTES = 64 * 1024
MAX_BILL_BYTES = 64 * 1024 * 1024  # a day of a hospital's kiosks is far below this


def _sign_text(params: Mapping[str, object], key: str) -> str:
    items = sorted((k, str(v)) for k, v in params.items() if k != "sign" and v is not None and str(v) != "")
    return "&".join(f"{k}={v}" for k, v in items) + f"&key={key}"


def sign_md5(params: Mapping[str, object], key: str) -> str:
    return hashlib.md5(_sign_text(params, key).encode("utf-8")).hexdigest().upper()


def sign_hmac_sha256(params: Mapping[str, object], key: str) -> str:
    text = _sign_text(params, key).encode("utf-8")
    return hmac.new(key.encode("utf-8"), text, hashlib.sha256).hexdigest().upper()


def sign(params: Mapping[str, object], key: str, sign_type: str = SIGN_MD5) -> str:
    if sign_type == SIGN_MD5:
        return sign_md5(params, key)
    if sign_type == SIGN_HMAC_SHA256:
        return sign_hmac_sha256(params, key)
    raise ValueError(f"unsupported sign_type {sign_type!r}")


def verify(params: Mapping[str, str], key: str, sign_type: str = SIGN_MD5) -> bool:
    given = params.get("sign", "")
    if not given or sign_type not in SIGN_TYPES:
        return False
    return hmac.compare_digest(given.upper(), sign(params, key, sign_type))


def verify_md5(params: Mapping[str, str], key: str) -> bool:
    return verify(params, key, SIGN_MD5)


def to_xml(params: Mapping[str, object]) -> bytes:
    root = ET.Element("xml")
    for k, v in params.items():
        if v is None or str(v) == "":
            continue
        ET.SubElement(root, k).text = str(v)
    return ET.tostring(root, encoding="utf-8")


def from_xml(data: bytes) -> dict[str, str]:
    """Flat ``<xml><k>v</k>...</xml>`` to a dict; ValueError on anything else.

    DOCTYPE is refused outright: the provider never sends one and it is the door to entity tricks.
    """
    if len(data) > MAX_XML_BYTES:
        raise ValueError("XML document too large")
    if b"<!DOCTYPE" in data.upper() or b"<!ENTITY" in data.upper():
        raise ValueError("XML with a DOCTYPE/ENTITY is not accepted")
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise ValueError(f"malformed XML: {exc}") from None
    if root.tag != "xml":
        raise ValueError(f"unexpected XML root <{root.tag}>")
    return {child.tag: (child.text or "").strip() for child in root}


def nonce_str() -> str:
    return secrets.token_hex(16)


class Outcome(enum.StrEnum):
    SUCCESS = "SUCCESS"
    FAILED = "FAILED"  # definitive: no money moved
    UNKNOWN = "UNKNOWN"  # query, then reverse


@dataclass(frozen=True)
class MicropayAnswer:
    outcome: Outcome
    code: str | None = None  # provider err_code, or ours: TIMEOUT, NETWORK_ERROR, BAD_SIGNATURE, ...
    message: str = ""
    transaction_id: str | None = None
    raw: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class QueryAnswer:
    trade_state: str | None  # None: the query itself gave no answer (network, FAIL, not found)
    code: str | None = None
    message: str = ""
    transaction_id: str | None = None
    total_fee: int | None = None
    raw: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ReverseAnswer:
    reversed: bool
    recall: bool = False  # provider asks to call reverse again
    transport_error: bool = False  # no usable answer: retry later
    code: str | None = None
    message: str = ""
    raw: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RefundAnswer:
    """``SUCCESS``: the provider accepted the refund (the money moves later; refundquery tells when).

    ``FAILED``: definitively refused (e.g. ``ERROR`` for more than is refundable, ``ORDERNOTEXIST``).
    ``UNKNOWN``: no trustworthy answer; call again with the SAME out_refund_no (never refunds twice).
    """

    outcome: Outcome
    code: str | None = None
    message: str = ""
    refund_id: str | None = None
    refund_fee: int | None = None  # cents
    total_fee: int | None = None  # cents
    transaction_id: str | None = None
    raw: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RefundRecord:
    out_refund_no: str
    refund_id: str
    refund_fee: int  # cents
    refund_status: str  # SUCCESS | PROCESSING | REFUNDCLOSE | CHANGE
    success_time: str = ""


@dataclass(frozen=True)
class RefundQueryAnswer:
    """``refunds`` is empty when the query gave no answer (``code`` says why, e.g. REFUNDNOTEXIST)."""

    refunds: tuple[RefundRecord, ...]
    code: str | None = None
    message: str = ""
    total_fee: int | None = None
    refund_fee: int | None = None  # the sum over all refunds of the order, cents
    raw: dict[str, str] = field(default_factory=dict)


class BillDownloadError(Exception):
    """No bill text: ``code`` is the provider's (``20002`` for ``No Bill Exist``) or ours
    (``TIMEOUT``, ``NETWORK_ERROR``, ``HTTP_<n>``, ``BAD_RESPONSE``)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def _cents(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


@dataclass(frozen=True)
class _Reply:
    data: dict[str, str] | None  # None when there is no trustworthy answer
    code: str | None = None
    message: str = ""


class WeChatPayClient:
    """One instance per server; thread-safe (a requests.Session per thread, as Session isn't)."""

    def __init__(
        self,
        base_url: str,
        *,
        appid: str,
        mch_id: str,
        key: str,
        connect_timeout: float = 3.0,
        read_timeout: float = 10.0,
        client_cert: str | None = None,
        sign_type: str = SIGN_MD5,
    ) -> None:
        if sign_type not in SIGN_TYPES:
            raise ValueError(f"sign_type must be one of {sorted(SIGN_TYPES)}")
        self.base_url = base_url.rstrip("/")
        self.appid = appid
        self.mch_id = mch_id
        self.sign_type = sign_type
        self._key = key
        self.timeout = (connect_timeout, read_timeout)
        self._client_cert = client_cert
        self._local = threading.local()
        self._sessions: list[requests.Session] = []
        self._lock = threading.Lock()

    def _session(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.headers["Content-Type"] = "text/xml; charset=utf-8"
            self._local.session = session
            with self._lock:
                self._sessions.append(session)
        return session

    def close(self) -> None:
        with self._lock:
            for session in self._sessions:
                session.close()
            self._sessions.clear()

    def _post(self, path: str, params: dict[str, object], *, cert: bool = False) -> requests.Response | _Reply:
        """The signed request's HTTP answer, or a ``_Reply`` saying why there is none."""
        body: dict[str, object] = {"appid": self.appid, "mch_id": self.mch_id, "nonce_str": nonce_str(), **params}
        if self.sign_type != SIGN_MD5:
            body["sign_type"] = self.sign_type  # MD5 is the default and is left out, as the official SDKs do
        body["sign"] = sign(body, self._key, self.sign_type)
        url = self.base_url + path
        try:
            resp = self._session().post(
                url, data=to_xml(body), timeout=self.timeout, cert=self._client_cert if cert else None
            )
        except requests.ReadTimeout:
            return _Reply(None, "TIMEOUT", "no answer from the provider in time")
        except requests.ConnectTimeout:
            return _Reply(None, "NETWORK_ERROR", "could not connect to the provider (timeout)")
        except requests.RequestException as exc:
            return _Reply(None, "NETWORK_ERROR", f"provider call failed: {type(exc).__name__}")
        if resp.status_code != 200:
            return _Reply(None, f"HTTP_{resp.status_code}", f"provider answered HTTP {resp.status_code}")
        return resp

    def _call(self, path: str, params: dict[str, object], *, cert: bool = False) -> _Reply:
        resp = self._post(path, params, cert=cert)
        if isinstance(resp, _Reply):
            return resp
        try:
            data = from_xml(resp.content)
        except ValueError as exc:
            return _Reply(None, "BAD_RESPONSE", str(exc))
        if data.get("return_code") == "SUCCESS" and not verify(data, self._key, self.sign_type):
            # Somebody in the middle, or a key mix-up: nothing in it can be trusted either way.
            return _Reply(None, "BAD_SIGNATURE", "provider answer has a wrong signature")
        return _Reply(data)

    def micropay(
        self,
        *,
        out_trade_no: str,
        total_fee: int,
        auth_code: str,
        body: str,
        device_info: str = "",
        client_ip: str = "127.0.0.1",
    ) -> MicropayAnswer:
        reply = self._call(
            MICROPAY_PATH,
            {
                "body": body[:40],
                "out_trade_no": out_trade_no,
                "total_fee": int(total_fee),
                "spbill_create_ip": client_ip,
                "auth_code": auth_code,
                "device_info": device_info[:32],
            },
        )
        answer = self._micropay_answer(reply)
        logger.info("micropay %s: %s %s", out_trade_no, answer.outcome, answer.code or "")
        return answer

    @staticmethod
    def _micropay_answer(reply: _Reply) -> MicropayAnswer:
        data = reply.data
        if data is None:
            return MicropayAnswer(Outcome.UNKNOWN, reply.code, reply.message)
        if data.get("return_code") != "SUCCESS":
            # Communication-level refusal (bad sign, missing field): the order was never processed.
            return MicropayAnswer(Outcome.FAILED, "PROVIDER_REJECTED", data.get("return_msg", ""), raw=data)
        if data.get("result_code") == "SUCCESS":
            return MicropayAnswer(
                Outcome.SUCCESS, None, "paid", transaction_id=data.get("transaction_id") or None, raw=data
            )
        err = data.get("err_code") or "UNKNOWN_ERROR"
        outcome = Outcome.UNKNOWN if err in UNCLEAR_ERR_CODES or not data.get("result_code") else Outcome.FAILED
        return MicropayAnswer(outcome, err, data.get("err_code_des", ""), raw=data)

    def orderquery(self, out_trade_no: str) -> QueryAnswer:
        reply = self._call(ORDERQUERY_PATH, {"out_trade_no": out_trade_no})
        data = reply.data
        if data is None:
            answer = QueryAnswer(None, reply.code, reply.message)
        elif data.get("return_code") != "SUCCESS":
            answer = QueryAnswer(None, "PROVIDER_REJECTED", data.get("return_msg", ""), raw=data)
        elif data.get("result_code") != "SUCCESS":
            answer = QueryAnswer(None, data.get("err_code") or "UNKNOWN_ERROR", data.get("err_code_des", ""), raw=data)
        else:
            fee = data.get("total_fee", "")
            answer = QueryAnswer(
                data.get("trade_state") or None,
                None,
                data.get("trade_state_desc", ""),
                transaction_id=data.get("transaction_id") or None,
                total_fee=int(fee) if fee.isdigit() else None,
                raw=data,
            )
        logger.info("orderquery %s: %s %s", out_trade_no, answer.trade_state, answer.code or "")
        return answer

    def reverse(self, out_trade_no: str) -> ReverseAnswer:
        reply = self._call(REVERSE_PATH, {"out_trade_no": out_trade_no}, cert=True)
        data = reply.data
        if data is None:
            answer = ReverseAnswer(False, transport_error=True, code=reply.code, message=reply.message)
        elif data.get("return_code") != "SUCCESS":
            answer = ReverseAnswer(False, code="PROVIDER_REJECTED", message=data.get("return_msg", ""), raw=data)
        else:
            answer = ReverseAnswer(
                data.get("result_code") == "SUCCESS",
                recall=data.get("recall") == "Y",
                code=data.get("err_code") or None,
                message=data.get("err_code_des", ""),
                raw=data,
            )
        logger.info(
            "reverse %s: reversed=%s recall=%s %s", out_trade_no, answer.reversed, answer.recall, answer.code or ""
        )
        return answer

    # -- refunds -----------------------------------------------------------------------------------

    def refund(
        self,
        *,
        out_trade_no: str,
        out_refund_no: str,
        total_fee: int,
        refund_fee: int,
        refund_desc: str = "",
    ) -> RefundAnswer:
        """Ask for a (partial) refund of a paid order; a repeated out_refund_no answers the same refund."""
        reply = self._call(
            REFUND_PATH,
            {
                "out_trade_no": out_trade_no,
                "out_refund_no": out_refund_no,
                "total_fee": int(total_fee),
                "refund_fee": int(refund_fee),
                "refund_desc": refund_desc[:80],
            },
            cert=True,
        )
        data = reply.data
        if data is None:
            answer = RefundAnswer(Outcome.UNKNOWN, reply.code, reply.message)
        elif data.get("return_code") != "SUCCESS":
            answer = RefundAnswer(Outcome.FAILED, "PROVIDER_REJECTED", data.get("return_msg", ""), raw=data)
        elif data.get("result_code") == "SUCCESS":
            answer = RefundAnswer(
                Outcome.SUCCESS,
                None,
                "refund accepted",
                refund_id=data.get("refund_id") or None,
                refund_fee=_cents(data.get("refund_fee")),
                total_fee=_cents(data.get("total_fee")),
                transaction_id=data.get("transaction_id") or None,
                raw=data,
            )
        else:
            err = data.get("err_code") or "UNKNOWN_ERROR"
            unclear = err in UNCLEAR_REFUND_ERR_CODES or not data.get("result_code")
            outcome = Outcome.UNKNOWN if unclear else Outcome.FAILED
            answer = RefundAnswer(outcome, err, data.get("err_code_des", ""), raw=data)
        logger.info("refund %s/%s: %s %s", out_trade_no, out_refund_no, answer.outcome, answer.code or "")
        return answer

    def refundquery(self, *, out_trade_no: str = "", out_refund_no: str = "") -> RefundQueryAnswer:
        """The refunds of an order (by out_trade_no) or one refund (by out_refund_no)."""
        if not (out_trade_no or out_refund_no):
            raise ValueError("give out_trade_no or out_refund_no")
        reply = self._call(REFUNDQUERY_PATH, {"out_trade_no": out_trade_no, "out_refund_no": out_refund_no})
        data = reply.data
        if data is None:
            return RefundQueryAnswer((), reply.code, reply.message)
        if data.get("return_code") != "SUCCESS":
            return RefundQueryAnswer((), "PROVIDER_REJECTED", data.get("return_msg", ""), raw=data)
        if data.get("result_code") != "SUCCESS":
            err = data.get("err_code") or "UNKNOWN_ERROR"
            return RefundQueryAnswer((), err, data.get("err_code_des", ""), raw=data)
        count = _cents(data.get("refund_count")) or 0
        refunds: list[RefundRecord] = []
        for n in range(min(count, 50)):  # the provider allows at most 50 refunds per order
            fee = _cents(data.get(f"refund_fee_{n}"))
            if fee is None:
                return RefundQueryAnswer((), "BAD_RESPONSE", f"refund_fee_{n} missing or not an integer", raw=data)
            refunds.append(
                RefundRecord(
                    out_refund_no=data.get(f"out_refund_no_{n}", ""),
                    refund_id=data.get(f"refund_id_{n}", ""),
                    refund_fee=fee,
                    refund_status=data.get(f"refund_status_{n}", ""),
                    success_time=data.get(f"refund_success_time_{n}", ""),
                )
            )
        return RefundQueryAnswer(
            tuple(refunds),
            None,
            "",
            total_fee=_cents(data.get("total_fee")),
            refund_fee=_cents(data.get("refund_fee")),
            raw=data,
        )

    # -- daily bill --------------------------------------------------------------------------------

    def downloadbill(self, bill_date: str, bill_type: str = "ALL") -> str:
        """The raw bill text of one day (``bill_date`` ``YYYYMMDD``), unparsed; BillDownloadError otherwise.

        The answer is plain text on success and an (unsigned) XML document on error, so the two are
        told apart by a leading ``<xml>``. The text is not signed at all: reconcile it, don't trust it.
        """
        if not (len(bill_date) == 8 and bill_date.isdigit()):
            raise ValueError("bill_date must be YYYYMMDD")
        if bill_type not in BILL_TYPES:
            raise ValueError(f"bill_type must be one of {sorted(BILL_TYPES)}")
        resp = self._post(DOWNLOADBILL_PATH, {"bill_date": bill_date, "bill_type": bill_type})
        if isinstance(resp, _Reply):
            raise BillDownloadError(resp.code or "NETWORK_ERROR", resp.message)
        content = resp.content
        if len(content) > MAX_BILL_BYTES:
            raise BillDownloadError("BAD_RESPONSE", "bill larger than expected")
        head = content[:64].lstrip(b"\xef\xbb\xbf \t\r\n")
        if head.startswith(b"<xml>") or head.startswith(b"<?xml"):
            try:
                data = from_xml(content)
            except ValueError as exc:
                raise BillDownloadError("BAD_RESPONSE", str(exc)) from None
            code = data.get("error_code") or data.get("err_code") or "PROVIDER_REJECTED"
            raise BillDownloadError(code, data.get("return_msg") or data.get("err_code_des") or "no bill")
        try:
            text = content.decode("utf-8")
        except UnicodeDecodeError:
            raise BillDownloadError("BAD_RESPONSE", "bill is not UTF-8 text") from None
        if not text.lstrip("\ufeff").startswith("交易时间"):
            # Neither a bill nor an error document: a proxy's page, a truncated body...
            raise BillDownloadError("BAD_RESPONSE", "answer is neither a bill nor an error document")
        logger.info("downloadbill %s %s: %d bytes", bill_date, bill_type, len(content))
        return text
