"""Report printing (报告打印) through the real widgets (pytest-qt): the emulated ID reader and printer,
the real server with the demo patients' reports. Print once, paper out mid-report (not counted,
printed again without a question), a reprint only with a reason, and the print-back records."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QPushButton

import kiosk_app.app
from devices.emulators.idcard import sample_cards
from kiosk_app.app import Kiosk, build
from kiosk_app.config import Config
from kiosk_app.features import load as load_features
from kiosk_app.features.reports.flow import LIST, REASON
from server.settings import ServerSettings
from server.testing import ServerThread

WAIT_MS = 20_000
ZHANGSAN = sample_cards()["zhangsan"]


@pytest.fixture
def demo_server(tmp_path: Path) -> Iterator[ServerThread]:
    """The real server with the demo ID cards' patients, their bookings and their reports."""
    settings = replace(ServerSettings(db_path=tmp_path / "server" / "server.db"), seed_demo_patients=True)
    with ServerThread(settings.with_fast_payments()) as srv:
        yield srv


@pytest.fixture
def kiosk(
    qapp, tmp_path: Path, demo_server: ServerThread, id_reader_emu, printer_emu, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Kiosk]:
    # Only this slice's features: others are built alongside in the same tree and tested on their own.
    monkeypatch.setattr(kiosk_app.app, "load_features", lambda: load_features(("checkin", "reports")))
    config = replace(Config(data_dir=tmp_path / "kiosk", server_url=demo_server.base_url), language="zh_CN")
    config = config.with_devices(id_reader=id_reader_emu.url, scanner="loop://", printer=printer_emu.url)
    config = replace(config, scanner=replace(config.scanner, enabled=False))
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


def settled(k: Kiosk, step: str, message: str | None = None) -> bool:
    flow = k.controller.flow
    return flow.step == step and not flow.busy and k.tasks.pending == 0 and (message is None or flow.message == message)


def report_button(k: Kiosk, title_zh: str) -> QPushButton:
    screen = k.window.screens[LIST]
    for button in screen.buttons:  # type: ignore[attr-defined]
        if button.isVisible() and button.text().startswith(title_zh):
            return button
    raise AssertionError(f"no button for {title_zh}: {[b.text() for b in screen.buttons]}")  # type: ignore[attr-defined]


def visible_text(k: Kiosk) -> str:
    return " ".join(w.text() for w in k.window.findChildren(QLabel) if w.isVisible())


def prints(srv: ServerThread, title_en: str) -> list[tuple[str, int, str | None, str, str | None]]:
    assert srv.app is not None
    with srv.app.state.db.connection() as conn:
        rows = conn.execute(
            "SELECT p.copy_kind, p.copy_no, p.reprint_reason, p.status, p.error_code FROM report_prints p"
            " JOIN reports r ON r.id = p.report_id WHERE r.title_en = ? ORDER BY p.id",
            (title_en,),
        ).fetchall()
    return [(r[0], int(r[1]), r[2], r[3], r[4]) for r in rows]


def to_list(qtbot, k: Kiosk, id_reader_emu: Any) -> None:
    click(qtbot, k.window.screens["home"].feature_buttons["reports"])  # type: ignore[attr-defined]
    assert k.controller.flow.step == "reports.identify"
    id_reader_emu.place_card(ZHANGSAN)
    qtbot.waitUntil(lambda: settled(k, LIST), timeout=WAIT_MS)
    id_reader_emu.remove_card()


def test_print_once_paper_out_then_again_and_a_reprint_with_a_reason(
    qtbot, kiosk: Kiosk, id_reader_emu, printer_emu, demo_server: ServerThread
) -> None:
    to_list(qtbot, kiosk, id_reader_emu)
    text = visible_text(kiosk) + " ".join(b.text() for b in kiosk.window.screens[LIST].buttons)  # type: ignore[attr-defined]
    assert "张*" in text and "张三" not in text  # masked, never the whole name
    assert "肝功能" in report_button(kiosk, "肝功能").text() and not report_button(kiosk, "肝功能").isEnabled()
    assert kiosk.window.screens[LIST].print_all.isVisible()  # type: ignore[attr-defined]  # two ready, unprinted

    # Paper runs out halfway through the blood count.
    printer_emu.fail_mid_job = 400
    click(qtbot, report_button(kiosk, "血常规"))
    qtbot.waitUntil(lambda: settled(kiosk, LIST, "reports.paper_out"), timeout=WAIT_MS)
    assert "纸" in kiosk.window.banner.text()  # a clear message, in Chinese
    assert "重新打印" in report_button(kiosk, "血常规").text() or "再次" in report_button(kiosk, "血常规").text()
    assert prints(demo_server, "Complete blood count") == [("first", 1, None, "failed", "paper_out")]

    # Refilled: the same report prints again without a question, and counts once.
    printer_emu.fail_mid_job = None
    printer_emu.set_state()
    before = len(printer_emu.jobs)
    click(qtbot, report_button(kiosk, "血常规"))
    qtbot.waitUntil(lambda: settled(kiosk, LIST, "reports.printed"), timeout=WAIT_MS)
    job = printer_emu.wait_for_jobs(before + 1)[-1]
    assert "检验报告单" in job.text and "淋巴细胞百分比" in job.text and "18.1↓" in job.text
    assert "张*" in job.text and "张三" not in job.text and "第1份" in job.text
    assert prints(demo_server, "Complete blood count")[-1] == ("first", 1, None, "printed", None)

    # Another copy needs a reason, chosen on a touch button; it is recorded as a reprint.
    click(qtbot, report_button(kiosk, "血常规"))
    qtbot.waitUntil(lambda: settled(kiosk, REASON), timeout=WAIT_MS)
    assert len(printer_emu.jobs) == before + 1  # nothing printed by touching it
    click(qtbot, kiosk.window.screens[REASON].reason_buttons["lost"])  # type: ignore[attr-defined]
    qtbot.waitUntil(lambda: settled(kiosk, LIST, "reports.printed"), timeout=WAIT_MS)
    reprint = printer_emu.wait_for_jobs(before + 2)[-1]
    assert "补打" in reprint.text and "第2份" in reprint.text and "遗失" in reprint.text
    assert prints(demo_server, "Complete blood count")[-1] == ("reprint", 2, "lost", "printed", None)

    # Back from the reason screen prints nothing.
    click(qtbot, report_button(kiosk, "血常规"))
    qtbot.waitUntil(lambda: settled(kiosk, REASON), timeout=WAIT_MS)
    click(qtbot, kiosk.window.back_button)
    qtbot.waitUntil(lambda: settled(kiosk, LIST), timeout=WAIT_MS)
    assert len(printer_emu.jobs) == before + 2 and len(prints(demo_server, "Complete blood count")) == 3

    # The kiosk's journal holds every copy's print-back record, masked.
    jobs = list(kiosk.journal.store.read().query("SELECT job_id, status FROM print_jobs ORDER BY created_at"))
    assert [j["status"] for j in jobs] == ["failed", "printed", "printed"]
    assert all(j["job_id"].startswith("report:") for j in jobs)


