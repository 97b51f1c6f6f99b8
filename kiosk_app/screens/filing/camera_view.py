"""The live preview with its guide: an oval where the face should be, the detected face box.

The preview is mirrored, as patients expect from a mirror or a selfie camera: turning the head
to one's left then moves the picture to the left too.
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPen
from PySide6.QtWidgets import QWidget

from face.types import FrameReport
from kiosk_app import theme


def to_qimage(bgr: object) -> QImage:
    """The preview mirrored, as a QImage that owns its pixels (the numpy array may go at any time)."""
    import numpy as np

    array = np.ascontiguousarray(np.asarray(bgr)[:, ::-1])
    height, width = array.shape[:2]
    image = QImage(array.data, width, height, width * 3, QImage.Format.Format_BGR888)
    return image.copy()


class CameraView(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumHeight(160)
        self._image: QImage | None = None
        self._box: tuple[float, float, float, float] | None = None
        self._ok = False

    def show_report(self, report: FrameReport | None) -> None:
        """Take what the screen needs from a report (converted here, on the GUI thread)."""
        if report is None:
            self._image, self._box = None, None
        else:
            if report.preview is not None:
                self._image = to_qimage(report.preview)
            self._box = report.face.box if report.face is not None else None
            self._ok = report.quality.ok
        self.update()

    def clear(self) -> None:
        self.show_report(None)

    def paintEvent(self, _event: object) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        w, h = self.width(), self.height()
        p.fillRect(0, 0, w, h, QColor("#263238"))
        image = self._image
        if image is not None and image.width() > 0:
            scale = min(w / image.width(), h / image.height())
            iw, ih = image.width() * scale, image.height() * scale
            target = QRectF((w - iw) / 2, (h - ih) / 2, iw, ih)
            p.drawImage(target, image)
            if self._box is not None:
                x, y, bw, bh = self._box
                mx = image.width() - x - bw  # mirrored like the picture
                p.setPen(QPen(QColor(theme.PRIMARY if self._ok else theme.WARN_EDGE), 4))
                p.setBrush(Qt.BrushStyle.NoBrush)
                p.drawRect(QRectF(target.x() + mx * scale, target.y() + y * scale, bw * scale, bh * scale))
        else:
            target = QRectF(0, 0, w, h)
        # The guide: an upright oval in the middle, where a well-placed face sits.
        ow = min(target.width() * 0.42, target.height() * 0.5)
        oh = ow * 1.3
        oval = QRectF(target.center().x() - ow / 2, target.center().y() - oh / 2, ow, oh)
        pen = QPen(QColor("white"), 4, Qt.PenStyle.DashLine)
        p.setPen(pen)
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawEllipse(oval)
        p.end()
