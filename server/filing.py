"""First-time filing (建档): look a patient up by ID number, file one with a phone and a verified identity.

``/patients/lookup`` lets the kiosk say "you already have a record" before asking for anything.
``/patients/file`` creates the patient (or completes one that ``/patients/identify`` created while
registering) and answers with the visit-card number printed on the slip. Filing requests follow the
payment pattern: the key is claimed in the same transaction as the effect, kept for good with a
keyed hash of the request, and the first answer is replayed (200) on a retry; the same key with
other content is 422 ``idempotency_key_reused``. The offline op ``patient.file`` (server/sync_ops.py)
goes through :func:`file_in_tx` with its op key, so a filing tried online and then queued under the
same key is applied once.

The server learns only *that* the patient consented to a face check and how the identity was
verified; face templates and photos never leave the kiosk. The phone is stored encrypted and is
never logged or audited, not even masked: the audit entry carries ids and the verification only.
"""

from __future__ import annotations

import hmac
import json
import logging
import re
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from server import audit
from server.auth.kiosks import KIOSK_ID_PATTERN, require_kiosk
from server.crypto import FieldCipher
from server.dbapi import Conn, read_tx, utc_now, write_tx
from server.deps import CipherDep, DbDep
from server.errors import ApiError
from server.patient_store import filing_state, find_patient_id, mask_id_number, record_filing
from server.patients import IdentifyRequest, find_or_create_patient, validate_id_number, validate_identity
from server.registrations import IDEMPOTENCY_KEY_PATTERN
from server.schemas import Text, error_responses

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/api/v1", tags=["patients"])

KioskIdDep = Annotated[str, Depends(require_kiosk)]  # the router's own dependency: FastAPI runs it once
Verification = Literal["face", "staff", "card"]

# ASCII digits only, as for ID numbers: \d would accept other scripts' digits.
_PHONE = re.compile(r"1[3-9][0-9]{9}")
_KIOSK_ID = re.compile(KIOSK_ID_PATTERN)


class FilingDetails(BaseModel):
    """What a filing adds to an identity."""

    # Checked in the handler (not as a pattern) so a bad number gets its own 422 ``invalid_phone``.
    phone: Text = Field(
        min_length=1,
        max_length=32,
        description="11-digit mainland mobile number (1[3-9] and 9 digits); surrounding blanks ignored",
        json_schema_extra={"pattern": r"^\s*1[3-9][0-9]{9}\s*$"},
    )
    verification: Verification = Field(
        description="how the identity was checked: face (live face against the chip photo), "
        "staff (at the service window), card"
    )
    face_consent: bool = Field(description="the patient agreed to the face check; only this fact is stored")


class FilingRequest(IdentifyRequest, FilingDetails):
    idempotency_key: str = Field(pattern=IDEMPOTENCY_KEY_PATTERN)


class FilingResponse(BaseModel):
    patient_id: int
    visit_card_no: str = Field(description="printed on the slip and encoded in its QR code as HVC:<number>")
    is_new: bool = Field(description="false: the patient existed (e.g. registered before); the filing completed it")


class LookupRequest(BaseModel):
    id_type: Text = Field(min_length=1, max_length=32, description="only 'resident' is supported")
    id_number: Text = Field(
        min_length=1,
        max_length=64,
        description="18-character resident ID number, checked fully",
        json_schema_extra={"pattern": r"^\s*[0-9]{17}[0-9Xx]\s*$"},
    )


class LookupResponse(BaseModel):
    found: bool
    patient_id: int | None = None
    visit_card_no: str | None = None
    filed: bool = Field(description="the patient completed a filing (phone and verification on record)")


def validate_phone(phone: str) -> str:
    normalised = phone.strip()
    if not _PHONE.fullmatch(normalised):
        raise ApiError(422, "invalid_phone", "a mobile number has 11 digits and starts with 13-19")
    return normalised


def _request_hash(cipher: FieldCipher, kiosk_id: str, fields: list[Any]) -> str:
    # Keyed: the request holds an ID number and a phone, both small spaces a bare hash would give away.
    return cipher.blind_index("filing:" + json.dumps([kiosk_id, *fields], ensure_ascii=False))


