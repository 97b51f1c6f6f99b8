"""ID-card reader driver: a polling thread speaking GA/T 467 SAM frames over a serial port.

Callbacks run on the reader thread; a UI must hop to its own thread before touching widgets.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from devices.base import Device, DeviceKind, SelfTestResult
from devices.errors import (
    CardReadError,
    DeviceError,
    DeviceState,
    DeviceTimeout,
    DeviceUnavailable,
    ProtocolError,
)
from devices.idcard import protocol as p
from devices.idcard.masking import mask_id
from devices.idcard.parser import IdCardData, parse_read_reply
from devices.url import PORT_LOST, open_serial, serial_identity

log = logging.getLogger(__name__)

PORT_READ_TIMEOUT_S = 0.1  # one pyserial read; short so stop() is noticed quickly
COMMAND_TIMEOUT_S = 1.0  # status/find/select: a live reader answers within a few ms
READ_TIMEOUT_S = 1.5  # allowed silence inside the 1295/2321-byte read reply
RECONNECT_INTERVAL_S = 2.0  # cap of the reconnect backoff: a returning reader is READY within ~2 s
FIRST_RECONNECT_S = 0.5
MAX_READ_ATTEMPTS = 3  # per card presence; the first failure is reported, the rest are silent retries
MAX_POLL_FAILURES = 3  # consecutive find/select failures before the port is reopened
JOIN_TIMEOUT_S = 3.0


class _SamSession:
    """Request/reply exchanges on an open port (shared by the polling thread and ``read_once``)."""

    def __init__(self, port: Any, abort: threading.Event | None = None) -> None:
        self._port = port
        self._abort = abort

    def command(self, command: p.Command, timeout_s: float = COMMAND_TIMEOUT_S) -> p.Response:
        # Stale bytes (the tail of an abandoned reply, line noise) would be taken for the answer.
        self._port.reset_input_buffer()
        self._port.write(p.build_frame(*command))
        return p.read_frame(self._port, timeout_s, abort=self._abort)

    def check_status(self) -> None:
        sw3 = self.command(p.SAM_STATUS).sw3
        if sw3 != p.SW3_OK:
            raise p.error_for_sw3(sw3, "SAM status") or DeviceError(f"SAM status SW3=0x{sw3:02X}")

    def log_sam_id(self) -> None:
        try:
            resp = self.command(p.SAM_ID)
        except DeviceError as err:
            log.debug("SAM id not available: %s", err.code)
            return
        if resp.sw3 == p.SW3_OK:
            log.info("ID-card reader SAM id %s", resp.payload.hex())

    def find(self) -> bool:
        sw3 = self.command(p.FIND).sw3
        if sw3 == p.SW3_CARD_FOUND:
            return True
        if sw3 == p.SW3_NO_CARD:
            return False
        raise p.error_for_sw3(sw3, "find") or DeviceError(f"find SW3=0x{sw3:02X}")

    def select(self) -> bool:
        # A failed select is normal while a card is still sliding into the field.
        return self.command(p.SELECT).sw3 == p.SW3_OK

    def read(self, with_fingerprint: bool) -> IdCardData:
        """Read the selected card; every failure comes out as ``CardReadError``."""
        try:
            resp = self.command(p.READ_FINGER if with_fingerprint else p.READ_BASE, READ_TIMEOUT_S)
            if resp.sw3 != p.SW3_OK:
                raise p.error_for_sw3(resp.sw3, "read") or CardReadError(f"read SW3=0x{resp.sw3:02X}")
            return parse_read_reply(resp.payload, with_fingerprint)
        except CardReadError:
            raise
        except (ProtocolError, DeviceTimeout) as err:
            raise CardReadError(f"read interrupted: {err.code}: {err.detail}") from err
        except DeviceError as err:
            raise CardReadError(f"read failed: {err.code}: {err.detail}", code=err.code) from err


class IdCardReader(Device):
    """Polls a GA/T 467 reader and reports each card once per placement."""

    kind = DeviceKind.ID_READER

    def __init__(
        self,
        url: str,
        *,
        on_card: Callable[[IdCardData], None],
        on_error: Callable[[DeviceError], None],
        on_state: Callable[[DeviceState], None] | None = None,
        poll_interval: float = 0.3,
        with_fingerprint: bool = False,
        reconnect_interval: float = RECONNECT_INTERVAL_S,
    ) -> None:
        super().__init__(url, on_state=on_state)
        self._on_card = on_card
        self._on_error = on_error
        self._poll_interval = poll_interval
        self._with_fingerprint = with_fingerprint
        self._reconnect_interval = reconnect_interval
        self._backoff = min(FIRST_RECONNECT_S, reconnect_interval)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._port: Any = None
        self._port_lock = threading.Lock()
        self._outage_reported = False
        self._identity = ""

    @property
    def identity(self) -> str:
        # Resolved once per connection: it scans sysfs, and diagnostics asks every second.
        return self._identity or self.url

    def self_test(self, timeout_s: float = 5.0) -> SelfTestResult:
        """While running, the polling thread owns the port: READY means the SAM answered 0x90."""
        if self._thread is not None and self._thread.is_alive():
            if self.state is DeviceState.READY:
                return SelfTestResult.passed("SAM status 0x90")
            err = self.last_error
            return SelfTestResult.failed(err) if err else SelfTestResult.failed(self.reason or self.state.value)
        try:
            port = open_serial(self.url, timeout=PORT_READ_TIMEOUT_S)
        except DeviceError as err:
            return SelfTestResult.failed(err)
        try:
            _SamSession(port).check_status()
        except DeviceError as err:
            return SelfTestResult.failed(err)
        except PORT_LOST as err:
            return SelfTestResult.failed("device_unavailable", str(err))
        finally:
            port.close()
        return SelfTestResult.passed("SAM status 0x90")

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="idcard-reader", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        thread, self._thread = self._thread, None
        with self._port_lock:
            port = self._port
        if port is not None:
            # Wake a blocked read; the thread then closes the port itself. Errors mean it is already
            # closed, or the transport has no cancel_read.
            with contextlib.suppress(OSError, AttributeError, TypeError):
                port.cancel_read()
        if thread is not None and thread is not threading.current_thread():
            thread.join(JOIN_TIMEOUT_S)
            if thread.is_alive():
                log.warning("ID-card reader thread did not stop within %.1fs", JOIN_TIMEOUT_S)
        self._close_port()

    # -- thread ------------------------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.is_set():
            session = self._connect()
            if session is None:
                # Throttled: 0.5 s, 1 s, 2 s, ... capped, so a cable plugged back in is found fast
                # while an absent reader is not hammered.
                self._stop.wait(self._backoff)
                self._backoff = min(self._backoff * 2, self._reconnect_interval)
                continue
            self._backoff = min(FIRST_RECONNECT_S, self._reconnect_interval)
            try:
                self._poll(session)
            except PORT_LOST as err:
                self._outage(DeviceState.UNAVAILABLE, DeviceUnavailable(f"port lost: {err}"))
            except Exception:
                if self._stop.is_set():
                    break  # a port closed under a blocked read by a late stop()
                # A bug must not leave the kiosk without a reader until restart: report, retry.
                log.exception("ID-card reader loop failed")
                self._outage(DeviceState.ERROR, DeviceError("reader loop failed", code="internal_error"))
                self._stop.wait(self._reconnect_interval)
            finally:
                self._close_port()

    def _connect(self) -> _SamSession | None:
        if self.state is DeviceState.UNKNOWN:
            self._set_state(DeviceState.CONNECTING)
        try:
            port = open_serial(self.url, timeout=PORT_READ_TIMEOUT_S)
        except DeviceUnavailable as err:
            self._outage(DeviceState.UNAVAILABLE, err)
            return None
        except ValueError as err:  # a malformed URL in the configuration
            self._outage(DeviceState.UNAVAILABLE, DeviceUnavailable(f"bad device URL: {err}"))
            return None
        with self._port_lock:
            self._port = port
        self._identity = serial_identity(self.url)
        session = _SamSession(port, self._stop)
        try:
            session.check_status()
        except PORT_LOST as err:
            self._close_port()
            self._outage(DeviceState.UNAVAILABLE, DeviceUnavailable(f"port lost: {err}"))
            return None
        except DeviceTimeout as err:
            # Nothing answers on this port: powered off or not a SAM reader at all.
            self._close_port()
            self._outage(DeviceState.UNAVAILABLE, DeviceUnavailable(f"no reader answers: {err.detail}"))
            return None
        except DeviceError as err:
            self._close_port()
            self._outage(DeviceState.ERROR, err)
            return None
        session.log_sam_id()
        self._outage_reported = False
        self._set_state(DeviceState.READY)
        return session

    def _poll(self, session: _SamSession) -> None:
        latched = False  # the card in the field was handled; wait for it to leave (find -> 0x80)
        attempts = 0  # read attempts for the card now in the field
        failures = 0  # consecutive find/select exchanges that failed
        while not self._stop.is_set():
            try:
                in_field = session.find()
                selected = in_field and not latched and session.select()
                failures = 0
            except DeviceError as err:
                failures += 1
                if failures >= MAX_POLL_FAILURES:
                    self._outage(DeviceState.ERROR, err)
                    self._stop.wait(self._reconnect_interval)
                    return
                self._stop.wait(self._poll_interval)
                continue
            if not in_field:
                latched, attempts = False, 0
            if not selected:
                self._stop.wait(self._poll_interval)
                continue
            try:
                card = session.read(self._with_fingerprint)
            except CardReadError as err:
                attempts += 1
                self._record_error(err)
                log.info("ID card read failed (%s), attempt %d", err.code, attempts)
                if attempts == 1:
                    self._emit(self._on_error, err)
                # Retry while the card stays (the patient may just have steadied it), but not forever.
                latched = attempts >= MAX_READ_ATTEMPTS
                self._stop.wait(self._poll_interval)
                continue
            latched = True
            self._count("cards_read")
            log.info("ID card read: %s %s", card.card_type, mask_id(card.id_number))
            self._emit(self._on_card, card)
            self._stop.wait(self._poll_interval)

    def _outage(self, state: DeviceState, err: DeviceError) -> None:
        self._record_error(err)
        self._set_state(state, err.code)
        if not self._outage_reported:
            self._outage_reported = True
            log.warning("ID-card reader %s: %s %s", state.value, err.code, err.detail)
            self._emit(self._on_error, err)

    def _emit(self, callback: Callable[[Any], None], arg: Any) -> None:
        if self._stop.is_set():
            return  # stop() was asked for: the owner no longer expects callbacks
        try:
            callback(arg)
        except Exception:
            log.exception("ID-card reader callback %r failed", getattr(callback, "__name__", callback))

    def _close_port(self) -> None:
        with self._port_lock:
            port, self._port = self._port, None
        if port is not None:
            try:
                port.close()
            except (OSError, TypeError, ValueError):
                log.debug("closing the ID-card port failed", exc_info=True)


def read_once(url: str, timeout_s: float = 10.0, *, with_fingerprint: bool = False) -> IdCardData:
    """Open ``url``, wait up to ``timeout_s`` for a card, read it and close (for self-tests).

    Raises ``DeviceUnavailable``/``DeviceError`` for the port or SAM, the last ``CardReadError`` if a
    card was seen but never read, else ``DeviceTimeout``.
    """
    try:
        port = open_serial(url, timeout=PORT_READ_TIMEOUT_S)
    except ValueError as err:
        raise DeviceUnavailable(f"bad device URL: {err}") from err
    deadline = time.monotonic() + timeout_s
    last_error: CardReadError | None = None
    try:
        session = _SamSession(port)
        session.check_status()
        while time.monotonic() < deadline:
            if session.find() and session.select():
                try:
                    return session.read(with_fingerprint)
                except CardReadError as err:
                    last_error = err
            time.sleep(0.1)
    except OSError as err:
        raise DeviceUnavailable(f"port lost: {err}") from err
    finally:
        port.close()
    if last_error is not None:
        raise last_error
    raise DeviceTimeout(f"no card within {timeout_s:.1f}s")
