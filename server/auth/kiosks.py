"""Kiosk enrollment, kiosk credentials, and the signature check on every kiosk request.

Enrollment (sync.md §5 "Enrollment/provisioning", the one-time-code variant):

1. The kiosk ``POST /api/v1/enrollments`` {kiosk_id, software_version} and shows the 8-digit
   pairing code it gets back (valid ``ENROLLMENT_TTL``, 15 minutes). It keeps the poll token.
2. An admin, standing at the kiosk, enters the code: ``POST /api/v1/admin/enrollments/approve``.
   This creates the kiosk's credential: a random secret, encrypted at rest with the FieldCipher.
3. The kiosk polls ``GET /api/v1/enrollments/{id}`` with ``X-Poll-Token``; once approved the
   answer carries the secret, until the kiosk's first successful signed request. After that the
   secret is never sent again (status ``delivered``).

Codes and poll tokens are stored only as SHA-256 hashes. An admin can revoke a kiosk; approving a
new enrollment for the same kiosk id replaces its secret (a reinstalled kiosk).

Every kiosk-facing endpoint depends on :func:`require_kiosk`: the request must be signed
(``sync/signing.py``), fresh (±300 s), not replayed (nonce remembered 10 minutes) and from an
active kiosk; a kiosk may only act as itself (403 ``kiosk_mismatch``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import secrets
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Path, Request, Security
from fastapi.concurrency import run_in_threadpool
from fastapi.security import APIKeyHeader
from pydantic import BaseModel, Field

from server import audit
from server.auth.staff import STAFF_ERRORS, StaffUser, require_staff
from server.crypto import DecryptError, FieldCipher
from server.dbapi import Conn, joined_write_tx, write_tx
from server.deps import CipherDep, DbDep
from server.errors import ApiError
from server.schemas import ErrorBody
from server.settings import ServerSettings
from sync import signing

logger = logging.getLogger(__name__)

ENROLLMENT_TTL = timedelta(minutes=15)
NONCE_RETENTION_S = 600.0  # 10 minutes: covers a timestamp window of ±300 s
MAX_PENDING_ENROLLMENTS = 100  # an unauthenticated endpoint must not be able to fill the table
PAIRING_CODE_DIGITS = 8
KIOSK_ID_PATTERN = r"^[A-Za-z0-9._-]{1,32}$"  # the same alphabet as fleet and payments
_KIOSK_ID = re.compile(KIOSK_ID_PATTERN)
SECRET_COLUMN = "kiosk_credentials.secret"


def _now() -> datetime:
    """Server time; a function so tests can move the clock."""
    return datetime.now(UTC)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def new_pairing_code() -> str:
    """Eight decimal digits: read aloud and typed without any letter/digit confusion."""
    return "".join(secrets.choice("0123456789") for _ in range(PAIRING_CODE_DIGITS))


def _new_secret() -> str:
    return secrets.token_urlsafe(32)  # 256 bits


def _store_secret(conn: Conn, cipher: FieldCipher, kiosk_id: str, secret: str) -> bool:
    """Create or replace the kiosk's credential (active, never used); True if one existed."""
    existed = conn.execute("SELECT 1 FROM kiosk_credentials WHERE kiosk_id = ?", (kiosk_id,)).fetchone() is not None
    conn.execute(
        "INSERT INTO kiosk_credentials(kiosk_id, secret_enc, status, created_at) VALUES (?, ?, 'active', ?)"
        " ON CONFLICT(kiosk_id) DO UPDATE SET secret_enc = excluded.secret_enc, status = 'active',"
        " created_at = excluded.created_at, revoked_at = NULL, last_used_at = NULL",
        (kiosk_id, cipher.encrypt(SECRET_COLUMN, secret), _iso(_now())),
    )
    # A secret still waiting in an older approved enrollment must not be handed out any more.
    conn.execute(
        "UPDATE kiosk_enrollments SET status = 'expired' WHERE kiosk_id = ? AND status = 'approved'", (kiosk_id,)
    )
    return existed


def provision_kiosk(conn: Conn, cipher: FieldCipher, kiosk_id: str) -> str:
    """Scripted provisioning (CLI, tests): a new credential for ``kiosk_id``; returns its secret.

    Replaces any earlier credential of that kiosk. The secret is shown once and stored encrypted.
    """
    if not _KIOSK_ID.match(kiosk_id):
        raise ValueError("a kiosk id is 1-32 letters, digits, '.', '_' or '-'")
    secret = _new_secret()
    with joined_write_tx(conn):
        replaced = _store_secret(conn, cipher, kiosk_id, secret)
        audit.append(conn, "system", "kiosk.provisioned", {"kiosk_id": kiosk_id, "replaced": replaced})
    logger.info("kiosk %s provisioned", kiosk_id)
    return secret


