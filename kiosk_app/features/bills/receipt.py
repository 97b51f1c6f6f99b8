"""The bill payment receipt (缴费凭条): what was paid, the insurance and self-pay shares, how.

Only masked identity data reaches paper; the payment is named by the last characters of its key
(enough for the cashier to find it, useless to anyone else).
"""

from __future__ import annotations

from devices.printer import Receipt
from kiosk_app.flows.identify import Patient
from sync.client import BillLock

METHODS = {  # short: the value column of an 80 mm receipt is narrow
    "code": "付款码",
    "wechat": "微信扫码",
    "alipay": "支付宝扫码",
    "account": "预交金",
    "covered": "医保全额支付",
}
KINDS = {"prescription": "处方", "lab": "检验", "imaging": "检查", "treatment": "治疗"}


def yuan(cents: int | None) -> str:
    cents = cents or 0
    return f"￥{cents // 100}.{cents % 100:02d}"


def bill_receipt(
    *, job_id: str, hospital: str, kiosk_id: str, patient: Patient, lock: BillLock, method: str, printed_at: str
) -> Receipt:
    items = tuple(
        (f"{KINDS.get(b.kind, b.kind)} {b.bill_no}", f"{b.title_zh} {yuan(b.total_cents)}") for b in lock.bills
    )
    shares = (
        ("费用合计", yuan(lock.total_cents)),
        ("医保支付", yuan(lock.insurance_cents)),
        ("个人支付", yuan(lock.self_pay_cents)),
        ("支付方式", METHODS.get(method, method)),
        ("交易参考", lock.payment_key[-8:]),
    )
    return Receipt(
        job_id=job_id,
        title=f"{hospital}\n门诊缴费凭条",
        lines=(("患者", f"{patient.name_masked}  {patient.id_masked}"), *items, *shares),
        footer=(
            f"终端：{kiosk_id}",
            f"打印时间：{printed_at}",
            "请凭此单到药房取药或到检查科室登记。",
            "Bill payment receipt: take it to the pharmacy or the examination department.",
        ),
        qr=f"PAY:{lock.payment_key}",
    )
