"""ESC/POS receipt printing: receipt content and layout, paper profiles, the driver."""

from devices.printer.escpos_printer import PrinterStatus, ReceiptPrinter
from devices.printer.profile import PROFILES, PrinterProfile
from devices.printer.receipt import Receipt, layout

__all__ = ["PROFILES", "PrinterProfile", "PrinterStatus", "Receipt", "ReceiptPrinter", "layout"]
