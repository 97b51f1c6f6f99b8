"""Bill payment (缴费) through the real widgets (pytest-qt): the emulated ID reader, scanner and printer,
the real server with the demo patients' bills and its WeChat / Alipay sandboxes.

The QR code the kiosk shows is read back off the screen (OpenCV's QR detector on the widget's
pixels) and "paid by the patient's phone" through the sandbox, so what is paid is what was shown.
"""

from __future__ import annotations

import gc
import os
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
import requests
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton

import kiosk_app.app
from devices.emulators.idcard import sample_cards
from kiosk_app.app import Kiosk, build
from kiosk_app.config import Config
from kiosk_app.demo import DEMO_CODES
from kiosk_app.features import load as load_features
from kiosk_app.features.bills.flow import LIST, PAY, PRESETTLE, QR, RESULT, Outcome, PrintState
from kiosk_app.features.bills.qr_view import QrCodeView
from offline_cache import journal as J
from server.settings import ServerSettings
from server.testing import ServerThread
from sync.signing import KioskAuth

WAIT_MS = 20_000
ZHANGSAN = sample_cards()["zhangsan"]


def start_server(tmp_path: Path, **overrides: Any) -> ServerThread:
    settings = replace(ServerSettings(db_path=tmp_path / "server" / "server.db"), seed_demo_patients=True, **overrides)
    return ServerThread(settings.with_fast_payments())


@pytest.fixture
def demo_server(tmp_path: Path) -> Iterator[ServerThread]:
    with start_server(tmp_path) as srv:
        yield srv


def make_kiosk(
    qapp: Any,
    tmp_path: Path,
    srv: ServerThread,
    id_reader_emu: Any,
    scanner_emu: Any,
    printer_emu: Any,
    pay_deadline_s: float = 90.0,
) -> Kiosk:
    config = replace(
        Config(
            data_dir=tmp_path / "kiosk",
            server_url=srv.base_url,
            pay_poll_interval_s=0.2,
            pay_deadline_s=pay_deadline_s,
        ),
        language="zh_CN",
    ).with_devices(id_reader=id_reader_emu.url, scanner=scanner_emu.url, printer=printer_emu.url)
    srv.write_credential(config.kiosk_id, config.credential_path)
    k = build(config, qapp)
    k.window.setFixedSize(720, 1280)
    k.window.show()
    k.start_devices()
    return k


@pytest.fixture
def kiosk(
    qapp, tmp_path: Path, demo_server: ServerThread, id_reader_emu, scanner_emu, printer_emu, monkeypatch
) -> Iterator[Kiosk]:
    # Only this slice's feature: the others are built alongside in the same tree and tested on their own.
    monkeypatch.setattr(kiosk_app.app, "load_features", lambda: load_features(("bills",)))
    k = make_kiosk(qapp, tmp_path, demo_server, id_reader_emu, scanner_emu, printer_emu)
    yield k
    k.shutdown()
    qapp.removeEventFilter(k.idle)
    # The closed window is collected here, not in the middle of the next test's event loop, where
    # PySide6 has been seen to crash collecting a previous kiosk's widgets.
    gc.collect()


def click(qtbot: Any, button: QPushButton) -> None:
    assert button.isVisible() and button.isEnabled(), button.text()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def settled(k: Kiosk, step: str) -> bool:
    flow = k.controller.flow
    return flow.step == step and not flow.busy and k.tasks.pending == 0


def showing_qr(k: Kiosk) -> bool:
    """The QR step with a live code on screen (a status poll is always running meanwhile)."""
    flow, view = k.controller.flow, k.window.screens[QR].code
    return flow.step == QR and not flow.busy and flow.qr is not None and view.isVisible() and bool(view.text)


def screen(k: Kiosk, step: str) -> Any:
    return k.window.screens[step]


def banner(k: Kiosk) -> str:
    return str(k.window.banner.text())


def start(qtbot: Any, k: Kiosk) -> None:
    click(qtbot, k.window.screens["home"].feature_buttons["bills"])
    qtbot.waitUntil(lambda: k.controller.flow.step == "bills.identify", timeout=WAIT_MS)


def by_card(qtbot: Any, k: Kiosk, id_reader_emu: Any) -> None:
    start(qtbot, k)
    id_reader_emu.place_card(ZHANGSAN)
    qtbot.waitUntil(lambda: settled(k, LIST), timeout=WAIT_MS)
    id_reader_emu.remove_card()