def _expire_stale(conn: Conn, now: datetime) -> None:
    conn.execute(
        "UPDATE kiosk_enrollments SET status = 'expired' WHERE status = 'pending' AND expires_at <= ?", (_iso(now),)
    )


# -- the signature check ---------------------------------------------------------------------------

_signature_scheme = APIKeyHeader(
    name=signing.HEADER_SIGNATURE,
    auto_error=False,
    scheme_name="KioskSignature",
    description=(
        "HMAC-SHA256 request signature (sync/signing.py): headers X-Kiosk-Id, X-Timestamp (unix s), X-Nonce "
        "(hex, >= 16 bytes) and X-Signature = base64(HMAC(secret, METHOD\\npath?query\\ntimestamp\\nnonce\\n"
        "sha256_hex(body))). Timestamps outside +-300 s and repeated nonces are refused."
    ),
)

KIOSK_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {
        "model": ErrorBody,
        "description": "Not a valid signed kiosk request: `unsigned_request`, `unknown_kiosk`, `kiosk_revoked`, "
        "`stale_timestamp`, `replayed_request` or `bad_signature`",
    },
    403: {"model": ErrorBody, "description": "The kiosk tried to act as another kiosk (`kiosk_mismatch`)"},
}


def _path_with_query(request: Request) -> str:
    raw = request.scope.get("raw_path")
    path = raw.decode("latin-1") if isinstance(raw, bytes) else request.url.path
    query = request.scope.get("query_string") or b""
    return f"{path}?{query.decode('latin-1')}" if query else path


def _claimed_kiosk_in_body(body: bytes) -> object:
    if not body:
        return None
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None  # the endpoint answers malformed JSON itself
    return data.get("kiosk_id") if isinstance(data, dict) else None


def check_signed_request(
    conn: Conn,
    cipher: FieldCipher,
    *,
    method: str,
    path_with_query: str,
    headers: dict[str, str | None],
    body: bytes,
    path_kiosk_id: str | None = None,
) -> str:
    """Verify one request; the signer's kiosk id, or ApiError 401/403. Records the nonce."""
    kiosk_id = headers.get(signing.HEADER_KIOSK_ID)
    timestamp = headers.get(signing.HEADER_TIMESTAMP)
    nonce = headers.get(signing.HEADER_NONCE)
    signature = headers.get(signing.HEADER_SIGNATURE)
    if not (kiosk_id and timestamp and nonce and signature):
        raise ApiError(
            401, "unsigned_request", "kiosk requests must be signed (X-Kiosk-Id, X-Timestamp, X-Nonce, X-Signature)"
        )
    if not _KIOSK_ID.match(kiosk_id):
        raise ApiError(401, "unknown_kiosk", "this kiosk is not enrolled")
    now = _now()
    if not signing.timestamp_ok(timestamp, now.timestamp()):
        raise ApiError(
            401, "stale_timestamp", f"the request time is more than {signing.MAX_SKEW_S} s from the server's"
        )
    if not signing.NONCE_PATTERN.match(nonce) or len(signature) > 100:
        raise ApiError(401, "bad_signature", "malformed nonce or signature")
    row = conn.execute("SELECT secret_enc, status FROM kiosk_credentials WHERE kiosk_id = ?", (kiosk_id,)).fetchone()
    if row is None:
        raise ApiError(401, "unknown_kiosk", "this kiosk is not enrolled")
    if row["status"] != "active":
        raise ApiError(401, "kiosk_revoked", "this kiosk's credential was revoked")
    try:
        secret = cipher.decrypt(SECRET_COLUMN, bytes(row["secret_enc"]))
    except DecryptError:
        logger.error("the credential of kiosk %s does not decrypt under this server's key", kiosk_id)
        raise ApiError(401, "unknown_kiosk", "this kiosk's credential is unreadable; enroll it again") from None
    if not signing.verify(secret, method, path_with_query, timestamp, nonce, body, signature):
        raise ApiError(401, "bad_signature", "the request signature does not match")
    claimed = _claimed_kiosk_in_body(body)
    if (path_kiosk_id is not None and path_kiosk_id != kiosk_id) or (claimed is not None and claimed != kiosk_id):
        raise ApiError(403, "kiosk_mismatch", "a kiosk may only act as itself")
    with joined_write_tx(conn):
        conn.execute("DELETE FROM request_nonces WHERE seen_at < ?", (now.timestamp() - NONCE_RETENTION_S,))
        cur = conn.execute(
            "INSERT INTO request_nonces(kiosk_id, nonce, seen_at) VALUES (?, ?, ?)"
            " ON CONFLICT(kiosk_id, nonce) DO NOTHING",
            (kiosk_id, nonce, now.timestamp()),
        )
        if cur.rowcount != 1:
            raise ApiError(401, "replayed_request", "this request was already received")
        used = conn.execute(
            "UPDATE kiosk_credentials SET last_used_at = ? WHERE kiosk_id = ? AND status = 'active' RETURNING kiosk_id",
            (_iso(now), kiosk_id),
        ).fetchone()
        if used is None:  # revoked between the read and now
            raise ApiError(401, "kiosk_revoked", "this kiosk's credential was revoked")
        # The kiosk has its secret: an approved enrollment never hands it out again.
        conn.execute(
            "UPDATE kiosk_enrollments SET status = 'delivered' WHERE kiosk_id = ? AND status = 'approved'", (kiosk_id,)
        )
    return kiosk_id


