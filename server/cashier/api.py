"""HTTP surface of the cashier window (``/api/v1/cashier``); every route is a signed kiosk request.

Sign-in (``POST /cashier/shifts``) needs only the kiosk's signature and the staff member's number
and PIN (or staff card); it answers the shift and a token. Every other cashier call carries that
token in ``X-Cashier-Token`` as well (server/cashier/shifts.py). Reading a settlement or a refund
back by its key needs only the signature of the kiosk that made it, so a window that lost an answer
can always learn the outcome, even after its token expired.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Self

from fastapi import APIRouter, Depends, Path, Request, Security
from fastapi.responses import JSONResponse
from fastapi.security import APIKeyHeader
from pydantic import BaseModel, Field, model_validator

from server.auth.kiosks import require_kiosk
from server.bills.api import BillView, LockGroupView
from server.cashier.patients import open_items, resolve_patient
from server.cashier.refunds import WindowRefundRequest, WindowRefundService
from server.cashier.report import shift_report
from server.cashier.settlements import Settlements, SettleRequest
from server.cashier.shifts import (
    TOKEN_HEADER,
    Shift,
    close_shift,
    expire_token,
    open_shift,
    shift_for_token,
    shift_view,
)
from server.cashier.staff import PIN_PATTERN, STAFF_NO_PATTERN, check_card, check_pin
from server.crypto import FieldCipher
from server.db import Store
from server.errors import ApiError
from server.registrations import IDEMPOTENCY_KEY_PATTERN, RegistrationView
from server.schemas import ErrorBody, RowId, RowIdPath, Text, error_responses
from sync.staffcard import CARD_HASH_PATTERN

router = APIRouter(prefix="/api/v1/cashier", tags=["cashier"])

# Shorter than other keys: a registration's payment key is "<key>:r<id>" and must still fit 128.
SETTLEMENT_KEY_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{7,99}$"
POS_REF_PATTERN = r"^[A-Za-z0-9-]{4,32}$"
MAX_SETTLEMENT_BILLS = 20
MAX_SETTLEMENT_REGISTRATIONS = 5

KioskIdDep = Annotated[str, Depends(require_kiosk)]  # the router's own dependency: FastAPI runs it once
_token_scheme = APIKeyHeader(
    name=TOKEN_HEADER, auto_error=False, scheme_name="CashierToken", description="the token of an open cashier shift"
)
TokenDep = Annotated[str | None, Security(_token_scheme)]
SettlementKeyPath = Annotated[str, Path(pattern=SETTLEMENT_KEY_PATTERN)]
RefundKeyPath = Annotated[str, Path(pattern=IDEMPOTENCY_KEY_PATTERN)]


class Cashier:
    """The window's services, built once per app from what ``create_app`` put on ``app.state``."""

    def __init__(self, request: Request) -> None:
        state = request.app.state
        self.db: Store = state.db
        self.cipher: FieldCipher = state.cipher
        self.bills = state.bills
        self.settlements = Settlements(state.db, state.cipher, state.bills, state.payments)
        # The kiosks' refund service (server/refunds/), when this server runs one.
        self.refunds = WindowRefundService(state.db, state.settings, getattr(state, "refunds", None))


def get_cashier(request: Request) -> Cashier:
    cashier = getattr(request.app.state, "cashier", None)
    if not isinstance(cashier, Cashier):
        cashier = Cashier(request)
        request.app.state.cashier = cashier
    return cashier


CashierDep = Annotated[Cashier, Depends(get_cashier)]


def current_shift(cashier: CashierDep, kiosk_id: KioskIdDep, token: TokenDep) -> Shift:
    with cashier.db.connection() as conn:
        return shift_for_token(conn, token, kiosk_id)


def any_shift(cashier: CashierDep, kiosk_id: KioskIdDep, token: TokenDep) -> Shift:
    """The token's shift even when it is closed (its report stays readable until the token expires)."""
    with cashier.db.connection() as conn:
        return shift_for_token(conn, token, kiosk_id, allow_closed=True)


ShiftDep = Annotated[Shift, Depends(current_shift)]
AnyShiftDep = Annotated[Shift, Depends(any_shift)]

