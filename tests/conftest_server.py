"""Fixtures for the server and client tests (a pytest plugin: ``pytest_plugins = ["conftest_server"]``).

Test modules reach the helpers through the ``api`` fixture (``api.wechat_code(0)``) and import
this module only under TYPE_CHECKING: importing it directly would defeat assertion rewriting.

``pay_server`` is the real server on 127.0.0.1 with payment timings shrunk further than
``--fast-payments`` (a USERPAYING -> REVERSED cycle takes ~2.5 s), and ``api`` is a small helper
that books and pays through plain HTTP, so the server tests don't depend on ``sync.client``.

Credentials: ``api.get``/``api.post`` sign kiosk requests with a provisioned credential, as kiosk
``KIOSK-T1`` or as the kiosk named in a ``/kiosks/{id}/...`` path (provisioned on first use), and
send operator requests (fleet overview, commands, audit, admin) with an admin session
(``api.admin`` is that session on its own). ``api.kiosk(id)`` is a new session signed as ``id``.
"""

from __future__ import annotations

import dataclasses
import itertools
import os
import re
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
import requests
from requests.auth import AuthBase

from server.db import Store, open_database
from server.dbapi import write_tx
from server.patients import resident_check_digit
from server.pgtest import PostgresCluster, PostgresUnavailable
from server.settings import ServerSettings
from server.testing import ServerThread
from sync.signing import KioskAuth, KioskCredential

WECHAT_CODE_PREFIX = "13" + "4567890123456" + "78"  # 17 digits; the 18th picks the sandbox outcome
FINAL = {"SUCCESS", "FAILED", "REVERSED"}

_ids = itertools.count(1)

TEST_KIOSK = "KIOSK-T1"
_PATH_KIOSK = re.compile(r"^/api/v1/kiosks/([^/?]+)/(?:heartbeat|commands/[^/?]+/ack)(?:\?|$)")
_OPERATOR = re.compile(r"^/api/v1/(?:kiosks(?:\?|$)|kiosks/[^/?]+/commands(?:\?|$)|audit/|admin/|staff/)")


class SignAsKiosk(AuthBase):
    """Signs each request as the kiosk its path names (heartbeat, ack), else as ``default``."""

    def __init__(self, srv: ServerThread, default: str = TEST_KIOSK) -> None:
        self.srv, self.default = srv, default

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        match = _PATH_KIOSK.match(r.path_url)
        kiosk_id = self.default
        if match and re.fullmatch(r"[A-Za-z0-9._-]{1,32}", unquote(match.group(1))):
            kiosk_id = unquote(match.group(1))
        return KioskAuth.from_credential(self.srv.kiosk_credential(kiosk_id))(r)


def quick_settings(db_path: Path, **overrides: Any) -> ServerSettings:
    settings = dataclasses.replace(
        ServerSettings(db_path=db_path),
        query_interval_s=0.2,
        query_deadline_s=2.0,
        reverse_delay_s=0.5,
        sandbox_userpaying_s=1.0,
        provider_read_timeout_s=1.0,
        sandbox_lost_response_s=1.8,
    )
    return dataclasses.replace(settings, **overrides)


def wechat_code(last_digit: int) -> str:
    return f"{WECHAT_CODE_PREFIX}{last_digit}"


def resident_id(birth: date, seq: int, *, male: bool) -> str:
    """A checksum-valid, fictitious resident ID number (region 110105)."""
    order = seq * 2 + (1 if male else 0)
    first17 = f"110105{birth:%Y%m%d}{order % 1000:03d}"
    return first17 + resident_check_digit(first17)


def new_patient_payload(*, male: bool = True) -> dict[str, Any]:
    n = next(_ids)
    birth = date(1960, 1, 1) + timedelta(days=n * 37)
    return {
        "id_type": "resident",
        "id_number": resident_id(birth, n, male=male),
        "name": f"测试患者{n}",
        "sex": "M" if male else "F",
        "birth": birth.isoformat(),
    }


