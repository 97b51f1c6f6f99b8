"""``--tour DIR``: walk the registration slice unattended on the demo emulators.

Each step acts as a patient would (a card on the reader, a code under the scanner, a touch on
a button) and waits for the screen to show the result before saving a PNG of it, in Chinese
and then in English, including the bad-input screens. The receipt as decoded by the printer
emulator goes to ``DIR/receipt.txt`` (and ``receipt.png``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Generator
from dataclasses import replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QLabel, QPushButton, QWidget

from devices.emulators.escpos_decode import decode_escpos
from devices.emulators.printer import render_png
from face.types import Action, Phase
from kiosk_app.app import Kiosk
from kiosk_app.demo import DEMO_CODES, DEMO_PIN, DemoEnvironment, resident_id
from kiosk_app.flows.filing import FilingStep
from kiosk_app.flows.filing import PrintState as FilingPrint
from kiosk_app.flows.registration import PrintState, Step
from kiosk_app.screens.choice import ChoiceScreen
from kiosk_app.screens.filing.phone import PhoneScreen

log = logging.getLogger(__name__)

Wait = Callable[[], bool]
STEP_TIMEOUT_S = 45


class TourFailed(RuntimeError):
    pass


class Tour:
    def __init__(self, kiosk: Kiosk, demo: DemoEnvironment, out_dir: Path) -> None:
        self.kiosk, self.demo, self.out = kiosk, demo, out_dir
        self.exit_code = 1
        self.shots: list[Path] = []
        self.cut: list[str] = []  # "shot: text" of each label shown shorter than its text needs
        self._script: Generator[Wait, None, None] | None = None
        self._waiting: Wait | None = None
        self._deadline = 0.0
        self._timer = QTimer()
        self._timer.setInterval(50)
        self._timer.timeout.connect(self._tick)

    @property
    def flow(self) -> Any:
        """The flow the patient is in (registration or filing)."""
        return self.kiosk.controller.flow

    def start(self) -> None:
        self.out.mkdir(parents=True, exist_ok=True)
        if not self.demo.wait_for_server():
            log.error("tour: the demo server did not start")
            QApplication.quit()
            return
        self._script = self.script()
        self._timer.start()

    # ---- Runner

    def _tick(self) -> None:
        assert self._script is not None
        try:
            if self._waiting is not None and not self._waiting():
                if time.monotonic() > self._deadline:
                    raise TourFailed(f"timed out at step {self.flow.step} ({self.flow.message})")
                return
            self._waiting = next(self._script)
            self._deadline = time.monotonic() + STEP_TIMEOUT_S
        except StopIteration:
            self.exit_code = 0
            self._finish()
        except Exception:
            log.exception("tour failed")
            self._finish()

    def _finish(self) -> None:
        self._timer.stop()
        (self.out / "cut_labels.txt").write_text("".join(f"{line}\n" for line in self.cut), encoding="utf-8")
        if self.cut:
            log.warning("tour: %d labels shown cut off, listed in cut_labels.txt", len(self.cut))
        log.info("tour finished with %d screenshots, exit code %d", len(self.shots), self.exit_code)
        QApplication.quit()

    # ---- Helpers

    def shot(self, name: str) -> None:
        """Save the window as ``name``.png, and the same screen in the other language as its twin
        (``_en`` added or removed) unless a walk saved that one on purpose."""
        _settle()
        path = self.out / f"{name}.png"
        w = self.kiosk.window
        w.grab().save(str(path))
        self.shots.append(path)
        self._check_cut(path)
        twin = self.out / f"{name.replace('_en', '', 1) if '_en' in name else name + '_en'}.png"
        if twin in self.shots:
            return
        w.toggle_language()  # a re-render of the same state: the flow is not touched
        _settle()
        w.grab().save(str(twin))
        self._check_cut(twin)
        w.toggle_language()
        _settle()

    def _check_cut(self, path: Path) -> None:
        self.cut += [f"{path.stem}: {text}" for text in cut_labels(self.kiosk.window)]

    def idle(self) -> bool:
        return not self.flow.busy and self.kiosk.tasks.pending == 0

    def at(self, step: Step | FilingStep | str) -> Wait:
        """Wait until the active flow is at ``step`` (a feature's steps are plain strings) and idle."""
        return lambda: self.flow.step == step and self.idle()

    def click(self, button: QPushButton) -> None:
        if not button.isEnabled() or not button.isVisible():
            raise TourFailed(f"button {button.text()!r} is not clickable")
        button.click()

    def first_choice(self, step: Step) -> None:
        """Touch the first free choice, turning pages as a patient would when one is full."""
        screen = self.kiosk.window.screens[step]
        assert isinstance(screen, ChoiceScreen)
        while True:
            free = [b for b in screen.buttons if b.isVisible() and b.isEnabled()]
            if free:
                self.click(free[0])
                return
            if not screen.next_button.isEnabled():
                raise TourFailed(f"nothing free to choose at {step}")
            self.click(screen.next_button)

    def register_until_pay(self, suffix: str, *, bad_card: bool) -> Generator[Wait, None, None]:
        w = self.kiosk.window
        self.click(w.screens[Step.HOME].register_button)  # type: ignore[attr-defined]
        yield self.at(Step.IDENTIFY)
        self.shot(f"02_identify{suffix}")
        card = self.demo.cards["zhangsan"]
        if bad_card:
            self.demo.id_reader.inject("pull_mid_read")
            self.demo.id_reader.place_card(card)
            yield lambda: self.flow.message.startswith(("card.", "device."))
            self.shot(f"03_card_pulled_away{suffix}")
            self.demo.id_reader.remove_card()
            yield lambda: not self.demo.id_reader.card_present
        self.demo.id_reader.place_card(card)
        yield self.at(Step.DEPARTMENT)
        self.shot(f"04_departments{suffix}")
        self.demo.id_reader.remove_card()
        self.first_choice(Step.DEPARTMENT)
        yield self.at(Step.DOCTOR)
        self.shot(f"05_doctors{suffix}")
        self.first_choice(Step.DOCTOR)
        yield self.at(Step.SLOT)
        self.shot(f"06_slots{suffix}")
        self.first_choice(Step.SLOT)
        yield self.at(Step.CONFIRM)
        self.shot(f"07_confirm{suffix}")
        self.click(w.screens[Step.CONFIRM].button)  # type: ignore[attr-defined]
        yield self.at(Step.PAY)
        self.shot(f"08_pay{suffix}")

    # ---- The walk

    def script(self) -> Generator[Wait, None, None]:
        w, demo = self.kiosk.window, self.demo
        yield lambda: True
        self.shot("01_home")

        # Chinese: a bad card frame, a non-payment scan, then USERPAYING that succeeds.
        yield from self.register_until_pay("", bad_card=True)
        demo.scanner.scan(DEMO_CODES["not_payment"])
        yield lambda: self.flow.message == "pay.not_payment_code"
        self.shot("09_not_a_payment_code")
        demo.scanner.scan(DEMO_CODES["userpaying"])
        yield lambda: self.flow.message == "pay.userpaying"
        self.shot("10_confirm_on_phone")
        yield lambda: self.flow.step is Step.RESULT and self.flow.print_state is PrintState.PRINTED
        self.shot("11_done")
        job = demo.printer.wait_for_jobs(1, timeout=10)[-1]
        (self.out / "receipt.txt").write_text(job.text, encoding="utf-8")
        render_png(decode_escpos(job.raw), self.out / "receipt.png")
        self.click(w.screens[Step.RESULT].done)  # type: ignore[attr-defined]
        yield self.at(Step.HOME)

        # English + elderly mode: insufficient funds, then paper out after a good payment.
        w.toggle_language()
        w.elderly_button.click()
        yield lambda: True
        self.shot("01_home_en_elderly")
        yield from self.register_until_pay("_en", bad_card=False)
        demo.scanner.scan(DEMO_CODES["insufficient"])
        yield lambda: self.flow.step is Step.PAY and self.flow.message.startswith("pay.failed")
        self.shot("09_payment_failed_en")
        demo.printer.set_state(paper_end=True)
        demo.scanner.scan(DEMO_CODES["success"])
        yield lambda: self.flow.step is Step.RESULT and self.flow.print_state is PrintState.FAILED
        self.shot("11_done_paper_out_en")
        demo.printer.set_state()  # staff refilled the paper: the patient reprints, once
        self.click(w.screens[Step.RESULT].reprint)  # type: ignore[attr-defined]
        yield lambda: self.flow.print_state is PrintState.PRINTED
        self.shot("11_done_reprinted_en")

        # Idle timeout: the countdown, then the session is wiped.
        configured = self.kiosk.idle.timeout_s, self.kiosk.idle.warning_s
        self.kiosk.idle.timeout_s, self.kiosk.idle.warning_s = 4, 3
        self.kiosk.idle.touch()
        yield lambda: w.countdown.isVisible()
        self.shot("12_idle_countdown_en")
        yield self.at(Step.HOME)
        if self.flow.registration is not None or self.flow.patient is not None:
            raise TourFailed("session data survived the idle timeout")
        self.kiosk.idle.timeout_s, self.kiosk.idle.warning_s = configured
        w.elderly_button.click()
        w.toggle_language()
        yield lambda: True
        self.shot("13_home_after_timeout")
        yield from self.filing()
        yield from self.identification()
        # The features walk in English and elderly mode (the second language and the larger sizes
        # are where layouts break), each leaving it so; Chinese shots are their own choice.
        w.toggle_language()
        w.elderly_button.click()
        yield lambda: True
        for feature in self.kiosk.controller.feature_list:  # kiosk_app/features/: each walks its own
            if feature.tour is not None:
                yield from feature.tour(self)
        w.toggle_language()
        w.elderly_button.click()
        yield lambda: True
        yield from self.offline()
        yield from self.diagnostics()

    # ---- First-time filing (建档)

    def follow(self) -> None:
        """Play the patient in front of the camera: do the head turn the screen asks for."""
        report = getattr(self.flow, "report", None)
        if report is None or report.action is None:
            return
        want = "turn_left" if report.action is Action.TURN_LEFT else "turn_right"
        if self.demo.puppet is not None and self.demo.puppet.motion != want:
            self.demo.act(want)

    def phase(self, *phases: Phase) -> Wait:
        def seen() -> bool:
            self.follow()
            report = getattr(self.flow, "report", None)
            return report is not None and report.phase in phases

        return seen

    def type_phone(self, digits: str) -> None:
        screen = self.kiosk.window.screens[FilingStep.PHONE]
        assert isinstance(screen, PhoneScreen)
        for d in digits:
            self.click(screen.digit_buttons[d])

    def start_filing(self, card: str, shot: str = "") -> Generator[Wait, None, None]:
        self.click(self.kiosk.window.screens[Step.HOME].filing_button)  # type: ignore[attr-defined]
        yield self.at(FilingStep.IDENTIFY)
        if shot:
            self.shot(shot)
        self.demo.place_card(card)
        yield lambda: self.flow.step in (FilingStep.CONSENT, FilingStep.ALREADY) and self.idle()
        self.demo.id_reader.remove_card()
        yield lambda: not self.demo.id_reader.card_present

    def face_check(self, suffix: str, button: QPushButton) -> Generator[Wait, None, None]:
        """Hints, the head-turn challenge, the match, up to the phone pad (``button`` starts it)."""
        demo = self.demo
        demo.act("away")  # the patient is still a step back: the screen asks them closer
        self.click(button)
        yield lambda: self.flow.step is FilingStep.FACE and self.flow.report is not None
        yield lambda: self.flow.report is not None and not self.flow.report.quality.ok
        yield lambda: True
        self.shot(f"33_filing_camera_hint{suffix}")
        demo.act("front")
        yield self.phase(Phase.CHALLENGE)
        yield lambda: True
        self.shot(f"34_filing_challenge{suffix}")
        matching = self.phase(Phase.ENCODING, Phase.PASSED)
        yield lambda: matching() or self.flow.step is not FilingStep.FACE
        if self.flow.step is FilingStep.FACE:
            self.shot(f"35_filing_matching{suffix}")
        yield lambda: self.flow.step is not FilingStep.FACE
        if self.flow.step is not FilingStep.PHONE:
            raise TourFailed(f"the live face did not pass: {self.flow.message}")

    def filing(self) -> Generator[Wait, None, None]:
        """A first-time patient: consent, a photo held up (refused), then the live face; a second
        one in English and elderly mode; one without a readable chip photo; one already filed."""
        w, demo = self.kiosk.window, self.demo
        if demo.puppet is None:
            log.warning("tour: no face clip, so the filing walk covers the staff check only")
        jobs = len(demo.printer.jobs)
        yield from self.start_filing("newpatient", "30_filing_identify")
        self.shot("31_filing_consent")
        if demo.puppet is not None:
            demo.act("photo")  # a printed photo turned about in front of the camera
            self.click(w.screens[FilingStep.CONSENT].face_button)  # type: ignore[attr-defined]
            yield lambda: self.flow.step is FilingStep.FACE and self.flow.report is not None
            yield lambda: True
            self.shot("32_filing_photo_attack")
            yield self.at(FilingStep.FACE_FAILED)
            self.shot("32_filing_face_failed")
            yield from self.face_check("", w.screens[FilingStep.FACE_FAILED].retry_button)  # type: ignore[attr-defined]
        else:
            self.click(w.screens[FilingStep.CONSENT].staff_button)  # type: ignore[attr-defined]
        yield self.at(FilingStep.PHONE)
        self.type_phone("1380013")
        self.shot("36_filing_phone_typing")
        self.type_phone("8000")
        self.click(w.screens[FilingStep.PHONE].ok_button)  # type: ignore[attr-defined]
        yield lambda: self.flow.step is FilingStep.RESULT and self.flow.print_state is FilingPrint.PRINTED
        self.shot("37_filing_done")
        job = demo.printer.wait_for_jobs(jobs + 1, timeout=10)[-1]
        (self.out / "filing_slip.txt").write_text(job.text, encoding="utf-8")
        render_png(decode_escpos(job.raw), self.out / "filing_slip.png")
        self.click(w.screens[FilingStep.RESULT].done)  # type: ignore[attr-defined]
        yield self.at(Step.HOME)

        # English, elderly mode: the whole face path again, then the printer runs out of paper.
        w.toggle_language()
        w.elderly_button.click()
        yield lambda: True
        self.shot("30_home_en_elderly")
        yield from self.start_filing("newpatient2", "30_filing_identify_en")
        self.shot("31_filing_consent_en")
        if demo.puppet is not None:
            yield from self.face_check("_en", w.screens[FilingStep.CONSENT].face_button)  # type: ignore[attr-defined]
        else:
            self.click(w.screens[FilingStep.CONSENT].staff_button)  # type: ignore[attr-defined]
        yield self.at(FilingStep.PHONE)
        self.type_phone("12345678901")
        self.click(w.screens[FilingStep.PHONE].ok_button)  # type: ignore[attr-defined]
        yield lambda: self.flow.message == "filing.phone_invalid"
        self.shot("36_filing_phone_invalid_en")
        for _ in range(11):
            self.click(w.screens[FilingStep.PHONE].delete_button)  # type: ignore[attr-defined]
        self.type_phone("13912345678")
        demo.printer.set_state(paper_end=True)
        self.click(w.screens[FilingStep.PHONE].ok_button)  # type: ignore[attr-defined]
        yield lambda: self.flow.step is FilingStep.RESULT and self.flow.print_state is FilingPrint.FAILED
        self.shot("37_filing_paper_out_en")
        demo.printer.set_state()
        self.click(w.screens[FilingStep.RESULT].reprint)  # type: ignore[attr-defined]
        yield lambda: self.flow.print_state is FilingPrint.PRINTED
        self.shot("37_filing_reprinted_en")
        self.click(w.screens[FilingStep.RESULT].done)  # type: ignore[attr-defined]
        yield self.at(Step.HOME)

        # No chip photo (no vendor decoder): face verification is impossible; the staff check.
        yield from self.start_filing("newpatient_nophoto")
        self.click(w.screens[FilingStep.CONSENT].face_button)  # type: ignore[attr-defined]
        yield lambda: self.flow.message == "face.unavailable.photo" and self.idle()
        self.shot("38_filing_no_photo_en")
        self.click(w.screens[FilingStep.CONSENT].staff_button)  # type: ignore[attr-defined]
        yield self.at(FilingStep.PHONE)
        self.type_phone("13612345678")
        self.shot("38_filing_staff_phone_en")
        self.click(w.screens[FilingStep.PHONE].ok_button)  # type: ignore[attr-defined]
        yield lambda: self.flow.step is FilingStep.RESULT and self.flow.print_state is FilingPrint.PRINTED
        self.shot("38_filing_staff_done_en")
        job = demo.printer.wait_for_jobs(jobs + 3, timeout=10)[-1]
        (self.out / "filing_slip_staff.txt").write_text(job.text, encoding="utf-8")
        self.click(w.screens[FilingStep.RESULT].done)  # type: ignore[attr-defined]
        yield self.at(Step.HOME)

        # The first patient comes back: already filed, the masked visit-card number.
        yield from self.start_filing("newpatient")
        self.shot("39_filing_already_en")
        self.click(w.home_button)
        yield self.at(Step.HOME)
        w.elderly_button.click()
        w.toggle_language()
        yield lambda: True

    def identification(self) -> Generator[Wait, None, None]:
        """The identify step every feature shares: no record (filing offered), face digits, e-voucher."""
        features = self.kiosk.controller.feature_list
        if not features:
            return
        w, demo, name = self.kiosk.window, self.demo, features[0].name
        self.click(w.screens[Step.HOME].feature_buttons[name])  # type: ignore[attr-defined]
        identify = f"{name}.identify"
        yield self.at(identify)
        self.shot("75_identify")
        if self.flow.face_ok:
            self.click(w.screens[identify].face_button)  # type: ignore[attr-defined]
            yield self.at(f"{name}.face")
            for digit in "80":
                self.click(w.screens[f"{name}.face"].digit_buttons[digit])  # type: ignore[attr-defined]
            self.shot("77_identify_face_digits")
            self.click(w.back_button)
            yield self.at(identify)
        # Someone the hospital has never seen (the demo's own cards all have records by now).
        number = resident_id("44030119900707003")
        stranger = replace(demo.cards["zhangsan"], name="赵六", id_number=number, raw_text=b"")
        demo.id_reader.place_card(stranger)
        yield lambda: self.flow.offer_filing and self.idle()
        self.shot("76_identify_no_record")
        demo.id_reader.remove_card()
        yield lambda: not demo.id_reader.card_present
        demo.scan_identity("zhangsan", "evoucher")
        yield lambda: self.flow.patient is not None and self.idle()
        self.shot("78_identified_by_evoucher")
        self.click(w.home_button)
        yield self.at(Step.HOME)

    def offline(self) -> Generator[Wait, None, None]:
        """The network drops: a registration is queued with a pending slip, then confirmed."""
        w, demo = self.kiosk.window, self.demo
        offline, status = self.kiosk.offline, self.kiosk.sync_status
        assert offline is not None and status is not None
        jobs_before = len(demo.printer.jobs)
        demo.cut_network()
        yield lambda: demo.server is not None and demo.server.poll() is not None
        self.click(w.screens[Step.HOME].register_button)  # type: ignore[attr-defined]
        yield self.at(Step.IDENTIFY)
        demo.id_reader.place_card(demo.cards["elder"])
        yield self.at(Step.DEPARTMENT)
        demo.id_reader.remove_card()
        self.first_choice(Step.DEPARTMENT)
        yield self.at(Step.DOCTOR)
        self.first_choice(Step.DOCTOR)
        yield self.at(Step.SLOT)
        yield lambda: status.offline  # the failed calls opened the breaker: the strip is up
        self.shot("14_offline_slots")
        self.first_choice(Step.SLOT)
        yield self.at(Step.CONFIRM)
        self.click(w.screens[Step.CONFIRM].button)  # type: ignore[attr-defined]
        yield lambda: self.flow.step is Step.RESULT and self.flow.print_state is PrintState.PRINTED
        self.shot("15_offline_pending")
        txn_id = self.flow.txn_id
        job = demo.printer.wait_for_jobs(jobs_before + 1, timeout=10)[-1]
        (self.out / "receipt_pending.txt").write_text(job.text, encoding="utf-8")
        render_png(decode_escpos(job.raw), self.out / "receipt_pending.png")
        self.click(w.screens[Step.RESULT].done)  # type: ignore[attr-defined]
        yield self.at(Step.HOME)
        demo.restore_network()
        journal = self.kiosk.journal

        def confirmed() -> bool:
            row = journal.get(txn_id)  # a small indexed read; the tour is a demo script, not the app
            return not status.offline and row is not None and row["state"] == "registered"

        yield confirmed
        self.shot("16_back_online")

    def diagnostics(self) -> Generator[Wait, None, None]:
        """The technician's mode: five taps on the hospital name, the demo PIN, every tab."""
        w = self.kiosk.window
        mode = w.diagnostics
        assert mode is not None
        for _ in range(5):
            QTest.mouseClick(w.hospital, Qt.MouseButton.LeftButton)
        yield lambda: w.in_diagnostics
        for digit in DEMO_PIN:
            self.click(mode.pin_pad.digit_buttons[int(digit)])
        self.shot("20_diagnostics_pin")
        self.click(mode.pin_pad.ok_button)
        yield lambda: mode.unlocked
        page = mode.page
        devices = self.kiosk.hub.devices
        yield lambda: all(d.state.value in ("ready", "busy") for d in devices)
        self.shot("21_diagnostics_devices")
        self.click(page.tab_buttons["log"])
        yield lambda: self.kiosk.tasks.pending == 0
        self.shot("22_diagnostics_log")
        self.click(page.tab_buttons["report"])
        self.click(page.report.export_button)
        yield lambda: self.kiosk.tasks.pending == 0 and page.report.isVisible()
        self.shot("23_diagnostics_report")
        self.click(page.exit_button)
        yield lambda: not w.in_diagnostics


def _settle() -> None:
    """Let the layouts converge before a grab: new text in a wrapping label changes its height
    for its width, which asks the card's layout again, which can ask once more. The live kiosk's
    event loop does this within milliseconds; a single processEvents() can grab in between."""
    for _ in range(4):
        QApplication.processEvents()


def cut_labels(root: QWidget) -> list[str]:
    """Visible labels given less height than their text needs at their width (text cut off)."""
    out = []
    for lbl in root.findChildren(QLabel):
        if lbl.isVisible() and lbl.text():
            need = lbl.heightForWidth(lbl.width()) if lbl.wordWrap() else lbl.sizeHint().height()
            if lbl.height() < need:
                out.append(f"{lbl.text()!r} {lbl.height()} < {need}")
    return out
