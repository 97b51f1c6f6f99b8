"""What the top-up receipt (预交金充值凭条) says. Only masked identity data ever reaches paper."""

from __future__ import annotations

from devices.printer import Receipt
from kiosk_app.flows.identify import Patient
from sync.client import TopUpResult

_CHANNELS = {"wechat": "微信支付 WeChat Pay", "alipay": "支付宝 Alipay"}


def _yuan(cents: int) -> str:
    return f"￥{cents // 100}.{cents % 100:02d}"


def topup_receipt(
    *, job_id: str, hospital: str, kiosk_id: str, patient: Patient, result: TopUpResult, printed_at: str
) -> Receipt:
    card = (("就诊卡号 Card no.", patient.visit_card_no),) if patient.visit_card_no else ()
    return Receipt(
        job_id=job_id,
        title=f"{hospital}\n预交金充值凭条",
        lines=(
            ("患者 Patient", f"{patient.name_masked} {patient.id_masked}"),
            *card,
            ("充值金额 Top-up", _yuan(result.amount_cents)),
            ("支付方式 Paid by", _CHANNELS.get(result.channel, result.channel)),
            ("充值后余额 Balance", _yuan(result.balance_cents)),
            # The payment's key: what staff look the top-up up by, never a payment code.
            ("交易参考 Reference", result.idempotency_key[-12:]),
        ),
        footer=(
            f"终端：{kiosk_id}",
            f"打印时间：{printed_at}",
            "余额可用于自助缴费；退余额请到收费窗口。",
            "Prepaid account top-up. The balance pays bills at any kiosk.",
        ),
    )
