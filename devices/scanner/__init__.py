"""Barcode/QR scanners (serial virtual COM, evdev keyboard wedge) and classification of scanned codes."""

from devices.scanner.codes import DEFAULT_RULES, CodeKind, classify, is_payment_code, mask_code, normalize
from devices.scanner.framing import SUFFIXES
from devices.scanner.keymap import keys_to_text
from devices.scanner.serial_scanner import SerialScanner
from devices.scanner.wedge import EvdevScanner

__all__ = ["DEFAULT_RULES", "SUFFIXES", "CodeKind", "EvdevScanner", "SerialScanner", "classify",
           "is_payment_code", "keys_to_text", "mask_code", "normalize"]
