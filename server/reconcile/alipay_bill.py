"""Alipay daily trade bill parser (the zip behind ``alipay.data.dataservice.bill.downloadurl.query``).

The zip holds GBK CSV files with Chinese names: ``<pid>_<date>_业务明细.csv`` (detail) and ``..._业务明细(汇总).csv``.
The detail file: ``#`` comment lines, the header (支付宝交易号,...), rows whose fields may carry trailing spaces or
tabs, the end marker ``#---...业务明细列表结束...---``, then footer lines with counts and totals that the rows must
match (protocols.md §3.6).
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
import zlib

from server.reconcile.records import (
    MAX_BILL_BYTES,
    BillFormatError,
    ParsedBill,
    ProviderRecord,
    format_yuan,
    yuan_to_cents,
)

DETAIL_SUFFIX = "_业务明细.csv"
SUMMARY_SUFFIX = "_业务明细(汇总).csv"
_MAX_MEMBERS = 64  # a real bill zip has two members
_END_MARKER = "业务明细列表结束"
_COL_TRADE_NO = "支付宝交易号"
_COL_OUT_TRADE_NO = "商户订单号"
_COL_TYPE = "业务类型"
# The amount we asked for (total_amount) is 订单金额. A refund line states the money sent back as a negative
# 商家实收, which is also what the footer adds up.
_COL_ORDER_AMOUNT = "订单金额（元）"
_COL_RECEIVED = "商家实收（元）"
_COL_REFUND_NO = "退款批次号/请求号"
# Both separators occur: "商家实收：X元" and "商家实收共X元"; the refund line says "商家实收退款共-X元".
_FOOTER_RE = re.compile(
    r"^#+(交易|退款)合计[：:]\s*(\d+)\s*笔[，,]\s*商家实收(?:退款)?[：:共]?\s*([+-]?\d+(?:\.\d+)?)\s*元"
)
_START_DATE_RE = re.compile(r"起始日期[：:]\s*\[([^\]]*)\]")


def decode_member_name(info: zipfile.ZipInfo) -> str:
    """The real member name: Alipay's zips store GBK names without the UTF-8 flag, which zipfile reads as cp437."""
    if info.flag_bits & 0x800:
        return info.filename
    try:
        return info.filename.encode("cp437").decode("gbk")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return info.filename


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    # Read at most one byte past the cap: the size stated in the zip directory can lie.
    try:
        with archive.open(info) as member:
            raw = member.read(MAX_BILL_BYTES + 1)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, ValueError) as exc:
        raise BillFormatError(f"Alipay bill zip: cannot read {decode_member_name(info)!r} ({exc})") from None
    if len(raw) > MAX_BILL_BYTES:
        raise BillFormatError(f"Alipay bill zip: a member is larger than {MAX_BILL_BYTES} bytes, refused")
    return raw


def _decode_csv(raw: bytes) -> str:
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8", errors="strict")
    try:
        return raw.decode("gb18030")  # a superset of GBK, so rare characters in 商品名称 still decode
    except UnicodeDecodeError as exc:
        raise BillFormatError(f"Alipay bill: the detail file is not GBK text (byte {exc.start})") from None


def parse_alipay_bill_zip(data: bytes) -> ParsedBill:
    """Parse the downloaded zip bytes into a verified ParsedBill; BillFormatError for anything else."""
    if len(data) > MAX_BILL_BYTES:
        raise BillFormatError(f"Alipay bill zip larger than {MAX_BILL_BYTES} bytes, refused")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, EOFError) as exc:
        # An expired download URL (valid 30 s) answers an error page instead of the zip.
        raise BillFormatError(f"Alipay bill: not a zip file ({exc}); starts with {data[:40]!r}") from None
    with archive:
        infos = archive.infolist()
        if len(infos) > _MAX_MEMBERS:
            raise BillFormatError(f"Alipay bill zip has {len(infos)} members, refused")
        if sum(i.file_size for i in infos) > MAX_BILL_BYTES:
            raise BillFormatError(f"Alipay bill zip expands beyond {MAX_BILL_BYTES} bytes, refused")
        details = [i for i in infos if decode_member_name(i).rsplit("/", 1)[-1].endswith(DETAIL_SUFFIX)]
        if len(details) != 1:
            names = [decode_member_name(i) for i in infos]
            raise BillFormatError(f"Alipay bill zip: expected one *{DETAIL_SUFFIX} member, found {names}")
        text = _decode_csv(_read_member(archive, details[0]))
    return parse_alipay_detail_csv(text)


def _header_name(text: str) -> str:
    # Half- and full-width parentheses both occur in exports; compare in one form.
    return text.strip().replace("(", "（").replace(")", "）")


def _cents(row: dict[str, str], column: str, line_no: int) -> int:
    value = row.get(column, "")
    if value == "":
        return 0
    try:
        return yuan_to_cents(value)
    except BillFormatError as exc:
        raise BillFormatError(f"Alipay bill line {line_no}, {column}: {exc}") from None


