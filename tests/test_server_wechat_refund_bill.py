"""WeChat Pay v2 beyond micropay: HMAC-SHA256 signing, refund/refundquery, downloadbill.

The sandbox router runs alone in a small FastAPI app on a real loopback socket (uvicorn in a
thread), and the adapter talks to it with ``requests``, timeouts included.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest
import requests

from server.payments.clock import china_now, china_today
from server.payments.sandbox import BILL_COLUMNS, BILL_SUMMARY_COLUMNS, SandboxStore, make_sandbox_router
from server.payments.wechat import (
    BillDownloadError,
    Outcome,
    WeChatPayClient,
    from_xml,
    sign,
    sign_hmac_sha256,
    sign_md5,
    to_xml,
    verify,
)
from server.testing import RouterServer

if TYPE_CHECKING:
    from conftest_server import StubServer

APPID, MCH_ID, KEY = "wx00000000sandbox", "1900000109", "sandbox0merchant0key0000000000ab"
CODE_PREFIX = "13" + "4567890123456" + "78"


def code(digit: int) -> str:
    return f"{CODE_PREFIX}{digit}"


@pytest.fixture
def store() -> SandboxStore:
    return SandboxStore(key=KEY, appid=APPID, mch_id=MCH_ID, userpaying_s=0.5, lost_response_s=1.5)


@pytest.fixture
def wx_base(store: SandboxStore) -> Iterator[str]:
    srv = RouterServer(make_sandbox_router(store))
    yield srv.base_url + "/sandbox/wxpay"
    store.stop()
    srv.stop()


def _client(base: str, *, sign_type: str = "MD5", key: str = KEY, read: float = 3.0) -> WeChatPayClient:
    return WeChatPayClient(
        base, appid=APPID, mch_id=MCH_ID, key=key, connect_timeout=1.0, read_timeout=read, sign_type=sign_type
    )


@pytest.fixture
def wx(wx_base: str) -> Iterator[WeChatPayClient]:
    client = _client(wx_base)
    yield client
    client.close()


def _pay(wx: WeChatPayClient, otn: str, fee: int, digit: int = 0) -> None:
    answer = wx.micropay(out_trade_no=otn, total_fee=fee, auth_code=code(digit), body="挂号费")
    assert answer.outcome is Outcome.SUCCESS, answer


# -- HMAC-SHA256 -------------------------------------------------------------------------------------


def test_hmac_sha256_matches_the_official_example() -> None:
    params = {
        "appid": "wxd930ea5d5a258f4f",
        "mch_id": "10000100",
        "device_info": "1000",
        "body": "test",
        "nonce_str": "ibuaiVcKdpRxkhJA",
    }
    key = "192006250b4c09247ec02edce69f6a2d"
    expected = "6A9AE1657590FD6257D693A078E1C3E4BB6BA4DC30B23E0EE2496E54170DACD6"
    assert sign_hmac_sha256(params, key) == expected
    assert sign(params, key, "HMAC-SHA256") == expected
    assert verify({**params, "sign": expected}, key, "HMAC-SHA256")
    assert not verify({**params, "sign": expected}, key, "MD5")  # the type matters
    assert not verify({**params, "sign": expected}, key, "SHA1")
    with pytest.raises(ValueError):
        sign(params, key, "SHA1")
    with pytest.raises(ValueError):
        WeChatPayClient("http://x", appid="a", mch_id="m", key="k", sign_type="RSA")


def test_hmac_client_against_the_sandbox(wx_base: str, store: SandboxStore) -> None:
    hm = _client(wx_base, sign_type="HMAC-SHA256")
    wrong = _client(wx_base, sign_type="HMAC-SHA256", key="0" * 32)
    try:
        answer = hm.micropay(out_trade_no="H1", total_fee=1500, auth_code=code(1), body="t")
        assert answer.outcome is Outcome.SUCCESS and answer.transaction_id
        # the sandbox signed its answer with HMAC-SHA256 too: it verifies as such, not as MD5
        assert verify(answer.raw, KEY, "HMAC-SHA256") and not verify(answer.raw, KEY, "MD5")
        assert hm.orderquery("H1").trade_state == "SUCCESS"
        refused = wrong.micropay(out_trade_no="H2", total_fee=1500, auth_code=code(1), body="t")
        assert (refused.outcome, refused.code) == (Outcome.FAILED, "PROVIDER_REJECTED")
        assert store.order("H2") is None
    finally:
        hm.close()
        wrong.close()
    # a request that declares HMAC-SHA256 but carries an MD5 signature is refused
    req = {"appid": APPID, "mch_id": MCH_ID, "nonce_str": "n1", "out_trade_no": "H1", "sign_type": "HMAC-SHA256"}
    req["sign"] = sign_md5(req, KEY)
    raw = requests.post(wx_base + "/pay/orderquery", data=to_xml(req), timeout=5)
    assert from_xml(raw.content) == {"return_code": "FAIL", "return_msg": "签名错误"}


def test_an_md5_signed_answer_to_an_hmac_client_is_unclear(stub_http: StubServer) -> None:
    answer = {"return_code": "SUCCESS", "result_code": "SUCCESS", "transaction_id": "42x", "nonce_str": "n"}
    answer["sign"] = sign_md5(answer, KEY)  # right key, wrong algorithm
    stub_http.routes["/pay/micropay"] = stub_http.Route(body=to_xml(answer), content_type="text/xml")
    hm = _client(stub_http.base_url, sign_type="HMAC-SHA256")
    try:
        got = hm.micropay(out_trade_no="H3", total_fee=100, auth_code=code(0), body="t")
        assert (got.outcome, got.code) == (Outcome.UNKNOWN, "BAD_SIGNATURE")
    finally:
        hm.close()


# -- refunds -----------------------------------------------------------------------------------------


def test_refund_is_idempotent_and_never_exceeds_the_payment(wx: WeChatPayClient, store: SandboxStore) -> None:
    _pay(wx, "P1", 1500)
    first = wx.refund(out_trade_no="P1", out_refund_no="R1", total_fee=1500, refund_fee=500)
    assert first.outcome is Outcome.SUCCESS and first.refund_id and first.refund_fee == 500
    assert first.total_fee == 1500
    again = wx.refund(out_trade_no="P1", out_refund_no="R1", total_fee=1500, refund_fee=500)
    assert (again.outcome, again.refund_id, again.refund_fee) == (Outcome.SUCCESS, first.refund_id, 500)
    too_much = wx.refund(out_trade_no="P1", out_refund_no="R2", total_fee=1500, refund_fee=1001)
    assert (too_much.outcome, too_much.code) == (Outcome.FAILED, "ERROR")
    assert "累计退款金额大于支付金额" in too_much.message
    rest = wx.refund(out_trade_no="P1", out_refund_no="R2", total_fee=1500, refund_fee=1000)
    assert rest.outcome is Outcome.SUCCESS and rest.refund_id != first.refund_id
    one_more = wx.refund(out_trade_no="P1", out_refund_no="R3", total_fee=1500, refund_fee=1)
    assert (one_more.outcome, one_more.code) == (Outcome.FAILED, "ERROR")
    order = store.order("P1")
    assert order is not None and order.refunded == 1500

    query = wx.refundquery(out_trade_no="P1")
    assert query.code is None and query.refund_fee == 1500 and query.total_fee == 1500
    assert [(r.out_refund_no, r.refund_fee, r.refund_status) for r in query.refunds] == [
        ("R1", 500, "SUCCESS"),
        ("R2", 1000, "SUCCESS"),
    ]
    single = wx.refundquery(out_refund_no="R1")
    assert [r.refund_id for r in single.refunds] == [first.refund_id]
    assert wx.orderquery("P1").trade_state == "REFUND"
    assert wx.refundquery(out_refund_no="NOPE").code == "REFUNDNOTEXIST"


def test_refund_refusals(wx: WeChatPayClient) -> None:
    missing = wx.refund(out_trade_no="NOPE", out_refund_no="RX", total_fee=100, refund_fee=100)
    assert (missing.outcome, missing.code) == (Outcome.FAILED, "ORDERNOTEXIST")
    wx.micropay(out_trade_no="P7", total_fee=800, auth_code=code(7), body="t")  # never paid
    unpaid = wx.refund(out_trade_no="P7", out_refund_no="R7", total_fee=800, refund_fee=800)
    assert (unpaid.outcome, unpaid.code) == (Outcome.FAILED, "ERROR")
    _pay(wx, "P2", 800)
    wrong_total = wx.refund(out_trade_no="P2", out_refund_no="R8", total_fee=900, refund_fee=100)
    assert (wrong_total.outcome, wrong_total.code) == (Outcome.FAILED, "PARAM_ERROR")
    # an out_refund_no belongs to one order
    assert wx.refund(out_trade_no="P2", out_refund_no="R9", total_fee=800, refund_fee=100).outcome is Outcome.SUCCESS
    _pay(wx, "P3", 800)
    reused = wx.refund(out_trade_no="P3", out_refund_no="R9", total_fee=800, refund_fee=100)
    assert (reused.outcome, reused.code) == (Outcome.FAILED, "PARAM_ERROR")
    with pytest.raises(ValueError):
        wx.refundquery()


def test_unclear_refund_answers_are_unknown(stub_http: StubServer, closed_port_url: str) -> None:
    busy = {"return_code": "SUCCESS", "result_code": "FAIL", "err_code": "SYSTEMERROR", "nonce_str": "n"}
    busy["sign"] = sign_md5(busy, KEY)
    stub_http.routes["/secapi/pay/refund"] = stub_http.Route(body=to_xml(busy), content_type="text/xml")
    stub_http.routes["/pay/refundquery"] = stub_http.Route(body=b"<xml><return_code>SUC", content_type="text/xml")
    wx = _client(stub_http.base_url)
    down = _client(closed_port_url)
    try:
        answer = wx.refund(out_trade_no="P", out_refund_no="R", total_fee=100, refund_fee=100)
        assert (answer.outcome, answer.code) == (Outcome.UNKNOWN, "SYSTEMERROR")
        query = wx.refundquery(out_trade_no="P")
        assert (query.refunds, query.code) == ((), "BAD_RESPONSE")
        forged = {**busy, "result_code": "SUCCESS", "refund_id": "50x"}
        forged["sign"] = sign_md5(forged, "f" * 32)
        stub_http.routes["/secapi/pay/refund"] = stub_http.Route(body=to_xml(forged), content_type="text/xml")
        answer = wx.refund(out_trade_no="P", out_refund_no="R", total_fee=100, refund_fee=100)
        assert (answer.outcome, answer.code) == (Outcome.UNKNOWN, "BAD_SIGNATURE")
        gone = down.refund(out_trade_no="P", out_refund_no="R", total_fee=100, refund_fee=100)
        assert (gone.outcome, gone.code) == (Outcome.UNKNOWN, "NETWORK_ERROR")
    finally:
        wx.close()
        down.close()


def test_refund_timeout_is_unknown(stub_http: StubServer) -> None:
    stub_http.routes["/secapi/pay/refund"] = stub_http.Route(body=b"<xml/>", delay_s=2.0)
    wx = _client(stub_http.base_url, read=0.3)
    try:
        started = time.monotonic()
        answer = wx.refund(out_trade_no="P", out_refund_no="R", total_fee=100, refund_fee=100)
        assert (answer.outcome, answer.code) == (Outcome.UNKNOWN, "TIMEOUT")
        assert time.monotonic() - started < 1.5
    finally:
        wx.close()


# -- downloadbill ------------------------------------------------------------------------------------


def _split(line: str) -> list[str]:
    fields = line.split(",")
    assert all(f.startswith("`") for f in fields), line
    return [f[1:] for f in fields]


def _parse_bill(text: str) -> tuple[list[dict[str, str]], dict[str, str]]:
    lines = text.split("\r\n")
    assert lines[-1] == ""  # ends with a line break
    lines = lines[:-1]
    assert lines[0] == ",".join(BILL_COLUMNS)
    cut = lines.index(",".join(BILL_SUMMARY_COLUMNS))
    assert cut == len(lines) - 2
    rows = [dict(zip(BILL_COLUMNS, _split(line), strict=True)) for line in lines[1:cut]]
    summary = dict(zip(BILL_SUMMARY_COLUMNS, _split(lines[-1]), strict=True))
    return rows, summary


def _total(rows: list[dict[str, str]], column: str) -> Decimal:
    return sum((Decimal(r[column]) for r in rows), Decimal(0))


def test_downloadbill_official_text_format(wx: WeChatPayClient, store: SandboxStore) -> None:
    today = china_today()
    _pay(wx, "B1", 1500)
    _pay(wx, "B2", 29)  # 0.29 yuan: the float-truncation trap
    _pay(wx, "B3", 2000)
    _pay(wx, "B4", 700)
    assert wx.refund(out_trade_no="B1", out_refund_no="BR1", total_fee=1500, refund_fee=500).outcome is Outcome.SUCCESS
    store.add_bill_order("GHOST1", 1234, body="商户不知道的订单")  # paid at the provider, unknown to the merchant
    store.alter_order("B3", total_fee=2001)  # provider's amount differs
    store.alter_order("B4", in_bill=False)  # merchant has it, the bill doesn't
    store.add_bill_order("OTHERDAY", 999, paid_at=china_now() - timedelta(days=1))

    text = wx.downloadbill(f"{today:%Y%m%d}")
    rows, summary = _parse_bill(text)
    by_order = {(r["商户订单号"], r["交易状态"]): r for r in rows}
    assert set(by_order) == {
        ("B1", "SUCCESS"),
        ("B1", "REFUND"),
        ("B2", "SUCCESS"),
        ("B3", "SUCCESS"),
        ("GHOST1", "SUCCESS"),
    }
    assert by_order[("B2", "SUCCESS")]["应结订单金额"] == "0.29"
    assert by_order[("B3", "SUCCESS")]["订单金额"] == "20.01"
    assert by_order[("GHOST1", "SUCCESS")]["商品名称"] == "商户不知道的订单"
    refund = by_order[("B1", "REFUND")]
    assert (refund["商户退款单号"], refund["退款金额"], refund["应结订单金额"]) == ("BR1", "5.00", "0.00")
    assert refund["微信退款单号"].startswith("50") and refund["退款状态"] == "SUCCESS"
    success = by_order[("B1", "SUCCESS")]
    assert (success["公众账号ID"], success["商户号"], success["交易类型"]) == (APPID, MCH_ID, "MICROPAY")
    assert success["微信订单号"] == store.order("B1").transaction_id  # type: ignore[union-attr]
    assert success["手续费"] == "0.09000" and success["费率"] == "0.6%"
    assert rows == sorted(rows, key=lambda r: r["交易时间"])

    # the summary is the row count and the column sums
    assert summary["总交易单数"] == str(len(rows)) == "5"
    assert Decimal(summary["应结订单总金额"]) == _total(rows, "应结订单金额") == Decimal("47.64")
    assert Decimal(summary["退款总金额"]) == _total(rows, "退款金额") == Decimal("5.00")
    assert Decimal(summary["订单总金额"]) == _total(rows, "订单金额")
    assert Decimal(summary["申请退款总金额"]) == _total(rows, "申请退款金额")
    assert Decimal(summary["手续费总金额"]) == _total(rows, "手续费")

    only_success, _ = _parse_bill(wx.downloadbill(f"{today:%Y%m%d}", "SUCCESS"))
    assert {r["交易状态"] for r in only_success} == {"SUCCESS"} and len(only_success) == 4
    only_refund, refund_summary = _parse_bill(wx.downloadbill(f"{today:%Y%m%d}", "REFUND"))
    assert [r["商户订单号"] for r in only_refund] == ["B1"] and refund_summary["退款总金额"] == "5.00"
    yesterday, _ = _parse_bill(wx.downloadbill(f"{today - timedelta(days=1):%Y%m%d}"))
    assert [r["商户订单号"] for r in yesterday] == ["OTHERDAY"]


def test_downloadbill_with_hmac_and_bom(wx_base: str, store: SandboxStore) -> None:
    store.add_bill_order("G1", 100)
    store.bill_bom = True
    hm = _client(wx_base, sign_type="HMAC-SHA256")
    try:
        text = hm.downloadbill(f"{china_today():%Y%m%d}")
    finally:
        hm.close()
    assert text.startswith("\ufeff交易时间,")
    rows, _ = _parse_bill(text[1:])
    assert [r["商户订单号"] for r in rows] == ["G1"]


def test_downloadbill_errors(wx: WeChatPayClient, stub_http: StubServer) -> None:
    with pytest.raises(BillDownloadError) as exc:
        wx.downloadbill("20200101")
    assert (exc.value.code, exc.value.message) == ("20002", "No Bill Exist")
    with pytest.raises(ValueError):
        wx.downloadbill("2020-01-01")
    with pytest.raises(ValueError):
        wx.downloadbill("20200101", "RECHARGE")

    stub = _client(stub_http.base_url)
    try:
        for body, status, code_ in (
            (b"<xml><return_code>FAIL</return_code>", 200, "BAD_RESPONSE"),  # truncated error document
            (b"<html>proxy error</html>", 200, "BAD_RESPONSE"),
            ("交易时间,".encode("gbk"), 200, "BAD_RESPONSE"),  # not UTF-8
            (b"oops", 500, "HTTP_500"),
        ):
            stub_http.routes["/pay/downloadbill"] = stub_http.Route(status=status, body=body, content_type="text/plain")
            with pytest.raises(BillDownloadError) as exc:
                stub.downloadbill("20200101")
            assert exc.value.code == code_, body
    finally:
        stub.close()
