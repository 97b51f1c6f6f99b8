"""Signed kiosk requests: the wire protocol shared by the kiosk (``sync/``) and the server.

Every request a kiosk sends carries four headers::

    X-Kiosk-Id    the kiosk's id (the key id)
    X-Timestamp   unix seconds, an integer, taken when the request is sent
    X-Nonce       at least 16 random bytes, hex: never reused by the kiosk, remembered by the server
    X-Signature   base64(HMAC-SHA256(secret, canonical string))

and the canonical string is ``"\\n".join([METHOD, path_with_query, timestamp, nonce, sha256_hex(body)])``
(sync.md §5 "Signed requests", an AWS-SigV4-style canonical request). The path is the one on the
wire, still percent-encoded, with its query string. The server refuses a timestamp more than
``MAX_SKEW_S`` away from its own clock and a nonce it has seen from the same kiosk, so a captured
request cannot be replayed; the body digest means the body cannot be swapped under the signature.

No Qt and no server imports: the kiosk signs with :class:`KioskAuth`, the server checks with
:func:`verify`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

import requests
from requests.auth import AuthBase

HEADER_KIOSK_ID = "X-Kiosk-Id"
HEADER_TIMESTAMP = "X-Timestamp"
HEADER_NONCE = "X-Nonce"
HEADER_SIGNATURE = "X-Signature"
SIGNED_HEADERS = (HEADER_KIOSK_ID, HEADER_TIMESTAMP, HEADER_NONCE, HEADER_SIGNATURE)

MAX_SKEW_S = 300  # the server's tolerance either side of its clock
NONCE_BYTES = 16
NONCE_PATTERN = re.compile(r"^[0-9a-f]{32,128}$")
TIMESTAMP_PATTERN = re.compile(r"^[0-9]{1,12}$")
EMPTY_BODY_SHA256 = hashlib.sha256(b"").hexdigest()


@dataclass(frozen=True)
class KioskCredential:
    """A kiosk's identity: its id and the shared HMAC secret issued at enrollment."""

    kiosk_id: str
    secret: str

    def __repr__(self) -> str:
        return f"KioskCredential(kiosk_id={self.kiosk_id!r}, secret=<hidden>)"  # never in logs


def body_digest(body: bytes | str | None) -> str:
    if body is None:
        return EMPTY_BODY_SHA256
    if isinstance(body, str):
        body = body.encode("utf-8")
    return hashlib.sha256(body).hexdigest()


def canonical_string(method: str, path_with_query: str, timestamp: str, nonce: str, body: bytes | str | None) -> str:
    return "\n".join([method.upper(), path_with_query, timestamp, nonce, body_digest(body)])


def sign(secret: str, method: str, path_with_query: str, timestamp: str, nonce: str, body: bytes | str | None) -> str:
    text = canonical_string(method, path_with_query, timestamp, nonce, body)
    mac = hmac.new(secret.encode("utf-8"), text.encode("utf-8"), hashlib.sha256).digest()
    return base64.b64encode(mac).decode("ascii")


def signed_headers(
    credential: KioskCredential,
    method: str,
    path_with_query: str,
    body: bytes | str | None,
    *,
    timestamp: int | None = None,
    nonce: str | None = None,
) -> dict[str, str]:
    """The four headers for one request; timestamp and nonce are fresh unless given (tests)."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    nonce = nonce or secrets.token_hex(NONCE_BYTES)
    return {
        HEADER_KIOSK_ID: credential.kiosk_id,
        HEADER_TIMESTAMP: ts,
        HEADER_NONCE: nonce,
        HEADER_SIGNATURE: sign(credential.secret, method, path_with_query, ts, nonce, body),
    }


def verify(
    secret: str, method: str, path_with_query: str, timestamp: str, nonce: str, body: bytes | None, signature: str
) -> bool:
    """True if ``signature`` is the kiosk's signature of this request; constant-time compare.

    Only the signature: the caller checks the timestamp window (:func:`timestamp_ok`) and the nonce.
    """
    expected = sign(secret, method, path_with_query, timestamp, nonce, body)
    return hmac.compare_digest(expected.encode("ascii"), signature.encode("ascii", "replace"))


def timestamp_ok(timestamp: str, now: float, max_skew_s: float = MAX_SKEW_S) -> bool:
    if not TIMESTAMP_PATTERN.match(timestamp):
        return False
    return abs(now - int(timestamp)) <= max_skew_s


class KioskAuth(AuthBase):
    """``session.auth = KioskAuth(kiosk_id, secret)``: signs every prepared request at send time.

    A fresh timestamp and nonce per request, so a retry (a new request) is signed anew and never
    looks like a replay. Streamed bodies can't be digested up front and are refused.
    """

    def __init__(self, kiosk_id: str, secret: str, *, clock: Callable[[], float] = time.time) -> None:
        self.credential = KioskCredential(kiosk_id, secret)
        self._clock = clock

    @classmethod
    def from_credential(cls, credential: KioskCredential) -> KioskAuth:
        return cls(credential.kiosk_id, credential.secret)

    def __repr__(self) -> str:
        return f"KioskAuth({self.credential.kiosk_id!r})"

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        body = r.body
        if body is not None and not isinstance(body, bytes | str):
            raise ValueError("KioskAuth cannot sign a streamed request body")
        headers = signed_headers(self.credential, r.method or "GET", r.path_url, body, timestamp=int(self._clock()))
        r.headers.update(headers)
        return r
