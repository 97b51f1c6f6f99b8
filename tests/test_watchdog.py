"""sd_notify for hospital-kiosk.service (issue #8): READY=1 and WATCHDOG=1 reach $NOTIFY_SOCKET."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk_app.watchdog import Notifier


@pytest.fixture
def notify_socket(tmp_path: Path) -> Iterator[socket.socket]:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(tmp_path / "notify"))
    sock.settimeout(5)
    yield sock
    sock.close()


def receive(sock: socket.socket) -> str:
    return sock.recv(4096).decode()


def test_ready_and_watchdog_arrive(notify_socket: socket.socket, tmp_path: Path) -> None:
    n = Notifier({"NOTIFY_SOCKET": str(tmp_path / "notify"), "WATCHDOG_USEC": "20000000"})
    assert n.enabled
    assert n.watchdog_interval_ms == 10_000  # half of WatchdogSec=20
    assert n.ready()
    assert receive(notify_socket).splitlines()[0] == "READY=1"
    assert n.ping()
    assert receive(notify_socket) == "WATCHDOG=1"


def test_abstract_socket_address() -> None:
    name = f"kiosk-test-{os.getpid()}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        sock.settimeout(5)
        assert Notifier({"NOTIFY_SOCKET": "@" + name}).ping()
        assert receive(sock) == "WATCHDOG=1"


def test_without_systemd_everything_is_a_no_op() -> None:
    n = Notifier({})
    assert not n.enabled
    assert n.watchdog_interval_ms is None
    assert not n.ready()
    assert not n.ping()


def test_watchdog_for_another_process_is_ignored(tmp_path: Path) -> None:
    env = {"NOTIFY_SOCKET": str(tmp_path / "notify"), "WATCHDOG_USEC": "1000000"}
    assert Notifier({**env, "WATCHDOG_PID": str(os.getpid())}).watchdog_interval_ms == 500
    # under cage the unit's main pid is cage, our parent
    assert Notifier({**env, "WATCHDOG_PID": str(os.getppid())}).watchdog_interval_ms == 500
    assert Notifier({**env, "WATCHDOG_PID": "1"}).watchdog_interval_ms is None
    assert Notifier({**env, "WATCHDOG_USEC": "junk"}).watchdog_interval_ms is None


def test_a_vanished_socket_does_not_raise(tmp_path: Path) -> None:
    n = Notifier({"NOTIFY_SOCKET": str(tmp_path / "gone")})
    assert not n.ping()
    assert not n.ping()


def test_gui_thread_timer_feeds_the_watchdog(qtbot, notify_socket: socket.socket, tmp_path: Path) -> None:
    from kiosk_app.main import start_watchdog

    n = Notifier({"NOTIFY_SOCKET": str(tmp_path / "notify"), "WATCHDOG_USEC": "200000"})
    timer = start_watchdog(n)
    assert timer is not None and timer.interval() == 100
    try:
        assert receive(notify_socket) == "WATCHDOG=1"  # at once
        notify_socket.setblocking(False)
        pings = 0

        def drained() -> bool:
            nonlocal pings
            try:
                while True:
                    assert notify_socket.recv(4096) == b"WATCHDOG=1"
                    pings += 1
            except BlockingIOError:
                pass
            return pings >= 2

        qtbot.waitUntil(drained, timeout=3000)  # then from the event loop, every 100 ms
    finally:
        timer.stop()
    assert start_watchdog(Notifier({"NOTIFY_SOCKET": str(tmp_path / "notify")})) is None