async def require_kiosk(request: Request, _signature: Annotated[str | None, Security(_signature_scheme)] = None) -> str:
    """FastAPI dependency for kiosk endpoints: verifies the signature, sets ``request.state.kiosk_id``."""
    settings: ServerSettings = request.app.state.settings
    body = await request.body()
    raw_kiosk = request.path_params.get("kiosk_id")
    # An id that can't be a kiosk's is left to the route's own validation (422), not called a mismatch.
    path_kiosk_id = raw_kiosk if isinstance(raw_kiosk, str) and _KIOSK_ID.match(raw_kiosk) else None
    if not settings.require_signed_requests:
        kiosk_id = request.headers.get(signing.HEADER_KIOSK_ID) or ""
        request.state.kiosk_id = kiosk_id
        return kiosk_id
    headers = {name: request.headers.get(name) for name in signing.SIGNED_HEADERS}
    db = request.app.state.db
    cipher: FieldCipher = request.app.state.cipher

    def check() -> str:
        with db.connection() as conn:
            return check_signed_request(
                conn,
                cipher,
                method=request.method,
                path_with_query=_path_with_query(request),
                headers=headers,
                body=body,
                path_kiosk_id=path_kiosk_id,
            )

    kiosk_id = await run_in_threadpool(check)  # the database is blocking; keep it off the event loop
    request.state.kiosk_id = kiosk_id
    return kiosk_id


# -- enrollment (the kiosk's side: no credential yet) ------------------------------------------------

router = APIRouter(prefix="/api/v1", tags=["enrollment"])
KioskIdPath = Annotated[str, Path(pattern=KIOSK_ID_PATTERN)]


class EnrollmentRequest(BaseModel):
    kiosk_id: str = Field(pattern=KIOSK_ID_PATTERN)
    software_version: str = Field(min_length=1, max_length=64, pattern=r"^[\x20-\x7e]+$")


class EnrollmentCreated(BaseModel):
    enrollment_id: int
    pairing_code: str = Field(description="8 digits, shown on the kiosk; an admin enters it to approve")
    poll_token: str = Field(description="secret; send as X-Poll-Token when polling")
    expires_at: str


class EnrollmentStatus(BaseModel):
    status: Literal["pending", "approved", "expired", "delivered"]
    kiosk_id: str | None = None
    secret: str | None = Field(default=None, description="only while approved and not yet used")
    expires_at: str | None = None


ENROLLMENT_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorBody, "description": "No such enrollment, or the poll token is wrong"},
    422: {"model": ErrorBody, "description": "The request failed validation"},
    429: {"model": ErrorBody, "description": "Too many enrollments are waiting for approval"},
}


