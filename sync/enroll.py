"""Kiosk enrollment (no Qt): ask to join, show the pairing code, wait for an admin, keep the secret.

1. :func:`request_enrollment` posts the kiosk id and gets a one-time 8-digit pairing code
   (valid 15 minutes) and a poll token.
2. The code is shown on the kiosk (or printed by ``python main.py --enroll``); an admin enters it
   on the server (``POST /api/v1/admin/enrollments/approve``).
3. :func:`wait_for_approval` polls with backoff until approved (the credential) or expired (None).
4. :func:`save_credential` writes the credential file atomically, mode 0600; the kiosk loads it at
   start with :func:`load_credential` and signs every request with it (``sync/signing.py``).

The server hands the secret out only until the kiosk's first signed request, so save it before
using it.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import stat
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from sync.credentials import is_systemd_copy
from sync.signing import KioskCredential

logger = logging.getLogger(__name__)

API = "/api/v1"
_FORMAT = "hospital-kiosk-credential/1"


class EnrollmentError(Exception):
    """Enrollment could not go on: the server refused, or is unreachable past the deadline."""


class CredentialFileError(ValueError):
    """The credential file exists but is unusable (unreadable, malformed, too permissive)."""


@dataclass(frozen=True)
class Enrollment:
    enrollment_id: int
    pairing_code: str
    poll_token: str
    expires_at: str

    def __repr__(self) -> str:
        return f"Enrollment({self.enrollment_id}, code={self.display_code}, expires_at={self.expires_at})"

    @property
    def display_code(self) -> str:
        """``1234 5678``: easier to read aloud than eight digits in a row."""
        return f"{self.pairing_code[:4]} {self.pairing_code[4:]}"


def request_enrollment(
    base_url: str, kiosk_id: str, software_version: str, *, timeout: tuple[float, float] = (3.05, 10.0)
) -> Enrollment:
    url = f"{base_url.rstrip('/')}{API}/enrollments"
    try:
        r = requests.post(url, json={"kiosk_id": kiosk_id, "software_version": software_version}, timeout=timeout)
    except requests.RequestException as exc:
        raise EnrollmentError(f"cannot reach the server at {base_url}: {type(exc).__name__}") from None
    if r.status_code != 201:
        raise EnrollmentError(f"the server refused the enrollment: HTTP {r.status_code} {_code(r)}")
    try:
        body = r.json()
        return Enrollment(
            int(body["enrollment_id"]), str(body["pairing_code"]), str(body["poll_token"]), str(body["expires_at"])
        )
    except (ValueError, KeyError, TypeError):
        raise EnrollmentError("unexpected enrollment answer from the server") from None


def poll_once(base_url: str, enrollment: Enrollment, *, timeout: tuple[float, float] = (3.05, 10.0)) -> dict[str, Any]:
    """The enrollment's status as the server reports it; raises requests errors for the caller."""
    url = f"{base_url.rstrip('/')}{API}/enrollments/{enrollment.enrollment_id}"
    r = requests.get(url, headers={"X-Poll-Token": enrollment.poll_token}, timeout=timeout)
    if r.status_code != 200:
        raise EnrollmentError(f"polling the enrollment failed: HTTP {r.status_code} {_code(r)}")
    body = r.json()
    if not isinstance(body, dict):
        raise EnrollmentError("unexpected poll answer from the server")
    return body


def wait_for_approval(
    base_url: str,
    enrollment: Enrollment,
    *,
    first_delay_s: float = 1.0,
    max_delay_s: float = 10.0,
    stop: threading.Event | None = None,
    timeout: tuple[float, float] = (3.05, 10.0),
) -> KioskCredential | None:
    """Poll with exponential backoff until approved (the credential) or expired/stopped (None).

    A network error is logged and retried: the kiosk waits at the screen until the code expires.
    """
    stop = stop or threading.Event()
    delay = first_delay_s
    while not stop.is_set():
        try:
            body = poll_once(base_url, enrollment, timeout=timeout)
        except (requests.RequestException, ValueError) as exc:
            logger.warning("enrollment poll failed (%s); retrying", type(exc).__name__)
        else:
            status = body.get("status")
            if status == "approved" and isinstance(body.get("secret"), str) and isinstance(body.get("kiosk_id"), str):
                logger.info("enrollment %d approved", enrollment.enrollment_id)
                return KioskCredential(body["kiosk_id"], body["secret"])
            if status in ("expired", "delivered"):
                # delivered: another process took the secret first; this one can't get it any more
                logger.warning("enrollment %d ended: %s", enrollment.enrollment_id, status)
                return None
        stop.wait(delay)
        delay = min(delay * 1.5, max_delay_s)
    return None


def save_credential(path: Path, credential: KioskCredential, *, server_url: str = "") -> None:
    """Write the credential file atomically with mode 0600 (a crash leaves the old file or the new one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {"format": _FORMAT, "kiosk_id": credential.kiosk_id, "secret": credential.secret, "server_url": server_url}
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    if os.name == "posix":
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    logger.info("kiosk credential for %s saved to %s", credential.kiosk_id, path)


def load_credential(path: Path) -> KioskCredential | None:
    """The saved credential; None if there is no file yet; CredentialFileError if it is unusable."""
    try:
        st = path.stat()
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise CredentialFileError(f"cannot read {path}: {exc.strerror}") from None
    if os.name == "posix" and st.st_mode & 0o077 and not is_systemd_copy(path):
        raise CredentialFileError(
            f"{path} has mode {stat.S_IMODE(st.st_mode):04o}; it must not be readable by others (chmod 600 {path})"
        )
    try:
        data = json.loads(text)
        if data.get("format") != _FORMAT:
            raise ValueError("unknown format")
        kiosk_id, secret = data["kiosk_id"], data["secret"]
        if not (isinstance(kiosk_id, str) and kiosk_id and isinstance(secret, str) and secret):
            raise ValueError("empty fields")
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise CredentialFileError(f"{path} is not a kiosk credential file ({exc})") from None
    return KioskCredential(kiosk_id, secret)


def enroll(
    base_url: str,
    kiosk_id: str,
    software_version: str,
    path: Path,
    *,
    show_code: Callable[[Enrollment], None],
    stop: threading.Event | None = None,
    first_delay_s: float = 1.0,
) -> KioskCredential:
    """The whole flow: request, show the code, wait, save. EnrollmentError if it expired or failed."""
    enrollment = request_enrollment(base_url, kiosk_id, software_version)
    show_code(enrollment)
    credential = wait_for_approval(base_url, enrollment, stop=stop, first_delay_s=first_delay_s)
    if credential is None:
        raise EnrollmentError("the pairing code expired (or enrollment was cancelled) before an admin approved it")
    save_credential(path, credential, server_url=base_url)
    return credential


def _code(r: requests.Response) -> str:
    try:
        return str(r.json()["error"]["code"])
    except (ValueError, KeyError, TypeError):
        return ""
