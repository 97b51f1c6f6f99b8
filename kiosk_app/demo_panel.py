"""A small window beside the demo kiosk that plays the patient's part on the emulators."""

from __future__ import annotations

from PySide6.QtWidgets import QGroupBox, QLabel, QPushButton, QVBoxLayout, QWidget

from kiosk_app.demo import DEMO_CODES, DEMO_PIN, DemoEnvironment


class DemoPanel(QWidget):
    def __init__(self, demo: DemoEnvironment) -> None:
        super().__init__()
        self.demo = demo
        self.setWindowTitle(self.tr("Demo devices"))
        box = QVBoxLayout(self)
        box.addWidget(QLabel(self.tr("Emulated hardware: these act as the patient would.")))

        cards = QGroupBox(self.tr("ID card reader"))
        cbox = QVBoxLayout(cards)
        for key, card in demo.cards.items():
            button = QPushButton(self.tr("Place card: {name}").format(name=f"{key} ({card.card_type})"))
            button.clicked.connect(lambda _=False, k=key: demo.place_card(k))
            cbox.addWidget(button)
        self._add(cbox, self.tr("Remove card"), demo.id_reader.remove_card)
        self._add(cbox, self.tr("Next read: bad checksum"), lambda: demo.id_reader.inject("bad_checksum"))
        self._add(cbox, self.tr("Next read: card pulled away"), lambda: demo.id_reader.inject("pull_mid_read"))
        self._add(cbox, self.tr("Unplug the reader"), demo.id_reader.unplug)
        self._add(cbox, self.tr("Plug the reader back in"), demo.id_reader.replug)
        box.addWidget(cards)

        if demo.insurance is not None:
            virtual = demo.insurance
            insurance = QGroupBox(self.tr("Social-security card reader"))
            ibox = QVBoxLayout(insurance)
            first = next(iter(demo.insurance_cards.values()))
            self._add(ibox, self.tr("Insert social-security card"), lambda: virtual.insert(first))
            self._add(ibox, self.tr("Take the card out"), virtual.remove)
            self._add(
                ibox, self.tr("Next card: not a social-security card"), lambda: virtual.inject("not_social_security")
            )
            self._add(ibox, self.tr("Next card: PIN blocked"), lambda: virtual.inject("pin_blocked"))
            box.addWidget(insurance)

        codes = QGroupBox(self.tr("Identity QR codes (scanner)"))
        qbox = QVBoxLayout(codes)
        for key in ("zhangsan", "elder"):
            self._add(qbox, self.tr("Visit-card QR: {name}").format(name=key),
                      lambda _=False, k=key: demo.scan_identity(k, "visit_card"))  # fmt: skip
            self._add(qbox, self.tr("Insurance e-voucher: {name}").format(name=key),
                      lambda _=False, k=key: demo.scan_identity(k, "evoucher"))  # fmt: skip
        box.addWidget(codes)

        scans = QGroupBox(self.tr("Payment code scanner"))
        sbox = QVBoxLayout(scans)
        labels = {
            "success": self.tr("WeChat code: pays at once"),
            "userpaying": self.tr("WeChat code: asks for the password, then pays"),
            "never_confirmed": self.tr("WeChat code: never confirmed (reversed)"),
            "insufficient": self.tr("WeChat code: balance too low"),
            "lost_response": self.tr("WeChat code: answer lost, found by query"),
            "not_payment": self.tr("Not a payment code"),
        }
        for key, text in labels.items():
            self._add(sbox, text, lambda _=False, c=DEMO_CODES[key]: demo.scanner.scan(c))
        box.addWidget(scans)

        printer = QGroupBox(self.tr("Receipt printer"))
        pbox = QVBoxLayout(printer)
        self._add(pbox, self.tr("Paper out"), lambda: demo.printer.set_state(paper_end=True))
        self._add(pbox, self.tr("Paper refilled"), lambda: demo.printer.set_state())
        self._add(pbox, self.tr("Cover open"), lambda: demo.printer.set_state(cover_open=True))
        box.addWidget(printer)

        face = QGroupBox(self.tr("In front of the camera (first-time filing)"))
        fbox = QVBoxLayout(face)
        if demo.puppet is not None:
            motions = {
                "front": self.tr("Look at the camera"),
                "turn_left": self.tr("Turn head left"),
                "turn_right": self.tr("Turn head right"),
                "away": self.tr("Step away / crowd"),
                "two_people": self.tr("Two people"),
                "photo": self.tr("Hold up a photo (attack)"),
            }
            for motion, text in motions.items():
                self._add(fbox, text, lambda _=False, m=motion: demo.act(m))
        else:
            fbox.addWidget(QLabel(self.tr("No face clip beside the project: filing offers the staff check only.")))
        box.addWidget(face)

        other = QGroupBox(self.tr("Scanner and camera cables"))
        obox = QVBoxLayout(other)
        self._add(obox, self.tr("Unplug the scanner"), demo.scanner.unplug)
        self._add(obox, self.tr("Plug the scanner back in"), demo.scanner.replug)
        self._add(obox, self.tr("Unplug the camera"), demo.camera.unplug)
        self._add(obox, self.tr("Plug the camera back in"), demo.camera.replug)
        box.addWidget(other)

        network = QGroupBox(self.tr("Hospital network"))
        nbox = QVBoxLayout(network)
        self._add(nbox, self.tr("Cut the network (kiosk goes offline)"), demo.cut_network)
        self._add(nbox, self.tr("Restore the network (queued work is sent)"), demo.restore_network)
        box.addWidget(network)
        box.addWidget(
            QLabel(
                self.tr("Technician PIN in this demo: {pin} (tap the hospital name five times)").format(pin=DEMO_PIN)
            )
        )
        box.addStretch(1)

    @staticmethod
    def _add(layout: QVBoxLayout, text: str, slot: object) -> None:
        button = QPushButton(text)
        button.clicked.connect(slot)
        layout.addWidget(button)
