"""The kiosk's connection to the hospital system as the GUI sees it: online or not, queue depth.

The uploader reports from its own thread; the report is handed to the GUI thread, where the
window shows or hides the offline banner and diagnostics reads the numbers.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from kiosk_app.tasks import TaskManager
from offline_cache.outbox import Outbox, QueueStats
from sync.uploader import UploaderStatus


class SyncStatus(QObject):
    sig_changed = Signal()
    """Online state or the outbox changed; read :attr:`offline`, :attr:`status` and :meth:`stats`."""

    def __init__(self, outbox: Outbox, tasks: TaskManager, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.outbox, self.tasks = outbox, tasks
        self.status = UploaderStatus(online=None)

    @property
    def offline(self) -> bool:
        return self.status.online is False

    def stats(self) -> QueueStats:
        """Queue depth and the oldest pending item (a small indexed read; call it from a worker)."""
        return self.outbox.stats()

    def on_uploader_status(self, status: UploaderStatus) -> None:
        """Called on the uploader thread."""
        self.tasks.run_on_main(lambda: self._apply(status))

    def _apply(self, status: UploaderStatus) -> None:
        self.status = status
        self.sig_changed.emit()
