"""Where a flow's slip or receipt is: every flow that prints shares these four states."""

from __future__ import annotations

import enum


class PrintState(enum.StrEnum):
    NONE = "none"  # nothing to print yet
    PRINTING = "printing"
    PRINTED = "printed"  # handed to the printer; printed once, never again by accident
    FAILED = "failed"  # paper out or no printer: the screen offers a retry
