"""Patient identity encrypted at rest: the cipher, the key file, the schema upgrade, and the raw file."""

from __future__ import annotations

import dataclasses
import logging
import os
import sqlite3
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from server.crypto import KEY_BYTES, DecryptError, FieldCipher, KeyFileError, load_or_create_key
from server.db import Database, utc_now
from server.dbapi import SqliteConn
from server.patient_store import read_identity
from server.schema import CATALOG_AND_MONEY, PATIENTS_V2, SCHEMA_VERSION
from server.seed import seed_if_empty
from server.testing import ServerThread

if TYPE_CHECKING:
    from conftest_server import Api

ROOT = Path(__file__).resolve().parent.parent
NAME = "张三"
ID_NUMBER = "11010519491231002X"  # fictitious, checksum-valid
PERSON = {"id_type": "resident", "id_number": ID_NUMBER, "name": NAME, "sex": "F", "birth": "1949-12-31"}

V1_PATIENTS = """
CREATE TABLE IF NOT EXISTS patients (
    id INTEGER PRIMARY KEY,
    id_type TEXT NOT NULL,
    id_number TEXT NOT NULL,
    name TEXT NOT NULL,
    sex TEXT NOT NULL,
    birth TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (id_type, id_number)
);
"""


def _cipher(seed: int = 1) -> FieldCipher:
    return FieldCipher(bytes([seed]) * KEY_BYTES)


def _raw_bytes(db_path: Path) -> bytes:
    """The database file plus its -wal/-shm companions, exactly as on disk."""
    return b"".join(p.read_bytes() for p in sorted(db_path.parent.glob(db_path.name + "*")))


def _all_cells(db_path: Path) -> list[Any]:
    with sqlite3.connect(db_path) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return [cell for t in tables for row in conn.execute(f'SELECT * FROM "{t}"') for cell in row]


def _api_cells(api: Api) -> list[Any]:
    """Every cell of every table of the server's database, whichever backend."""
    if api.backend == "sqlite":
        tables = [r[0] for r in api.sql("SELECT name FROM sqlite_master WHERE type = 'table'")]
    else:
        query = "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
        tables = [r[0] for r in api.sql(query)]
    assert "patients" in tables
    return [cell for t in tables for row in api.sql(f'SELECT * FROM "{t}"') for cell in row]


def _assert_no_plain_cells(cells: list[Any]) -> None:
    for cell in cells:
        text = bytes(cell).decode("utf-8", "replace") if isinstance(cell, bytes | memoryview) else str(cell)
        assert NAME not in text and ID_NUMBER not in text


def _assert_no_plain_identity(db_path: Path) -> None:
    for cell in _all_cells(db_path):
        text = cell.decode("utf-8", "replace") if isinstance(cell, bytes) else str(cell)
        assert NAME not in text and ID_NUMBER not in text
    raw = _raw_bytes(db_path)
    assert NAME.encode("utf-8") not in raw and ID_NUMBER.encode("ascii") not in raw


# -- the cipher ------------------------------------------------------------------------------------


def test_round_trip_and_fresh_nonce_per_value() -> None:
    cipher = _cipher()
    blob = cipher.encrypt("patients.name", NAME)
    assert cipher.decrypt("patients.name", blob) == NAME
    assert blob[0] == 1 and len(blob) == 1 + 12 + len(NAME.encode()) + 16
    assert cipher.encrypt("patients.name", NAME) != blob  # random nonce: equal names don't look equal
    assert NAME.encode() not in blob


@pytest.mark.parametrize("position", [0, 5, 14, -1])  # version, nonce, ciphertext, tag
def test_tampered_blob_is_refused(position: int) -> None:
    cipher = _cipher()
    blob = bytearray(cipher.encrypt("patients.name", NAME))
    blob[position] ^= 0x01
    with pytest.raises(DecryptError):
        cipher.decrypt("patients.name", bytes(blob))


def test_blob_is_bound_to_its_column() -> None:
    cipher = _cipher()
    with pytest.raises(DecryptError):
        cipher.decrypt("patients.id_number", cipher.encrypt("patients.name", NAME))


