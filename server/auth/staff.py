"""Staff accounts (admin, cashier, technician), password hashing, sessions and the role check.

Passwords are hashed with scrypt (``hashlib.scrypt``), a per-user random salt, and the cost
parameters stored with the hash (``scrypt$n$r$p$salt$hash``, base64), so the cost can be raised
later: a hash with older parameters is replaced at the user's next successful login. Comparison is
constant-time. After ``MAX_FAILED_ATTEMPTS`` wrong passwords in a row the account is locked for
``LOCKOUT``; while locked, even the right password is refused (no guessing through the lock).

A login gives a random session token (``SESSION_TTL``, 8 h). Only its SHA-256 is stored, so a
copy of the database cannot be used to sign in. The token travels as ``Authorization: Bearer``
(scripts) or in the HttpOnly, SameSite=Strict cookie ``kiosk_staff_session`` (the dashboard).

This module's functions are the contract the staff dashboard uses. Each takes a connection and
runs in the caller's write transaction when one is open, else in its own.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal, cast

from fastapi import APIRouter, Request, Response, Security
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field

from server import audit
from server.dbapi import Conn, joined_write_tx
from server.deps import DbDep
from server.errors import ApiError
from server.schemas import ErrorBody

logger = logging.getLogger(__name__)

Role = Literal["admin", "cashier", "technician"]
ROLES: tuple[str, ...] = ("admin", "cashier", "technician")
SESSION_COOKIE = "kiosk_staff_session"
SESSION_TTL = timedelta(hours=8)
MAX_FAILED_ATTEMPTS = 5
LOCKOUT = timedelta(minutes=15)
USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 256

# scrypt cost: n=2^14, r=8 (16 MiB, ~50 ms); stored with each hash, so raising it is a code change only.
SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1
SCRYPT_DKLEN = 32
SALT_BYTES = 16
_MAXMEM = 256 * 1024 * 1024


def _now() -> datetime:
    """Server time; a function so tests can move the clock."""
    return datetime.now(UTC)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class StaffUser:
    username: str
    role: Role


# -- password hashing ------------------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int, dklen: int) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=dklen, maxmem=_MAXMEM)


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(SALT_BYTES)
    digest = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P, SCRYPT_DKLEN)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def _parse(stored: str) -> tuple[int, int, int, bytes, bytes] | None:
    parts = stored.split("$")
    if len(parts) != 6 or parts[0] != "scrypt":
        return None
    try:
        n, r, p = int(parts[1]), int(parts[2]), int(parts[3])
        return n, r, p, base64.b64decode(parts[4], validate=True), base64.b64decode(parts[5], validate=True)
    except ValueError:
        return None


def verify_password(password: str, stored: str) -> bool:
    parsed = _parse(stored)
    if parsed is None:
        logger.error("unreadable password hash; the account cannot sign in")
        return False
    n, r, p, salt, digest = parsed
    return hmac.compare_digest(_scrypt(password, salt, n, r, p, len(digest)), digest)


def needs_rehash(stored: str) -> bool:
    parsed = _parse(stored)
    return parsed is None or parsed[:3] != (SCRYPT_N, SCRYPT_R, SCRYPT_P) or len(parsed[4]) != SCRYPT_DKLEN


# A hash to check against when the user does not exist, so "no such user" takes as long as "wrong password".
_DUMMY_HASH = hash_password(secrets.token_hex(16))


# -- accounts and sessions -------------------------------------------------------------------------


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def check_password_rules(password: str) -> None:
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise ValueError(f"a password must be {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters")


def create_staff(conn: Conn, username: str, password: str, role: str) -> None:
    """A new account; ValueError for a bad username, role or password, or a username in use."""
    if not USERNAME_PATTERN.match(username):
        raise ValueError("a username is 1-64 letters, digits, '.', '_' or '-'")
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    check_password_rules(password)
    password_hash = hash_password(password)  # outside the write lock: scrypt is slow on purpose
    with joined_write_tx(conn):
        if conn.execute("SELECT 1 FROM staff WHERE username = ?", (username,)).fetchone() is not None:
            raise ValueError(f"staff account {username} already exists")
        conn.execute(
            "INSERT INTO staff(username, role, password_hash, created_at) VALUES (?, ?, ?, ?)",
            (username, role, password_hash, _iso(_now())),
        )
        audit.append(conn, "system", "staff.created", {"username": username, "role": role})
    logger.info("staff account %s (%s) created", username, role)


def authenticate(conn: Conn, username: str, password: str) -> StaffUser | None:
    """The user if the password is right and the account usable; None otherwise (all reasons look alike)."""
    row = None
    if USERNAME_PATTERN.match(username) and len(password) <= MAX_PASSWORD_LENGTH:
        row = conn.execute(
            "SELECT username, role, password_hash, disabled, locked_until FROM staff WHERE username = ?", (username,)
        ).fetchone()
    if row is None:
        verify_password(password[:MAX_PASSWORD_LENGTH], _DUMMY_HASH)  # same time as a real check
        with joined_write_tx(conn):
            audit.append(conn, "anonymous", "staff.login_failed", {"reason": "unknown_user"})
        return None
    now = _now()
    actor = f"staff:{row['username']}"
    if row["disabled"]:
        with joined_write_tx(conn):
            audit.append(conn, actor, "staff.login_failed", {"username": username, "reason": "disabled"})
        return None
    if row["locked_until"] is not None and row["locked_until"] > _iso(now):
        with joined_write_tx(conn):
            audit.append(conn, actor, "staff.login_failed", {"username": username, "reason": "locked"})
        return None
    if not verify_password(password, row["password_hash"]):
        with joined_write_tx(conn):
            failed = int(
                conn.execute(
                    "UPDATE staff SET failed_attempts = failed_attempts + 1 WHERE username = ?"
                    " RETURNING failed_attempts",
                    (username,),
                ).fetchone()[0]
            )
            detail: dict[str, Any] = {"username": username, "reason": "bad_password", "failed_attempts": failed}
            if failed >= MAX_FAILED_ATTEMPTS:
                conn.execute(
                    "UPDATE staff SET failed_attempts = 0, locked_until = ? WHERE username = ?",
                    (_iso(now + LOCKOUT), username),
                )
                detail["locked_for_s"] = int(LOCKOUT.total_seconds())
                logger.warning("staff account %s locked after %d failed logins", username, failed)
            audit.append(conn, actor, "staff.login_failed", detail)
        return None
    new_hash = hash_password(password) if needs_rehash(row["password_hash"]) else None
    with joined_write_tx(conn):
        conn.execute(
            "UPDATE staff SET failed_attempts = 0, locked_until = NULL WHERE username = ?",
            (username,),
        )
        if new_hash is not None:
            conn.execute("UPDATE staff SET password_hash = ? WHERE username = ?", (new_hash, username))
        audit.append(conn, actor, "staff.login", {"username": username, "role": row["role"]})
    return StaffUser(row["username"], cast(Role, row["role"]))


def new_session(conn: Conn, user: StaffUser) -> str:
    """A new session token for ``user`` (valid ``SESSION_TTL``); only its hash is stored."""
    token = secrets.token_urlsafe(32)
    now = _now()
    with joined_write_tx(conn):
        conn.execute("DELETE FROM staff_sessions WHERE expires_at <= ?", (_iso(now),))
        conn.execute(
            "INSERT INTO staff_sessions(token_hash, username, created_at, expires_at) VALUES (?, ?, ?, ?)",
            (_token_hash(token), user.username, _iso(now), _iso(now + SESSION_TTL)),
        )
    return token


def session_expiry(conn: Conn, token: str) -> str | None:
    row = conn.execute("SELECT expires_at FROM staff_sessions WHERE token_hash = ?", (_token_hash(token),)).fetchone()
    return None if row is None else str(row[0])


def session_user(conn: Conn, token: str) -> StaffUser | None:
    """The signed-in user of an unexpired session of an enabled account, else None."""
    row = conn.execute(
        "SELECT s.username, st.role FROM staff_sessions s JOIN staff st ON st.username = s.username"
        " WHERE s.token_hash = ? AND s.expires_at > ? AND st.disabled = 0",
        (_token_hash(token), _iso(_now())),
    ).fetchone()
    return None if row is None else StaffUser(row[0], cast(Role, row[1]))


def end_session(conn: Conn, token: str) -> None:
    """Sign out; an unknown or expired token is not an error."""
    with joined_write_tx(conn):
        row = conn.execute(
            "DELETE FROM staff_sessions WHERE token_hash = ? RETURNING username", (_token_hash(token),)
        ).fetchone()
        if row is not None:
            audit.append(conn, f"staff:{row[0]}", "staff.logout", {"username": row[0]})


# -- FastAPI ---------------------------------------------------------------------------------------

_bearer = HTTPBearer(auto_error=False, scheme_name="StaffBearer", description="a staff session token")
_cookie = APIKeyCookie(
    name=SESSION_COOKIE, auto_error=False, scheme_name="StaffCookie", description="the staff session cookie"
)

BearerDep = Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)]
CookieDep = Annotated[str | None, Security(_cookie)]

STAFF_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "Not signed in (`not_signed_in`) or the session expired"},
    403: {"model": ErrorBody, "description": "Signed in, but the role may not do this (`forbidden`)"},
}


def _token(bearer: HTTPAuthorizationCredentials | None, cookie: str | None) -> str | None:
    if bearer is not None and bearer.credentials:
        return bearer.credentials
    return cookie or None


def require_staff(*roles: str) -> Callable[..., StaffUser]:
    """``Depends(require_staff("admin", "technician"))``: the signed-in user, if their role is listed
    (no roles: any staff). 401 ``not_signed_in`` without a valid session, 403 ``forbidden`` otherwise."""
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles {sorted(unknown)}")
    allowed = frozenset(roles or ROLES)

    def staff_user(db: DbDep, bearer: BearerDep, cookie: CookieDep) -> StaffUser:
        token = _token(bearer, cookie)
        if token is None or len(token) > 256:
            raise ApiError(401, "not_signed_in", "staff sign-in required")
        with db.connection() as conn:
            user = session_user(conn, token)
        if user is None:
            raise ApiError(401, "not_signed_in", "the session is unknown or has expired; sign in again")
        if user.role not in allowed:
            raise ApiError(403, "forbidden", f"the {user.role} role may not do this")
        return user

    return staff_user


def set_session_cookie(response: Response, request: Request, token: str) -> None:
    """HttpOnly (no script reads it), SameSite=Strict, Secure whenever served over https."""
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(SESSION_TTL.total_seconds()),
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


router = APIRouter(prefix="/api/v1/staff", tags=["staff"])


class LoginRequest(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=MAX_PASSWORD_LENGTH)


class LoginResponse(BaseModel):
    token: str
    username: str
    role: Role
    expires_at: str


class StaffView(BaseModel):
    username: str
    role: Role


@router.post(
    "/login",
    response_model=LoginResponse,
    responses={401: {"model": ErrorBody, "description": "Wrong username or password, or the account is locked"}},
)
def login(req: LoginRequest, request: Request, response: Response, db: DbDep) -> dict[str, Any]:
    with db.connection() as conn:
        user = authenticate(conn, req.username, req.password)
        if user is None:
            raise ApiError(401, "login_failed", "wrong username or password, or the account is locked")
        token = new_session(conn, user)
        expires_at = session_expiry(conn, token) or ""
    set_session_cookie(response, request, token)
    return {"token": token, "username": user.username, "role": user.role, "expires_at": expires_at}


@router.post("/logout")
def logout(response: Response, db: DbDep, bearer: BearerDep, cookie: CookieDep) -> dict[str, str]:
    token = _token(bearer, cookie)
    if token is not None and len(token) <= 256:
        with db.connection() as conn:
            end_session(conn, token)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    return {"status": "signed_out"}


@router.get("/me", response_model=StaffView, responses=STAFF_ERRORS)
def me(user: Annotated[StaffUser, Security(require_staff())]) -> dict[str, str]:
    return {"username": user.username, "role": user.role}


def ensure_staff(conn: Conn, username: str, password: str, role: str) -> bool:
    """Create the account if missing (the demo's admin); True if it was created."""
    if conn.execute("SELECT 1 FROM staff WHERE username = ?", (username,)).fetchone() is not None:
        return False
    create_staff(conn, username, password, role)
    return True
