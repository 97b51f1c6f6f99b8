"""The kiosk's link to the fleet: heartbeats out, commands in.

The heartbeat thread collects a snapshot (device states, unresolved transactions plus operations
still waiting in the offline outbox) and hands any
commands to the GUI thread. A command is acknowledged only once it has been carried out, so a
command that arrives while a patient is mid-session (restart, reload) waits for the next
heartbeat after the kiosk is back at its home screen.
"""

from __future__ import annotations

import logging
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QApplication

from devices.errors import DeviceError
from kiosk_app.controller import KioskController
from kiosk_app.flows.registration import Step
from kiosk_app.hub import DeviceHub
from kiosk_app.tasks import TaskManager
from offline_cache.journal import Journal, unresolved
from offline_cache.outbox import Outbox
from sync.heartbeat import HeartbeatSender
from sync.signing import KioskCredential

log = logging.getLogger(__name__)

# Exit status asking the service manager for a restart (systemd restarts on any exit with
# Restart=always; a distinct code tells the journal it was requested, not a crash).
RESTART_EXIT_CODE = 75


def software_version() -> str:
    try:
        return version("hospital-kiosk")
    except PackageNotFoundError:
        return "unknown"


def queue_depth(journal: Journal, outbox: Outbox | None) -> tuple[int, float | None]:
    """Unresolved transactions plus pending outbox operations, and the age in seconds of the
    oldest of them (None when there is none). Blocking store reads: call it off the GUI thread."""
    depth, oldest = unresolved(journal)
    if outbox is not None:
        stats = outbox.stats()
        depth += stats.pending
        ages = [a for a in (oldest, stats.oldest_age_s()) if a is not None]
        oldest = max(ages, default=None)
    return depth, oldest


class FleetLink(QObject):
    sig_restart_requested = Signal(str)
    """The server asked for a restart or config reload (the command name); the app is quitting."""

    def __init__(
        self,
        server_url: str,
        kiosk_id: str,
        *,
        hub: DeviceHub,
        journal: Journal,
        controller: KioskController,
        tasks: TaskManager,
        interval_s: float = 15.0,
        credential: KioskCredential | None = None,
        outbox: Outbox | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.hub, self.journal, self.controller, self.tasks = hub, journal, controller, tasks
        self.outbox = outbox
        self._handled: set[int] = set()
        self.heartbeat = HeartbeatSender(
            server_url,
            kiosk_id,
            collect=self._collect,
            on_commands=self._on_commands,
            interval_s=interval_s,
            credential=credential,
        )

    def start(self) -> None:
        self.heartbeat.start()

    def stop(self) -> None:
        self.heartbeat.stop()

    # ---- Heartbeat thread

    def _collect(self) -> dict[str, Any]:
        depth, oldest = queue_depth(self.journal, self.outbox)
        states = {d.name: d.state.value for d in self.hub.devices}  # Device.state is thread-safe
        # The sender passes these to build_heartbeat(), which stamps the kiosk's time.
        return {
            "software_version": software_version(),
            "device_states": states,
            "queue_depth": depth,
            "oldest_pending_age_s": oldest,
        }

    def _on_commands(self, commands: list[dict[str, Any]]) -> None:
        self.tasks.run_on_main(lambda: self._handle(commands))

    # ---- GUI thread

    def _handle(self, commands: list[dict[str, Any]]) -> None:
        for command in commands:
            cid, name = int(command["id"]), str(command["command"])
            if cid in self._handled:
                continue  # redelivered until the ack lands
            if name == "print_test_page":
                self._handled.add(cid)
                self._print_test_page(cid)
            elif name in ("restart_app", "reload_config"):
                flow = self.controller.flow
                if flow.step is not Step.HOME or flow.busy or self.tasks.pending:
                    log.info("command %s %d waits for the kiosk to be idle at home", name, cid)
                    continue
                self._handled.add(cid)
                self._restart(cid, name)
            else:
                log.warning("unknown fleet command %r ignored", name)

    def _print_test_page(self, cid: int) -> None:
        printer = self.hub.printer

        def work() -> bool:
            if printer is None:
                log.warning("print_test_page: no printer configured")
            else:
                try:
                    printer.print_test_page()
                except DeviceError as err:
                    log.warning("remote test page failed: %s", err.code)
            return self.heartbeat.ack(cid)  # carried out either way: the result is in the device state

        self.tasks.run(work, lambda acked: log.info("test page command %d acked: %s", cid, acked))

    def _restart(self, cid: int, name: str) -> None:
        def done(acked: bool) -> None:
            log.info("%s command %d acked: %s; quitting for the service manager to restart", name, cid, acked)
            self.sig_restart_requested.emit(name)
            QApplication.exit(RESTART_EXIT_CODE)

        self.tasks.run(lambda: self.heartbeat.ack(cid), done)