def test_print_all_new_prints_each_ready_report_once_and_pending_ones_never(
    qtbot, kiosk: Kiosk, id_reader_emu, printer_emu, demo_server: ServerThread
) -> None:
    to_list(qtbot, kiosk, id_reader_emu)
    before = len(printer_emu.jobs)
    click(qtbot, kiosk.window.screens[LIST].print_all)  # type: ignore[attr-defined]
    qtbot.waitUntil(lambda: settled(kiosk, LIST, "reports.printed"), timeout=WAIT_MS)
    jobs = printer_emu.wait_for_jobs(before + 2)
    assert len(jobs) == before + 2
    assert {"检验报告单" in j.text for j in jobs[-2:]} == {True, False}  # the blood count and the X-ray
    assert "诊断意见" in jobs[-1].text or "诊断意见" in jobs[-2].text
    assert not kiosk.window.screens[LIST].print_all.isVisible()  # type: ignore[attr-defined]
    assert [p[3] for p in prints(demo_server, "Chest X-ray")] == ["printed"]
    assert prints(demo_server, "Liver function") == []
    click(qtbot, kiosk.window.home_button)
    qtbot.waitUntil(lambda: kiosk.controller.flow.at_home, timeout=WAIT_MS)
    assert all(not b.isVisible() or "血常规" not in b.text() for b in kiosk.window.screens[LIST].buttons)  # type: ignore[attr-defined]


def test_paper_already_out_claims_nothing(qtbot, kiosk: Kiosk, id_reader_emu, printer_emu, demo_server) -> None:
    to_list(qtbot, kiosk, id_reader_emu)
    printer_emu.set_state(paper_end=True)
    click(qtbot, report_button(kiosk, "血常规"))
    qtbot.waitUntil(lambda: settled(kiosk, LIST) and kiosk.controller.flow.message != "", timeout=WAIT_MS)
    assert kiosk.controller.flow.message == "printer.paper_out"
    assert prints(demo_server, "Complete blood count") == []


def test_network_lost_before_a_print_prints_nothing(
    qtbot, kiosk: Kiosk, id_reader_emu, printer_emu, demo_server: ServerThread
) -> None:
    to_list(qtbot, kiosk, id_reader_emu)
    demo_server.stop()
    click(qtbot, report_button(kiosk, "血常规"))
    qtbot.waitUntil(lambda: settled(kiosk, LIST) and kiosk.controller.flow.message != "", timeout=WAIT_MS)
    assert kiosk.controller.flow.message == "server.unavailable" and "无法连接" in kiosk.window.banner.text()
    assert len(printer_emu.jobs) == 0 and prints(demo_server, "Complete blood count") == []


def test_next_turns_the_page_in_elderly_mode(qtbot, kiosk: Kiosk, id_reader_emu) -> None:
    """Two reports a page in large type: Next shows the others (it once snapped back to page one,
    because the list handed to the screen was a fresh copy at every refresh)."""
    kiosk.window.set_elderly(True)
    to_list(qtbot, kiosk, id_reader_emu)
    screen = kiosk.window.screens[LIST]
    first = [b.text() for b in screen.buttons if b.isVisible()]  # type: ignore[attr-defined]
    assert len(first) == 2 and screen.next_button.isEnabled()  # type: ignore[attr-defined]
    click(qtbot, screen.next_button)  # type: ignore[attr-defined]
    kiosk.controller.sig_changed.emit()  # any later re-render (a timer, a device event) keeps the page
    second = [b.text() for b in screen.buttons if b.isVisible()]  # type: ignore[attr-defined]
    assert screen.page == 1 and second and not set(second) & set(first)  # type: ignore[attr-defined]
