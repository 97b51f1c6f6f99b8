"""The Alipay adapter against the Alipay sandbox router, over real loopback sockets.

The router runs alone in a small FastAPI app (uvicorn in a thread); the adapter speaks to it with
``requests`` and real (connect, read) timeouts. Both sides sign: the merchant's requests with the
merchant key, the sandbox's answers with its own "Alipay" key.
"""

from __future__ import annotations

import functools
import io
import json
import time
import zipfile
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from server.payments.alipay import (
    AlipayClient,
    BillFetchError,
    TradeState,
    cents_to_yuan,
    extract_member,
    load_private_key,
    load_public_key,
    rsa2_sign,
    rsa2_verify,
    sign_content,
    yuan_to_cents,
)
from server.payments.alipay_sandbox import BILL_DETAIL_COLUMNS, AlipaySandboxStore, make_alipay_sandbox_router
from server.payments.clock import china_now, china_today
from server.payments.wechat import Outcome
from server.testing import RouterServer

if TYPE_CHECKING:
    from conftest_server import StubServer

APP_ID = "2021000000000001"
PID = "2088000000000000"
CODE_PREFIX = "28" + "76543210987654"  # 16 digits; the 17th picks the sandbox outcome


def code(digit: int) -> str:
    return f"{CODE_PREFIX}{digit}"


