"""Kiosk enrollment and signed requests; staff accounts, sessions and roles (server/auth/)."""

from __future__ import annotations

import base64
import json
import os
import stat
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import requests

from server.auth import staff as staff_mod
from server.auth.staff import (
    LOCKOUT,
    MAX_FAILED_ATTEMPTS,
    SESSION_COOKIE,
    SESSION_TTL,
    StaffUser,
    authenticate,
    create_staff,
    end_session,
    new_session,
    session_user,
    verify_password,
)
from server.db import Store
from sync.client import KioskAuthError, ServerClient
from sync.enroll import CredentialFileError, enroll, load_credential, save_credential
from sync.heartbeat import build_heartbeat
from sync.signing import KioskAuth, KioskCredential, signed_headers

if TYPE_CHECKING:
    from conftest_server import Api

ROOT = Path(__file__).resolve().parent.parent


def _code(r: requests.Response) -> str:
    return str(r.json()["error"]["code"])


def _send_signed(
    api: Api,
    credential: KioskCredential,
    method: str,
    path: str,
    body: bytes = b"",
    *,
    sign_body: bytes | None = None,
    sign_path: str | None = None,
    timestamp: int | None = None,
    nonce: str | None = None,
) -> requests.Response:
    """One request with hand-made signature headers (so tests can break exactly one part)."""
    headers = signed_headers(
        credential,
        method,
        sign_path or path,
        body if sign_body is None else sign_body,
        timestamp=timestamp,
        nonce=nonce,
    )
    headers["Content-Type"] = "application/json"
    return requests.request(method, api.base + path, data=body or None, headers=headers, timeout=10)


# -- signed kiosk requests -------------------------------------------------------------------------


def test_unsigned_requests_to_kiosk_endpoints_are_refused(api: Api) -> None:
    for method, path in [
        ("GET", "/api/v1/departments"),
        ("POST", "/api/v1/patients/identify"),
        ("POST", "/api/v1/payments"),
        ("GET", "/api/v1/payments/some-key-1234"),
        ("POST", "/api/v1/kiosks/KIOSK-T1/heartbeat"),
        ("POST", "/api/v1/kiosks/KIOSK-T1/commands/1/ack"),
    ]:
        r = requests.request(method, api.base + path, json={}, timeout=10)
        assert r.status_code == 401 and _code(r) == "unsigned_request", (method, path, r.text)
    # open: health, enrollment, staff login
    assert requests.get(api.base + "/health", timeout=10).status_code == 200
    assert api.get("/api/v1/departments").status_code == 200  # and signed it works


def test_a_replayed_signed_request_is_refused(api: Api) -> None:
    nonce = "ab" * 16
    first = _send_signed(api, api.credential, "GET", "/api/v1/departments", nonce=nonce)
    assert first.status_code == 200, first.text
    again = _send_signed(api, api.credential, "GET", "/api/v1/departments", nonce=nonce)
    assert again.status_code == 401 and _code(again) == "replayed_request"
    # the same nonce from another kiosk is that kiosk's own business
    other = api.srv.kiosk_credential("K-OTHER")
    assert _send_signed(api, other, "GET", "/api/v1/departments", nonce=nonce).status_code == 200


def test_nonces_are_purged_after_ten_minutes(api: Api) -> None:
    _send_signed(api, api.credential, "GET", "/api/v1/departments", nonce="cd" * 16)
    old = time.time() - 601
    api.sql("UPDATE request_nonces SET seen_at = ?", (old,), write=True)
    assert api.get("/api/v1/departments").status_code == 200  # any accepted request purges
    assert api.sql("SELECT count(*) FROM request_nonces WHERE seen_at < ?", (old + 1,))[0][0] == 0