def by_evoucher(qtbot: Any, k: Kiosk, srv: ServerThread, scanner_emu: Any) -> None:
    """Identify with the insurance e-voucher: the pre-settlement then applies the insurance."""
    start(qtbot, k)
    patient_id = patient_id_of(srv)
    token = requests.post(f"{srv.base_url}/sandbox/insurance/evoucher", json={"patient_id": patient_id}, timeout=5)
    scanner_emu.scan(token.json()["token"])
    qtbot.waitUntil(lambda: settled(k, LIST), timeout=WAIT_MS)


def patient_id_of(srv: ServerThread) -> int:
    assert srv.app is not None
    with srv.app.state.db.connection() as conn:
        return int(conn.execute("SELECT patient_id FROM bills ORDER BY id LIMIT 1").fetchone()[0])


def bill_button(k: Kiosk, title_zh: str) -> QPushButton:
    for button in screen(k, LIST).buttons:
        if button.isVisible() and title_zh in button.text():
            return button
    raise AssertionError(f"no bill {title_zh} on the list")


def bill_statuses(srv: ServerThread) -> dict[str, str]:
    assert srv.app is not None
    with srv.app.state.db.connection() as conn:
        return {r[0]: r[1] for r in conn.execute("SELECT title_zh, status FROM bills")}


def to_presettle(qtbot: Any, k: Kiosk) -> None:
    click(qtbot, screen(k, LIST).pay_button)
    qtbot.waitUntil(lambda: settled(k, PRESETTLE), timeout=WAIT_MS)


def read_qr(view: QrCodeView) -> str:
    """What a phone camera reads off the kiosk's screen."""
    image = view.grab().toImage().convertToFormat(view.grab().toImage().Format.Format_Grayscale8)
    width, height, stride = image.width(), image.height(), image.bytesPerLine()
    pixels = np.frombuffer(image.constBits(), np.uint8, count=stride * height).reshape(height, stride)[:, :width]
    text, _points, _ = cv2.QRCodeDetector().detectAndDecode(np.ascontiguousarray(pixels))
    return str(text)


def phone(srv: ServerThread, provider: str, action: str, code_url: str) -> requests.Response:
    if provider == "wechat":
        return requests.post(
            f"{srv.base_url}/sandbox/wxpay/test/native/{action}", json={"code_url": code_url}, timeout=5
        )
    return requests.post(f"{srv.base_url}/sandbox/alipay/test/qr/{action}", json={"qr_code": code_url}, timeout=5)


# ---- paying by code ----------------------------------------------------------------------------------


def test_two_of_three_bills_paid_by_code_and_the_receipt_printed_once(
    qtbot, kiosk: Kiosk, demo_server: ServerThread, id_reader_emu, scanner_emu, printer_emu
) -> None:
    by_card(qtbot, kiosk, id_reader_emu)
    flow = kiosk.controller.flow
    assert len(flow.bills) == 3 and flow.selected_total == 5710 + 5500 + 10500
    assert "☑" in bill_button(kiosk, "检查申请").text()
    click(qtbot, bill_button(kiosk, "检查申请"))  # leave the chest X-ray for later
    assert "☐" in bill_button(kiosk, "检查申请").text() and flow.selected_total == 5710 + 5500
    assert screen(kiosk, LIST).hint.isVisible()  # by ID card: no insurance, and the screen says so
    to_presettle(qtbot, kiosk)
    assert flow.lock.insurance_cents == 0 and screen(kiosk, PRESETTLE).amount.text() == "¥112.10"
    assert not screen(kiosk, PRESETTLE).account_button.isVisible()  # no face identification
    click(qtbot, screen(kiosk, PRESETTLE).code_button)
    qtbot.waitUntil(lambda: settled(kiosk, PAY), timeout=WAIT_MS)
    scanner_emu.scan(DEMO_CODES["not_payment"])
    qtbot.waitUntil(lambda: flow.message == "pay.not_payment_code", timeout=WAIT_MS)
    scanner_emu.scan(DEMO_CODES["userpaying"])
    qtbot.waitUntil(lambda: settled(kiosk, RESULT) and flow.print_state is PrintState.PRINTED, timeout=WAIT_MS)
    assert flow.outcome is Outcome.PAID and screen(kiosk, RESULT).title.text() == "已支付"
    (job,) = printer_emu.wait_for_jobs(1)
    assert "门诊缴费凭条" in job.text and "112.10" in job.text and "张*" in job.text and "张三" not in job.text
    assert job.qr == [f"PAY:{flow.lock.payment_key}"]
    statuses = bill_statuses(demo_server)
    assert (statuses["内科处方"], statuses["检验申请：血常规、C反应蛋白"], statuses["检查申请：胸部DR"]) == (
        "paid",
        "paid",
        "unpaid",
    )
    row = kiosk.journal.get(flow.txn_id)
    assert row is not None and (row["kind"], row["state"], row["payment_status"]) == ("bill_payment", J.PAID, "SUCCESS")
    click(qtbot, screen(kiosk, RESULT).done)
    assert kiosk.controller.flow.at_home and len(printer_emu.jobs) == 1


