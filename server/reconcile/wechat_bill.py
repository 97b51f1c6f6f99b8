"""WeChat Pay v2 ``downloadbill`` (bill_type=ALL) parser.

Format (protocols.md §3.6): optional BOM, a header line, one line per transaction with every field prefixed by a
back-tick, then the summary header (总交易单数,...) and one back-ticked summary line. Columns changed over the years
(总金额 -> 应结订单金额/订单金额, 企业红包 -> 代金券/充值券), so everything is looked up by header name.
"""

from __future__ import annotations

import re
import zlib
from decimal import Decimal, InvalidOperation

from server.reconcile.records import (
    MAX_BILL_BYTES,
    BillErrorAnswer,
    BillFormatError,
    ParsedBill,
    ProviderRecord,
    format_yuan,
    yuan_to_cents,
)

_SUMMARY_FIRST = "总交易单数"
# The amount we charged (total_fee): 订单金额 in current bills, 总金额 in old ones. 应结订单金额 excludes
# non-recharge coupons, so it is only the last resort for a bill that has neither.
_PAYMENT_AMOUNT_COLUMNS = ("订单金额", "总金额", "应结订单金额")
# The amount we asked to refund (refund_fee) is 申请退款金额; 退款金额 excludes coupon parts, same fallback idea.
_REFUND_AMOUNT_COLUMNS = ("申请退款金额", "退款金额")
# Summary total -> detail column it adds up, for current and old bills.
_SUMMARY_TO_COLUMN = {
    "应结订单总金额": "应结订单金额",
    "订单总金额": "订单金额",
    "总交易额": "总金额",
    "退款总金额": "退款金额",
    "总退款金额": "退款金额",
    "申请退款总金额": "申请退款金额",
    "充值券退款总金额": "充值券退款金额",
    "总企业红包退款金额": "企业红包退款金额",
    "总代金券或立减优惠退款金额": "代金券或立减优惠退款金额",
    "手续费总金额": "手续费",
}
_ORDER_SIDE_COLUMNS = frozenset(_PAYMENT_AMOUNT_COLUMNS)
# Fees (手续费) are quoted to 5 decimals, finer than a cent: never converted to cents.
_SUB_CENT_COLUMNS = frozenset({"手续费"})
# A refund in progress is money the provider has committed to send back, so it counts as refunded.
_REFUND_MONEY_MOVED = frozenset({"SUCCESS", "PROCESSING"})
_XML_FIELD = re.compile(
    r"<(return_code|return_msg|err_code|error_code)>\s*(?:<!\[CDATA\[)?(.*?)(?:\]\]>)?\s*</\1>", re.S
)


def _decode(data: bytes | str) -> str:
    if isinstance(data, str):
        return data
    if data[:2] == b"\x1f\x8b":  # tar_type=GZIP
        inflater = zlib.decompressobj(wbits=31)
        try:
            raw = inflater.decompress(data, MAX_BILL_BYTES + 1)
        except zlib.error as exc:
            raise BillFormatError(f"WeChat bill: broken gzip data ({exc})") from None
        if len(raw) > MAX_BILL_BYTES:
            raise BillFormatError(f"WeChat bill: more than {MAX_BILL_BYTES} bytes uncompressed, refused")
        if not inflater.eof:
            raise BillFormatError("WeChat bill: gzip data ends early (truncated download)")
        data = raw
    if len(data) > MAX_BILL_BYTES:
        raise BillFormatError(f"WeChat bill: more than {MAX_BILL_BYTES} bytes, refused")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BillFormatError(f"WeChat bill: not UTF-8 text (byte {exc.start})") from None


def _raise_if_error_answer(text: str) -> None:
    head = text.lstrip()[:20].lower()
    if not (head.startswith("<xml") or head.startswith("<?xml")):
        return
    # A regex, not an XML parser: this is only for the message, and a parser would be attack surface.
    fields = {name: value.strip() for name, value in _XML_FIELD.findall(text[:4096])}
    code = fields.get("return_code", "")
    msg = fields.get("return_msg", "")
    err = fields.get("err_code") or fields.get("error_code", "")
    raise BillErrorAnswer(
        f"WeChat answered an error instead of a bill: return_code={code or '?'} return_msg={msg or '?'}"
        + (f" err_code={err}" if err else ""),
        return_code=code,
        return_msg=msg,
        err_code=err,
    )


def _backticked(line: str, width: int, line_no: int) -> list[str]:
    if not line.startswith("`"):
        raise BillFormatError(f"WeChat bill line {line_no}: fields are not back-tick prefixed: {line[:60]!r}")
    # Splitting on ",`" rather than "," keeps commas inside 商品名称/商户数据包 intact.
    fields = [f.strip() for f in line[1:].split(",`")]
    if len(fields) != width:
        raise BillFormatError(f"WeChat bill line {line_no}: {len(fields)} fields, the header has {width}")
    return fields


def _first_present(row: dict[str, str], columns: tuple[str, ...]) -> str | None:
    for column in columns:
        if column in row and row[column] != "":
            return column
    return None


def _amount(row: dict[str, str], column: str, line_no: int) -> int:
    value = row.get(column, "")
    if value == "":
        return 0  # optional columns (coupons, fees) are sometimes left empty
    try:
        return yuan_to_cents(value)
    except BillFormatError as exc:
        raise BillFormatError(f"WeChat bill line {line_no}, {column}: {exc}") from None