TOKEN_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {
        "model": ErrorBody,
        "description": "No token, or it is unknown or expired (`cashier_signed_out`): sign in again",
    },
    403: {
        "model": ErrorBody,
        "description": "The token or the shift belongs to another window (`shift_kiosk_mismatch`, `shift_mismatch`)",
    },
}


def _same_shift(shift: Shift, shift_id: int) -> None:
    if shift.shift_id != shift_id:
        raise ApiError(403, "shift_mismatch", "this token is for another shift")


# -- models ----------------------------------------------------------------------------------------


class SignInRequest(BaseModel):
    staff_no: str | None = Field(default=None, pattern=STAFF_NO_PATTERN)
    pin: str | None = Field(default=None, pattern=PIN_PATTERN)
    staff_card_hash: str | None = Field(
        default=None, pattern=CARD_HASH_PATTERN, description="sync.staffcard.staff_card_hash of the staff ID card"
    )
    window_label: Text = Field(default="", max_length=32, description="shown on the report, e.g. 3号窗口")

    @model_validator(mode="after")
    def _one_means(self) -> Self:
        by_pin = self.staff_no is not None and self.pin is not None
        if by_pin == (self.staff_card_hash is not None):
            raise ValueError("give staff_no and pin, or staff_card_hash")
        return self


class ShiftView(BaseModel):
    shift_id: int
    staff_no: str
    staff_name: str
    supervisor: bool
    kiosk_id: str
    window_label: str
    status: Literal["open", "closed"]
    opened_at: str
    closed_at: str | None
    token_expires_at: str


class SignInView(ShiftView):
    token: str = Field(description=f"send it as {TOKEN_HEADER} with every cashier call")


class LookupRequest(BaseModel):
    visit_card_no: str | None = Field(default=None, min_length=3, max_length=32, pattern=r"^\s*[0-9]+\s*$")
    patient_id: RowId | None = None

    @model_validator(mode="after")
    def _one_means(self) -> Self:
        if (self.visit_card_no is None) == (self.patient_id is None):
            raise ValueError("give visit_card_no or patient_id")
        return self


class PatientSummary(BaseModel):
    patient_id: int
    visit_card_no: str
    name_masked: str
    id_masked: str
    sex: str
    birth_year: int


class RecentPayment(BaseModel):
    payment_key: str
    channel: str
    amount_cents: int
    paid_at: str
    bill_id: int | None
    registration_id: int | None
    title_zh: str
    title_en: str


class OpenItems(BaseModel):
    patient: PatientSummary
    bills: list[BillView]
    registrations: list[RegistrationView]
    recent_payments: list[RecentPayment] = Field(description="paid in the last 30 days: what a refund can name")


class BillRef(BaseModel):
    bill_id: RowId
    version: int = Field(ge=1, le=2**31)


class QuoteRequest(BaseModel):
    key: str = Field(pattern=SETTLEMENT_KEY_PATTERN, description="the settlement's idempotency key")
    shift_id: RowId
    patient_id: RowId
    bills: list[BillRef] = Field(default_factory=list, max_length=MAX_SETTLEMENT_BILLS)
    registration_ids: list[RowId] = Field(default_factory=list, max_length=MAX_SETTLEMENT_REGISTRATIONS)
    insurance_scheme: Literal["employee", "resident"] | None = None

    @model_validator(mode="after")
    def _something(self) -> Self:
        if not self.bills and not self.registration_ids:
            raise ValueError("name at least one bill or registration")
        if len({b.bill_id for b in self.bills}) != len(self.bills) or len(set(self.registration_ids)) != len(
            self.registration_ids
        ):
            raise ValueError("a bill or registration is named twice")
        return self


class QuoteView(BaseModel):
    key: str
    patient_id: int
    bills_status: str | None
    locked_until: str | None
    bills: list[BillView]
    registrations: list[RegistrationView]
    insurance_cents: int
    bills_self_pay_cents: int
    self_pay_cents: int = Field(description="what the patient pays now: amount_cents of the settlement")


