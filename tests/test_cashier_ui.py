"""The cashier window through the real widgets (pytest-qt): the whole kiosk with only the cashier
feature, on the emulated ID reader, scanner and printer, against the real server. Staff sign in
with the keypad or their staff card, settle by cash, bank card and payment code (serial scanner and
HID wedge), refund with a supervisor's PIN and close the shift with a reconciled, printed and
exported report."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QCoreApplication, QEvent, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QLabel, QPushButton

import kiosk_app.app
from devices.emulators.idcard import sample_cards
from kiosk_app.app import Kiosk, build
from kiosk_app.config import Config
from kiosk_app.features import load as load_features
from kiosk_app.features.cashier import commands as c
from kiosk_app.flows.printing import PrintState
from server.auth.staff import create_staff
from server.bills.service import create_bill
from server.cashier.staff import add_cashier
from server.dbapi import write_tx
from server.visit_card import visit_card_no
from sync.client import ServerClient
from sync.staffcard import staff_card_hash

WAIT_MS = 20_000
ZHANG = sample_cards()["zhangsan"]
# raw_text cleared: the emulator would send the sample's own block otherwise.
STAFF_CARD = replace(sample_cards()["elder"], name="王收费", id_number="110105198503150019", raw_text=b"")
ITEMS = [
    {"code": "DA01", "name_zh": "阿莫西林胶囊", "name_en": "Amoxicillin", "category": "drug_a", "quantity": 1,
     "unit_cents": 3000},
    {"code": "EX11", "name_zh": "血常规", "name_en": "Blood count", "category": "exam", "quantity": 1,
     "unit_cents": 4000},
]  # fmt: skip
WECHAT_OK = "134567890123456781"


@pytest.fixture
def hospital(server) -> Iterator[dict[str, Any]]:
    """Cashier 1001 (PIN 2580, with a staff card), supervisor 9001 (PIN 8642); 张三 with two bills
    and an unpaid registration (booked on the phone, paid at the window)."""
    state = server.app.state
    with state.db.connection() as conn:
        for username, staff_no, pin, supervisor, card in (
            ("wang", "1001", "2580", False, staff_card_hash(STAFF_CARD.id_number)),
            ("li", "9001", "8642", True, None),
        ):
            create_staff(conn, username, "long-enough-password", "cashier")
            add_cashier(conn, state.cipher, username=username, staff_no=staff_no, pin=pin, supervisor=supervisor,
                        card_hash=card)  # fmt: skip
    with ServerClient(server.base_url, kiosk_id="K-PHONE", credential=server.kiosk_credential("K-PHONE")) as phone:
        patient_id = phone.identify("resident", ZHANG.id_number, ZHANG.name, "M", "1980-01-01").patient_id
        slot = next(
            s for d in phone.departments() for doc in phone.doctors(d.code, _today())
            for s in phone.slots(doc.code, _today()) if s.left > 0
        )  # fmt: skip
        reg = phone.create_registration("phone-booking-0001", patient_id, slot.slot_id)
    with state.db.connection() as conn, write_tx(conn):
        bills = [
            create_bill(conn, patient_id=patient_id, kind="prescription", title_zh="门诊处方",
                        title_en="Prescription", items=ITEMS)
            for _ in range(3)
        ]  # fmt: skip
    yield {"patient_id": patient_id, "registration": reg, "bills": bills}


def _today() -> str:
    from datetime import date

    return date.today().isoformat()


@pytest.fixture
def kiosk(
    qapp, tmp_path: Path, server, hospital, id_reader_emu, scanner_emu, printer_emu, monkeypatch
) -> Iterator[Kiosk]:
    monkeypatch.setattr(kiosk_app.app, "load_features", lambda: load_features(("cashier",)))
    config = replace(Config(data_dir=tmp_path, server_url=server.base_url), language="en", role="cashier")
    config = config.with_devices(id_reader=id_reader_emu.url, scanner=scanner_emu.url, printer=printer_emu.url)
    server.write_credential(config.kiosk_id, config.credential_path)
    k = build(config, qapp, photo_decoder=id_reader_emu.photos)
    k.window.setFixedSize(720, 1280)
    k.window.show()
    k.start_devices()
    k.controller.start_feature("cashier")  # what --role cashier does at start-up
    yield k
    k.shutdown()
    qapp.removeEventFilter(k.idle)


def flow(k: Kiosk) -> Any:
    return k.controller.flow


def screen(k: Kiosk, step: str) -> Any:
    return k.window.screens[step]


def click(qtbot, button: QPushButton) -> None:
    assert button.isVisible() and button.isEnabled(), button.text()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def settled(k: Kiosk, step: str) -> bool:
    return flow(k).step == step and not flow(k).busy and k.tasks.pending == 0


def wait_for(qtbot, k: Kiosk, step: str) -> None:
    qtbot.waitUntil(lambda: settled(k, step), timeout=WAIT_MS)


def type_keys(qtbot, keypad: Any, text: str) -> None:
    for ch in text:
        click(qtbot, keypad.buttons[ch])


def all_text(k: Kiosk) -> str:
    labels = " ".join(w.text() for w in k.window.findChildren(QLabel) if w.isVisible())
    return labels + " " + " ".join(w.text() for w in k.window.findChildren(QPushButton) if w.isVisible())


def wedge_scan(k: Kiosk, code: str) -> None:
    """A keyboard-wedge scanner: the code as a burst of key events, then Enter (kiosk_app/wedge.py)."""
    handle = k.window.windowHandle()
    assert handle is not None
    for ch in code:
        for etype in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
            QCoreApplication.sendEvent(handle, QKeyEvent(etype, int(getattr(Qt.Key, f"Key_{ch}")),
                                                         Qt.KeyboardModifier.NoModifier, ch))  # fmt: skip
    for etype in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
        QCoreApplication.sendEvent(handle, QKeyEvent(etype, Qt.Key.Key_Return, Qt.KeyboardModifier.NoModifier, "\r"))


def place(qtbot, id_reader_emu: Any, card: Any) -> None:
    # The reader reads a card once until it leaves the field: let it see the last one gone first.
    id_reader_emu.remove_card()
    qtbot.wait(800)
    id_reader_emu.place_card(card)


def test_a_shift_at_the_window_through_the_widgets(
    qtbot, kiosk: Kiosk, hospital: dict[str, Any], id_reader_emu, printer_emu, tmp_path: Path
) -> None:
    k = kiosk
    assert flow(k).step == c.SIGNIN and not k.window.back_button.isVisible()
    signin = screen(k, c.SIGNIN)
    type_keys(qtbot, signin.keypad, "1001")
    click(qtbot, signin.keypad.ok_button)  # on to the PIN
    type_keys(qtbot, signin.keypad, "2580")
    assert "2580" not in all_text(k) and "●●●●" in signin.pin_field.text()
    click(qtbot, signin.keypad.ok_button)
    wait_for(qtbot, k, c.IDENTIFY)
    assert "wang (1001)" in all_text(k) and k.window.banner.text() == "Shift opened."

    # The patient's ID card: two open bills (the third is for later) and the phone booking.
    place(qtbot, id_reader_emu, ZHANG)
    wait_for(qtbot, k, c.ITEMS)
    id_reader_emu.remove_card()
    text = all_text(k)
    assert "张*" in text and ZHANG.name not in text and ZHANG.id_number not in text
    items = screen(k, c.ITEMS)
    assert len(items.list.buttons) == 4 and all(b.isChecked() for b in items.list.buttons.values())
    reg_id = hospital["registration"].registration_id
    click(qtbot, items.list.buttons[f"r{reg_id}"])  # the registration is paid by code below
    click(qtbot, items.list.buttons[f"b{hospital['bills'][2]}"])  # the third bill later, by card
    click(qtbot, items.insured_button)  # the patient shows the insurance card too
    click(qtbot, items.settle_button)
    wait_for(qtbot, k, c.TAKE)
    take = screen(k, c.TAKE)
    due = flow(k).quote.self_pay_cents
    assert flow(k).quote.insurance_cents > 0 and 0 < due < 2 * 7000

    # Cash: ¥100 handed over, the change shown and printed.
    click(qtbot, take.channel_buttons["cash"])
    cash = screen(k, c.CASH)
    click(qtbot, cash.keypad.delete_button)
    for _ in range(6):
        click(qtbot, cash.keypad.delete_button)
    type_keys(qtbot, cash.keypad, "100")
    assert f"Change: ¥{(10000 - due) // 100}." in cash.change.text()
    click(qtbot, cash.keypad.ok_button)
    qtbot.waitUntil(lambda: settled(k, c.PAID) and flow(k).print_state is PrintState.PRINTED, timeout=WAIT_MS)
    (receipt,) = printer_emu.wait_for_jobs(1)
    assert "门诊收费凭条" in receipt.text and "找零" in receipt.text and ZHANG.name not in receipt.text
    cash_key = flow(k).settlement.key
    click(qtbot, screen(k, c.PAID).next_button)
    assert flow(k).step == c.IDENTIFY and flow(k).patient is None

    # The same patient again, by the visit-card number typed at the keypad; the registration by a
    # payment code from a keyboard-wedge scanner, then the third bill by bank card.
    ident = screen(k, c.IDENTIFY)
    type_keys(qtbot, ident.keypad, visit_card_no(hospital["patient_id"]))
    click(qtbot, ident.keypad.ok_button)
    wait_for(qtbot, k, c.ITEMS)
    items = screen(k, c.ITEMS)
    assert set(items.list.buttons) == {f"r{reg_id}", f"b{hospital['bills'][2]}"}
    click(qtbot, items.list.buttons[f"b{hospital['bills'][2]}"])
    click(qtbot, items.settle_button)
    wait_for(qtbot, k, c.TAKE)
    click(qtbot, screen(k, c.TAKE).channel_buttons["code"])
    assert flow(k).step == c.CODE
    wedge_scan(k, WECHAT_OK)
    qtbot.waitUntil(lambda: settled(k, c.PAID) and flow(k).print_state is PrintState.PRINTED, timeout=WAIT_MS)
    assert flow(k).settlement.status == "SUCCESS" and flow(k).settlement.registration_ids == (reg_id,)
    k.controller.wipe()  # Home: the next patient
    type_keys(qtbot, screen(k, c.IDENTIFY).keypad, visit_card_no(hospital["patient_id"]))
    click(qtbot, screen(k, c.IDENTIFY).keypad.ok_button)
    wait_for(qtbot, k, c.ITEMS)
    click(qtbot, screen(k, c.ITEMS).settle_button)
    wait_for(qtbot, k, c.TAKE)
    click(qtbot, screen(k, c.TAKE).channel_buttons["card"])
    card = screen(k, c.CARD)
    type_keys(qtbot, card.keypad, "4711")
    click(qtbot, card.keypad.ok_button)
    wait_for(qtbot, k, c.PAID)

    # A refund of part of the cash payment: the cashier's own PIN is not enough.
    k.controller.wipe()
    place(qtbot, id_reader_emu, ZHANG)
    wait_for(qtbot, k, c.ITEMS)
    id_reader_emu.remove_card()
    click(qtbot, screen(k, c.ITEMS).refund_button)
    refund = screen(k, c.REFUND)
    click(qtbot, refund.payments.buttons[cash_key])
    for _ in range(8):
        click(qtbot, refund.keypad.delete_button)
    type_keys(qtbot, refund.keypad, "10")
    click(qtbot, refund.reason_buttons["overcharged"])
    click(qtbot, refund.keypad.ok_button)
    assert flow(k).step == c.APPROVE
    approve = screen(k, c.APPROVE)
    type_keys(qtbot, approve.keypad, "1001")
    click(qtbot, approve.keypad.ok_button)
    type_keys(qtbot, approve.keypad, "2580")
    click(qtbot, approve.keypad.ok_button)
    wait_for(qtbot, k, c.APPROVE)
    assert "Not approved" in k.window.banner.text()
    click(qtbot, approve.no_field)
    for _ in range(4):
        click(qtbot, approve.keypad.delete_button)
    type_keys(qtbot, approve.keypad, "9001")
    click(qtbot, approve.pin_field)
    type_keys(qtbot, approve.keypad, "8642")
    click(qtbot, approve.keypad.ok_button)
    qtbot.waitUntil(lambda: settled(k, c.REFUNDED) and flow(k).print_state is PrintState.PRINTED, timeout=WAIT_MS)
    assert "Hand back ¥10.00 in cash" in all_text(k)
    assert "退费凭条" in printer_emu.jobs[-1].text
    k.controller.wipe()

    # End of shift: the drawer holds the cash taken minus the ¥10 handed back.
    click(qtbot, screen(k, c.IDENTIFY).end_button)
    wait_for(qtbot, k, c.REPORT)
    report = flow(k).report
    assert report.totals["cash"].count == 1 and report.totals["code"].count == 1 and report.totals["card"].count == 1
    assert report.cash_expected_cents == due - 1000
    click(qtbot, screen(k, c.REPORT).keypad.ok_button)  # the counted amount is prefilled with the expected
    qtbot.waitUntil(lambda: settled(k, c.CLOSED) and flow(k).print_state is PrintState.PRINTED, timeout=WAIT_MS)
    closed = flow(k).report
    assert closed.ok and closed.kiosk_reported and closed.transaction_count == 4, closed.mismatches
    assert "Reconciled with the hospital system" in all_text(k)
    assert "交班报表" in printer_emu.jobs[-1].text
    # Three settlements, the refund, and the refund the cashier's own PIN could not approve (nothing moved).
    exported = json.loads(Path(flow(k).exported.json_path).read_text(encoding="utf-8"))
    assert len(exported["kiosk_ledger"]) == 5 and Path(flow(k).exported.csv_path).exists()
    click(qtbot, screen(k, c.CLOSED).done)
    assert flow(k).step == c.SIGNIN and flow(k).shift is None


def test_staff_card_serial_scanner_paper_out_and_the_window_lock(
    qtbot, kiosk: Kiosk, hospital: dict[str, Any], id_reader_emu, scanner_emu, printer_emu
) -> None:
    k = kiosk
    place(qtbot, id_reader_emu, STAFF_CARD)
    wait_for(qtbot, k, c.IDENTIFY)
    id_reader_emu.remove_card()
    assert flow(k).shift.staff_no == "1001"

    place(qtbot, id_reader_emu, ZHANG)
    wait_for(qtbot, k, c.ITEMS)
    id_reader_emu.remove_card()
    items = screen(k, c.ITEMS)
    for row in list(items.list.buttons)[1:]:
        click(qtbot, items.list.buttons[row])  # one bill only
    click(qtbot, items.settle_button)
    wait_for(qtbot, k, c.TAKE)
    printer_emu.set_state(paper_end=True)
    click(qtbot, screen(k, c.TAKE).channel_buttons["code"])
    scanner_emu.scan("HVC:800000000011")  # not a payment code
    qtbot.waitUntil(lambda: flow(k).message == "pay.not_payment_code", timeout=WAIT_MS)
    assert flow(k).step == c.CODE
    scanner_emu.scan(WECHAT_OK)
    qtbot.waitUntil(lambda: settled(k, c.PAID) and flow(k).print_state is PrintState.FAILED, timeout=WAIT_MS)
    paid = screen(k, c.PAID)
    assert "did not print" in paid.print_status.text() and "paper" in k.window.banner.text()
    printer_emu.set_state()
    click(qtbot, paid.reprint)
    qtbot.waitUntil(lambda: flow(k).print_state is PrintState.PRINTED, timeout=WAIT_MS)
    assert len(printer_emu.jobs) == 1  # printed once, after the paper was refilled
    k.controller.wipe()

    click(qtbot, screen(k, c.IDENTIFY).lock_button)
    assert flow(k).step == c.SIGNIN and flow(k).shift is None
    qtbot.waitUntil(lambda: k.tasks.pending == 0, timeout=WAIT_MS)
    place(qtbot, id_reader_emu, STAFF_CARD)
    wait_for(qtbot, k, c.IDENTIFY)
    id_reader_emu.remove_card()
    assert flow(k).shift.resumed and k.window.banner.text().startswith("Welcome back")
