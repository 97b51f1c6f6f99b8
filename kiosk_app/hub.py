"""Qt adapter over the device drivers: driver callbacks (worker threads) become signals.

Signals emitted from a driver thread reach slots on the GUI thread through queued
connections, so no widget is ever touched from a driver thread.
"""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import QObject, Signal

from devices.errors import DeviceError, DeviceState
from devices.idcard import IdCardReader
from devices.scanner import SerialScanner
from kiosk_app.config import Config

log = logging.getLogger(__name__)


class DeviceHub(QObject):
    sig_card_read = Signal(object)
    """An ID card was read; the argument is an ``IdCardData``."""

    sig_scanned = Signal(str)
    """The scanner delivered one code."""

    sig_device_error = Signal(str, object)
    """A device reported a problem: (device name, ``DeviceError``)."""

    sig_state_changed = Signal(str, str)
    """A device changed state: (device name, ``DeviceState`` value)."""

    def __init__(self, config: Config, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.states: dict[str, DeviceState] = {"id_reader": DeviceState.UNKNOWN, "scanner": DeviceState.UNKNOWN}
        self._reader: IdCardReader | None = None
        self._scanner: SerialScanner | None = None
        if config.id_reader.enabled:
            self._reader = IdCardReader(
                config.id_reader.url,
                on_card=self.sig_card_read.emit,
                on_error=lambda err: self._error("id_reader", err),
                on_state=lambda st: self._state("id_reader", st),
                poll_interval=float(config.id_reader.options.get("poll_interval_s", 0.3)),
            )
        if config.scanner.enabled:
            self._scanner = SerialScanner(
                config.scanner.url,
                on_scan=self.sig_scanned.emit,
                on_error=lambda err: self._error("scanner", err),
                on_state=lambda st: self._state("scanner", st),
            )

    @property
    def devices(self) -> list[Any]:
        """Every configured device driver (``devices.base.Device``), for diagnostics and heartbeats."""
        return [d for d in (self._reader, self._scanner) if d is not None]

    def start(self) -> None:
        for drv in (self._reader, self._scanner):
            if drv is not None:
                drv.start()

    def stop(self) -> None:
        for drv in (self._reader, self._scanner):
            if drv is not None:
                drv.stop()

    def _error(self, name: str, err: DeviceError) -> None:
        log.warning("device %s: %s", name, err.code)
        self.sig_device_error.emit(name, err)

    def _state(self, name: str, state: DeviceState) -> None:
        self.states[name] = state
        self.sig_state_changed.emit(name, state.value)
