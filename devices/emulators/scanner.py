"""A serial barcode scanner on a pseudo-terminal, so the real SerialScanner can be tested."""

from __future__ import annotations

import logging
import os
import time
import tty

log = logging.getLogger(__name__)


class ScannerEmulator:
    def __init__(self, baud: int = 9600) -> None:
        self.baud = baud
        self._master: int | None = None
        self._slave: int | None = None
        self._path = ""

    def start(self) -> ScannerEmulator:
        if self._master is not None:
            return self
        master, slave = os.openpty()
        # Raw mode until the reader configures the port: no echo, no CR->LF translation.
        tty.setraw(slave)
        self._master, self._slave, self._path = master, slave, os.ttyname(slave)
        return self

    def stop(self) -> None:
        """Idempotent; the reader sees the port vanish, like an unplugged USB scanner."""
        for fd in (self._master, self._slave):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError as err:
                    log.debug("closing pty: %s", err)
        self._master = self._slave = None

    def __enter__(self) -> ScannerEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"serial://{self._path}?baud={self.baud}"

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
            raise RuntimeError("scanner emulator not started")
        view = memoryview(data)
        while view:
            view = view[os.write(self._master, view) :]
