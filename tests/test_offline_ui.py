"""Offline mode as the patient and the technician see it (pytest-qt, offscreen): the offline strip
follows the uploader's reports, the result screen for a registration queued offline or sent to the
cashier, the heartbeat's queue depth with the outbox, and the sync state in diagnostics.

Screenshots of the offline screens go to ``$KIOSK_SHOTS_DIR`` (default: the test's tmp dir)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PySide6.QtWidgets import QLabel

from kiosk_app import messages
from kiosk_app.app import Kiosk, build
from kiosk_app.config import Config
from kiosk_app.diagnostics.report import ReportInputs, build_report, render_text
from kiosk_app.fleet import queue_depth
from kiosk_app.flows.registration import PrintState, Step
from kiosk_app.screens.home import Tile
from kiosk_app.screens.result import ResultScreen
from kiosk_app.tour import cut_labels
from sync.client import Registration
from sync.uploader import UploaderStatus

WAIT_MS = 5_000
UNREACHABLE = "http://127.0.0.1:9"  # discard port: nothing answers; no thread is started anyway


@pytest.fixture
def kiosk(qapp, tmp_path: Path) -> Iterator[Kiosk]:
    """The whole app, built but with no device, uploader or heartbeat thread started."""
    config = replace(Config(data_dir=tmp_path, server_url=UNREACHABLE, kiosk_id="KIOSK-01"), language="en")
    k = build(config, qapp)
    k.window.setFixedSize(720, 1280)
    k.window.show()
    yield k
    k.shutdown()
    qapp.removeEventFilter(k.idle)


def registration(status: str, reg_no: str) -> Registration:
    return Registration(
        registration_id=0,
        reg_no=reg_no,
        status=status,
        amount_cents=1250,
        department_code="NEI",
        department_name_zh="内科",
        department_name_en="Internal Medicine",
        doctor_name_zh="王医生",
        doctor_name_en="Dr Wang",
        doctor_title_zh="主任医师",
        doctor_title_en="Chief Physician",
        date="2026-03-02",
        start="09:00",
        end="09:30",
    )


def show_result(k: Kiosk, reg: Registration, message: str, *, paid: bool = False, hold_kept: bool = False) -> None:
    """Put the flow where the service leaves it and let the window render it."""
    flow = k.controller.flow
    flow.step, flow.busy, flow.registration, flow.message = Step.RESULT, False, reg, message
    flow.paid, flow.hold_kept = paid, hold_kept
    flow.print_state = PrintState.PRINTED if (paid or reg.status == "pending") else PrintState.NONE
    k.window.refresh()


def go_offline(qtbot, k: Kiosk, online: bool | None = False) -> None:
    assert k.sync_status is not None
    k.sync_status.on_uploader_status(UploaderStatus(online=online, last_error="ServerUnavailable"))
    qtbot.waitUntil(lambda: k.window.offline_banner.isVisible() == (online is False), timeout=WAIT_MS)


def texts(screen: ResultScreen) -> list[str]:
    return [w.text() for w in screen.findChildren(QLabel) if w.isVisibleTo(screen)]


def queue_one(k: Kiosk, age: timedelta = timedelta(0)) -> str:
    assert k.offline is not None
    outbox = k.offline.outbox
    key = k.store.write(lambda db: outbox.add(db, "registration", {"slot": 1, "name": "张三"}))
    if age:
        created = (datetime.now(UTC) - age).isoformat(timespec="milliseconds")
        k.store.write(lambda db: db.execute("UPDATE outbox SET created_at = ? WHERE key = ?", [created, key]))
    return key


def shots_dir(tmp_path: Path) -> Path:
    out = Path(os.environ.get("KIOSK_SHOTS_DIR") or tmp_path / "shots")
    out.mkdir(parents=True, exist_ok=True)
    return out


# ---- The offline strip


def test_offline_strip_follows_the_uploader_and_the_language(qtbot, kiosk: Kiosk) -> None:
    w = kiosk.window
    assert not w.offline_banner.isVisible()  # no contact yet is not "offline"
    go_offline(qtbot, kiosk)
    assert w.offline and w.offline_banner.text() == messages.text("offline.banner")
    assert "Offline" in w.offline_banner.text()
    w.toggle_language()
    assert kiosk.translations.language == "zh_CN"
    assert w.offline_banner.text() == messages.text("offline.banner") and "离线" in w.offline_banner.text()
    small = w.offline_banner.sizeHint().height()
    w.elderly_button.setChecked(True)  # elderly mode: larger text, like every other label
    w.offline_banner.ensurePolished()
    assert w.offline_banner.sizeHint().height() > small
    go_offline(qtbot, kiosk, online=True)
    assert not w.offline_banner.isVisible() and not w.offline


def test_offline_strip_steps_aside_while_the_banner_says_offline(qtbot, kiosk: Kiosk) -> None:
    go_offline(qtbot, kiosk)
    show_result(kiosk, registration("pending", "P-KIOSK-01-0007"), "reg.pending_offline")
    assert kiosk.window.banner.isVisible() and not kiosk.window.offline_banner.isVisible()
    kiosk.controller.wipe()
    qtbot.waitUntil(lambda: kiosk.controller.flow.step is Step.HOME, timeout=WAIT_MS)
    assert kiosk.window.offline_banner.isVisible()
    kiosk.controller.flow.message = "reg.no_slots"  # any other message: the strip stays
    kiosk.window.refresh()
    assert kiosk.window.offline_banner.isVisible() and kiosk.window.banner.isVisible()


# ---- The result screen


def test_pending_registration_shows_the_provisional_number_and_no_paid(qtbot, kiosk: Kiosk) -> None:
    go_offline(qtbot, kiosk)
    show_result(kiosk, registration("pending", "P-KIOSK-01-0007"), "reg.pending_offline")
    screen = kiosk.window.screens[Step.RESULT]
    assert isinstance(screen, ResultScreen) and kiosk.window.stack.currentWidget() is screen
    shown = texts(screen)
    assert "Registration pending confirmation" in shown
    assert "Provisional number" in shown and "P-KIOSK-01-0007" in shown
    assert "Fee (pay at the cashier)" in shown and "¥12.50" in shown
    assert "Internal Medicine" in shown and "Dr Wang" in shown and "2026-03-02  09:00 – 09:30" in shown
    assert "Paid" not in shown and "Registration complete" not in shown and "Your queue number" not in shown
    assert kiosk.window.banner.text() == messages.text("reg.pending_offline")
    assert kiosk.window.banner.property("kind") == "info"
    assert not screen.print_status.isVisible()  # the banner already says to take the slip
    card = screen.card
    assert card.height() >= card.sizeHint().height()  # nothing squeezed


def test_failed_slip_of_a_pending_registration_can_be_reprinted(qtbot, kiosk: Kiosk) -> None:
    show_result(kiosk, registration("pending", "P-KIOSK-01-0007"), "printer.paper_out")
    kiosk.controller.flow.print_state = PrintState.FAILED
    kiosk.window.refresh()
    screen = kiosk.window.screens[Step.RESULT]
    assert isinstance(screen, ResultScreen)
    assert screen.reprint.isVisible()
    assert "provisional number" in screen.print_status.text()


def test_payment_refused_offline_sends_the_patient_to_the_cashier(qtbot, kiosk: Kiosk) -> None:
    show_result(kiosk, registration("unpaid", "0042"), "pay.offline_cashier", hold_kept=True)
    screen = kiosk.window.screens[Step.RESULT]
    assert isinstance(screen, ResultScreen)
    shown = texts(screen)
    assert "Please pay at the cashier window" in shown
    assert "Your registration number" in shown and "0042" in shown and "Fee (pay at the cashier)" in shown
    assert "Paid" not in shown and not screen.reprint.isVisible()


def test_paid_registration_is_unchanged(qtbot, kiosk: Kiosk) -> None:
    show_result(kiosk, registration("paid", "0043"), "pay.success", paid=True)
    screen = kiosk.window.screens[Step.RESULT]
    assert isinstance(screen, ResultScreen)
    shown = texts(screen)
    assert "Registration complete" in shown and "Your queue number" in shown and "0043" in shown
    assert "Paid" in shown and "Fee (pay at the cashier)" not in shown


# ---- Heartbeat


def test_heartbeat_counts_the_outbox_and_reports_the_oldest_age(qtbot, kiosk: Kiosk) -> None:
    assert kiosk.fleet is not None
    beat = kiosk.fleet._collect()
    assert beat["queue_depth"] == 0 and beat["oldest_pending_age_s"] is None
    queue_one(kiosk, age=timedelta(hours=2))
    queue_one(kiosk)
    kiosk.journal.create("txn-1", "registration", patient_masked="张*", patient_ref="1")
    kiosk.journal.update("txn-1", "registering")  # unresolved, and newer than the outbox's oldest
    beat = kiosk.fleet._collect()
    assert beat["queue_depth"] == 3
    assert 7100 < beat["oldest_pending_age_s"] < 7300  # the outbox's two-hour-old item, not the new txn
    depth, oldest = queue_depth(kiosk.journal, None)  # without an outbox: the journal alone
    assert depth == 1 and oldest is not None and oldest < 60


# ---- Diagnostics


def test_report_has_a_sync_section(kiosk: Kiosk) -> None:
    assert kiosk.offline is not None
    queue_one(kiosk, age=timedelta(minutes=5))
    config = kiosk.config
    inputs = ReportInputs(
        kiosk_id=config.kiosk_id,
        hospital=config.hospital_name_en,
        server_url=config.server_url,
        app_version="test",
        qt_version="6",
        pyside_version="6",
        devices=[],
        data_dir=config.data_dir,
        log_path=config.data_dir / "none.log",
        sync=UploaderStatus(online=False, last_error="ServerUnavailable", clock_offset_s=-3.25, sent=4),
    )
    report = build_report(inputs, kiosk.journal, queue=kiosk.offline.outbox.stats())
    sync = json.loads(json.dumps(report))["sync"]
    assert sync["connection"] == "offline" and sync["clock_offset_s"] == -3.25 and sync["sent_since_start"] == 4
    box = sync["outbox"]
    assert box["pending"] == 1 and box["pending_bytes"] > 0 and box["level"] == "ok" and box["rejected"] == 0
    assert 290 < box["oldest_age_s"] < 400
    text = render_text(report)
    assert "connection: OFFLINE — last error: ServerUnavailable" in text
    assert "outbox: 1 pending" in text and "clock offset (server − kiosk): -3.2 s" in text and "5 min" in text
    assert build_report(replace(inputs, sync=None), kiosk.journal)["sync"] is None


def test_diagnostics_shows_the_sync_state(qtbot, kiosk: Kiosk) -> None:
    w = kiosk.window
    assert w.diagnostics is not None
    queue_one(kiosk, age=timedelta(minutes=3))
    go_offline(qtbot, kiosk)
    w.open_diagnostics()
    w.diagnostics.enter()  # the PIN pad is tested in test_diagnostics_qt
    card = w.diagnostics.page.devices.sync_card
    assert card is not None
    qtbot.waitUntil(lambda: card.isVisible() and card.stats is not None and not card.reading, timeout=WAIT_MS)
    assert card.badge.text() == "Offline" and card.badge.property("state") == "error"
    assert card.value("pending").startswith("1 pending (") and card.value("rejected") == "0"
    assert card.value("fill").endswith("OK") and card.value("oldest").startswith("3 min")
    assert card.value("clock") == "not measured yet" and card.value("error") == "ServerUnavailable"
    assert kiosk.sync_status is not None
    kiosk.sync_status.on_uploader_status(UploaderStatus(online=True, clock_offset_s=1.5, sent=1))
    qtbot.waitUntil(lambda: card.badge.text() == "Online", timeout=WAIT_MS)
    assert card.value("clock") == "+1.5 s (server minus kiosk)" and card.value("sent") == "1"
    w.diagnostics.exit()
    assert not w.in_diagnostics


# ---- Screenshots


@pytest.mark.parametrize("language", ["zh_CN", "en"])
def test_paid_but_paper_out_fits_in_large_type(qtbot, kiosk: Kiosk, tmp_path: Path, language: str) -> None:
    """The longest online result: the paper-out message, the queue number, the card, the retry
    button; in elderly sizes every label keeps its whole height."""
    w = kiosk.window
    kiosk.translations.switch(language)
    w.elderly_button.setChecked(True)
    show_result(kiosk, registration("paid", "R20260302000007"), "printer.paper_out", paid=True)
    kiosk.controller.flow.print_state = PrintState.FAILED
    w.refresh()
    qtbot.wait(50)
    path = shots_dir(tmp_path) / f"paper_out_{language}_elderly.png"
    assert w.grab().save(str(path))
    assert w.screens[Step.RESULT].reprint.isVisible() and cut_labels(w) == [], path  # type: ignore[attr-defined]


@pytest.mark.parametrize("language", ["zh_CN", "en"])
def test_screenshots(qtbot, kiosk: Kiosk, tmp_path: Path, language: str) -> None:
    out = shots_dir(tmp_path)
    w = kiosk.window
    kiosk.translations.switch(language)
    go_offline(qtbot, kiosk)
    queue_one(kiosk, age=timedelta(minutes=42))
    shots = []
    for elderly in (False, True):
        w.elderly_button.setChecked(elderly)
        show_result(kiosk, registration("pending", "P-KIOSK-01-0007"), "reg.pending_offline")
        qtbot.wait(50)
        path = out / f"pending_{language}{'_elderly' if elderly else ''}.png"
        assert w.grab().save(str(path))
        assert cut_labels(w) == [], path
        shots.append(path)
    show_result(kiosk, registration("unpaid", "0042"), "pay.offline_cashier", hold_kept=True)
    qtbot.wait(50)
    path = out / f"cashier_{language}_elderly.png"
    assert w.grab().save(str(path))
    assert cut_labels(w) == [], path
    shots.append(path)
    w.elderly_button.setChecked(False)
    kiosk.controller.wipe()
    qtbot.waitUntil(lambda: kiosk.controller.flow.step is Step.HOME, timeout=WAIT_MS)
    qtbot.wait(50)  # the home's layout settles (a grab at once can catch it half-way)
    path = out / f"home_offline_{language}.png"
    assert w.grab().save(str(path))
    assert w.offline_banner.isVisible() and cut_labels(w) == [], path
    shots.append(path)
    w.elderly_button.setChecked(True)  # eight tiles in large type, under the offline strip
    qtbot.wait(50)
    path = out / f"home_offline_{language}_elderly.png"
    assert w.grab().save(str(path))
    tiles = [t.geometry() for t in w.screens["home"].findChildren(Tile) if t.isVisible()]
    assert len(tiles) >= 8 and cut_labels(w) == [], path
    assert not [(a, b) for i, a in enumerate(tiles) for b in tiles[i + 1 :] if a.intersects(b)], path
    shots.append(path)
    w.elderly_button.setChecked(False)
    assert w.diagnostics is not None
    w.open_diagnostics()
    w.diagnostics.enter()
    card = w.diagnostics.page.devices.sync_card
    assert card is not None
    qtbot.waitUntil(lambda: card.stats is not None and not card.reading, timeout=WAIT_MS)
    bar = w.diagnostics.page.devices.scroller.verticalScrollBar()
    qtbot.waitUntil(lambda: bar.maximum() > 0, timeout=WAIT_MS)
    bar.setValue(bar.maximum())  # the sync card follows the device cards
    qtbot.wait(50)
    path = out / f"diagnostics_sync_{language}.png"
    assert w.grab().save(str(path))
    shots.append(path)
    w.diagnostics.exit()
    assert all(p.stat().st_size > 10_000 for p in shots)
