"""The 退号凭条: what was handed back, how much goes back where, and the refund's state. Masked identity only."""

from __future__ import annotations

from devices.printer import Receipt
from kiosk_app.features.refund.flow import Outcome
from sync.client import RefundableRegistration, RefundResult

_CHANNELS = {"wechat": "微信支付 WeChat Pay", "alipay": "支付宝 Alipay"}
_STATES = {
    Outcome.REFUNDED: "已退款 Refunded",
    Outcome.PENDING: "退款处理中 Refund in progress",
    Outcome.FAILED: "请到收费窗口办理退款 See the cashier for the refund",
    Outcome.UNKNOWN: "退款待确认 To be confirmed",
}


def yuan(cents: int) -> str:
    return f"￥{cents // 100}.{cents % 100:02d}"


def refund_slip(
    *,
    job_id: str,
    hospital: str,
    kiosk_id: str,
    patient_masked: str,
    item: RefundableRegistration,
    outcome: Outcome,
    refund: RefundResult | None,
    refund_key: str,
    printed_at: str,
) -> Receipt:
    reg = item.registration
    amount = refund.amount_cents if refund is not None else item.refundable_cents
    channel = refund.channel if refund is not None else item.channel or ""
    footer = [f"终端：{kiosk_id}", f"打印时间：{printed_at}"]
    if outcome is Outcome.REFUNDED or outcome is Outcome.PENDING:
        footer.append("款项原路退回，到账时间以支付平台为准。Refunds go back to the account that paid.")
    else:
        footer.append("号已退，退款请凭此单到收费窗口查询。Registration cancelled; show this slip at the cashier.")
    return Receipt(
        job_id=job_id,
        title=f"{hospital}\n退号凭条",
        lines=(
            ("挂号序号", reg.reg_no),
            ("就诊科室", reg.department_name_zh),
            ("医生", f"{reg.doctor_name_zh}（{reg.doctor_title_zh}）"),
            ("就诊时间", f"{reg.date} {reg.start}–{reg.end}"),
            ("患者", patient_masked),
            ("状态", "已退号 Cancelled"),
            ("退款金额", yuan(amount)),
            ("退回账户", "原路退回 " + _CHANNELS.get(channel, channel)),
            ("退款状态", _STATES[outcome]),
            ("退款单号", refund_key),
        ),
        footer=tuple(footer),
        qr=f"REFUND:{refund_key}",
    )
