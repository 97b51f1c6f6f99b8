"""A thin typed layer over pyscard's ``smartcard.scard`` that turns every PC/SC failure into a keyed
``DeviceError``: ``DeviceUnavailable`` (pcscd or the reader gone), ``CardReadError`` (the card gone or
mute), ``DeviceError`` for the rest. Callers never see a raw pyscard result or exception.

pyscard is imported on first use, so importing the driver never needs libpcsclite.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from devices.errors import CardReadError, DeviceError, DeviceTimeout, DeviceUnavailable

# Reason codes for UNAVAILABLE, also the ``code`` of the matching DeviceUnavailable.
REASON_NO_PCSC_LIBRARY = "pcsc_library_missing"
REASON_PCSCD_DOWN = "pcscd_not_running"
REASON_READER_ABSENT = "reader_absent"

# PC/SC result codes (winscard.h), so this module needs no pyscard at import.
S_SUCCESS = 0x00000000
E_CANCELLED = 0x80100002
E_INVALID_HANDLE = 0x80100003
E_UNKNOWN_READER = 0x80100009
E_TIMEOUT = 0x8010000A
E_SHARING_VIOLATION = 0x8010000B
E_NO_SMARTCARD = 0x8010000C
E_PROTO_MISMATCH = 0x8010000F
F_COMM_ERROR = 0x80100013
E_NOT_TRANSACTED = 0x80100016
E_READER_UNAVAILABLE = 0x80100017
E_NO_SERVICE = 0x8010001D
E_SERVICE_STOPPED = 0x8010001E
E_NO_READERS_AVAILABLE = 0x8010002E
W_UNRESPONSIVE_CARD = 0x80100066
W_UNPOWERED_CARD = 0x80100067
W_RESET_CARD = 0x80100068
W_REMOVED_CARD = 0x80100069

STATE_UNAWARE = 0x0000
STATE_CHANGED = 0x0002
STATE_UNKNOWN = 0x0004
STATE_UNAVAILABLE = 0x0008
STATE_EMPTY = 0x0010
STATE_PRESENT = 0x0020
STATE_MUTE = 0x0200

_SERVICE_GONE = frozenset({E_NO_SERVICE, E_SERVICE_STOPPED, E_INVALID_HANDLE})
_READER_GONE = frozenset({E_UNKNOWN_READER, E_READER_UNAVAILABLE, E_NO_READERS_AVAILABLE})
_CARD_GONE = frozenset({E_NO_SMARTCARD, W_REMOVED_CARD, W_RESET_CARD, W_UNPOWERED_CARD, E_NOT_TRANSACTED, F_COMM_ERROR})


def _scard() -> ModuleType:
    try:
        from smartcard import scard
    except (ImportError, OSError) as err:  # pyscard missing, or libpcsclite.so.1 not installed
        raise DeviceUnavailable(f"pyscard cannot be loaded: {err}", code=REASON_NO_PCSC_LIBRARY) from err
    return scard


def describe(hresult: int) -> str:
    try:
        text = str(_scard().SCardGetErrorMessage(hresult))
    except DeviceError:
        text = ""
    return f"0x{hresult:08X} {text}".strip()


def error_for(hresult: int, what: str) -> DeviceError:
    """The keyed error for a PC/SC result other than success."""
    detail = f"{what}: {describe(hresult)}"
    if hresult in _SERVICE_GONE:
        return DeviceUnavailable(detail, code=REASON_PCSCD_DOWN)
    if hresult in _READER_GONE:
        return DeviceUnavailable(detail, code=REASON_READER_ABSENT)
    if hresult == E_TIMEOUT:
        return DeviceTimeout(detail)
    if hresult in _CARD_GONE:
        return CardReadError(detail, code="card_removed")
    if hresult in (W_UNRESPONSIVE_CARD, E_PROTO_MISMATCH):
        return CardReadError(detail, code="card_unresponsive")
    if hresult == E_SHARING_VIOLATION:
        return CardReadError(detail, code="card_in_use")
    return DeviceError(detail, code="pcsc_error")


def _call(what: str, fn: Callable[..., Any], *args: Any) -> Any:
    """Call a pyscard function; its own exceptions (bad handles, SWIG errors) become keyed errors."""
    scard = _scard()
    try:
        return fn(*args)
    except (scard.error, TypeError, ValueError, OSError, SystemError) as err:
        raise DeviceError(f"{what}: {err}", code="pcsc_error") from err


def _hr(value: int) -> int:
    return int(value) & 0xFFFFFFFF  # pyscard may hand back a negative LONG on some platforms


@dataclass(frozen=True)
class ReaderState:
    event_state: int
    atr: bytes

    @property
    def present(self) -> bool:
        return bool(self.event_state & STATE_PRESENT)

    @property
    def gone(self) -> bool:
        return bool(self.event_state & (STATE_UNKNOWN | STATE_UNAVAILABLE))

    @property
    def mute(self) -> bool:
        return bool(self.event_state & STATE_MUTE)

    @property
    def counter(self) -> int:
        """pcsc-lite counts insertions and removals in the high word: a changed count while
        present means the card was swapped between two looks."""
        return (self.event_state >> 16) & 0xFFFF


class Card:
    """A connected card handle."""

    def __init__(self, handle: Any, protocol: int) -> None:
        self._handle = handle
        self._protocol = protocol

    def transmit(self, command: bytes) -> bytes:
        scard = _scard()
        hr, response = _call("transmit", scard.SCardTransmit, self._handle, self._protocol, list(command))
        if _hr(hr) != S_SUCCESS:
            raise error_for(_hr(hr), "transmit")
        return bytes(response)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """Exclusive access for a whole read, so a self-test's SELECT cannot land between our APDUs."""
        scard = _scard()
        hr = _call("begin transaction", scard.SCardBeginTransaction, self._handle)
        if _hr(hr) != S_SUCCESS:
            raise error_for(_hr(hr), "begin transaction")
        try:
            yield
        finally:
            # The card may be gone already; ending then fails, and that is not news.
            with contextlib.suppress(DeviceError):
                _call("end transaction", scard.SCardEndTransaction, self._handle, scard.SCARD_LEAVE_CARD)

    def disconnect(self) -> None:
        scard = _scard()
        with contextlib.suppress(DeviceError):
            _call("disconnect", scard.SCardDisconnect, self._handle, scard.SCARD_LEAVE_CARD)


