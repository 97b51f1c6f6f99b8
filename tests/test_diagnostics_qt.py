"""Diagnostics mode through the real widgets (pytest-qt), on the device emulators and the real
server: the hidden entry, the PIN pad and its lock-out, the device table and self-tests, the log
viewer, the readiness report, device URLs, Exit and the idle timeout, and the audit rows."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QPushButton

from devices.errors import DeviceState
from kiosk_app.app import Kiosk, build
from kiosk_app.config import Config
from kiosk_app.diagnostics.entry import TapGesture
from kiosk_app.diagnostics.mode import DiagnosticsMode
from kiosk_app.diagnostics.pin import hash_pin
from kiosk_app.flows.registration import Step

WAIT_MS = 20_000
PIN = "2468"
PIN_HASH = hash_pin(PIN, iterations=200_000)
CONFIG_TOML = """# shipped config: this comment must survive a save
[kiosk]
id = "KIOSK-T1"

[devices.scanner]
url = "serial:///dev/kiosk/scanner?baud=9600"   # scanner port
"""
LOG = """2026-01-02 10:00:00,001 DEBUG kiosk_app.hub [MainThread] debug-only line
2026-01-02 10:00:01,002 INFO kiosk_app.controller [MainThread] info-only line
2026-01-02 10:00:02,003 WARNING devices.scanner [scanner] warning line
2026-01-02 10:00:03,004 ERROR kiosk_app.tasks [kiosk-io_0] error line
"""


def make_kiosk(qapp, tmp_path: Path, server, id_reader_emu, scanner_emu, printer_emu, *, config_path: Path | None):
    (tmp_path / "log").mkdir(exist_ok=True)
    (tmp_path / "log" / "kiosk.log").write_text(LOG, encoding="utf-8")
    config = replace(
        Config(data_dir=tmp_path, server_url=server.base_url, kiosk_id="KIOSK-T1"),
        language="zh_CN",
        diagnostics_pin_hash=PIN_HASH,
        diagnostics_lockout_s=120,
    ).with_devices(id_reader=id_reader_emu.url, scanner=scanner_emu.url, printer=printer_emu.url)
    server.write_credential(config.kiosk_id, config.credential_path)  # what enrollment leaves
    k = build(config, qapp, config_path=config_path)
    k.window.setFixedSize(720, 1280)
    k.window.show()
    k.start_devices()
    return k


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "kiosk.toml"
    path.write_text(CONFIG_TOML, encoding="utf-8")
    return path


@pytest.fixture
def kiosk(qapp, tmp_path: Path, config_file: Path, server, id_reader_emu, scanner_emu, printer_emu) -> Iterator[Kiosk]:
    k = make_kiosk(qapp, tmp_path, server, id_reader_emu, scanner_emu, printer_emu, config_path=config_file)
    yield k
    k.shutdown()
    qapp.removeEventFilter(k.idle)


def mode_of(k: Kiosk) -> DiagnosticsMode:
    assert k.window.diagnostics is not None
    return k.window.diagnostics


def click(qtbot, button: QPushButton) -> None:
    assert button.isVisible() and button.isEnabled(), button.text()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def tap_hospital(qtbot, k: Kiosk, times: int = 5) -> None:
    for _ in range(times):
        qtbot.mouseClick(k.window.hospital, Qt.MouseButton.LeftButton)


def type_pin(qtbot, k: Kiosk, digits: str) -> None:
    pad = mode_of(k).pin_pad
    for d in digits:
        click(qtbot, pad.digit_buttons[int(d)])
    assert pad.entered.count("●") == len(digits) and digits not in pad.entered
    click(qtbot, pad.ok_button)
    qtbot.waitUntil(lambda: not pad._checking, timeout=WAIT_MS)


def enter(qtbot, k: Kiosk) -> DiagnosticsMode:
    tap_hospital(qtbot, k)
    type_pin(qtbot, k, PIN)
    mode = mode_of(k)
    qtbot.waitUntil(lambda: mode.unlocked and mode.page.isVisible(), timeout=WAIT_MS)
    return mode


def audit_rows(k: Kiosk) -> list[dict]:
    """Audit rows, oldest first, once every queued row is written (the store's writer is FIFO)."""
    assert k.audit is not None
    k.store.write(lambda db: None)
    return list(reversed(k.audit.recent(100)))


def actions(k: Kiosk) -> list[str]:
    return [r["action"] for r in audit_rows(k)]


# ---- Entry and PIN


def test_five_taps_open_the_pin_pad_and_cancel_goes_home(qtbot, kiosk: Kiosk) -> None:
    w = kiosk.window
    tap_hospital(qtbot, kiosk, 4)
    assert not w.in_diagnostics
    tap_hospital(qtbot, kiosk, 1)
    assert w.in_diagnostics and w.stack.currentWidget() is mode_of(kiosk)
    pad = mode_of(kiosk).pin_pad
    assert pad.isVisible() and "维护" in pad.title.text()
    assert not w.home_button.isVisible() and not w.back_button.isVisible()
    click(qtbot, pad.cancel_button)
    assert not w.in_diagnostics and w.stack.currentWidget() is w.screens[Step.HOME]
    assert kiosk.controller.flow.step is Step.HOME


def test_taps_spread_over_more_than_three_seconds_do_nothing(qtbot) -> None:
    now = [0.0]
    target = QLabel("hospital")
    qtbot.addWidget(target)
    gesture = TapGesture(target, taps=5, window_s=3.0, clock=lambda: now[0])
    fired: list[bool] = []
    gesture.sig_triggered.connect(lambda: fired.append(True))
    for _ in range(5):
        qtbot.mouseClick(target, Qt.MouseButton.LeftButton)
        now[0] += 0.8  # 3.2 s from the first tap to the fifth
    assert not fired
    qtbot.mouseClick(target, Qt.MouseButton.LeftButton)  # the last five now span 3.2 s
    assert not fired
    now[0] += 10
    for _ in range(5):
        qtbot.mouseClick(target, Qt.MouseButton.LeftButton)
        now[0] += 0.5
    assert fired == [True]


def test_no_entry_during_a_patient_session(qtbot, kiosk: Kiosk) -> None:
    click(qtbot, kiosk.window.screens[Step.HOME].register_button)  # type: ignore[attr-defined]
    tap_hospital(qtbot, kiosk)
    assert not kiosk.window.in_diagnostics and kiosk.controller.flow.step is Step.IDENTIFY


def test_five_wrong_pins_lock_out_even_the_right_pin(qtbot, kiosk: Kiosk) -> None:
    tap_hospital(qtbot, kiosk)
    mode, pad = mode_of(kiosk), mode_of(kiosk).pin_pad
    type_pin(qtbot, kiosk, "1111")
    assert pad.status.isVisible() and "4" in pad.status.text()  # 还可尝试 4 次
    for _ in range(4):
        type_pin(qtbot, kiosk, "1111")
    assert "锁定" in pad.status.text() and "2 分钟" in pad.status.text()
    assert not pad.ok_button.isEnabled() and not pad.digit_buttons[2].isEnabled()
    for d in PIN:  # the keys do nothing while locked
        qtbot.mouseClick(pad.digit_buttons[int(d)], Qt.MouseButton.LeftButton)
    qtbot.mouseClick(pad.ok_button, Qt.MouseButton.LeftButton)
    assert not mode.unlocked and pad.entered == ""
    assert mode.ctx.gate.try_pin(PIN).refused  # and the gate itself refuses the right PIN
    click(qtbot, pad.cancel_button)
    tap_hospital(qtbot, kiosk)  # coming back does not reset the lock
    assert "锁定" in pad.status.text() and not pad.ok_button.isEnabled()
    acts = actions(kiosk)
    assert acts.count("pin_wrong") == 5 and acts.count("lockout") == 1 and "enter" not in acts


# ---- The diagnostics page


def test_right_pin_shows_the_device_table_and_a_self_test(qtbot, kiosk: Kiosk) -> None:
    qtbot.waitUntil(lambda: kiosk.hub.states["scanner"] is DeviceState.READY, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: kiosk.hub.states["id_reader"] is DeviceState.READY, timeout=WAIT_MS)
    mode = enter(qtbot, kiosk)
    panel = mode.page.devices
    assert mode.page.tab == "devices" and panel.timer_active
    assert set(panel.cards) >= {"id_reader", "scanner"}
    for name in ("id_reader", "scanner"):
        card = panel.cards[name]
        assert card.isVisible() and card.badge.text() == "就绪"
        assert name in card.title.text() and card.value("identity") != "—"
    reader = panel.cards["id_reader"]
    assert "读卡器" in reader.title.text()
    click(qtbot, reader.test_button)
    qtbot.waitUntil(lambda: reader.test_button.isEnabled() and reader.result.text() != "", timeout=WAIT_MS)
    assert "自检" in reader.result.text() and "…" not in reader.result.text()
    assert reader.result.property("kind") in ("ok", "error")
    assert actions(kiosk)[-3:] == ["enter", "selftest", "selftest_result"]


def test_the_table_follows_device_state_changes(qtbot, kiosk: Kiosk, id_reader_emu) -> None:
    qtbot.waitUntil(lambda: kiosk.hub.states["id_reader"] is DeviceState.READY, timeout=WAIT_MS)
    mode = enter(qtbot, kiosk)
    card = mode.page.devices.cards["id_reader"]
    assert card.badge.text() == "就绪"
    id_reader_emu.stop()  # the reader's cable is pulled
    qtbot.waitUntil(lambda: card.badge.text() == "未连接", timeout=WAIT_MS)
    assert card.badge.property("state") == "unavailable"


def test_log_viewer_shows_lines_and_filters_by_level(qtbot, kiosk: Kiosk) -> None:
    mode = enter(qtbot, kiosk)
    log = mode.page.log
    click(qtbot, mode.page.tab_buttons["log"])
    qtbot.waitUntil(lambda: not log.loading and log.tail is not None, timeout=WAIT_MS)
    assert "info-only line" in log.text and "error line" in log.text and "debug-only" not in log.text
    assert "3 行" in log.info.text()  # INFO, WARNING and ERROR
    click(qtbot, log.level_buttons["DEBUG"])
    qtbot.waitUntil(lambda: not log.loading and "debug-only" in log.text, timeout=WAIT_MS)
    click(qtbot, log.level_buttons["ERROR"])
    qtbot.waitUntil(lambda: not log.loading and "warning line" not in log.text, timeout=WAIT_MS)
    assert log.text.strip().endswith("error line") and "info-only" not in log.text
    assert not mode.page.devices.timer_active  # the device table's timer stops when it is hidden


def test_export_writes_json_and_text_to_the_chosen_folder(qtbot, kiosk: Kiosk, tmp_path: Path) -> None:
    mode = enter(qtbot, kiosk)
    mode.ctx.report_dir = tmp_path / "usb-stick"
    report = mode.page.report
    click(qtbot, mode.page.tab_buttons["report"])
    click(qtbot, report.export_button)
    qtbot.waitUntil(lambda: not report.busy and report.result is not None, timeout=WAIT_MS)
    assert report.result is not None and report.result.ok
    (json_path,) = (tmp_path / "usb-stick").glob("readiness-KIOSK-T1-*.json")
    (text_path,) = (tmp_path / "usb-stick").glob("readiness-KIOSK-T1-*.txt")
    data = json.loads(json_path.read_text(encoding="utf-8"))
    assert {d["name"] for d in data["devices"]} >= {"id_reader", "scanner"}
    assert data["versions"]["qt"] and data["versions"]["app"] and "by_state" in data["transactions"]
    assert "error line" in " ".join(data["recent_errors"])
    assert "Kiosk readiness report" in text_path.read_text(encoding="utf-8")
    assert report.status.isVisible() and json_path.name in report.status.text()
    assert "Kiosk readiness report" in report.preview.toPlainText()
    assert "report_export" in actions(kiosk)


def test_an_invalid_url_is_refused_and_a_valid_one_saved(qtbot, kiosk: Kiosk, config_file: Path) -> None:
    mode = enter(qtbot, kiosk)
    settings = mode.page.settings
    click(qtbot, mode.page.tab_buttons["settings"])
    edit = settings.edits["devices.scanner"]
    before = config_file.read_bytes()
    edit.clear()
    qtbot.keyClicks(edit, "bogus://nothing")
    click(qtbot, settings.save_button)
    assert settings.status.isVisible() and "devices.scanner.url" in settings.status.text()
    assert "未保存" in settings.status.text() and edit.property("invalid") is True
    assert config_file.read_bytes() == before
    edit.clear()
    qtbot.keyClicks(edit, "serial:///dev/ttyACM0?baud=9600")
    click(qtbot, settings.save_button)
    qtbot.waitUntil(lambda: not settings.busy, timeout=WAIT_MS)
    assert "重启后生效" in settings.status.text() and settings.status.property("kind") == "ok"
    text = config_file.read_text(encoding="utf-8")
    assert tomllib.loads(text)["devices"]["scanner"]["url"] == "serial:///dev/ttyACM0?baud=9600"
    assert "# shipped config" in text and "# scanner port" in text
    assert kiosk.config.scanner.url != "serial:///dev/ttyACM0?baud=9600"  # the running kiosk is unchanged
    acts = actions(kiosk)
    assert acts[-2:] == ["config_change_rejected", "config_change"]


def test_without_a_config_file_changes_stay_in_memory(
    qtbot, qapp, tmp_path: Path, server, id_reader_emu, scanner_emu, printer_emu
) -> None:
    k = make_kiosk(qapp, tmp_path, server, id_reader_emu, scanner_emu, printer_emu, config_path=None)
    try:
        mode = enter(qtbot, k)
        settings = mode.page.settings
        click(qtbot, mode.page.tab_buttons["settings"])
        assert "内存" in settings.file_note.text()
        settings.edits["devices.printer"].setText("tcp://10.1.2.3:9100")
        click(qtbot, settings.save_button)
        assert "内存" in settings.status.text() and settings.status.property("kind") == "info"
        assert mode.ctx.pending_urls == {"devices.printer": "tcp://10.1.2.3:9100"}
    finally:
        k.shutdown()
        qapp.removeEventFilter(k.idle)


def test_exit_returns_home_stops_timers_and_is_audited(qtbot, kiosk: Kiosk) -> None:
    mode = enter(qtbot, kiosk)
    w = kiosk.window
    assert w.idle._armed  # the idle timeout applies in diagnostics
    click(qtbot, mode.page.tab_buttons["log"])
    qtbot.waitUntil(lambda: not mode.page.log.loading, timeout=WAIT_MS)
    click(qtbot, mode.page.exit_button)
    assert not w.in_diagnostics and w.stack.currentWidget() is w.screens[Step.HOME]
    assert kiosk.controller.flow.step is Step.HOME and not w.idle._armed
    assert not mode.page.devices.timer_active and not mode.pin_pad._timer.isActive()
    assert mode.page.log.text == "" and mode.page.tab == "devices"  # nothing of the visit is kept
    tap_hospital(qtbot, kiosk)
    assert w.in_diagnostics and not mode.unlocked  # the PIN is asked again
    assert actions(kiosk)[-2:] == ["enter", "exit"]


def test_idle_timeout_leaves_diagnostics(qtbot, kiosk: Kiosk) -> None:
    kiosk.idle.timeout_s, kiosk.idle.warning_s = 3, 2
    mode = enter(qtbot, kiosk)
    kiosk.idle.touch()
    qtbot.waitUntil(lambda: kiosk.window.countdown.isVisible(), timeout=WAIT_MS)
    qtbot.waitUntil(lambda: not kiosk.window.in_diagnostics, timeout=WAIT_MS)
    assert not mode.unlocked and kiosk.window.stack.currentWidget() is kiosk.window.screens[Step.HOME]
    assert audit_rows(kiosk)[-1]["action"] == "exit" and audit_rows(kiosk)[-1]["detail"] == "idle timeout"


def test_language_switch_inside_diagnostics(qtbot, kiosk: Kiosk) -> None:
    mode = enter(qtbot, kiosk)
    assert mode.page.tab_buttons["devices"].text() == "设备"
    click(qtbot, kiosk.window.language_button)
    assert mode.page.tab_buttons["devices"].text() == "Devices" and kiosk.window.in_diagnostics
    assert mode.page.exit_button.text() == "Exit"


# ---- Test page and camera preview


def test_printer_test_page_and_camera_preview(
    qtbot, qapp, tmp_path: Path, server, id_reader_emu, scanner_emu, printer_emu
) -> None:
    from devices.emulators.camera import CameraEmulator
    from kiosk_app.config import DeviceConfig

    cam = CameraEmulator()
    cam.start()
    (tmp_path / "log").mkdir(exist_ok=True)
    config = replace(
        Config(data_dir=tmp_path, server_url=server.base_url, kiosk_id="KIOSK-T1"),
        diagnostics_pin_hash=PIN_HASH,
        camera=DeviceConfig(cam.url, True, {"fps": 15.0}),
    ).with_devices(id_reader=id_reader_emu.url, scanner=scanner_emu.url, printer=printer_emu.url)
    server.write_credential(config.kiosk_id, config.credential_path)  # what enrollment leaves
    k = build(config, qapp)
    k.window.setFixedSize(720, 1280)
    k.window.show()
    k.start_devices()
    try:
        panel = enter(qtbot, k).page.devices
        printer_card, camera_card = panel.cards["printer"], panel.cards["camera"]
        assert printer_card.action_button is not None and camera_card.preview is not None
        # QScroller's touch-drag detection swallows QTest's zero-length press inside the scroll
        # area; a real finger (or click()) reaches the button.
        printer_card.action_button.click()
        qtbot.waitUntil(lambda: k.tasks.pending == 0 and not printer_card._testing, timeout=WAIT_MS)
        assert "通过" in printer_card.result.text(), printer_card.result.text()
        (job,) = printer_emu.wait_for_jobs(1)
        assert "打印测试" in job.text and "通过" in printer_card.result.text()
        qtbot.waitUntil(lambda: not camera_card.preview.pixmap().isNull(), timeout=WAIT_MS)
        assert camera_card.fps_label is not None
        qtbot.waitUntil(lambda: "帧/秒" in camera_card.fps_label.text(), timeout=WAIT_MS)
        assert "test_page" in actions(k) and "test_page_result" in actions(k)
        click(qtbot, mode_of(k).page.exit_button)
        assert not panel._preview_timer.isActive()  # no timer left running behind the kiosk
    finally:
        k.shutdown()
        cam.stop()


# ---- Staff card


def test_a_staff_id_card_opens_diagnostics_and_any_other_card_does_not(
    qtbot, qapp, tmp_path: Path, server, id_reader_emu, scanner_emu, printer_emu
) -> None:
    from devices.emulators.idcard import sample_cards

    cards = sample_cards()
    staff, patient = cards["elder"], cards["zhangsan"]
    config = replace(
        Config(data_dir=tmp_path, server_url=server.base_url, kiosk_id="KIOSK-T1"),
        diagnostics_pin_hash=PIN_HASH,
        diagnostics_staff_cards=(hash_pin(staff.id_number, iterations=200_000),),
    ).with_devices(id_reader=id_reader_emu.url, scanner=scanner_emu.url, printer=printer_emu.url)
    (tmp_path / "log").mkdir(exist_ok=True)
    server.write_credential(config.kiosk_id, config.credential_path)  # what enrollment leaves
    k = build(config, qapp)
    k.window.setFixedSize(720, 1280)
    k.window.show()
    k.start_devices()
    try:
        mode = mode_of(k)
        id_reader_emu.place_card(patient)  # a card on the reader at home: neither flow nor diagnostics
        qtbot.wait(800)
        assert not k.window.in_diagnostics and k.controller.flow.step is Step.HOME
        id_reader_emu.remove_card()
        tap_hospital(qtbot, k)
        assert "工牌" in mode.pin_pad.hint.text() or "身份证" in mode.pin_pad.hint.text()
        qtbot.wait(500)  # the reader must see the field empty before it reads again
        id_reader_emu.place_card(patient)
        qtbot.waitUntil(lambda: "未授权" in mode.pin_pad.status.text(), timeout=WAIT_MS)
        assert not mode.unlocked
        id_reader_emu.remove_card()
        qtbot.wait(500)
        id_reader_emu.place_card(staff)
        qtbot.waitUntil(lambda: mode.unlocked, timeout=WAIT_MS)
        rows = audit_rows(k)
        assert any(r["action"] == "staff_card_refused" for r in rows)
        entered = [r for r in rows if r["action"] == "enter"]
        assert entered and "staff card" in entered[-1]["detail"] and staff.id_number not in entered[-1]["detail"]
    finally:
        k.shutdown()
