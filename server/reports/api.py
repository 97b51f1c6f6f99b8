"""Report printing (报告打印) routes: list a patient's reports, claim a copy, report the printer's outcome.

The rules live in server/reports/service.py; this module is HTTP only.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from server.appointments.api import check_kiosk
from server.auth.kiosks import KIOSK_ID_PATTERN, require_kiosk
from server.dbapi import write_tx
from server.deps import DbDep, SettingsDep
from server.errors import ApiError
from server.registrations import IDEMPOTENCY_KEY_PATTERN
from server.reports import service
from server.schemas import RowId, RowIdPath, error_responses

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/api/v1", tags=["reports"])

SignedKiosk = Annotated[str, Depends(require_kiosk)]
KeyPath = Annotated[str, Path(pattern=IDEMPOTENCY_KEY_PATTERN)]
REASON_PATTERN = r"^[a-z][a-z0-9_]{0,31}$"
ERROR_CODE_PATTERN = r"^[a-z][a-z0-9_]{0,39}$"


class ReportSummary(BaseModel):
    report_id: int
    report_no: str
    kind: Literal["lab", "imaging"]
    department_code: str | None
    department_name_zh: str | None
    department_name_en: str | None
    title_zh: str
    title_en: str
    ordered_at: str
    status: Literal["pending", "ready"]
    ready_at: str | None
    print_count: int = Field(description="copies that count (claimed or printed, not failed at the printer)")
    last_printed_at: str | None


class LabRow(BaseModel):
    item_zh: str
    item_en: str
    result: str
    unit: str
    range: str = Field(description="the reference range as printed, e.g. 3.5-9.5")
    flag: Literal["", "H", "L"] = Field(description="H above, L below the reference range")


class ReportContent(BaseModel):
    """The printed body: ``rows`` for a lab report, the findings and impression for imaging."""

    specimen_zh: str = ""
    specimen_en: str = ""
    rows: list[LabRow] = []
    exam_zh: str = ""
    exam_en: str = ""
    findings_zh: str = ""
    findings_en: str = ""
    impression_zh: str = ""
    impression_en: str = ""
    signed_by_zh: str = ""
    signed_by_en: str = ""


class ReportDetail(ReportSummary):
    content: ReportContent


class PrintRequest(BaseModel):
    key: str = Field(pattern=IDEMPOTENCY_KEY_PATTERN, description="the kiosk's idempotency key for this copy")
    kiosk_id: str = Field(pattern=KIOSK_ID_PATTERN)
    patient_id: RowId = Field(description="the identified patient; another patient's report is not found")
    reprint_reason: str | None = Field(
        default=None,
        pattern=REASON_PATTERN,
        description="required once a copy counts: a reason code the kiosk offers (lost, damaged, for_doctor, ...)",
    )


class PrintRecord(BaseModel):
    key: str
    print_id: int
    report_id: int
    kiosk_id: str
    copy_kind: Literal["first", "reprint"]
    copy_no: int = Field(description="1 for the first copy; printed on the paper")
    reprint_reason: str | None
    status: Literal["claimed", "printed", "failed"]
    error_code: str | None
    claimed_at: str
    finished_at: str | None


class PrintTicket(PrintRecord):
    """A claimed copy and everything to put on paper."""

    report: ReportDetail


class OutcomeRequest(BaseModel):
    printed: bool = Field(description="false: the printer failed (e.g. paper out mid-report); the copy stops counting")
    error_code: str | None = Field(default=None, pattern=ERROR_CODE_PATTERN, description="e.g. paper_out")


@router.get("/patients/{patient_id}/reports", response_model=list[ReportSummary], responses=error_responses(404, 422))
def list_reports(patient_id: RowIdPath, db: DbDep) -> list[dict[str, Any]]:
    """Every lab and imaging report of the patient, pending ones included, newest first."""
    with db.connection() as conn:
        try:
            return service.list_for_patient(conn, patient_id)
        except LookupError:
            raise ApiError(404, "patient_not_found", f"no patient {patient_id}") from None


@router.post(
    "/reports/{report_id}/print",
    status_code=201,
    response_model=PrintTicket,
    responses={
        200: {"model": PrintTicket, "description": "A retry with the same key: the same copy, as it is now"},
        **error_responses(400, 404, 409, 422),
    },
)
def print_report(
    report_id: RowIdPath, req: PrintRequest, db: DbDep, settings: SettingsDep, signed: SignedKiosk
) -> JSONResponse:
    """Claim a copy before printing it. 409 codes: ``report_not_ready``, ``already_printed`` (a copy
    counts and no ``reprint_reason`` was given)."""
    check_kiosk(settings, signed, req.kiosk_id)
    with db.connection() as conn, write_tx(conn):
        status, body = service.claim_print(
            conn,
            report_id=report_id,
            patient_id=req.patient_id,
            key=req.key,
            kiosk_id=req.kiosk_id,
            reason=req.reprint_reason,
        )
    headers = {"Idempotent-Replayed": "true"} if status == 200 else {}
    return JSONResponse(status_code=status, content=body, headers=headers)


@router.post(
    "/reports/prints/{key}/outcome",
    response_model=PrintRecord,
    responses=error_responses(400, 404, 409, 422),
)
def print_outcome(key: KeyPath, req: OutcomeRequest, db: DbDep, settings: SettingsDep, signed: SignedKiosk) -> Any:
    """What the printer did with a claimed copy. Idempotent; the other outcome afterwards is 409
    ``outcome_conflict``."""
    kiosk_id = signed if settings.require_signed_requests else None
    with db.connection() as conn, write_tx(conn):
        return service.record_outcome(conn, key=key, kiosk_id=kiosk_id, printed=req.printed, error_code=req.error_code)