class SettlementRequest(BaseModel):
    key: str = Field(pattern=SETTLEMENT_KEY_PATTERN, description="the key the quote used")
    shift_id: RowId
    patient_id: RowId
    bill_ids: list[RowId] = Field(default_factory=list, max_length=MAX_SETTLEMENT_BILLS)
    registration_ids: list[RowId] = Field(default_factory=list, max_length=MAX_SETTLEMENT_REGISTRATIONS)
    channel: Literal["code", "cash", "card"]
    amount_cents: int = Field(ge=0, le=2**31 - 1)
    auth_code: Text | None = Field(default=None, min_length=1, max_length=64, description="code: the scanned code")
    pos_ref: str | None = Field(default=None, pattern=POS_REF_PATTERN, description="card: the POS reference number")
    tendered_cents: int | None = Field(default=None, ge=0, le=2**31 - 1, description="cash: what the patient gave")

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if not self.bill_ids and not self.registration_ids:
            raise ValueError("name at least one bill or registration")
        if len(set(self.bill_ids)) != len(self.bill_ids) or len(set(self.registration_ids)) != len(
            self.registration_ids
        ):
            raise ValueError("a bill or registration is named twice")
        if self.channel == "code":
            if self.auth_code is None:
                raise ValueError("a code settlement needs auth_code")
            if (self.bill_ids and self.registration_ids) or len(self.registration_ids) > 1:
                raise ValueError("a payment code pays one order: the bills, or one registration")
        if self.channel == "card" and self.pos_ref is None:
            raise ValueError("a card settlement needs pos_ref")
        if self.channel == "cash" and (self.tendered_cents is None or self.tendered_cents < self.amount_cents):
            raise ValueError("a cash settlement needs tendered_cents of at least amount_cents")
        return self


class SettlementPayment(BaseModel):
    payment_key: str
    registration_id: int | None
    amount_cents: int
    status: Literal["PENDING", "SUCCESS", "FAILED", "REVERSED"] | None = Field(
        description="None: the payment service was not reached yet (retry the settlement)"
    )
    channel: str | None


class SettlementView(BaseModel):
    key: str
    shift_id: int
    patient_id: int
    channel: Literal["code", "cash", "card"]
    bill_ids: list[int]
    registration_ids: list[int]
    amount_cents: int
    tendered_cents: int | None
    change_cents: int | None
    pos_ref: str | None
    status: Literal["PENDING", "SUCCESS", "FAILED", "REVERSED"]
    error_code: str | None
    created_at: str
    payments: list[SettlementPayment]


class RefundRequestBody(BaseModel):
    refund_key: str = Field(pattern=IDEMPOTENCY_KEY_PATTERN)
    shift_id: RowId
    payment_key: str = Field(pattern=IDEMPOTENCY_KEY_PATTERN, description="the payment to refund (part of)")
    amount_cents: int = Field(gt=0, le=2**31 - 1)
    reason: Text = Field(min_length=1, max_length=80)
    supervisor_staff_no: str = Field(pattern=STAFF_NO_PATTERN)
    supervisor_pin: str = Field(pattern=PIN_PATTERN, description="checked here; never stored or logged")
    pos_ref: str | None = Field(default=None, pattern=POS_REF_PATTERN, description="card: the POS refund's reference")


class RefundView(BaseModel):
    refund_key: str
    shift_id: int
    payment_key: str
    channel: str
    amount_cents: int
    reason: str
    approved_by: str
    pos_ref: str | None
    status: Literal["requested", "pending", "refunded", "failed"]
    error_code: str | None
    created_at: str


class LedgerEntry(BaseModel):
    key: str = Field(min_length=1, max_length=128)
    kind: Literal["settlement", "refund"]
    channel: Literal["code", "cash", "card"]
    amount_cents: int = Field(ge=0, le=2**31 - 1)
    status: str = Field(min_length=1, max_length=16, pattern=r"^[A-Za-z_]+$")


class CloseRequest(BaseModel):
    ledger: list[LedgerEntry] = Field(default_factory=list, max_length=5000, description="what the kiosk counted")
    cash_counted_cents: int | None = Field(default=None, ge=0, le=2**31 - 1, description="cash in the drawer")


class ChannelTotal(BaseModel):
    count: int
    amount_cents: int


class RefundTotals(BaseModel):
    count: int
    amount_cents: int
    by_channel: dict[str, ChannelTotal]


class CashCount(BaseModel):
    expected_cents: int
    counted_cents: int | None
    difference_cents: int | None


class ReportSettlement(BaseModel):
    key: str
    channel: str
    amount_cents: int
    status: str
    created_at: str
    bill_ids: list[int]
    registration_ids: list[int]


