"""Appointment check-in (预约取号) routes: list a patient's bookings of a day, check one in.

The rules live in server/appointments/service.py; this module is HTTP only.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from server.appointments import service
from server.appointments.service import CheckinWindow
from server.auth.kiosks import KIOSK_ID_PATTERN, require_kiosk
from server.dbapi import write_tx
from server.deps import DbDep, SettingsDep
from server.errors import ApiError
from server.registrations import IDEMPOTENCY_KEY_PATTERN, RegistrationView
from server.schemas import RowId, RowIdPath, error_responses
from server.settings import ServerSettings

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/api/v1", tags=["appointments"])

SignedKiosk = Annotated[str, Depends(require_kiosk)]  # the router's own dependency: FastAPI runs it once


class AppointmentView(BaseModel):
    appointment_id: int
    appt_no: str
    status: Literal["booked", "checked_in", "cancelled", "no_show"]
    booked_via: Literal["wechat", "phone", "web", "window", "kiosk"]
    prepaid: bool = Field(description="paid when booked: checking in needs no payment")
    fee_cents: int
    department_code: str
    department_name_zh: str
    department_name_en: str
    doctor_code: str
    doctor_name_zh: str
    doctor_name_en: str
    doctor_title_zh: str
    doctor_title_en: str
    date: str
    start: str
    end: str
    checkin: Literal["open", "too_early", "too_late", "done", "closed"] = Field(
        description="what check-in would answer now: open; too_early / too_late (see the window); "
        "done (checked in); closed (cancelled or missed)"
    )
    checkin_opens: str = Field(description="local time the check-in window opens, YYYY-MM-DDTHH:MM")
    checkin_closes: str = Field(description="local time the check-in window closes, YYYY-MM-DDTHH:MM")
    registration_id: int | None = Field(description="after check-in: the registration that carries the fee")
    reg_no: str | None
    queue_no: int | None
    paid: bool | None = Field(description="after check-in: whether the registration's fee is paid")


class CheckinRequest(BaseModel):
    key: str = Field(pattern=IDEMPOTENCY_KEY_PATTERN, description="the kiosk's idempotency key for this check-in")
    kiosk_id: str = Field(pattern=KIOSK_ID_PATTERN)
    patient_id: RowId = Field(description="the identified patient; another patient's booking is not found")


class CheckinView(RegistrationView):
    """The registration the booking became (pay it with ``POST /payments`` unless ``paid``)."""

    appointment_id: int
    appt_no: str
    queue_no: int = Field(description="the patient's place in this doctor's queue that day")
    paid: bool


def window_of(settings: ServerSettings) -> CheckinWindow:
    return CheckinWindow.minutes(settings.checkin_open_before_min, settings.checkin_close_after_min)


def check_kiosk(settings: ServerSettings, signed: str, claimed: str) -> None:
    """The body's kiosk_id must be the signer's: a kiosk acts only as itself (as in server/auth/)."""
    if settings.require_signed_requests and signed != claimed:
        raise ApiError(403, "kiosk_mismatch", "a kiosk may only act as itself")


@router.get(
    "/patients/{patient_id}/appointments",
    response_model=list[AppointmentView],
    responses=error_responses(404, 422),
)
def list_appointments(
    patient_id: RowIdPath,
    db: DbDep,
    settings: SettingsDep,
    day: Annotated[date | None, Query(alias="date", description="default: today")] = None,
) -> list[dict[str, Any]]:
    """The patient's bookings on ``date`` in time order, with each one's check-in state right now."""
    with db.connection() as conn:
        try:
            return service.list_for_patient(conn, patient_id, day or date.today(), window_of(settings), service.now())
        except LookupError:
            raise ApiError(404, "patient_not_found", f"no patient {patient_id}") from None


@router.post(
    "/appointments/{appointment_id}/check-in",
    status_code=201,
    response_model=CheckinView,
    responses={
        200: {"model": CheckinView, "description": "A retry with the same key: the same registration, as it is now"},
        **error_responses(400, 404, 409, 422),
    },
)
def check_in(
    appointment_id: RowIdPath, req: CheckinRequest, db: DbDep, settings: SettingsDep, signed: SignedKiosk
) -> JSONResponse:
    """Turn a booking into a registration. 409 codes: ``too_early``, ``too_late``,
    ``appointment_cancelled``, ``appointment_no_show``, ``appointment_checked_in`` (another key)."""
    check_kiosk(settings, signed, req.kiosk_id)
    with db.connection() as conn, write_tx(conn):
        status, body = service.check_in(
            conn,
            appointment_id=appointment_id,
            patient_id=req.patient_id,
            key=req.key,
            kiosk_id=req.kiosk_id,
            window=window_of(settings),
            at=service.now(),
        )
    headers = {"Idempotent-Replayed": "true"} if status == 200 else {}
    return JSONResponse(status_code=status, content=body, headers=headers)
