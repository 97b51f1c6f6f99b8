"""The kiosk's HTTP client for the central server (``server/``): JSON over one keep-alive session.

Every call has a (connect, read) timeout and ends either in a plain dataclass or in one of:

``ServerUnavailable``  the request never reached the server (refused, DNS, connect timeout): safe
                       to retry or to fall back to offline mode.
``ServerTimeout``      the request was sent but no answer came (read timeout, connection dropped
                       mid-request). The OUTCOME IS UNKNOWN: the server may have acted. Callers must
                       not assume failure; for payments ask ``payment_status(key)`` (None = the POST
                       never arrived), for registrations re-send with the SAME idempotency key.
``BusinessError``      a 4xx with a code (``slot_full``, ``already_paid``, ``amount_mismatch``, ...):
                       terminal, retrying the same request gives the same answer.
``ServerError``        the base class; raised as such for 5xx and unreadable answers.

``KioskAuthError``     a 401 on a kiosk endpoint (``unsigned_request``, ``unknown_kiosk``,
                       ``kiosk_revoked``, ``stale_timestamp``, ``replayed_request``, ``bad_signature``)
                       or 403 ``kiosk_mismatch``: the kiosk is not enrolled, was revoked or its clock
                       is off. Retrying does not help; the screen says "call IT" (a BusinessError).

``tr_key`` on each error is the key the UI translates ("server.rejected.slot_full", ...). No
exception from requests or json escapes. The auth_code is never logged beyond its last 4 digits,
a phone number never beyond ``138****5678``, an ID number or a name never.

With a ``credential`` every request is signed (``sync/signing.py``); the server refuses unsigned
kiosk requests.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

import requests
from urllib3.exceptions import MaxRetryError, NewConnectionError

from sync.signing import KioskAuth, KioskCredential

logger = logging.getLogger(__name__)

API = "/api/v1"
FINAL_PAYMENT_STATES = frozenset({"SUCCESS", "FAILED", "REVERSED"})

T = TypeVar("T")


# -- errors ----------------------------------------------------------------------------------------


class ServerError(Exception):
    """Base of every client error; ``code`` for logs, ``tr_key`` for the screen."""

    tr_key = "server.error"

    def __init__(self, code: str, message: str = "", status: int | None = None) -> None:
        super().__init__(f"{code}: {message}" if message else code)
        self.code = code
        self.message = message
        self.status = status


class ServerUnavailable(ServerError):
    """Connection refused, DNS failure or connect timeout: the server never saw the request."""

    tr_key = "server.unavailable"


class ServerTimeout(ServerError):
    """Sent but unanswered: the outcome is UNKNOWN. Query by idempotency key before doing anything else."""

    tr_key = "server.timeout"


class BusinessError(ServerError):
    """The server refused the request (4xx) with a stable code such as ``slot_full``."""

    def __init__(self, code: str, message: str = "", status: int | None = None) -> None:
        super().__init__(code, message, status)
        self.tr_key = f"server.rejected.{code}"


# The server's answers to a request it cannot attribute to an active, enrolled kiosk.
KIOSK_AUTH_CODES = frozenset(
    {
        "unsigned_request",
        "unknown_kiosk",
        "kiosk_revoked",
        "stale_timestamp",
        "replayed_request",
        "bad_signature",
        "kiosk_mismatch",
    }
)


class KioskAuthError(BusinessError):
    """The server does not accept this kiosk's credential (not enrolled, revoked, clock off, ...).

    ``tr_key`` is ``server.auth.<code>`` (e.g. ``server.auth.kiosk_revoked``): "this kiosk is not
    enrolled / was revoked; please call IT". Logged as an error: it needs a person, not a retry.
    """

    def __init__(self, code: str, message: str = "", status: int | None = None) -> None:
        super().__init__(code, message, status)
        self.tr_key = f"server.auth.{code}"


# -- results ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Department:
    code: str
    name_zh: str
    name_en: str


@dataclass(frozen=True)
class Doctor:
    code: str
    name_zh: str
    name_en: str
    title_zh: str
    title_en: str
    fee_cents: int
    slots_left: int


@dataclass(frozen=True)
class Slot:
    slot_id: int
    date: str
    start: str
    end: str
    left: int


@dataclass(frozen=True)
class PatientRef:
    patient_id: int
    is_new: bool


@dataclass(frozen=True)
class PatientLookup:
    """Whether the server knows this ID number; ``filed``: the patient already completed a filing."""

    found: bool
    patient_id: int | None
    visit_card_no: str | None
    filed: bool


@dataclass(frozen=True)
class FiledPatient:
    patient_id: int
    visit_card_no: str
    is_new: bool  # False: the record existed (e.g. from a registration) and the filing completed it


@dataclass(frozen=True)
class FoundPatient:
    """``POST /patients/find``: masked values to show, never the full name or number."""

    found: bool
    patient_id: int | None = None
    name_masked: str = ""
    id_masked: str = ""
    visit_card_no: str | None = None


@dataclass(frozen=True)
class Registration:
    registration_id: int
    reg_no: str
    status: str  # unpaid | paid | cancelled
    amount_cents: int
    department_code: str
    department_name_zh: str
    department_name_en: str
    doctor_name_zh: str
    doctor_name_en: str
    doctor_title_zh: str
    doctor_title_en: str
    date: str
    start: str
    end: str
    replayed: bool = False  # True when the server answered a retry from its idempotency store


@dataclass(frozen=True)
class PaymentResult:
    idempotency_key: str
    status: str  # SUCCESS | PENDING | FAILED | REVERSED
    error_code: str | None
    message: str
    registration_status: str | None

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_PAYMENT_STATES


# ---- prepaid account (预交金): results of the account calls below (server/accounts/)


@dataclass(frozen=True)
class AccountEntry:
    entry_id: int
    kind: str  # top_up | bill_payment | refund
    amount_cents: int  # credits positive, debits negative
    balance_after_cents: int
    created_at: str
    bill_no: str | None
    channel: str | None  # top-ups: wechat | alipay


@dataclass(frozen=True)
class Account:
    patient_id: int
    balance_cents: int
    entries: tuple[AccountEntry, ...]  # newest first
    top_up_min_cents: int
    top_up_max_cents: int


@dataclass(frozen=True)
class TopUpResult:
    """A top-up payment; ``credited`` (and the new ``balance_cents``) once it is SUCCESS."""

    idempotency_key: str
    status: str  # SUCCESS | PENDING | FAILED | REVERSED
    error_code: str | None
    message: str
    patient_id: int
    amount_cents: int
    channel: str
    credited: bool
    balance_cents: int

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_PAYMENT_STATES


@dataclass(frozen=True)
class AccountPayment:
    """A bill paid from the prepaid account: always final (no provider involved)."""

    idempotency_key: str
    bill_id: int
    bill_no: str
    bill_ids: tuple[int, ...]  # every bill paid: the group locked under the key
    bill_status: str
    amount_cents: int
    insurance_cents: int | None
    balance_cents: int
    replayed: bool = False


# ---- appointments (预约取号) and reports (报告打印): results of the calls below (server/appointments, server/reports)


@dataclass(frozen=True)
class Appointment:
    """A booked visit; ``checkin`` is what checking in would answer now (open, too_early, too_late,
    done, closed); after check-in ``registration_id``/``reg_no``/``queue_no``/``paid`` are set."""

    appointment_id: int
    appt_no: str
    status: str  # booked | checked_in | cancelled | no_show
    booked_via: str
    prepaid: bool
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
    checkin: str
    checkin_opens: str  # local YYYY-MM-DDTHH:MM
    checkin_closes: str
    registration_id: int | None
    reg_no: str | None
    queue_no: int | None
    paid: bool | None


@dataclass(frozen=True)
class CheckIn:
    """A booking turned into a registration: pay ``registration`` with ``pay`` unless ``paid``."""

    appointment_id: int
    appt_no: str
    queue_no: int
    paid: bool
    registration: Registration
    replayed: bool = False


@dataclass(frozen=True)
class Report:
    report_id: int
    report_no: str
    kind: str  # lab | imaging
    department_code: str | None
    department_name_zh: str | None
    department_name_en: str | None
    title_zh: str
    title_en: str
    ordered_at: str
    status: str  # pending | ready
    ready_at: str | None
    print_count: int  # copies that count (claimed or printed, not failed at the printer)
    last_printed_at: str | None


@dataclass(frozen=True)
class LabRow:
    item_zh: str
    item_en: str
    result: str
    unit: str
    range: str
    flag: str  # "" | H | L


@dataclass(frozen=True)
class ReportContent:
    specimen_zh: str = ""
    specimen_en: str = ""
    rows: tuple[LabRow, ...] = ()
    exam_zh: str = ""
    exam_en: str = ""
    findings_zh: str = ""
    findings_en: str = ""
    impression_zh: str = ""
    impression_en: str = ""
    signed_by_zh: str = ""
    signed_by_en: str = ""


@dataclass(frozen=True)
class ReportPrint:
    """One copy of a report: claimed before printing, then ``printed`` or ``failed``."""

    key: str
    print_id: int
    report_id: int
    kiosk_id: str
    copy_kind: str  # first | reprint
    copy_no: int
    reprint_reason: str | None
    status: str  # claimed | printed | failed
    error_code: str | None
    claimed_at: str
    finished_at: str | None


@dataclass(frozen=True)
class ReportTicket:
    """A claimed copy with everything to put on paper."""

    copy: ReportPrint
    report: Report
    content: ReportContent
    replayed: bool = False


def _report_ticket(body: Any, replayed: bool) -> ReportTicket:
    if not isinstance(body, dict) or not isinstance(body.get("report"), dict):
        raise ServerError("bad_response", "the print answer has no report")
    report = body["report"]
    content = report.get("content")
    if not isinstance(content, dict) or not isinstance(content.get("rows", []), list):
        raise ServerError("bad_response", "the report has no readable content")
    rows = tuple(_list(LabRow, content.get("rows", [])))
    return ReportTicket(
        copy=_build(ReportPrint, body),
        report=_build(Report, report),
        content=_build(ReportContent, content, rows=rows),
        replayed=replayed,
    )


# ---- refunds (退费) and 退号: results of the calls below (server/refunds/)

FINAL_REFUND_STATES = frozenset({"refunded", "failed"})


@dataclass(frozen=True)
class RefundResult:
    """A refund's state: ``requested`` / ``pending`` (poll ``refund_status``), ``refunded`` (the
    money is on its way back to the account that paid), ``failed`` (staff refund it by hand)."""

    refund_key: str
    payment_key: str
    registration_id: int | None
    status: str
    amount_cents: int
    payment_amount_cents: int
    refundable_cents: int  # what is left to refund of the payment
    channel: str  # wechat | alipay: where the money goes back
    reason: str
    requested_by: str
    approved_by: str | None
    error_code: str | None
    message: str
    created_at: str
    refunded_at: str | None
    replayed: bool = False

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_REFUND_STATES


@dataclass(frozen=True)
class RefundableRegistration:
    """A paid registration from today on; ``refundable``: 退号 is possible at a kiosk now."""

    registration: Registration
    refundable: bool
    blocked_reason: str | None  # refund_window_closed | already_checked_in | payment_not_found | ...
    refund_deadline: str  # hospital wall time, YYYY-MM-DDTHH:MM
    refundable_cents: int
    channel: str | None


@dataclass(frozen=True)
class RegistrationRefund:
    registration: Registration  # status cancelled: the place went back to the slot
    refund: RefundResult


def _refund(body: Any, replayed: bool = False) -> RefundResult:
    return _build(RefundResult, body, replayed=replayed)


# ---- bill payment (缴费): bills, lock groups and kiosk-shown QR payments (server/bills/, server/payments/qr.py)


@dataclass(frozen=True)
class BillItem:
    code: str
    name_zh: str
    name_en: str
    category: str  # the insurer's: drug_a, drug_b, drug_c, exam, treatment, material
    quantity: int
    unit_cents: int
    amount_cents: int


@dataclass(frozen=True)
class Bill:
    """An outpatient bill (a prescription, lab or imaging order...). ``version`` goes back with the
    lock: a bill changed since it was listed is refused (``bill_changed``)."""

    bill_id: int
    bill_no: str
    patient_id: int
    kind: str  # prescription | lab | imaging | treatment
    title_zh: str
    title_en: str
    total_cents: int
    status: str  # unpaid | locked | paid | cancelled
    version: int
    locked_until: str | None
    payment_key: str | None
    insurance_scheme: str | None
    insurance_cents: int | None
    self_pay_cents: int | None
    items: tuple[BillItem, ...] = ()


@dataclass(frozen=True)
class BillLock:
    """Bills locked under one payment key and pre-settled: pay ``self_pay_cents`` once for all.

    ``status``: ``locked`` (pay now, before ``locked_until``), ``paid`` (fully covered by the
    insurance: nothing to pay), ``released`` (given up), ``presettling`` (ask again).
    """

    payment_key: str
    patient_id: int
    status: str
    locked_until: str | None
    insurance_scheme: str | None
    total_cents: int
    insurance_cents: int | None
    self_pay_cents: int | None
    bills: tuple[Bill, ...] = ()
    replayed: bool = False


@dataclass(frozen=True)
class QrPayment:
    """A kiosk-shown QR payment: render ``code_url`` as a QR code until ``expires_at`` (server time).

    ``qr_state`` while PENDING: ``awaiting_scan``, ``scanned`` (the patient confirms on the phone),
    ``closing`` (a cancel is under way: keep polling). Final: ``status`` SUCCESS / FAILED (``error_code``
    USER_CANCELLED, QR_EXPIRED, QR_UNAVAILABLE, ...) / REVERSED.
    """

    idempotency_key: str
    status: str
    error_code: str | None
    message: str
    channel: str
    amount_cents: int
    bill_id: int | None = None
    bill_status: str | None = None
    registration_id: int | None = None
    registration_status: str | None = None
    qr_state: str | None = None
    code_url: str | None = None
    expires_at: str | None = None

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_PAYMENT_STATES


def _bill(data: Any) -> Bill:
    items = data.get("items") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise ServerError("bad_response", "a bill without its items")
    return _build(Bill, data, items=tuple(_build(BillItem, i) for i in items))


def _bill_lock(data: Any, replayed: bool = False) -> BillLock:
    bills = data.get("bills") if isinstance(data, dict) else None
    if not isinstance(bills, list):
        raise ServerError("bad_response", "a bill lock without its bills")
    return _build(BillLock, data, bills=tuple(_bill(b) for b in bills), replayed=replayed)


# ---- cashier window (收费窗口): results of the cashier calls below (server/cashier/)


@dataclass(frozen=True)
class CashierShift:
    """A cashier's shift at this window; ``token`` goes with every cashier call (never logged)."""

    shift_id: int
    staff_no: str
    staff_name: str
    supervisor: bool
    kiosk_id: str
    window_label: str
    status: str  # open | closed
    opened_at: str
    closed_at: str | None
    token_expires_at: str
    token: str = dataclasses.field(default="", repr=False)
    resumed: bool = False  # True: the staff member's open shift at this window, signed in again


