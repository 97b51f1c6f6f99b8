"""预交金充值 at the kiosk: the pure flow, the service against the real server and the real local
store (journal key first, USERPAYING, a lost answer found by query, offline refusal, a receipt
printed once), and the whole kiosk through the real widgets on the emulators."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QPushButton

from devices.emulators.idcard import sample_cards
from devices.printer import PROFILES, ReceiptPrinter
from kiosk_app.app import Kiosk, build
from kiosk_app.config import Config
from kiosk_app.demo import DEMO_CODES
from kiosk_app.features.base import ServiceParts
from kiosk_app.features.topup.flow import (
    AMOUNT,
    BALANCE,
    DONE,
    PAY,
    PAYING,
    LoadAccount,
    Outcome,
    PrintState,
    PrintTopUpReceipt,
    TopUp,
    TopUpFlow,
)
from kiosk_app.features.topup.service import TopUpService
from kiosk_app.flows.identify import Patient
from kiosk_app.services.identify import PatientFinder
from kiosk_app.services.registration import PaySettings
from offline_cache import journal as J
from offline_cache.journal import Journal
from offline_cache.store import Store
from sync.client import Account, ServerClient, TopUpResult

WAIT_MS = 20_000
ZHANG = sample_cards()["zhangsan"]
ACCOUNT = Account(7, 1_000, (), 100, 500_000)
PATIENT = Patient(7, "张*", "110***********0010", "800000000075")


def _result(status: str, code: str | None = None, balance: int = 0) -> TopUpResult:
    return TopUpResult("k-0001", status, code, "", 7, 20_000, "wechat", status == "SUCCESS", balance)


def _at_amount() -> TopUpFlow:
    flow = TopUpFlow()
    flow.start()
    (load,) = flow.patient_found(PATIENT)
    assert load == LoadAccount(7) and flow.step == BALANCE and flow.busy
    flow.account_loaded(ACCOUNT)
    flow.choose_top_up()
    assert flow.step == AMOUNT
    return flow


# ---- The flow, pure


def test_amount_buttons_keypad_and_limits() -> None:
    flow = _at_amount()
    assert flow.presets_cents == (10_000, 20_000, 50_000, 100_000)
    for d in "0120":  # a leading zero is ignored
        flow.key_digit(d)
    assert flow.typed == "120"
    flow.key_delete()
    flow.key_digit("5")
    assert flow.key_ok() == [] and (flow.step, flow.amount_cents) == (PAY, 12_500)
    flow.back()
    assert flow.step == AMOUNT
    for d in "99999":
        flow.key_digit(d)
    flow.key_ok()
    assert flow.step == AMOUNT and flow.message == "topup.amount_range"  # over 5000 yuan
    flow.choose_amount(20_000)
    assert flow.step == PAY and flow.message == ""


def test_scan_pay_and_the_outcomes() -> None:
    flow = _at_amount()
    flow.choose_amount(20_000)
    assert flow.code_scanned("HOSPITAL-LEAFLET-42") == [] and flow.message == "pay.not_payment_code"
    (pay,) = flow.code_scanned(DEMO_CODES["success"])
    assert isinstance(pay, TopUp) and pay.first_attempt and pay.amount_cents == 20_000
    assert DEMO_CODES["success"] not in repr(pay)  # a payment code never reaches a log line
    assert flow.step == PAYING and not flow.interruptible and flow.home() == []
    flow.top_up_finished(_result("FAILED", "NOTENOUGH"))
    assert flow.step == PAY and flow.message == "pay.failed.NOTENOUGH"
    (again,) = flow.code_scanned(DEMO_CODES["success"])
    assert isinstance(again, TopUp) and not again.first_attempt and again.txn_id == pay.txn_id
    flow.top_up_progress(_result("PENDING", "USERPAYING"))
    assert flow.message == "pay.userpaying"
    (receipt,) = flow.top_up_finished(_result("SUCCESS", balance=21_000))
    assert isinstance(receipt, PrintTopUpReceipt) and flow.outcome is Outcome.CREDITED
    assert flow.new_balance_cents == 21_000 and flow.print_state is PrintState.PRINTING
    flow.printed(False, "printer.paper_out")
    assert flow.message == "printer.paper_out"
    (reprint,) = flow.reprint()
    assert reprint == receipt and flow.reprint() == []  # one at a time
    flow.printed(True)
    assert flow.print_state is PrintState.PRINTED and flow.reprint() == []


@pytest.mark.parametrize(
    ("event", "outcome", "message"),
    [
        (lambda f: f.top_up_finished(None), Outcome.UNKNOWN, "topup.unknown"),
        (lambda f: f.top_up_finished(_result("PENDING")), Outcome.UNKNOWN, "topup.unknown"),
        (lambda f: f.failed("server.timeout"), Outcome.UNKNOWN, "topup.unknown"),
        (lambda f: f.top_up_refused_offline(), Outcome.OFFLINE, "topup.offline"),
    ],
)
def test_an_unclear_or_offline_payment_is_never_guessed(event: Any, outcome: Outcome, message: str) -> None:
    flow = _at_amount()
    flow.choose_amount(10_000)
    flow.code_scanned(DEMO_CODES["success"])
    assert event(flow) == []
    assert (flow.step, flow.outcome, flow.message, flow.busy) == (DONE, outcome, message, False)
    assert flow.print_state is PrintState.NONE and flow.reprint() == []


def test_account_unavailable_offers_no_top_up_and_a_reload() -> None:
    flow = TopUpFlow()
    flow.start()
    flow.patient_found(PATIENT)
    flow.account_unavailable()
    assert flow.unavailable and flow.message == "topup.offline" and flow.choose_top_up() == []
    assert flow.reload() == [LoadAccount(7)] and flow.busy
    flow.account_loaded(ACCOUNT)
    assert not flow.unavailable and flow.choose_top_up() == [] and flow.step == AMOUNT
    flow.home()
    assert flow.at_home and flow.account is None and flow.patient is None


# ---- The service, against the real server and the real store


@dataclass
class Rig:
    service: TopUpService
    journal: Journal
    client: ServerClient
    patient: Patient


def _patient(client: ServerClient) -> Patient:
    filed = client.file_patient(
        str(uuid.uuid4()), "resident", ZHANG.id_number, ZHANG.name, "M", "1980-01-01", "13800138000", "staff", False
    )
    return Patient(filed.patient_id, "张*", "110***********0010", filed.visit_card_no)


@pytest.fixture
def rig(server: Any, tmp_path: Path, printer_emu: Any) -> Iterator[Rig]:
    # A short read timeout: a withheld provider answer leaves the kiosk's POST unanswered.
    credential = server.kiosk_credential("K1")
    client = ServerClient(server.base_url, kiosk_id="K1", credential=credential, pay_read_timeout=1.0)
    printer = ReceiptPrinter(printer_emu.url, PROFILES["default-80mm"], timeout=2)
    store = Store(tmp_path / "kiosk.db")
    parts = ServiceParts(
        client=client,
        journal=Journal(store),
        printer=printer,
        finder=PatientFinder(client),
        kiosk_id="K1",
        hospital_name="示例医院",
        pay=PaySettings(poll_interval_s=0.2, deadline_s=20.0),
    )
    try:
        yield Rig(TopUpService(parts), parts.journal, client, _patient(client))
    finally:
        client.close()
        store.close()


def _run(rig: Rig, flow: TopUpFlow, cmd: Any) -> list[Any]:
    progress: list[Any] = []
    outcome = rig.service.execute(cmd, progress.append)
    for step in progress:
        step(flow)
    return list(outcome(flow))


def _flow_at_pay(rig: Rig, amount: int) -> TopUpFlow:
    flow = TopUpFlow()
    flow.start()
    (load,) = flow.patient_found(rig.patient)
    _run(rig, flow, load)
    assert flow.account is not None and flow.account.balance_cents == 0
    flow.choose_top_up()
    flow.choose_amount(amount)
    return flow


@pytest.mark.parametrize("code", ["userpaying", "lost_response"])
def test_service_pays_journals_the_key_first_and_prints_once(rig: Rig, printer_emu: Any, code: str) -> None:
    flow = _flow_at_pay(rig, 20_000)
    (cmd,) = flow.code_scanned(DEMO_CODES[code])
    (receipt,) = _run(rig, flow, cmd)
    assert flow.outcome is Outcome.CREDITED and flow.new_balance_cents == 20_000
    txn = rig.journal.get(cmd.txn_id)
    assert txn is not None and (txn["kind"], txn["state"], txn["amount_cents"]) == ("top_up", J.PAID, 20_000)
    states = [e["state"] for e in rig.journal.events(cmd.txn_id)]
    assert states[:2] == [J.CREATED, J.PAYING] and states[-1] == J.PAID  # the key was stored before the request
    assert rig.client.top_up_status(txn["payment_key"]).credited  # type: ignore[union-attr]
    _run(rig, flow, receipt)
    _run(rig, flow, receipt)  # a second request for the same receipt prints nothing
    (job,) = printer_emu.wait_for_jobs(1)
    assert "预交金充值凭条" in job.text and "200.00" in job.text and "110***********0010" in job.text
    assert ZHANG.id_number not in job.text and DEMO_CODES[code] not in job.text
    assert len(printer_emu.jobs) == 1 and rig.client.account(rig.patient.patient_id).balance_cents == 20_000


def test_service_refused_payment_then_a_second_code(rig: Rig) -> None:
    flow = _flow_at_pay(rig, 10_000)
    (cmd,) = flow.code_scanned(DEMO_CODES["insufficient"])
    assert _run(rig, flow, cmd) == [] and flow.message == "pay.failed.NOTENOUGH" and flow.step == PAY
    (cmd2,) = flow.code_scanned(DEMO_CODES["success"])
    _run(rig, flow, cmd2)
    assert flow.outcome is Outcome.CREDITED and flow.new_balance_cents == 10_000
    keys = {e["state"] for e in rig.journal.events(cmd.txn_id)}
    assert J.PAYMENT_FAILED in keys and rig.journal.get(cmd.txn_id)["state"] == J.PAID  # type: ignore[index]


def test_service_server_refusal_is_definite_and_sends_the_patient_back_to_the_amount(rig: Rig) -> None:
    flow = _flow_at_pay(rig, 10_000)
    (cmd,) = flow.code_scanned(DEMO_CODES["success"])
    below_limit = replace(cmd, amount_cents=50)  # as if the hospital raised the minimum meanwhile
    _run(rig, flow, below_limit)
    assert (flow.step, flow.message, flow.outcome) == (AMOUNT, "topup.amount_range", None)
    txn = rig.journal.get(cmd.txn_id)
    assert txn is not None and (txn["state"], txn["payment_status"]) == (J.PAYMENT_FAILED, "REFUSED")
    assert rig.client.account(rig.patient.patient_id).balance_cents == 0


def test_service_refuses_offline_before_anything_is_sent(rig: Rig, closed_port_url: str) -> None:
    flow = _flow_at_pay(rig, 10_000)
    live = rig.client.base_url
    rig.client.base_url = closed_port_url  # the network drops between choosing and paying
    (cmd,) = flow.code_scanned(DEMO_CODES["success"])
    _run(rig, flow, cmd)
    assert (flow.outcome, flow.message) == (Outcome.OFFLINE, "topup.offline")
    txn = rig.journal.get(cmd.txn_id)
    assert txn is not None and (txn["state"], txn["payment_status"]) == (J.PAYMENT_FAILED, "NOT_SENT")
    flow2 = TopUpFlow()
    flow2.start()
    (load,) = flow2.patient_found(rig.patient)
    _run(rig, flow2, load)
    assert flow2.unavailable and flow2.message == "topup.offline"
    rig.client.base_url = live
    assert rig.client.account(rig.patient.patient_id).balance_cents == 0
    # An uploader that already knows the server is gone: nothing is even tried.
    rig.service.offline = SimpleNamespace(uploader=SimpleNamespace(offline=True))
    flow3 = TopUpFlow()
    flow3.start()
    (load,) = flow3.patient_found(rig.patient)
    _run(rig, flow3, load)
    assert flow3.unavailable
    flow.step, flow.busy = PAY, False  # had the amount been chosen before the uploader noticed
    (cmd,) = flow.code_scanned(DEMO_CODES["success"])
    _run(rig, flow, cmd)
    assert flow.outcome is Outcome.OFFLINE
    assert rig.journal.get(cmd.txn_id) == txn  # refused before a key was even made: nothing to resolve


# ---- Through the real widgets


@pytest.fixture
def kiosk(qapp, tmp_path: Path, server, id_reader_emu, scanner_emu, printer_emu, monkeypatch) -> Iterator[Kiosk]:
    from kiosk_app import features

    # This feature alone: the other features' folders are not what these tests are about.
    monkeypatch.setattr("kiosk_app.app.load_features", lambda: features.load(("topup",)))
    config = replace(
        Config(data_dir=tmp_path, server_url=server.base_url, pay_poll_interval_s=0.2), language="zh_CN"
    ).with_devices(id_reader=id_reader_emu.url, scanner=scanner_emu.url, printer=printer_emu.url)
    server.write_credential(config.kiosk_id, config.credential_path)
    with ServerClient(server.base_url, kiosk_id="K1", credential=server.kiosk_credential("K1")) as client:
        _patient(client)
    k = build(config, qapp)
    k.window.setFixedSize(720, 1280)
    k.window.show()
    k.start_devices()
    yield k
    k.shutdown()
    qapp.removeEventFilter(k.idle)


def click(qtbot: Any, button: QPushButton) -> None:
    assert button.isVisible() and button.isEnabled(), button.text()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def settled(k: Kiosk, step: str) -> bool:
    return k.controller.flow.step == step and not k.controller.flow.busy and k.tasks.pending == 0


def visible_text(k: Kiosk) -> str:
    return " ".join(w.text() for w in k.window.findChildren(QLabel) if w.isVisible())


def all_text(k: Kiosk) -> str:
    return " ".join(w.text() for w in k.window.findChildren(QLabel)) + " ".join(
        w.text() for w in k.window.findChildren(QPushButton)
    )


def to_amount(qtbot: Any, k: Kiosk, id_reader_emu: Any) -> None:
    click(qtbot, k.window.screens["home"].feature_buttons["topup"])  # type: ignore[attr-defined]
    assert k.controller.flow.step == "topup.identify"
    id_reader_emu.place_card(ZHANG)
    qtbot.waitUntil(lambda: settled(k, BALANCE), timeout=WAIT_MS)
    id_reader_emu.remove_card()
    assert "¥0.00" in visible_text(k) and "张*" in visible_text(k)
    click(qtbot, k.window.screens[BALANCE].top_up)  # type: ignore[attr-defined]
    assert k.controller.flow.step == AMOUNT


def test_top_up_through_the_widgets(qtbot, kiosk: Kiosk, id_reader_emu, scanner_emu, printer_emu) -> None:
    to_amount(qtbot, kiosk, id_reader_emu)
    amount = kiosk.window.screens[AMOUNT]
    for d in "150":
        click(qtbot, amount.digit_buttons[d])  # type: ignore[attr-defined]
    assert "¥ 150" in visible_text(kiosk)
    click(qtbot, amount.ok_button)  # type: ignore[attr-defined]
    assert kiosk.controller.flow.step == PAY and "¥150.00" in visible_text(kiosk)
    scanner_emu.scan(DEMO_CODES["not_payment"])
    qtbot.waitUntil(lambda: kiosk.window.banner.isVisible(), timeout=WAIT_MS)
    assert "付款码" in kiosk.window.banner.text() and kiosk.controller.flow.step == PAY
    scanner_emu.scan(DEMO_CODES["userpaying"])
    qtbot.waitUntil(lambda: kiosk.controller.flow.message == "pay.userpaying", timeout=WAIT_MS)
    assert not kiosk.window.home_button.isEnabled()  # money in flight: no way out mid-payment
    flow = kiosk.controller.flow
    qtbot.waitUntil(lambda: flow.print_state is PrintState.PRINTED, timeout=WAIT_MS)
    assert flow.step == DONE and "¥150.00" in visible_text(kiosk) and "¥15000" not in visible_text(kiosk)
    (job,) = printer_emu.wait_for_jobs(1)
    assert "150.00" in job.text and "110***********" in job.text and ZHANG.id_number not in job.text
    click(qtbot, kiosk.window.screens[DONE].done)  # type: ignore[attr-defined]
    assert flow.at_home and "张*" not in all_text(kiosk) and "¥150.00" not in all_text(kiosk)
    # Again: the balance now shows the top-up and its entry.
    click(qtbot, kiosk.window.screens["home"].feature_buttons["topup"])  # type: ignore[attr-defined]
    id_reader_emu.place_card(ZHANG)
    qtbot.waitUntil(lambda: settled(kiosk, BALANCE), timeout=WAIT_MS)
    id_reader_emu.remove_card()
    assert "¥150.00" in visible_text(kiosk)


def test_refused_payment_and_printer_out_of_paper(qtbot, kiosk: Kiosk, id_reader_emu, scanner_emu, printer_emu) -> None:
    to_amount(qtbot, kiosk, id_reader_emu)
    click(qtbot, kiosk.window.screens[AMOUNT].preset_buttons[20_000])  # type: ignore[attr-defined]
    scanner_emu.scan(DEMO_CODES["insufficient"])
    qtbot.waitUntil(lambda: settled(kiosk, PAY) and bool(kiosk.controller.flow.message), timeout=WAIT_MS)
    assert kiosk.controller.flow.message == "pay.failed.NOTENOUGH" and "余额不足" in kiosk.window.banner.text()
    printer_emu.set_state(paper_end=True)
    scanner_emu.scan(DEMO_CODES["success"])
    flow = kiosk.controller.flow
    qtbot.waitUntil(lambda: flow.print_state is PrintState.FAILED, timeout=WAIT_MS)
    assert flow.outcome is Outcome.CREDITED and "¥200.00" in visible_text(kiosk)
    assert kiosk.window.banner.isVisible() and printer_emu.jobs == []
    printer_emu.set_state(paper_end=False)
    click(qtbot, kiosk.window.screens[DONE].reprint)  # type: ignore[attr-defined]
    qtbot.waitUntil(lambda: flow.print_state is PrintState.PRINTED, timeout=WAIT_MS)
    (job,) = printer_emu.wait_for_jobs(1)
    assert "200.00" in job.text
    assert not kiosk.window.screens[DONE].reprint.isVisible()  # type: ignore[attr-defined]


def test_network_loss_at_the_pay_step_refuses_the_top_up(qtbot, kiosk: Kiosk, id_reader_emu, scanner_emu,
                                                         closed_port_url: str, server: Any) -> None:  # fmt: skip
    to_amount(qtbot, kiosk, id_reader_emu)
    click(qtbot, kiosk.window.screens[AMOUNT].preset_buttons[10_000])  # type: ignore[attr-defined]
    service = kiosk.controller.features["topup"][1]
    live = service.client.base_url
    service.client.base_url = closed_port_url  # the hospital network drops here
    try:
        scanner_emu.scan(DEMO_CODES["success"])
        qtbot.waitUntil(lambda: settled(kiosk, DONE), timeout=WAIT_MS)
    finally:
        service.client.base_url = live
    flow = kiosk.controller.flow
    assert flow.outcome is Outcome.OFFLINE and flow.print_state is PrintState.NONE
    assert "未扣任何费用" in kiosk.window.banner.text() and "暂时无法充值" in visible_text(kiosk)
    assert kiosk.window.home_button.isEnabled()  # nothing in flight: the patient may leave
    with server.app.state.db.connection() as conn:  # nothing reached the server, nothing was charged
        assert conn.execute("SELECT count(*) FROM payments").fetchone()[0] == 0
