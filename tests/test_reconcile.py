"""Reconciliation: WeChat/Alipay daily bill parsers, the matcher and the report (server/reconcile)."""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import zipfile
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.reconcile import (
    BillErrorAnswer,
    BillFormatError,
    LedgerEntry,
    ParsedBill,
    china_day_bounds_utc,
    format_yuan,
    ledger_from_payment_rows,
    parse_alipay_bill_zip,
    parse_alipay_detail_csv,
    parse_wechat_bill,
    reconcile,
    render_html,
    render_text,
    yuan_to_cents,
)
from server.reconcile.records import PROVIDERS


def _columns(spec: str) -> list[str]:
    return spec.split(",")


# -- WeChat bill builders ---------------------------------------------------------------------------------------------

WX_HEADER = _columns(
    "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,"
    "应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,"
    "手续费,费率,订单金额,申请退款金额,费率备注"
)
WX_SUMMARY = _columns("总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额")
# The 2014 format from the v2 docs: 24 columns, 总金额 instead of 应结订单金额/订单金额.
WX_OLD_HEADER = _columns(
    "交易时间,公众账号ID,商户号,子商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,"
    "总金额,代金券或立减优惠金额,微信退款单号,商户退款单号,退款金额,代金券或立减优惠退款金额,退款类型,退款状态,商品名称,"
    "商户数据包,手续费,费率"
)
WX_OLD_SUMMARY = _columns("总交易单数,总交易额,总退款金额,总代金券或立减优惠退款金额,手续费总金额")
_WX_SUMMARY_COLUMN = {
    "应结订单总金额": "应结订单金额",
    "订单总金额": "订单金额",
    "总交易额": "总金额",
    "退款总金额": "退款金额",
    "总退款金额": "退款金额",
    "申请退款总金额": "申请退款金额",
    "充值券退款总金额": "充值券退款金额",
    "总代金券或立减优惠退款金额": "代金券或立减优惠退款金额",
    "手续费总金额": "手续费",
}


def wx_pay(out_trade_no: str, amount: str, state: str = "SUCCESS") -> dict[str, str]:
    return {
        "交易时间": "2026-11-21 10:00:00",
        "微信订单号": "42000" + out_trade_no,
        "商户订单号": out_trade_no,
        "交易类型": "MICROPAY",
        "交易状态": state,
        "货币种类": "CNY",
        "应结订单金额": amount,
        "订单金额": amount,
        "总金额": amount,
        "商品名称": "挂号费,内科",  # a comma inside a field must survive
    }


def wx_refund(out_trade_no: str, refund_no: str, amount: str, refund_state: str = "SUCCESS") -> dict[str, str]:
    row = wx_pay(out_trade_no, "0.00", "REFUND")
    row.update({"商户退款单号": refund_no, "退款金额": amount, "申请退款金额": amount, "退款状态": refund_state})
    return row


def wx_bill(
    rows: list[dict[str, str]],
    *,
    header: list[str] = WX_HEADER,
    summary_header: list[str] = WX_SUMMARY,
    override: dict[str, str] | None = None,
    newline: str = "\r\n",
    bom: bool = True,
) -> str:
    def cell(row: dict[str, str], column: str) -> str:
        default = "0.00" if "金额" in column or column == "手续费" else ""
        return "`" + row.get(column, default)

    lines = [",".join(header)]
    lines += [",".join(cell(row, c) for c in header) for row in rows]
    summary = {"总交易单数": str(len(rows))}
    for name in summary_header[1:]:
        column = _WX_SUMMARY_COLUMN[name]
        summary[name] = f"{sum((Decimal(r.get(column) or '0') for r in rows), Decimal('0.00')):.2f}"
    summary.update(override or {})
    lines.append(",".join(summary_header))
    lines.append(",".join("`" + summary[n] for n in summary_header))
    return ("\ufeff" if bom else "") + newline.join(lines) + newline + newline