def test_a_refused_code_locks_again_and_another_code_pays(
    qtbot, kiosk: Kiosk, demo_server: ServerThread, id_reader_emu, scanner_emu, printer_emu
) -> None:
    by_card(qtbot, kiosk, id_reader_emu)
    flow = kiosk.controller.flow
    to_presettle(qtbot, kiosk)
    first_key = flow.lock.payment_key
    click(qtbot, screen(kiosk, PRESETTLE).code_button)
    scanner_emu.scan(DEMO_CODES["insufficient"])
    qtbot.waitUntil(lambda: settled(kiosk, PRESETTLE) and flow.lock is not None, timeout=WAIT_MS)
    assert flow.lock.payment_key != first_key and "余额" in banner(kiosk)
    click(qtbot, screen(kiosk, PRESETTLE).code_button)
    scanner_emu.scan(DEMO_CODES["success"])
    qtbot.waitUntil(lambda: settled(kiosk, RESULT), timeout=WAIT_MS)
    assert flow.outcome is Outcome.PAID and set(bill_statuses(demo_server).values()) >= {"paid"}


def test_a_bill_paid_elsewhere_meanwhile_refreshes_the_list(
    qtbot, kiosk: Kiosk, demo_server: ServerThread, id_reader_emu
) -> None:
    by_card(qtbot, kiosk, id_reader_emu)
    flow = kiosk.controller.flow
    lab = next(b for b in flow.bills if b.kind == "lab")
    client = kiosk.client
    key = str(uuid.uuid4())  # the cashier window takes the lab order in the meantime
    lock = client.lock_bills(key, lab.patient_id, [(lab.bill_id, lab.version)], None)
    assert client.pay_bill(key, lab.bill_id, lock.self_pay_cents or 0, DEMO_CODES["success"]).status == "SUCCESS"
    click(qtbot, screen(kiosk, LIST).pay_button)
    qtbot.waitUntil(lambda: settled(kiosk, LIST) and flow.message == "bills.refused.already_paid", timeout=WAIT_MS)
    assert [b.kind for b in flow.bills] == ["prescription", "imaging"] and "已在别处支付" not in banner(kiosk)
    assert banner(kiosk)  # the reason is on screen
    to_presettle(qtbot, kiosk)  # the fresh list pays
    assert flow.lock is not None and len(flow.lock.bills) == 2


def test_network_loss_before_the_code_sends_the_patient_to_the_cashier(
    qtbot, kiosk: Kiosk, id_reader_emu, scanner_emu, closed_port_url: str
) -> None:
    by_card(qtbot, kiosk, id_reader_emu)
    flow = kiosk.controller.flow
    to_presettle(qtbot, kiosk)
    click(qtbot, screen(kiosk, PRESETTLE).code_button)
    kiosk.client.base_url = closed_port_url  # the network goes away
    scanner_emu.scan(DEMO_CODES["success"])
    qtbot.waitUntil(lambda: settled(kiosk, RESULT), timeout=WAIT_MS)
    assert (flow.outcome, flow.message) == (Outcome.CASHIER, "pay.offline_cashier")
    row = kiosk.journal.get(flow.txn_id)
    assert row is not None and row["payment_status"] == "NOT_SENT"