@functools.cache
def _private_pem(name: str) -> bytes:
    """One key per name for the whole run: 2048-bit generation costs ~0.1 s each."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _public_pem(name: str) -> bytes:
    return (
        load_private_key(_private_pem(name))
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )


@pytest.fixture
def store() -> AlipaySandboxStore:
    return AlipaySandboxStore(
        app_id=APP_ID,
        merchant_public_key_pem=_public_pem("merchant"),
        private_key_pem=_private_pem("alipay"),
        pid=PID,
        waiting_s=0.5,
        lost_response_s=1.5,
    )


@pytest.fixture
def base(store: AlipaySandboxStore) -> Iterator[str]:
    srv = RouterServer(make_alipay_sandbox_router(store))
    yield srv.base_url
    store.stop()
    srv.stop()


def _client(
    gateway: str, *, merchant: str = "merchant", alipay_pub: bytes | None = None, read: float = 3.0
) -> AlipayClient:
    return AlipayClient(
        gateway,
        app_id=APP_ID,
        private_key_pem=_private_pem(merchant),
        alipay_public_key_pem=alipay_pub or _public_pem("alipay"),
        connect_timeout=1.0,
        read_timeout=read,
    )


@pytest.fixture
def ali(base: str) -> Iterator[AlipayClient]:
    client = _client(base + "/sandbox/alipay/gateway.do")
    yield client
    client.close()


# -- pieces ------------------------------------------------------------------------------------------


def test_money_is_converted_with_decimal_only() -> None:
    assert [cents_to_yuan(c) for c in (1505, 1, 0, 29, 100_000)] == ["15.05", "0.01", "0.00", "0.29", "1000.00"]
    assert [yuan_to_cents(y) for y in ("15.05", "0.29", "15", "0.1", " 2.50 ")] == [1505, 29, 1500, 10, 250]
    for bad in ("1.001", "abc", "NaN", "Infinity", ""):
        with pytest.raises(ValueError):
            yuan_to_cents(bad)
    with pytest.raises(TypeError):
        cents_to_yuan(15.05)  # type: ignore[arg-type]


def test_sign_content_and_rsa2() -> None:
    params = {"b": "2", "a": "1", "sign": "x", "empty": "", "sign_type": "RSA2", "biz_content": '{"k":"v&w"}'}
    assert sign_content(params) == 'a=1&b=2&biz_content={"k":"v&w"}&sign_type=RSA2'
    key = load_private_key(_private_pem("merchant"))
    pub = load_public_key(_public_pem("merchant"))
    signature = rsa2_sign(sign_content(params), key)
    assert rsa2_verify(sign_content(params), signature, pub)
    assert not rsa2_verify(sign_content({**params, "a": "2"}), signature, pub)
    assert not rsa2_verify(sign_content(params), signature, load_public_key(_public_pem("alipay")))
    assert not rsa2_verify(sign_content(params), "not base64!", pub)


def test_extract_member_takes_the_raw_text() -> None:
    body = (
        '{"decoy":"\\"alipay_x_response\\":{}","alipay_x_response" : {"code":"10000","s":"}{\\"",'
        '"n":{"a":[1,{"b":2}]}},"sign":"abc"}'
    )
    assert extract_member(body, "alipay_x_response") == '{"code":"10000","s":"}{\\"","n":{"a":[1,{"b":2}]}}'
    assert extract_member('{"alipay_x_response":{"code":"1"', "alipay_x_response") is None
    assert extract_member('{"other":{"alipay_x_response":{}}}', "alipay_x_response") is None


# -- trade.pay ---------------------------------------------------------------------------------------


def test_trade_pay_outcomes_by_last_digit(ali: AlipayClient, store: AlipaySandboxStore) -> None:
    ok = ali.pay(out_trade_no="A0", total_cents=1505, auth_code=code(0), subject="挂号费")
    assert ok.outcome is Outcome.SUCCESS and ok.total_cents == 1505 and ok.trade_no
    assert ok.raw["total_amount"] == "15.05"
    trade = store.trade("A0")
    assert trade is not None and trade.trade_no == ok.trade_no

    waiting = ali.pay(out_trade_no="A6", total_cents=1500, auth_code=code(6), subject="t")
    assert (waiting.outcome, waiting.code) == (Outcome.UNKNOWN, "WAIT_BUYER_PAY")
    query = ali.query("A6")
    assert (query.state, query.trade_status, query.exists) == (TradeState.PENDING, "WAIT_BUYER_PAY", True)
    time.sleep(store.waiting_s + 0.1)
    paid = ali.query("A6")
    assert (paid.state, paid.trade_status, paid.total_cents) == (TradeState.PAID, "TRADE_SUCCESS", 1500)

    stuck = ali.pay(out_trade_no="A7", total_cents=1500, auth_code=code(7), subject="t")
    assert (stuck.outcome, stuck.code) == (Outcome.UNKNOWN, "WAIT_BUYER_PAY")
    first = ali.cancel("A7")
    assert (first.cancelled, first.retry, first.code) == (False, True, "ACQ.SYSTEM_ERROR")
    second = ali.cancel("A7")
    assert (second.cancelled, second.retry, second.action) == (True, False, "close")
    assert ali.query("A7").state is TradeState.CLOSED

    poor = ali.pay(out_trade_no="A8", total_cents=1500, auth_code=code(8), subject="t")
    assert (poor.outcome, poor.code) == (Outcome.FAILED, "ACQ.BUYER_BALANCE_NOT_ENOUGH")
    bad = ali.pay(out_trade_no="AX", total_cents=1500, auth_code="134567890123456780", subject="t")
    assert (bad.outcome, bad.code) == (Outcome.FAILED, "ACQ.PAYMENT_AUTH_CODE_INVALID")
    gone = ali.query("AX")
    assert (gone.state, gone.exists, gone.code) == (TradeState.PENDING, False, "ACQ.TRADE_NOT_EXIST")

    # a repeated trade.pay never makes a second trade
    again = ali.pay(out_trade_no="A0", total_cents=1505, auth_code=code(0), subject="挂号费")
    assert again.outcome is Outcome.SUCCESS and again.trade_no == ok.trade_no
    assert store.trade_count() == 3


def test_lost_response_is_unknown_then_found_by_query(base: str) -> None:
    ali = _client(base + "/sandbox/alipay/gateway.do", read=0.5)
    try:
        started = time.monotonic()
        lost = ali.pay(out_trade_no="A9", total_cents=3000, auth_code=code(9), subject="t")
        assert (lost.outcome, lost.code) == (Outcome.UNKNOWN, "TIMEOUT")
        assert time.monotonic() - started < 1.2
        assert ali.query("A9").state is TradeState.PAID
    finally:
        ali.close()


def test_cancel_of_an_unknown_trade_blocks_a_late_payment(ali: AlipayClient, store: AlipaySandboxStore) -> None:
    closed = ali.cancel("LATE")
    assert (closed.cancelled, closed.action) == (True, "close")
    late = ali.pay(out_trade_no="LATE", total_cents=100, auth_code=code(0), subject="t")
    assert (late.outcome, late.code) == (Outcome.FAILED, "ACQ.TRADE_HAS_CLOSE")
    assert store.trade_count() == 0
    # a paid trade is refunded by cancel
    ali.pay(out_trade_no="PAIDC", total_cents=100, auth_code=code(0), subject="t")
    refunded = ali.cancel("PAIDC")
    assert (refunded.cancelled, refunded.action) == (True, "refund")
    trade = store.trade("PAIDC")
    assert trade is not None and trade.refunded == 100


# -- signatures both ways ----------------------------------------------------------------------------


def test_the_sandbox_refuses_a_wrong_merchant_signature(base: str, store: AlipaySandboxStore) -> None:
    forger = _client(base + "/sandbox/alipay/gateway.do", merchant="someone-else")
    try:
        answer = forger.pay(out_trade_no="F1", total_cents=100, auth_code=code(0), subject="t")
        assert (answer.outcome, answer.code) == (Outcome.FAILED, "isv.invalid-signature")
        assert answer.raw["code"] == "40002"
    finally:
        forger.close()
    assert store.trade_count() == 0
    # a correctly signed request altered on the way (the amount) is refused too
    honest = _client(base + "/sandbox/alipay/gateway.do")
    try:
        params = honest.signed_params(
            "alipay.trade.pay",
            {"out_trade_no": "F2", "scene": "bar_code", "auth_code": code(0), "subject": "t", "total_amount": "1.00"},
        )
        params["biz_content"] = params["biz_content"].replace("1.00", "0.01")
        raw = requests.post(base + "/sandbox/alipay/gateway.do", data=params, timeout=5)
        assert json.loads(raw.text)["alipay_trade_pay_response"]["sub_code"] == "isv.invalid-signature"
        parsed = honest.parse_response("alipay.trade.pay", raw.content)
        assert parsed.data is not None and parsed.data["code"] == "40002"  # the refusal itself is signed
    finally:
        honest.close()
    assert store.trade_count() == 0


def test_a_wrongly_signed_answer_is_never_success(base: str, store: AlipaySandboxStore) -> None:
    """The sandbox charges, but the adapter can't verify the answer: UNKNOWN, then query/cancel."""
    fooled = _client(base + "/sandbox/alipay/gateway.do", alipay_pub=_public_pem("someone-else"))
    try:
        answer = fooled.pay(out_trade_no="S1", total_cents=100, auth_code=code(0), subject="t")
        assert (answer.outcome, answer.code) == (Outcome.UNKNOWN, "BAD_SIGNATURE")
        assert fooled.query("S1").state is TradeState.UNKNOWN
        assert fooled.refund(out_trade_no="S1", refund_cents=100, out_request_no="R").outcome is Outcome.UNKNOWN
        cancel = fooled.cancel("S1")
        assert (cancel.cancelled, cancel.transport_error) == (False, True)
    finally:
        fooled.close()
    assert store.trade("S1") is not None  # the money did move