@dataclass(frozen=True)
class CashierPatient:
    """The patient at the window, masked (张*三, 110***********1234)."""

    patient_id: int
    visit_card_no: str
    name_masked: str
    id_masked: str
    sex: str
    birth_year: int


@dataclass(frozen=True)
class RecentPayment:
    """A paid payment of the patient (last 30 days): what a refund can name."""

    payment_key: str
    channel: str  # wechat | alipay | cash | card | ...
    amount_cents: int
    paid_at: str
    bill_id: int | None
    registration_id: int | None
    title_zh: str
    title_en: str


@dataclass(frozen=True)
class CashierItems:
    patient: CashierPatient
    bills: tuple[Bill, ...]
    registrations: tuple[Registration, ...]  # unpaid
    recent_payments: tuple[RecentPayment, ...]


@dataclass(frozen=True)
class CashierQuote:
    """The selection locked and pre-settled under ``key``: take ``self_pay_cents`` now."""

    key: str
    patient_id: int
    bills_status: str | None  # locked | paid (fully covered) | ... ; None without bills
    locked_until: str | None
    bills: tuple[Bill, ...]
    registrations: tuple[Registration, ...]
    insurance_cents: int
    bills_self_pay_cents: int
    self_pay_cents: int


@dataclass(frozen=True)
class Settlement:
    """Money taken at the window under ``key``. PENDING (a code payment being resolved): poll
    ``cashier_settlement(key)``; SUCCESS / FAILED / REVERSED are final."""

    key: str
    shift_id: int
    patient_id: int
    channel: str  # code | cash | card
    bill_ids: tuple[int, ...]
    registration_ids: tuple[int, ...]
    amount_cents: int
    tendered_cents: int | None
    change_cents: int | None
    pos_ref: str | None
    status: str
    error_code: str | None
    created_at: str
    replayed: bool = False

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_PAYMENT_STATES


