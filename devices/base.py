"""One shape for every device kind.

Each driver subclasses :class:`Device`: it has a kind, a URL, a state with a reason code, the last
error, counters, state listeners, ``start()`` / ``stop()`` and ``self_test()``. The kiosk's
diagnostics mode and ``python -m devices.selftest`` only ever talk to this interface, so a new
driver is visible there without any UI change.

"unknown" is not "unavailable": a device never probed is UNKNOWN; one that was looked for and not
found (unplugged, no such port) is UNAVAILABLE; one that answers wrongly is ERROR.
"""

from __future__ import annotations

import enum
import logging
import threading
import time
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from devices.errors import DeviceError, DeviceState

log = logging.getLogger(__name__)

StateListener = Callable[[DeviceState], None]


class DeviceKind(enum.StrEnum):
    ID_READER = "id_reader"
    INSURANCE_CARD = "insurance_card"
    PRINTER = "printer"
    SCANNER = "scanner"
    CAMERA = "camera"


@dataclass(frozen=True)
class SelfTestResult:
    """Outcome of a device's own check; ``detail`` is for technicians and holds no personal data."""

    ok: bool
    code: str = "ok"
    detail: str = ""

    @classmethod
    def passed(cls, detail: str = "") -> SelfTestResult:
        return cls(True, "ok", detail)

    @classmethod
    def failed(cls, err: DeviceError | str, detail: str = "") -> SelfTestResult:
        if isinstance(err, DeviceError):
            return cls(False, err.code, detail or err.detail)
        return cls(False, err, detail)


@dataclass(frozen=True)
class DeviceStatus:
    """A snapshot for diagnostics, heartbeats and readiness reports."""

    kind: DeviceKind
    name: str
    url: str
    identity: str
    state: DeviceState
    reason: str
    last_error_code: str
    last_error_detail: str
    counters: Mapping[str, int] = field(default_factory=dict)
    changed_at: float = 0.0  # wall-clock time of the last state change


class Device(ABC):
    """Base of every driver: state, reason, last error and counters, safe from any thread."""

    kind: ClassVar[DeviceKind]

    def __init__(self, url: str, *, name: str | None = None, on_state: StateListener | None = None) -> None:
        self.url = url
        self.name = name or self.kind.value
        self._status_lock = threading.Lock()
        self._state = DeviceState.UNKNOWN
        self._reason = ""
        self._last_error: DeviceError | None = None
        self._counters: Counter[str] = Counter()
        self._changed_at = time.time()
        self._listeners: list[StateListener] = [on_state] if on_state is not None else []

    # ---- Public API

    @property
    def state(self) -> DeviceState:
        return self._state

    @property
    def reason(self) -> str:
        """Why the device is in its state (an error code), "" when there is nothing to say."""
        return self._reason

    @property
    def last_error(self) -> DeviceError | None:
        return self._last_error

    @property
    def identity(self) -> str:
        """What the device is, stably (port, VID:PID, serial number); drivers refine it."""
        return self.url

    def add_state_listener(self, listener: StateListener) -> None:
        self._listeners.append(listener)

    def status(self) -> DeviceStatus:
        with self._status_lock:
            err = self._last_error
            return DeviceStatus(
                kind=self.kind,
                name=self.name,
                url=self.url,
                identity=self.identity,
                state=self._state,
                reason=self._reason,
                last_error_code=err.code if err else "",
                last_error_detail=err.detail if err else "",
                counters=dict(self._counters),
                changed_at=self._changed_at,
            )

    @abstractmethod
    def start(self) -> None:
        """Begin serving the device (usually a thread); returns at once."""

    @abstractmethod
    def stop(self) -> None:
        """Stop and release the device; idempotent."""

    @abstractmethod
    def self_test(self, timeout_s: float = 5.0) -> SelfTestResult:
        """The device's own check (blocking: call it from a worker, never the GUI thread)."""

    # ---- For drivers

    def _set_state(self, state: DeviceState, reason: str = "") -> None:
        with self._status_lock:
            if state is self._state and reason == self._reason:
                return
            changed = state is not self._state
            self._state, self._reason = state, reason
            if changed:
                self._changed_at = time.time()
                self._counters[f"state_{state.value}"] += 1
        if changed:
            log.info("%s %s%s", self.name, state.value, f" ({reason})" if reason else "")
            for listener in list(self._listeners):
                self._safe_call(listener, state)

    def _record_error(self, err: DeviceError) -> None:
        with self._status_lock:
            self._last_error = err
            self._counters["errors"] += 1

    def _count(self, key: str, n: int = 1) -> None:
        with self._status_lock:
            self._counters[key] += n

    def _safe_call(self, callback: Callable[[Any], None], arg: Any) -> None:
        """A listener's bug is logged and never reaches the driver's own thread."""
        try:
            callback(arg)
        except Exception:  # callbacks belong to the owner; the driver must go on
            log.exception("%s: callback %r failed", self.name, getattr(callback, "__name__", callback))
