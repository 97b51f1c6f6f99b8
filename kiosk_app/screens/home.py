"""Home: one big tile per service."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, Qt, QTimer
from PySide6.QtWidgets import QGridLayout, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from kiosk_app.controller import KioskController
from kiosk_app.screens.base import Screen, View, label

# A new size, new text (its labels ask for a new layout) or new fonts (large type, the language).
_REFIT = (QEvent.Type.Resize, QEvent.Type.LayoutRequest, QEvent.Type.StyleChange, QEvent.Type.FontChange)


class Tile(QPushButton):
    """A big touch target with a title and a subtitle that wrap (a QPushButton's own text cannot)."""

    def __init__(self, object_name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(object_name)
        self._fit_pending = False
        # Tiles share the height there is (less under the offline strip, more without it) down to
        # the style's min-height, so eight of them never overlap.
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Expanding)
        self.heading = label("TileTitle", center=True)
        self.detail = label("TileDetail", center=True)
        box = self._box = QVBoxLayout(self)
        box.setContentsMargins(8, 6, 8, 6)  # the room goes to the text: eight tiles, large type
        box.setSpacing(4)
        box.addStretch(1)
        box.addWidget(self.heading)
        box.addWidget(self.detail)
        box.addStretch(1)
        for child in (self.heading, self.detail):
            child.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)  # the tile takes the touch

    def set_texts(self, heading: str, detail: str) -> None:
        self.heading.setText(heading)
        self.detail.setText(detail)

    def event(self, event: QEvent) -> bool:
        handled = super().event(event)
        if event.type() in _REFIT:
            self._fit_soon()
        return handled

    def _fit_soon(self) -> None:
        # Once the current round of resizes and font changes is over: halfway through it, a
        # label's height for its width can still be the old font's.
        if not self._fit_pending:
            self._fit_pending = True
            QTimer.singleShot(0, self, self._fit)

    def _fit(self) -> None:
        """The detail line only where it fits under the title: eight tiles in large type, or under
        the offline strip, leave room for the titles alone (the tile's height does not depend on
        its labels, so this cannot feed back into the layout)."""
        self._fit_pending = False
        layout = self._box
        margins = layout.contentsMargins()
        width = self.width() - margins.left() - margins.right()
        if width <= 0:
            return
        need = margins.top() + margins.bottom() + self.heading.heightForWidth(width)
        need += layout.spacing() + self.detail.heightForWidth(width)
        fits = need <= self.height()
        if fits != self.detail.isVisibleTo(self):
            self.detail.setVisible(fits)
            layout.activate()  # place the title now, not at the next event-loop turn

    def text(self) -> str:
        """Both lines, for tests and accessibility tools."""
        return f"{self.heading.text()}\n{self.detail.text()}"


class HomeScreen(Screen):
    def __init__(self, controller: KioskController, parent: QWidget | None = None) -> None:
        super().__init__(controller, parent)
        self.title = label("Title", center=True)
        self.subtitle = label("Subtitle", center=True)
        self.box.addWidget(self.title)
        self.box.addWidget(self.subtitle)
        grid = QGridLayout()
        grid.setSpacing(20)
        self.register_button = Tile("Tile")
        self.register_button.clicked.connect(lambda: controller.dispatch(lambda f: f.start()))
        self.filing_button = Tile("Tile")
        self.filing_button.clicked.connect(controller.start_filing)
        # One tile per installed feature (kiosk_app/features/), in their order; "coming soon"
        # tiles for the two services patients ask for most when those are not installed.
        self.features = [f for f in controller.feature_list if f.on_home]
        self.feature_buttons: dict[str, Tile] = {}
        for feature in self.features:
            tile = Tile("Tile")
            tile.clicked.connect(lambda _=False, name=feature.name: controller.start_feature(name))
            self.feature_buttons[feature.name] = tile
        installed = {f.name for f in self.features}
        self.soon_names = [name for name in ("bills", "reports") if name not in installed]
        self.soon_buttons = [Tile("TileSoon") for _ in self.soon_names]
        tiles = [self.register_button, self.filing_button, *self.feature_buttons.values(), *self.soon_buttons]
        for i, button in enumerate(tiles):
            if button in self.soon_buttons:
                button.clicked.connect(self._coming_soon)
            grid.addWidget(button, i // 2, i % 2)
        self.box.addLayout(grid, 1)
        self.hint = label("Subtitle", center=True)
        self.box.addWidget(self.hint)

    def _coming_soon(self) -> None:
        self.controller.dispatch(lambda f: f.notify("feature.coming_soon"))

    def refresh(self, flow: Any, view: View) -> None:
        self.title.setText(self.tr("Welcome"))
        self.subtitle.setText(self.tr("Please choose a service"))
        self.register_button.set_texts(self.tr("Registration"), self.tr("Book a doctor for today"))
        soon = self.tr("coming soon")
        self.filing_button.set_texts(self.tr("New patient"), self.tr("First visit: create your record"))
        for feature in self.features:
            self.feature_buttons[feature.name].set_texts(*feature.tile())
        names = {"bills": self.tr("Pay bills"), "reports": self.tr("Print reports")}
        for button, name in zip(self.soon_buttons, self.soon_names, strict=True):
            button.set_texts(names[name], f"({soon})")
        self.hint.setText(self.tr("Touch a service to begin. Your data is cleared when you finish."))