def test_the_signature_covers_the_raw_member_text(store: AlipaySandboxStore, stub_http: StubServer) -> None:
    good = store.respond(
        "alipay.trade.pay", {"code": "10000", "msg": "Success", "trade_no": "T1", "total_amount": "1.00"}
    )
    # the same JSON value with other spacing: re-serializing before verifying would accept it
    respaced = good.replace('"code":"10000"', '"code": "10000"')
    duplicated = good[:-1] + ',"alipay_trade_pay_response":{"code":"40004"}}'
    cases = [
        (good, Outcome.SUCCESS, None),
        (respaced, Outcome.UNKNOWN, "BAD_SIGNATURE"),
        (good.replace('"sign":"', '"sign":"A'), Outcome.UNKNOWN, "BAD_SIGNATURE"),
        (good.split(',"sign"')[0] + "}", Outcome.UNKNOWN, "BAD_SIGNATURE"),  # unsigned
        (duplicated, Outcome.UNKNOWN, "BAD_RESPONSE"),
        ('{"alipay_trade_pay_response":{"code":"10000"', Outcome.UNKNOWN, "BAD_RESPONSE"),  # truncated
        ("<html>gateway error</html>", Outcome.UNKNOWN, "BAD_RESPONSE"),
        ('["alipay_trade_pay_response"]', Outcome.UNKNOWN, "BAD_RESPONSE"),
        ('{"alipay_trade_query_response":{"code":"10000"},"sign":"x"}', Outcome.UNKNOWN, "BAD_RESPONSE"),
    ]
    ali = _client(stub_http.base_url + "/gateway.do")
    try:
        for body, outcome, code_ in cases:
            stub_http.routes["/gateway.do"] = stub_http.Route(body=body.encode("utf-8"))
            answer = ali.pay(out_trade_no="X", total_cents=100, auth_code=code(0), subject="t")
            assert (answer.outcome, answer.code) == (outcome, code_), body
        stub_http.routes["/gateway.do"] = stub_http.Route(body=b"{not json")
        assert ali.query("X").state is TradeState.UNKNOWN
        assert ali.precreate(out_trade_no="X", total_cents=1, subject="t").outcome is Outcome.UNKNOWN
        assert ali.refund(out_trade_no="X", refund_cents=1, out_request_no="R").outcome is Outcome.UNKNOWN
        assert ali.bill_download_url(china_today()).url is None
        stub_http.routes["/gateway.do"] = stub_http.Route(status=502, body=b"bad gateway")
        assert ali.pay(out_trade_no="X", total_cents=1, auth_code=code(0), subject="t").code == "HTTP_502"
    finally:
        ali.close()


