"""``python -m server`` starts, announces its URL once ready, serves, and stops on SIGINT."""

from __future__ import annotations

import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from sync.signing import KioskAuth

ROOT = Path(__file__).resolve().parent.parent


def _read_line(proc: subprocess.Popen[str], timeout: float) -> str:
    assert proc.stdout is not None
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        if not sel.select(timeout):
            return ""
    return proc.stdout.readline().strip()


def test_cli_announces_and_serves(tmp_path: Path) -> None:
    # A kiosk credential provisioned by the CLI (the secret is printed once), then the server.
    out = subprocess.run(
        [sys.executable, "-m", "server", "kiosk", "add", "--db", str(tmp_path / "cli.db"), "--kiosk-id", "K-CLI"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    secret = out.strip().rsplit(" ", 1)[-1]
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
        assert requests.get(base + "/api/v1/departments", timeout=5).status_code == 401  # unsigned
        signed = requests.get(base + "/api/v1/departments", auth=KioskAuth("K-CLI", secret), timeout=5)
        assert len(signed.json()) >= 8
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