class ReportRefund(BaseModel):
    refund_key: str
    payment_key: str
    channel: str
    amount_cents: int
    status: str
    approved_by: str
    created_at: str


class Mismatch(BaseModel):
    kind: str
    key: str
    detail: str | None = None
    kiosk: dict[str, Any] | None = None
    server: dict[str, Any] | None = None


class Reconciliation(BaseModel):
    kiosk_reported: bool
    mismatches: list[Mismatch]
    ok: bool


class ShiftReport(BaseModel):
    shift: ShiftView
    generated_at: str
    totals: dict[str, ChannelTotal]
    refunds: RefundTotals
    transaction_count: int
    taken_cents: int
    net_cents: int
    cash: CashCount
    settlements: list[ReportSettlement]
    refund_entries: list[ReportRefund]
    reconciliation: Reconciliation


# -- routes ----------------------------------------------------------------------------------------


@router.post(
    "/shifts",
    status_code=201,
    response_model=SignInView,
    responses={
        200: {"model": SignInView, "description": "The staff member's open shift at this window, resumed"},
        401: {
            "model": ErrorBody,
            "description": "Wrong staff number, PIN or card, or the profile is locked (`sign_in_failed`)",
        },
        **error_responses(409, 422),
    },
)
def sign_in(req: SignInRequest, cashier: CashierDep, kiosk_id: KioskIdDep) -> JSONResponse:
    """Open a shift at this window (or resume one's own open shift) and get its token."""
    with cashier.db.connection() as conn:
        if req.staff_card_hash is not None:
            staff = check_card(conn, cashier.cipher, req.staff_card_hash)
        else:
            assert req.staff_no is not None and req.pin is not None
            staff = check_pin(conn, req.staff_no, req.pin, purpose="sign_in")
        if staff is None:
            raise ApiError(401, "sign_in_failed", "wrong staff number, PIN or card, or the profile is locked")
        status, shift, token = open_shift(conn, staff, kiosk_id, req.window_label.strip())
    return JSONResponse(status_code=status, content={**shift_view(shift), "token": token})


@router.post(
    "/shifts/{shift_id}/sign-out",
    response_model=ShiftView,
    responses={**TOKEN_ERRORS, **error_responses(422)},
)
def sign_out(shift_id: RowIdPath, shift: ShiftDep, cashier: CashierDep) -> dict[str, Any]:
    """Lock the window without closing the shift (a break): the token stops working at once."""
    _same_shift(shift, shift_id)
    with cashier.db.connection() as conn:
        return shift_view(expire_token(conn, shift))


@router.post(
    "/shifts/{shift_id}/close",
    response_model=ShiftReport,
    responses={**TOKEN_ERRORS, **error_responses(409, 422)},
)
def close(shift_id: RowIdPath, req: CloseRequest, shift: AnyShiftDep, cashier: CashierDep) -> dict[str, Any]:
    """Close the shift with what the kiosk counted; the report, reconciled. Closing twice is harmless."""
    _same_shift(shift, shift_id)
    with cashier.db.connection() as conn:
        closed = close_shift(conn, shift, [e.model_dump() for e in req.ledger], req.cash_counted_cents)
        return shift_report(conn, closed)


@router.get("/shifts/{shift_id}/report", response_model=ShiftReport, responses={**TOKEN_ERRORS, **error_responses(422)})
def report(shift_id: RowIdPath, shift: AnyShiftDep, cashier: CashierDep) -> dict[str, Any]:
    """Totals per channel, refunds, the transaction count and the reconciliation (so far, if open)."""
    _same_shift(shift, shift_id)
    with cashier.db.connection() as conn:
        return shift_report(conn, shift)


@router.post("/patients/lookup", response_model=OpenItems, responses={**TOKEN_ERRORS, **error_responses(404, 422)})
def lookup(req: LookupRequest, _shift: ShiftDep, cashier: CashierDep) -> dict[str, Any]:
    """The patient by visit-card number or id: open bills, unpaid registrations, recent payments."""
    patient_id = resolve_patient(cashier.db, patient_id=req.patient_id, card_no=req.visit_card_no)
    return open_items(cashier.db, cashier.cipher, cashier.bills, patient_id)