def test_unknown_codes_are_unknown(store: AlipaySandboxStore, stub_http: StubServer) -> None:
    ali = _client(stub_http.base_url + "/gateway.do")
    try:
        for fields, outcome in (
            ({"code": "20000", "msg": "Service Unavailable", "sub_code": "isp.unknow-error"}, Outcome.UNKNOWN),
            ({"code": "40004", "msg": "Business Failed", "sub_code": "ACQ.SYSTEM_ERROR"}, Outcome.UNKNOWN),
            ({"code": "40004", "msg": "Business Failed", "sub_code": "ACQ.TRADE_HAS_SUCCESS"}, Outcome.UNKNOWN),
            ({"code": "40004", "msg": "Business Failed", "sub_code": "ACQ.EXIST_FORBIDDEN_WORD"}, Outcome.FAILED),
        ):
            body = store.respond("alipay.trade.pay", fields)
            stub_http.routes["/gateway.do"] = stub_http.Route(body=body.encode("utf-8"))
            answer = ali.pay(out_trade_no="X", total_cents=100, auth_code=code(0), subject="t")
            assert (answer.outcome, answer.code) == (outcome, fields["sub_code"])
    finally:
        ali.close()


def test_provider_down_and_slow(closed_port_url: str, stub_http: StubServer) -> None:
    down = _client(closed_port_url + "/gateway.do")
    stub_http.routes["/gateway.do"] = stub_http.Route(body=b"{}", delay_s=2.0)
    slow = _client(stub_http.base_url + "/gateway.do", read=0.3)
    try:
        assert down.pay(out_trade_no="X", total_cents=1, auth_code=code(0), subject="t").code == "NETWORK_ERROR"
        started = time.monotonic()
        answer = slow.refund(out_trade_no="X", refund_cents=1, out_request_no="R")
        assert (answer.outcome, answer.code) == (Outcome.UNKNOWN, "TIMEOUT")
        assert time.monotonic() - started < 1.5
    finally:
        down.close()
        slow.close()


# -- precreate -----------------------------------------------------------------------------------------


