"""WeChat Pay API v2 adapter for 付款码支付 (micropay): ``micropay``, ``orderquery``, ``reverse``.

XML over HTTP with ``requests`` and explicit (connect, read) timeouts on every call. Requests are
signed with MD5 (drop empty values and ``sign``, sort keys by ASCII, ``k=v`` joined by ``&``,
``&key=<API key>``, MD5, upper-case hex) and every ``return_code=SUCCESS`` answer's signature is
verified. The adapter never decides business state; it reports what the provider said in three
outcomes, and anything it cannot be sure of (timeout, connection lost, bad signature, garbled
XML, USERPAYING/SYSTEMERROR/BANKERROR) is ``UNKNOWN`` so the caller queries, then reverses.
Amounts are integer cents (``total_fee``). The full auth_code is never logged.
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

# err_codes after which the money may still move: query, then reverse (protocols.md §3.2).
# ORDERPAID means this out_trade_no is already paid, which a query will confirm.
UNCLEAR_ERR_CODES = frozenset({"USERPAYING", "SYSTEMERROR", "BANKERROR", "ORDERPAID"})

MAX_XML_BYTES = 64 * 1024


def sign_md5(params: Mapping[str, object], key: str) -> str:
    items = sorted((k, str(v)) for k, v in params.items() if k != "sign" and v is not None and str(v) != "")
    text = "&".join(f"{k}={v}" for k, v in items) + f"&key={key}"
    return hashlib.md5(text.encode("utf-8")).hexdigest().upper()


def verify_md5(params: Mapping[str, str], key: str) -> bool:
    given = params.get("sign", "")
    return bool(given) and hmac.compare_digest(given.upper(), sign_md5(params, key))


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
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.appid = appid
        self.mch_id = mch_id
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

    def _call(self, path: str, params: dict[str, object], *, cert: bool = False) -> _Reply:
        body = {"appid": self.appid, "mch_id": self.mch_id, "nonce_str": nonce_str(), **params}
        body["sign"] = sign_md5(body, self._key)
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
        try:
            data = from_xml(resp.content)
        except ValueError as exc:
            return _Reply(None, "BAD_RESPONSE", str(exc))
        if data.get("return_code") == "SUCCESS" and not verify_md5(data, self._key):
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