def test_printer_out_of_paper_then_one_reprint(qtbot, kiosk: Kiosk, id_reader_emu, scanner_emu, printer_emu) -> None:
    by_card(qtbot, kiosk, id_reader_emu)
    flow = kiosk.controller.flow
    to_presettle(qtbot, kiosk)
    printer_emu.set_state(paper_end=True)
    click(qtbot, screen(kiosk, PRESETTLE).code_button)
    scanner_emu.scan(DEMO_CODES["success"])
    qtbot.waitUntil(lambda: settled(kiosk, RESULT) and flow.print_state is PrintState.FAILED, timeout=WAIT_MS)
    assert flow.outcome is Outcome.PAID and screen(kiosk, RESULT).reprint.isVisible()
    printer_emu.set_state()
    click(qtbot, screen(kiosk, RESULT).reprint)
    qtbot.waitUntil(lambda: flow.print_state is PrintState.PRINTED, timeout=WAIT_MS)
    assert len(printer_emu.wait_for_jobs(1)) == 1 and not screen(kiosk, RESULT).reprint.isVisible()


# ---- a QR code the patient scans ------------------------------------------------------------------


@pytest.mark.parametrize("provider", ["wechat", "alipay"])
def test_insured_patient_scans_the_kiosk_qr_and_pays(
    qtbot, kiosk: Kiosk, demo_server: ServerThread, scanner_emu, printer_emu, provider: str
) -> None:
    by_evoucher(qtbot, kiosk, demo_server, scanner_emu)
    flow = kiosk.controller.flow
    assert not screen(kiosk, LIST).hint.isVisible()  # insured: no "self-paid" warning
    to_presettle(qtbot, kiosk)
    assert flow.lock.insurance_cents > 0 and flow.lock.self_pay_cents < flow.lock.total_cents
    button = screen(kiosk, PRESETTLE).wechat_button if provider == "wechat" else screen(kiosk, PRESETTLE).alipay_button
    click(qtbot, button)
    view = screen(kiosk, QR).code
    qtbot.waitUntil(lambda: showing_qr(kiosk), timeout=WAIT_MS)
    shown = read_qr(view)
    assert shown == flow.qr.code_url
    assert "剩余" in screen(kiosk, QR).countdown.text()
    assert phone(demo_server, provider, "scan", shown).status_code == 200
    qtbot.waitUntil(lambda: flow.message == "pay.userpaying", timeout=WAIT_MS)
    assert kiosk.controller.flow.home() == [] and flow.step == QR  # no Home while the code can be paid
    assert phone(demo_server, provider, "pay", shown).status_code == 200
    qtbot.waitUntil(lambda: settled(kiosk, RESULT) and flow.print_state is PrintState.PRINTED, timeout=WAIT_MS)
    (job,) = printer_emu.wait_for_jobs(1)
    assert "医保支付" in job.text and ("微信扫码" if provider == "wechat" else "支付宝扫码") in job.text


def test_cancel_the_qr_then_pay_by_code(
    qtbot, kiosk: Kiosk, demo_server: ServerThread, id_reader_emu, scanner_emu
) -> None:
    by_card(qtbot, kiosk, id_reader_emu)
    flow = kiosk.controller.flow
    to_presettle(qtbot, kiosk)
    click(qtbot, screen(kiosk, PRESETTLE).alipay_button)
    view = screen(kiosk, QR).code
    qtbot.waitUntil(lambda: showing_qr(kiosk), timeout=WAIT_MS)
    shown, qr_key = view.text, flow.lock.payment_key
    click(qtbot, screen(kiosk, QR).cancel_button)
    qtbot.waitUntil(lambda: settled(kiosk, PRESETTLE) and flow.lock is not None, timeout=WAIT_MS)
    assert flow.message == "bills.qr_cancelled" and flow.lock.payment_key != qr_key
    assert phone(demo_server, "alipay", "pay", shown).status_code == 409  # the cancelled code cannot be paid
    click(qtbot, screen(kiosk, PRESETTLE).code_button)
    scanner_emu.scan(DEMO_CODES["success"])
    qtbot.waitUntil(lambda: settled(kiosk, RESULT), timeout=WAIT_MS)
    assert flow.outcome is Outcome.PAID