@dataclass(frozen=True)
class CashierRefund:
    """A supervisor-approved refund at the window: requested | pending (poll) | refunded | failed."""

    refund_key: str
    shift_id: int
    payment_key: str
    channel: str
    amount_cents: int
    reason: str
    approved_by: str  # the supervisor's staff number
    pos_ref: str | None
    status: str
    error_code: str | None
    created_at: str
    replayed: bool = False

    @property
    def is_final(self) -> bool:
        return self.status in ("refunded", "failed")


@dataclass(frozen=True)
class ChannelTotal:
    count: int
    amount_cents: int


@dataclass(frozen=True)
class ShiftMismatch:
    """One difference the reconciliation found (``kind``: missing_on_server, missing_on_kiosk,
    amount_differs, channel_differs, status_differs, payment_missing, payment_amount, unresolved)."""

    kind: str
    key: str
    detail: str | None = None


@dataclass(frozen=True)
class ShiftReport:
    """The end-of-shift report; ``raw`` is the server's whole answer, for the exported file."""

    shift: CashierShift
    generated_at: str
    totals: dict[str, ChannelTotal]  # code | cash | card
    refunds: dict[str, ChannelTotal]  # by channel
    refund_count: int
    refund_cents: int
    transaction_count: int
    taken_cents: int
    net_cents: int
    cash_expected_cents: int
    cash_counted_cents: int | None
    cash_difference_cents: int | None
    kiosk_reported: bool
    mismatches: tuple[ShiftMismatch, ...]
    ok: bool
    raw: dict[str, Any] = dataclasses.field(default_factory=dict, repr=False, compare=False)


def _cashier_items(data: Any) -> CashierItems:
    if not isinstance(data, dict):
        raise ServerError("bad_response", "the cashier lookup is not an object")
    return CashierItems(
        patient=_build(CashierPatient, data.get("patient")),
        bills=tuple(_bill(b) for b in data.get("bills") or ()),
        registrations=tuple(_build(Registration, r) for r in data.get("registrations") or ()),
        recent_payments=tuple(_build(RecentPayment, p) for p in data.get("recent_payments") or ()),
    )


def _cashier_quote(data: Any) -> CashierQuote:
    if not isinstance(data, dict):
        raise ServerError("bad_response", "the cashier quote is not an object")
    return _build(
        CashierQuote,
        data,
        bills=tuple(_bill(b) for b in data.get("bills") or ()),
        registrations=tuple(_build(Registration, r) for r in data.get("registrations") or ()),
    )


def _settlement(data: Any, replayed: bool = False) -> Settlement:
    if not isinstance(data, dict):
        raise ServerError("bad_response", "the settlement is not an object")
    return _build(
        Settlement,
        data,
        bill_ids=tuple(data.get("bill_ids") or ()),
        registration_ids=tuple(data.get("registration_ids") or ()),
        replayed=replayed,
    )


def _shift_report(data: Any) -> ShiftReport:
    try:
        totals = {c: _build(ChannelTotal, t) for c, t in data["totals"].items()}
        refunds = data["refunds"]
        cash = data["cash"]
        recon = data["reconciliation"]
        return ShiftReport(
            shift=_build(CashierShift, data["shift"]),
            generated_at=data["generated_at"],
            totals=totals,
            refunds={c: _build(ChannelTotal, t) for c, t in refunds["by_channel"].items()},
            refund_count=int(refunds["count"]),
            refund_cents=int(refunds["amount_cents"]),
            transaction_count=int(data["transaction_count"]),
            taken_cents=int(data["taken_cents"]),
            net_cents=int(data["net_cents"]),
            cash_expected_cents=int(cash["expected_cents"]),
            cash_counted_cents=cash["counted_cents"],
            cash_difference_cents=cash["difference_cents"],
            kiosk_reported=bool(recon["kiosk_reported"]),
            mismatches=tuple(
                ShiftMismatch(str(m["kind"]), str(m["key"]), m.get("detail")) for m in recon["mismatches"]
            ),
            ok=bool(recon["ok"]),
            raw=dict(data),
        )
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise ServerError("bad_response", f"unexpected shift report: {exc!r}") from None


