"""The sync card below the device cards: is the hospital system reachable, how much is
waiting in the offline outbox (count, bytes, fill level, the oldest item's age), how much the
server rejected, and how far the kiosk's clock is from the server's.

The online state is in memory (the uploader reports it); the outbox numbers are a store read, so
they are taken in a worker and shown when they arrive, at most one read at a time.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import QFrame, QGridLayout, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from kiosk_app.diagnostics.context import DiagnosticsContext
from kiosk_app.diagnostics.report import connection_state, human_bytes
from kiosk_app.diagnostics.widgets import ZWSP, repolish, set_text, soft_wrap
from kiosk_app.screens.base import label
from offline_cache.outbox import QueueStats

log = logging.getLogger(__name__)

FIELDS = ("pending", "fill", "oldest", "rejected", "clock", "sent", "error")
# The badge reuses the device cards' colours: online green, offline red, no contact yet grey.
BADGE_STATE = {"online": "ready", "offline": "error", "unknown": "unknown"}


class SyncCard(QFrame):
    def __init__(self, ctx: DiagnosticsContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        assert ctx.sync_status is not None
        self.ctx, self.sync = ctx, ctx.sync_status
        self.setObjectName("DeviceCard")  # same look as a device card
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.title = label("DeviceName")
        self.badge = label("Badge", wrap=False, center=True)
        self.fields: dict[str, tuple[QLabel, QLabel]] = {}
        self.stats: QueueStats | None = None
        self._reading = False
        self._failed = False
        top = QHBoxLayout()
        top.addWidget(self.title, 1)
        top.addWidget(self.badge, 0, Qt.AlignmentFlag.AlignTop)
        grid = QGridLayout()
        grid.setHorizontalSpacing(14)
        grid.setVerticalSpacing(4)
        grid.setColumnStretch(1, 1)
        for row, key in enumerate(FIELDS):
            k, v = label("FieldLabel", wrap=False), label("FieldValue")
            v.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
            grid.addWidget(k, row, 0, Qt.AlignmentFlag.AlignTop)
            grid.addWidget(v, row, 1)
            self.fields[key] = (k, v)
        box = QVBoxLayout(self)
        box.setContentsMargins(18, 14, 18, 14)
        box.setSpacing(8)
        box.addLayout(top)
        box.addLayout(grid)
        self.sync.sig_changed.connect(self.on_sync_changed)
        self.update_view()

    # ---- Public API

    @property
    def reading(self) -> bool:
        """An outbox read is under way in a worker."""
        return self._reading

    def value(self, key: str) -> str:
        return self.fields[key][1].text().replace(ZWSP, "")

    @Slot()
    def refresh(self) -> None:
        """Show the online state now and read the outbox's numbers in a worker."""
        self.update_view()
        if self._reading:
            return
        self._reading = True
        sync = self.sync

        def read() -> QueueStats | None:
            try:
                return sync.stats()
            except Exception:  # a closed or broken store: say so on the card, keep refreshing
                log.exception("reading the outbox statistics failed")
                return None

        self.ctx.tasks.run(read, self._stats_read)

    @Slot()
    def on_sync_changed(self) -> None:
        if self.isVisible():
            self.refresh()

    def wipe(self) -> None:
        self.stats, self._failed = None, False
        self.update_view()

    def update_view(self) -> None:
        status, stats = self.sync.status, self.stats
        labels = {
            "pending": self.tr("Outbox"),
            "fill": self.tr("Fill level"),
            "oldest": self.tr("Oldest pending"),
            "rejected": self.tr("Rejected"),
            "clock": self.tr("Clock offset"),
            "sent": self.tr("Settled since start"),
            "error": self.tr("Last error"),
        }
        for key, (k, _v) in self.fields.items():
            set_text(k, labels[key])
        set_text(self.title, self.tr("Hospital system connection"))
        state = connection_state(status)
        set_text(
            self.badge,
            {"online": self.tr("Online"), "offline": self.tr("Offline"), "unknown": self.tr("No contact yet")}[state],
        )
        if self.badge.property("state") != BADGE_STATE[state]:
            self.badge.setProperty("state", BADGE_STATE[state])
            repolish(self.badge)
        offset = status.clock_offset_s
        values = {
            "clock": (
                self.tr("{offset} s (server minus kiosk)").format(offset=f"{offset:+.1f}")
                if offset is not None
                else self.tr("not measured yet")
            ),
            "sent": str(status.sent),
            "error": soft_wrap(status.last_error) if status.last_error else "—",
        }
        if stats is None:
            unknown = self.tr("could not be read") if self._failed else self.tr("reading…")
            values |= {"pending": unknown, "fill": unknown, "oldest": unknown, "rejected": unknown}
        else:
            age = stats.oldest_age_s()
            values |= {
                "pending": self.tr("{n} pending ({size})").format(
                    n=stats.pending, size=human_bytes(stats.pending_bytes)
                ),
                "fill": f"{stats.fill * 100:.1f} % — {self.level_name(stats.level)}",
                "oldest": self.duration(age) if age is not None else "—",
                "rejected": str(stats.rejected),
            }
        for key, (_k, v) in self.fields.items():
            set_text(v, values[key])
        level = stats.level if stats is not None else "ok"
        fill = self.fields["fill"][1]
        if fill.property("level") != level:
            fill.setProperty("level", level)
            repolish(fill)

    def level_name(self, level: str) -> str:
        return {
            "ok": self.tr("OK"),
            "warn50": self.tr("warning: over half full"),
            "warn80": self.tr("warning: over 80 % full"),
            "full": self.tr("full: new offline registrations are refused"),
        }.get(level, level)

    def duration(self, seconds: float) -> str:
        s = max(0, int(seconds))
        if s < 60:
            return self.tr("{s} s").format(s=s)
        if s < 3600:
            return self.tr("{m} min {s} s").format(m=s // 60, s=s % 60)
        if s < 86400:
            return self.tr("{h} h {m} min").format(h=s // 3600, m=s % 3600 // 60)
        return self.tr("{d} d {h} h").format(d=s // 86400, h=s % 86400 // 3600)

    # ---- Internals

    def _stats_read(self, stats: QueueStats | None) -> None:
        self._reading = False
        self._failed = stats is None
        self.stats = stats
        self.update_view()
