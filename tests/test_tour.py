"""`python main.py --demo --tour DIR` walks the slice unattended, as a newcomer would run it."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk_app.demo import DEMO_FACE_CLIP

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_tour_writes_every_screen_and_the_receipt(tmp_path: Path) -> None:
    out = tmp_path / "tour"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "KIOSK_CONFIG": str(ROOT / "config" / "kiosk.toml")}
    config = tmp_path / "kiosk.toml"
    config.write_text(
        (ROOT / "config" / "kiosk.toml")
        .read_text(encoding="utf-8")
        .replace('data_dir = "var"', f'data_dir = "{tmp_path / "var"}"'),
        encoding="utf-8",
    )
    proc = subprocess.run(
        [sys.executable, "main.py", "--demo", "--tour", str(out), "--config", str(config)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,  # every flow of issues #2-#7, each screen in both languages: minutes on 2 cores
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    shots = sorted(p.name for p in out.glob("*.png"))
    for name in (
        "01_home",
        "03_card_pulled_away",
        "08_pay",
        "09_not_a_payment_code",
        "10_confirm_on_phone",
        "11_done",
        "08_pay_en",
        "09_payment_failed_en",
        "11_done_paper_out_en",
        "12_idle_countdown_en",
        "14_offline_slots",
        "15_offline_pending",
        "16_back_online",
        "30_filing_identify",
        "31_filing_consent",
        "31_filing_consent_en",
        "36_filing_phone_typing",
        "36_filing_phone_invalid_en",
        "37_filing_done",
        "37_filing_paper_out_en",
        "37_filing_reprinted_en",
        "38_filing_no_photo_en",
        "38_filing_staff_done_en",
        "39_filing_already_en",
        # Issue #7: each service, the shared identification and the cashier window.
        "40_checkin_list_en",
        "43_checkin_done_en",
        "45_bills_list_en",
        "47_bills_presettle_en",
        "48_bills_qr_en",
        "50_bills_paid_en",
        "53_bills_code_refused",
        "55_reports_list_en",
        "56_reports_paper_out_en",
        "58_reports_reason_en",
        "60_topup_balance_en",
        "63_topup_done_en",
        "65_refund_list_en",
        "67_refund_done_en",
        "70_reprint_list_en",
        "72_reprint_limit_en",
        "75_identify",
        "76_identify_no_record",
        "78_identified_by_evoucher",
        "80_cashier_signin_en",
        "84_cashier_cash_en",
        "87_cashier_approve_en",
        "88_cashier_report_en",
    ):
        assert f"{name}.png" in shots
        # Every screen in both languages (a walk's shot and its re-rendered twin).
        twin = name.replace("_en", "", 1) if "_en" in name else f"{name}_en"
        assert f"{twin}.png" in shots, twin
    # No text cut off on any screen, in either language. A few pixels short of the label's own
    # line height is allowed: the font's line gap absorbs them (every glyph still shows).
    cut = (out / "cut_labels.txt").read_text(encoding="utf-8").splitlines()
    short = [line for line in cut if int(line.rsplit(" ", 1)[1]) - int(line.rsplit(" ", 3)[1]) > 8]
    assert short == [], short
    if DEMO_FACE_CLIP.is_file():  # the real-face clip beside the repository drives the camera
        for name in ("32_filing_face_failed", "33_filing_camera_hint", "34_filing_challenge", "34_filing_challenge_en"):
            assert f"{name}.png" in shots
    slip = (out / "filing_slip.txt").read_text(encoding="utf-8")
    assert "建档凭条" in slip and "就诊卡号" in slip and "110108198507" not in slip
    receipt = (out / "receipt.txt").read_text(encoding="utf-8")
    assert "挂号凭条" in receipt and "￥" in receipt and "[QR REG:" in receipt
    assert "110***********" in receipt and "11010119800101" not in receipt
    pending = (out / "receipt_pending.txt").read_text(encoding="utf-8")
    assert "待确认" in pending and "临时序号" in pending and "310101194803" not in pending
    for slip in ("bill_receipt", "topup_receipt", "refund_slip", "report_receipt", "checkin_slip", "cashier_receipt"):
        text = (out / f"{slip}.txt").read_text(encoding="utf-8")
        assert "11010119800101" not in text and "张三" not in text, slip  # masked on every slip
    log = (tmp_path / "var" / "tour" / "log" / "kiosk.log").read_text(encoding="utf-8")
    assert "11010119800101" not in log and "张三" not in log
    assert "110108198507" not in log and "李明" not in log and "13800138000" not in log