# +302, not +301: the header holds whole seconds, so int(time.time()) + 301 can land up to 1 s
# closer to the server's clock and fall inside the window (it did once in CI).
@pytest.mark.parametrize("skew", [-301, 302, -3600, 10**9])
def test_stale_or_future_timestamps_are_refused(api: Api, skew: int) -> None:
    r = _send_signed(api, api.credential, "GET", "/api/v1/departments", timestamp=int(time.time()) + skew)
    assert r.status_code == 401 and _code(r) == "stale_timestamp"


def test_timestamps_inside_the_window_are_accepted(api: Api) -> None:
    for skew in (-290, 290):
        r = _send_signed(api, api.credential, "GET", "/api/v1/departments", timestamp=int(time.time()) + skew)
        assert r.status_code == 200, r.text


def test_a_tampered_body_path_or_query_is_refused(api: Api) -> None:
    payload = json.dumps(api.new_patient_payload()).encode()
    tampered = payload.replace(b'"sex": "M"', b'"sex": "F"')
    assert tampered != payload
    r = _send_signed(api, api.credential, "POST", "/api/v1/patients/identify", tampered, sign_body=payload)
    assert r.status_code == 401 and _code(r) == "bad_signature"
    r = _send_signed(
        api, api.credential, "GET", "/api/v1/doctors/D1/slots?date=2026-01-02", sign_path="/api/v1/departments"
    )
    assert r.status_code == 401 and _code(r) == "bad_signature"
    signed_for = "/api/v1/doctors/D1/slots?date=2026-01-01"
    r = _send_signed(api, api.credential, "GET", "/api/v1/doctors/D1/slots?date=2026-01-02", sign_path=signed_for)
    assert r.status_code == 401 and _code(r) == "bad_signature"
    # the untouched request goes through
    r = _send_signed(api, api.credential, "POST", "/api/v1/patients/identify", payload)
    assert r.status_code == 200, r.text


def test_wrong_secret_and_unknown_kiosk_are_refused(api: Api) -> None:
    r = _send_signed(api, KioskCredential("KIOSK-T1", "not-the-secret"), "GET", "/api/v1/departments")
    assert r.status_code == 401 and _code(r) == "bad_signature"
    r = _send_signed(api, KioskCredential("NOBODY", "whatever"), "GET", "/api/v1/departments")
    assert r.status_code == 401 and _code(r) == "unknown_kiosk"


def test_a_revoked_kiosk_is_refused(api: Api) -> None:
    with api.kiosk("K-REV") as kiosk:
        assert kiosk.get(api.base + "/api/v1/departments", timeout=10).status_code == 200
        r = api.post("/api/v1/admin/kiosks/K-REV/revoke")
        assert r.status_code == 200 and r.json()["status"] == "revoked" and r.json()["revoked_at"]
        r = kiosk.get(api.base + "/api/v1/departments", timeout=10)
        assert r.status_code == 401 and _code(r) == "kiosk_revoked"
    listed = {c["kiosk_id"]: c["status"] for c in api.get("/api/v1/admin/credentials").json()}
    assert listed["K-REV"] == "revoked" and listed["KIOSK-T1"] == "active"
    assert api.post("/api/v1/admin/kiosks/NEVER-SEEN/revoke").status_code == 404
    actions = [r[0] for r in api.sql("SELECT action FROM audit_log ORDER BY seq")]
    assert actions.count("kiosk.revoked") == 1


def test_the_kiosk_client_maps_auth_refusals_to_translated_errors(api: Api) -> None:
    api.post("/api/v1/admin/kiosks/K-CL/revoke")  # not enrolled: 404, nothing happens
    credential = api.srv.kiosk_credential("K-CL")
    assert api.post("/api/v1/admin/kiosks/K-CL/revoke").status_code == 200
    with ServerClient(api.base, kiosk_id="K-CL", credential=credential) as client, pytest.raises(KioskAuthError) as e:
        client.departments()
    assert e.value.code == "kiosk_revoked" and e.value.tr_key == "server.auth.kiosk_revoked"
    with ServerClient(api.base, kiosk_id="K-NONE") as client, pytest.raises(KioskAuthError) as e:
        client.departments()
    assert e.value.code == "unsigned_request" and e.value.status == 401