class Api:
    """Plain-HTTP helper over one server; remembers slots it used so tests don't collide."""

    # reachable from tests through the fixture, so test modules never import this plugin module
    wechat_code = staticmethod(wechat_code)
    new_patient_payload = staticmethod(new_patient_payload)
    quick_settings = staticmethod(quick_settings)

    def __init__(self, srv: ServerThread) -> None:
        self.srv = srv
        self.base = srv.base_url
        self.credential: KioskCredential = srv.kiosk_credential(TEST_KIOSK)
        self.http = self.session()
        self.admin = requests.Session()
        self.admin.headers["Authorization"] = f"Bearer {srv.staff_token('admin', 'admin')}"
        self._used_slots: set[int] = set()

    def close(self) -> None:
        self.http.close()
        self.admin.close()

    def session(self) -> requests.Session:
        """A new session signed like ``api.http`` (e.g. one per thread); the caller closes it."""
        s = requests.Session()
        s.auth = SignAsKiosk(self.srv)
        return s

    def kiosk(self, kiosk_id: str) -> requests.Session:
        """A new session whose every request is signed as ``kiosk_id`` (provisioned on first use)."""
        s = requests.Session()
        s.auth = KioskAuth.from_credential(self.srv.kiosk_credential(kiosk_id))
        return s

    def staff(self, role: str, username: str | None = None) -> requests.Session:
        """A new session signed in as a staff member with ``role``."""
        s = requests.Session()
        s.headers["Authorization"] = f"Bearer {self.srv.staff_token(username or role, role)}"
        return s

    def _for(self, path: str) -> requests.Session:
        return self.admin if _OPERATOR.match(path) else self.http

    def get(self, path: str, **kw: Any) -> requests.Response:
        return self._for(path).get(self.base + path, timeout=10, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> requests.Response:
        return self._for(path).post(self.base + path, json=body, timeout=10, **kw)

    def sql(self, query: str, params: tuple[Any, ...] = (), *, write: bool = False) -> list[Any]:
        """Run SQL on the server's own database, whichever backend it is."""
        assert self.srv.app is not None
        with self.srv.app.state.db.connection() as conn:
            if not write:
                return list(conn.execute(query, params).fetchall())
            with write_tx(conn):
                cur = conn.execute(query, params)
                return list(cur.fetchall()) if "RETURNING" in query.upper() else []

    @property
    def backend(self) -> str:
        return "postgres" if self.srv.settings.database_url else "sqlite"

    @property
    def sandbox_orders(self) -> int:
        assert self.srv.app is not None
        return int(self.srv.app.state.sandbox.order_count())

    def patient(self) -> int:
        r = self.post("/api/v1/patients/identify", new_patient_payload())
        assert r.status_code == 200, r.text
        return int(r.json()["patient_id"])

    def free_slot(self, min_left: int = 1) -> dict[str, Any]:
        today = date.today().isoformat()
        for dept in self.get("/api/v1/departments").json():
            for doc in self.get(f"/api/v1/departments/{dept['code']}/doctors", params={"date": today}).json():
                for slot in self.get(f"/api/v1/doctors/{doc['code']}/slots", params={"date": today}).json():
                    if slot["left"] >= min_left and slot["slot_id"] not in self._used_slots:
                        self._used_slots.add(slot["slot_id"])
                        return dict(slot)
        raise AssertionError("no free slot left in the seeded hospital")

    def register(self, patient_id: int | None = None, slot_id: int | None = None) -> dict[str, Any]:
        body = {
            "idempotency_key": str(uuid.uuid4()),
            "patient_id": patient_id or self.patient(),
            "slot_id": slot_id or self.free_slot()["slot_id"],
        }
        r = self.post("/api/v1/registrations", body)
        assert r.status_code == 201, r.text
        return dict(r.json())

    def pay_body(self, reg: dict[str, Any], digit: int, key: str | None = None) -> dict[str, Any]:
        return {
            "idempotency_key": key or str(uuid.uuid4()),
            "registration_id": reg["registration_id"],
            "amount_cents": reg["amount_cents"],
            "auth_code": wechat_code(digit),
            "kiosk_id": TEST_KIOSK,
        }

    def wait_final(self, key: str, timeout: float = 20.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            r = self.get(f"/api/v1/payments/{key}")
            assert r.status_code == 200, r.text
            body = dict(r.json())
            if body["status"] in FINAL:
                return body
            time.sleep(0.1)
        raise AssertionError(f"payment {key} still PENDING after {timeout} s")


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PostgresCluster]:
    """One throw-away PostgreSQL for the session; each test gets its own database in it.

    Skipped where PostgreSQL is not installed, unless KIOSK_REQUIRE_POSTGRES=1 (``make test`` sets
    it, so CI can never pass by silently skipping the PostgreSQL half of the suite).
    """
    try:
        cluster = PostgresCluster().start()
    except PostgresUnavailable as exc:
        if os.environ.get("KIOSK_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PostgreSQL is required here: {exc}")
        pytest.skip(str(exc))
    yield cluster
    cluster.stop()


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    """The server store under test; every server test runs on both."""
    return str(request.param)


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest) -> Iterator[str | None]:
    """None for SQLite (the file in tmp_path), else a fresh PostgreSQL database."""
    if backend == "sqlite":
        yield None
        return
    cluster: PostgresCluster = request.getfixturevalue("pg_cluster")
    url = cluster.create_database()
    yield url
    cluster.drop_database(url)


