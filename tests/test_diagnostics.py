"""Diagnostics without Qt: PIN hashes, the lock-out gate and its persistence, the audit log, the
config writer, the log tail and the readiness report."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from devices.base import DeviceKind, DeviceStatus
from devices.errors import DeviceState
from kiosk_app.config import ConfigError
from kiosk_app.diagnostics import configedit, pin
from kiosk_app.diagnostics.logtail import read_tail, recent_problems
from kiosk_app.diagnostics.pin import PinGate, hash_pin, parse_hash, verify_pin
from kiosk_app.diagnostics.report import ReportInputs, build_report, render_text, write_report
from offline_cache.audit import AuditLog
from offline_cache.journal import Journal
from offline_cache.migrations import MIGRATIONS
from offline_cache.store import Store

FAST = 200_000  # the minimum the gate accepts; keeps these tests quick


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(tmp_path / "kiosk.db")
    yield s
    s.close()


class Clock:
    def __init__(self, t: float = 1_800_000_000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


# ---- Hashes


def test_hash_format_and_verify() -> None:
    stored = hash_pin("2468", iterations=FAST)
    algo, iterations, salt, digest = stored.split("$")
    assert algo == "pbkdf2_sha256" and int(iterations) == FAST
    assert len(bytes.fromhex(salt)) == 16 and len(bytes.fromhex(digest)) == 32
    assert verify_pin("2468", stored)
    assert not verify_pin("2469", stored) and not verify_pin("", stored)
    assert hash_pin("2468", iterations=FAST) != stored  # a fresh random salt every time
    assert int(hash_pin("1").split("$")[1]) >= 200_000  # the default is at least the minimum


def test_malformed_or_weak_hashes_never_match() -> None:
    weak = "pbkdf2_sha256$1000$" + "00" * 16 + "$" + "00" * 32
    for stored in ("", "2468", "md5$1$aa$bb", "pbkdf2_sha256$x$aa$bb", weak, hash_pin("2468", iterations=FAST)[:-2]):
        assert parse_hash(stored) is None
        assert not verify_pin("2468", stored)
    with pytest.raises(ValueError):
        hash_pin("2468", iterations=1000)


def test_cli_prints_a_hash_line(monkeypatch, capsys) -> None:
    answers = iter(["135790", "135790"])
    monkeypatch.setattr(pin.getpass, "getpass", lambda _prompt="": next(answers))
    assert pin.main() == 0
    out = capsys.readouterr().out.strip()
    assert out.startswith('pin_hash = "pbkdf2_sha256$') and "135790" not in out
    assert verify_pin("135790", tomllib.loads(out)["pin_hash"])
    answers = iter(["1234", "4321"])
    assert pin.main() == 1  # the two entries differ
    answers = iter(["12", "12"])
    assert pin.main() == 1  # too short
    assert capsys.readouterr().out == ""


# ---- The gate


def test_five_wrong_pins_lock_the_gate_even_for_the_right_pin(store: Store) -> None:
    clock = Clock()
    gate = PinGate(store, hash_pin("2468", iterations=FAST), max_attempts=5, lockout_s=300, clock=clock)
    for left in (4, 3, 2, 1):
        attempt = gate.try_pin("0000")
        assert not attempt.ok and attempt.attempts_left == left and attempt.locked_for_s == 0
    attempt = gate.try_pin("0000")
    assert attempt.just_locked and attempt.locked_for_s == 300 and attempt.locked_minutes == 5
    refused = gate.try_pin("2468")
    assert not refused.ok and refused.refused and refused.locked_for_s == 300
    clock.t += 299
    assert not gate.try_pin("2468").ok and 0 < gate.locked_for() <= 1
    clock.t += 1
    assert gate.locked_for() == 0
    assert gate.try_pin("2468").ok


def test_the_lock_survives_a_restart(store: Store) -> None:
    clock, stored = Clock(), hash_pin("2468", iterations=FAST)
    gate = PinGate(store, stored, clock=clock)
    for _ in range(5):
        gate.try_pin("1111")
    clock.t += 100
    again = PinGate(store, stored, clock=clock)  # the kiosk was power-cycled
    assert again.locked_for() == pytest.approx(200)
    assert again.try_pin("2468").refused
    clock.t += 200
    assert again.try_pin("2468").ok


def test_wrong_tries_are_counted_across_restarts_and_reset_by_the_right_pin(store: Store) -> None:
    clock, stored = Clock(), hash_pin("2468", iterations=FAST)
    gate = PinGate(store, stored, max_attempts=5, clock=clock)
    for _ in range(3):
        gate.try_pin("1111")
    assert PinGate(store, stored, max_attempts=5, clock=clock).attempts_left() == 2
    assert gate.try_pin("2468").ok
    assert PinGate(store, stored, max_attempts=5, clock=clock).attempts_left() == 5


def test_a_clock_set_back_never_locks_longer_than_lockout(store: Store) -> None:
    clock, stored = Clock(), hash_pin("2468", iterations=FAST)
    gate = PinGate(store, stored, lockout_s=300, clock=clock)
    for _ in range(5):
        gate.try_pin("1111")
    clock.t -= 86_400  # the RTC lost a day
    assert gate.locked_for() == 300
    assert PinGate(store, stored, lockout_s=300, clock=clock).locked_for() == 300


def test_without_a_configured_hash_nobody_gets_in(store: Store) -> None:
    for stored in ("", "not-a-hash"):
        gate = PinGate(store, stored, clock=Clock())
        assert not gate.configured
        attempt = gate.try_pin("2468")
        assert not attempt.ok and attempt.refused and gate.attempts_left() == 5


# ---- Store: migrations and the audit log


def test_migrations_are_appended_after_001(store: Store) -> None:
    names = [name for name, _ in MIGRATIONS]
    assert names[:3] == ["001_transactions", "002_audit", "003_pin_gate"]
    done = [r["name"] for r in store.read().query("SELECT name FROM _migrations ORDER BY name")]
    assert done == names
    assert set(store.read()["audit"].columns_dict) == {"id", "at", "actor", "action", "detail"}


def test_audit_records_newest_first_and_masks_long_numbers(store: Store) -> None:
    audit = AuditLog(store)
    audit.record("technician", "enter").result(timeout=10)
    audit.record("technician", "selftest_result", "id_reader: ok (0.1 s)").result(timeout=10)
    audit.record("technician", "oops", "code 134567890123456789 card 11010519491231002X").result(timeout=10)
    rows = audit.recent(10)
    assert [r["action"] for r in rows] == ["oops", "selftest_result", "enter"]
    assert rows[1]["detail"] == "id_reader: ok (0.1 s)" and rows[0]["at"].endswith("+00:00")
    assert "134567890123456789" not in rows[0]["detail"] and "6789" in rows[0]["detail"]
    assert "11010519491231002X" not in rows[0]["detail"]
    assert len(audit.recent(2)) == 2


# ---- Config writer

CONFIG = """# Kiosk configuration, with comments that must survive.