def test_a_kiosk_cannot_act_as_another(api: Api) -> None:
    with api.kiosk("KIOSK-T1") as t1:
        beat = build_heartbeat("1.0", {"printer": "ready"}, 0)
        r = t1.post(api.base + "/api/v1/kiosks/K-2/heartbeat", json=beat, timeout=10)
        assert r.status_code == 403 and _code(r) == "kiosk_mismatch"
        r = t1.post(api.base + "/api/v1/kiosks/K-2/commands/1/ack", timeout=10)
        assert r.status_code == 403 and _code(r) == "kiosk_mismatch"
        reg = api.register()
        r = t1.post(api.base + "/api/v1/payments", json={**api.pay_body(reg, 0), "kiosk_id": "K-2"}, timeout=10)
        assert r.status_code == 403 and _code(r) == "kiosk_mismatch"
        assert api.sandbox_orders == 0
        assert t1.post(api.base + "/api/v1/kiosks/KIOSK-T1/heartbeat", json=beat, timeout=10).status_code == 200
    assert api.sql("SELECT count(*) FROM kiosks WHERE kiosk_id = 'K-2'")[0][0] == 0


def test_operator_endpoints_refuse_kiosk_signatures(api: Api) -> None:
    with api.kiosk("KIOSK-T1") as t1:
        r = t1.get(api.base + "/api/v1/kiosks", timeout=10)
        assert r.status_code == 401 and _code(r) == "not_signed_in"
        r = t1.get(api.base + "/api/v1/audit/verify", timeout=10)
        assert r.status_code == 401


# -- enrollment ------------------------------------------------------------------------------------