def mask_auth_code(auth_code: str) -> str:
    return "*" * max(len(auth_code) - 4, 0) + auth_code[-4:]


def mask_phone(phone: str) -> str:
    """``138****5678``, as on the slip and in the server's records."""
    if len(phone) < 8:
        return "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]


def _never_connected(exc: requests.ConnectionError) -> bool:
    """True when the TCP connection was never established (so the server cannot have acted)."""
    reason = exc.args[0] if exc.args else None
    if isinstance(reason, MaxRetryError):
        reason = reason.reason
    return isinstance(reason, NewConnectionError)  # NameResolutionError is a subclass


def _build(cls: type[T], data: Any, **extra: Any) -> T:
    """Dataclass from a JSON object; a missing field or a wrong shape is a bad server answer."""
    values = dict(extra)
    try:
        for f in dataclasses.fields(cls):  # type: ignore[arg-type]
            if f.name in values:
                continue
            if f.name in data or f.default is dataclasses.MISSING:
                values[f.name] = data[f.name]
        return cls(**values)
    except (KeyError, TypeError) as exc:
        raise ServerError("bad_response", f"unexpected {cls.__name__} answer: {exc!r}") from None


def _list(cls: type[T], data: Any) -> list[T]:
    if not isinstance(data, list):
        raise ServerError("bad_response", f"expected a list of {cls.__name__}")
    return [_build(cls, item) for item in data]


def _day(value: date | str) -> str:
    return value.isoformat() if isinstance(value, date) else value