def test_paid_while_cancelling_counts_as_paid(qtbot, kiosk: Kiosk, demo_server: ServerThread, id_reader_emu) -> None:
    by_card(qtbot, kiosk, id_reader_emu)
    flow = kiosk.controller.flow
    to_presettle(qtbot, kiosk)
    click(qtbot, screen(kiosk, PRESETTLE).wechat_button)
    view = screen(kiosk, QR).code
    qtbot.waitUntil(lambda: showing_qr(kiosk), timeout=WAIT_MS)
    assert phone(demo_server, "wechat", "pay", view.text).status_code == 200  # paid before the kiosk's next look
    click(qtbot, screen(kiosk, QR).cancel_button)
    qtbot.waitUntil(lambda: settled(kiosk, RESULT), timeout=WAIT_MS)
    assert flow.outcome is Outcome.PAID


def test_an_expired_qr_is_closed_and_the_patient_chooses_again(
    qtbot, qapp, tmp_path: Path, id_reader_emu, scanner_emu, printer_emu, monkeypatch
) -> None:
    monkeypatch.setattr(kiosk_app.app, "load_features", lambda: load_features(("bills",)))
    with start_server(tmp_path, qr_ttl_s=2.0) as srv:
        k = make_kiosk(qapp, tmp_path, srv, id_reader_emu, scanner_emu, printer_emu)
        try:
            by_card(qtbot, k, id_reader_emu)
            flow = k.controller.flow
            to_presettle(qtbot, k)
            click(qtbot, screen(k, PRESETTLE).wechat_button)
            view = screen(k, QR).code
            qtbot.waitUntil(lambda: showing_qr(k), timeout=WAIT_MS)
            shown = view.text
            qtbot.waitUntil(lambda: settled(k, PRESETTLE) and flow.lock is not None, timeout=WAIT_MS)
            assert flow.message == "bills.qr_expired"
            assert phone(srv, "wechat", "pay", shown).status_code == 409
        finally:
            k.shutdown()
            qapp.removeEventFilter(k.idle)


# ---- the tour's walk (kiosk_app/features/bills/tour.py), on this rig --------------------------------


class TourRig:
    """What the feature's tour script uses of kiosk_app.tour.Tour and the demo environment."""

    def __init__(self, k: Kiosk, srv: ServerThread, out: Path, id_reader: Any, scanner: Any, printer: Any) -> None:
        self.kiosk, self.out = k, out
        self.demo = type("Demo", (), {})()
        self.demo.scanner, self.demo.printer, self.demo.id_reader = scanner, printer, id_reader
        self.demo.server_url = srv.base_url
        self.demo.place_card = lambda key: id_reader.place_card(sample_cards()[key])
        self.demo.identity_code = lambda key, kind: self._evoucher(srv)
        self.shots: list[str] = []

    @staticmethod
    def _evoucher(srv: ServerThread) -> str:
        token = requests.post(f"{srv.base_url}/sandbox/insurance/evoucher", json={"patient_id": patient_id_of(srv)})
        return str(token.json()["token"])

    @property
    def flow(self) -> Any:
        return self.kiosk.controller.flow

    def idle(self) -> bool:
        return not self.flow.busy and self.kiosk.tasks.pending == 0

    def at(self, step: str) -> Any:
        return lambda: self.flow.step == step and self.idle()

    def click(self, button: QPushButton) -> None:
        assert button.isEnabled() and button.isVisible(), button.text()
        button.click()

    def shot(self, name: str) -> None:
        self.kiosk.window.grab().save(str(self.out / f"{name}.png"))
        self.shots.append(name)


def test_the_tour_walk(
    qtbot, kiosk: Kiosk, demo_server: ServerThread, tmp_path: Path, id_reader_emu, scanner_emu, printer_emu
) -> None:
    from kiosk_app.features.bills.tour import tour

    kiosk.window.toggle_language()  # the tour runs the features from English, elderly mode
    kiosk.window.elderly_button.click()
    out = Path(os.environ.get("BILLS_TOUR_OUT", str(tmp_path)))
    rig = TourRig(kiosk, demo_server, out, id_reader_emu, scanner_emu, printer_emu)
    for wait in tour(rig):
        qtbot.waitUntil(wait, timeout=WAIT_MS)
    assert rig.shots == [
        "45_bills_list_en", "46_bills_selected_en", "47_bills_presettle_en", "48_bills_qr_en",
        "49_bills_qr_scanned_en", "50_bills_paid_en", "51_bills_list", "52_bills_qr_cancelled",
        "53_bills_code_refused", "54_bills_paid",
    ]  # fmt: skip
    assert set(bill_statuses(demo_server).values()) == {"paid", "unpaid"}  # 张三's three paid, 王秀英's open
    assert "门诊缴费凭条" in (out / "bill_receipt.txt").read_text(encoding="utf-8")
    assert kiosk.controller.flow.at_home and kiosk.window.view.language != "zh_CN" and kiosk.window.view.elderly