# -- Alipay bill builders ---------------------------------------------------------------------------------------------

ALI_HEADER = _columns(
    "支付宝交易号,商户订单号,业务类型,商品名称,创建时间,完成时间,门店编号,门店名称,操作员,终端号,对方账户,订单金额（元）,"
    "商家实收（元）,支付宝红包（元）,集分宝（元）,支付宝优惠（元）,商家优惠（元）,券核销金额（元）,券名称,"
    "商家红包消费金额（元）,卡消费金额（元）,退款批次号/请求号,服务费（元）,分润（元）,备注"
)


def ali_row(out_trade_no: str, amount: str, biz: str = "交易", refund_no: str = "") -> dict[str, str]:
    signed = f"-{amount}" if biz == "退款" else amount
    return {
        "支付宝交易号": "2026112122001" + out_trade_no + "\t",  # real bills carry a trailing tab
        "商户订单号": out_trade_no + "\t",
        "业务类型": biz,
        "商品名称": "挂号费 ",
        "创建时间": "2026-11-21 09:00:00",
        "完成时间": "2026-11-21 09:00:05",
        "订单金额（元）": amount,
        "商家实收（元）": signed,
        "退款批次号/请求号": refund_no + ("\t" if refund_no else ""),
    }


def ali_csv(rows: list[dict[str, str]], *, footer: dict[str, tuple[int, str]] | None = None, end: bool = True) -> str:
    lines = [
        "#支付宝业务明细查询",
        "#账号：[20881234567890120156]",
        "#起始日期：[2026年11月21日 00:00:00]   终止日期：[2026年11月22日 00:00:00]",
        "#-----------------------------------------业务明细列表----------------------------------------",
        ",".join(ALI_HEADER),
    ]
    lines += [",".join(row.get(c, "") for c in ALI_HEADER) for row in rows]
    if end:
        totals: dict[str, tuple[int, str]] = {}
        for label in ("交易", "退款"):
            own = [r for r in rows if r["业务类型"] == label]
            totals[label] = (len(own), f"{sum((Decimal(r['商家实收（元）']) for r in own), Decimal('0.00')):.2f}")
        totals.update(footer or {})
        lines += [
            "#-----------------------------------------业务明细列表结束------------------------------------",
            f"#交易合计：{totals['交易'][0]}笔，商家实收：{totals['交易'][1]}元，商家实收（优惠）：0.00元",
            f"#退款合计：{totals['退款'][0]}笔，商家实收退款共{totals['退款'][1]}元，商家优惠退款共0.00元",
            "#导出时间：[2026年11月22日 06:27:10]",
        ]
    return "\r\n".join(lines) + "\r\n"


class _GbkZipInfo(zipfile.ZipInfo):
    """Writes the member name as GBK without the UTF-8 flag, the way Alipay's (Windows-made) zips do."""

    def _encodeFilenameFlags(self) -> tuple[bytes, int]:  # overrides zipfile's private hook
        return self.filename.encode("gbk"), self.flag_bits & ~0x800


def ali_zip(detail: str | bytes, *, name: str = "20881234567890120156_20261121_业务明细.csv") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        body = detail.encode("gbk") if isinstance(detail, str) else detail
        summary = "#支付宝业务汇总查询\r\n门店编号,门店名称,交易订单总笔数\r\n#业务汇总列表结束\r\n".encode("gbk")
        summary_name = name.replace("_业务明细.csv", "_业务明细(汇总).csv") if "业务明细" in name else "summary.csv"
        for member, content in ((name, body), (summary_name, summary)):
            info = _GbkZipInfo(member)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, content)
    return buffer.getvalue()


# -- the mismatch scenario shared by both providers -------------------------------------------------------------------

