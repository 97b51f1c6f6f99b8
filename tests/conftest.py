"""Shared fixtures: emulated devices at the wire, the real server on loopback, and a guard
that fails any test leaving a thread behind (napari's conftest does the same for QThreads)."""

from __future__ import annotations

import gc
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

pytest_plugins = ["conftest_server"]

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"


@pytest.fixture(autouse=True)
def _no_leaked_threads() -> Iterator[None]:
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + 5
    while True:
        leaked = [t for t in threading.enumerate() if t not in before and t.is_alive()]
        if not leaked or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert not leaked, f"test leaked threads: {[t.name for t in leaked]}"


@pytest.fixture(autouse=True)
def _collect_qt_garbage(request: pytest.FixtureRequest) -> Iterator[None]:
    """A kiosk's window and controller reference each other; collected at a random later moment,
    PySide6 destroys their C++ side in the middle of another test (segfaults). Collect them here."""
    yield
    if "qapp" in request.fixturenames:
        gc.collect()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[object]:
    """The real central server (uvicorn on 127.0.0.1) with fast payment timings."""
    from server.settings import ServerSettings
    from server.testing import ServerThread

    settings = ServerSettings(db_path=tmp_path / "server.db").with_fast_payments()
    with ServerThread(settings) as srv:
        yield srv


@pytest.fixture
def id_reader_emu() -> Iterator[object]:
    from devices.emulators.idcard import IdCardEmulator

    emu = IdCardEmulator()
    emu.start()
    yield emu
    emu.stop()


@pytest.fixture
def scanner_emu() -> Iterator[object]:
    from devices.emulators.scanner import ScannerEmulator

    emu = ScannerEmulator()
    emu.start()
    yield emu
    emu.stop()


@pytest.fixture
def printer_emu() -> Iterator[object]:
    from devices.emulators.printer import PrinterEmulator

    emu = PrinterEmulator()
    emu.start()
    yield emu
    emu.stop()


@pytest.fixture(scope="session", autouse=True)
def _translations_built() -> None:
    """The .qm files are build products (packaging/bootstrap.sh); build them if a test run starts bare."""
    import shutil
    import subprocess

    for ts in (ROOT / "kiosk_app" / "translations").glob("*.ts"):
        qm = ts.with_suffix(".qm")
        if not qm.exists() or qm.stat().st_mtime < ts.stat().st_mtime:
            lrelease = shutil.which("pyside6-lrelease") or str(Path(os.sys.executable).parent / "pyside6-lrelease")
            subprocess.run([lrelease, "-silent", str(ts), "-qm", str(qm)], check=True)