def _record(row: dict[str, str], line_no: int) -> ProviderRecord:
    out_trade_no = row.get(_COL_OUT_TRADE_NO, "")
    biz_type = row.get(_COL_TYPE, "")
    if not out_trade_no:
        raise BillFormatError(f"Alipay bill line {line_no}: 商户订单号 is empty")
    common_trade_no = row.get(_COL_TRADE_NO, "")
    time = row.get("完成时间", "") or row.get("创建时间", "")
    if biz_type.startswith("退款"):
        return ProviderRecord(
            provider="alipay",
            kind="refund",
            out_trade_no=out_trade_no,
            amount_cents=abs(_cents(row, _COL_RECEIVED, line_no)),
            settled=True,  # the trade bill lists only completed refunds
            status=biz_type,
            provider_trade_no=common_trade_no,
            refund_no=row.get(_COL_REFUND_NO, ""),
            time=time,
            line_no=line_no,
        )
    if biz_type.startswith("交易"):
        return ProviderRecord(
            provider="alipay",
            kind="payment",
            out_trade_no=out_trade_no,
            amount_cents=_cents(row, _COL_ORDER_AMOUNT, line_no),
            settled=True,  # the trade bill lists only paid trades
            status=biz_type,
            provider_trade_no=common_trade_no,
            time=time,
            line_no=line_no,
        )
    raise BillFormatError(f"Alipay bill line {line_no}: unknown 业务类型 {biz_type!r}")


def _check_footer(
    footer: dict[str, tuple[int, int]], rows: list[dict[str, str]], records: list[ProviderRecord]
) -> None:
    for label, kind in (("交易", "payment"), ("退款", "refund")):
        if label not in footer:
            continue
        count, stated = footer[label]
        own = [row for row, rec in zip(rows, records, strict=True) if rec.kind == kind]
        if count != len(own):
            raise BillFormatError(f"Alipay bill footer says {count} {label} lines but the bill has {len(own)}")
        total = sum(_cents(row, _COL_RECEIVED, 0) for row in own)
        # The refund total is printed negative in some exports and positive in others; the size must agree.
        if abs(stated) != abs(total):
            raise BillFormatError(
                f"Alipay bill footer {label} 商家实收 is {format_yuan(stated)} but the lines add up to "
                f"{format_yuan(total)}"
            )


def parse_alipay_detail_csv(text: str) -> ParsedBill:
    """Parse the decoded text of a ``*_业务明细.csv`` file and check it against its footer."""
    header: list[str] | None = None
    bill_date = ""
    ended = False
    footer: dict[str, tuple[int, int]] = {}
    rows: list[dict[str, str]] = []
    records: list[ProviderRecord] = []
    for line_no, line in enumerate(text.lstrip("\ufeff").splitlines(), start=1):
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith("#"):
            if header is None:
                match = _START_DATE_RE.search(stripped)
                bill_date = match.group(1).strip() if match else bill_date
            elif not ended:
                if _END_MARKER not in stripped:
                    raise BillFormatError(f"Alipay bill line {line_no}: unexpected comment inside the list")
                ended = True
            else:
                match = _FOOTER_RE.match(stripped)
                if match:
                    try:
                        footer[match.group(1)] = (int(match.group(2)), yuan_to_cents(match.group(3)))
                    except BillFormatError as exc:
                        raise BillFormatError(f"Alipay bill footer line {line_no}: {exc}") from None
            continue
        if ended:
            raise BillFormatError(f"Alipay bill line {line_no}: data after the end of the detail list")
        fields = [f.strip() for f in next(csv.reader([line]))]
        if header is None:
            if _header_name(fields[0]) != _COL_TRADE_NO:
                raise BillFormatError(f"not an Alipay detail bill: line {line_no} is {stripped[:60]!r}")
            header = [_header_name(f) for f in fields]
            missing = {_COL_OUT_TRADE_NO, _COL_TYPE, _COL_ORDER_AMOUNT, _COL_RECEIVED} - set(header)
            if missing:
                raise BillFormatError(f"Alipay bill header lacks {sorted(missing)}")
            continue
        # A trailing comma adds one empty field; a short line is a damaged one.
        if len(fields) < len(header) or any(fields[len(header) :]):
            raise BillFormatError(f"Alipay bill line {line_no}: {len(fields)} fields, the header has {len(header)}")
        row = dict(zip(header, fields, strict=False))
        rows.append(row)
        records.append(_record(row, line_no))
    if header is None:
        raise BillFormatError("not an Alipay detail bill: no 支付宝交易号 header line")
    if not ended:
        raise BillFormatError("Alipay bill has no 业务明细列表结束 line: the file looks truncated")
    _check_footer(footer, rows, records)
    summary = {f"{label}合计": f"{count}笔, {format_yuan(cents)}" for label, (count, cents) in footer.items()}
    return ParsedBill(provider="alipay", records=tuple(records), bill_date=bill_date, summary=summary)
