"""A lab or imaging report on the receipt printer: a long receipt, masked identity only.

Lab rows read "item  result(↑/↓) unit [reference range]", so an abnormal value stands out even
on a 58 mm roll; the arrows are in GB 2312. A reprint says so in its title and names its copy
number and reason, as the print-back record on the server does.
"""

from __future__ import annotations

from devices.printer import Receipt
from sync.client import ReportContent, ReportTicket

_ARROWS = {"H": "↑", "L": "↓"}
REASON_TEXT = {"lost": "遗失", "damaged": "损坏", "for_doctor": "转诊/他院就诊"}


def _when(iso: str | None) -> str:
    return (iso or "").replace("T", " ")[:16]


def _lab_rows(content: ReportContent) -> tuple[tuple[str, str], ...]:
    header = (("项目", "结果 单位 [参考范围]"),)
    rows = tuple(
        (row.item_zh, f"{row.result}{_ARROWS.get(row.flag, '')} {row.unit} [{row.range}]".strip())
        for row in content.rows
    )
    return (*header, *rows)


def _imaging_rows(content: ReportContent) -> tuple[tuple[str, str], ...]:
    return (
        ("检查方法", content.exam_zh),
        ("检查所见", content.findings_zh),
        ("诊断意见", content.impression_zh),
    )


def report_receipt(
    ticket: ReportTicket, *, job_id: str, hospital: str, kiosk_id: str, patient_masked: str, printed_at: str
) -> Receipt:
    report, content, copy = ticket.report, ticket.content, ticket.copy
    lab = report.kind == "lab"
    kind = "检验报告单" if lab else "检查报告单"
    reprint = copy.copy_kind == "reprint"
    copy_text = f"第{copy.copy_no}份"
    if reprint:
        copy_text += f"（补打：{REASON_TEXT.get(copy.reprint_reason or '', copy.reprint_reason or '')}）"
    head: tuple[tuple[str, str], ...] = (
        ("报告单号", report.report_no),
        ("患者", patient_masked),
        ("项目" if lab else "检查项目", report.title_zh),
        ("科室", report.department_name_zh or ""),
    )
    if lab and content.specimen_zh:
        head += (("标本", content.specimen_zh),)
    head += (("申请时间", _when(report.ordered_at)), ("报告时间", _when(report.ready_at)))
    body = _lab_rows(content) if lab else _imaging_rows(content)
    tail = (("审核", content.signed_by_zh), ("份数", copy_text))
    legend = ("↑ 高于参考范围  ↓ 低于参考范围",) if lab else ()
    return Receipt(
        job_id=job_id,
        title=f"{hospital}\n{kind}{'（补打）' if reprint else ''}",
        lines=(*head, ("", "-" * 12), *body, ("", "-" * 12), *tail),
        footer=(
            *legend,
            f"终端：{kiosk_id}",
            f"打印时间：{printed_at}",
            "结果请结合临床，如有疑问请咨询您的医生。",
            "Please ask your doctor about these results.",
        ),
        qr=f"RPT:{report.report_no}:{copy.copy_no}",
    )
