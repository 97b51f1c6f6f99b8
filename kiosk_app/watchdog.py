"""systemd notification protocol (``sd_notify``) with the standard library only, no Qt.

Under ``hospital-kiosk.service`` (``Type=notify``, ``WatchdogSec=``) the kiosk sends ``READY=1``
once its first screen is painted and ``WATCHDOG=1`` from a timer on the GUI thread, so a hung event
loop stops the pings and systemd restarts the kiosk. Outside systemd (no ``$NOTIFY_SOCKET``) every
call is a no-op.

The kiosk runs as cage's child, so ``$WATCHDOG_PID`` (set by systemd to the unit's main process)
names cage, not us: the watchdog is taken as meant for us when that pid is ours or our parent's.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Mapping

log = logging.getLogger(__name__)


class Notifier:
    """Sends ``KEY=value`` datagrams to the socket in ``$NOTIFY_SOCKET``; never raises."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        address = env.get("NOTIFY_SOCKET", "")
        if address.startswith("@"):  # abstract namespace
            address = "\0" + address[1:]
        self.address = address if address.startswith(("/", "\0")) else ""
        self.watchdog_usec = _watchdog_usec(env)
        self._failed = False

    @property
    def enabled(self) -> bool:
        return bool(self.address)

    @property
    def watchdog_interval_ms(self) -> int | None:
        """Half the watchdog timeout (as sd_watchdog_enabled(3) advises), or None without one."""
        if not self.enabled or self.watchdog_usec is None:
            return None
        return max(1, self.watchdog_usec // 2000)

    def notify(self, state: str) -> bool:
        if not self.enabled:
            return False
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
                sock.sendto(state.encode(), self.address)
        except OSError as exc:
            if not self._failed:  # once: a ping every few seconds must not flood the journal
                log.warning("sd_notify to %r failed: %s", self.address, exc)
                self._failed = True
            return False
        return True

    def ready(self) -> bool:
        return self.notify("READY=1\nSTATUS=first screen painted")

    def ping(self) -> bool:
        return self.notify("WATCHDOG=1")

    def stopping(self) -> bool:
        return self.notify("STOPPING=1")


def _watchdog_usec(env: Mapping[str, str]) -> int | None:
    try:
        usec = int(env.get("WATCHDOG_USEC", ""))
    except ValueError:
        return None
    if usec <= 0:
        return None
    pid = env.get("WATCHDOG_PID")
    if pid and pid not in (str(os.getpid()), str(os.getppid())):
        return None  # meant for another process
    return usec