def test_another_key_cannot_read_or_find() -> None:
    mine, other = _cipher(1), _cipher(2)
    with pytest.raises(DecryptError):
        other.decrypt("patients.name", mine.encrypt("patients.name", NAME))
    assert mine.blind_index(ID_NUMBER) == mine.blind_index(ID_NUMBER)
    assert mine.blind_index(ID_NUMBER) != other.blind_index(ID_NUMBER)
    assert ID_NUMBER not in mine.blind_index(ID_NUMBER)
    assert "01" * 4 not in repr(mine)


# -- the key file ----------------------------------------------------------------------------------


def test_key_file_is_created_private_and_reused(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    path = tmp_path / "keys" / "server.key"
    key = load_or_create_key(path)
    assert len(key) == KEY_BYTES and path.read_bytes() == key
    assert path.stat().st_mode & 0o777 == 0o600
    assert load_or_create_key(path) == key
    assert "created a new patient-data key" in caplog.text and key.hex() not in caplog.text
    assert [p.name for p in path.parent.iterdir()] == ["server.key"]  # no temporary file left behind


def test_readable_key_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "server.key"
    path.write_bytes(os.urandom(KEY_BYTES))
    path.chmod(0o644)
    with pytest.raises(KeyFileError, match="chmod 600"):
        load_or_create_key(path)
    assert path.stat().st_mode & 0o777 == 0o644  # refused, not "fixed" or replaced


def test_key_file_of_wrong_length_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "server.key"
    path.write_bytes(b"short")
    path.chmod(0o600)
    with pytest.raises(KeyFileError, match="exactly 32 bytes"):
        load_or_create_key(path)
    assert path.read_bytes() == b"short"


def test_cli_refuses_a_readable_key(tmp_path: Path) -> None:
    key = tmp_path / "elsewhere.key"
    key.write_bytes(os.urandom(KEY_BYTES))
    key.chmod(0o644)
    proc = subprocess.run(
        [sys.executable, "-m", "server", "--db", str(tmp_path / "cli.db"), "--key", str(key), "--port", "0"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 2 and "must not be accessible by group or others" in proc.stderr
    assert key.read_bytes().hex() not in proc.stderr + proc.stdout


# -- through the API -------------------------------------------------------------------------------


def test_identify_stores_no_plain_identity(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    first = api.post("/api/v1/patients/identify", PERSON)
    again = api.post("/api/v1/patients/identify", {**PERSON, "id_number": ID_NUMBER.lower(), "name": " 张三 "})
    assert first.status_code == again.status_code == 200
    assert first.json()["is_new"] is True
    assert again.json() == {"patient_id": first.json()["patient_id"], "is_new": False}

    settings = api.srv.settings
    assert api.srv.app is not None
    cipher = api.srv.app.state.cipher
    _assert_no_plain_cells(_api_cells(api))
    if api.backend == "sqlite":
        _assert_no_plain_identity(settings.db_path)  # the file and its WAL, byte by byte
    columns = set(api.sql("SELECT * FROM patients")[0].keys())
    masked = api.sql("SELECT id_masked FROM patients WHERE id = ?", (first.json()["patient_id"],))
    with api.srv.app.state.db.connection() as conn:
        identity = read_identity(conn, cipher, first.json()["patient_id"])
    assert {"name", "id_number"}.isdisjoint(columns) and {"name_enc", "id_number_enc", "id_index"} <= columns
    assert [tuple(r) for r in masked] == [("110***********002X",)]
    assert identity is not None and (identity.name, identity.id_number) == (NAME, ID_NUMBER)
    assert NAME not in repr(identity) and ID_NUMBER not in repr(identity)

    key = settings.resolved_key_path.read_bytes()
    assert settings.resolved_key_path == settings.db_path.parent / "server.key"
    if api.backend == "sqlite":
        assert key not in _raw_bytes(settings.db_path)
    assert NAME not in caplog.text and ID_NUMBER not in caplog.text and key.hex() not in caplog.text


def test_server_refuses_a_key_that_does_not_match_the_data(api: Api, tmp_path: Path) -> None:
    assert api.post("/api/v1/patients/identify", PERSON).status_code == 200
    wrong = tmp_path / "wrong.key"
    settings = dataclasses.replace(api.srv.settings, key_path=wrong)
    with pytest.raises(RuntimeError, match="does not decrypt"), ServerThread(settings):
        pass


# -- upgrading a v1 (plain-text) database ----------------------------------------------------------


def _build_v1_database(db_path: Path) -> int:
    """A v1 file as the previous server wrote it: plain patients, one registration. Returns its id."""
    v2_patients = PATIENTS_V2.format(table="patients")
    assert v2_patients in CATALOG_AND_MONEY
    v1_schema = "".join(f"{V1_PATIENTS if s == v2_patients else s};\n" for s in CATALOG_AND_MONEY)
    with sqlite3.connect(db_path, isolation_level=None) as conn:
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode=WAL")
        conn.executescript(v1_schema + "CREATE TABLE schema_version (version INTEGER NOT NULL);")
        conn.execute("INSERT INTO schema_version(version) VALUES (1)")
        seed_if_empty(SqliteConn(conn), date.today())
        cur = conn.execute(
            "INSERT INTO patients(id_type, id_number, name, sex, birth, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            ("resident", ID_NUMBER, NAME, "F", "1949-12-31", utc_now()),
        )
        patient_id = int(cur.lastrowid or 0)
        slot = conn.execute("SELECT id, doctor_code FROM slots LIMIT 1").fetchone()
        conn.execute(
            "INSERT INTO registrations(reg_no, patient_id, slot_id, status, amount_cents, idempotency_key,"
            " response_json, created_at, updated_at) VALUES ('R1', ?, ?, 'unpaid', 1000, 'k1', '{}', ?, ?)",
            (patient_id, slot["id"], utc_now(), utc_now()),
        )
    conn.close()
    assert NAME.encode() in _raw_bytes(db_path)  # the test really starts from plain text
    return patient_id


@pytest.mark.parametrize("backend", ["sqlite"])  # only SQLite files predate schema v3
def test_v1_database_is_upgraded_and_the_patient_still_found(api: Api, tmp_path: Path) -> None:
    db_path = tmp_path / "old" / "server.db"
    db_path.parent.mkdir()
    patient_id = _build_v1_database(db_path)

    with ServerThread(api.quick_settings(db_path)) as srv:
        helper = type(api)(srv)
        found = helper.post("/api/v1/patients/identify", PERSON)
        helper.close()
        assert srv.app is not None
        cipher = srv.app.state.cipher
    assert found.status_code == 200 and found.json() == {"patient_id": patient_id, "is_new": False}

    _assert_no_plain_identity(db_path)
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT max(version) FROM schema_version").fetchone() == (SCHEMA_VERSION,)
        assert conn.execute("SELECT patient_id FROM registrations WHERE reg_no = 'R1'").fetchone() == (patient_id,)
        reg_sql = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'registrations'").fetchone()[0]
        assert "REFERENCES patients(id)" in reg_sql
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        identity = read_identity(conn, cipher, patient_id)
    assert identity is not None and identity.name == NAME


def test_failed_upgrade_leaves_the_v1_database_untouched(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db_path = tmp_path / "server.db"
    _build_v1_database(db_path)
    with pytest.raises(RuntimeError, match="needs the field cipher"):
        Database(db_path).init()

    def explode(*_args: object) -> None:
        raise OSError("disk full, say")

    monkeypatch.setattr("server.migrations.encrypted_identity", explode)
    with pytest.raises(OSError, match="disk full"):
        Database(db_path).init(_cipher())
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT max(version) FROM schema_version").fetchone() == (1,)
        assert conn.execute("SELECT name FROM patients").fetchall() == [(NAME,)]
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert "patients_v2" not in tables
