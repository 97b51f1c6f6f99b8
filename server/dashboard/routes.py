"""The admin dashboard's routes: server-rendered HTML pages under /dashboard.

Roles: admins see everything. Technicians may open the kiosk overview only (they fix kiosks, so they need to see
which are offline or faulty) but not payments, reconciliation or the worklist, which are money matters. Cashiers
have no dashboard. Sign-in uses the staff accounts and sessions of ``server.auth.staff``; the session travels in the
HttpOnly, SameSite=Strict cookie that module defines.
"""

from __future__ import annotations

import logging
from typing import Annotated, Literal
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from server import audit
from server.auth.staff import (
    SESSION_COOKIE,
    StaffUser,
    authenticate,
    end_session,
    new_session,
    set_session_cookie,
)
from server.auth.staff import require_staff as _require_staff
from server.dashboard import queries, render, views
from server.dashboard.security import DashboardRoute, check_csrf, page_csrf, safe_next, same_origin
from server.dashboard.tables import resolve_work_item
from server.dbapi import write_tx
from server.deps import DbDep, SettingsDep
from server.errors import ApiError

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/dashboard", route_class=DashboardRoute, include_in_schema=False)

KIOSKS_REFRESH_S = 20
MAX_FORM_BYTES = 4096

Admin = Annotated[StaffUser, Depends(_require_staff("admin"))]
KioskViewer = Annotated[StaffUser, Depends(_require_staff("admin", "technician"))]


async def form_fields(request: Request) -> dict[str, str]:
    """A urlencoded form, read by hand (no python-multipart dependency for three small forms)."""
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise ApiError(413, "too_large", "form too large")
    try:
        pairs = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True, max_num_fields=10)
    except ValueError as exc:
        raise ApiError(400, "bad_request", "malformed form") from exc
    return dict(pairs)


Form = Annotated[dict[str, str], Depends(form_fields)]


def _page(request: Request, user: StaffUser, title: str, body: str, active: str, **kw: int) -> HTMLResponse:
    html = render.page(
        title, body, username=user.username, role=user.role, active=active, csrf=page_csrf(request), **kw
    )
    return HTMLResponse(html)


@router.get("/login", response_class=HTMLResponse)
def login_form(next_path: Annotated[str | None, Query(alias="next", max_length=500)] = None) -> HTMLResponse:
    return HTMLResponse(render.page("Sign in 登录", views.login(None, safe_next(next_path))))


@router.post("/login", response_class=HTMLResponse, response_model=None)
def login(request: Request, form: Form, db: DbDep) -> HTMLResponse | RedirectResponse:
    username, password = form.get("username", "").strip(), form.get("password", "")
    next_path = safe_next(form.get("next"))
    if not same_origin(request):
        raise ApiError(403, "csrf_failed", "cross-origin sign-in refused")
    with db.connection() as conn:
        user = authenticate(conn, username, password)
        token = new_session(conn, user) if user is not None else None
    if user is None or token is None:
        error = "Wrong username or password, or the account is locked. 用户名或密码错误，或账户已锁定。"
        return HTMLResponse(render.page("Sign in 登录", views.login(error, next_path, username)), status_code=401)
    response = RedirectResponse(next_path, status_code=303)
    set_session_cookie(response, request, token)
    logger.info("dashboard sign-in by %s (%s)", user.username, user.role)
    return response


@router.post("/logout")
def logout(request: Request, form: Form, db: DbDep) -> RedirectResponse:
    check_csrf(request, form)
    token = request.cookies.get(SESSION_COOKIE)
    if token and len(token) <= 256:
        with db.connection() as conn:
            end_session(conn, token)
    response = RedirectResponse("/dashboard/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    return response


@router.get("", response_class=HTMLResponse)
def overview(request: Request, user: KioskViewer, db: DbDep, settings: SettingsDep) -> HTMLResponse:
    kiosks = queries.kiosks(db, settings)
    open_items = queries.open_work_count(db) if user.role == "admin" else None
    body = views.kiosks(kiosks, open_items, KIOSKS_REFRESH_S)
    return _page(request, user, "Kiosks 自助机", body, "/dashboard", refresh_s=KIOSKS_REFRESH_S)


@router.get("/payments", response_class=HTMLResponse)
def payments(
    request: Request,
    user: Admin,
    db: DbDep,
    status: Literal["PENDING", "SUCCESS", "FAILED", "REVERSED"] | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
) -> HTMLResponse:
    data = queries.payments(db, status, limit, offset)
    body = views.payments(data, status, limit, offset)
    return _page(request, user, "Payments 支付", body, "/dashboard/payments")


@router.get("/reconciliation", response_class=HTMLResponse)
def reconciliation(request: Request, user: Admin, db: DbDep) -> HTMLResponse:
    body = views.reconciliation(queries.reconciliation_runs(db))
    return _page(request, user, "Reconciliation 对账", body, "/dashboard/reconciliation")


@router.get("/worklist", response_class=HTMLResponse)
def worklist(request: Request, user: Admin, db: DbDep) -> HTMLResponse:
    open_items, resolved = queries.worklist(db)
    body = views.worklist(open_items, resolved, page_csrf(request))
    return _page(request, user, "Worklist 待办", body, "/dashboard/worklist")


@router.post("/worklist/{item_id}/resolve")
def resolve(
    request: Request, item_id: Annotated[int, Path(gt=0, le=2**63 - 1)], user: Admin, form: Form, db: DbDep
) -> RedirectResponse:
    check_csrf(request, form)
    with db.connection() as conn, write_tx(conn):
        if resolve_work_item(conn, item_id, user.username):
            audit.append(conn, f"staff:{user.username}", "worklist.resolved", {"id": item_id})
            logger.info("worklist item %d resolved by %s", item_id, user.username)
    # Resolving twice (a double click, two admins) is not an error: the item is resolved either way.
    return RedirectResponse("/dashboard/worklist", status_code=303)
