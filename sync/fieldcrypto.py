"""Field-level encryption for patient identity data at rest, and the key file it needs.

Shared by the central server (patient records) and the kiosk (its offline queue and recently
seen patients), each with its own key file and its own ``domain`` in the key derivation.

One 32-byte master key per installation, kept in a file beside the database (never inside it). Two keys
are derived from it with HKDF: one for AES-256-GCM, one for the HMAC "blind index" that lets the
server find a patient by ID number without storing the number. Separate keys mean the index can
never be used as an oracle against the ciphertexts, and vice versa.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
import stat
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from sync.credentials import is_systemd_copy

logger = logging.getLogger(__name__)

KEY_BYTES = 32
_VERSION = 1  # first byte of every blob, so a later algorithm or key rotation can tell blobs apart
_NONCE_BYTES = 12  # 96-bit random nonce: the GCM standard size; collisions are negligible at our volume
_TAG_BYTES = 16


class DecryptError(ValueError):
    """The blob was tampered with, belongs to another column, or was written under another key."""


class KeyFileError(RuntimeError):
    """The key file is unusable (wrong size, too permissive, unreadable)."""


def _derive(master: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=info).derive(master)


class FieldCipher:
    """``encrypt("patients.name", "张三") -> blob``; the column name is bound as associated data, so a
    blob copied into another column (or row field) fails to decrypt instead of being misread."""

    def __init__(self, master_key: bytes, domain: str = "server") -> None:
        if len(master_key) != KEY_BYTES:
            raise ValueError(f"the master key must be {KEY_BYTES} bytes")
        self._aead = AESGCM(_derive(master_key, f"hospital-kiosk/{domain}/field-encryption/v1".encode()))
        self._index_key = _derive(master_key, f"hospital-kiosk/{domain}/blind-index/v1".encode())

    def __repr__(self) -> str:
        return "FieldCipher(<key hidden>)"  # keep the key out of tracebacks and debug logs

    def encrypt(self, column: str, plaintext: str) -> bytes:
        nonce = secrets.token_bytes(_NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, plaintext.encode("utf-8"), self._aad(column))
        return bytes([_VERSION]) + nonce + sealed

    def decrypt(self, column: str, blob: bytes) -> str:
        if len(blob) < 1 + _NONCE_BYTES + _TAG_BYTES or blob[0] != _VERSION:
            raise DecryptError(f"not a v{_VERSION} encrypted value for {column}")
        nonce, sealed = blob[1 : 1 + _NONCE_BYTES], blob[1 + _NONCE_BYTES :]
        try:
            plain = self._aead.decrypt(nonce, sealed, self._aad(column))
        except InvalidTag:
            raise DecryptError(f"cannot decrypt {column}: tampered, wrong column or wrong key") from None
        return plain.decode("utf-8")

    def blind_index(self, value: str) -> str:
        """Deterministic keyed hash for equality lookups; without the key it cannot be brute-forced
        (a bare SHA-256 of an 18-digit ID number could: the space is only ~10^11)."""
        return hmac.new(self._index_key, value.encode("utf-8"), hashlib.sha256).hexdigest()

    @staticmethod
    def _aad(column: str) -> bytes:
        return bytes([_VERSION]) + column.encode("utf-8")


def load_or_create_key(path: Path) -> bytes:
    """Read the 32-byte key at ``path``, or create one (mode 0600) if there is no file yet.

    An existing file is never replaced: losing the key loses every encrypted patient record, so a
    broken key file stops the server with an explanation instead of being silently regenerated.
    """
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return _create_key(path)
    except OSError as exc:
        raise KeyFileError(f"cannot read key file {path}: {exc.strerror}") from None
    try:
        # fstat on the open descriptor, so the checked file is the one that is read
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise KeyFileError(f"key file {path} is not a regular file")
        if os.name == "posix" and st.st_mode & 0o077 and not is_systemd_copy(path):
            raise KeyFileError(
                f"key file {path} has mode {stat.S_IMODE(st.st_mode):04o}; it must not be accessible by "
                f"group or others (chmod 600 {path})"
            )
        key = os.read(fd, KEY_BYTES + 1)
    finally:
        os.close(fd)
    if len(key) != KEY_BYTES:
        raise KeyFileError(f"key file {path} must hold exactly {KEY_BYTES} bytes, not {len(key)}")
    return key


def _create_key(path: Path) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(KEY_BYTES)
    # Written completely under a private temporary name, then linked into place: another process
    # never sees a half-written key, and O_EXCL/link never overwrite a key that appeared meanwhile.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        try:
            os.write(fd, key)
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(tmp, path)
        except FileExistsError:
            # Another server process created the key first: use theirs, so both agree.
            return load_or_create_key(path)
    finally:
        tmp.unlink(missing_ok=True)
    _fsync_dir(path.parent)
    logger.warning("created a new patient-data key at %s; back it up: without it patient data is unreadable", path)
    return key


def _fsync_dir(directory: Path) -> None:
    """Make the new directory entry durable; a key lost in a power cut would orphan the data."""
    if os.name != "posix":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