EXPECTED_FINDINGS = {
    ("paid_but_unknown", "B-pending"),
    ("paid_but_unknown", "C-unknown"),
    ("known_but_unpaid", "D-missing"),
    ("amount_mismatch", "F-amount"),
    ("refunded_but_unknown", "A-ok"),
    ("known_but_unrefunded", "A-ok"),
    ("refund_amount_mismatch", "F-amount"),
}


def scenario_ledger(provider: Any) -> list[LedgerEntry]:
    return [
        LedgerEntry(provider, "A-ok", 1000, "SUCCESS"),
        LedgerEntry(provider, "B-pending", 500, "PENDING"),
        LedgerEntry(provider, "D-missing", 300, "SUCCESS"),
        LedgerEntry(provider, "F-amount", 1230, "SUCCESS"),
        LedgerEntry(provider, "G-reversed", 100, "REVERSED"),
        LedgerEntry(provider, "H-failed", 100, "FAILED"),
        LedgerEntry(provider, "A-ok", 500, "SUCCESS", kind="refund", refund_no="R1"),
        LedgerEntry(provider, "A-ok", 200, "SUCCESS", kind="refund", refund_no="R3"),
        LedgerEntry(provider, "F-amount", 100, "SUCCESS", kind="refund", refund_no="R4"),
        LedgerEntry(provider, "A-ok", 50, "FAILED", kind="refund", refund_no="R5"),
    ]


def kinds(report: Any) -> set[tuple[str, str]]:
    return {(f.kind, f.out_trade_no) for f in report.findings}


def test_wechat_bill_with_every_kind_of_mismatch() -> None:
    rows = [
        wx_pay("A-ok", "10.00"),
        wx_pay("B-pending", "5.00"),
        wx_pay("C-unknown", "1.00"),
        wx_pay("F-amount", "12.03"),
        wx_pay("G-reversed", "1.00", "REVOKED"),
        wx_refund("A-ok", "R1", "5.00"),
        wx_refund("A-ok", "R2", "1.00"),
        wx_refund("F-amount", "R4", "1.10"),
    ]
    bill = parse_wechat_bill(wx_bill(rows).encode())
    report = reconcile(scenario_ledger("wechat"), [bill], "2026-11-21")
    assert kinds(report) == EXPECTED_FINDINGS
    refund_unknown = next(f for f in report.findings if f.kind == "refunded_but_unknown")
    assert (refund_unknown.refund_no, refund_unknown.theirs_cents, refund_unknown.ours_cents) == ("R2", 100, None)
    mismatch = next(f for f in report.findings if f.kind == "amount_mismatch")
    assert (mismatch.ours_cents, mismatch.theirs_cents) == (1230, 1203)
    assert "12.30" in mismatch.reason and "12.03" in mismatch.reason
    pending = next(f for f in report.findings if f.out_trade_no == "B-pending")
    assert "PENDING" in pending.reason
    (wechat,) = report.providers
    assert (wechat.matched_payments, wechat.matched_payment_total) == (1, Decimal("10.00"))
    assert (wechat.matched_refunds, wechat.matched_refund_total) == (1, Decimal("5.00"))
    assert not report.ok


def test_wechat_revoked_order_we_think_paid_is_known_but_unpaid() -> None:
    bill = parse_wechat_bill(wx_bill([wx_pay("E", "2.00", "REVOKED")]))
    report = reconcile([LedgerEntry("wechat", "E", 200, "SUCCESS")], [bill])
    (finding,) = report.findings
    assert finding.kind == "known_but_unpaid"
    assert "REVOKED" in finding.reason


def test_wechat_two_paid_lines_for_one_order_are_an_amount_mismatch() -> None:
    bill = parse_wechat_bill(wx_bill([wx_pay("X", "1.00"), wx_pay("X", "1.00")]))
    report = reconcile([LedgerEntry("wechat", "X", 100, "SUCCESS")], [bill])
    (finding,) = report.findings
    assert (finding.kind, finding.theirs_cents) == ("amount_mismatch", 200)
    assert "2 lines" in finding.reason