[kiosk]
id = "KIOSK-7"   # the kiosk's name

[devices.id_reader]
url = "serial:///dev/kiosk/idreader?baud=115200"  # the reader
poll_interval_s = 0.3

[devices.scanner]
enabled = true
"""


def test_saving_urls_keeps_comments_and_validates(tmp_path: Path) -> None:
    path = tmp_path / "kiosk.toml"
    path.write_text(CONFIG, encoding="utf-8")
    configedit.save_urls(
        path,
        {
            "devices.id_reader": "serial:///dev/ttyUSB3?baud=115200",
            "devices.scanner": "serial:///dev/ttyACM0",
            "devices.printer": "tcp://10.0.0.5:9100",
        },
    )
    text = path.read_text(encoding="utf-8")
    data = tomllib.loads(text)
    assert data["devices"]["id_reader"] == {"url": "serial:///dev/ttyUSB3?baud=115200", "poll_interval_s": 0.3}
    assert data["devices"]["scanner"] == {"enabled": True, "url": "serial:///dev/ttyACM0"}
    assert data["devices"]["printer"]["url"] == "tcp://10.0.0.5:9100"
    assert "# the reader" in text and "# the kiosk's name" in text and data["kiosk"]["id"] == "KIOSK-7"
    before = path.read_bytes()
    with pytest.raises(ConfigError, match=r"devices\.scanner\.url"):
        configedit.save_urls(path, {"devices.scanner": "bogus://x"})
    with pytest.raises(ConfigError, match=r"devices\.printer\.url"):
        configedit.save_urls(path, {"devices.printer": "tcp://no-port"})
    assert path.read_bytes() == before  # nothing written
    assert not list(tmp_path.glob("*.new"))


def test_the_fallback_writers_round_trip() -> None:
    data = {
        "kiosk": {"id": 'A "quoted" id', "elderly_mode": False, "idle_timeout_s": 60},
        "devices": {"scanner": {"url": "serial:///dev/x", "enabled": True}, "camera": {"fps": 15.0}},
    }
    assert tomllib.loads(configedit._small_dumps(data)) == data
    assert tomllib.loads(configedit.dumps(data)) == data


def test_check_names_the_bad_key_and_refuses_other_sections() -> None:
    assert configedit.check({"devices.camera": "camera://1"})["devices"]["camera"]["url"] == "camera://1"
    with pytest.raises(ConfigError, match="not an editable device"):
        configedit.check({"kiosk": "x"})


# ---- Log tail and the report

LOG = """2026-01-02 10:00:00,001 DEBUG a [MainThread] noisy detail
2026-01-02 10:00:01,002 INFO a [MainThread] started
2026-01-02 10:00:02,003 WARNING devices.scanner [scanner] port lost
2026-01-02 10:00:03,004 ERROR kiosk_app.tasks [kiosk-io_0] background task failed
Traceback (most recent call last):
  File "x.py", line 1, in <module>
