"""``python -m server`` starts, announces its URL once ready, serves, and stops on SIGINT."""

from __future__ import annotations

import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent


def _read_line(proc: subprocess.Popen[str], timeout: float) -> str:
    assert proc.stdout is not None
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        if not sel.select(timeout):
            return ""
    return proc.stdout.readline().strip()


def test_cli_announces_and_serves(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "server", "--db", str(tmp_path / "cli.db"), "--port", "0", "--fast-payments"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        line = _read_line(proc, timeout=20)
        assert line.startswith("server listening on http://127.0.0.1:"), line
        base = line.removeprefix("server listening on ")
        assert requests.get(base + "/health", timeout=5).json()["status"] == "ok"
        assert len(requests.get(base + "/api/v1/departments", timeout=5).json()) >= 8
    finally:
        proc.send_signal(signal.SIGINT)
        started = time.monotonic()
        try:
            assert proc.wait(timeout=15) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert time.monotonic() - started < 15
