"""The fault-injection harness in miniature: it must pass on the real code and catch a seeded bug.

The full run (``python bench/chaos.py --kills 200 --faults 50``) takes minutes; these runs take
seconds and prove both that the harness works end to end and that its checker has teeth.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SUMMARY = re.compile(r"lost=(\d+) duplicated=(\d+) mismatched=(\d+) stuck=(\d+) unexpected=(\d+)")

pytestmark = pytest.mark.slow


def chaos(*args: str) -> tuple[int, str, tuple[int, ...]]:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "chaos.py"), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    last = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""
    found = SUMMARY.search(last)
    assert found, f"no summary line last:\n{proc.stdout}\n{proc.stderr[-2000:]}"
    return proc.returncode, last, tuple(int(g) for g in found.groups())


def test_kills_and_faults_lose_nothing() -> None:
    code, line, counts = chaos("--kills", "12", "--faults", "6", "--seed", "11")
    assert counts == (0, 0, 0, 0, 0), line
    assert "integrity_check kiosk=ok server=ok" in line
    assert code == 0
    assert int(re.search(r"receipts=(\d+)", line).group(1)) > 50, line  # type: ignore[union-attr]


def test_the_checker_catches_an_outbox_written_in_a_second_transaction() -> None:
    code, line, (lost, *_rest) = chaos("--kills", "20", "--faults", "0", "--seed", "5", "--seed-bug", "second-tx")
    assert lost > 0, line
    assert code == 1
