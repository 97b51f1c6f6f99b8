"""Patient services beyond registration and filing, one folder each (see README.md here).

:func:`load` imports the features this build has, in home-screen order. A feature that is
listed but missing from the installation is skipped with a log line, so a kiosk can ship
without one; an error inside a feature that exists is not hidden.
"""

from __future__ import annotations

import importlib
import logging

from kiosk_app.features.base import Feature

log = logging.getLogger(__name__)

# Home-screen order: what patients come for most often first.
KNOWN = ("checkin", "bills", "reports", "topup", "refund", "reprint")
MODES = ("cashier",)  # a device's whole role (``--role cashier``), not a patient service


def load(names: tuple[str, ...] = KNOWN + MODES) -> list[Feature]:
    features: list[Feature] = []
    for name in names:
        module_name = f"{__name__}.{name}"
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as err:
            if err.name != module_name:
                raise
            log.info("feature %s is not installed", name)
            continue
        features.append(module.FEATURE)
    return sorted(features, key=lambda f: f.order)
