"""Device snapshots and self-tests for diagnostics, through ``devices.base.Device`` only (no Qt).

A driver that does not implement the ``Device`` interface yet still gets a row: its state is
read from what it exposes, and its self-test reports ``not_supported``.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from devices.base import DeviceKind, DeviceStatus, SelfTestResult
from devices.errors import DeviceError, DeviceState

log = logging.getLogger(__name__)

# Drivers written before devices.base existed, by class name.
_LEGACY_KINDS = {
    "IdCardReader": DeviceKind.ID_READER,
    "SerialScanner": DeviceKind.SCANNER,
    "ReceiptPrinter": DeviceKind.PRINTER,
}


def device_status(device: Any) -> DeviceStatus:
    """A snapshot of one device (cheap and thread-safe: fine on the GUI thread)."""
    status = getattr(device, "status", None)
    if callable(status):
        snap = status()
        if isinstance(snap, DeviceStatus):
            return snap
    kind = getattr(device, "kind", None) or _LEGACY_KINDS.get(type(device).__name__, DeviceKind.ID_READER)
    state = getattr(device, "state", None) or getattr(device, "_state", DeviceState.UNKNOWN)
    url = str(getattr(device, "url", ""))
    err = getattr(device, "last_error", None)
    return DeviceStatus(
        kind=DeviceKind(kind),
        name=str(getattr(device, "name", None) or DeviceKind(kind).value),
        url=url,
        identity=str(getattr(device, "identity", None) or url),
        state=state if isinstance(state, DeviceState) else DeviceState.UNKNOWN,
        reason=str(getattr(device, "reason", "") or ""),
        last_error_code=err.code if isinstance(err, DeviceError) else "",
        last_error_detail=err.detail if isinstance(err, DeviceError) else "",
        counters={},
        changed_at=0.0,
    )


def run_self_test(device: Any, timeout_s: float = 5.0) -> tuple[SelfTestResult, float]:
    """Run the device's own check (blocking: from a worker). Returns (result, seconds taken)."""
    t0 = time.monotonic()
    test = getattr(device, "self_test", None)
    if not callable(test):
        return SelfTestResult(False, "not_supported", "this driver has no self-test yet"), 0.0
    try:
        result = test(timeout_s)
    except DeviceError as err:
        result = SelfTestResult.failed(err)
    except Exception as err:
        log.exception("self-test of %s crashed", getattr(device, "name", device))
        result = SelfTestResult(False, "crashed", type(err).__name__)
    if not isinstance(result, SelfTestResult):
        result = SelfTestResult(False, "bad_result", repr(result)[:100])
    return result, time.monotonic() - t0
