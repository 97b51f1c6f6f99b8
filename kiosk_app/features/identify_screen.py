"""The identification screen all features share: card, insurance card or QR code; "no record" → filing."""

from __future__ import annotations

from PySide6.QtWidgets import QPushButton, QWidget

from kiosk_app.controller import KioskController
from kiosk_app.features.base import FeatureFlow
from kiosk_app.screens.base import Screen, View, busy_bar, label
from kiosk_app.screens.home import Tile
from kiosk_app.screens.identify import CardPicture


class FeatureIdentifyScreen(Screen):
    def __init__(self, controller: KioskController, parent: QWidget | None = None) -> None:
        super().__init__(controller, parent)
        self.title = label("Title", center=True)
        self.hint = label("Hint", center=True)
        self.picture = CardPicture()
        self.ways = label("Subtitle", center=True)
        self.status = label("Subtitle", center=True)
        self.bar = busy_bar()
        self.filing_button = QPushButton()
        self.filing_button.setObjectName("Primary")
        self.filing_button.clicked.connect(self._start_filing)
        self.face_button = Tile("Secondary")
        self.face_button.clicked.connect(self._choose_face)
        widgets: list[QWidget] = [self.title, self.hint, self.picture, self.ways, self.status, self.bar]
        for widget in [*widgets, self.filing_button, self.face_button]:
            self.box.addWidget(widget, 1 if widget is self.picture else 0)

    def refresh(self, flow: FeatureFlow, view: View) -> None:
        self.title.setText(self.tr("Identify yourself"))
        self.hint.setText(self.tr("Place your ID card or social-security card on the reader."))
        self.ways.setText(self.tr("Or scan your visit-card QR code or medical-insurance e-voucher below the screen."))
        if flow.busy:
            status = self.tr("Checking your identity…")
        elif flow.offer_filing:
            status = self.tr("There is no record for you at this hospital yet.")
        else:
            status = self.tr("Waiting for a card or a code…")
        self.status.setText(status)
        self.bar.setVisible(flow.busy)
        self.filing_button.setText(self.tr("New patient: create my record"))
        self.filing_button.setVisible(flow.offer_filing)
        self.face_button.set_texts(self.tr("Use my face"), self.tr("With the last four digits of your mobile number"))
        self.face_button.setVisible(flow.face_ok and not flow.busy and not flow.offer_filing)

    def _choose_face(self) -> None:
        flow = self.controller.flow
        if isinstance(flow, FeatureFlow):
            self.controller.feature_event(flow.feature, lambda f: f.choose_face())

    def _start_filing(self) -> None:
        # Leave this flow (nothing is held yet at identification), then start filing from home.
        self.controller.wipe()
        self.controller.start_filing()
