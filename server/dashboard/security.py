"""Browser-facing protections of the dashboard: the route class (sign-in redirect, security headers) and CSRF.

CSRF: every state-changing form (sign-out, resolving a worklist item) carries a per-session token in a hidden field,
derived from the session token (``sha256("dashboard-csrf:" + token)``), and the Origin header, when the browser sends
one, must name this server. The session cookie is also SameSite=Strict, but that alone is not enough here: "same
site" spans every host under the hospital's registrable domain (any intranet app on a sibling host could post to
us), and older embedded browsers on staff PCs ignore SameSite. The token cannot be forged without the session token,
which is an HttpOnly cookie the attacker can neither read nor guess; deriving it keeps the server stateless (nothing
more to store per session) and it changes with every sign-in. Requests authenticated by ``Authorization: Bearer``
(scripts) need no token: a browser never attaches that header on its own, so a cross-site request can't carry it.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import quote, urlsplit

from fastapi import Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute

from server.auth.staff import SESSION_COOKIE
from server.dashboard import render, views
from server.errors import ApiError

LOGIN_PATH = "/dashboard/login"
# No scripts at all, no external anything: an escaped-but-missed value still could not run code or phone home.
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    # Not "no-referrer": with it Chrome sends "Origin: null" on our own form posts, which the Origin check refuses.
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def csrf_token(session_token: str) -> str:
    return hashlib.sha256(f"dashboard-csrf:{session_token}".encode()).hexdigest()


def page_csrf(request: Request) -> str:
    """The token for the forms of a page (empty when signed in by Bearer: no cookie, no forms that matter)."""
    cookie = request.cookies.get(SESSION_COOKIE)
    return csrf_token(cookie) if cookie else ""


def same_origin(request: Request) -> bool:
    """False only when the browser says the request comes from another origin (a missing Origin is allowed)."""
    origin = request.headers.get("origin")
    if origin is None:
        return True
    return urlsplit(origin).netloc.lower() == request.headers.get("host", "").lower()


def check_csrf(request: Request, form: dict[str, str]) -> None:
    if not same_origin(request):
        raise ApiError(403, "csrf_failed", "cross-origin form post refused")
    if request.headers.get("authorization", "").lower().startswith("bearer "):
        return
    cookie = request.cookies.get(SESSION_COOKIE, "")
    if not cookie or not hmac.compare_digest(form.get("csrf_token", ""), csrf_token(cookie)):
        raise ApiError(403, "csrf_failed", "the form is stale or forged; reload the page")


def safe_next(path: str | None) -> str:
    """Only a dashboard path of this server: never an open redirect to another host."""
    if path and path.startswith("/dashboard") and "//" not in path and "\\" not in path:
        return path
    return "/dashboard"


def _html_error(status: int, title: str, text: str) -> HTMLResponse:
    return HTMLResponse(render.page(title, views.message(title, text)), status_code=status)


class DashboardRoute(APIRoute):
    """Pages answer HTML, never JSON: no session -> the sign-in form (303), wrong role -> a 403 page."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def dashboard_handler(request: Request) -> Response:
            try:
                response = await handler(request)
            except ApiError as exc:
                if exc.status == 401:
                    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                    if request.method != "GET":
                        target = "/dashboard"
                    response = RedirectResponse(f"{LOGIN_PATH}?next={quote(target, safe='')}", status_code=303)
                elif exc.code == "csrf_failed":
                    response = _html_error(403, "Refused 已拒绝", exc.message)
                elif exc.status == 403:
                    response = _html_error(403, "Not allowed 无权访问", "Your role may not open this page.")
                elif exc.status == 404:
                    response = _html_error(404, "Not found 未找到", exc.message)
                else:
                    raise
            response.headers.update(HEADERS)
            return response

        return dashboard_handler
