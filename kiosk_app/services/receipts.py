"""What a registration receipt says. Only masked identity data ever reaches paper."""

from __future__ import annotations

from devices.printer import Receipt
from sync.client import Registration


def registration_receipt(
    *, job_id: str, hospital: str, kiosk_id: str, patient_masked: str, registration: Registration, printed_at: str
) -> Receipt:
    reg = registration
    yuan = f"￥{reg.amount_cents // 100}.{reg.amount_cents % 100:02d}"
    visit = (
        ("就诊科室", reg.department_name_zh),
        ("医生", f"{reg.doctor_name_zh}（{reg.doctor_title_zh}）"),
        ("就诊时间", f"{reg.date} {reg.start}–{reg.end}"),
        ("患者", patient_masked),
        ("挂号费", yuan),
    )
    printed = (f"终端：{kiosk_id}", f"打印时间：{printed_at}")
    if reg.status == "pending":
        # Queued while the hospital system was unreachable: not yet confirmed, not paid.
        return Receipt(
            job_id=job_id,
            title=f"{hospital}\n挂号凭条（待确认）",
            lines=(
                ("临时序号", reg.reg_no),
                *visit,
                ("状态", "待确认 Pending confirmation"),
                ("支付状态", "未支付，请到收费窗口缴费"),
            ),
            footer=(
                *printed,
                "网络恢复后系统自动确认；如号源已满，工作人员将联系您改约。",
                "Please pay at the cashier window with this slip.",
            ),
            qr=f"PENDING:{kiosk_id}:{reg.reg_no}",
        )
    return Receipt(
        job_id=job_id,
        title=f"{hospital}\n挂号凭条",
        lines=(("挂号序号", reg.reg_no), *visit, ("支付状态", "已支付")),
        footer=(*printed, "请妥善保管，凭此单到诊室候诊。"),
        qr=f"REG:{reg.registration_id}:{reg.reg_no}",
    )
