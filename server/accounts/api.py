"""HTTP surface of the prepaid account: the balance, top-ups by payment code, paying a bill from it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal, cast

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from server.errors import ApiError
from server.registrations import IDEMPOTENCY_KEY_PATTERN
from server.schemas import RowId, RowIdPath, Text, error_responses

if TYPE_CHECKING:
    from server.accounts.service import AccountService

router = APIRouter(prefix="/api/v1", tags=["accounts"])

KioskId = Annotated[str, Field(pattern=r"^[A-Za-z0-9._-]{1,32}$")]


def get_accounts(request: Request) -> AccountService:
    return cast("AccountService", request.app.state.accounts)


AccountsDep = Annotated["AccountService", Depends(get_accounts)]


class EntryView(BaseModel):
    entry_id: int
    kind: Literal["top_up", "bill_payment", "refund"]
    amount_cents: int = Field(description="credits positive, debits negative")
    balance_after_cents: int
    created_at: str
    bill_no: str | None
    channel: str | None = Field(description="top-ups: the wallet that paid (wechat, alipay)")


class AccountView(BaseModel):
    patient_id: int
    balance_cents: int
    entries: list[EntryView] = Field(description="the most recent entries, newest first")
    top_up_min_cents: int
    top_up_max_cents: int


class TopUpRequest(BaseModel):
    idempotency_key: str = Field(pattern=IDEMPOTENCY_KEY_PATTERN)
    patient_id: RowId
    # Bounded like a payment's fee; the configured limits are checked by the service (422 amount_out_of_range).
    amount_cents: int = Field(ge=1, le=2**31 - 1)
    auth_code: Text = Field(min_length=1, max_length=64)
    kiosk_id: KioskId


class TopUpView(BaseModel):
    idempotency_key: str
    status: Literal["PENDING", "SUCCESS", "FAILED", "REVERSED"]
    error_code: str | None
    message: str
    patient_id: int
    amount_cents: int
    channel: str
    credited: bool = Field(description="True once the amount is in the account (exactly when status is SUCCESS)")
    balance_cents: int = Field(description="after this top-up once credited, else the current balance")


class PayFromAccountRequest(BaseModel):
    idempotency_key: str = Field(pattern=IDEMPOTENCY_KEY_PATTERN, description="also the bill's lock key")
    patient_id: RowId
    version: int = Field(ge=1, le=2**31)
    verification: Literal["face", "pin", "staff"] = Field(description="how the kiosk confirmed the account holder")
    insurance_scheme: Literal["employee", "resident"] | None = Field(
        None, description="used only if the bill is not locked under this key yet"
    )
    kiosk_id: KioskId


class AccountPaymentView(BaseModel):
    idempotency_key: str
    bill_id: int
    bill_no: str
    bill_ids: list[int] = Field(description="every bill paid: the group locked under the key")
    bill_status: Literal["unpaid", "locked", "paid", "cancelled"]
    amount_cents: int = Field(description="taken from the account (the bill's self-pay share)")
    insurance_cents: int | None
    balance_cents: int = Field(description="the balance right after this payment")


IdempotencyKeyPath = Annotated[str, Path(pattern=IDEMPOTENCY_KEY_PATTERN)]


def _replayable(status: int, body: dict[str, Any]) -> JSONResponse:
    headers = {"Idempotent-Replayed": "true"} if status == 200 else {}
    return JSONResponse(status_code=status, content=body, headers=headers)


@router.get("/patients/{patient_id}/account", response_model=AccountView, responses=error_responses(404, 422))
def get_account(patient_id: RowIdPath, accounts: AccountsDep) -> dict[str, Any]:
    """The prepaid balance (0 for a patient who never topped up) and the latest entries."""
    return accounts.view(patient_id)


@router.post(
    "/accounts/top-ups",
    status_code=201,
    response_model=TopUpView,
    responses={
        200: {"model": TopUpView, "description": "A retry with the same key: the top-up's current state"},
        **error_responses(404, 409, 422),
    },
)
def create_top_up(req: TopUpRequest, accounts: AccountsDep) -> JSONResponse:
    """Charge the scanned payment code and credit the account once paid; PENDING resolves in the background."""
    status, body = accounts.top_up(
        idempotency_key=req.idempotency_key,
        patient_id=req.patient_id,
        amount_cents=req.amount_cents,
        auth_code=req.auth_code,
        kiosk_id=req.kiosk_id,
    )
    return _replayable(status, body)


@router.get("/accounts/top-ups/{idempotency_key}", response_model=TopUpView, responses=error_responses(404, 422))
def get_top_up(idempotency_key: IdempotencyKeyPath, accounts: AccountsDep) -> dict[str, Any]:
    """404 ``not_found``: the server never saw this key as a top-up (a timed-out POST never arrived)."""
    body = accounts.top_up_status(idempotency_key)
    if body is None:
        raise ApiError(404, "not_found", "no top-up with this idempotency_key")
    return body


@router.post(
    "/bills/{bill_id}/pay-from-account",
    status_code=201,
    response_model=AccountPaymentView,
    responses={
        200: {"model": AccountPaymentView, "description": "A retry with the same key: the same payment"},
        **error_responses(404, 409, 422, 502),
    },
)
def pay_bill_from_account(bill_id: RowIdPath, req: PayFromAccountRequest, accounts: AccountsDep) -> JSONResponse:
    """Lock the bill (unless locked under this key already), debit the account and mark the bill paid.

    409 ``insufficient_balance`` leaves the balance and the lock as they were (the patient may pay
    the same lock by code instead); the other 409s are the bill's (``already_paid``, ``bill_changed``...).
    """
    status, body = accounts.pay_bill(
        bill_id,
        idempotency_key=req.idempotency_key,
        patient_id=req.patient_id,
        version=req.version,
        verification=req.verification,
        scheme=req.insurance_scheme,
        kiosk_id=req.kiosk_id,
    )
    return _replayable(status, body)