class ServerClient:
    """Thin, blocking, typed access to the server API. Not thread-safe: one per worker thread."""

    def __init__(
        self,
        base_url: str,
        *,
        kiosk_id: str,
        connect_timeout: float = 3.05,
        read_timeout: float = 10.0,
        pay_read_timeout: float = 15.0,
        credential: KioskCredential | None = None,
    ) -> None:
        # pay_read_timeout exceeds the server's own provider read timeout (10 s), so a slow
        # provider still gives the kiosk an answer (PENDING) instead of an unknown outcome.
        self.base_url = base_url.rstrip("/")
        self.kiosk_id = kiosk_id
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.pay_read_timeout = pay_read_timeout
        self._session = requests.Session()
        self._session.headers.update({"Accept": "application/json", "User-Agent": f"hospital-kiosk/{kiosk_id}"})
        self.credential = credential
        # Server time minus kiosk time, from the last answer's Date header: the server's clock
        # decides, so requests are signed with corrected time and the offset is reported.
        self.clock_offset_s: float | None = None
        self.last_headers: Mapping[str, str] = {}
        if credential is not None:
            if credential.kiosk_id != kiosk_id:
                logger.error("the credential is for kiosk %s, this kiosk is %s", credential.kiosk_id, kiosk_id)
            self._session.auth = KioskAuth(credential.kiosk_id, credential.secret, clock=self.server_now)
        else:
            logger.error("no kiosk credential: the server will refuse this kiosk's requests until it is enrolled")

    def close(self) -> None:
        self._session.close()

    def server_now(self) -> float:
        """The server's Unix time as best known: the kiosk's clock corrected by the measured offset."""
        return time.time() + (self.clock_offset_s or 0.0)

    def _observe_date(self, resp: requests.Response, sent_at: float, received_at: float) -> None:
        header = resp.headers.get("Date")
        if not header:
            return
        try:
            server = parsedate_to_datetime(header).timestamp()
        except (TypeError, ValueError):
            return
        # Date has whole seconds and is stamped somewhere between send and receive; +0.5 centres
        # the truncation, the midpoint centres the network delay.
        offset = server + 0.5 - (sent_at + received_at) / 2
        if self.clock_offset_s is None or abs(offset - self.clock_offset_s) > 1.0:
            if abs(offset) > 2.0:
                logger.warning("kiosk clock is %.1f s off the server's; using the server's time", -offset)
            self.clock_offset_s = offset

    def __enter__(self) -> ServerClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- transport ---------------------------------------------------------------------------------

    def _request(
        self,
        method: str,
        path: str,
        *,
        json: dict[str, Any] | None = None,
        params: dict[str, str] | None = None,
        read_timeout: float | None = None,
        not_found_ok: bool = False,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, Any]:
        url = self.base_url + path
        timeout = (self.connect_timeout, read_timeout or self.read_timeout)
        started, sent_at = time.monotonic(), time.time()
        try:
            resp = self._session.request(
                method, url, json=json, params=params, timeout=timeout, headers=headers
            )
        except requests.ConnectTimeout:
            raise ServerUnavailable("unavailable", f"connect timeout to {self.base_url}") from None
        except requests.ReadTimeout:
            logger.warning("%s %s: no answer in %.1f s, outcome unknown", method, path, timeout[1])
            raise ServerTimeout("timeout", f"no answer within {timeout[1]} s") from None
        except requests.ConnectionError as exc:
            if _never_connected(exc):
                raise ServerUnavailable("unavailable", f"cannot connect to {self.base_url}") from None
            logger.warning("%s %s: connection lost mid-request, outcome unknown", method, path)
            raise ServerTimeout("connection_lost", "the connection dropped before the answer") from None
        except requests.exceptions.ChunkedEncodingError:
            # the answer was cut off mid-body: the server did act, we just can't read what it said
            raise ServerTimeout("connection_lost", "the answer was cut off") from None
        except requests.RequestException as exc:
            raise ServerError("request_failed", type(exc).__name__) from None
        elapsed = time.monotonic() - started
        self._observe_date(resp, sent_at, time.time())
        logger.debug("%s %s -> %d in %.0f ms", method, path, resp.status_code, elapsed * 1000)
        self.last_headers = resp.headers
        if resp.status_code == 304:
            return 304, None

        try:
            body: Any = resp.json()
        except ValueError:
            body = None
        if resp.status_code < 300:
            if body is None:
                raise ServerError("bad_response", f"HTTP {resp.status_code} without a JSON body", resp.status_code)
            return resp.status_code, body
        error = body.get("error") if isinstance(body, dict) else None
        code = error.get("code") if isinstance(error, dict) else None
        message = error.get("message", "") if isinstance(error, dict) else ""
        if resp.status_code == 404 and not_found_ok and code == "not_found":
            return 404, None
        if resp.status_code in (401, 403) and code in KIOSK_AUTH_CODES:
            logger.error("%s %s refused: %d %s (%s)", method, path, resp.status_code, code, message)
            raise KioskAuthError(str(code), str(message), resp.status_code)
        if 400 <= resp.status_code < 500 and isinstance(code, str):
            logger.info("%s %s rejected: %d %s", method, path, resp.status_code, code)
            raise BusinessError(code, str(message), resp.status_code)
        logger.warning("%s %s failed: HTTP %d %s", method, path, resp.status_code, code or "(no JSON error)")
        raise ServerError(code or f"http_{resp.status_code}", str(message or resp.reason), resp.status_code)

    # -- API ---------------------------------------------------------------------------------------

    def health(self) -> bool:
        """True when the server answers ``/health`` with status ok; never raises."""
        try:
            _, body = self._request("GET", "/health")
        except ServerError:
            return False
        return isinstance(body, dict) and body.get("status") == "ok"

    def departments(self) -> list[Department]:
        return _list(Department, self._request("GET", f"{API}/departments")[1])

    def doctors(self, dept_code: str, date: date | str) -> list[Doctor]:
        _, body = self._request("GET", f"{API}/departments/{dept_code}/doctors", params={"date": _day(date)})
        return _list(Doctor, body)

    def slots(self, doctor_code: str, date: date | str) -> list[Slot]:
        _, body = self._request("GET", f"{API}/doctors/{doctor_code}/slots", params={"date": _day(date)})
        return _list(Slot, body)

    def identify(self, id_type: str, id_number: str, name: str, sex: str, birth: date | str) -> PatientRef:
        payload = {"id_type": id_type, "id_number": id_number, "name": name, "sex": sex, "birth": _day(birth)}
        _, body = self._request("POST", f"{API}/patients/identify", json=payload)
        return _build(PatientRef, body)

    def lookup_patient(self, id_type: str, id_number: str) -> PatientLookup:
        """Whether a patient with this ID number exists and has filed; the server creates nothing."""
        _, body = self._request("POST", f"{API}/patients/lookup", json={"id_type": id_type, "id_number": id_number})
        return _build(PatientLookup, body)

    def find_patient(self, method: str, value: str) -> FoundPatient:
        """The patient behind a visit-card number, an e-voucher token or a known id (creates nothing)."""
        _, body = self._request("POST", f"{API}/patients/find", json={"method": method, "value": value})
        return _build(FoundPatient, body)

    def file_patient(
        self,
        key: str,
        id_type: str,
        id_number: str,
        name: str,
        sex: str,
        birth: date | str,
        phone: str,
        verification: str,
        face_consent: bool,
    ) -> FiledPatient:
        """File a first-time patient (or complete an existing record). Safe to repeat with the same
        ``key`` after a ServerTimeout: the server replays its first answer. ``verification`` is
        ``face``, ``staff`` or ``card``; a bad phone is BusinessError ``invalid_phone``."""
        payload = {
            "idempotency_key": key,
            "id_type": id_type,
            "id_number": id_number,
            "name": name,
            "sex": sex,
            "birth": _day(birth),
            "phone": phone,
            "verification": verification,
            "face_consent": face_consent,
        }
        logger.info("filing %s: phone %s, verified by %s", key, mask_phone(phone), verification)
        status, body = self._request("POST", f"{API}/patients/file", json=payload)
        filed = _build(FiledPatient, body)
        replayed = " (replayed)" if status == 200 else ""
        logger.info("filing %s: patient_id=%d card %s%s", key, filed.patient_id, filed.visit_card_no, replayed)
        return filed

    def create_registration(self, key: str, patient_id: int, slot_id: int) -> Registration:
        """Hold a slot. Safe to repeat with the same ``key`` after a ServerTimeout."""
        payload = {"idempotency_key": key, "patient_id": patient_id, "slot_id": slot_id}
        status, body = self._request("POST", f"{API}/registrations", json=payload)
        return _build(Registration, body, replayed=status == 200)

    def cancel_registration(self, reg_id: int) -> None:
        """Release an unpaid registration's slot; cancelling twice is fine."""
        self._request("POST", f"{API}/registrations/{reg_id}/cancel")

    def pay(self, key: str, registration_id: int, amount_cents: int, auth_code: str) -> PaymentResult:
        """Charge a scanned payment code. PENDING means: poll ``payment_status(key)`` until final.

        After a ServerTimeout, never call ``pay`` with a NEW key for the same scan: query this key.
        """
        payload = {
            "idempotency_key": key,
            "registration_id": registration_id,
            "amount_cents": amount_cents,
            "auth_code": auth_code,
            "kiosk_id": self.kiosk_id,
        }
        logger.info("pay registration %d, %d cents, code %s", registration_id, amount_cents, mask_auth_code(auth_code))
        _, body = self._request("POST", f"{API}/payments", json=payload, read_timeout=self.pay_read_timeout)
        result = _build(PaymentResult, body)
        logger.info("payment %s: %s %s", key, result.status, result.error_code or "")
        return result

    def payment_status(self, key: str) -> PaymentResult | None:
        """The payment's current state, or None when the server never received that key."""
        _, body = self._request("GET", f"{API}/payments/{key}", not_found_ok=True)
        return None if body is None else _build(PaymentResult, body)

    # ---- prepaid account (预交金): server/accounts/

    def account(self, patient_id: int) -> Account:
        """The balance and the latest entries (a patient who never topped up has balance 0)."""
        _, body = self._request("GET", f"{API}/patients/{patient_id}/account")
        if not isinstance(body, dict):
            raise ServerError("bad_response", "the account is not an object")
        entries = tuple(_list(AccountEntry, body.get("entries")))
        return _build(Account, body, entries=entries)

    def top_up(self, key: str, patient_id: int, amount_cents: int, auth_code: str) -> TopUpResult:
        """Top the account up with a scanned payment code. PENDING: poll ``top_up_status(key)``.

        After a ServerTimeout, never top up with a NEW key for the same scan: query this key.
        Refused with BusinessError ``amount_out_of_range`` outside the server's limits.
        """
        payload = {
            "idempotency_key": key,
            "patient_id": patient_id,
            "amount_cents": amount_cents,
            "auth_code": auth_code,
            "kiosk_id": self.kiosk_id,
        }
        logger.info("top-up %s: %d cents, code %s", key, amount_cents, mask_auth_code(auth_code))
        status, body = self._request(
            "POST", f"{API}/accounts/top-ups", json=payload, read_timeout=self.pay_read_timeout
        )
        result = _build(TopUpResult, body)
        replayed = " (replayed)" if status == 200 else ""
        logger.info("top-up %s: %s %s%s", key, result.status, result.error_code or "", replayed)
        return result

    def top_up_status(self, key: str) -> TopUpResult | None:
        """The top-up's current state, or None when the server never received that key."""
        _, body = self._request("GET", f"{API}/accounts/top-ups/{key}", not_found_ok=True)
        return None if body is None else _build(TopUpResult, body)

    def pay_bill_from_account(
        self,
        key: str,
        bill_id: int,
        patient_id: int,
        version: int,
        verification: str,
        *,
        insurance_scheme: str | None = None,
    ) -> AccountPayment:
        """Pay a bill's self-pay share from the prepaid account; ``key`` is the bill's lock key.

        The bill may already be locked under ``key`` (its pre-settlement is then used as it is);
        otherwise the server locks it first, with ``insurance_scheme``. ``verification`` is how the
        kiosk confirmed the account holder: ``face``, ``pin`` or ``staff``. Final when it returns.
        Safe to repeat with the same ``key`` after a ServerTimeout (the server replays its answer).
        BusinessError ``insufficient_balance`` (409) changes nothing: the lock stays, so the same
        key can still pay by code; other codes are the bill's (``already_paid``, ``bill_changed``...).
        """
        payload = {
            "idempotency_key": key,
            "patient_id": patient_id,
            "version": version,
            "verification": verification,
            "insurance_scheme": insurance_scheme,
            "kiosk_id": self.kiosk_id,
        }
        status, body = self._request("POST", f"{API}/bills/{bill_id}/pay-from-account", json=payload)
        if not isinstance(body, dict) or not isinstance(body.get("bill_ids"), list):
            raise ServerError("bad_response", "the account payment has no bill list")
        paid = _build(AccountPayment, body, bill_ids=tuple(body["bill_ids"]), replayed=status == 200)
        logger.info(
            "bill %d paid from the account under %s: %d cents, balance %d%s",
            bill_id,
            key,
            paid.amount_cents,
            paid.balance_cents,
            " (replayed)" if paid.replayed else "",
        )
        return paid

    # ---- appointments (预约取号) and reports (报告打印): server/appointments/, server/reports/

    def appointments(self, patient_id: int, day: date | str) -> list[Appointment]:
        """The patient's bookings on ``day`` (every status), in time order."""
        _, body = self._request("GET", f"{API}/patients/{patient_id}/appointments", params={"date": _day(day)})
        return _list(Appointment, body)

    def check_in(self, key: str, appointment_id: int, patient_id: int) -> CheckIn:
        """Turn a booking into a registration. Safe to repeat with the same ``key`` after a
        ServerTimeout: the same registration comes back, with its current payment state.
        Refusals (BusinessError): too_early, too_late, appointment_cancelled, appointment_no_show,
        appointment_checked_in, appointment_not_found."""
        payload = {"key": key, "kiosk_id": self.kiosk_id, "patient_id": patient_id}
        status, body = self._request("POST", f"{API}/appointments/{appointment_id}/check-in", json=payload)
        if not isinstance(body, dict):
            raise ServerError("bad_response", "the check-in answer is not an object")
        checked = CheckIn(
            appointment_id=int(body.get("appointment_id", 0)),
            appt_no=str(body.get("appt_no", "")),
            queue_no=int(body.get("queue_no", 0)),
            paid=bool(body.get("paid")),
            registration=_build(Registration, body, replayed=status == 200),
            replayed=status == 200,
        )
        if checked.appointment_id != appointment_id or checked.queue_no <= 0:
            raise ServerError("bad_response", "the check-in answer names another booking")
        logger.info(
            "appointment %d checked in under %s: registration %d, queue %d, %s%s",
            appointment_id,
            key,
            checked.registration.registration_id,
            checked.queue_no,
            "paid" if checked.paid else "unpaid",
            " (replayed)" if checked.replayed else "",
        )
        return checked

    def reports(self, patient_id: int) -> list[Report]:
        """The patient's lab and imaging reports, pending ones included, newest first."""
        return _list(Report, self._request("GET", f"{API}/patients/{patient_id}/reports")[1])

    def claim_report_print(
        self, key: str, report_id: int, patient_id: int, reprint_reason: str | None = None
    ) -> ReportTicket:
        """Claim a copy before printing it; the answer carries what to print. Safe to repeat with
        the same ``key`` (never counts twice). BusinessError ``already_printed`` once a copy counts
        and no reason is given; ``report_not_ready`` for a pending report."""
        payload = {"key": key, "kiosk_id": self.kiosk_id, "patient_id": patient_id, "reprint_reason": reprint_reason}
        status, body = self._request("POST", f"{API}/reports/{report_id}/print", json=payload)
        ticket = _report_ticket(body, status == 200)
        logger.info(
            "report %d: copy %d (%s) claimed under %s%s",
            report_id,
            ticket.copy.copy_no,
            ticket.copy.copy_kind,
            key,
            " (replayed)" if ticket.replayed else "",
        )
        return ticket

    def report_print_outcome(self, key: str, printed: bool, error_code: str | None = None) -> ReportPrint:
        """Tell the server what the printer did with a claimed copy; repeating it is harmless.
        A failed copy stops counting, so the patient may print it again without a reason."""
        payload = {"printed": printed, "error_code": None if printed else error_code}
        _, body = self._request("POST", f"{API}/reports/prints/{key}/outcome", json=payload)
        return _build(ReportPrint, body)

    # ---- refunds (退费) and 退号: server/refunds/

    def refund_payment(
        self,
        refund_key: str,
        payment_key: str,
        amount_cents: int,
        reason: str,
        approved_by: str | None = None,
    ) -> RefundResult:
        """Refund part or all of a paid payment to the account that paid. ``pending``: poll
        ``refund_status(refund_key)``. After a ServerTimeout, ask ``refund_status`` (None = the
        request never arrived) or repeat with the SAME key: never a new key for the same refund.
        BusinessError codes: payment_not_found, payment_not_paid, refund_exceeds_refundable,
        refund_channel_unsupported, idempotency_key_reused."""
        payload = {
            "refund_key": refund_key,
            "amount_cents": amount_cents,
            "reason": reason,
            "kiosk_id": self.kiosk_id,
            "approved_by": approved_by,
        }
        logger.info("refund %s of payment %s: %d cents", refund_key, payment_key, amount_cents)
        status, body = self._request(
            "POST", f"{API}/payments/{payment_key}/refunds", json=payload, read_timeout=self.pay_read_timeout
        )
        result = _refund(body, status == 200)
        logger.info("refund %s: %s %s", refund_key, result.status, result.error_code or "")
        return result

    def refund_status(self, refund_key: str) -> RefundResult | None:
        """The refund's current state, or None when the server never received that key."""
        _, body = self._request("GET", f"{API}/refunds/{refund_key}", not_found_ok=True)
        return None if body is None else _refund(body)

    def refundable_registrations(self, patient_id: int) -> list[RefundableRegistration]:
        """The patient's paid registrations from today on, each saying whether 退号 is possible now."""
        _, body = self._request("GET", f"{API}/patients/{patient_id}/refundable-registrations")
        if not isinstance(body, list):
            raise ServerError("bad_response", "expected a list of registrations")
        return [_build(RefundableRegistration, item, registration=_build(Registration, item)) for item in body]

    def refund_registration(self, refund_key: str, registration_id: int, patient_id: int) -> RegistrationRefund:
        """退号: cancel the paid registration, give its place back and refund the fee, in the window.
        Safe to repeat with the same key after a ServerTimeout. BusinessError codes:
        refund_window_closed, already_checked_in, registration_cancelled, registration_not_paid,
        registration_not_found, payment_not_found, nothing_to_refund."""
        payload = {"refund_key": refund_key, "kiosk_id": self.kiosk_id, "patient_id": patient_id}
        status, body = self._request(
            "POST",
            f"{API}/registrations/{registration_id}/refund",
            json=payload,
            read_timeout=self.pay_read_timeout,
        )
        if not isinstance(body, dict):
            raise ServerError("bad_response", "the refund answer is not an object")
        answer = RegistrationRefund(
            registration=_build(Registration, body.get("registration"), replayed=status == 200),
            refund=_refund(body.get("refund"), status == 200),
        )
        logger.info("退号 %s of registration %d: refund %s", refund_key, registration_id, answer.refund.status)
        return answer

    # ---- bill payment (缴费): server/bills/, server/payments/qr.py

    def list_bills(self, patient_id: int) -> list[Bill]:
        """The patient's open bills (unpaid, or locked by a payment in progress)."""
        _, body = self._request("GET", f"{API}/patients/{patient_id}/bills")
        if not isinstance(body, list):
            raise ServerError("bad_response", "expected a list of bills")
        return [_bill(b) for b in body]

    def lock_bills(
        self, key: str, patient_id: int, bills: Sequence[tuple[int, int]], insurance_scheme: str | None
    ) -> BillLock:
        """Lock ``bills`` ((bill_id, version) pairs as listed) under ``key`` for ONE payment of their
        summed self-pay share, all or none, pre-settled with the insurer. Safe to repeat with the same
        key after a ServerTimeout. BusinessError codes: already_paid, bill_changed, bill_locked,
        bill_cancelled, bill_not_found, lock_released, idempotency_key_reused; ServerError 502
        insurance_unavailable (nothing stays locked)."""
        payload = {
            "payment_key": key,
            "patient_id": patient_id,
            "bills": [{"bill_id": b, "version": v} for b, v in bills],
            "insurance_scheme": insurance_scheme,
            "kiosk_id": self.kiosk_id,
        }
        status, body = self._request("POST", f"{API}/bills/lock", json=payload)
        lock = _bill_lock(body, status == 200)
        ids = [b for b, _ in bills]
        logger.info("bills %s locked under %s: %s, self-pay %s", ids, key, lock.status, lock.self_pay_cents)
        return lock

    def bill_lock(self, key: str) -> BillLock | None:
        """The lock group of ``key``; None when that key never locked anything."""
        try:
            _, body = self._request("GET", f"{API}/bills/locks/{key}")
        except BusinessError as err:
            if err.code == "lock_not_found":
                return None
            raise
        return _bill_lock(body)

    def lock_bill(self, key: str, patient_id: int, bill_id: int, version: int, insurance_scheme: str | None) -> Bill:
        """One bill: ``lock_bills`` with a single bill, answered as the bill."""
        return self.lock_bills(key, patient_id, [(bill_id, version)], insurance_scheme).bills[0]

    def unlock_bills(self, key: str) -> BillLock:
        """Give the lock group up (the patient cancelled); BusinessError payment_pending while a
        payment under the key is unresolved."""
        _, body = self._request("POST", f"{API}/bills/unlock", json={"payment_key": key})
        return _bill_lock(body)

    def unlock_bill(self, bill_id: int, key: str) -> Bill:
        """Give the bill's lock (its whole group under ``key``) up."""
        _, body = self._request("POST", f"{API}/bills/{bill_id}/unlock", json={"payment_key": key})
        return _bill(body)

    def pay_bill(self, key: str, bill_id: int, amount_cents: int, auth_code: str) -> PaymentResult:
        """Charge a scanned payment code for the bills locked under ``key`` (``bill_id``: any of them).
        PENDING: poll ``payment_status(key)``. After a ServerTimeout query this key, never pay anew."""
        payload = {
            "idempotency_key": key,
            "bill_id": bill_id,
            "amount_cents": amount_cents,
            "auth_code": auth_code,
            "kiosk_id": self.kiosk_id,
        }
        logger.info("pay bill %d, %d cents, code %s", bill_id, amount_cents, mask_auth_code(auth_code))
        _, body = self._request("POST", f"{API}/payments", json=payload, read_timeout=self.pay_read_timeout)
        result = _build(PaymentResult, body)
        logger.info("payment %s: %s %s", key, result.status, result.error_code or "")
        return result

    def create_qr_payment(
        self,
        key: str,
        amount_cents: int,
        provider: str,
        *,
        bill_id: int | None = None,
        registration_id: int | None = None,
    ) -> QrPayment:
        """A provider order whose ``code_url`` the kiosk shows as a QR code (``provider``: wechat |
        alipay). Safe to repeat with the same key after a ServerTimeout (the same code comes back)."""
        payload = {
            "idempotency_key": key,
            "bill_id": bill_id,
            "registration_id": registration_id,
            "amount_cents": amount_cents,
            "provider": provider,
            "kiosk_id": self.kiosk_id,
        }
        _, body = self._request("POST", f"{API}/payments/qr", json=payload, read_timeout=self.pay_read_timeout)
        result = _build(QrPayment, body)
        logger.info("QR payment %s (%s): %s %s", key, provider, result.status, result.error_code or "")
        return result

    def qr_payment_status(self, key: str) -> QrPayment | None:
        """A payment's state with its QR details; None when the server never received that key."""
        _, body = self._request("GET", f"{API}/payments/{key}", not_found_ok=True)
        return None if body is None else _build(QrPayment, body)

    def cancel_payment(self, key: str) -> QrPayment:
        """Close a QR payment's order. SUCCESS if it was paid meanwhile (never lost); PENDING with
        ``qr_state`` closing when the provider has not confirmed yet (poll ``qr_payment_status``)."""
        _, body = self._request("POST", f"{API}/payments/{key}/cancel", read_timeout=self.pay_read_timeout)
        result = _build(QrPayment, body)
        logger.info("QR payment %s cancel: %s %s", key, result.status, result.error_code or "")
        return result

    # ---- cashier window (收费窗口): server/cashier/
    # Every call but sign-in carries the shift's token; the PIN and the token are never logged.

    def _cashier(self, token: str) -> dict[str, str]:
        return {"X-Cashier-Token": token}

    def cashier_sign_in(
        self,
        *,
        staff_no: str | None = None,
        pin: str | None = None,
        card_hash: str | None = None,
        window_label: str = "",
    ) -> CashierShift:
        """Open (or resume) this window's shift by staff number and PIN, or by a staff card's hash
        (sync.staffcard.staff_card_hash). BusinessError sign_in_failed (all reasons alike),
        window_in_use, shift_open_elsewhere."""
        payload: dict[str, Any] = {"window_label": window_label}
        if card_hash is not None:
            payload["staff_card_hash"] = card_hash
        else:
            payload |= {"staff_no": staff_no, "pin": pin}
        status, body = self._request("POST", f"{API}/cashier/shifts", json=payload)
        shift = _build(CashierShift, body, resumed=status == 200)
        logger.info("cashier %s %s shift %d", shift.staff_no, "resumed" if shift.resumed else "opened", shift.shift_id)
        return shift

    def cashier_sign_out(self, token: str, shift_id: int) -> CashierShift:
        """Lock the window for a break: the token stops working, the shift stays open."""
        path = f"{API}/cashier/shifts/{shift_id}/sign-out"
        _, body = self._request("POST", path, json={}, headers=self._cashier(token))
        return _build(CashierShift, body)

    def cashier_lookup(
        self, token: str, *, visit_card_no: str | None = None, patient_id: int | None = None
    ) -> CashierItems:
        """The patient by visit-card number or id, with open bills, unpaid registrations and recent
        payments. BusinessError invalid_visit_card (a typo), patient_not_found."""
        payload: dict[str, Any] = {"visit_card_no": visit_card_no} if visit_card_no else {"patient_id": patient_id}
        _, body = self._request("POST", f"{API}/cashier/patients/lookup", json=payload, headers=self._cashier(token))
        return _cashier_items(body)

    def cashier_quote(
        self,
        token: str,
        key: str,
        shift_id: int,
        patient_id: int,
        bills: Sequence[tuple[int, int]],
        registration_ids: Sequence[int] = (),
        insurance_scheme: str | None = None,
    ) -> CashierQuote:
        """Lock ``bills`` ((bill_id, version)) under the settlement key ``key`` and price the
        registrations: the self-pay total to take. Safe to repeat with the same key and selection."""
        payload = {
            "key": key,
            "shift_id": shift_id,
            "patient_id": patient_id,
            "bills": [{"bill_id": b, "version": v} for b, v in bills],
            "registration_ids": list(registration_ids),
            "insurance_scheme": insurance_scheme,
        }
        _, body = self._request("POST", f"{API}/cashier/quotes", json=payload, headers=self._cashier(token))
        return _cashier_quote(body)

    def cashier_release(self, token: str, key: str) -> BillLock:
        """Give the quote's bills back; BusinessError payment_pending while its payment is unresolved."""
        _, body = self._request("POST", f"{API}/cashier/quotes/{key}/release", json={}, headers=self._cashier(token))
        return _bill_lock(body)

    def cashier_settle(
        self,
        token: str,
        *,
        key: str,
        shift_id: int,
        patient_id: int,
        bill_ids: Sequence[int],
        registration_ids: Sequence[int],
        channel: str,
        amount_cents: int,
        auth_code: str | None = None,
        pos_ref: str | None = None,
        tendered_cents: int | None = None,
    ) -> Settlement:
        """Take the quoted amount: ``code`` (the scanned payment code), ``cash`` (with the amount
        tendered) or ``card`` (with the POS reference). After a ServerTimeout ask
        ``cashier_settlement(key)`` or repeat with the SAME key and body: never a new key for the
        same money. BusinessError codes: amount_mismatch, bill_not_locked, bill_lock_expired,
        already_paid, idempotency_key_reused, shift_closed, cashier_signed_out."""
        payload: dict[str, Any] = {
            "key": key,
            "shift_id": shift_id,
            "patient_id": patient_id,
            "bill_ids": list(bill_ids),
            "registration_ids": list(registration_ids),
            "channel": channel,
            "amount_cents": amount_cents,
            "auth_code": auth_code,
            "pos_ref": pos_ref,
            "tendered_cents": tendered_cents,
        }
        code = f", code {mask_auth_code(auth_code)}" if auth_code else ""
        logger.info("cashier settlement %s: %d cents by %s%s", key, amount_cents, channel, code)
        status, body = self._request(
            "POST",
            f"{API}/cashier/settlements",
            json=payload,
            read_timeout=self.pay_read_timeout,
            headers=self._cashier(token),
        )
        result = _settlement(body, status == 200)
        logger.info("cashier settlement %s: %s %s", key, result.status, result.error_code or "")
        return result

    def cashier_settlement(self, key: str) -> Settlement | None:
        """The settlement under ``key`` as it stands, or None when the server never received it."""
        _, body = self._request("GET", f"{API}/cashier/settlements/{key}", not_found_ok=True)
        return None if body is None else _settlement(body)

    def cashier_refund(
        self,
        token: str,
        *,
        refund_key: str,
        shift_id: int,
        payment_key: str,
        amount_cents: int,
        reason: str,
        supervisor_staff_no: str,
        supervisor_pin: str,
        pos_ref: str | None = None,
    ) -> CashierRefund:
        """Refund (part of) a payment with a supervisor's approval, checked by the server.
        BusinessError supervisor_not_approved, pos_ref_required (card: refund on the POS first),
        refund_exceeds_refundable, payment_not_found, payment_not_paid."""
        payload = {
            "refund_key": refund_key,
            "shift_id": shift_id,
            "payment_key": payment_key,
            "amount_cents": amount_cents,
            "reason": reason,
            "supervisor_staff_no": supervisor_staff_no,
            "supervisor_pin": supervisor_pin,
            "pos_ref": pos_ref,
        }
        logger.info("cashier refund %s of %s: %d cents, approver %s", refund_key, payment_key, amount_cents,
                    supervisor_staff_no)  # fmt: skip
        status, body = self._request(
            "POST",
            f"{API}/cashier/refunds",
            json=payload,
            read_timeout=self.pay_read_timeout,
            headers=self._cashier(token),
        )
        return _build(CashierRefund, body, replayed=status == 200)

    def cashier_refund_status(self, refund_key: str) -> CashierRefund | None:
        """The window refund as it stands, or None when the server never received it."""
        _, body = self._request("GET", f"{API}/cashier/refunds/{refund_key}", not_found_ok=True)
        return None if body is None else _build(CashierRefund, body)

    def cashier_report(self, token: str, shift_id: int) -> ShiftReport:
        """The shift's report so far (or as closed)."""
        _, body = self._request("GET", f"{API}/cashier/shifts/{shift_id}/report", headers=self._cashier(token))
        return _shift_report(body)

    def cashier_close_shift(
        self, token: str, shift_id: int, ledger: Sequence[Mapping[str, Any]], cash_counted_cents: int | None
    ) -> ShiftReport:
        """Close the shift with what the kiosk counted (its journal: key, kind, channel, amount_cents,
        status per entry) and the cash in the drawer; the reconciled report. Safe to repeat."""
        payload = {"ledger": [dict(e) for e in ledger], "cash_counted_cents": cash_counted_cents}
        _, body = self._request(
            "POST", f"{API}/cashier/shifts/{shift_id}/close", json=payload, headers=self._cashier(token)
        )
        return _shift_report(body)

    # -- offline sync ------------------------------------------------------------------------------

    def catalog(self, day: date | str, etag: str | None = None) -> tuple[dict[str, Any] | None, str | None]:
        """The day's catalog and its ETag, or (None, etag) when unchanged since ``etag`` (HTTP 304)."""
        headers = {"If-None-Match": etag} if etag else None
        status, body = self._request("GET", f"{API}/catalog", params={"date": _day(day)}, headers=headers)
        if status == 304:
            return None, etag
        if not isinstance(body, dict):
            raise ServerError("bad_response", "the catalog is not an object")
        return body, self.last_headers.get("ETag") or str(body.get("version", ""))

    def sync_ops(self, ops: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Send a batch of outbox operations; one result per operation, in order.

        Safe to repeat after a ServerTimeout: the server replays the answer stored under each key.
        """
        _, body = self._request("POST", f"{API}/sync/ops", json={"ops": ops})
        results = body.get("results") if isinstance(body, dict) else None
        if not isinstance(results, list) or len(results) != len(ops):
            raise ServerError("bad_response", "sync answer does not match the batch")
        return results