def test_alipay_zip_with_every_kind_of_mismatch_and_gbk_names() -> None:
    rows = [
        ali_row("A-ok", "10.00"),
        ali_row("B-pending", "5.00"),
        ali_row("C-unknown", "1.00"),
        ali_row("F-amount", "12.03"),
        ali_row("A-ok", "5.00", "退款", "R1"),
        ali_row("A-ok", "1.00", "退款", "R2"),
        ali_row("F-amount", "1.10", "退款", "R4"),
    ]
    data = ali_zip(ali_csv(rows))
    # The member names really are stored as GBK without the UTF-8 flag, so zipfile alone mis-decodes them.
    raw_names = [i.filename for i in zipfile.ZipFile(io.BytesIO(data)).infolist()]
    assert not any("业务明细" in n for n in raw_names)
    bill = parse_alipay_bill_zip(data)
    assert bill.bill_date == "2026年11月21日 00:00:00"
    assert bill.records[0].out_trade_no == "A-ok"  # trailing tab stripped
    assert bill.records[0].provider_trade_no == "2026112122001A-ok"
    report = reconcile(scenario_ledger("alipay"), [bill])
    assert kinds(report) == EXPECTED_FINDINGS
    (alipay,) = report.providers
    assert (alipay.matched_payments, alipay.matched_payment_total) == (1, Decimal("10.00"))
    assert (alipay.matched_refunds, alipay.matched_refund_total) == (1, Decimal("5.00"))


def test_alipay_refund_without_request_number_pairs_with_our_refund() -> None:
    bill = parse_alipay_detail_csv(ali_csv([ali_row("P", "3.00"), ali_row("P", "3.00", "退款")]))
    ledger = [LedgerEntry("alipay", "P", 300, "SUCCESS"), LedgerEntry("alipay", "P", 300, "SUCCESS", "refund", "P-r1")]
    report = reconcile(ledger, [bill])
    assert report.findings == ()
    assert report.providers[0].matched_refunds == 1


def test_alipay_comma_in_quoted_product_name_and_half_width_headers() -> None:
    text = ali_csv([ali_row("Q", "0.29")]).replace("（元）", "(元)")
    text = text.replace("挂号费 ", '"挂号费,内科"')
    (record,) = parse_alipay_detail_csv(text).records
    assert (record.out_trade_no, record.amount_cents) == ("Q", 29)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"总交易单数": "4"}, "4 transactions"),
        ({"应结订单总金额": "3.01"}, "应结订单总金额"),
        ({"退款总金额": "0.00"}, "退款总金额"),
        ({"订单总金额": "abc"}, "订单总金额"),
    ],
)
def test_wechat_summary_that_does_not_add_up_is_refused(override: dict[str, str], message: str) -> None:
    rows = [wx_pay("A", "1.00"), wx_pay("B", "2.00"), wx_refund("A", "R", "0.50")]
    parse_wechat_bill(wx_bill(rows))  # the honest bill is fine
    with pytest.raises(BillFormatError, match=message):
        parse_wechat_bill(wx_bill(rows, override=override))