# ---- the prepaid account, the insurer down, offline, the lock running out ------------------------


def face_identified(qtbot: Any, k: Kiosk, srv: ServerThread) -> None:
    """As if identified by face (phone digits + live face, kiosk_app/features/face_screen.py): the
    face capture itself is tested elsewhere; here what matters is what a face identity allows."""
    from kiosk_app.flows.identify import Method, Patient

    start(qtbot, k)
    patient = Patient(patient_id_of(srv), "张*", "110***********0010", "", Method.FACE)
    k.controller.feature_event("bills", lambda f: f.patient_found(patient))
    qtbot.waitUntil(lambda: settled(k, LIST), timeout=WAIT_MS)


def test_prepaid_account_after_a_face_identification(
    qtbot, kiosk: Kiosk, demo_server: ServerThread, printer_emu
) -> None:
    from kiosk_app.features.bills.flow import ACCOUNT

    patient_id = patient_id_of(demo_server)
    topped = kiosk.client.top_up(str(uuid.uuid4()), patient_id, 10_000, DEMO_CODES["success"])
    assert topped.status == "SUCCESS"
    face_identified(qtbot, kiosk, demo_server)
    flow = kiosk.controller.flow
    to_presettle(qtbot, kiosk)  # all three bills: ¥217.10, more than the ¥100 balance
    click(qtbot, screen(kiosk, PRESETTLE).account_button)
    qtbot.waitUntil(lambda: settled(kiosk, ACCOUNT), timeout=WAIT_MS)
    click(qtbot, screen(kiosk, ACCOUNT).button)
    qtbot.waitUntil(lambda: settled(kiosk, PRESETTLE) and flow.message == "bills.account_low", timeout=WAIT_MS)
    assert kiosk.client.account(patient_id).balance_cents == 10_000  # nothing taken
    click(qtbot, screen(kiosk, "bills.presettle").code_button)  # the same lock, by code instead
    qtbot.waitUntil(lambda: settled(kiosk, PAY), timeout=WAIT_MS)
    kiosk.controller.wipe()  # Home: the lock is given up
    qtbot.waitUntil(lambda: kiosk.tasks.pending == 0, timeout=WAIT_MS)
    face_identified(qtbot, kiosk, demo_server)
    flow = kiosk.controller.flow
    click(qtbot, bill_button(kiosk, "检查申请"))
    click(qtbot, bill_button(kiosk, "内科处方"))  # the lab order alone: ¥55.00
    to_presettle(qtbot, kiosk)
    click(qtbot, screen(kiosk, PRESETTLE).account_button)
    qtbot.waitUntil(lambda: settled(kiosk, ACCOUNT), timeout=WAIT_MS)
    click(qtbot, screen(kiosk, ACCOUNT).button)
    qtbot.waitUntil(lambda: settled(kiosk, RESULT) and flow.print_state is PrintState.PRINTED, timeout=WAIT_MS)
    assert flow.outcome is Outcome.PAID and flow.message == "bills.paid_from_account"
    assert kiosk.client.account(patient_id).balance_cents == 10_000 - 5500
    assert "预交金" in printer_emu.wait_for_jobs(1)[-1].text


def test_the_insurer_down_keeps_the_patient_on_the_list(
    qtbot, kiosk: Kiosk, demo_server: ServerThread, scanner_emu, monkeypatch
) -> None:
    assert demo_server.app is not None

    def down(**_kw: Any) -> Any:
        raise ConnectionError("insurance platform unreachable")

    monkeypatch.setattr(demo_server.app.state.bills.insurance, "presettle", down)
    by_evoucher(qtbot, kiosk, demo_server, scanner_emu)
    flow = kiosk.controller.flow
    click(qtbot, screen(kiosk, LIST).pay_button)
    qtbot.waitUntil(lambda: settled(kiosk, LIST) and flow.message == "bills.insurance_unavailable", timeout=WAIT_MS)
    assert set(bill_statuses(demo_server).values()) == {"unpaid"}  # nothing stays locked


