"""Cold start of the kiosk to its first painted home screen, and its peak memory.

Each run is a fresh process (offscreen Qt) timed from spawn to the moment it reports the
first paint of the home screen; peak RSS comes from the kernel's accounting of that child
(``wait4``). The peer in the same run is a bare PySide6 window doing the same: the gap
between the two is what the kiosk itself costs. Targets: ≤ 1.5 s and ≤ 300 MB on 2 cores.

    python bench/startup.py [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_S, TARGET_MB = 1.5, 300

PEER = """
import time, sys
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QLabel
app = QApplication(sys.argv[:1])
w = QLabel("hello"); w.resize(720, 1280)
class F(QObject):
    def eventFilter(self, o, e):
        if e.type() == QEvent.Type.Paint:
            print("first_paint_ms=0", flush=True); QTimer.singleShot(0, app.quit)
        return False
f = F(); w.installEventFilter(f); w.show(); app.exec()
"""

CONFIG = """
[kiosk]
data_dir = "{data}"
[server]
url = "http://127.0.0.1:9"
[devices.id_reader]
url = "serial:///dev/null-idreader"
[devices.scanner]
url = "serial:///dev/null-scanner"
[devices.printer]
url = "tcp://127.0.0.1:9"
"""


def run_once(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Seconds from spawn to the first-paint line, and the child's peak RSS in MB."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, cwd=ROOT, text=True)
    assert proc.stdout is not None
    elapsed = float("nan")
    for line in proc.stdout:
        if line.startswith("first_paint_ms="):
            elapsed = time.perf_counter() - t0
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{cmd} exited with {proc.returncode}")
    return elapsed, usage.ru_maxrss / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "kiosk.toml"
        config.write_text(CONFIG.format(data=Path(tmp) / "var"), encoding="utf-8")
        subjects = {
            "kiosk (main.py)": [sys.executable, "main.py", "--config", str(config), "--size", "720x1280",
                                "--exit-after-first-paint"],
            "peer: bare PySide6 window": [sys.executable, "-c", PEER],
        }
        run_once(subjects["peer: bare PySide6 window"], env)  # warm the page cache for both alike
        print(f"{'subject':<28} {'first paint s (median, min-max)':>32} {'peak RSS MB (max)':>18}")
        results = {}
        for name, cmd in subjects.items():
            samples = [run_once(cmd, env) for _ in range(args.runs)]
            times, mems = [s[0] for s in samples], [s[1] for s in samples]
            results[name] = (statistics.median(times), max(mems))
            print(
                f"{name:<28} {statistics.median(times):>14.3f} ({min(times):.3f}-{max(times):.3f})"
                f"{'':>6} {max(mems):>12.0f}"
            )
    kiosk_t, kiosk_mb = results["kiosk (main.py)"]
    peer_t, peer_mb = results["peer: bare PySide6 window"]
    print(f"kiosk overhead over bare Qt: +{kiosk_t - peer_t:.3f} s, +{kiosk_mb - peer_mb:.0f} MB")
    print(
        f"targets: first paint <= {TARGET_S} s: {'met' if kiosk_t <= TARGET_S else 'MISSED'}; "
        f"peak memory <= {TARGET_MB} MB: {'met' if kiosk_mb <= TARGET_MB else 'MISSED'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
