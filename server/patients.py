"""Patient identification: find-or-create by (id_type, id_number).

Only the mainland resident ID card (居民身份证, GB 11643-1999) is accepted for now; the number is
checked fully (date of birth, ISO 7064 MOD 11-2 check digit) and must agree with the stated sex
and birth date, because a card reader never produces an inconsistent record and a typo should not
create a second patient. Logs carry the patient_id or a masked number, never a name or full ID.
The name and number are stored encrypted (server/patient_store.py); lookups use a blind index.
"""

from __future__ import annotations

import logging
import re
from datetime import date
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from server.crypto import FieldCipher
from server.db import Conn, utc_now, write_tx
from server.deps import CipherDep, DbDep
from server.errors import ApiError
from server.patient_store import find_patient_id, insert_patient, mask_id_number
from server.schemas import Text, error_responses

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/api/v1", tags=["patients"])

# ASCII digits only: Python's \d also matches other scripts' digits (which int() accepts), and
# such a look-alike number would be stored as a second patient.
_RESIDENT_RE = re.compile(r"^[0-9]{17}[0-9X]$")
_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
_CHECK = "10X98765432"
_SEX = {"M": "M", "F": "F", "男": "M", "女": "F", "MALE": "M", "FEMALE": "F"}


def resident_check_digit(first17: str) -> str:
    return _CHECK[sum(int(c) * w for c, w in zip(first17, _WEIGHTS, strict=True)) % 11]


def parse_resident_id(id_number: str) -> tuple[date, str]:
    """Returns (birth date, sex "M"/"F") or raises ValueError naming the problem."""
    if not _RESIDENT_RE.match(id_number):
        raise ValueError("a resident ID number has 17 digits and a check digit (0-9 or X)")
    try:
        birth = date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))
    except ValueError:
        raise ValueError("the ID number holds an invalid date of birth") from None
    if birth.year < 1900 or birth > date.today():
        raise ValueError("the ID number holds an impossible date of birth")
    if resident_check_digit(id_number[:17]) != id_number[17]:
        raise ValueError("the ID number check digit is wrong")
    return birth, "M" if int(id_number[16]) % 2 else "F"


class IdentifyRequest(BaseModel):
    id_type: Text = Field(min_length=1, max_length=32, description="only 'resident' is supported")
    # Not enforced as a pattern here: the handler answers a malformed number with the more precise
    # 422 ``invalid_id_number`` the kiosk translates; the pattern is published for clients.
    id_number: Text = Field(
        min_length=1,
        max_length=64,
        description="18-character resident ID number (GB 11643-1999), checked fully; surrounding blanks ignored",
        json_schema_extra={"pattern": r"^\s*[0-9]{17}[0-9Xx]\s*$"},
    )
    name: Text = Field(min_length=1, max_length=64)
    sex: Text = Field(min_length=1, max_length=8, description="M / F (also 男 / 女, MALE / FEMALE)")
    birth: date = Field(description="must agree with the ID number")


class IdentifyResponse(BaseModel):
    patient_id: int
    is_new: bool


def validate_id_number(id_type: str, id_number: str) -> tuple[str, date, str]:
    """(id_number normalised, birth, sex) read from a supported ID number, or ApiError 422."""
    if id_type != "resident":
        raise ApiError(422, "unsupported_id_type", "only id_type 'resident' is supported")
    normalised = id_number.strip().upper()
    try:
        birth, sex = parse_resident_id(normalised)
    except ValueError as exc:
        raise ApiError(422, "invalid_id_number", str(exc)) from None
    return normalised, birth, sex


def validate_identity(req: IdentifyRequest) -> tuple[str, str, str, str]:
    """(id_number, name, sex, birth) normalised, or ApiError 422 naming the problem."""
    id_number, birth, sex_from_id = validate_id_number(req.id_type, req.id_number)
    sex = _SEX.get(req.sex.strip().upper())
    if sex is None:
        raise ApiError(422, "invalid_request", "sex must be M or F")
    if sex != sex_from_id or birth != req.birth:
        raise ApiError(422, "id_mismatch", "sex or birth date disagrees with the ID number")
    name = " ".join(req.name.split())
    if not name:
        raise ApiError(422, "invalid_request", "name is empty")
    return id_number, name, sex, birth.isoformat()


def find_or_create_patient(
    conn: Conn, cipher: FieldCipher, id_type: str, identity: tuple[str, str, str, str]
) -> tuple[int, bool]:
    """(patient_id, is_new) for an identity checked by :func:`validate_identity`; the caller owns the
    write transaction. Shared by ``/patients/identify`` and the offline sync (server/sync_ops.py)."""
    id_number, name, sex, birth = identity
    existing = find_patient_id(conn, cipher, id_type, id_number)
    if existing is not None:
        logger.info("identified patient_id=%d (%s)", existing, mask_id_number(id_number))
        return existing, False
    patient_id = insert_patient(
        conn, cipher, id_type=id_type, id_number=id_number, name=name, sex=sex, birth=birth, created_at=utc_now()
    )
    logger.info("new patient_id=%d (%s)", patient_id, mask_id_number(id_number))
    return patient_id, True


@router.post("/patients/identify", response_model=IdentifyResponse, responses=error_responses(400, 422))
def identify(req: IdentifyRequest, db: DbDep, cipher: CipherDep) -> dict[str, Any]:
    identity = validate_identity(req)  # before the write lock: a rejected request never takes it
    with db.connection() as conn, write_tx(conn):
        patient_id, is_new = find_or_create_patient(conn, cipher, req.id_type, identity)
    return {"patient_id": patient_id, "is_new": is_new}
