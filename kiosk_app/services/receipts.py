"""What a registration receipt says. Only masked identity data ever reaches paper."""

from __future__ import annotations

from devices.printer import Receipt
from sync.client import Registration


def registration_receipt(
    *, job_id: str, hospital: str, kiosk_id: str, patient_masked: str, registration: Registration, printed_at: str
) -> Receipt:
    reg = registration
    yuan = f"￥{reg.amount_cents // 100}.{reg.amount_cents % 100:02d}"
    return Receipt(
        job_id=job_id,
        title=f"{hospital}\n挂号凭条",
        lines=(
            ("挂号序号", reg.reg_no),
            ("就诊科室", reg.department_name_zh),
            ("医生", f"{reg.doctor_name_zh}（{reg.doctor_title_zh}）"),
            ("就诊时间", f"{reg.date} {reg.start}–{reg.end}"),
            ("患者", patient_masked),
            ("挂号费", yuan),
            ("支付状态", "已支付"),
        ),
        footer=(f"终端：{kiosk_id}", f"打印时间：{printed_at}", "请妥善保管，凭此单到诊室候诊。"),
        qr=f"REG:{reg.registration_id}:{reg.reg_no}",
    )
