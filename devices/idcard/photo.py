"""The ID card's photo: 1024 bytes of proprietary WLT, decodable only by the reader vendor's library.

No open WLT decoder exists (protocols.md §1.10), so decoding is a plug-in behind one small
interface: :class:`VendorWltDecoder` loads the vendor's shared library with ctypes from the path
in the config (``devices.id_reader.wlt_decoder``); licensed vendor code is never shipped here.
:class:`MappedPhotoDecoder` stands in for it in tests and the demo, where the emulator hands over
a JPEG for each card it serves. Without a decoder the kiosk works on; it just has no photo.
"""

from __future__ import annotations

import ctypes
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from devices.errors import DeviceError

log = logging.getLogger(__name__)

WLT_SIZE = 1024
# What the vendor libraries produce: a 102 x 126, 24-bit BMP, rows padded to 308 bytes.
BMP_SIZE = 14 + 40 + 308 * 126


class PhotoUnavailable(DeviceError):
    code = "photo_unavailable"
    tr_key = "card.photo_unavailable"


class PhotoDecoder(Protocol):
    def decode(self, wlt: bytes) -> bytes:
        """Image bytes (BMP or JPEG) for ``wlt``, or ``PhotoUnavailable``."""
        ...


class NoPhotoDecoder:
    """The default: no licensed decoder configured."""

    def decode(self, wlt: bytes) -> bytes:
        raise PhotoUnavailable("no WLT decoder configured (devices.id_reader.wlt_decoder)")


class VendorWltDecoder:
    """ctypes wrapper for the common vendor entry point ``int unpack(char *wlt, char *bmp, int save)``.

    That signature (returns 1 on success, writes a 38,862-byte BMP) is the one Linux ``libwlt.so``
    builds are reported to export; it is unverified here for want of the licensed library, so the
    symbol name is configurable and any failure is a ``PhotoUnavailable``, never a crash.
    """

    def __init__(self, library: str | Path, symbol: str = "unpack") -> None:
        self.library = str(library)
        self.symbol = symbol
        self._fn: Callable[..., int] | None = None
        self._lock = threading.Lock()  # vendor decoders are rarely thread-safe

    def _load(self) -> Callable[..., int]:
        if self._fn is None:
            try:
                lib = ctypes.CDLL(self.library)
                fn = getattr(lib, self.symbol)
            except (OSError, AttributeError) as err:
                raise PhotoUnavailable(f"cannot load {self.symbol} from {self.library}: {err}") from err
            fn.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_int]
            fn.restype = ctypes.c_int
            self._fn = fn
        return self._fn

    def decode(self, wlt: bytes) -> bytes:
        if len(wlt) != WLT_SIZE:
            raise PhotoUnavailable(f"WLT photo must be {WLT_SIZE} bytes, got {len(wlt)}")
        with self._lock:
            fn = self._load()
            src = ctypes.create_string_buffer(wlt, WLT_SIZE)
            dst = ctypes.create_string_buffer(BMP_SIZE)
            rc = fn(src, dst, 0)
        if rc != 1 or dst.raw[:2] != b"BM":
            raise PhotoUnavailable(f"vendor decoder returned {rc}")
        return dst.raw


class MappedPhotoDecoder:
    """Tests and demo: photos registered per WLT blob (the emulator registers one per card)."""

    def __init__(self) -> None:
        self._photos: dict[bytes, bytes] = {}

    def register(self, wlt: bytes, image: bytes) -> None:
        self._photos[bytes(wlt)] = bytes(image)

    def decode(self, wlt: bytes) -> bytes:
        try:
            return self._photos[bytes(wlt)]
        except KeyError:
            raise PhotoUnavailable("no photo registered for this card") from None


def decoder_from_config(library: str | None) -> PhotoDecoder:
    if not library:
        return NoPhotoDecoder()
    return VendorWltDecoder(library)