def test_lock_ran_out_before_the_code_locks_again_and_pays(
    qtbot, kiosk: Kiosk, demo_server: ServerThread, id_reader_emu, scanner_emu, monkeypatch
) -> None:
    from datetime import UTC, datetime, timedelta

    by_card(qtbot, kiosk, id_reader_emu)
    flow = kiosk.controller.flow
    to_presettle(qtbot, kiosk)
    first = flow.lock.payment_key
    click(qtbot, screen(kiosk, PRESETTLE).code_button)
    later = datetime.now(UTC) + timedelta(seconds=301)  # the patient looked for the phone a long time
    monkeypatch.setattr("server.bills.service._now", lambda: later)
    scanner_emu.scan(DEMO_CODES["success"])
    qtbot.waitUntil(lambda: settled(kiosk, PRESETTLE) and flow.message == "bills.lock_expired", timeout=WAIT_MS)
    assert flow.lock.payment_key != first
    click(qtbot, screen(kiosk, PRESETTLE).code_button)
    scanner_emu.scan(DEMO_CODES["success"][:-1] + "1")  # a new code (the scanner drops a repeat within 1 s)
    qtbot.waitUntil(lambda: settled(kiosk, RESULT), timeout=WAIT_MS)
    assert flow.outcome is Outcome.PAID


def test_offline_kiosk_sends_the_patient_to_the_cashier(qtbot, kiosk: Kiosk, id_reader_emu, monkeypatch) -> None:
    by_card(qtbot, kiosk, id_reader_emu)  # found while online (and remembered)
    kiosk.controller.wipe()
    assert kiosk.offline is not None
    monkeypatch.setattr(type(kiosk.offline.uploader), "offline", property(lambda _self: True))
    start(qtbot, kiosk)
    qtbot.wait(800)  # the reader reads a card once until it has seen it leave the field
    id_reader_emu.place_card(ZHANGSAN)
    qtbot.waitUntil(lambda: settled(kiosk, RESULT), timeout=WAIT_MS)
    flow = kiosk.controller.flow
    assert (flow.outcome, flow.message) == (Outcome.CASHIER, "bills.offline")
    assert "收费窗口" in banner(kiosk)


def test_network_lost_while_the_qr_is_shown_the_payment_is_kept(
    qtbot, qapp, tmp_path: Path, id_reader_emu, scanner_emu, printer_emu, monkeypatch, closed_port_url: str
) -> None:
    """The kiosk loses the hospital network while the patient pays the QR on the phone's own
    network: the kiosk cannot learn the answer and says so; the server keeps the payment."""
    monkeypatch.setattr(kiosk_app.app, "load_features", lambda: load_features(("bills",)))
    with start_server(tmp_path, qr_ttl_s=3.0) as srv:
        k = make_kiosk(qapp, tmp_path, srv, id_reader_emu, scanner_emu, printer_emu, pay_deadline_s=2.0)
        try:
            by_card(qtbot, k, id_reader_emu)
            flow = k.controller.flow
            to_presettle(qtbot, k)
            click(qtbot, screen(k, PRESETTLE).wechat_button)
            qtbot.waitUntil(lambda: showing_qr(k), timeout=WAIT_MS)
            shown, key = screen(k, QR).code.text, flow.lock.payment_key
            k.client.base_url = closed_port_url  # the kiosk's network goes
            assert phone(srv, "wechat", "pay", shown).status_code == 200  # the phone's does not
            qtbot.waitUntil(lambda: settled(k, RESULT), timeout=WAIT_MS)
            assert (flow.outcome, flow.message) == (Outcome.UNKNOWN, "bills.qr_unknown")
            assert flow.print_state is PrintState.NONE  # no receipt for an outcome the kiosk does not know
            row = k.journal.get(flow.txn_id)
            assert row is not None and row["state"] == J.PAYMENT_UNKNOWN and row["payment_key"] == key
            paid = requests.Session()
            paid.auth = KioskAuth.from_credential(srv.kiosk_credential("KIOSK-T1"))
            status = paid.get(f"{srv.base_url}/api/v1/payments/{key}", timeout=5).json()
            assert (status["status"], status["bill_status"]) == ("SUCCESS", "paid")  # never lost
            k.controller.wipe()  # the result step can be left: nothing of this session is in flight
            assert k.controller.flow.at_home
        finally:
            k.shutdown()
            qapp.removeEventFilter(k.idle)
