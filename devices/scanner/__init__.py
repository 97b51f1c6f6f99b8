"""Barcode/QR scanner on a serial (virtual COM) port and classification of scanned codes."""

from devices.scanner.codes import DEFAULT_RULES, CodeKind, classify, is_payment_code, mask_code, normalize
from devices.scanner.serial_scanner import SerialScanner

__all__ = ["DEFAULT_RULES", "CodeKind", "SerialScanner", "classify", "is_payment_code", "mask_code",
           "normalize"]