2026-01-02 10:00:04,005 INFO a [MainThread] flow step=home
"""


def test_log_tail_filters_by_level_and_keeps_tracebacks(tmp_path: Path) -> None:
    path = tmp_path / "kiosk.log"
    path.write_text(LOG, encoding="utf-8")
    assert len(read_tail(path, "DEBUG").lines) == 7
    info = read_tail(path, "INFO").lines
    assert "noisy detail" not in "\n".join(info) and info[-1].endswith("flow step=home")
    errors = read_tail(path, "ERROR").lines
    assert errors[0].endswith("background task failed") and errors[-1].startswith("  File") and len(errors) == 3
    assert len(read_tail(path, "INFO", max_lines=2).lines) == 2
    assert recent_problems(path) == [LOG.splitlines()[2], LOG.splitlines()[3]]
    missing = read_tail(tmp_path / "none.log")
    assert not missing.exists and missing.lines == []
    cut = read_tail(path, "DEBUG", max_bytes=len(LOG) - 10)  # the first line is cut and dropped
    assert not any("noisy" in line for line in cut.lines)


def test_readiness_report_files(tmp_path: Path, store: Store) -> None:
    journal = Journal(store)
    for i, state in enumerate(["paid", "paid", "failed"]):
        journal.create(f"t{i}", "registration", patient_masked="张*", patient_ref="42")
        journal.update(f"t{i}", state)
    (tmp_path / "log").mkdir()
    (tmp_path / "log" / "kiosk.log").write_text(LOG, encoding="utf-8")
    statuses = [
        DeviceStatus(
            DeviceKind.ID_READER,
            "id_reader",
            "serial:///dev/x",
            "/dev/x",
            DeviceState.READY,
            "",
            "",
            "",
            {"state_ready": 1},
            1_800_000_000.0,
        ),
        DeviceStatus(
            DeviceKind.SCANNER,
            "scanner",
            "serial:///dev/y",
            "/dev/y",
            DeviceState.UNAVAILABLE,
            "device_unavailable",
            "device_unavailable",
            "no such port",
        ),
    ]
    inputs = ReportInputs(
        "KIOSK-7",
        "Demo",
        "http://127.0.0.1:1",
        "0.1.0",
        "6.x",
        "6.x",
        statuses,
        tmp_path,
        tmp_path / "log" / "kiosk.log",
    )
    report = build_report(inputs, journal)
    assert report["ready"] is False
    assert report["transactions"]["by_state"] == {"failed": 1, "paid": 2}
    assert report["disk"]["free_bytes"] > 0 and report["versions"]["python"].startswith("3.")
    assert [d["state"] for d in report["devices"]] == ["ready", "unavailable"]
    assert len(report["recent_errors"]) == 2
    json_path, text_path = write_report(report, tmp_path / "out")
    assert json.loads(json_path.read_text(encoding="utf-8"))["kiosk_id"] == "KIOSK-7"
    text = text_path.read_text(encoding="utf-8")
    assert text == render_text(report)
    assert "NOT READY" in text and "scanner (scanner): UNAVAILABLE" in text and "paid: 2" in text
    assert "张" not in text and "张" not in json_path.read_text(encoding="utf-8")  # rows are only counted


def test_staff_card_check_uses_hashes_only() -> None:
    from kiosk_app.diagnostics.pin import hash_pin, staff_card_allowed

    stored = (hash_pin("11010119800101001X", iterations=200_000),)
    assert staff_card_allowed("11010119800101001x", stored)  # the check digit may be read lower-case
    assert not staff_card_allowed("110101198001010028", stored)
    assert not staff_card_allowed("", stored) and not staff_card_allowed("11010119800101001X", ())
    assert "11010119800101001X" not in stored[0]