def test_truncated_wechat_download_is_refused() -> None:
    text = wx_bill([wx_pay("A", "1.00"), wx_pay("B", "2.00")], bom=False)
    cut = text[: text.index("总交易单数")]
    with pytest.raises(BillFormatError, match="truncated"):
        parse_wechat_bill(cut)
    with pytest.raises(BillFormatError):
        parse_wechat_bill(text[: text.index("`B") + 20])  # cut inside a line
    gz = gzip.compress(text.encode())
    with pytest.raises(BillFormatError, match="truncated"):
        parse_wechat_bill(gz[: len(gz) // 2])


@pytest.mark.parametrize(
    ("footer", "end", "message"),
    [
        ({"交易": (3, "11.00")}, True, "3 交易 lines"),
        ({"交易": (2, "11.01")}, True, "商家实收"),
        ({"退款": (1, "-0.51")}, True, "退款 商家实收"),
        (None, False, "truncated"),
    ],
)
def test_alipay_footer_that_does_not_add_up_is_refused(
    footer: dict[str, tuple[int, str]] | None, end: bool, message: str
) -> None:
    rows = [ali_row("A", "1.00"), ali_row("B", "10.00"), ali_row("A", "0.50", "退款", "R")]
    parse_alipay_bill_zip(ali_zip(ali_csv(rows)))
    with pytest.raises(BillFormatError, match=message):
        parse_alipay_bill_zip(ali_zip(ali_csv(rows, footer=footer, end=end)))


def test_older_wechat_bill_with_fewer_columns() -> None:
    # Verbatim shape of the v2 documentation sample (2014): 24 columns, no BOM, LF line ends.
    text = (
        ",".join(WX_OLD_HEADER) + "\n"
        "`2014-11-10 16:33:45,`wx2421b1c4370ec43b,`10000100,`0,`1000,`1001690740201411100005734289,`1415640626,"
        "`085e9858e3ba5186aafcbaed1,`MICROPAY,`SUCCESS,`CFT,`CNY,`0.01,`0.0,`0,`0,`0,`0,`,`,`被扫支付测试,"
        "`订单额外描述,`0,`0.60%\n"
        "`2014-11-10 16:46:14,`wx2421b1c4370ec43b,`10000100,`0,`1000,`1002780740201411100005729794,`1415635270,"
        "`085e9858e90ca40c0b5aee463,`MICROPAY,`SUCCESS,`CFT,`CNY,`0.01,`0.0,`0,`0,`0,`0,`,`,`被扫支付测试,"
        "`订单额外描述,`0,`0.60%\n"
        + ",".join(WX_OLD_SUMMARY) + "\n"
        "`2,`0.02,`0.0,`0.0,`0\n"
    )
    bill = parse_wechat_bill(text)
    assert [(r.out_trade_no, r.amount_cents, r.settled) for r in bill.records] == [
        ("1415640626", 1, True),
        ("1415635270", 1, True),
    ]
    assert bill.records[0].provider_trade_no == "1001690740201411100005734289"
    with pytest.raises(BillFormatError, match="总交易额"):
        parse_wechat_bill(text.replace("`2,`0.02", "`2,`0.03"))


def test_wechat_columns_are_found_by_name_not_position() -> None:
    header = list(reversed(WX_OLD_HEADER))
    bill = parse_wechat_bill(wx_bill([wx_pay("A", "3.45")], header=header, summary_header=WX_OLD_SUMMARY))
    assert [(r.out_trade_no, r.amount_cents) for r in bill.records] == [("A", 345)]


def test_bom_crlf_and_trailing_blank_lines_are_accepted() -> None:
    rows = [wx_pay("A", "1.00")]
    for text in (wx_bill(rows), wx_bill(rows, newline="\n", bom=False) + "\n\n  \n", wx_bill(rows, newline="\r")):
        assert [r.out_trade_no for r in parse_wechat_bill(text.encode("utf-8")).records] == ["A"]
    assert [r.out_trade_no for r in parse_wechat_bill(gzip.compress(wx_bill(rows).encode())).records] == ["A"]


def test_decimal_exactness() -> None:
    assert yuan_to_cents("0.29") == 29  # (int)(0.29 * 100) == 28 with floats
    assert yuan_to_cents("0.1") + yuan_to_cents("0.2") == yuan_to_cents("0.3") == 30
    assert yuan_to_cents("1.005".rstrip("5")) == 100
    assert yuan_to_cents("-0.01") == -1
    assert format_yuan(30) == "0.30" and format_yuan(-5) == "-0.05" and format_yuan(123456789) == "1234567.89"
    for bad in ("1e3", "NaN", "Infinity", "0.001", "1,00", "", " ", "¥1.00"):
        with pytest.raises(BillFormatError):
            yuan_to_cents(bad)
    # Three 0.10 lines add up to exactly 0.30 on both bills (0.1 * 3 != 0.3 in floats).
    wx = parse_wechat_bill(wx_bill([wx_pay(n, "0.10") for n in "ABC"], override={"应结订单总金额": "0.3"}))
    ali = parse_alipay_detail_csv(ali_csv([ali_row(n, "0.10") for n in "ABC"], footer={"交易": (3, "0.30")}))
    for bill in (wx, ali):
        ledger = [LedgerEntry(bill.provider, n, 10, "SUCCESS") for n in "ABC"]
        provider_report = reconcile(ledger, [bill]).providers[0]
        assert provider_report.matched_payment_total == Decimal("0.30")
        assert provider_report.to_dict()["matched"]["payments"]["total"] == "0.30"


def test_xml_error_answer_is_a_clear_error() -> None:
    no_bill = "<xml><return_code><![CDATA[FAIL]]></return_code><return_msg><![CDATA[No Bill Exist]]></return_msg>" \
        "<error_code><![CDATA[20002]]></error_code></xml>"
    with pytest.raises(BillErrorAnswer, match="No Bill Exist") as caught:
        parse_wechat_bill(no_bill.encode())
    assert caught.value.no_bill and caught.value.return_code == "FAIL" and caught.value.err_code == "20002"
    creating = "\ufeff  <xml><return_code>FAIL</return_code><return_msg>Bill Creating</return_msg></xml>"
    with pytest.raises(BillErrorAnswer, match="Bill Creating") as caught:
        parse_wechat_bill(creating)
    assert not caught.value.no_bill


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\n\n",
        b"hello world",
        b"\x89PNG\r\n\x1a\n\x00\x00",
        "\ufeff交易时间,商户订单号\n".encode(),
        "交易时间,商户订单号,交易状态,订单金额\n`x,`A,`SUCCESS\n总交易单数\n`1\n".encode(),
        "交易时间,商户订单号,交易状态,订单金额\nx,A,SUCCESS,1.00\n总交易单数\n`1\n".encode(),
        "交易时间,商户订单号,交易状态,订单金额\n`x,`A,`SUCCESS,`1.00\n总交易单数\n`1\n`2\n".encode(),
        "交易时间,商户订单号,交易状态,订单金额\n`x,`,`SUCCESS,`1.00\n总交易单数\n`1\n".encode(),
        "交易时间,商户订单号,交易状态,订单金额\n`x,`A,`SUCCESS,`1.00\n总交易单数\n`one\n".encode(),
        "交易时间,商户订单号,交易状态\n`x,`A,`SUCCESS\n总交易单数\n`1\n".encode(),
        b"\x1f\x8bnot really gzip",
        "交易时间,商户订单号".encode("gbk"),
    ],
)
def test_garbage_wechat_input_is_a_clear_error(data: bytes) -> None:
    with pytest.raises(BillFormatError):
        parse_wechat_bill(data)