def _actor(kiosk_id: str) -> str:
    # With signatures off (development only) the kiosk id is an unchecked header.
    return f"kiosk:{kiosk_id}" if _KIOSK_ID.match(kiosk_id) else "api"


def file_in_tx(
    conn: Conn, cipher: FieldCipher, *, kiosk_id: str, key: str, identity: IdentifyRequest, details: FilingDetails
) -> tuple[int, dict[str, Any]]:
    """File (201) or replay (200) in the caller's write transaction; a rejection raises ApiError.

    Shared by ``POST /patients/file`` and the offline sync, which passes the op key as ``key``.
    """
    checked = validate_identity(identity)
    phone = validate_phone(details.phone)
    if details.verification == "face" and not details.face_consent:
        raise ApiError(422, "face_consent_required", "a face check needs the patient's consent")
    digest = _request_hash(
        cipher, kiosk_id, [identity.id_type, *checked, phone, details.verification, details.face_consent]
    )
    stored = conn.execute(
        "SELECT request_hash, response_json FROM patient_filings WHERE idempotency_key = ?", (key,)
    ).fetchone()
    if stored is not None:
        if not hmac.compare_digest(stored["request_hash"], digest):
            raise ApiError(422, "idempotency_key_reused", "this idempotency_key was used for another filing")
        return 200, dict(json.loads(stored["response_json"]))

    patient_id, is_new = find_or_create_patient(conn, cipher, identity.id_type, checked)
    now = utc_now()
    card_no = record_filing(
        conn,
        cipher,
        patient_id,
        phone=phone,
        verification=details.verification,
        face_consent=details.face_consent,
        at=now,
    )
    answer = {"patient_id": patient_id, "visit_card_no": card_no, "is_new": is_new}
    conn.execute(
        "INSERT INTO patient_filings(idempotency_key, request_hash, kiosk_id, patient_id, verification,"
        " face_consent, response_json, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (key, digest, kiosk_id, patient_id, details.verification, int(details.face_consent), json.dumps(answer), now),
    )
    detail = {"key": key, "patient_id": patient_id, "is_new": is_new, "verification": details.verification}
    audit.append(conn, _actor(kiosk_id), "patient.filed", detail | {"face_consent": details.face_consent})
    logger.info(
        "filed patient_id=%d (%s, %s, new=%s) card %s",
        patient_id,
        mask_id_number(checked[0]),
        details.verification,
        is_new,
        card_no,
    )
    return 201, answer


@router.post("/patients/lookup", response_model=LookupResponse, responses=error_responses(400, 422))
def lookup_patient(req: LookupRequest, db: DbDep, cipher: CipherDep) -> dict[str, Any]:
    """Whether a patient with this ID number exists and has filed; creates nothing."""
    id_number, _, _ = validate_id_number(req.id_type, req.id_number)
    with db.connection() as conn, read_tx(conn):
        patient_id = find_patient_id(conn, cipher, req.id_type, id_number)
        if patient_id is None:
            logger.info("lookup %s: no patient", mask_id_number(id_number))
            return {"found": False, "patient_id": None, "visit_card_no": None, "filed": False}
        state = filing_state(conn, patient_id)
    logger.info("lookup %s: patient_id=%d filed=%s", mask_id_number(id_number), patient_id, state.filed)
    return {"found": True, "patient_id": patient_id, "visit_card_no": state.visit_card_no, "filed": state.filed}


@router.post(
    "/patients/file",
    status_code=201,
    response_model=FilingResponse,
    responses={
        200: {"model": FilingResponse, "description": "A retry with the same key: the first answer, replayed"},
        **error_responses(400, 422),
    },
)
def file_patient(req: FilingRequest, db: DbDep, cipher: CipherDep, kiosk_id: KioskIdDep) -> JSONResponse:
    """File a patient: create them, or complete an existing record with the phone and verification."""
    with db.connection() as conn, write_tx(conn):
        status, body = file_in_tx(conn, cipher, kiosk_id=kiosk_id, key=req.idempotency_key, identity=req, details=req)
    headers = {"Idempotent-Replayed": "true"} if status == 200 else {}
    return JSONResponse(status_code=status, content=body, headers=headers)
