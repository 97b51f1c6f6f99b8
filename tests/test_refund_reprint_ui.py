"""退号 and reprint through the real widgets (pytest-qt): the whole kiosk on the emulated ID reader and
printer, against the real server. A registration of tomorrow is booked and paid beforehand through
the client, as the patient would have done at the kiosk or on the phone."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QPushButton

import kiosk_app.app
from devices.emulators.idcard import sample_cards
from kiosk_app.app import Kiosk, build
from kiosk_app.config import Config
from kiosk_app.demo import DEMO_CODES
from kiosk_app.features import load as load_features
from kiosk_app.features.refund.demo import book_and_pay
from kiosk_app.features.refund.flow import CONFIRM, DONE, LIST, Outcome, PrintState
from kiosk_app.features.reprint.flow import DONE as REPRINT_DONE
from kiosk_app.features.reprint.flow import LIST as REPRINT_LIST
from kiosk_app.features.reprint.flow import PrintState as ReprintState
from server.dbapi import write_tx
from sync.client import Registration, ServerClient

WAIT_MS = 20_000
ZHANG = sample_cards()["zhangsan"]


@pytest.fixture
def kiosk(qapp, tmp_path: Path, server, id_reader_emu, printer_emu, monkeypatch) -> Iterator[Kiosk]:
    # Only these two features: the others are built and tested by their own modules.
    monkeypatch.setattr(kiosk_app.app, "load_features", lambda: load_features(("refund", "reprint")))
    config = replace(Config(data_dir=tmp_path, server_url=server.base_url), language="zh_CN").with_devices(
        id_reader=id_reader_emu.url, scanner="loop://", printer=printer_emu.url
    )
    config = replace(config, scanner=replace(config.scanner, enabled=False))
    server.write_credential(config.kiosk_id, config.credential_path)
    k = build(config, qapp, photo_decoder=id_reader_emu.photos)
    k.window.setFixedSize(720, 1280)
    k.window.show()
    k.start_devices()
    yield k
    k.shutdown()
    qapp.removeEventFilter(k.idle)


@pytest.fixture
def client(server) -> Iterator[ServerClient]:
    with ServerClient(server.base_url, kiosk_id="K-PHONE", credential=server.kiosk_credential("K-PHONE")) as c:
        yield c


def click(qtbot, button: QPushButton) -> None:
    assert button.isVisible() and button.isEnabled(), button.text()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def settled(k: Kiosk, step: str) -> bool:
    return k.controller.flow.step == step and not k.controller.flow.busy and k.tasks.pending == 0


def all_text(k: Kiosk) -> str:
    labels = " ".join(w.text() for w in k.window.findChildren(QLabel) if w.isVisible())
    return labels + " " + " ".join(w.text() for w in k.window.findChildren(QPushButton) if w.isVisible())


def identify(qtbot, k: Kiosk, id_reader_emu, feature: str, first_step: str) -> None:
    click(qtbot, k.window.screens["home"].feature_buttons[feature])  # type: ignore[attr-defined]
    assert k.controller.flow.step == f"{feature}.identify"
    # The reader reads a card once until it leaves the field: let it see the last one gone (polls every 0.3 s).
    id_reader_emu.remove_card()
    qtbot.wait(800)
    id_reader_emu.place_card(ZHANG)
    qtbot.waitUntil(lambda: settled(k, first_step), timeout=WAIT_MS)
    id_reader_emu.remove_card()


def visible_choices(k: Kiosk, step: str) -> list[QPushButton]:
    return [b for b in k.window.screens[step].buttons if b.isVisible()]  # type: ignore[attr-defined]


def move_slot_near(server: Any, reg: Registration, minutes: int) -> None:
    """The slot now starts ``minutes`` from now (hospital wall time): inside the 30-minute cut-off."""
    soon = datetime.now() + timedelta(minutes=minutes)
    with server.app.state.db.connection() as conn, write_tx(conn):
        conn.execute(
            "UPDATE slots SET date = ?, start = ? WHERE id = (SELECT slot_id FROM registrations WHERE id = ?)",
            (soon.date().isoformat(), f"{soon:%H:%M:%S}", reg.registration_id),
        )


def test_refund_through_the_widgets_then_reprint_the_slip(
    qtbot, kiosk: Kiosk, client: ServerClient, server, id_reader_emu, printer_emu
) -> None:
    late = book_and_pay(client, ZHANG, DEMO_CODES["success"], day=date.today() + timedelta(days=2))
    move_slot_near(server, late, 5)
    reg = book_and_pay(client, ZHANG, DEMO_CODES["success"])

    identify(qtbot, kiosk, id_reader_emu, "refund", LIST)
    buttons = visible_choices(kiosk, LIST)
    assert len(buttons) == 2
    blocked, open_ = sorted(buttons, key=lambda b: b.isEnabled())
    assert not blocked.isEnabled() and "收费窗口" in blocked.text()  # too late here: the reason is on the button
    assert open_.isEnabled() and reg.department_name_zh in open_.text() and "¥" in open_.text()
    click(qtbot, open_)
    qtbot.waitUntil(lambda: settled(kiosk, CONFIRM), timeout=WAIT_MS)
    text = all_text(kiosk)
    assert "张*" in text and "微信支付" in text and ZHANG.name not in text and ZHANG.id_number not in text
    click(qtbot, kiosk.window.screens[CONFIRM].button)  # type: ignore[attr-defined]
    qtbot.waitUntil(
        lambda: settled(kiosk, DONE) and kiosk.controller.flow.print_state is PrintState.PRINTED, timeout=WAIT_MS
    )
    flow: Any = kiosk.controller.flow
    assert flow.outcome is Outcome.REFUNDED and "退号成功" in all_text(kiosk)
    (job,) = printer_emu.wait_for_jobs(1)
    assert "退号凭条" in job.text and reg.reg_no in job.text and ZHANG.name not in job.text
    assert [r.registration.registration_id for r in client.refundable_registrations(flow.patient.patient_id)] == [
        late.registration_id
    ]
    click(qtbot, kiosk.window.screens[DONE].done)  # type: ignore[attr-defined]
    qtbot.waitUntil(lambda: kiosk.controller.flow.at_home, timeout=WAIT_MS)
    # Wiped: no widget, shown or hidden, keeps anything of the last patient.
    everything = [w.text() for w in kiosk.window.findChildren(QLabel) + kiosk.window.findChildren(QPushButton)]
    assert not [t for t in everything if reg.reg_no in t or "张*" in t or reg.doctor_name_zh in t]

    # The slip is among the patient's recent slips; a copy says 补打, and the count goes down.
    identify(qtbot, kiosk, id_reader_emu, "reprint", REPRINT_LIST)
    (slip_button,) = visible_choices(kiosk, REPRINT_LIST)
    assert "退号凭条" in slip_button.text() and "2" in slip_button.text()
    click(qtbot, slip_button)
    qtbot.waitUntil(
        lambda: settled(kiosk, REPRINT_DONE) and kiosk.controller.flow.print_state is ReprintState.PRINTED,
        timeout=WAIT_MS,
    )
    copy = printer_emu.wait_for_jobs(2)[-1]
    assert "补打" in copy.text and reg.reg_no in copy.text and ZHANG.id_number not in copy.text
    click(qtbot, kiosk.window.back_button)
    qtbot.waitUntil(lambda: settled(kiosk, REPRINT_LIST), timeout=WAIT_MS)
    (slip_button,) = visible_choices(kiosk, REPRINT_LIST)
    assert "还可补打 1 次" in slip_button.text()


def test_a_refund_refused_meanwhile_comes_back_to_the_list_with_the_reason(
    qtbot, kiosk: Kiosk, client: ServerClient, server, id_reader_emu, printer_emu
) -> None:
    reg = book_and_pay(client, ZHANG, DEMO_CODES["success"])
    identify(qtbot, kiosk, id_reader_emu, "refund", LIST)
    click(qtbot, visible_choices(kiosk, LIST)[0])
    qtbot.waitUntil(lambda: settled(kiosk, CONFIRM), timeout=WAIT_MS)
    move_slot_near(server, reg, 10)  # the patient read the screen too long
    click(qtbot, kiosk.window.screens[CONFIRM].button)  # type: ignore[attr-defined]
    qtbot.waitUntil(lambda: settled(kiosk, LIST), timeout=WAIT_MS)
    assert kiosk.controller.flow.message == "server.rejected.refund_window_closed"
    assert kiosk.window.banner.isVisible() and "未作任何改动" in kiosk.window.banner.text()
    (button,) = visible_choices(kiosk, LIST)
    assert not button.isEnabled()
    assert client.refund_status("never-sent-key-01") is None
    assert printer_emu.jobs == []  # nothing happened, nothing printed