def test_garbage_alipay_input_is_a_clear_error() -> None:
    for data in (b"", b"<html>expired</html>", b"PK\x03\x04broken", ali_zip("hello", name="x.csv")):
        with pytest.raises(BillFormatError):
            parse_alipay_bill_zip(data)
    for text in ("", "hello,world", "#only comments\n", ali_csv([ali_row("A", "1.00")]).replace("交易,", "冻结,")):
        with pytest.raises(BillFormatError):
            parse_alipay_detail_csv(text)
    with pytest.raises(BillFormatError, match="GBK"):
        parse_alipay_bill_zip(ali_zip(b"\xff\xff\xff\xff"))


def test_oversized_bills_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("server.reconcile.alipay_bill.MAX_BILL_BYTES", 100_000)
    monkeypatch.setattr("server.reconcile.wechat_bill.MAX_BILL_BYTES", 100_000)
    bomb = ali_zip(b"#" * 200_000)  # compresses to a few hundred bytes
    assert len(bomb) < 5_000
    with pytest.raises(BillFormatError, match="refused"):
        parse_alipay_bill_zip(bomb)
    with pytest.raises(BillFormatError, match="refused"):
        parse_wechat_bill(gzip.compress(b"`" * 200_000))


def test_lying_zip_directory_sizes_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """The sizes in the zip directory are attacker-controlled: a member that lies about its size is refused."""
    monkeypatch.setattr("server.reconcile.alipay_bill.MAX_BILL_BYTES", 100_000)
    data = bytearray(ali_zip(b"#" * 200_000))
    archive = zipfile.ZipFile(io.BytesIO(bytes(data)))
    info = archive.infolist()[0]
    real = info.file_size.to_bytes(4, "little")
    fake = (10).to_bytes(4, "little")
    data = bytearray(bytes(data).replace(real, fake))  # local header and central directory both lie now
    assert zipfile.ZipFile(io.BytesIO(bytes(data))).infolist()[0].file_size == 10
    with pytest.raises(BillFormatError, match="cannot read"):
        parse_alipay_bill_zip(bytes(data))


