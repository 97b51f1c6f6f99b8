"""The core packages never import Qt (napari's rule): they must run headless, in the server,
in workers and in tests without a display."""

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORE = ["devices", "face", "offline_cache", "sync", "server", "kiosk_app/flows", "kiosk_app/services"]
CORE_FILES = ["kiosk_app/config.py"]
QT = ("PySide6", "PyQt5", "PyQt6", "PySide2", "shiboken6", "qtpy")


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
    return names


def test_no_core_module_imports_qt() -> None:
    files = [p for d in CORE for p in (ROOT / d).rglob("*.py")] + [ROOT / f for f in CORE_FILES]
    assert len(files) > 20
    offenders = [
        f"{p.relative_to(ROOT)}: {name}" for p in files for name in _imports(p) if name.split(".")[0] in QT
    ]
    assert offenders == []


def test_importing_core_loads_no_qt() -> None:
    modules = [
        "devices.idcard",
        "devices.printer",
        "devices.scanner",
        "devices.emulators.idcard",
        "devices.emulators.printer",
        "devices.emulators.scanner",
        "offline_cache.journal",
        "sync.client",
        "server.app",
        "kiosk_app.flows.registration",
        "kiosk_app.services.registration",
        "kiosk_app.config",
    ]
    code = (
        f"import sys; [__import__(m) for m in {modules!r}]; "
        f"print(sorted(m for m in sys.modules if m.startswith({QT!r})))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "[]"


def test_the_check_would_catch_a_qt_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from PySide6.QtCore import QObject\nimport PyQt5\n", encoding="utf-8")
    assert _imports(bad) == ["PySide6.QtCore", "PyQt5"]
