"""Appointment check-in (预约取号) through the real widgets (pytest-qt): the emulated ID reader,
scanner and printer, the real server with the demo patients' bookings (its clock fixed at 10:00).
Check in and pay, a prepaid booking, leaving the pay step and paying later, a refused payment, and
a booking whose window closes between the list and the touch."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton
from pytestqt.exceptions import TimeoutError as WaitTimeout

import kiosk_app.app
from devices.emulators.idcard import sample_cards
from kiosk_app.app import Kiosk, build
from kiosk_app.config import Config
from kiosk_app.demo import DEMO_CODES
from kiosk_app.features import load as load_features
from kiosk_app.features.checkin.flow import CONFIRM, DONE, LIST, PAY, PrintState
from server.appointments import service as appointments
from server.settings import ServerSettings
from server.testing import ServerThread

WAIT_MS = 20_000
ZHANGSAN = sample_cards()["zhangsan"]


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[datetime]:
    at = [datetime.combine(date.today(), time(10, 0))]
    monkeypatch.setattr(appointments, "now", lambda: at[0])
    return at


@pytest.fixture
def demo_server(tmp_path: Path, clock: list[datetime]) -> Iterator[ServerThread]:
    settings = replace(ServerSettings(db_path=tmp_path / "server" / "server.db"), seed_demo_patients=True)
    with ServerThread(settings.with_fast_payments()) as srv:
        yield srv


@pytest.fixture
def kiosk(
    qapp, tmp_path: Path, demo_server: ServerThread, id_reader_emu, scanner_emu, printer_emu, monkeypatch
) -> Iterator[Kiosk]:
    # Only this slice's features: others are built alongside in the same tree and tested on their own.
    monkeypatch.setattr(kiosk_app.app, "load_features", lambda: load_features(("checkin", "reports")))
    config = replace(
        Config(data_dir=tmp_path / "kiosk", server_url=demo_server.base_url, pay_poll_interval_s=0.2),
        language="zh_CN",
    ).with_devices(id_reader=id_reader_emu.url, scanner=scanner_emu.url, printer=printer_emu.url)
    demo_server.write_credential(config.kiosk_id, config.credential_path)
    k = build(config, qapp)
    k.window.setFixedSize(720, 1280)
    k.window.show()
    k.start_devices()
    yield k
    k.shutdown()
    qapp.removeEventFilter(k.idle)
    # The kiosk's objects form reference cycles (the window and controller outlive ``del``): collect
    # them now, not at a random later moment when the next test's kiosk is running and a posted event
    # can reach a half-collected window (seen as segfaults and "no attribute 'controller'").
    gc.collect()


def click(qtbot, button: QPushButton) -> None:
    assert button.isVisible() and button.isEnabled(), button.text()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def settled(k: Kiosk, step: str) -> bool:
    flow = k.controller.flow
    return flow.step == step and not flow.busy and k.tasks.pending == 0


def booking_button(k: Kiosk, department_zh: str) -> QPushButton:
    screen = k.window.screens[LIST]
    for button in screen.buttons:  # type: ignore[attr-defined]
        if button.isVisible() and department_zh in button.text().split("\n")[0]:
            return button
    raise AssertionError(f"no booking for {department_zh}: {[b.text() for b in screen.buttons]}")  # type: ignore[attr-defined]


def to_list(qtbot, k: Kiosk, id_reader_emu: Any) -> None:
    click(qtbot, k.window.screens["home"].feature_buttons["checkin"])  # type: ignore[attr-defined]
    id_reader_emu.place_card(ZHANGSAN)
    try:
        qtbot.waitUntil(lambda: settled(k, LIST), timeout=WAIT_MS)
    except WaitTimeout as err:  # say where the flow stopped, not only that it did
        flow = k.controller.flow
        state = {"step": flow.step, "busy": flow.busy, "message": flow.message, "tasks": k.tasks.pending}
        raise AssertionError(f"no booking list: {state}, devices {k.hub.states}") from err
    id_reader_emu.remove_card()


def server_rows(srv: ServerThread, query: str, params: tuple[Any, ...] = ()) -> list[Any]:
    assert srv.app is not None
    with srv.app.state.db.connection() as conn:
        return list(conn.execute(query, params).fetchall())


def test_check_in_pay_and_take_the_slip(
    qtbot, kiosk: Kiosk, id_reader_emu, scanner_emu, printer_emu, demo_server: ServerThread
) -> None:
    to_list(qtbot, kiosk, id_reader_emu)
    texts = [b.text() for b in kiosk.window.screens[LIST].buttons if b.isVisible()]  # type: ignore[attr-defined]
    assert len(texts) == 3 and "张*" in kiosk.window.screens[LIST].subtitle.text()  # type: ignore[attr-defined]
    early = booking_button(kiosk, "耳鼻喉科")
    assert "12:00 起可取号" in early.text() and not early.isEnabled()  # a 13:00 booking: opens an hour before
    assert "预约时已支付" in booking_button(kiosk, "眼科").text()

    click(qtbot, booking_button(kiosk, "外科"))
    assert settled(kiosk, CONFIRM)
    confirm = kiosk.window.screens[CONFIRM]
    assert "¥50.00" in confirm.button.text()  # type: ignore[attr-defined]
    click(qtbot, confirm.button)  # type: ignore[attr-defined]
    qtbot.waitUntil(lambda: settled(kiosk, PAY), timeout=WAIT_MS)
    flow = kiosk.controller.flow
    assert flow.registration.amount_cents == 5000 and flow.queue_no >= 1  # type: ignore[attr-defined]

    before = len(printer_emu.jobs)
    scanner_emu.scan(DEMO_CODES["not_payment"])
    qtbot.waitUntil(lambda: kiosk.controller.flow.message == "pay.not_payment_code", timeout=WAIT_MS)
    scanner_emu.scan(DEMO_CODES["success"])
    qtbot.waitUntil(
        lambda: settled(kiosk, DONE) and kiosk.controller.flow.print_state is PrintState.PRINTED,  # type: ignore[attr-defined]
        timeout=WAIT_MS,
    )
    slip = printer_emu.wait_for_jobs(before + 1)[-1]
    queue_no = kiosk.controller.flow.queue_no  # type: ignore[attr-defined]
    assert "预约取号凭条" in slip.text and f"{queue_no}号" in slip.text and "外科" in slip.text
    assert "张*" in slip.text and "张三" not in slip.text and "已支付" in slip.text
    assert slip.qr and slip.qr[0].startswith("REG:")
    assert kiosk.window.screens[DONE].number.text() == str(queue_no)  # type: ignore[attr-defined]

    reg = server_rows(
        demo_server,
        "SELECT a.status, r.status, r.amount_cents FROM appointments a JOIN registrations r ON r.id = a.registration_id"
        " JOIN slots s ON s.id = a.slot_id WHERE s.doctor_code = 'D04'",
    )
    assert [tuple(r) for r in reg] == [("checked_in", "paid", 5000)]
    row = kiosk.journal.recent(1)[0]
    assert (row["kind"], row["state"], row["amount_cents"]) == ("checkin", "paid", 5000)
    assert row["registration_key"] and row["payment_key"] and "张三" not in row["patient_masked"]

    # Home, and again: the visit shows as checked in and cannot be checked in twice.
    click(qtbot, kiosk.window.screens[DONE].done)  # type: ignore[attr-defined]
    qtbot.waitUntil(lambda: kiosk.controller.flow.at_home, timeout=WAIT_MS)
    to_list(qtbot, kiosk, id_reader_emu)
    done = booking_button(kiosk, "外科")
    assert f"已取号，{queue_no}号" in done.text() and not done.isEnabled()


def test_a_prepaid_booking_prints_its_slip_without_a_payment(
    qtbot, kiosk: Kiosk, id_reader_emu, printer_emu, demo_server: ServerThread
) -> None:
    to_list(qtbot, kiosk, id_reader_emu)
    click(qtbot, booking_button(kiosk, "眼科"))
    assert kiosk.window.screens[CONFIRM].button.text() == "取号"  # type: ignore[attr-defined]
    before = len(printer_emu.jobs)
    click(qtbot, kiosk.window.screens[CONFIRM].button)  # type: ignore[attr-defined]
    qtbot.waitUntil(
        lambda: settled(kiosk, DONE) and kiosk.controller.flow.print_state is PrintState.PRINTED,  # type: ignore[attr-defined]
        timeout=WAIT_MS,
    )
    assert "预约时" in printer_emu.wait_for_jobs(before + 1)[-1].text
    assert server_rows(demo_server, "SELECT count(*) FROM payments")[0][0] == 0


def test_leaving_the_pay_step_keeps_the_check_in_and_the_fee_is_paid_later(
    qtbot, kiosk: Kiosk, id_reader_emu, scanner_emu, printer_emu, demo_server: ServerThread
) -> None:
    to_list(qtbot, kiosk, id_reader_emu)
    click(qtbot, booking_button(kiosk, "外科"))
    click(qtbot, kiosk.window.screens[CONFIRM].button)  # type: ignore[attr-defined]
    qtbot.waitUntil(lambda: settled(kiosk, PAY), timeout=WAIT_MS)
    click(qtbot, kiosk.window.back_button)
    qtbot.waitUntil(lambda: settled(kiosk, LIST), timeout=WAIT_MS)
    unpaid = booking_button(kiosk, "外科")
    assert "挂号费未付" in unpaid.text() and unpaid.isEnabled()
    # Nothing was released: the booking's place and its registration are still there, unpaid.
    assert [tuple(r) for r in server_rows(demo_server, "SELECT status FROM registrations")] == [("unpaid",)]

    click(qtbot, unpaid)  # straight to paying: no second check-in
    assert settled(kiosk, PAY)
    scanner_emu.scan(DEMO_CODES["insufficient"])
    qtbot.waitUntil(
        lambda: settled(kiosk, PAY) and kiosk.controller.flow.message.startswith("pay.failed"), timeout=WAIT_MS
    )
    assert "余额" in kiosk.window.banner.text()
    scanner_emu.scan(DEMO_CODES["success"])
    qtbot.waitUntil(
        lambda: settled(kiosk, DONE) and kiosk.controller.flow.print_state is PrintState.PRINTED,  # type: ignore[attr-defined]
        timeout=WAIT_MS,
    )
    assert [tuple(r) for r in server_rows(demo_server, "SELECT status FROM registrations")] == [("paid",)]
    assert server_rows(demo_server, "SELECT count(*) FROM appointments WHERE checkin_key IS NOT NULL")[0][0] == 1


def test_a_window_that_closes_before_the_touch_is_explained_and_the_list_updated(
    qtbot, kiosk: Kiosk, id_reader_emu, clock: list[datetime], demo_server: ServerThread
) -> None:
    to_list(qtbot, kiosk, id_reader_emu)
    click(qtbot, booking_button(kiosk, "外科"))
    clock[0] += timedelta(hours=1)  # the patient waited at the confirm screen: 10:20 + 15 min has passed
    click(qtbot, kiosk.window.screens[CONFIRM].button)  # type: ignore[attr-defined]
    qtbot.waitUntil(lambda: settled(kiosk, LIST) and kiosk.controller.flow.message != "", timeout=WAIT_MS)
    assert kiosk.controller.flow.message == "server.rejected.too_late"
    assert "已过" in kiosk.window.banner.text()
    late = booking_button(kiosk, "外科")
    assert "截止" in late.text() and not late.isEnabled()
    assert server_rows(demo_server, "SELECT count(*) FROM registrations")[0][0] == 0


def test_network_lost_before_the_check_in_says_so_and_changes_nothing(
    qtbot, kiosk: Kiosk, id_reader_emu, printer_emu, demo_server: ServerThread
) -> None:
    to_list(qtbot, kiosk, id_reader_emu)
    click(qtbot, booking_button(kiosk, "外科"))
    demo_server.stop()  # the hospital network drops while the patient reads the confirm screen
    click(qtbot, kiosk.window.screens[CONFIRM].button)  # type: ignore[attr-defined]
    qtbot.waitUntil(lambda: settled(kiosk, CONFIRM) and kiosk.controller.flow.message != "", timeout=WAIT_MS)
    assert kiosk.controller.flow.message == "server.unavailable" and "无法连接" in kiosk.window.banner.text()
    assert kiosk.window.screens[CONFIRM].button.isEnabled()  # type: ignore[attr-defined]  # try again later
    assert len(printer_emu.jobs) == 0
    assert server_rows(demo_server, "SELECT count(*) FROM registrations")[0][0] == 0