# -- reports ---------------------------------------------------------------------------------------------------------


def _no_floats(value: Any) -> bool:
    if isinstance(value, dict):
        return all(_no_floats(v) for v in value.values())
    if isinstance(value, list):
        return all(_no_floats(v) for v in value)
    return not isinstance(value, float)


def test_report_is_json_with_string_amounts_and_renders_safely() -> None:
    evil = '<script>alert("x")</script>&'
    bill = parse_wechat_bill(wx_bill([wx_pay(evil, "12.30"), wx_pay("OK", "1.00")]))
    ledger = [LedgerEntry("wechat", "OK", 100, "SUCCESS"), LedgerEntry("alipay", "Z", 100, "SUCCESS")]
    report = reconcile(ledger, [bill], "2026-11-21")
    data = json.loads(json.dumps(report.to_dict()))
    assert _no_floats(data)
    assert data["unreconciled_providers"] == ["alipay"]
    (finding,) = data["providers"][0]["findings"]
    assert finding == {
        "kind": "paid_but_unknown",
        "provider": "wechat",
        "out_trade_no": evil,
        "refund_no": "",
        "ours": None,
        "theirs": "12.30",
        "reason": "the bill shows 12.30 settled; not in our ledger",
    }
    assert data["providers"][0]["matched"] == {
        "payments": {"count": 1, "total": "1.00"},
        "refunds": {"count": 0, "total": "0.00"},
    }
    html = render_html(report)
    assert "<script>" not in html and "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;" in html
    assert html.startswith('<section class="reconcile-report">') and html.endswith("</section>")
    text = render_text(report)
    assert "paid_but_unknown" in text and "12.30" in text and "not reconciled (no bill): alipay" in text


def test_clean_report_says_ok() -> None:
    report = reconcile([LedgerEntry("wechat", "A", 100, "SUCCESS")], [parse_wechat_bill(wx_bill([wx_pay("A", "1")]))])
    assert report.ok and report.findings == ()
    assert render_text(report).startswith("Reconciliation (no date): OK")
    assert "<table>" not in render_html(report)


def test_ledger_from_payment_rows_and_day_bounds() -> None:
    rows = [
        {"channel": "wechat", "out_trade_no": "K1", "amount_cents": 100, "status": "SUCCESS"},
        {"channel": "unionpay", "out_trade_no": "K2", "amount_cents": 100, "status": "FAILED"},
        {"channel": "alipay", "out_trade_no": "K3", "amount_cents": 250, "status": "PENDING"},
    ]
    assert ledger_from_payment_rows(rows) == [
        LedgerEntry("wechat", "K1", 100, "SUCCESS"),
        LedgerEntry("alipay", "K3", 250, "PENDING"),
    ]
    start, end = china_day_bounds_utc(date(2026, 11, 21))
    assert start == datetime(2026, 11, 20, 16, tzinfo=UTC) and end == datetime(2026, 11, 21, 16, tzinfo=UTC)


