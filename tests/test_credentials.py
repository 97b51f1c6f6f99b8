"""Secret files from systemd credentials (sync/credentials.py): the packaged kiosk's unit loads
its root-only credentials directory, and the app must find systemd's copies by file name and
read them, never the originals it has no right to open."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest

from kiosk_app.app import load_kiosk_credential
from kiosk_app.config import Config
from kiosk_app.main import main
from sync.credentials import resolve
from sync.enroll import save_credential
from sync.fieldcrypto import KeyFileError, load_or_create_key
from sync.signing import KioskCredential

# What `LoadCredential=hospital-kiosk:/etc/hospital-kiosk/credentials` makes of the directory.
PREFIX = "hospital-kiosk_"


@pytest.fixture
def creds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "run-credentials"
    directory.mkdir()
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(directory))
    return directory


def test_without_systemd_the_configured_path_is_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    assert resolve(tmp_path / "kiosk.credential") == tmp_path / "kiosk.credential"


def test_directory_form_is_found_by_file_name(creds: Path) -> None:
    (creds / (PREFIX + "kiosk.credential")).write_text("x")
    (creds / (PREFIX + "kiosk-data.key")).write_bytes(b"k" * 32)
    configured = Path("/etc/hospital-kiosk/credentials/kiosk.credential")
    assert resolve(configured) == creds / (PREFIX + "kiosk.credential")
    # a name that only ends like another is not it
    assert resolve(Path("/etc/x/data.key")) == Path("/etc/x/data.key")


def test_single_file_form_by_file_name_or_id(creds: Path) -> None:
    (creds / "face-template-key").write_bytes(b"k" * 32)
    path = Path("/etc/kiosk/face-template.key")
    assert resolve(path) == path
    assert resolve(path, names=("face-template-key",)) == creds / "face-template-key"
    (creds / "face-template.key").write_bytes(b"j" * 32)
    assert resolve(path, names=("face-template-key",)) == creds / "face-template.key"


def test_a_missing_credential_falls_back_to_the_path(creds: Path, tmp_path: Path) -> None:
    assert resolve(tmp_path / "kiosk.credential") == tmp_path / "kiosk.credential"
    (creds / (PREFIX + "kiosk.credential")).mkdir()  # not a file: ignored
    assert resolve(tmp_path / "kiosk.credential") == tmp_path / "kiosk.credential"


def test_the_kiosk_reads_its_enrollment_from_systemd_not_from_the_root_only_file(creds: Path, tmp_path: Path) -> None:
    root_only = tmp_path / "etc" / "kiosk.credential"  # does not exist for this user: only systemd's copy does
    config = replace(Config(data_dir=tmp_path / "var", kiosk_id="KIOSK-07"), credential_file=root_only)
    assert load_kiosk_credential(config) is None  # not enrolled: no copy yet, and the kiosk still starts
    save_credential(creds / (PREFIX + "kiosk.credential"), KioskCredential("KIOSK-07", "s3cret"))
    # 0400 with an ACL for the service user shows as 0440: systemd's copy, so no owner-only check
    os.chmod(creds / (PREFIX + "kiosk.credential"), 0o440)
    credential = load_kiosk_credential(config)
    assert credential is not None and credential.kiosk_id == "KIOSK-07" and credential.secret == "s3cret"
    assert not root_only.exists()


def test_enrollment_refuses_before_pairing_when_it_cannot_save(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    locked = tmp_path / "credentials"
    locked.write_text("a file where the directory should be: unwritable even for root\n")
    config = tmp_path / "kiosk.toml"
    config.write_text(
        f'[kiosk]\nid = "KIOSK-01"\ndata_dir = "{tmp_path / "var"}"\n'
        f'[server]\nurl = "http://127.0.0.1:9"\ncredential_file = "{locked / "kiosk.credential"}"\n'
    )
    assert main(["--enroll", "--config", str(config)]) == 1
    err = capsys.readouterr().err
    assert "enroll as root" in err and str(locked) in err and "Pairing code" not in err


def test_keys_from_systemd_skip_the_owner_only_check_that_files_of_our_own_keep(creds: Path, tmp_path: Path) -> None:
    (creds / (PREFIX + "kiosk-data.key")).write_bytes(b"k" * 32)
    os.chmod(creds / (PREFIX + "kiosk-data.key"), 0o440)
    assert load_or_create_key(resolve(tmp_path / "kiosk-data.key")) == b"k" * 32
    ours = tmp_path / "other.key"
    ours.write_bytes(b"k" * 32)
    ours.chmod(0o640)
    with pytest.raises(KeyFileError, match="must not be accessible"):
        load_or_create_key(resolve(ours))