class Context:
    """One PC/SC context; ``DeviceUnavailable(pcscd_not_running)`` if pcscd does not answer."""

    def __init__(self) -> None:
        scard = _scard()
        hr, handle = _call("establish context", scard.SCardEstablishContext, scard.SCARD_SCOPE_USER)
        if _hr(hr) != S_SUCCESS:
            raise error_for(_hr(hr), "establish context")
        self._handle = handle
        self._released = False

    def readers(self) -> list[str]:
        scard = _scard()
        hr, names = _call("list readers", scard.SCardListReaders, self._handle, [])
        if _hr(hr) == E_NO_READERS_AVAILABLE:
            return []
        if _hr(hr) != S_SUCCESS:
            raise error_for(_hr(hr), "list readers")
        return [str(n) for n in names]

    def wait(self, reader: str, known_state: int, timeout_s: float) -> ReaderState | None:
        """Block until ``reader`` differs from ``known_state``; None on timeout or ``cancel()``."""
        scard = _scard()
        hr, states = _call(
            "get status change",
            scard.SCardGetStatusChange,
            self._handle,
            max(0, int(timeout_s * 1000)),
            [(reader, known_state)],
        )
        if _hr(hr) in (E_TIMEOUT, E_CANCELLED):
            return None
        if _hr(hr) != S_SUCCESS:
            raise error_for(_hr(hr), "get status change")
        _name, event_state, atr = states[0]
        return ReaderState(int(event_state), bytes(atr))

    def connect(self, reader: str) -> Card:
        scard = _scard()
        hr, handle, protocol = _call(
            "connect",
            scard.SCardConnect,
            self._handle,
            reader,
            scard.SCARD_SHARE_SHARED,
            scard.SCARD_PROTOCOL_T0 | scard.SCARD_PROTOCOL_T1,
        )
        if _hr(hr) != S_SUCCESS:
            raise error_for(_hr(hr), "connect")
        return Card(handle, int(protocol))

    def cancel(self) -> None:
        """Wake a ``wait()`` in another thread (the one PC/SC call meant to cross threads)."""
        if self._released:
            return
        with contextlib.suppress(DeviceError):
            _call("cancel", _scard().SCardCancel, self._handle)

    def release(self) -> None:
        if self._released:
            return
        self._released = True
        with contextlib.suppress(DeviceError):
            _call("release context", _scard().SCardReleaseContext, self._handle)


def pick_reader(names: list[str], wanted: str) -> str | None:
    """``wanted`` "" = the first reader; else an exact name, else the first containing it (any case)."""
    if not names:
        return None
    if not wanted:
        return names[0]
    if wanted in names:
        return wanted
    low = wanted.lower()
    return next((n for n in names if low in n.lower()), None)
