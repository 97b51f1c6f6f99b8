"""Paper width and printer capabilities as data, so a new model is configuration, not code."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PrinterProfile:
    """What the layout and the driver may assume about one printer model.

    ``columns`` counts half-width (ASCII) characters of the default 12x24 font: a Hanzi takes two.
    """

    name: str
    columns: int
    supports_qr_native: bool
    supports_cut: bool
    encoding: str = "gb18030"


PROFILES: dict[str, PrinterProfile] = {
    # 80 mm paper, 72 mm printable = 576 dots / 12 dots per column.
    "default-80mm": PrinterProfile("default-80mm", columns=48, supports_qr_native=True, supports_cut=True),
    # 58 mm paper, 48 mm printable = 384 dots; cheap 58 mm units often lack the cutter and GS ( k.
    "default-58mm": PrinterProfile("default-58mm", columns=32, supports_qr_native=False, supports_cut=False),
}
