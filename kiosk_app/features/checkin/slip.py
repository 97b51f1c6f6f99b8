"""The check-in slip (预约取号凭条): the queue number in large print, the visit, masked identity.

Its QR code is the registration's (``REG:<id>:<number>``), as on the registration receipt, so the
receipt reprint and the refund at the window read it the same way.
"""

from __future__ import annotations

from devices.printer import Receipt
from sync.client import Registration


def checkin_slip(
    *,
    job_id: str,
    hospital: str,
    kiosk_id: str,
    patient_masked: str,
    registration: Registration,
    queue_no: int,
    appt_no: str,
    prepaid: bool,
    printed_at: str,
) -> Receipt:
    reg = registration
    fee = f"￥{reg.amount_cents // 100}.{reg.amount_cents % 100:02d}"
    paid = "已支付（预约时）" if prepaid else "已支付"
    # Only the title prints in double size (devices/printer), so the queue number rides in it.
    return Receipt(
        job_id=job_id,
        title=f"{hospital}\n预约取号凭条\n{queue_no}号",
        lines=(
            ("候诊序号", f"{queue_no}号"),
            ("挂号序号", reg.reg_no),
            ("预约单号", appt_no),
            ("就诊科室", reg.department_name_zh),
            ("医生", f"{reg.doctor_name_zh}（{reg.doctor_title_zh}）"),
            ("就诊时间", f"{reg.date} {reg.start}–{reg.end}"),
            ("患者", patient_masked),
            ("挂号费", fee),
            ("支付状态", paid),
        ),
        footer=(
            f"终端：{kiosk_id}",
            f"打印时间：{printed_at}",
            f"请到{reg.department_name_zh}候诊区等候叫号。",
            "Checked in: please wait in the department's waiting area for your number.",
        ),
        qr=f"REG:{reg.registration_id}:{reg.reg_no}",
    )
