"""HTTP surface of bills: list a patient's open bills, lock one or several for one payment, give the lock up."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal, cast

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from server.bills.service import MAX_GROUP_BILLS
from server.registrations import IDEMPOTENCY_KEY_PATTERN
from server.schemas import RowId, RowIdPath, error_responses

if TYPE_CHECKING:
    from server.bills.service import BillService

router = APIRouter(prefix="/api/v1", tags=["bills"])


def get_bills(request: Request) -> BillService:
    return cast("BillService", request.app.state.bills)


BillsDep = Annotated["BillService", Depends(get_bills)]
PaymentKeyPath = Annotated[str, Path(pattern=IDEMPOTENCY_KEY_PATTERN)]


class BillItemView(BaseModel):
    code: str
    name_zh: str
    name_en: str
    category: str
    quantity: int
    unit_cents: int
    amount_cents: int


class BillView(BaseModel):
    bill_id: int
    bill_no: str
    patient_id: int
    kind: Literal["prescription", "lab", "imaging", "treatment"]
    title_zh: str
    title_en: str
    total_cents: int
    status: Literal["unpaid", "locked", "paid", "cancelled"]
    version: int = Field(description="send it back when locking: a changed bill is refused (409 bill_changed)")
    locked_until: str | None
    payment_key: str | None
    insurance_scheme: str | None
    insurance_cents: int | None = Field(description="the insurer's share from the pre-settlement of the current lock")
    self_pay_cents: int | None = Field(description="what the patient pays: the amount of the payment")
    items: list[BillItemView]


class LockRequest(BaseModel):
    payment_key: str = Field(pattern=IDEMPOTENCY_KEY_PATTERN, description="the idempotency key the payment will use")
    patient_id: RowId
    version: int = Field(ge=1, le=2**31)
    insurance_scheme: Literal["employee", "resident"] | None = None
    kiosk_id: str = Field(pattern=r"^[A-Za-z0-9._-]{1,32}$")


class UnlockRequest(BaseModel):
    payment_key: str = Field(pattern=IDEMPOTENCY_KEY_PATTERN)


class BillRef(BaseModel):
    bill_id: RowId
    version: int = Field(ge=1, le=2**31, description="as listed: a changed bill is refused (409 bill_changed)")


class LockGroupRequest(BaseModel):
    payment_key: str = Field(pattern=IDEMPOTENCY_KEY_PATTERN, description="the idempotency key the payment will use")
    patient_id: RowId
    bills: list[BillRef] = Field(min_length=1, max_length=MAX_GROUP_BILLS)
    insurance_scheme: Literal["employee", "resident"] | None = None
    kiosk_id: str = Field(pattern=r"^[A-Za-z0-9._-]{1,32}$")


class LockGroupView(BaseModel):
    payment_key: str
    patient_id: int
    status: Literal["locked", "paid", "presettling", "released"] = Field(
        description="locked: pay self_pay_cents now; paid: fully covered (or paid); presettling: ask again"
    )
    locked_until: str | None
    insurance_scheme: str | None
    total_cents: int
    insurance_cents: int | None
    self_pay_cents: int | None = Field(description="the amount of the one payment that pays every bill of the group")
    bills: list[BillView]


@router.get("/patients/{patient_id}/bills", response_model=list[BillView], responses=error_responses(404, 422))
def list_bills(patient_id: RowIdPath, bills: BillsDep) -> list[dict[str, Any]]:
    """The patient's bills that are still to pay (unpaid, or locked by a payment in progress)."""
    return bills.list_for_patient(patient_id)


@router.post(
    "/bills/lock",
    status_code=201,
    response_model=LockGroupView,
    responses={
        200: {"model": LockGroupView, "description": "A retry with the same payment_key and bills: the same lock"},
        **error_responses(404, 409, 422, 502),
    },
)
def lock_bills(req: LockGroupRequest, bills: BillsDep) -> JSONResponse:
    """Lock several bills (all or none) for ONE payment of their summed self-pay share.

    Each is checked (409 ``already_paid``, ``bill_cancelled``, ``bill_changed``, ``bill_locked``) and
    pre-settled with the insurer (502 if it cannot: then none stays locked). Pay with ``POST
    /payments`` (or ``/payments/qr``) naming any of the bills as ``bill_id`` and this ``payment_key``.
    """
    status, body = bills.lock_group(
        payment_key=req.payment_key,
        patient_id=req.patient_id,
        bills=[(b.bill_id, b.version) for b in req.bills],
        scheme=req.insurance_scheme,
        kiosk_id=req.kiosk_id,
    )
    return JSONResponse(status_code=status, content=body)


@router.get("/bills/locks/{payment_key}", response_model=LockGroupView, responses=error_responses(404, 422))
def get_lock(payment_key: PaymentKeyPath, bills: BillsDep) -> dict[str, Any]:
    """The lock group of a payment key (404 ``lock_not_found`` if that key never locked anything)."""
    return bills.group(payment_key)


@router.post("/bills/unlock", response_model=LockGroupView, responses=error_responses(404, 409, 422))
def unlock_bills(req: UnlockRequest, bills: BillsDep) -> dict[str, Any]:
    """Give the whole group up (the patient cancelled). Refused while a payment under the key is unresolved."""
    return bills.unlock_group(req.payment_key)


@router.get("/bills/{bill_id}", response_model=BillView, responses=error_responses(404, 422))
def get_bill(bill_id: RowIdPath, bills: BillsDep) -> dict[str, Any]:
    return bills.get(bill_id)


@router.post(
    "/bills/{bill_id}/lock",
    status_code=201,
    response_model=BillView,
    responses={
        200: {"model": BillView, "description": "A retry with the same payment_key: the same lock"},
        **error_responses(404, 409, 422, 502),
    },
)
def lock_bill(bill_id: RowIdPath, req: LockRequest, bills: BillsDep) -> JSONResponse:
    """Lock the bill to one payment attempt and pre-settle it with the insurer (502 if it cannot)."""
    status, body = bills.lock(
        bill_id,
        payment_key=req.payment_key,
        patient_id=req.patient_id,
        version=req.version,
        scheme=req.insurance_scheme,
        kiosk_id=req.kiosk_id,
    )
    return JSONResponse(status_code=status, content=body)


@router.post("/bills/{bill_id}/unlock", response_model=BillView, responses=error_responses(404, 409, 422))
def unlock_bill(bill_id: RowIdPath, req: UnlockRequest, bills: BillsDep) -> dict[str, Any]:
    """Give the lock up (the patient cancelled): the bill's whole group under the key is released.

    Refused while a payment under the key is unresolved."""
    return bills.unlock(bill_id, req.payment_key)
