"""What the window prints: the patient's receipt (收费凭条), the refund slip (退费凭条) and the
shift report (交班报表). Masked identity only; a POS reference and keys are not secrets."""

from __future__ import annotations

from devices.printer import Receipt
from kiosk_app.flows.identify import Patient
from sync.client import CashierQuote, CashierRefund, CashierShift, RecentPayment, Settlement, ShiftReport

CHANNEL_NAMES = {
    "code": "付款码 Payment code",
    "wechat": "微信支付 WeChat Pay",
    "alipay": "支付宝 Alipay",
    "cash": "现金 Cash",
    "card": "银行卡 Bank card",
}
REFUND_STATES = {
    "refunded": "已退款 Refunded",
    "pending": "退款处理中 In progress",
    "failed": "退款未成功，请联系财务 Not refunded: see finance",
    "unknown": "退款待确认 To be confirmed",
}
MISMATCH_NAMES = {
    "missing_on_server": "终端有、中心无 Kiosk only",
    "missing_on_kiosk": "中心有、终端无 Server only",
    "amount_differs": "金额不符 Amount differs",
    "channel_differs": "方式不符 Channel differs",
    "status_differs": "状态不符 Status differs",
    "payment_missing": "缺支付记录 Payment missing",
    "payment_amount": "支付金额不符 Payment amount",
    "unresolved": "未完结 Unresolved",
}


def yuan(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    return f"{sign}￥{cents // 100}.{cents % 100:02d}"


def _cashier(shift: CashierShift) -> str:
    return f"{shift.window_label or shift.kiosk_id}  工号 {shift.staff_no}"


def settlement_receipt(
    *, job_id: str, hospital: str, shift: CashierShift, patient: Patient, quote: CashierQuote, settlement: Settlement,
    printed_at: str,
) -> Receipt:  # fmt: skip
    lines: list[tuple[str, str]] = [
        ("患者", f"{patient.name_masked}  {patient.id_masked}"),
        ("就诊卡号", patient.visit_card_no),
    ]
    lines += [(b.title_zh, yuan(b.total_cents)) for b in quote.bills]
    lines += [(f"挂号 {r.department_name_zh} {r.reg_no}", yuan(r.amount_cents)) for r in quote.registrations]
    if quote.insurance_cents:
        lines.append(("医保统筹支付", yuan(quote.insurance_cents)))
    lines += [("个人支付", yuan(settlement.amount_cents)), ("支付方式", CHANNEL_NAMES.get(settlement.channel, "-"))]
    if settlement.channel == "cash" and settlement.tendered_cents is not None:
        lines += [("实收", yuan(settlement.tendered_cents)), ("找零", yuan(settlement.change_cents or 0))]
    if settlement.channel == "card" and settlement.pos_ref:
        lines.append(("POS参考号", settlement.pos_ref))
    lines += [("收费窗口", _cashier(shift)), ("流水号", settlement.key)]
    return Receipt(
        job_id=job_id,
        title=f"{hospital}\n门诊收费凭条",
        lines=tuple(lines),
        footer=(f"打印时间：{printed_at}", "请妥善保管，退费时出示。Keep this receipt for any refund."),
        qr=f"SETTLE:{settlement.key}",
    )


def refund_slip(
    *, job_id: str, hospital: str, shift: CashierShift, patient: Patient, payment: RecentPayment,
    refund: CashierRefund, outcome: str, printed_at: str,
) -> Receipt:  # fmt: skip
    back = "现金退还 Cash handed back" if refund.channel == "cash" else "原路退回 To the account that paid"
    lines = [
        ("患者", f"{patient.name_masked}  {patient.id_masked}"),
        ("原收费", f"{payment.title_zh}  {yuan(payment.amount_cents)}"),
        ("原支付方式", CHANNEL_NAMES.get(payment.channel, payment.channel)),
        ("退费金额", yuan(refund.amount_cents)),
        ("退费原因", refund.reason),
        ("退回方式", back),
        ("退费状态", REFUND_STATES.get(outcome, outcome)),
        ("审批主管", f"工号 {refund.approved_by}"),
        ("收费窗口", _cashier(shift)),
        ("退费单号", refund.refund_key),
    ]
    if refund.pos_ref:
        lines.insert(6, ("POS退款参考号", refund.pos_ref))
    return Receipt(
        job_id=job_id,
        title=f"{hospital}\n退费凭条",
        lines=tuple(lines),
        footer=(f"打印时间：{printed_at}",),
        qr=f"REFUND:{refund.refund_key}",
    )


def report_receipt(*, job_id: str, hospital: str, report: ShiftReport, printed_at: str) -> Receipt:
    shift = report.shift
    lines: list[tuple[str, str]] = [
        ("收费窗口", _cashier(shift)),
        ("开班", shift.opened_at.replace("T", " ")[:19]),
        ("交班", (shift.closed_at or "-").replace("T", " ")[:19]),
    ]
    for channel in ("code", "cash", "card"):
        t = report.totals.get(channel)
        if t is not None:
            lines.append((CHANNEL_NAMES[channel], f"{t.count} 笔  {yuan(t.amount_cents)}"))
    lines += [
        ("退费", f"{report.refund_count} 笔  {yuan(-report.refund_cents)}"),
        ("交易笔数", str(report.transaction_count)),
        ("净收", yuan(report.net_cents)),
        ("现金应有", yuan(report.cash_expected_cents)),
    ]
    if report.cash_counted_cents is not None:
        lines += [("现金实点", yuan(report.cash_counted_cents)), ("现金差额", yuan(report.cash_difference_cents or 0))]
    lines.append(("对账结果", "一致 Reconciled" if report.ok else f"{len(report.mismatches)} 处不符 Mismatches"))
    lines += [(MISMATCH_NAMES.get(m.kind, m.kind), m.key[-12:]) for m in report.mismatches]
    return Receipt(
        job_id=job_id,
        title=f"{hospital}\n收费员交班报表",
        lines=tuple(lines),
        footer=(f"打印时间：{printed_at}", "收费员签字 Cashier: ________  主管签字 Supervisor: ________"),
        qr=f"SHIFT:{shift.kiosk_id}:{shift.shift_id}",
    )
