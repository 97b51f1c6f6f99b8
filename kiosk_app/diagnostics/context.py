"""Everything diagnostics needs from the running kiosk, in one object the window can reach."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from kiosk_app.config import Config
from kiosk_app.diagnostics.pin import PinGate
from offline_cache.audit import AuditLog
from offline_cache.journal import Journal
from offline_cache.store import Store

if TYPE_CHECKING:
    from devices.base import Device
    from kiosk_app.hub import DeviceHub
    from kiosk_app.sync_status import SyncStatus
    from kiosk_app.tasks import TaskManager

log = logging.getLogger(__name__)

ACTOR = "technician"  # the PIN is shared: the audit cannot name a person until staff cards exist


@dataclass
class DiagnosticsContext:
    config: Config
    tasks: TaskManager
    journal: Journal
    audit: AuditLog
    gate: PinGate
    hub: DeviceHub | None = None
    # The TOML file the kiosk was started with; None: URL changes are kept in memory only.
    config_path: Path | None = None
    # Where reports go; None: a mounted USB stick if there is one, else <data_dir>/reports.
    report_dir: Path | None = None
    # URL changes saved while there is no config file to write them to.
    pending_urls: dict[str, str] = field(default_factory=dict)
    find_usb: Callable[[], Path | None] | None = None
    # Online state and the offline outbox (None: a kiosk built without offline support).
    sync_status: SyncStatus | None = None

    @classmethod
    def create(
        cls,
        config: Config,
        store: Store,
        tasks: TaskManager,
        hub: DeviceHub | None = None,
        *,
        journal: Journal | None = None,
        config_path: Path | None = None,
        sync_status: SyncStatus | None = None,
    ) -> DiagnosticsContext:
        gate = PinGate(
            store,
            config.diagnostics_pin_hash,
            max_attempts=config.diagnostics_max_attempts,
            lockout_s=config.diagnostics_lockout_s,
        )
        return cls(
            config, tasks, journal or Journal(store), AuditLog(store), gate, hub, config_path, sync_status=sync_status
        )

    @property
    def log_path(self) -> Path:
        return self.config.data_dir / "log" / "kiosk.log"

    @property
    def devices(self) -> list[Device]:
        return list(self.hub.devices) if self.hub is not None else []

    def record(self, action: str, detail: str = "") -> None:
        """Audit one technician action; never raises (a closed store only logs)."""
        try:
            self.audit.record(ACTOR, action, detail)
        except RuntimeError as err:
            log.error("audit %s not recorded: %s", action, err)
