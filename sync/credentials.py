"""Secret files handed over by systemd (``LoadCredential=``).

The packaged kiosk keeps its secrets (the enrollment credential, the patient-data key, the
face-template key) in ``/etc/hospital-kiosk/credentials``, readable by root only. Its unit loads
that directory as credentials, and systemd gives the service a private, read-only copy of each
file in ``$CREDENTIALS_DIRECTORY``, named ``<id>_<file name>`` (directory form, systemd >= 251)
or ``<id>`` (single-file form).

So a configured secret path means the same file for every caller: enrollment (as root) writes
it, and the service, which could not open it, reads systemd's copy, found by the file's name.
Without ``$CREDENTIALS_DIRECTORY`` (development, tests, the demo) the path is used as it is.
"""

from __future__ import annotations

import os
from pathlib import Path


def resolve(path: Path, *, names: tuple[str, ...] = ()) -> Path:
    """systemd's copy of the secret file ``path`` if this service was given one, else ``path``.

    A credential named ``path.name`` wins, then one of ``names`` (credential IDs of the
    single-file form), then ``<anything>_<path.name>`` (the directory form).
    """
    directory = os.environ.get("CREDENTIALS_DIRECTORY")
    if not directory:
        return path
    root = Path(directory)
    for name in (path.name, *names):
        if (root / name).is_file():
            return root / name
    try:
        entries = sorted(os.listdir(root))
    except OSError:
        return path
    suffix = "_" + path.name
    for entry in entries:
        if entry.endswith(suffix) and (root / entry).is_file():
            return root / entry
    return path


def under_systemd() -> bool:
    """Whether systemd handed this process credentials (a unit with ``LoadCredential=``)."""
    return bool(os.environ.get("CREDENTIALS_DIRECTORY"))


def is_systemd_copy(path: Path) -> bool:
    """Whether ``path`` is one of this service's credentials. Access to those is systemd's
    business: it may show group bits (an ACL granting the service user read access, when the
    credentials filesystem supports ACLs), so the owner-only mode check of a key file we keep
    ourselves does not apply."""
    directory = os.environ.get("CREDENTIALS_DIRECTORY")
    return directory is not None and directory != "" and path.parent == Path(directory)