def _record(row: dict[str, str], line_no: int) -> ProviderRecord:
    out_trade_no = row.get("商户订单号", "")
    state = row.get("交易状态", "").upper()
    if not out_trade_no or not state:
        raise BillFormatError(f"WeChat bill line {line_no}: 商户订单号 or 交易状态 is empty")
    trade_no = row.get("微信订单号", "")
    time = row.get("交易时间", "")
    if state == "REFUND":
        column = _first_present(row, _REFUND_AMOUNT_COLUMNS)
        if column is None:
            raise BillFormatError(f"WeChat bill line {line_no}: a REFUND line without a refund amount")
        refund_state = row.get("退款状态", "").upper() or "SUCCESS"
        return ProviderRecord(
            provider="wechat",
            kind="refund",
            out_trade_no=out_trade_no,
            amount_cents=_amount(row, column, line_no),
            settled=refund_state in _REFUND_MONEY_MOVED,
            status=refund_state,
            provider_trade_no=trade_no,
            refund_no=row.get("商户退款单号", ""),
            time=time,
            line_no=line_no,
        )
    column = _first_present(row, _PAYMENT_AMOUNT_COLUMNS)
    if column is None:
        raise BillFormatError(f"WeChat bill line {line_no}: no order amount")
    # Only SUCCESS is money kept; REVOKED (reversed), CLOSED, NOTPAY, PAYERROR are not.
    return ProviderRecord(
        provider="wechat",
        kind="payment",
        out_trade_no=out_trade_no,
        amount_cents=_amount(row, column, line_no),
        settled=state == "SUCCESS",
        status=state,
        provider_trade_no=trade_no,
        time=time,
        line_no=line_no,
    )


def _check_sub_cent_total(name: str, stated_text: str, values: list[str]) -> None:
    """Fees are written to 5 decimals (sub-cent); compare in Decimal at the stated total's precision."""
    try:
        stated = Decimal(stated_text or "0")
        computed = sum((Decimal(v) for v in values if v != ""), Decimal(0))
    except InvalidOperation:
        raise BillFormatError(f"WeChat bill summary, {name}: not a decimal amount") from None
    if not stated.is_finite() or computed.quantize(stated) != stated:
        raise BillFormatError(f"WeChat bill summary {name} is {stated_text} but the lines add up to {computed}")


def _check_summary(summary: dict[str, str], rows: list[tuple[int, dict[str, str]]], header: list[str]) -> None:
    """The summary must add up, so that a truncated or edited download is never reconciled as complete."""
    try:
        count = int(summary.get(_SUMMARY_FIRST, ""))
    except ValueError:
        stated_count = summary.get(_SUMMARY_FIRST)
        raise BillFormatError(f"WeChat bill summary: 总交易单数 is not a number: {stated_count!r}") from None
    if count != len(rows):
        raise BillFormatError(f"WeChat bill summary says {count} transactions but the bill has {len(rows)} lines")
    for name, column in _SUMMARY_TO_COLUMN.items():
        if name not in summary or column not in header:
            continue
        if column in _SUB_CENT_COLUMNS:
            _check_sub_cent_total(name, summary[name], [r.get(column, "") for _, r in rows])
            continue
        try:
            stated = yuan_to_cents(summary[name]) if summary[name] else 0
        except BillFormatError as exc:
            raise BillFormatError(f"WeChat bill summary, {name}: {exc}") from None
        everything = sum(_amount(r, column, n) for n, r in rows)
        accepted = {everything}
        if column in _ORDER_SIDE_COLUMNS:
            # Bills differ on whether a REFUND line repeats the original order amount and whether the total
            # includes it; both readings are consistent bills, anything else is not.
            accepted.add(sum(_amount(r, column, n) for n, r in rows if r.get("交易状态", "").upper() != "REFUND"))
        if stated not in accepted:
            raise BillFormatError(
                f"WeChat bill summary {name} is {format_yuan(stated)} but the lines add up to {format_yuan(everything)}"
            )


def parse_wechat_bill(data: bytes | str) -> ParsedBill:
    """Parse a ``downloadbill`` answer (text, UTF-8 bytes or gzip bytes) into a verified ParsedBill.

    Raises BillErrorAnswer for an XML error answer and BillFormatError for anything malformed or incomplete.
    """
    text = _decode(data).lstrip("\ufeff")
    _raise_if_error_answer(text)
    numbered = [(i, line.strip("\r\n\ufeff")) for i, line in enumerate(text.splitlines(), start=1)]
    lines = [(i, line) for i, line in numbered if line.strip()]
    if not lines:
        raise BillFormatError("WeChat bill is empty")
    header = [h.strip().lstrip("`") for h in lines[0][1].split(",")]
    if "商户订单号" not in header or "交易状态" not in header:
        raise BillFormatError(f"not a WeChat bill: the header has no 商户订单号/交易状态: {lines[0][1][:80]!r}")
    summary_at = next((k for k, (_, line) in enumerate(lines) if line.startswith(_SUMMARY_FIRST)), None)
    if summary_at is None:
        raise BillFormatError("WeChat bill has no summary (总交易单数...): the download looks truncated")
    tail = lines[summary_at + 1 :]
    if len(tail) != 1:
        raise BillFormatError(f"WeChat bill: expected one summary values line, found {len(tail)}")
    summary_header = [h.strip() for h in lines[summary_at][1].split(",")]
    summary = dict(zip(summary_header, _backticked(tail[0][1], len(summary_header), tail[0][0]), strict=True))

    rows: list[tuple[int, dict[str, str]]] = []
    records: list[ProviderRecord] = []
    for line_no, line in lines[1:summary_at]:
        row = dict(zip(header, _backticked(line, len(header), line_no), strict=True))
        rows.append((line_no, row))
        records.append(_record(row, line_no))
    _check_summary(summary, rows, header)
    return ParsedBill(provider="wechat", records=tuple(records), summary=summary)
