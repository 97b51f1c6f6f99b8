"""Department, doctor and time-slot choice: big buttons, paged, fewer per page in elderly mode."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QPushButton, QSizePolicy, QWidget

from kiosk_app.controller import KioskController
from kiosk_app.flows.registration import RegistrationFlow
from kiosk_app.screens.base import Screen, View, busy_bar, label, yuan


class ChoiceScreen(Screen):
    """A paged grid of choices; subclasses say what the items are and how they read."""

    columns = 2
    feature = ""  # a feature's name (kiosk_app/features/): choices go to that feature's flow only
    per_page = 8
    per_page_elderly = 4  # elderly mode: larger type and fewer items, always one column

    def __init__(self, controller: KioskController, parent: QWidget | None = None) -> None:
        super().__init__(controller, parent)
        self.title = label("Title")
        self.subtitle = label("Subtitle")
        self.bar = busy_bar()
        self.grid = QGridLayout()
        self.grid.setSpacing(16)
        self.buttons: list[QPushButton] = []
        self.prev_button, self.next_button = QPushButton(), QPushButton()
        self.page_label = label("Subtitle", wrap=False, center=True)
        self.prev_button.clicked.connect(lambda: self._turn(-1))
        self.next_button.clicked.connect(lambda: self._turn(1))
        pager = QHBoxLayout()
        pager.addWidget(self.prev_button)
        pager.addWidget(self.page_label, 1)
        pager.addWidget(self.next_button)
        self.box.addWidget(self.title)
        self.box.addWidget(self.subtitle)
        self.box.addWidget(self.bar)
        self.box.addLayout(self.grid)
        self.box.addStretch(1)
        self.box.addLayout(pager)
        self.page = 0
        self._items: Sequence[Any] = ()
        self._last: tuple[int, int] = (0, 0)

    # Subclasses fill these in.
    def items(self, flow: RegistrationFlow) -> Sequence[Any]:
        raise NotImplementedError

    def describe(self, item: Any, view: View) -> tuple[str, bool]:
        """Button text and whether it can be chosen."""
        raise NotImplementedError

    def choose(self, item: Any) -> Callable[[RegistrationFlow], list[Any]]:
        raise NotImplementedError

    def texts(self, flow: RegistrationFlow, view: View) -> tuple[str, str, str, str, str]:
        """(title, subtitle, previous, next, page format with {page} and {pages})."""
        raise NotImplementedError

    def refresh(self, flow: RegistrationFlow, view: View) -> None:
        items = self.items(flow)
        size = self.per_page_elderly if view.elderly else self.per_page
        columns = 1 if view.elderly else self.columns
        if id(items) != self._last[0] or size != self._last[1]:
            self.page = 0
        self._items, self._last = items, (id(items), size)
        title, subtitle, prev_text, next_text, page_fmt = self.texts(flow, view)
        self.title.setText(title)
        self.subtitle.setText(subtitle)
        self.bar.setVisible(flow.busy)
        pages = max(1, -(-len(items) // size))
        self.page = min(self.page, pages - 1)
        shown = items[self.page * size : (self.page + 1) * size]
        while len(self.buttons) < size:
            # Parented at once: a parentless widget shown and then put in a layout is reparented,
            # and reparenting hides it again.
            button = QPushButton(self)
            button.setObjectName("Choice")
            # the grid, not the text, decides the width: a long name must never widen the window
            button.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
            index = len(self.buttons)
            button.clicked.connect(lambda _=False, i=index: self._clicked(i))
            self.buttons.append(button)
        for i, button in enumerate(self.buttons):
            self.grid.removeWidget(button)
            if i < len(shown):
                text, enabled = self.describe(shown[i], view)
                button.setText(text)
                button.setEnabled(enabled and not flow.busy)
                self.grid.addWidget(button, i // columns, i % columns)
            button.setVisible(i < len(shown))
            if i >= len(shown):
                button.setText("")  # a hidden button must not keep the last patient's entries
        self.prev_button.setText(prev_text)
        self.next_button.setText(next_text)
        self.prev_button.setEnabled(self.page > 0)
        self.next_button.setEnabled(self.page < pages - 1)
        self.page_label.setText(page_fmt.format(page=self.page + 1, pages=pages))
        for w in (self.prev_button, self.next_button, self.page_label):
            w.setVisible(pages > 1)

    def _turn(self, delta: int) -> None:
        self.page += delta
        self.controller.sig_changed.emit()

    def _clicked(self, index: int) -> None:
        item = self._items[self.page * self._last[1] + index]
        if self.feature:  # a feature's list: only that feature's flow takes the choice
            self.controller.feature_event(self.feature, self.choose(item))
        else:
            self.controller.dispatch(self.choose(item))


class DepartmentScreen(ChoiceScreen):
    def items(self, flow: RegistrationFlow) -> Sequence[Any]:
        return flow.departments

    def describe(self, item: Any, view: View) -> tuple[str, bool]:
        return view.pick(item.name_zh, item.name_en), True

    def choose(self, item: Any) -> Callable[[RegistrationFlow], list[Any]]:
        return lambda f: f.choose_department(item)

    def texts(self, flow: RegistrationFlow, view: View) -> tuple[str, str, str, str, str]:
        who = flow.patient.name_masked if flow.patient else ""
        return (
            self.tr("Choose a department"),
            self.tr("Patient: {name}").format(name=who),
            self.tr("Previous"),
            self.tr("Next"),
            self.tr("Page {page} of {pages}"),
        )


class DoctorScreen(ChoiceScreen):
    columns = 1  # name, title, fee and places need the full width
    per_page = 5
    per_page_elderly = 3

    def items(self, flow: RegistrationFlow) -> Sequence[Any]:
        return flow.doctors

    def describe(self, item: Any, view: View) -> tuple[str, bool]:
        name = view.pick(item.name_zh, item.name_en)
        title = view.pick(item.title_zh, item.title_en)
        left = self.tr("{n} places left").format(n=item.slots_left) if item.slots_left > 0 else self.tr("Fully booked")
        return f"{name}\n{title}\n{yuan(item.fee_cents)}  ·  {left}", item.slots_left > 0

    def choose(self, item: Any) -> Callable[[RegistrationFlow], list[Any]]:
        return lambda f: f.choose_doctor(item)

    def texts(self, flow: RegistrationFlow, view: View) -> tuple[str, str, str, str, str]:
        dept = view.pick(flow.department.name_zh, flow.department.name_en) if flow.department else ""
        return (
            self.tr("Choose a doctor"),
            self.tr("Department: {dept} · today").format(dept=dept),
            self.tr("Previous"),
            self.tr("Next"),
            self.tr("Page {page} of {pages}"),
        )


class SlotScreen(ChoiceScreen):
    def items(self, flow: RegistrationFlow) -> Sequence[Any]:
        return flow.slots

    def describe(self, item: Any, view: View) -> tuple[str, bool]:
        left = self.tr("{n} left").format(n=item.left) if item.left > 0 else self.tr("Full")
        return f"{item.start}–{item.end}   {left}", item.left > 0

    def choose(self, item: Any) -> Callable[[RegistrationFlow], list[Any]]:
        return lambda f: f.choose_slot(item)

    def texts(self, flow: RegistrationFlow, view: View) -> tuple[str, str, str, str, str]:
        doc = view.pick(flow.doctor.name_zh, flow.doctor.name_en) if flow.doctor else ""
        return (
            self.tr("Choose a time"),
            self.tr("Doctor: {doctor}").format(doctor=doc),
            self.tr("Previous"),
            self.tr("Next"),
            self.tr("Page {page} of {pages}"),
        )
