"""A serial barcode scanner on a pseudo-terminal, so the real SerialScanner can be tested.

The URL names a symlink in a private temp dir, like the udev ``/dev/kiosk/scanner`` link on a
kiosk: ``unplug()`` closes the pty and removes the link (the driver sees the port vanish) and
``replug()`` makes a new pty behind the same link (a new /dev/pts number, as a replugged USB
scanner gets a new ttyACM number), so the driver must find it again without a restart.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
import time
import tty

log = logging.getLogger(__name__)


class ScannerEmulator:
    def __init__(self, baud: int = 9600) -> None:
        self.baud = baud
        self._master: int | None = None
        self._slave: int | None = None
        self._dir = ""

    def start(self) -> ScannerEmulator:
        if not self._dir:
            self._dir = tempfile.mkdtemp(prefix="kiosk-scanner-")
        if self._master is None:
            self._plug()
        return self

    def stop(self) -> None:
        """Idempotent; the reader sees the port vanish, like an unplugged USB scanner."""
        self.unplug()
        if self._dir:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = ""

    def unplug(self) -> None:
        """Pull the cable: the link goes first, so a reader reopening at once finds nothing."""
        if self._dir:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path)
        for fd in (self._master, self._slave):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError as err:
                    log.debug("closing pty: %s", err)
        self._master = self._slave = None

    def replug(self) -> None:
        """Plug back in: a new pty behind the same link."""
        if not self._dir:
            raise RuntimeError("scanner emulator not started")
        self.unplug()
        self._plug()

    def _plug(self) -> None:
        master, slave = os.openpty()
        # Raw mode until the reader configures the port: no echo, no CR->LF translation.
        tty.setraw(slave)
        # The slave stays open here so the pty is not hung up between a reader's close and reopen.
        self._master, self._slave = master, slave
        # Re-pointed atomically: a reader never sees a half-made link.
        tmp = f"{self.path}.new"
        os.symlink(os.ttyname(slave), tmp)
        os.replace(tmp, self.path)

    @property
    def plugged(self) -> bool:
        return self._master is not None

    @property
    def path(self) -> str:
        """The stable name (a symlink); empty before ``start()``."""
        return os.path.join(self._dir, "scanner") if self._dir else ""

    @property
    def pty_path(self) -> str:
        """The pty slave behind the link now (changes on every replug)."""
        return os.ttyname(self._slave) if self._slave is not None else ""

    def __enter__(self) -> ScannerEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"serial://{self.path}?baud={self.baud}"

    def scan(self, code: str, suffix: bytes = b"\r", *, chunk_size: int | None = None,
             chunk_delay_s: float = 0.005, encoding: str = "utf-8") -> None:
        """Send one code as the scanner would; ``chunk_size`` splits it like USB-CDC packets."""
        data = code.encode(encoding) + suffix
        if not chunk_size:
            self.send_raw(data)
            return
        for i in range(0, len(data), chunk_size):
            self.send_raw(data[i : i + chunk_size])
            time.sleep(chunk_delay_s)

    def send_raw(self, data: bytes) -> None:
        if self._master is None:
            raise RuntimeError("scanner emulator not started or unplugged")
        view = memoryview(data)
        while view:
            view = view[os.write(self._master, view) :]
