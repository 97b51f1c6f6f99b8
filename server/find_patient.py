"""Find a patient by what a kiosk scanned: the visit-card QR, the medical-insurance e-voucher, or an id.

``POST /api/v1/patients/find`` answers with masked display values only (name and ID number as the
kiosk shows them) and the opaque patient id; it creates nothing. The e-voucher (医保电子凭证) is
not decoded here either: its token goes to the insurance platform, which answers with the holder's
identity (interface ``ec.query``, protocols.md 2.6). :class:`EVoucherSandbox` stands in for that
platform in the demo and the tests, issuing short-lived tokens for existing patients.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Protocol, cast

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from server.crypto import FieldCipher
from server.dbapi import Conn, read_tx
from server.deps import CipherDep, DbDep
from server.errors import ApiError
from server.patient_store import filing_state, find_patient_id, mask_id_number, read_identity
from server.schemas import RowId, Text, error_responses
from server.visit_card import patient_id_of

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/api/v1", tags=["patients"])
sandbox_router = APIRouter(prefix="/sandbox/insurance", tags=["sandbox"], include_in_schema=False)

EVOUCHER_PREFIX = "ECT"  # the sandbox's tokens; real ones are whatever the platform issues
_CJK_START = 0x2E80


class Identity(Protocol):
    id_type: str
    id_number: str


class EVoucherPlatform(Protocol):
    """The insurance platform's e-voucher query: the holder of a token, or None (unknown / expired)."""

    def holder(self, token: str) -> tuple[str, str] | None: ...


@dataclass
class _Issued:
    id_type: str
    id_number: str
    expires: float


class EVoucherSandbox:
    """Tokens for demo patients, valid ``ttl_s`` seconds (real e-voucher QR codes refresh every minute)."""

    def __init__(self, ttl_s: float = 300.0) -> None:
        self.ttl_s = ttl_s
        self._tokens: dict[str, _Issued] = {}
        self._lock = threading.Lock()

    def issue(self, id_type: str, id_number: str) -> str:
        token = EVOUCHER_PREFIX + secrets.token_hex(16).upper()
        with self._lock:
            now = time.monotonic()
            self._tokens = {k: v for k, v in self._tokens.items() if v.expires > now}
            self._tokens[token] = _Issued(id_type, id_number, now + self.ttl_s)
        return token

    def holder(self, token: str) -> tuple[str, str] | None:
        with self._lock:
            issued = self._tokens.get(token)
        if issued is None or issued.expires <= time.monotonic():
            return None
        return issued.id_type, issued.id_number


def mask_name(name: str) -> str:
    """The kiosk's mask (devices/idcard/masking.py): 张三 -> 张*, 欧阳小明 -> 欧**明, ZHANG SAN -> Z***."""
    name = name.strip()
    if not name:
        return ""
    if all(ord(ch) < _CJK_START for ch in name):
        return name[0] + "***"
    if len(name) <= 2:
        return name[0] + "*" if len(name) == 2 else "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


class FindRequest(BaseModel):
    method: Literal["visit_card", "evoucher", "patient"] = Field(
        description="visit_card: the number on the slip (HVC: QR) or typed by staff; evoucher: the "
        "e-voucher token as scanned; patient: an id the kiosk already holds (e.g. from a face match)"
    )
    value: Text = Field(min_length=1, max_length=256)


class FindResponse(BaseModel):
    found: bool
    patient_id: int | None = None
    name_masked: str = ""
    id_masked: str = ""
    visit_card_no: str | None = None


def platform_of(request: Request) -> EVoucherPlatform | None:
    return cast("EVoucherPlatform | None", getattr(request.app.state, "evoucher", None))


PlatformDep = Annotated["EVoucherPlatform | None", Depends(platform_of)]


def describe(conn: Conn, cipher: FieldCipher, patient_id: int) -> dict[str, Any]:
    identity = read_identity(conn, cipher, patient_id)
    if identity is None:
        return {"found": False}
    return {
        "found": True,
        "patient_id": patient_id,
        "name_masked": mask_name(identity.name),
        "id_masked": mask_id_number(identity.id_number),
        "visit_card_no": filing_state(conn, patient_id).visit_card_no,
    }


@router.post("/patients/find", response_model=FindResponse, responses=error_responses(400, 422))
def find_patient(req: FindRequest, db: DbDep, cipher: CipherDep, platform: PlatformDep) -> dict[str, Any]:
    """The patient behind a scanned code, with masked values to show; creates nothing."""
    value = req.value.strip()
    holder: tuple[str, str] | None = None
    if req.method == "evoucher":
        if platform is None:
            raise ApiError(503, "evoucher_unavailable", "no insurance platform is configured for e-vouchers")
        holder = platform.holder(value)
        if holder is None:
            logger.info("find: e-voucher unknown or expired")
            return {"found": False}
    with db.connection() as conn, read_tx(conn):
        if holder is not None:
            patient_id = find_patient_id(conn, cipher, holder[0], holder[1])
        elif req.method == "visit_card":
            patient_id = patient_id_of(value)
            if patient_id is None:
                raise ApiError(422, "invalid_visit_card", "not a visit-card number (wrong length or check digit)")
        else:
            if not value.isdigit():
                raise ApiError(422, "invalid_patient_id", "a patient id is a positive integer")
            patient_id = int(value)
        found = describe(conn, cipher, patient_id) if patient_id else {"found": False}
    logger.info("find by %s: %s", req.method, f"patient_id={patient_id}" if found["found"] else "no patient")
    return found


class IssueRequest(BaseModel):
    patient_id: RowId


class IssueResponse(BaseModel):
    token: str


@sandbox_router.post("/evoucher", response_model=IssueResponse, responses=error_responses(404))
def issue_evoucher(req: IssueRequest, request: Request, db: DbDep, cipher: CipherDep) -> dict[str, str]:
    """Sandbox only: the e-voucher QR an insurance app would show this patient."""
    platform = platform_of(request)
    if not isinstance(platform, EVoucherSandbox):
        raise ApiError(404, "not_found", "the e-voucher sandbox is not enabled")
    with db.connection() as conn, read_tx(conn):
        identity = read_identity(conn, cipher, req.patient_id)
    if identity is None:
        raise ApiError(404, "patient_not_found", "no such patient")
    return {"token": platform.issue(identity.id_type, identity.id_number)}
