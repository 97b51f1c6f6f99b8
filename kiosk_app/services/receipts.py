"""What a registration receipt and a filing slip say, and printing a slip once. Only masked
identity data ever reaches paper."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol

from devices.errors import DeviceError
from devices.printer import Receipt
from offline_cache.journal import Journal
from sync.client import Registration, mask_phone

log = logging.getLogger(__name__)

# The hospital visit-card QR: what the scanner will later read to find the patient.
VISIT_CARD_QR = "HVC:"

_VERIFIED_BY = {"face": "人脸核验 Face check", "staff": "窗口人工核验 Staff check", "card": "证件核验 Card check"}


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


def filing_slip(
    *,
    job_id: str,
    hospital: str,
    kiosk_id: str,
    name_masked: str,
    id_masked: str,
    phone: str,
    printed_at: str,
    visit_card_no: str | None = None,
    provisional_no: str | None = None,
    verification: str | None = None,
) -> Receipt:
    """The 建档凭条: the new visit-card number, or for a filing queued offline a provisional number.

    Give exactly one of ``visit_card_no`` (the server's answer) and ``provisional_no`` (queued
    offline, not confirmed yet). ``phone`` may be given in full: it is masked here, so a caller
    cannot put a whole number on paper by mistake.
    """
    if (visit_card_no is None) == (provisional_no is None):
        raise ValueError("give exactly one of visit_card_no and provisional_no")
    patient = (
        ("姓名 Name", name_masked),
        ("证件号 ID", id_masked),
        ("手机号 Phone", mask_phone(phone.strip())),
    )
    checked = (("身份核验", _VERIFIED_BY[verification]),) if verification in _VERIFIED_BY else ()
    printed = (f"终端：{kiosk_id}", f"打印时间：{printed_at}")
    if provisional_no is not None:
        # No HVC code: it would read as a real card before the server has created the record.
        return Receipt(
            job_id=job_id,
            title=f"{hospital}\n建档凭条（待确认）",
            lines=(
                ("临时编号", provisional_no),
                ("状态", "待确认 Pending confirmation"),
                *patient,
                *checked,
            ),
            footer=(
                *printed,
                "网络恢复后系统自动建档；就诊卡号可凭身份证在自助机或服务窗口查询。",
                "Patient record slip: your visit card number follows once the hospital system confirms.",
            ),
            qr=f"PENDING:{kiosk_id}:{provisional_no}",
        )
    assert visit_card_no is not None
    # Only the title prints in double size (devices/printer), so the number rides in it to be large.
    return Receipt(
        job_id=job_id,
        title=f"{hospital}\n建档凭条\n{visit_card_no}",
        lines=(("就诊卡号 Card no.", visit_card_no), *patient, *checked),
        footer=(*printed, "Patient record slip. 请妥善保管，凭就诊卡号或二维码挂号、缴费。"),
        qr=f"{VISIT_CARD_QR}{visit_card_no}",
    )


class SlipPrinter(Protocol):
    def print_receipt(self, receipt: Receipt) -> None: ...


@dataclass(frozen=True)
class Printed:
    ok: bool
    tr_key: str = ""  # why not, for the screen


def print_once(journal: Journal, printer: SlipPrinter | None, receipt: Receipt, txn_id: str) -> Printed:
    """Print ``receipt`` unless its job already printed (or may have: a crash mid-print).

    Like the registration receipt: the job is claimed in the journal first, so a retry, a double tap
    or a restart never puts a second slip out; a job left mid-print is for staff to reprint.
    """
    claim = journal.claim_print(receipt.job_id, txn_id, {"title": receipt.title, "lines": receipt.lines})
    if not claim.allowed:
        log.warning("print job %s not printed again (already printed: %s)", receipt.job_id, claim.already_printed)
        return Printed(True) if claim.already_printed else Printed(False, "printer.needs_staff")
    if printer is None:
        journal.finish_print(receipt.job_id, ok=False, error_code="printer_disabled")
        return Printed(False, "printer.unavailable")
    try:
        printer.print_receipt(receipt)
    except DeviceError as err:
        log.warning("slip %s failed: %s", receipt.job_id, err.code)
        journal.finish_print(receipt.job_id, ok=False, error_code=err.code)
        return Printed(False, err.tr_key)
    journal.finish_print(receipt.job_id, ok=True)
    return Printed(True)