@router.post(
    "/quotes",
    response_model=QuoteView,
    responses={**TOKEN_ERRORS, **error_responses(404, 409, 422, 502)},
)
def quote(req: QuoteRequest, shift: ShiftDep, cashier: CashierDep) -> dict[str, Any]:
    """Lock the bills for this settlement and pre-settle them: the self-pay total to take."""
    _same_shift(shift, req.shift_id)
    return cashier.settlements.quote(
        shift,
        key=req.key,
        patient_id=req.patient_id,
        bills=[(b.bill_id, b.version) for b in req.bills],
        registration_ids=req.registration_ids,
        scheme=req.insurance_scheme,
    )


@router.post(
    "/quotes/{key}/release",
    response_model=LockGroupView,
    responses={**TOKEN_ERRORS, **error_responses(404, 409, 422)},
)
def release(key: SettlementKeyPath, _shift: ShiftDep, cashier: CashierDep) -> dict[str, Any]:
    """Give the quote's bills back (the patient left); refused while its payment is unresolved."""
    return cashier.settlements.release(key)


@router.post(
    "/settlements",
    status_code=201,
    response_model=SettlementView,
    responses={
        200: {"model": SettlementView, "description": "A retry with the same key: the settlement as it stands"},
        **TOKEN_ERRORS,
        **error_responses(404, 409, 422),
    },
)
def settle(req: SettlementRequest, shift: ShiftDep, cashier: CashierDep) -> JSONResponse:
    """Take the quoted amount by payment code, cash or bank card. PENDING (code): poll by key."""
    status, body = cashier.settlements.settle(
        shift,
        SettleRequest(
            key=req.key,
            shift_id=req.shift_id,
            patient_id=req.patient_id,
            bill_ids=tuple(req.bill_ids),
            registration_ids=tuple(req.registration_ids),
            channel=req.channel,
            amount_cents=req.amount_cents,
            auth_code=req.auth_code,
            pos_ref=req.pos_ref,
            tendered_cents=req.tendered_cents,
        ),
    )
    headers = {"Idempotent-Replayed": "true"} if status == 200 else {}
    return JSONResponse(status_code=status, content=body, headers=headers)


@router.get("/settlements/{key}", response_model=SettlementView, responses=error_responses(404, 422))
def get_settlement(key: SettlementKeyPath, cashier: CashierDep, kiosk_id: KioskIdDep) -> dict[str, Any]:
    """404 ``not_found``: this kiosk never made a settlement under the key (a lost POST never arrived)."""
    view = cashier.settlements.get(key, kiosk_id)
    if view is None:
        raise ApiError(404, "not_found", "no settlement of this window under this key")
    return view


@router.post(
    "/refunds",
    status_code=201,
    response_model=RefundView,
    responses={
        200: {"model": RefundView, "description": "A retry with the same key: the refund as it stands"},
        **TOKEN_ERRORS,
        **error_responses(404, 409, 422),
        503: {
            "model": ErrorBody,
            "description": "Refunds of code payments are not served here (`refunds_unavailable`)",
        },
    },
)
def refund(req: RefundRequestBody, shift: ShiftDep, cashier: CashierDep) -> JSONResponse:
    """Refund (part of) a payment with a supervisor's approval (403 ``supervisor_not_approved``)."""
    status, body = cashier.refunds.refund(
        shift,
        WindowRefundRequest(
            refund_key=req.refund_key,
            shift_id=req.shift_id,
            payment_key=req.payment_key,
            amount_cents=req.amount_cents,
            reason=req.reason,
            supervisor_staff_no=req.supervisor_staff_no,
            supervisor_pin=req.supervisor_pin,
            pos_ref=req.pos_ref,
        ),
    )
    headers = {"Idempotent-Replayed": "true"} if status == 200 else {}
    return JSONResponse(status_code=status, content=body, headers=headers)


@router.get("/refunds/{refund_key}", response_model=RefundView, responses=error_responses(404, 422))
def get_refund(refund_key: RefundKeyPath, cashier: CashierDep, kiosk_id: KioskIdDep) -> dict[str, Any]:
    view = cashier.refunds.get(refund_key, kiosk_id)
    if view is None:
        raise ApiError(404, "not_found", "no refund of this window under this key")
    return view