def _enroll(api: Api, kiosk_id: str = "K-NEW") -> dict[str, Any]:
    r = requests.post(
        api.base + "/api/v1/enrollments", json={"kiosk_id": kiosk_id, "software_version": "1.0"}, timeout=10
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


def _poll(api: Api, enrollment: dict[str, Any], token: str | None = None) -> requests.Response:
    return requests.get(
        f"{api.base}/api/v1/enrollments/{enrollment['enrollment_id']}",
        headers={"X-Poll-Token": token or enrollment["poll_token"]},
        timeout=10,
    )


def test_enrollment_end_to_end(api: Api) -> None:
    e = _enroll(api)
    code = e["pairing_code"]
    assert len(code) == 8 and code.isdigit()
    expires = datetime.fromisoformat(e["expires_at"])
    assert timedelta(minutes=14) < expires - datetime.now(UTC) <= timedelta(minutes=15)
    assert _poll(api, e).json()["status"] == "pending"
    assert _poll(api, e, "wrong-token").status_code == 404
    assert "secret" not in _poll(api, e).json() or _poll(api, e).json()["secret"] is None

    # only an admin approves; cashiers and technicians can't, nor can anyone signed out
    for role in ("cashier", "technician"):
        with api.staff(role) as s:
            r = s.post(api.base + "/api/v1/admin/enrollments/approve", json={"pairing_code": code}, timeout=10)
            assert r.status_code == 403 and _code(r) == "forbidden"
    r = requests.post(api.base + "/api/v1/admin/enrollments/approve", json={"pairing_code": code}, timeout=10)
    assert r.status_code == 401 and _code(r) == "not_signed_in"
    wrong = f"{(int(code) + 1) % 10**8:08d}"
    r = api.post("/api/v1/admin/enrollments/approve", {"pairing_code": wrong})
    assert r.status_code == 404 and _code(r) == "pairing_code_unknown"
    assert _poll(api, e).json()["status"] == "pending"

    r = api.post("/api/v1/admin/enrollments/approve", {"pairing_code": f"{code[:4]} {code[4:]}"})
    assert r.status_code == 200 and r.json()["kiosk_id"] == "K-NEW", r.text
    # a code works once
    assert api.post("/api/v1/admin/enrollments/approve", {"pairing_code": code}).status_code == 404

    answer = _poll(api, e).json()
    assert answer["status"] == "approved" and answer["kiosk_id"] == "K-NEW" and answer["secret"]
    assert _poll(api, e).json()["secret"] == answer["secret"]  # until it is used
    credential = KioskCredential("K-NEW", answer["secret"])
    r = requests.get(api.base + "/api/v1/departments", auth=KioskAuth.from_credential(credential), timeout=10)
    assert r.status_code == 200
    after = _poll(api, e).json()
    assert after["status"] == "delivered" and after.get("secret") is None  # never again

    # stored encrypted, codes and tokens only hashed; the audit has the events and no secrets
    blob = bytes(api.sql("SELECT secret_enc FROM kiosk_credentials WHERE kiosk_id = 'K-NEW'")[0][0])
    assert answer["secret"].encode() not in blob
    row = api.sql("SELECT code_hash, poll_token_hash FROM kiosk_enrollments WHERE id = ?", (e["enrollment_id"],))[0]
    assert code not in tuple(row) and e["poll_token"] not in tuple(row)
    audit = api.sql("SELECT action, detail FROM audit_log ORDER BY seq")
    actions = [a for a, _ in audit]
    assert "kiosk.enrollment_requested" in actions and "kiosk.enrollment_approved" in actions
    text = repr(audit)
    assert answer["secret"] not in text and code not in text and e["poll_token"] not in text


def test_a_pairing_code_expires_after_15_minutes(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    late, in_time = _enroll(api, "K-LATE"), _enroll(api, "K-ONTIME")
    start = datetime.now(UTC)
    monkeypatch.setattr("server.auth.kiosks._now", lambda: start + timedelta(minutes=14))
    r = api.post("/api/v1/admin/enrollments/approve", {"pairing_code": in_time["pairing_code"]})
    assert r.status_code == 200, r.text
    monkeypatch.setattr("server.auth.kiosks._now", lambda: start + timedelta(minutes=15, seconds=1))
    r = api.post("/api/v1/admin/enrollments/approve", {"pairing_code": late["pairing_code"]})
    assert r.status_code == 404 and _code(r) == "pairing_code_unknown"
    assert _poll(api, late).json()["status"] == "expired"
    assert api.sql("SELECT count(*) FROM kiosk_credentials WHERE kiosk_id = 'K-LATE'")[0][0] == 0


def test_reenrolling_a_kiosk_replaces_its_secret(api: Api) -> None:
    old = api.srv.kiosk_credential("K-RE")
    e = _enroll(api, "K-RE")
    assert api.post("/api/v1/admin/enrollments/approve", {"pairing_code": e["pairing_code"]}).json()[
        "replaced_credential"
    ]
    r = requests.get(api.base + "/api/v1/departments", auth=KioskAuth.from_credential(old), timeout=10)
    assert r.status_code == 401 and _code(r) == "bad_signature"
    new = KioskCredential("K-RE", _poll(api, e).json()["secret"])
    assert requests.get(api.base + "/api/v1/departments", auth=KioskAuth.from_credential(new), timeout=10).ok


def test_the_kiosk_side_enrolls_and_saves_a_private_credential_file(api: Api, tmp_path: Path) -> None:
    path = tmp_path / "kiosk" / "kiosk.credential"
    codes: list[str] = []

    def approve(enrollment: Any) -> None:
        codes.append(enrollment.pairing_code)

        def later() -> None:
            time.sleep(0.3)
            api.post("/api/v1/admin/enrollments/approve", {"pairing_code": enrollment.pairing_code})

        threading.Thread(target=later, name="approver").start()

    credential = enroll(api.base, "K-SIDE", "1.0", path, show_code=approve, first_delay_s=0.1)
    time.sleep(0.1)
    assert credential.kiosk_id == "K-SIDE" and codes
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_credential(path) == credential
    with ServerClient(api.base, kiosk_id="K-SIDE", credential=load_credential(path)) as client:
        assert client.departments()
    assert load_credential(tmp_path / "missing") is None
    os.chmod(path, 0o644)
    with pytest.raises(CredentialFileError):
        load_credential(path)
    save_credential(path, credential)  # replaced atomically, private again
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "secret" not in repr(credential) or credential.secret not in repr(credential)


# -- staff -----------------------------------------------------------------------------------------


def test_passwords_are_hashed_with_salt_never_stored(store: Store) -> None:
    with store.connection() as conn:
        create_staff(conn, "alice", "correct horse battery", "cashier")
        create_staff(conn, "bob", "correct horse battery", "technician")
        rows = {r[0]: r[1] for r in conn.execute("SELECT username, password_hash FROM staff").fetchall()}
        assert all("correct horse" not in h for h in rows.values())
        assert rows["alice"] != rows["bob"]  # same password, different salt
        scheme, n, r, p, salt, digest = rows["alice"].split("$")
        assert scheme == "scrypt" and int(n) >= 2**14 and int(r) >= 8 and int(p) >= 1
        assert len(base64.b64decode(salt)) >= 16 and len(base64.b64decode(digest)) >= 32
        assert salt != rows["bob"].split("$")[4]
        assert verify_password("correct horse battery", rows["alice"])
        assert not verify_password("correct horse batterY", rows["alice"])
        assert authenticate(conn, "alice", "correct horse battery") == StaffUser("alice", "cashier")
        assert authenticate(conn, "alice", "wrong password") is None
        assert authenticate(conn, "nobody", "correct horse battery") is None
        with pytest.raises(ValueError):
            create_staff(conn, "alice", "another password", "admin")  # taken
        with pytest.raises(ValueError):
            create_staff(conn, "carol", "short", "admin")
        with pytest.raises(ValueError):
            create_staff(conn, "dave", "long enough password", "superuser")


def test_older_hash_parameters_are_upgraded_at_login(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(staff_mod, "SCRYPT_N", 2**12)
    with store.connection() as conn:
        create_staff(conn, "old", "an old password", "admin")
        monkeypatch.setattr(staff_mod, "SCRYPT_N", 2**14)
        assert conn.execute("SELECT password_hash FROM staff").fetchone()[0].startswith("scrypt$4096$")
        assert authenticate(conn, "old", "an old password") is not None
        assert conn.execute("SELECT password_hash FROM staff").fetchone()[0].startswith("scrypt$16384$")


def test_lockout_after_repeated_failures(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    with store.connection() as conn:
        create_staff(conn, "eve", "the right password", "admin")
        for _ in range(MAX_FAILED_ATTEMPTS):
            assert authenticate(conn, "eve", "a wrong password") is None
        # locked: even the right password is refused
        assert authenticate(conn, "eve", "the right password") is None
        later = datetime.now(UTC) + LOCKOUT + timedelta(seconds=1)
        monkeypatch.setattr("server.auth.staff._now", lambda: later)
        assert authenticate(conn, "eve", "the right password") == StaffUser("eve", "admin")
        assert conn.execute("SELECT failed_attempts FROM staff WHERE username = 'eve'").fetchone()[0] == 0
        actions = [r[0] for r in conn.execute("SELECT action FROM audit_log ORDER BY seq").fetchall()]
        assert actions.count("staff.login_failed") == MAX_FAILED_ATTEMPTS + 1 and actions[-1] == "staff.login"


def test_sessions_expire_and_end(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    with store.connection() as conn:
        create_staff(conn, "frank", "frank's password", "technician")
        user = StaffUser("frank", "technician")
        token = new_session(conn, user)
        assert session_user(conn, token) == user
        stored = [r[0] for r in conn.execute("SELECT token_hash FROM staff_sessions").fetchall()]
        assert token not in stored  # only the hash is kept
        later = datetime.now(UTC) + SESSION_TTL + timedelta(seconds=1)
        monkeypatch.setattr("server.auth.staff._now", lambda: later)
        assert session_user(conn, token) is None
        monkeypatch.undo()
        second = new_session(conn, user)
        end_session(conn, second)
        assert session_user(conn, second) is None


def test_login_cookie_roles_and_logout_over_http(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    with api.srv.app.state.db.connection() as conn:  # type: ignore[union-attr]
        create_staff(conn, "cash1", "cashier password", "cashier")
        create_staff(conn, "tech1", "technician password", "technician")
    r = requests.post(api.base + "/api/v1/staff/login", json={"username": "cash1", "password": "nope nope"}, timeout=10)
    assert r.status_code == 401 and _code(r) == "login_failed"

    with requests.Session() as browser:
        r = browser.post(
            api.base + "/api/v1/staff/login", json={"username": "cash1", "password": "cashier password"}, timeout=10
        )
        assert r.status_code == 200 and r.json()["role"] == "cashier"
        cookie = r.headers["set-cookie"]
        assert (
            f"{SESSION_COOKIE}=" in cookie
            and "HttpOnly" in cookie
            and "SameSite=strict" in cookie.replace("Strict", "strict")
        )
        assert "Path=/" in cookie
        assert browser.get(api.base + "/api/v1/staff/me", timeout=10).json() == {"username": "cash1", "role": "cashier"}
        r = browser.get(api.base + "/api/v1/kiosks", timeout=10)  # operators only
        assert r.status_code == 403 and _code(r) == "forbidden"
        token = browser.cookies[SESSION_COOKIE]
        assert browser.post(api.base + "/api/v1/staff/logout", timeout=10).status_code == 200
        r = requests.get(api.base + "/api/v1/staff/me", headers={"Authorization": f"Bearer {token}"}, timeout=10)
        assert r.status_code == 401 and _code(r) == "not_signed_in"

    r = requests.post(
        api.base + "/api/v1/staff/login", json={"username": "tech1", "password": "technician password"}, timeout=10
    )
    tech = {"Authorization": f"Bearer {r.json()['token']}"}
    assert requests.get(api.base + "/api/v1/kiosks", headers=tech, timeout=10).status_code == 200
    assert requests.get(api.base + "/api/v1/audit/verify", headers=tech, timeout=10).status_code == 403
    assert requests.get(api.base + "/api/v1/admin/credentials", headers=tech, timeout=10).status_code == 403
    assert api.get("/api/v1/audit/verify").status_code == 200  # admin
    assert requests.get(api.base + "/api/v1/kiosks", timeout=10).status_code == 401
    later = datetime.now(UTC) + SESSION_TTL + timedelta(minutes=1)
    monkeypatch.setattr("server.auth.staff._now", lambda: later)
    r = requests.get(api.base + "/api/v1/kiosks", headers=tech, timeout=10)
    assert r.status_code == 401 and _code(r) == "not_signed_in"
    actions = [a[0] for a in api.sql("SELECT action FROM audit_log")]
    assert "staff.login" in actions and "staff.login_failed" in actions and "staff.logout" in actions


def test_cli_adds_staff_and_provisions_kiosks(tmp_path: Path) -> None:
    db = str(tmp_path / "cli.db")
    run = [sys.executable, "-m", "server"]
    r = subprocess.run(
        [*run, "staff", "add", "--db", db, "--username", "root", "--role", "admin"],
        input="a good password\n",
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
    assert "a good password" not in r.stdout + r.stderr
    r = subprocess.run(
        [*run, "staff", "add", "--db", db, "--username", "root", "--role", "admin"],
        input="a good password\n",
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 2 and "already exists" in r.stderr
    from server.db import open_database

    store = open_database(db)
    with store.connection() as conn:
        assert authenticate(conn, "root", "a good password") == StaffUser("root", "admin")
    store.close()