def test_precreate_pending_until_scanned_and_paid(ali: AlipayClient, base: str, store: AlipaySandboxStore) -> None:
    pre = ali.precreate(out_trade_no="Q1", total_cents=2000, subject="挂号费")
    assert pre.outcome is Outcome.SUCCESS and pre.qr_code and pre.qr_code.startswith("https://qr.alipay.com/")
    not_yet = ali.query("Q1")
    assert (not_yet.state, not_yet.exists, not_yet.code) == (TradeState.PENDING, False, "ACQ.TRADE_NOT_EXIST")
    assert ali.precreate(out_trade_no="Q1", total_cents=2000, subject="挂号费").qr_code == pre.qr_code
    assert requests.post(base + "/sandbox/alipay/test/scan/Q1", timeout=5).status_code == 200
    scanned = ali.query("Q1")
    assert (scanned.state, scanned.trade_status, scanned.exists) == (TradeState.PENDING, "WAIT_BUYER_PAY", True)
    store.pay("Q1")
    paid = ali.query("Q1")
    assert (paid.state, paid.total_cents) == (TradeState.PAID, 2000)
    assert requests.post(base + "/sandbox/alipay/test/pay/NOPE", timeout=5).status_code == 404


def test_precreate_then_cancelled(ali: AlipayClient, store: AlipaySandboxStore) -> None:
    assert ali.precreate(out_trade_no="Q2", total_cents=500, subject="t").outcome is Outcome.SUCCESS
    assert ali.query("Q2").state is TradeState.PENDING
    cancel = ali.cancel("Q2")
    assert (cancel.cancelled, cancel.action) == (True, "close")
    closed = ali.query("Q2")
    assert (closed.state, closed.trade_status) == (TradeState.CLOSED, "TRADE_CLOSED")
    with pytest.raises(ValueError):
        store.pay("Q2")  # the patient can no longer pay a closed QR
    assert ali.precreate(out_trade_no="Q2", total_cents=500, subject="t").code == "ACQ.TRADE_HAS_CLOSE"


# -- refunds -------------------------------------------------------------------------------------------


def test_refund_is_idempotent_on_out_request_no(ali: AlipayClient, store: AlipaySandboxStore) -> None:
    ali.pay(out_trade_no="RF", total_cents=1500, auth_code=code(1), subject="t")
    first = ali.refund(out_trade_no="RF", refund_cents=500, out_request_no="RQ1")
    assert (first.outcome, first.refunded_cents, first.fund_change) == (Outcome.SUCCESS, 500, True)
    again = ali.refund(out_trade_no="RF", refund_cents=500, out_request_no="RQ1")
    assert (again.outcome, again.refunded_cents, again.fund_change) == (Outcome.SUCCESS, 500, False)
    over = ali.refund(out_trade_no="RF", refund_cents=1001, out_request_no="RQ2")
    assert (over.outcome, over.code) == (Outcome.FAILED, "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL")
    rest = ali.refund(out_trade_no="RF", refund_cents=1000, out_request_no="RQ2")
    assert (rest.outcome, rest.refunded_cents, rest.fund_change) == (Outcome.SUCCESS, 1500, True)
    assert ali.query("RF").state is TradeState.CLOSED  # fully refunded
    trade = store.trade("RF")
    assert trade is not None and [r.cents for r in trade.refunds] == [500, 1000]
    missing = ali.refund(out_trade_no="NOPE", refund_cents=1, out_request_no="RQ3")
    assert (missing.outcome, missing.code) == (Outcome.FAILED, "ACQ.TRADE_NOT_EXIST")


# -- the bill ------------------------------------------------------------------------------------------


def _bill(data: bytes) -> dict[str, str]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        files = {}
        for info in zf.infolist():
            assert not info.flag_bits & 0x800, "names are GBK, not flagged UTF-8"
            name = info.filename.encode("cp437").decode("gbk")
            raw = zf.read(info)
            with pytest.raises(UnicodeDecodeError):
                raw.decode("utf-8")  # GBK, not UTF-8
            files[name] = raw.decode("gbk")
    return files


