"""HTTP surface of refunds: refund a payment, look a refund up, 退号, the patient's refundable registrations."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal, cast

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from server.errors import ApiError
from server.payments.api import IdempotencyKeyPath
from server.refunds.registration import RegistrationRefundRequest
from server.refunds.service import RefundRequest
from server.registrations import RegistrationView
from server.schemas import RowIdPath, error_responses

if TYPE_CHECKING:
    from server.refunds.registration import RegistrationRefunds
    from server.refunds.service import RefundService

router = APIRouter(prefix="/api/v1", tags=["refunds"])


def get_refunds(request: Request) -> RefundService:
    return cast("RefundService", request.app.state.refunds)


def get_registration_refunds(request: Request) -> RegistrationRefunds:
    return cast("RegistrationRefunds", request.app.state.registration_refunds)


RefundsDep = Annotated["RefundService", Depends(get_refunds)]
RegistrationRefundsDep = Annotated["RegistrationRefunds", Depends(get_registration_refunds)]


class RefundView(BaseModel):
    refund_key: str
    payment_key: str
    registration_id: int | None
    status: Literal["requested", "pending", "refunded", "failed"]
    amount_cents: int
    payment_amount_cents: int
    refundable_cents: int = Field(description="what is left to refund of the payment after this and earlier refunds")
    channel: str
    reason: str
    requested_by: str
    approved_by: str | None
    error_code: str | None
    message: str
    created_at: str
    refunded_at: str | None


class RegistrationRefundView(BaseModel):
    registration: RegistrationView
    refund: RefundView


class RefundableRegistrationView(RegistrationView):
    refundable: bool = Field(description="a kiosk may refund it now")
    blocked_reason: str | None = Field(description="why not: refund_window_closed, already_checked_in, ...")
    refund_deadline: str = Field(description="hospital wall time, YYYY-MM-DDTHH:MM")
    refundable_cents: int
    channel: str | None


def _answer(status: int, body: dict[str, Any]) -> JSONResponse:
    headers = {"Idempotent-Replayed": "true"} if status == 200 else {}
    return JSONResponse(status_code=status, content=body, headers=headers)


@router.post(
    "/payments/{payment_key}/refunds",
    status_code=201,
    response_model=RefundView,
    responses={
        200: {"model": RefundView, "description": "A retry with the same refund_key: the refund's current state"},
        **error_responses(400, 404, 409, 422),
    },
)
def create_refund(payment_key: IdempotencyKeyPath, req: RefundRequest, refunds: RefundsDep) -> JSONResponse:
    """Refund part or all of a paid payment to the account it came from. Answers after the provider's
    first reply; ``pending`` is resolved in the background (poll ``GET /refunds/{refund_key}``)."""
    return _answer(*refunds.create(payment_key, req))


@router.get("/refunds/{refund_key}", response_model=RefundView, responses=error_responses(404, 422))
def get_refund(refund_key: IdempotencyKeyPath, refunds: RefundsDep) -> dict[str, Any]:
    """404 ``not_found`` means the server never saw this key: a timed-out POST never arrived."""
    body = refunds.get(refund_key)
    if body is None:
        raise ApiError(404, "not_found", "no refund with this refund_key")
    return body


@router.post(
    "/registrations/{registration_id}/refund",
    status_code=201,
    response_model=RegistrationRefundView,
    responses={
        200: {"model": RegistrationRefundView, "description": "A retry with the same refund_key: the same 退号"},
        **error_responses(400, 404, 409, 422),
    },
)
def refund_registration(
    registration_id: RowIdPath, req: RegistrationRefundRequest, regs: RegistrationRefundsDep
) -> JSONResponse:
    """退号: cancel a paid registration within the hospital's window, give its place back and refund
    the fee. 409 ``refund_window_closed`` outside the window, ``already_checked_in`` once the visit began."""
    return _answer(*regs.refund(registration_id, req))


@router.get(
    "/patients/{patient_id}/refundable-registrations",
    response_model=list[RefundableRegistrationView],
    responses=error_responses(422),
)
def refundable_registrations(patient_id: RowIdPath, regs: RegistrationRefundsDep) -> list[dict[str, Any]]:
    """The patient's paid registrations from today on; ``refundable`` says whether 退号 is possible now."""
    return regs.candidates(patient_id)