@pytest.fixture
def fresh_settings(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Callable[..., ServerSettings]]:
    """``fresh_settings("other", **overrides)``: quick settings over a new, empty database of the
    backend under test (for a second server, or one restarted on the same data)."""
    made: list[str] = []
    cluster: PostgresCluster | None = request.getfixturevalue("pg_cluster") if backend == "postgres" else None

    def make(name: str, **overrides: Any) -> ServerSettings:
        url = None
        if cluster is not None:
            url = cluster.create_database()
            made.append(url)
        (tmp_path / name).mkdir(exist_ok=True)
        return quick_settings(tmp_path / name / "server.db", database_url=url, **overrides)

    yield make
    for url in made:
        assert cluster is not None
        cluster.drop_database(url)


@pytest.fixture
def store(backend: str, database_url: str | None, tmp_path: Path) -> Iterator[Store]:
    """An initialized, empty server store of the backend under test (no HTTP server)."""
    db = open_database(database_url or tmp_path / "store.db")
    db.init()
    yield db
    db.close()


@pytest.fixture
def pay_server(tmp_path: Path, database_url: str | None) -> Iterator[ServerThread]:
    with ServerThread(quick_settings(tmp_path / "server.db", database_url=database_url)) as srv:
        yield srv


@pytest.fixture
def api(pay_server: ServerThread) -> Iterator[Api]:
    helper = Api(pay_server)
    yield helper
    helper.close()


class StubServer:
    """A tiny scripted HTTP server on 127.0.0.1 for failure modes a real server won't produce.

    ``routes[path] = Route(...)``; ``delay_s`` sleeps before answering (released at stop), and
    ``drop=True`` closes the connection after reading the request, without any answer.
    """

    @dataclasses.dataclass
    class Route:
        status: int = 200
        body: bytes = b""
        content_type: str = "application/json"
        delay_s: float = 0.0
        drop: bool = False

    def __init__(self) -> None:
        self.routes: dict[str, StubServer.Route] = {}
        self.release = threading.Event()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                route = stub.routes.get(self.path.split("?")[0], StubServer.Route(404, b'{"error": {}}'))
                if route.delay_s:
                    stub.release.wait(route.delay_s)
                if route.drop:
                    self.close_connection = True
                    return
                self.send_response(route.status)
                self.send_header("Content-Type", route.content_type)
                self.send_header("Content-Length", str(len(route.body)))
                self.end_headers()
                self.wfile.write(route.body)

            do_GET = do_POST = _serve

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="stub-http", daemon=True)

    def start(self) -> StubServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.release.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


@pytest.fixture
def stub_http() -> Iterator[StubServer]:
    stub = StubServer().start()
    yield stub
    stub.stop()


@pytest.fixture
def closed_port_url() -> str:
    """A loopback URL where nothing listens: connections are refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"