@router.post("/enrollments", status_code=201, response_model=EnrollmentCreated, responses=ENROLLMENT_ERRORS)
def request_enrollment(req: EnrollmentRequest, db: DbDep) -> dict[str, Any]:
    now = _now()
    poll_token = secrets.token_urlsafe(32)
    expires_at = _iso(now + ENROLLMENT_TTL)
    with db.connection() as conn, write_tx(conn):
        _expire_stale(conn, now)
        pending = int(conn.execute("SELECT count(*) FROM kiosk_enrollments WHERE status = 'pending'").fetchone()[0])
        if pending >= MAX_PENDING_ENROLLMENTS:
            raise ApiError(429, "too_many_enrollments", "too many kiosks are waiting for approval; try later")
        while True:  # unique among pending codes (checked under the write lock)
            code = new_pairing_code()
            taken = conn.execute(
                "SELECT 1 FROM kiosk_enrollments WHERE code_hash = ? AND status = 'pending'", (_sha256(code),)
            ).fetchone()
            if taken is None:
                break
        enrollment_id = int(
            conn.execute(
                "INSERT INTO kiosk_enrollments(kiosk_id, software_version, code_hash, poll_token_hash, status,"
                " created_at, expires_at) VALUES (?, ?, ?, ?, 'pending', ?, ?) RETURNING id",
                (req.kiosk_id, req.software_version, _sha256(code), _sha256(poll_token), _iso(now), expires_at),
            ).fetchone()[0]
        )
        audit.append(
            conn,
            "anonymous",
            "kiosk.enrollment_requested",
            {"enrollment_id": enrollment_id, "kiosk_id": req.kiosk_id, "version": req.software_version},
        )
    logger.info("kiosk %s asks to enroll (enrollment %d)", req.kiosk_id, enrollment_id)
    return {"enrollment_id": enrollment_id, "pairing_code": code, "poll_token": poll_token, "expires_at": expires_at}


@router.get("/enrollments/{enrollment_id}", response_model=EnrollmentStatus, responses=ENROLLMENT_ERRORS)
def poll_enrollment(
    enrollment_id: Annotated[int, Path(gt=0, le=2**63 - 1)],
    db: DbDep,
    cipher: CipherDep,
    x_poll_token: Annotated[str, Header(min_length=1, max_length=128)],
) -> dict[str, Any]:
    now = _now()
    with db.connection() as conn, write_tx(conn):
        row = conn.execute("SELECT * FROM kiosk_enrollments WHERE id = ?", (enrollment_id,)).fetchone()
        if row is None or not hmac.compare_digest(row["poll_token_hash"], _sha256(x_poll_token)):
            raise ApiError(404, "enrollment_not_found", f"no enrollment {enrollment_id} with this poll token")
        status = row["status"]
        if status == "pending" and row["expires_at"] <= _iso(now):
            conn.execute("UPDATE kiosk_enrollments SET status = 'expired' WHERE id = ?", (enrollment_id,))
            status = "expired"
        answer: dict[str, Any] = {"status": status, "kiosk_id": row["kiosk_id"], "expires_at": row["expires_at"]}
        if status != "approved":
            return answer
        cred = conn.execute(
            "SELECT secret_enc, status, last_used_at FROM kiosk_credentials WHERE kiosk_id = ?", (row["kiosk_id"],)
        ).fetchone()
        if cred is None or cred["status"] != "active":
            conn.execute("UPDATE kiosk_enrollments SET status = 'expired' WHERE id = ?", (enrollment_id,))
            return answer | {"status": "expired"}
        if cred["last_used_at"] is not None:
            conn.execute("UPDATE kiosk_enrollments SET status = 'delivered' WHERE id = ?", (enrollment_id,))
            return answer | {"status": "delivered"}
        return answer | {"secret": cipher.decrypt(SECRET_COLUMN, bytes(cred["secret_enc"]))}


# -- administration (admin only) ---------------------------------------------------------------------

admin_router = APIRouter(prefix="/api/v1/admin", tags=["kiosk administration"], responses=STAFF_ERRORS)
AdminDep = Annotated[StaffUser, Security(require_staff("admin"))]


class ApproveRequest(BaseModel):
    pairing_code: str = Field(pattern=r"^[0-9][0-9 -]{6,14}[0-9]$", description="the 8 digits shown on the kiosk")


class ApproveResponse(BaseModel):
    enrollment_id: int
    kiosk_id: str
    status: Literal["approved"]
    replaced_credential: bool


class CredentialView(BaseModel):
    kiosk_id: str
    status: Literal["active", "revoked"]
    created_at: str
    revoked_at: str | None
    last_used_at: str | None


class EnrollmentView(BaseModel):
    enrollment_id: int
    kiosk_id: str
    software_version: str
    status: Literal["pending", "approved", "expired", "delivered"]
    created_at: str
    expires_at: str


def _credential_view(row: Any) -> dict[str, Any]:
    return {k: row[k] for k in ("kiosk_id", "status", "created_at", "revoked_at", "last_used_at")}


