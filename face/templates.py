"""Face templates on the kiosk: encrypted, apart from identity data, with the consent recorded.

The rules (face.md §5: PIPL art. 28–29, the 2025 face-recognition measures, GB/T 35273):
templates only, never images; stored on the device in their own database, keyed by a
pseudonymous subject (``patient:<server id>``), never by name or ID number; each sealed with
AES-256-GCM under a key that is not in the config (a file or a systemd credential), bound to
its subject so rows cannot be swapped; the consent's time and text version kept beside it;
deleted on request with ``secure_delete`` so the bytes are overwritten.
"""

from __future__ import annotations

import base64
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from face.gallery import Gallery
from face.settings import FaceSettings
from face.types import Template
from sync.credentials import resolve
from sync.fieldcrypto import FieldCipher, load_or_create_key

log = logging.getLogger(__name__)

CREDENTIAL_NAME = "face-template-key"  # the single-file form: LoadCredential=face-template-key:/path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS templates (
    subject TEXT PRIMARY KEY,          -- pseudonymous: patient:<server id>; never a name or ID number
    encoder TEXT NOT NULL,
    dim INTEGER NOT NULL,
    sealed BLOB NOT NULL,              -- AES-256-GCM, the subject bound as associated data
    factor TEXT,                       -- keyed hash of the second factor (last four phone digits)
    consent_version TEXT NOT NULL,
    consent_at REAL NOT NULL,
    created_at REAL NOT NULL
)"""


def load_key(settings: FaceSettings, data_dir: Path) -> bytes:
    """The template key: systemd's credential copy of it if the service was given one (see
    :mod:`sync.credentials`), else ``template_key_file``, else a 0600 file created on first use in
    ``data_dir`` (back it up: templates are unreadable without it)."""
    path = settings.template_key_file or data_dir / "face-template.key"
    return load_or_create_key(resolve(path, names=(CREDENTIAL_NAME,)))


@dataclass(frozen=True)
class StoredTemplate:
    subject: str
    template: Template
    consent_version: str
    consent_at: float


class TemplateStore:
    """One small SQLite file; writes serialised by a lock, WAL, ``BEGIN IMMEDIATE``."""

    def __init__(self, path: Path, key: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._cipher = FieldCipher(key, domain="face-templates")
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA secure_delete=ON")  # a deleted template's bytes are overwritten
        self._db.execute(_SCHEMA)
        os.chmod(path, 0o600)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def factor_tag(self, second_factor: str) -> str:
        return self._cipher.blind_index(f"factor:{second_factor}")

    def save(self, subject: str, template: Template, *, consent_version: str, factor: str | None = None) -> None:
        """Store (or replace) ``subject``'s template; only call after the patient consented."""
        raw = base64.b64encode(np.asarray(template.vector, "<f4").tobytes()).decode("ascii")
        sealed = self._cipher.encrypt(f"template:{subject}:{template.encoder}", raw)
        tag = self.factor_tag(factor) if factor else None
        now = time.time()
        with self._write() as db:
            db.execute(
                "INSERT OR REPLACE INTO templates VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (subject, template.encoder, template.dim, sealed, tag, consent_version, now, now),
            )
        log.info("face template stored for %s (%s, consent %s)", subject, template.encoder, consent_version)

    def load(self, subject: str) -> StoredTemplate | None:
        with self._lock:
            row = self._db.execute(
                "SELECT encoder, dim, sealed, consent_version, consent_at FROM templates WHERE subject = ?", (subject,)
            ).fetchone()
        if row is None:
            return None
        return StoredTemplate(subject, self._open(subject, row[0], row[1], row[2]), row[3], row[4])

    def delete(self, subject: str) -> bool:
        """Withdrawn consent or a deletion request: the template is gone (and overwritten)."""
        with self._write() as db:
            gone = db.execute("DELETE FROM templates WHERE subject = ?", (subject,)).rowcount > 0
        log.info("face template of %s %s", subject, "deleted" if gone else "was not stored")
        return gone

    def count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM templates").fetchone()[0])

    def gallery(self, encoder: str, metric: str) -> Gallery:
        """Every template of ``encoder`` decrypted into a matrix for 1:N with a second factor."""
        with self._lock:
            rows = self._db.execute(
                "SELECT subject, dim, sealed, factor FROM templates WHERE encoder = ?", (encoder,)
            ).fetchall()
        dim = rows[0][1] if rows else 0
        g = Gallery(metric, dim or 1, capacity=max(len(rows), 1))
        for subject, row_dim, sealed, factor in rows:
            g.add(subject, self._open(subject, encoder, row_dim, sealed).vector, factor)
        return g

    def _open(self, subject: str, encoder: str, dim: int, sealed: bytes) -> Template:
        raw = base64.b64decode(self._cipher.decrypt(f"template:{subject}:{encoder}", sealed))
        vector = np.frombuffer(raw, "<f4").astype(np.float32)
        if vector.shape[0] != dim:
            raise ValueError(f"template of {subject} has {vector.shape[0]} values, expected {dim}")
        return Template(encoder, vector)


def main(argv: list[str] | None = None) -> int:
    """``python -m face.templates --db var/face-templates.db count | delete SUBJECT | delete-all``.

    For IT staff answering a deletion request or decommissioning a kiosk. Needs no key: deleting
    a sealed template does not require reading it.
    """
    import argparse

    parser = argparse.ArgumentParser(prog="python -m face.templates", description=main.__doc__)
    parser.add_argument("--db", type=Path, default=Path("var/face-templates.db"))
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("count", help="how many templates are stored")
    delete = sub.add_parser("delete", help="delete one subject's template (e.g. patient:1234)")
    delete.add_argument("subject")
    sub.add_parser("delete-all", help="delete every template (decommissioning)")
    args = parser.parse_args(argv)
    if not args.db.exists():
        print(f"{args.db}: no template database")
        return 1
    db = sqlite3.connect(args.db, isolation_level=None)
    db.execute("PRAGMA secure_delete=ON")
    try:
        if args.command == "count":
            print(db.execute("SELECT count(*) FROM templates").fetchone()[0])
            return 0
        db.execute("BEGIN IMMEDIATE")
        if args.command == "delete":
            n = db.execute("DELETE FROM templates WHERE subject = ?", (args.subject,)).rowcount
        else:
            n = db.execute("DELETE FROM templates").rowcount
        db.execute("COMMIT")
        db.execute("VACUUM")  # no free page keeps a copy of a deleted template
        print(f"deleted {n} template(s)")
        return 0 if n or args.command == "delete-all" else 1
    finally:
        db.close()


if __name__ == "__main__":
    raise SystemExit(main())