def test_misuse_is_refused() -> None:
    bill = parse_wechat_bill(wx_bill([wx_pay("A", "1.00")]))
    with pytest.raises(ValueError, match="twice"):
        reconcile([LedgerEntry("wechat", "A", 100, "SUCCESS")] * 2, [bill])
    with pytest.raises(ValueError, match="two wechat bills"):
        reconcile([], [bill, bill])


# -- properties -------------------------------------------------------------------------------------------------------

_amounts = st.integers(min_value=0, max_value=10**9)
_orders = st.dictionaries(st.from_regex(r"K[0-9a-f]{6}", fullmatch=True), _amounts, max_size=15)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(orders=_orders, refund_share=st.integers(min_value=0, max_value=100))
def test_a_bill_that_matches_the_ledger_has_no_findings(orders: dict[str, int], refund_share: int) -> None:
    ledger = []
    wx_rows, ali_rows = [], []
    for n, (no, cents) in enumerate(sorted(orders.items())):
        yuan = format_yuan(cents)
        wx_rows.append(wx_pay(no, yuan))
        ali_rows.append(ali_row(no, yuan))
        for provider in PROVIDERS:
            ledger.append(LedgerEntry(provider, no, cents, "SUCCESS"))
        if n % 2:
            refund = cents * refund_share // 100
            wx_rows.append(wx_refund(no, f"{no}-r", format_yuan(refund)))
            ali_rows.append(ali_row(no, format_yuan(refund), "退款", f"{no}-r"))
            for provider in PROVIDERS:
                ledger.append(LedgerEntry(provider, no, refund, "SUCCESS", "refund", f"{no}-r"))
    bills: list[ParsedBill] = [parse_wechat_bill(wx_bill(wx_rows)), parse_alipay_bill_zip(ali_zip(ali_csv(ali_rows)))]
    report = reconcile(ledger, bills)
    assert report.findings == () and report.ok
    for provider_report in report.providers:
        assert provider_report.matched_payments == len(orders)
        assert provider_report.matched_payment_cents == sum(orders.values())


@settings(max_examples=60, deadline=None)
@given(orders=_orders, drop=st.integers(min_value=0, max_value=14), delta=st.integers(min_value=1, max_value=99))
def test_one_changed_amount_is_exactly_one_finding(orders: dict[str, int], drop: int, delta: int) -> None:
    if not orders:
        return
    names = sorted(orders)
    victim = names[drop % len(names)]
    rows = [wx_pay(no, format_yuan(cents + (delta if no == victim else 0))) for no, cents in sorted(orders.items())]
    ledger = [LedgerEntry("wechat", no, cents, "SUCCESS") for no, cents in orders.items()]
    report = reconcile(ledger, [parse_wechat_bill(wx_bill(rows))])
    assert [(f.kind, f.out_trade_no, f.theirs_cents) for f in report.findings] == [
        ("amount_mismatch", victim, orders[victim] + delta)
    ]


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_arbitrary_bytes_never_crash_the_parsers(data: bytes) -> None:
    for parse in (parse_wechat_bill, parse_alipay_bill_zip):
        with contextlib.suppress(BillFormatError):
            parse(data)


@settings(max_examples=100, deadline=None)
@given(prefix=st.text(alphabet="`,0123456789.总交易单数\n\r ", max_size=120))
def test_bill_shaped_noise_never_crashes(prefix: str) -> None:
    text = ",".join(WX_HEADER) + "\n" + prefix
    with contextlib.suppress(BillFormatError):
        parse_wechat_bill(text)
    with contextlib.suppress(BillFormatError):
        parse_alipay_detail_csv(",".join(ALI_HEADER) + "\n" + prefix)