@admin_router.post(
    "/enrollments/approve",
    response_model=ApproveResponse,
    responses={404: {"model": ErrorBody, "description": "No pending enrollment has this code (or it expired)"}},
)
def approve_enrollment(req: ApproveRequest, user: AdminDep, db: DbDep, cipher: CipherDep) -> dict[str, Any]:
    code = re.sub(r"[ -]", "", req.pairing_code)
    if len(code) != PAIRING_CODE_DIGITS:
        raise ApiError(422, "invalid_request", f"pairing_code: must be {PAIRING_CODE_DIGITS} digits")
    now = _now()
    with db.connection() as conn, write_tx(conn):
        _expire_stale(conn, now)
        row = conn.execute(
            "SELECT id, kiosk_id FROM kiosk_enrollments WHERE code_hash = ? AND status = 'pending'", (_sha256(code),)
        ).fetchone()
        if row is None:
            raise ApiError(404, "pairing_code_unknown", "no kiosk is waiting with this code (it may have expired)")
        kiosk_id = str(row["kiosk_id"])
        replaced = _store_secret(conn, cipher, kiosk_id, _new_secret())
        conn.execute(
            "UPDATE kiosk_enrollments SET status = 'approved', approved_at = ?, approved_by = ? WHERE id = ?",
            (_iso(now), user.username, row["id"]),
        )
        audit.append(
            conn,
            f"staff:{user.username}",
            "kiosk.enrollment_approved",
            {"enrollment_id": int(row["id"]), "kiosk_id": kiosk_id, "replaced": replaced},
        )
    logger.info("enrollment %d of kiosk %s approved by %s", row["id"], kiosk_id, user.username)
    return {
        "enrollment_id": int(row["id"]),
        "kiosk_id": kiosk_id,
        "status": "approved",
        "replaced_credential": replaced,
    }


@admin_router.post(
    "/kiosks/{kiosk_id}/revoke",
    response_model=CredentialView,
    responses={404: {"model": ErrorBody, "description": "This kiosk has no credential"}},
)
def revoke_kiosk(kiosk_id: KioskIdPath, user: AdminDep, db: DbDep) -> dict[str, Any]:
    with db.connection() as conn, write_tx(conn):
        cur = conn.execute(
            "UPDATE kiosk_credentials SET status = 'revoked', revoked_at = ? WHERE kiosk_id = ? AND status = 'active'",
            (_iso(_now()), kiosk_id),
        )
        if cur.rowcount == 1:
            conn.execute(
                "UPDATE kiosk_enrollments SET status = 'expired' WHERE kiosk_id = ? AND status = 'approved'",
                (kiosk_id,),
            )
            audit.append(conn, f"staff:{user.username}", "kiosk.revoked", {"kiosk_id": kiosk_id})
            logger.warning("kiosk %s revoked by %s", kiosk_id, user.username)
        row = conn.execute("SELECT * FROM kiosk_credentials WHERE kiosk_id = ?", (kiosk_id,)).fetchone()
    if row is None:
        raise ApiError(404, "kiosk_not_enrolled", f"kiosk {kiosk_id} has no credential")
    return _credential_view(row)


@admin_router.get("/credentials", response_model=list[CredentialView])
def list_credentials(_user: AdminDep, db: DbDep) -> list[dict[str, Any]]:
    with db.connection() as conn:
        rows = conn.execute("SELECT * FROM kiosk_credentials ORDER BY kiosk_id").fetchall()
    return [_credential_view(r) for r in rows]


@admin_router.get("/enrollments", response_model=list[EnrollmentView])
def list_enrollments(_user: AdminDep, db: DbDep) -> list[dict[str, Any]]:
    """Enrollments of the last day, newest first (never the codes: those are only on the kiosks)."""
    since = _iso(_now() - timedelta(days=1))
    with db.connection() as conn:
        rows = conn.execute(
            "SELECT * FROM kiosk_enrollments WHERE created_at >= ? ORDER BY id DESC LIMIT 200", (since,)
        ).fetchall()
    now = _iso(_now())
    return [
        {
            "enrollment_id": r["id"],
            "kiosk_id": r["kiosk_id"],
            "software_version": r["software_version"],
            "status": "expired" if r["status"] == "pending" and r["expires_at"] <= now else r["status"],
            "created_at": r["created_at"],
            "expires_at": r["expires_at"],
        }
        for r in rows
    ]
