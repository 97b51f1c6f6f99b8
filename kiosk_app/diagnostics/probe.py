"""Self-tests for diagnostics, through ``devices.base.Device`` only (no Qt)."""

from __future__ import annotations

import logging
import time

from devices.base import Device, SelfTestResult
from devices.errors import DeviceError

log = logging.getLogger(__name__)


def run_self_test(device: Device, timeout_s: float = 5.0) -> tuple[SelfTestResult, float]:
    """Run the device's own check (blocking: from a worker). Returns (result, seconds taken)."""
    t0 = time.monotonic()
    try:
        result = device.self_test(timeout_s)
    except DeviceError as err:
        result = SelfTestResult.failed(err)
    except Exception as err:  # a driver bug must show as a failed test, not crash diagnostics
        log.exception("self-test of %s crashed", device.name)
        result = SelfTestResult(False, "crashed", type(err).__name__)
    return result, time.monotonic() - t0
