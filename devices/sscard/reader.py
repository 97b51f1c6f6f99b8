"""Social-security (insurance) card driver: a PC/SC monitoring thread over pyscard.

``pcsc://<reader name or part of it>`` picks the reader (``pcsc://`` = the first one). The thread
waits in SCardGetStatusChange, reads each inserted card once and reports it; when pcscd or the
reader is missing it says UNAVAILABLE with the reason and looks again with a short backoff, so a
reader plugged in (or a pcscd started) later is picked up without a restart.

Callbacks run on the driver's thread; a UI must hop to its own thread before touching widgets.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from devices.base import Device, DeviceKind, SelfTestResult, StateListener
from devices.errors import CardReadError, DeviceError, DeviceState, DeviceUnavailable
from devices.idcard.masking import mask_id
from devices.sscard import pcsc
from devices.sscard.card import deadline_send, read_card, select_ssse
from devices.sscard.errors import CardPinBlocked, NotSocialSecurityCard
from devices.sscard.records import InsuranceCardData
from devices.url import parse_device_url

log = logging.getLogger(__name__)

BACKOFF_MIN_S = 0.5
BACKOFF_MAX_S = 2.0
WAIT_SLICE_S = 0.5  # one SCardGetStatusChange; stop() also cancels it, this only bounds a lost cancel
READ_TIMEOUT_S = 10.0  # a whole read; a real card needs well under a second
MAX_READ_ATTEMPTS = 3  # per insertion; the first failure is reported, the rest are silent retries
JOIN_TIMEOUT_S = 5.0
CANCEL_RETRY_S = 0.05

# Failures that another attempt cannot cure while the same card stays in.
_FINAL = (NotSocialSecurityCard, CardPinBlocked)


class InsuranceCardReader(Device):
    kind = DeviceKind.INSURANCE_CARD

    def __init__(
        self,
        url: str = "pcsc://",
        *,
        name: str | None = None,
        on_state: StateListener | None = None,
        on_inserted: Callable[[], None] | None = None,
        on_removed: Callable[[], None] | None = None,
        on_card: Callable[[InsuranceCardData], None] | None = None,
        on_error: Callable[[DeviceError], None] | None = None,
        read_timeout_s: float = READ_TIMEOUT_S,
        backoff_min_s: float = BACKOFF_MIN_S,
        backoff_max_s: float = BACKOFF_MAX_S,
    ) -> None:
        dev = parse_device_url(url)  # ValueError names a bad URL: configuration is checked at start-up
        if dev.scheme != "pcsc":
            raise ValueError(f"insurance card reader needs a pcsc:// URL, got {url!r}")
        super().__init__(url, name=name, on_state=on_state)
        self._wanted = dev.path.strip()
        self._on_inserted = on_inserted
        self._on_removed = on_removed
        self._on_card = on_card
        self._on_error = on_error
        self._read_timeout_s = read_timeout_s
        self._backoff_min_s = backoff_min_s
        self._backoff_max_s = backoff_max_s
        self._backoff_s = backoff_min_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._ctx: pcsc.Context | None = None
        self._ctx_lock = threading.Lock()
        self._reader_name = ""
        self._card_in = False  # only the reader thread touches it
        self._outage_code = ""  # the outage already reported, so a long one is reported once

    @property
    def identity(self) -> str:
        return f"pcsc://{self._reader_name}" if self._reader_name else self.url

    # ---- Device API

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        if self.state is DeviceState.UNKNOWN:
            self._set_state(DeviceState.CONNECTING)
        self._thread = threading.Thread(target=self._run, name="sscard-reader", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is None or thread is threading.current_thread():
            return
        deadline = time.monotonic() + JOIN_TIMEOUT_S
        while thread.is_alive() and time.monotonic() < deadline:
            # pcsc-lite drops a cancel that arrives while the thread is between two waits, so cancel
            # until it is out. Under the lock: the thread releases a context only after clearing it.
            # A read in progress finishes its current APDU first (PC/SC cannot cancel a transmit).
            with self._ctx_lock:
                if self._ctx is not None:
                    self._ctx.cancel()
            thread.join(CANCEL_RETRY_S)
        if thread.is_alive():
            log.warning("insurance card reader thread did not stop within %.1fs", JOIN_TIMEOUT_S)

    def self_test(self, timeout_s: float = 5.0) -> SelfTestResult:
        """pcscd answers and the reader exists; with a card in, its SSSE application can be selected."""
        try:
            ctx = pcsc.Context()
        except DeviceError as err:
            return SelfTestResult.failed(err)
        try:
            reader = self._resolve(ctx)
            current = ctx.wait(reader, pcsc.STATE_UNAWARE, 0)
            if current is None or not current.present:
                return SelfTestResult.passed(f"reader {reader}, no card")
            card = ctx.connect(reader)
            try:
                with card.transaction():
                    deadline = time.monotonic() + timeout_s
                    select_ssse(deadline_send(card.transmit, deadline))
            finally:
                card.disconnect()
            return SelfTestResult.passed(f"reader {reader}, card answers SSSE select")
        except DeviceError as err:
            return SelfTestResult.failed(err)
        finally:
            ctx.release()

    # ---- Thread

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._serve()
            except DeviceUnavailable as err:
                self._outage(DeviceState.UNAVAILABLE, err)
            except DeviceError as err:
                self._outage(DeviceState.ERROR, err)
            except Exception:
                if self._stop.is_set():
                    break
                # A bug must not leave the kiosk without a card reader until restart: report, retry.
                log.exception("insurance card reader loop failed")
                self._outage(DeviceState.ERROR, DeviceError("reader loop failed", code="internal_error"))
            self._stop.wait(self._backoff_s)
            self._backoff_s = min(self._backoff_s * 2, self._backoff_max_s)

    def _serve(self) -> None:
        """One PC/SC context: find the reader, then watch it until it, or pcscd, goes away."""
        self._count("connect_attempts")
        ctx = pcsc.Context()
        with self._ctx_lock:
            self._ctx = ctx
        try:
            if self._stop.is_set():
                return
            reader = self._resolve(ctx)
            self._reader_name = reader
            self._backoff_s = self._backoff_min_s
            self._outage_code = ""
            self._set_state(DeviceState.READY)
            log.info("insurance card reader %r ready", reader)
            self._watch(ctx, reader)
        finally:
            with self._ctx_lock:
                self._ctx = None
            ctx.release()

    def _resolve(self, ctx: pcsc.Context) -> str:
        names = ctx.readers()
        reader = pcsc.pick_reader(names, self._wanted)
        if reader is None:
            raise DeviceUnavailable(
                f"no reader matching {self._wanted!r} among {names}", code=pcsc.REASON_READER_ABSENT
            )
        return reader

    def _watch(self, ctx: pcsc.Context, reader: str) -> None:
        try:
            self._watch_loop(ctx, reader)
        finally:
            # The reader or pcscd went away with a card in: for the owner that card is gone too.
            if self._card_in:
                self._card_in = False
                self._count("cards_removed")
                self._emit(self._on_removed)

    def _watch_loop(self, ctx: pcsc.Context, reader: str) -> None:
        known = pcsc.STATE_UNAWARE
        seen_counter = -1  # pcsc-lite's insert/remove count when the current card went in
        attempts = 0
        to_read = False
        while not self._stop.is_set():
            current = ctx.wait(reader, known, WAIT_SLICE_S)
            if self._stop.is_set():
                return
            if current is not None:
                known = current.event_state
                if current.gone:
                    raise DeviceUnavailable(f"reader {reader!r} went away", code=pcsc.REASON_READER_ABSENT)
                swapped = self._card_in and current.present and current.counter != seen_counter
                if self._card_in and (not current.present or swapped):
                    self._card_in = to_read = False
                    self._count("cards_removed")
                    self._emit(self._on_removed)
                if current.present and not self._card_in:
                    self._card_in = to_read = True
                    seen_counter, attempts = current.counter, 0
                    self._count("cards_inserted")
                    self._emit(self._on_inserted)
            if self._card_in and to_read:
                attempts += 1
                to_read = not self._read(ctx, reader, attempts) and attempts < MAX_READ_ATTEMPTS

    def _read(self, ctx: pcsc.Context, reader: str, attempt: int) -> bool:
        """Read the card once; True when it needs no further attempt (read, or refused for good).

        ``DeviceUnavailable`` (pcscd or the reader gone mid-read) goes up to the outage handling.
        """
        self._set_state(DeviceState.BUSY)
        try:
            card = self._read_card(ctx, reader)
        except CardReadError as err:
            self._set_state(DeviceState.READY)
            self._count("read_errors")
            log.info("insurance card read failed (%s), attempt %d", err.code, attempt)
            if attempt == 1:
                self._record_error(err)
                self._emit(self._on_error, err)
            return isinstance(err, _FINAL)
        self._set_state(DeviceState.READY)
        self._count("cards_read")
        log.info(
            "insurance card read: %s, version %s, region %s",
            mask_id(card.card_number),
            card.card_version or "?",
            card.region or "?",
        )
        self._emit(self._on_card, card)
        return True

    def _read_card(self, ctx: pcsc.Context, reader: str) -> InsuranceCardData:
        """Every failure comes out as ``CardReadError``, except pcscd or the reader vanishing."""
        try:
            card = ctx.connect(reader)
            try:
                with card.transaction():
                    return read_card(card.transmit, deadline=time.monotonic() + self._read_timeout_s)
            finally:
                card.disconnect()
        except (CardReadError, DeviceUnavailable):
            raise
        except DeviceError as err:
            raise CardReadError(f"read failed: {err.code}: {err.detail}", code=err.code) from err

    # ---- Reporting

    def _outage(self, state: DeviceState, err: DeviceError) -> None:
        self._set_state(state, err.code)
        if err.code != self._outage_code:
            self._outage_code = err.code
            self._record_error(err)
            log.warning("insurance card reader %s: %s %s", state.value, err.code, err.detail)
            self._emit(self._on_error, err)

    def _emit(self, callback: Callable[..., None] | None, *args: Any) -> None:
        if callback is None or self._stop.is_set():
            return  # stop() was asked for: the owner no longer expects callbacks
        try:
            callback(*args)
        except Exception:  # the owner's bug must not stop the reader thread
            log.exception("insurance card reader callback %r failed", getattr(callback, "__name__", callback))