def test_bill_zip_is_gbk_and_lists_each_trade(ali: AlipayClient, store: AlipaySandboxStore) -> None:
    today = china_today()
    for otn, cents in (("B1", 1500), ("B2", 29), ("B3", 2000)):
        paid = ali.pay(out_trade_no=otn, total_cents=cents, auth_code=code(0), subject="挂号费")
        assert paid.outcome is Outcome.SUCCESS
    assert ali.refund(out_trade_no="B1", refund_cents=500, out_request_no="BR1").outcome is Outcome.SUCCESS
    store.add_bill_trade("GHOST", 1234, subject="商户不知道")
    store.alter_trade("B3", total_cents=2001)
    store.add_bill_trade("YESTERDAY", 999, paid_at=china_now() - timedelta(days=1))
    ali.precreate(out_trade_no="UNPAID", total_cents=100, subject="t")  # never paid: not in the bill

    files = _bill(ali.download_bill(today))
    stem = f"{PID}_{today:%Y%m%d}"
    assert set(files) == {f"{stem}_业务明细.csv", f"{stem}_业务明细(汇总).csv"}
    lines = files[f"{stem}_业务明细.csv"].split("\r\n")
    assert lines[0] == "#支付宝业务明细查询"
    assert lines[1] == f"#账号：[{PID}0156]"
    assert lines[2].startswith(f"#起始日期：[{today.year}年")
    header = lines.index(",".join(BILL_DETAIL_COLUMNS))
    end = next(i for i, line in enumerate(lines) if line.startswith("#-----") and "结束" in line)
    rows = [dict(zip(BILL_DETAIL_COLUMNS, line.split(","), strict=True)) for line in lines[header + 1 : end]]
    assert all(r["支付宝交易号"].endswith("\t") and r["商户订单号"].endswith("\t") for r in rows)
    kinds = sorted((r["商户订单号"].strip(), r["业务类型"], r["商家实收（元）"]) for r in rows)
    assert kinds == [
        ("B1", "交易", "15.00"),
        ("B1", "退款", "-5.00"),
        ("B2", "交易", "0.29"),
        ("B3", "交易", "20.01"),
        ("GHOST", "交易", "12.34"),
    ]
    refund = next(r for r in rows if r["业务类型"] == "退款")
    assert refund["退款批次号/请求号"] == "BR1" and refund["订单金额（元）"] == "15.00"
    trade = store.trade("B2")
    assert trade is not None and f"{trade.trade_no}\t" in {r["支付宝交易号"] for r in rows}

    trades = [r for r in rows if r["业务类型"] == "交易"]
    total = sum((Decimal(r["商家实收（元）"]) for r in trades), Decimal(0))
    assert lines[end + 1] == (
        f"#交易合计：{len(trades)}笔，商家实收共{total}元，商家优惠共0.00元，服务费共0.00元，分润共0.00元"
    )
    assert total == Decimal("47.64")
    assert lines[end + 2] == "#退款合计：1笔，商家实收共-5.00元，商家优惠共0.00元，服务费共0.00元，分润共0.00元"
    assert lines[end + 3].startswith("#导出时间：[")

    summary = files[f"{stem}_业务明细(汇总).csv"].split("\r\n")
    assert summary[0] == "#支付宝业务汇总查询"
    totals = next(line for line in summary if line.startswith("合计,")).split(",")
    assert totals[2:6] == ["4", "1", "47.64", "42.64"]

    yesterday = _bill(ali.download_bill(today - timedelta(days=1)))
    assert "YESTERDAY\t" in yesterday[f"{PID}_{today - timedelta(days=1):%Y%m%d}_业务明细.csv"]


def test_bill_errors(ali: AlipayClient, store: AlipaySandboxStore, base: str) -> None:
    none = ali.bill_download_url(date(2020, 1, 1))
    assert (none.url, none.code) == (None, "isp.bill_not_exist")
    with pytest.raises(BillFetchError) as exc:
        ali.download_bill("2020-01-01")
    assert exc.value.code == "isp.bill_not_exist"
    assert ali.bill_download_url("20200101").code == "isv.invalid-bill-date"

    store.add_bill_trade("G", 100)
    store.bill_url_ttl_s = 0.2
    answer = ali.bill_download_url(china_today())
    assert answer.url is not None and answer.url.startswith(base + "/sandbox/alipay/bill/")
    time.sleep(0.3)
    with pytest.raises(BillFetchError) as exc:
        ali.fetch_bill(answer.url)  # the URL has expired
    assert exc.value.code == "HTTP_403"
    with pytest.raises(BillFetchError) as exc:
        ali.fetch_bill(answer.url.split("?")[0] + "?token=forged")
    assert exc.value.code == "HTTP_403"
