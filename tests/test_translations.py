"""Every visible string goes through Qt Linguist, and the shipped Chinese is complete."""

import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from PySide6.QtCore import QTranslator

ROOT = Path(__file__).resolve().parent.parent
TS = ROOT / "kiosk_app" / "translations" / "kiosk_zh_CN.ts"
SOURCES = sorted(str(p) for p in (ROOT / "kiosk_app").rglob("*.py"))


def _lupdate() -> str:
    return shutil.which("pyside6-lupdate") or str(Path(sys.executable).parent / "pyside6-lupdate")


def _messages(ts: Path) -> list[ET.Element]:
    return ET.parse(ts).getroot().findall("./context/message")


def test_every_entry_is_translated_and_keeps_its_placeholders() -> None:
    messages = _messages(TS)
    assert len(messages) > 100
    for m in messages:
        source, tr = m.findtext("source") or "", m.find("translation")
        assert tr is not None and tr.get("type") not in ("unfinished", "obsolete", "vanished"), source
        assert (tr.text or "").strip(), source
        assert sorted(re.findall(r"\{\w+\}", source)) == sorted(re.findall(r"\{\w+\}", tr.text or "")), source


def test_no_string_in_the_code_is_missing_from_the_ts(tmp_path: Path) -> None:
    copy = tmp_path / "kiosk_zh_CN.ts"
    shutil.copy(TS, copy)
    subprocess.run([_lupdate(), "-silent", *SOURCES, "-ts", str(copy)], check=True, cwd=ROOT)
    new = [m.findtext("source") for m in _messages(copy) if m.find("translation").get("type") == "unfinished"]
    assert new == [], f"run `make translations` and translate: {new}"


def test_compiled_catalogue_translates(qapp) -> None:
    tr = QTranslator()
    assert tr.load("kiosk_zh_CN", str(TS.parent))
    assert tr.translate("HomeScreen", "Registration") == "挂号"
    assert tr.translate("messages", "Payment received.") == "支付成功。"


def test_the_lupdate_check_would_catch_an_untranslated_string(tmp_path: Path) -> None:
    src = tmp_path / "w.py"
    src.write_text(
        "from PySide6.QtWidgets import QWidget\nclass W(QWidget):\n    def f(self):\n"
        '        return self.tr("A brand new sentence")\n',
        encoding="utf-8",
    )
    copy = tmp_path / "x.ts"
    shutil.copy(TS, copy)
    subprocess.run([_lupdate(), "-silent", str(src), "-ts", str(copy)], check=True)
    assert any(
        m.findtext("source") == "A brand new sentence" and m.find("translation").get("type") == "unfinished"
        for m in _messages(copy)
    )
