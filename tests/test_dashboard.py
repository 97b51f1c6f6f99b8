"""The admin dashboard over plain HTTP (requests), on SQLite and PostgreSQL: sign-in, every page, escaping, CSRF."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest
import requests

from server.auth.staff import create_staff
from server.dashboard.demo import FICTITIOUS_ID, Sample, seed_sample
from server.dashboard.tables import add_work_item, list_work_items, resolve_work_item
from server.db import Store
from server.dbapi import utc_now, write_tx

if TYPE_CHECKING:
    from conftest_server import Api

PASSWORD = "correct-horse-battery"
PAGES = ("/dashboard", "/dashboard/payments", "/dashboard/reconciliation", "/dashboard/worklist")
HOSTILE = '<script>alert("x")</script>'


def _staff(api: Api, username: str, role: str) -> None:
    assert api.srv.app is not None
    with api.srv.app.state.db.connection() as conn:
        create_staff(conn, username, PASSWORD, role)


def _sign_in(api: Api, username: str, password: str = PASSWORD, **extra: str) -> requests.Response:
    return api.http.post(
        api.base + "/dashboard/login",
        data={"username": username, "password": password, **extra},
        allow_redirects=False,
        timeout=10,
    )


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([0-9a-f]{64})"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


@pytest.fixture
def sample(api: Api) -> Sample:
    assert api.srv.app is not None
    with api.srv.app.state.db.connection() as conn, write_tx(conn):
        return seed_sample(conn, api.srv.app.state.cipher)


@pytest.fixture
def admin(api: Api, sample: Sample) -> Iterator[Api]:
    """``api`` signed in as an admin through the form (the session cookie is in ``api.http``)."""
    _staff(api, "admin1", "admin")
    r = _sign_in(api, "admin1")
    assert r.status_code == 303, r.text
    yield api


def test_pages_redirect_to_sign_in_without_a_session(api: Api) -> None:
    for path in PAGES:
        r = api.get(path + "?status=FAILED" if path.endswith("payments") else path, allow_redirects=False)
        assert r.status_code == 303, path
        assert r.headers["location"].startswith("/dashboard/login?next=%2Fdashboard")
    r = api.get("/dashboard/payments?status=FAILED")  # follows the redirect to the form
    assert r.status_code == 200 and "text/html" in r.headers["content-type"]
    assert 'name="next" value="/dashboard/payments?status=FAILED"' in r.text
    # A POST without a session is not carried out either.
    r = api.http.post(api.base + "/dashboard/worklist/1/resolve", data={}, allow_redirects=False, timeout=10)
    assert r.status_code == 303 and r.headers["location"].startswith("/dashboard/login")


def test_sign_in_sets_a_strict_httponly_cookie_and_follows_next(api: Api) -> None:
    _staff(api, "admin1", "admin")
    r = _sign_in(api, "admin1", next="/dashboard/worklist")
    assert r.status_code == 303 and r.headers["location"] == "/dashboard/worklist"
    cookie = r.headers["set-cookie"]
    assert cookie.startswith("kiosk_staff_session=")
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict") and "Path=/" in cookie
    # Only dashboard paths: never an open redirect.
    for evil in ("//evil.example/x", "https://evil.example/", "/dashboard//evil.example", "/api/v1/audit"):
        r = _sign_in(api, "admin1", next=evil)
        assert r.headers["location"] == "/dashboard", evil


def test_wrong_password_shows_the_form_again(api: Api) -> None:
    _staff(api, "admin1", "admin")
    r = _sign_in(api, "admin1", "wrong-password", next="/dashboard/payments")
    assert r.status_code == 401
    assert "set-cookie" not in r.headers
    assert "Wrong username or password" in r.text and 'value="admin1"' in r.text
    assert "wrong-password" not in r.text
    assert _sign_in(api, "nobody").status_code == 401


def test_cross_origin_sign_in_is_refused(api: Api) -> None:
    _staff(api, "admin1", "admin")
    r = api.http.post(
        api.base + "/dashboard/login",
        data={"username": "admin1", "password": PASSWORD},
        headers={"Origin": "http://evil.example"},
        allow_redirects=False,
        timeout=10,
    )
    assert r.status_code == 403 and "set-cookie" not in r.headers


def test_kiosks_page(admin: Api) -> None:
    r = admin.get("/dashboard")
    assert r.status_code == 200, r.text
    html = r.text
    assert 'http-equiv="refresh" content="20"' in html
    assert "3 online, 1 offline, 2 with faults" in html
    rows = dict(re.findall(r'<tr class="([^"]*)" data-kiosk="([^"]+)"', html)[::-1][i][::-1] for i in range(4))
    assert rows == {"KIOSK-01": "", "KIOSK-02": "fault", "KIOSK-03": "", "KIOSK-04": "offline fault"}
    kiosk4 = html[html.index('data-kiosk="KIOSK-04"') :].split("</tr>")[0]
    assert "Offline 离线" in kiosk4 and '<span class="chip bad">idcard: unavailable</span>' in kiosk4
    assert "2 h 01 min ago" in kiosk4
    kiosk2 = html[html.index('data-kiosk="KIOSK-02"') :].split("</tr>")[0]
    assert "Online 在线" in kiosk2 and '<span class="chip bad">printer: error</span>' in kiosk2
    kiosk3 = html[html.index('data-kiosk="KIOSK-03"') :].split("</tr>")[0]
    assert '<td class="num hot">7</td>' in kiosk3 and "5 min 40 s" in kiosk3
    assert '<td class="num alarm">+3.8 s</td>' in kiosk3  # more than 2 s off
    assert "Open worklist" in html  # admins see the worklist count


def test_payments_page_filters_and_pages(admin: Api, sample: Sample) -> None:
    html = admin.get("/dashboard/payments").text
    assert len(re.findall(r"<tr data-status=", html)) == 6
    assert "¥12.00" in html and "¥25.50" in html
    for status in ("SUCCESS", "PENDING", "FAILED", "REVERSED"):
        assert f'<tr data-status="{status}">' in html
    assert "**************4821" in html and "NOTENOUGH" in html
    assert "All 全部 (6)" in html and "SUCCESS 成功 (3)" in html
    failed = admin.get("/dashboard/payments", params={"status": "FAILED"}).text
    assert re.findall(r'<tr data-status="(\w+)"', failed) == ["FAILED"]
    assert "¥50.00" in failed
    paged = admin.get("/dashboard/payments", params={"limit": 2, "offset": 2}).text
    assert len(re.findall(r"<tr data-status=", paged)) == 2
    assert "3–4 of 6" in paged
    assert 'href="/dashboard/payments?limit=2&amp;offset=4"' in paged
    assert 'href="/dashboard/payments?limit=2"' in paged  # back to the newest
    assert admin.get("/dashboard/payments", params={"status": "BOGUS"}).status_code == 422
    assert admin.get("/dashboard/payments", params={"limit": 100000}).status_code == 422


def test_reconciliation_page_embeds_the_report(admin: Api, sample: Sample) -> None:
    html = admin.get("/dashboard/reconciliation").text
    assert f'data-run="{sample.bill_date}-wechat" open' in html
    assert "findings 有差异" in html and "3 findings" in html
    assert "amounts differ" in html and "SUCCESS in our ledger, not paid on the bill" in html
    assert '<section class="reconcile-report">' in html  # embedded as HTML, not escaped twice
    assert "failed 失败" in html and "SYSTEMERROR three times" in html
    assert f'data-run="{sample.bill_date}-alipay">' in html  # ok runs start closed


def test_worklist_resolve_needs_the_csrf_token(admin: Api, sample: Sample) -> None:
    html = admin.get("/dashboard/worklist").text
    assert "4 open items" in html
    for item_id in sample.work_item_ids:
        assert f'data-item="{item_id}"' in html
    target = sample.work_item_ids[0]
    url = f"{admin.base}/dashboard/worklist/{target}/resolve"
    token = _csrf(html)
    for data, headers in (
        ({}, {}),
        ({"csrf_token": "0" * 64}, {}),
        ({"csrf_token": token}, {"Origin": "http://evil.example"}),
    ):
        r = admin.http.post(url, data=data, headers=headers, allow_redirects=False, timeout=10)
        assert r.status_code == 403, data
        assert "Refused" in r.text
    assert f'data-item="{target}"' in admin.get("/dashboard/worklist").text
    r = admin.http.post(url, data={"csrf_token": token}, headers={"Origin": admin.base}, allow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/dashboard/worklist"
    html = admin.get("/dashboard/worklist").text
    assert f'data-item="{target}"' not in html and f'data-resolved="{target}"' in html
    assert "3 open items" in html and "admin1" in html
    # A second click is harmless.
    r = admin.http.post(url, data={"csrf_token": token}, allow_redirects=False, timeout=10)
    assert r.status_code == 303
    actions = [row[0] for row in admin.sql("SELECT action FROM audit_log WHERE action = 'worklist.resolved'")]
    assert actions == ["worklist.resolved"]
    assert admin.http.post(f"{admin.base}/dashboard/worklist/0/resolve", data={"csrf_token": token}).status_code == 422


def test_hostile_strings_are_escaped(admin: Api) -> None:
    now = utc_now()
    states = json.dumps({HOSTILE: "error"})
    admin.sql(
        "INSERT INTO kiosks(kiosk_id, software_version, device_states_json, queue_depth, kiosk_time, clock_offset_s,"
        " first_seen, last_seen) VALUES (?, ?, ?, 0, ?, 0, ?, ?)",
        (HOSTILE, HOSTILE, states, now, now, now),
        write=True,
    )
    assert admin.srv.app is not None
    with admin.srv.app.state.db.connection() as conn, write_tx(conn):
        add_work_item(conn, "manual_review", "payment", HOSTILE, {"note": HOSTILE, HOSTILE: "k"})
    for path in PAGES:
        html = admin.get(path).text
        assert "<script" not in html.lower(), path
    kiosks = admin.get("/dashboard").text
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in kiosks
    assert "&lt;script&gt;" in admin.get("/dashboard/worklist").text
    r = admin.get("/dashboard")
    assert "script-src" not in r.headers["content-security-policy"]  # default-src 'none': no script runs at all
    assert r.headers["content-security-policy"].startswith("default-src 'none'")
    assert r.headers["x-frame-options"] == "DENY" and r.headers["cache-control"] == "no-store"


def test_no_patient_identity_on_any_page(admin: Api) -> None:
    for path in PAGES:
        html = admin.get(path).text
        assert FICTITIOUS_ID not in html and FICTITIOUS_ID[-4:] not in html.replace("**************", "")
        assert "演示" not in html  # the sample patient's name


def test_technician_sees_kiosks_only(api: Api, sample: Sample) -> None:
    _staff(api, "tech1", "technician")
    assert _sign_in(api, "tech1").status_code == 303
    html = api.get("/dashboard").text
    assert 'data-kiosk="KIOSK-01"' in html
    assert "Payments 支付" not in html and "Open worklist" not in html  # no links to pages they can't open
    for path in PAGES[1:]:
        r = api.get(path, allow_redirects=False)
        assert r.status_code == 403 and "Not allowed" in r.text and "text/html" in r.headers["content-type"]


def test_cashier_has_no_dashboard(api: Api) -> None:
    _staff(api, "cash1", "cashier")
    assert _sign_in(api, "cash1").status_code == 303
    assert api.get("/dashboard", allow_redirects=False).status_code == 403


def test_bearer_token_works_without_csrf(api: Api, sample: Sample) -> None:
    _staff(api, "admin1", "admin")
    token = api.post("/api/v1/staff/login", {"username": "admin1", "password": PASSWORD}).json()["token"]
    bare = requests.Session()  # no cookie: a script with a token
    try:
        auth = {"Authorization": f"Bearer {token}"}
        r = bare.get(api.base + "/dashboard/payments", headers=auth, timeout=10)
        assert r.status_code == 200 and "¥12.00" in r.text
        target = sample.work_item_ids[-1]
        r = bare.post(f"{api.base}/dashboard/worklist/{target}/resolve", headers=auth, allow_redirects=False)
        assert r.status_code == 303
    finally:
        bare.close()
    assert api.sql("SELECT status FROM worklist_items WHERE id = ?", (target,))[0][0] == "resolved"


def test_sign_out_ends_the_session(admin: Api) -> None:
    token = _csrf(admin.get("/dashboard").text)
    session = admin.http.cookies.get("kiosk_staff_session")
    assert admin.http.post(admin.base + "/dashboard/logout", data={}, allow_redirects=False).status_code == 403
    r = admin.http.post(admin.base + "/dashboard/logout", data={"csrf_token": token}, allow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/dashboard/login"
    assert admin.get("/dashboard", allow_redirects=False).status_code == 303
    # The old cookie is dead on the server too, not only forgotten by the browser.
    r = requests.get(admin.base + "/dashboard", cookies={"kiosk_staff_session": session or ""}, allow_redirects=False)
    assert r.status_code == 303


def test_empty_pages_render(api: Api) -> None:
    _staff(api, "admin1", "admin")
    assert _sign_in(api, "admin1").status_code == 303
    assert "No kiosk has sent a heartbeat yet" in api.get("/dashboard").text
    assert "No payments here" in api.get("/dashboard/payments").text
    assert "No reconciliation has run yet" in api.get("/dashboard/reconciliation").text
    assert "Nothing to do" in api.get("/dashboard/worklist").text


def test_work_items(store: Store) -> None:
    with store.connection() as conn, write_tx(conn):
        first = add_work_item(conn, "refund", "reconciliation", "K1", {"amount": "12.00"})
        again = add_work_item(conn, "refund", "reconciliation", "K1", {"amount": "12.00"})
        other = add_work_item(conn, "rebook", "offline_sync", "K1", {})
    assert first == again != other
    with pytest.raises(ValueError):
        add_work_item(conn, "bogus", "payment", "K2", {})  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        add_work_item(conn, "refund", "payment", "", {})
    with store.connection() as conn, write_tx(conn):
        assert resolve_work_item(conn, first, "admin1") is True
        assert resolve_work_item(conn, first, "admin1") is False
        assert resolve_work_item(conn, 999, "admin1") is False
        # Resolved, so the same reference may be filed again as a new item.
        assert add_work_item(conn, "refund", "reconciliation", "K1", {}) not in (first, other)
    with store.connection() as conn:
        open_items: list[dict[str, Any]] = list_work_items(conn, "open")
        done = list_work_items(conn, "resolved")
    assert [i["kind"] for i in open_items] == ["rebook", "refund"]
    assert done[0]["id"] == first and done[0]["resolved_by"] == "admin1" and done[0]["detail"] == {"amount": "12.00"}
