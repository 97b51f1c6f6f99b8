"""Qt adapter over the device drivers: driver callbacks (worker threads) become signals.

Signals emitted from a driver thread reach slots on the GUI thread through queued
connections, so no widget is ever touched from a driver thread.
"""

from __future__ import annotations

import functools
import logging

from PySide6.QtCore import QObject, Signal

from devices.base import Device
from devices.errors import DeviceError, DeviceState
from devices.idcard import IdCardReader
from devices.printer import PROFILES, ReceiptPrinter
from devices.scanner import EvdevScanner, SerialScanner
from kiosk_app.config import Config

log = logging.getLogger(__name__)


class DeviceHub(QObject):
    sig_card_read = Signal(object)
    """An ID card was read; the argument is an ``IdCardData``."""

    sig_scanned = Signal(str)
    """The scanner delivered one code."""

    sig_insurance_card = Signal(object)
    """A social-security / insurance card was read; the argument is an ``InsuranceCardData``."""

    sig_device_error = Signal(str, object)
    """A device reported a problem: (device name, ``DeviceError``)."""

    sig_state_changed = Signal(str, str)
    """A device changed state: (device name, ``DeviceState`` value)."""

    def __init__(self, config: Config, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._devices: dict[str, Device] = {}
        if config.id_reader.enabled:
            self._add(
                IdCardReader(
                    config.id_reader.url,
                    on_card=self.sig_card_read.emit,
                    on_error=lambda err: self._error("id_reader", err),
                    poll_interval=float(config.id_reader.options.get("poll_interval_s", 0.3)),
                )
            )
        if config.scanner.enabled:
            scanner_cls = EvdevScanner if config.scanner.url.startswith("evdev:") else SerialScanner
            self._add(
                scanner_cls(
                    config.scanner.url,
                    on_scan=self.sig_scanned.emit,
                    on_error=lambda err: self._error("scanner", err),
                    suffix=str(config.scanner.options.get("suffix", "ANY")),
                )
            )
        if config.printer.enabled:
            profile = PROFILES[str(config.printer.options.get("profile", "default-80mm"))]
            self._add(ReceiptPrinter(config.printer.url, profile))
        # Optional hardware pulls in heavy libraries (pyscard, OpenCV): loaded only when configured.
        if config.insurance_card.enabled:
            from devices.sscard import InsuranceCardReader

            self._add(
                InsuranceCardReader(
                    config.insurance_card.url,
                    on_card=self.sig_insurance_card.emit,
                    on_error=lambda err: self._error("insurance_card", err),
                )
            )
        if config.camera.enabled:
            from devices.camera import Camera

            fps = config.camera.options.get("fps")
            self._add(Camera(config.camera.url, fps=float(fps) if fps else None))

    # ---- Public API

    @property
    def devices(self) -> list[Device]:
        """Every configured device driver, for diagnostics and heartbeats."""
        return list(self._devices.values())

    @property
    def states(self) -> dict[str, DeviceState]:
        """Each device's current state, read from the drivers themselves (thread-safe)."""
        return {name: device.state for name, device in self._devices.items()}

    @property
    def printer(self) -> ReceiptPrinter | None:
        printer = self._devices.get("printer")
        return printer if isinstance(printer, ReceiptPrinter) else None

    @property
    def camera(self) -> Device | None:
        """The camera driver (a ``devices.camera.Camera``), if one is configured."""
        return self._devices.get("camera")

    def start(self) -> None:
        """Open every device (each in its own thread; returns at once)."""
        for device in self._devices.values():
            device.start()

    def stop(self) -> None:
        for device in self._devices.values():
            device.stop()

    # ---- Internals

    def _add(self, device: Device) -> None:
        name = device.name
        self._devices[name] = device
        device.add_state_listener(functools.partial(self._state, name))

    def _error(self, name: str, err: DeviceError) -> None:
        log.warning("device %s: %s", name, err.code)
        self.sig_device_error.emit(name, err)

    def _state(self, name: str, state: DeviceState) -> None:
        self.sig_state_changed.emit(name, state.value)
