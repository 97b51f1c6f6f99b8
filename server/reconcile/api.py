"""Admin API of reconciliation: run a bill day now, read the stored reports."""

from __future__ import annotations

import json
from datetime import date
from typing import TYPE_CHECKING, Annotated, Any, cast

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from server.deps import DbDep
from server.schemas import error_responses

if TYPE_CHECKING:
    from server.reconcile.job import Reconciler

router = APIRouter(prefix="/api/v1/admin/reconciliation", tags=["reconciliation"])


def get_reconciler(request: Request) -> Reconciler:
    return cast("Reconciler", request.app.state.reconciler)


ReconcilerDep = Annotated["Reconciler", Depends(get_reconciler)]


class RunRequest(BaseModel):
    # Providers keep bills for months, not centuries; anything else is a typo, refused with 422.
    bill_date: date = Field(ge=date(2015, 1, 1), le=date(2099, 12, 31))


@router.post("/runs", responses=error_responses(422))
def run_day(req: RunRequest, reconciler: ReconcilerDep) -> list[dict[str, Any]]:
    """Download both providers' bills for the day (China time) and reconcile them now.

    Bills of a day are published the next morning (WeChat from 10:00); re-running replaces the day.
    """
    return reconciler.run(req.bill_date)


@router.get("/runs", responses=error_responses(422))
def list_runs(db: DbDep, bill_date: Annotated[date | None, Query()] = None) -> list[dict[str, Any]]:
    query = "SELECT bill_date, provider, status, findings, error, report_json, created_at FROM reconciliation_runs"
    params: tuple[Any, ...] = ()
    if bill_date is not None:
        query += " WHERE bill_date = ?"
        params = (bill_date.isoformat(),)
    with db.connection() as conn:
        rows = conn.execute(query + " ORDER BY bill_date DESC, provider LIMIT 60", params).fetchall()
    columns = ("bill_date", "provider", "status", "findings", "error", "created_at")
    return [{**{k: r[k] for k in columns}, "report": json.loads(r["report_json"])} for r in rows]
