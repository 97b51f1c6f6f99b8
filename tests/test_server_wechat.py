"""The WeChat Pay v2 adapter and the sandbox, spoken to directly (no payment service in between)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import pytest
import requests

from server.payments.codes import detect_channel, mask_auth_code
from server.payments.wechat import Outcome, WeChatPayClient, from_xml, sign_md5, to_xml, verify_md5

if TYPE_CHECKING:
    from conftest_server import Api, StubServer



def _client(api: Api, *, key: str | None = None, base: str | None = None, read: float = 5.0) -> WeChatPayClient:
    s = api.srv.settings
    return WeChatPayClient(
        base or api.base + "/sandbox/wxpay",
        appid=s.pay_appid,
        mch_id=s.pay_mch_id,
        key=key or s.merchant_key,
        connect_timeout=1.0,
        read_timeout=read,
    )


def test_md5_signature_matches_the_official_example() -> None:
    # The worked example from the WeChat Pay v2 signing guide (empty values are dropped).
    params = {
        "appid": "wxd930ea5d5a258f4f",
        "mch_id": "10000100",
        "device_info": "1000",
        "body": "test",
        "nonce_str": "ibuaiVcKdpRxkhJA",
        "attach": "",
    }
    sign = sign_md5(params, "192006250b4c09247ec02edce69f6a2d")
    assert sign == "9A0A8659F005D6984697E2CA0A9CF3B7"
    assert verify_md5({**params, "sign": sign}, "192006250b4c09247ec02edce69f6a2d")
    assert not verify_md5({**params, "body": "tost", "sign": sign}, "192006250b4c09247ec02edce69f6a2d")


def test_xml_round_trip_and_refusals() -> None:
    data = {"return_code": "SUCCESS", "body": "挂号费-内科", "total_fee": 1500}
    assert from_xml(to_xml(data)) == {k: str(v) for k, v in data.items()}
    for bad in (b"<xml><a>1</a>", b"<other/>", b'<!DOCTYPE x [<!ENTITY e "x">]><xml><a>&e;</a></xml>'):
        with pytest.raises(ValueError):
            from_xml(bad)


def test_channels_and_masking() -> None:
    assert detect_channel("134567890123456780") == "wechat"
    assert detect_channel("284567890123456780") == "alipay"
    assert detect_channel("6212345678901234567") == "unionpay"
    assert detect_channel("164567890123456780") == "unknown"
    assert mask_auth_code("134567890123456780") == "**************6780"


def test_sandbox_outcomes_by_last_digit(api: Api) -> None:
    wx = _client(api)
    try:
        ok = wx.micropay(out_trade_no="T0", total_fee=1500, auth_code=api.wechat_code(3), body="t")
        assert ok.outcome is Outcome.SUCCESS and ok.transaction_id
        paying = wx.micropay(out_trade_no="T6", total_fee=1500, auth_code=api.wechat_code(6), body="t")
        assert (paying.outcome, paying.code) == (Outcome.UNKNOWN, "USERPAYING")
        assert wx.orderquery("T6").trade_state == "USERPAYING"
        time.sleep(api.srv.settings.sandbox_userpaying_s + 0.1)
        assert wx.orderquery("T6").trade_state == "SUCCESS"
        poor = wx.micropay(out_trade_no="T8", total_fee=1500, auth_code=api.wechat_code(8), body="t")
        assert (poor.outcome, poor.code) == (Outcome.FAILED, "NOTENOUGH")
        bad = wx.micropay(out_trade_no="TX", total_fee=1500, auth_code="991234567890123456", body="t")
        assert (bad.outcome, bad.code) == (Outcome.FAILED, "AUTH_CODE_INVALID")
        assert wx.orderquery("TX").code == "ORDERNOTEXIST"

        wx.micropay(out_trade_no="T7", total_fee=1500, auth_code=api.wechat_code(7), body="t")
        first = wx.reverse("T7")
        assert (first.reversed, first.recall, first.code) == (False, True, "SYSTEMERROR")
        assert wx.reverse("T7").reversed
        assert wx.orderquery("T7").trade_state == "REVOKED"
        # re-sending micropay for a known out_trade_no never makes a second order
        wx.micropay(out_trade_no="T0", total_fee=1500, auth_code=api.wechat_code(3), body="t")
        assert api.sandbox_orders == 4
    finally:
        wx.close()


def test_lost_response_is_unknown_then_found_by_query(api: Api) -> None:
    wx = _client(api, read=0.5)
    try:
        started = time.monotonic()
        lost = wx.micropay(out_trade_no="T9", total_fee=3000, auth_code=api.wechat_code(9), body="t")
        assert (lost.outcome, lost.code) == (Outcome.UNKNOWN, "TIMEOUT")
        assert time.monotonic() - started < 1.5
        assert wx.orderquery("T9").trade_state == "SUCCESS"
    finally:
        wx.close()


def test_sandbox_refuses_a_bad_request_signature(api: Api) -> None:
    wx = _client(api, key="0" * 32)
    try:
        answer = wx.micropay(out_trade_no="TS", total_fee=1500, auth_code=api.wechat_code(0), body="t")
        assert (answer.outcome, answer.code) == (Outcome.FAILED, "PROVIDER_REJECTED")
        assert api.sandbox_orders == 0
    finally:
        wx.close()
    raw = requests.post(api.base + "/sandbox/wxpay/pay/orderquery", data=b"<xml><sign>x</sign></xml>", timeout=5)
    assert from_xml(raw.content)["return_code"] == "FAIL"


def test_a_forged_answer_is_an_unclear_outcome(api: Api, stub_http: StubServer) -> None:
    """A SUCCESS answer signed with the wrong key must not count as paid: query instead."""
    forged = {"return_code": "SUCCESS", "result_code": "SUCCESS", "transaction_id": "42x", "nonce_str": "n"}
    forged["sign"] = sign_md5(forged, "f" * 32)
    stub_http.routes["/pay/micropay"] = stub_http.Route(body=to_xml(forged), content_type="text/xml")
    stub_http.routes["/pay/orderquery"] = stub_http.Route(body=b"garbage", content_type="text/xml")
    stub_http.routes["/secapi/pay/reverse"] = stub_http.Route(status=502, body=b"bad gateway")
    wx = _client(api, base=stub_http.base_url)
    try:
        answer = wx.micropay(out_trade_no="TF", total_fee=1500, auth_code=api.wechat_code(0), body="t")
        assert (answer.outcome, answer.code) == (Outcome.UNKNOWN, "BAD_SIGNATURE")
        query = wx.orderquery("TF")
        assert (query.trade_state, query.code) == (None, "BAD_RESPONSE")
        reverse = wx.reverse("TF")
        assert (reverse.reversed, reverse.transport_error, reverse.code) == (False, True, "HTTP_502")
    finally:
        wx.close()


def test_provider_down_is_an_unclear_outcome(api: Api, closed_port_url: str) -> None:
    wx = _client(api, base=closed_port_url)
    try:
        answer = wx.micropay(out_trade_no="TD", total_fee=1500, auth_code=api.wechat_code(0), body="t")
        assert (answer.outcome, answer.code) == (Outcome.UNKNOWN, "NETWORK_ERROR")
    finally:
        wx.close()
