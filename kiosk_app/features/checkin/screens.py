"""Check-in screens: today's bookings, confirm, pay the fee, the queue number and the slip."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication
from PySide6.QtWidgets import QPushButton, QWidget

from kiosk_app.controller import KioskController
from kiosk_app.features.checkin.flow import CHECKING_IN, PAYING, CheckinFlow
from kiosk_app.features.payment import PayPhase
from kiosk_app.screens.base import Screen, View, busy_bar, label, yuan
from kiosk_app.screens.choice import ChoiceScreen
from kiosk_app.screens.code_pay import CodePayScreen, PayView
from kiosk_app.screens.confirm import summary_card
from kiosk_app.screens.print_status import PrintStatus, PrintWords
from sync.client import Appointment, Registration

TILE = (QT_TRANSLATE_NOOP("features", "Check in"), QT_TRANSLATE_NOOP("features", "For a visit booked in advance"))


def tile() -> tuple[str, str]:
    return QCoreApplication.translate("features", str(TILE[0])), QCoreApplication.translate("features", str(TILE[1]))


def _event(controller: KioskController, event: Callable[[CheckinFlow], list[Any]]) -> None:
    controller.feature_event("checkin", event)


def _doctor(v: Registration | Appointment, view: View) -> str:
    return f"{view.pick(v.doctor_name_zh, v.doctor_name_en)} ({view.pick(v.doctor_title_zh, v.doctor_title_en)})"


def _hhmm(iso: str) -> str:
    return iso[11:16]


class CheckinListScreen(ChoiceScreen):
    feature = "checkin"
    columns = 1
    per_page = 4
    per_page_elderly = 3

    def items(self, flow: Any) -> Sequence[Any]:
        return flow.appointments  # the flow's own list: a copy would look new at every refresh and reset the page

    def describe(self, item: Any, view: View) -> tuple[str, bool]:
        appt: Appointment = item
        # The name only: with the title an English row outgrows an elderly-mode button (the title is on confirm).
        doctor = view.pick(appt.doctor_name_zh, appt.doctor_name_en)
        first = f"{appt.start}–{appt.end}  {view.pick(appt.department_name_zh, appt.department_name_en)}\n{doctor}"
        fee = self.tr("Paid when booked") if appt.prepaid else yuan(appt.fee_cents)
        state = {
            "open": self.tr("Touch to check in"),
            "too_early": self.tr("Check-in opens at {time}").format(time=_hhmm(appt.checkin_opens)),
            "too_late": self.tr("Check-in closed at {time}").format(time=_hhmm(appt.checkin_closes)),
            "closed": self.tr("Missed") if appt.status == "no_show" else self.tr("Cancelled"),
        }.get(appt.checkin, "")
        if appt.checkin == "done":
            state = (
                self.tr("Checked in, number {n} ✓").format(n=appt.queue_no)
                if appt.paid
                else self.tr("Checked in, not paid: touch to pay")
            )
        usable = appt.checkin == "open" or (appt.checkin == "done" and appt.paid is False)
        return f"{first}\n{fee}  ·  {state}", usable

    def choose(self, item: Any) -> Callable[[Any], list[Any]]:
        return lambda f: f.choose(item)

    def texts(self, flow: Any, view: View) -> tuple[str, str, str, str, str]:
        who = flow.patient.name_masked if flow.patient else ""
        return (
            self.tr("Your visits today"),
            self.tr("Patient: {name}").format(name=who),
            self.tr("Previous"),
            self.tr("Next"),
            self.tr("Page {page} of {pages}"),
        )


def _visit_rows(labels: tuple[str, str, str], v: Registration | Appointment, view: View) -> list[tuple[str, str]]:
    """Department, doctor, time: ``labels`` are translated by the calling screen (its own context)."""
    return [
        (labels[0], view.pick(v.department_name_zh, v.department_name_en)),
        (labels[1], _doctor(v, view)),
        (labels[2], f"{v.date}  {v.start} – {v.end}"),
    ]


class CheckinConfirmScreen(Screen):
    """Confirm one booking; also shown (busy) while the check-in is on its way."""

    def __init__(self, controller: KioskController, parent: QWidget | None = None) -> None:
        super().__init__(controller, parent)
        self.title = label("Title")
        self.card, self.cells = summary_card(5)
        self.button = QPushButton()
        self.button.setObjectName("Primary")
        self.button.clicked.connect(lambda: _event(controller, lambda f: f.confirm()))
        self.bar = busy_bar()
        for w in (self.title, self.card):
            self.box.addWidget(w)
        self.box.addStretch(1)
        self.box.addWidget(self.bar)
        self.box.addWidget(self.button)

    def refresh(self, flow: CheckinFlow, view: View) -> None:
        self.title.setText(self.tr("Check in for this visit"))
        appt = flow.chosen
        rows = [("", "")] * 5
        if appt is not None:
            fee = self.tr("Paid when booked") if appt.prepaid else yuan(appt.fee_cents)
            who = f"{flow.patient.name_masked}  {flow.patient.id_masked}" if flow.patient else ""
            labels = (self.tr("Department"), self.tr("Doctor"), self.tr("Time"))
            rows = [*_visit_rows(labels, appt, view), (self.tr("Fee"), fee), (self.tr("Patient"), who)]
        for (key, value), (k, v) in zip(self.cells, rows, strict=True):
            key.setText(k)
            value.setText(v)
        unpaid = appt is not None and not appt.prepaid
        self.button.setText(
            self.tr("Check in and pay {fee}").format(fee=yuan(appt.fee_cents))
            if unpaid and appt is not None
            else self.tr("Check in")
        )
        busy = flow.busy or flow.step == CHECKING_IN
        self.button.setEnabled(not busy and appt is not None)
        self.bar.setVisible(busy)


class CheckinPayScreen(CodePayScreen):
    """The fee: the patient shows their payment code to the scanner (pay and paying steps)."""

    def __init__(self, controller: KioskController, parent: QWidget | None = None) -> None:
        super().__init__(controller, parent, lines=2)
        self.number, self.what = self.lines

    def view(self, flow: CheckinFlow, view: View) -> PayView:
        reg = flow.registration
        number = self.tr("You are checked in: number {n}").format(n=flow.queue_no) if reg else ""
        what = ""
        if reg is not None:
            doctor = view.pick(reg.doctor_name_zh, reg.doctor_name_en)
            dept = view.pick(reg.department_name_zh, reg.department_name_en)
            what = f"{dept} · {doctor} · {reg.date} {reg.start}"
        amount = reg.amount_cents if reg is not None else None
        return PayView(self.tr("Pay the registration fee"), (number, what), amount, flow.step == PAYING)


class CheckinDoneScreen(Screen):
    """Checked in: the queue number, the visit, and what happened to the fee and the slip."""

    def __init__(self, controller: KioskController, parent: QWidget | None = None) -> None:
        super().__init__(controller, parent)
        self.title = label("Title", center=True)
        self.number_label = label("Subtitle", center=True)
        self.number = label("BigNumber", center=True)
        self.card, self.cells = summary_card(4)
        self.printing = PrintStatus(lambda: _event(controller, lambda f: f.reprint()))
        self.print_status, self.reprint = self.printing.status, self.printing.retry
        self.done = QPushButton()
        self.done.setObjectName("Primary")
        self.done.clicked.connect(controller.wipe)
        for w in (self.title, self.number_label, self.number, self.card):
            self.box.addWidget(w)
        self.box.addStretch(1)
        self.printing.add_to(self.box)
        self.box.addWidget(self.done)

    def refresh(self, flow: CheckinFlow, view: View) -> None:
        reg, settled = flow.registration, flow.paid or flow.prepaid
        phase = flow.pay.phase
        if settled:
            title = self.tr("Check-in complete")
        elif phase is PayPhase.NOT_SENT:
            title = self.tr("Checked in: please pay at the cashier window")
        elif reg is not None:
            title = self.tr("Checked in: payment not confirmed yet")
        else:
            title = ""
        self.title.setText(title)
        self.number_label.setText(self.tr("Your queue number"))
        self.number.setText(str(flow.queue_no) if reg is not None else "")
        for w in (self.number_label, self.number, self.card):
            w.setVisible(reg is not None)
        if reg is not None:
            fee = self.tr("Paid") if settled else self.tr("Fee (not paid yet)")
            labels = (self.tr("Department"), self.tr("Doctor"), self.tr("Time"))
            rows = [*_visit_rows(labels, reg, view), (fee, yuan(reg.amount_cents))]
            for (key, value), (k, v) in zip(self.cells, rows, strict=True):
                key.setText(k)
                value.setText(v)
        words = PrintWords(
            self.tr("Printing your slip…"),
            self.tr("Please take your slip from the slot below."),
            self.tr("The slip could not be printed. You are checked in all the same."),
            self.tr("Try printing the slip again"),
        )
        self.printing.show(flow.print_state, words)
        self.done.setText(self.tr("Done"))
