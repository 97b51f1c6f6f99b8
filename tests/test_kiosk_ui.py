"""The registration slice through the real widgets (pytest-qt), on the device emulators and
the real server: clicks on buttons, a card on the emulated reader, a code under the emulated
scanner, a receipt out of the emulated printer."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QPushButton

from kiosk_app.app import Kiosk, build
from kiosk_app.config import Config
from kiosk_app.demo import DEMO_CODES
from kiosk_app.flows.registration import PrintState, Step
from kiosk_app.screens.choice import ChoiceScreen

WAIT_MS = 20_000


@pytest.fixture
def kiosk(qapp, tmp_path: Path, server, id_reader_emu, scanner_emu, printer_emu) -> Iterator[Kiosk]:
    config = replace(
        Config(data_dir=tmp_path, server_url=server.base_url, pay_poll_interval_s=0.2),
        language="zh_CN",
    ).with_devices(id_reader=id_reader_emu.url, scanner=scanner_emu.url, printer=printer_emu.url)
    server.write_credential(config.kiosk_id, config.credential_path)  # what enrollment leaves
    k = build(config, qapp)
    k.window.setFixedSize(720, 1280)
    k.window.show()
    k.start_devices()
    yield k
    k.shutdown()
    qapp.removeEventFilter(k.idle)


def click(qtbot, button: QPushButton) -> None:
    assert button.isVisible() and button.isEnabled(), button.text()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def settled(k: Kiosk, step: Step) -> bool:
    return k.controller.flow.step is step and not k.controller.flow.busy and k.tasks.pending == 0


def first_choice(qtbot, k: Kiosk, step: Step) -> None:
    screen = k.window.screens[step]
    assert isinstance(screen, ChoiceScreen)
    choices = [b for b in screen.buttons if b.isVisible() and b.isEnabled()]
    assert choices, f"nothing to choose at {step}: message={k.controller.flow.message!r}"
    click(qtbot, choices[0])


def walk_to_pay(qtbot, k: Kiosk, card_emu) -> None:
    from devices.emulators.idcard import sample_cards

    click(qtbot, k.window.screens[Step.HOME].register_button)  # type: ignore[attr-defined]
    assert k.controller.flow.step is Step.IDENTIFY
    card_emu.place_card(sample_cards()["zhangsan"])
    qtbot.waitUntil(lambda: settled(k, Step.DEPARTMENT), timeout=WAIT_MS)
    card_emu.remove_card()
    first_choice(qtbot, k, Step.DEPARTMENT)
    qtbot.waitUntil(lambda: settled(k, Step.DOCTOR), timeout=WAIT_MS)
    first_choice(qtbot, k, Step.DOCTOR)
    qtbot.waitUntil(lambda: settled(k, Step.SLOT), timeout=WAIT_MS)
    first_choice(qtbot, k, Step.SLOT)
    assert k.controller.flow.step is Step.CONFIRM
    click(qtbot, k.window.screens[Step.CONFIRM].button)  # type: ignore[attr-defined]
    qtbot.waitUntil(lambda: settled(k, Step.PAY), timeout=WAIT_MS)


def visible_text(k: Kiosk) -> str:
    return " ".join(w.text() for w in k.window.findChildren(QLabel) if w.isVisible())


def all_text(k: Kiosk) -> str:
    return " ".join(w.text() for w in k.window.findChildren(QLabel)) + " ".join(
        w.text() for w in k.window.findChildren(QPushButton)
    )


def test_register_and_pay_through_the_widgets(qtbot, kiosk: Kiosk, id_reader_emu, scanner_emu, printer_emu) -> None:
    walk_to_pay(qtbot, kiosk, id_reader_emu)
    assert "¥" in visible_text(kiosk) and "张*" not in visible_text(kiosk)
    scanner_emu.scan(DEMO_CODES["not_payment"])
    qtbot.waitUntil(lambda: kiosk.window.banner.isVisible(), timeout=WAIT_MS)
    assert "付款码" in kiosk.window.banner.text()
    scanner_emu.scan(DEMO_CODES["userpaying"])
    qtbot.waitUntil(lambda: kiosk.controller.flow.message == "pay.userpaying", timeout=WAIT_MS)
    assert not kiosk.window.home_button.isEnabled()  # money in flight: no way out mid-payment
    flow = kiosk.controller.flow
    qtbot.waitUntil(lambda: flow.print_state is PrintState.PRINTED, timeout=WAIT_MS)
    assert flow.step is Step.RESULT and flow.registration is not None
    assert flow.registration.reg_no in visible_text(kiosk)
    (job,) = printer_emu.wait_for_jobs(1)
    assert flow.registration.reg_no in job.text and "110***********" in job.text
    click(qtbot, kiosk.window.screens[Step.RESULT].done)  # type: ignore[attr-defined]
    assert flow.step is Step.HOME and flow.patient is None and flow.registration is None
    assert "张*" not in all_text(kiosk) and "110***" not in all_text(kiosk)  # wiped from every widget


def test_language_switch_and_elderly_mode(qtbot, kiosk: Kiosk) -> None:
    w = kiosk.window
    assert w.screens[Step.HOME].register_button.text().startswith("挂号")  # type: ignore[attr-defined]
    click(qtbot, w.language_button)
    assert w.screens[Step.HOME].register_button.text().startswith("Registration")  # type: ignore[attr-defined]
    assert w.language_button.text() == "中文"
    small = w.styleSheet()
    click(qtbot, w.elderly_button)
    assert w.elderly and w.styleSheet() != small
    click(qtbot, w.language_button)
    assert w.screens[Step.HOME].register_button.text().startswith("挂号")  # type: ignore[attr-defined]


def test_idle_timeout_counts_down_and_wipes(qtbot, kiosk: Kiosk, id_reader_emu) -> None:
    from devices.emulators.idcard import sample_cards

    kiosk.idle.timeout_s, kiosk.idle.warning_s = 3, 2
    click(qtbot, kiosk.window.screens[Step.HOME].register_button)  # type: ignore[attr-defined]
    id_reader_emu.place_card(sample_cards()["zhangsan"])
    qtbot.waitUntil(lambda: settled(kiosk, Step.DEPARTMENT), timeout=WAIT_MS)
    assert kiosk.controller.flow.patient is not None
    qtbot.waitUntil(lambda: kiosk.window.countdown.isVisible(), timeout=WAIT_MS)
    assert "秒" in kiosk.window.countdown.text()
    qtbot.waitUntil(lambda: kiosk.controller.flow.step is Step.HOME, timeout=WAIT_MS)
    assert kiosk.controller.flow.patient is None and not kiosk.window.countdown.isVisible()
    assert "张*" not in all_text(kiosk)


def test_card_pulled_mid_read_shows_a_message_and_the_next_card_works(qtbot, kiosk: Kiosk, id_reader_emu) -> None:
    from devices.emulators.idcard import sample_cards

    click(qtbot, kiosk.window.screens[Step.HOME].register_button)  # type: ignore[attr-defined]
    id_reader_emu.inject("pull_mid_read")
    id_reader_emu.place_card(sample_cards()["zhangsan"])
    qtbot.waitUntil(lambda: kiosk.window.banner.isVisible(), timeout=WAIT_MS)
    assert kiosk.controller.flow.step is Step.IDENTIFY
    assert "卡" in kiosk.window.banner.text()
    id_reader_emu.remove_card()
    qtbot.waitUntil(lambda: not id_reader_emu.card_present, timeout=WAIT_MS)
    id_reader_emu.place_card(sample_cards()["zhangsan"])
    qtbot.waitUntil(lambda: settled(kiosk, Step.DEPARTMENT), timeout=WAIT_MS)


def test_back_from_pay_releases_the_slot(qtbot, kiosk: Kiosk, id_reader_emu) -> None:
    walk_to_pay(qtbot, kiosk, id_reader_emu)
    flow = kiosk.controller.flow
    assert flow.slot is not None
    slot_id = flow.slot.slot_id
    click(qtbot, kiosk.window.back_button)
    qtbot.waitUntil(lambda: kiosk.tasks.pending == 0, timeout=WAIT_MS)
    assert flow.step is Step.CONFIRM and flow.registration is None
    row = kiosk.journal.get(flow.txn_id)
    assert row is not None and row["state"] == "cancelled"
    click(qtbot, kiosk.window.back_button)
    qtbot.waitUntil(lambda: settled(kiosk, Step.SLOT), timeout=WAIT_MS)
    assert any(s.slot_id == slot_id for s in flow.slots)


def test_unplugged_reader_is_reported_on_the_identify_screen(qtbot, kiosk: Kiosk, id_reader_emu) -> None:
    from devices.errors import DeviceState

    qtbot.waitUntil(lambda: kiosk.hub.states["id_reader"] is DeviceState.READY, timeout=WAIT_MS)
    id_reader_emu.stop()  # the reader's cable is pulled while the kiosk sits at home
    qtbot.waitUntil(lambda: kiosk.hub.states["id_reader"] is DeviceState.UNAVAILABLE, timeout=WAIT_MS)
    click(qtbot, kiosk.window.screens[Step.HOME].register_button)  # type: ignore[attr-defined]
    assert kiosk.controller.flow.message == "device.unavailable"
    assert kiosk.window.banner.isVisible() and "工作人员" in kiosk.window.banner.text()


def test_reader_unplugged_while_waiting_for_a_card(qtbot, kiosk: Kiosk, id_reader_emu) -> None:
    from devices.errors import DeviceState

    qtbot.waitUntil(lambda: kiosk.hub.states["id_reader"] is DeviceState.READY, timeout=WAIT_MS)
    click(qtbot, kiosk.window.screens[Step.HOME].register_button)  # type: ignore[attr-defined]
    assert not kiosk.window.banner.isVisible()
    id_reader_emu.stop()
    qtbot.waitUntil(lambda: kiosk.window.banner.isVisible(), timeout=WAIT_MS)
    assert kiosk.controller.flow.step is Step.IDENTIFY
    assert kiosk.controller.flow.message in {"device.unavailable", "card.read_failed"}
