"""Run the real server (uvicorn, real sockets) in a thread, for tests and the demo.

The listening socket is bound before the app is built, so port 0 works and the app knows its own
URL (the default payment provider is the sandbox inside this same server).
"""

from __future__ import annotations

import dataclasses
import logging
import socket
import threading
import time
from pathlib import Path
from types import TracebackType

import uvicorn
from fastapi import APIRouter, FastAPI

from server.app import create_app
from server.settings import ServerSettings
from sync.signing import KioskCredential

logger = logging.getLogger(__name__)


def bind_socket(host: str = "127.0.0.1", port: int = 0) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Inherited by every accepted connection (Linux). Without it, on a keep-alive connection the
    # response body waits behind Nagle for the client's delayed ACK of the headers: +40 ms a request
    # (measured by bench/server_load.py: every endpoint's p50 was 44-48 ms, 2 ms with this).
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


class ServerThread:
    """``with ServerThread(settings) as srv: requests.get(srv.base_url + "/health")``."""

    def __init__(
        self,
        settings: ServerSettings | None = None,
        *,
        db_path: Path | str | None = None,
        startup_timeout: float = 15.0,
        log_level: str = "warning",
    ) -> None:
        if settings is None:
            if db_path is None:
                raise ValueError("give settings or db_path")
            settings = ServerSettings(db_path=Path(db_path))
        self._settings = settings
        self._startup_timeout = startup_timeout
        self._log_level = log_level
        self._sock: socket.socket | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.app: FastAPI | None = None
        self._credentials: dict[str, KioskCredential] = {}
        self._staff_tokens: dict[tuple[str, str], str] = {}

    @property
    def settings(self) -> ServerSettings:
        return self._settings

    @property
    def base_url(self) -> str:
        return self._settings.base_url

    def start(self) -> ServerThread:
        sock = bind_socket("127.0.0.1", 0)
        self._sock = sock
        self._settings = dataclasses.replace(self._settings, host="127.0.0.1", port=sock.getsockname()[1])
        try:
            self.app = create_app(self._settings)
            config = uvicorn.Config(self.app, log_level=self._log_level, lifespan="on", timeout_graceful_shutdown=5)
            self._server = uvicorn.Server(config)
            self._thread = threading.Thread(
                target=self._server.run, kwargs={"sockets": [sock]}, name="uvicorn-test", daemon=True
            )
            self._thread.start()
            deadline = time.monotonic() + self._startup_timeout
            while not self._server.started:
                if not self._thread.is_alive() or time.monotonic() > deadline:
                    raise RuntimeError("server thread failed to start")
                time.sleep(0.01)
        except BaseException:
            self.stop()
            raise
        logger.info("test server listening on %s", self.base_url)
        return self

    def stop(self) -> None:
        if self.app is not None:
            self.app.state.payment_stack.stop_sandboxes()  # withheld sandbox answers would delay the shutdown
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=20)
            if self._thread.is_alive():
                logger.error("server thread did not stop")
        if self._sock is not None:
            self._sock.close()
        self._server = self._thread = self._sock = None
        self._credentials.clear()
        self._staff_tokens.clear()

    # -- credentials for tests and the demo (straight into the database, no HTTP) ---------------------

    def kiosk_credential(self, kiosk_id: str) -> KioskCredential:
        """A provisioned credential for ``kiosk_id`` (made once per kiosk and server run)."""
        from server.auth.kiosks import provision_kiosk

        if kiosk_id not in self._credentials:
            assert self.app is not None, "start the server first"
            with self.app.state.db.connection() as conn:
                secret = provision_kiosk(conn, self.app.state.cipher, kiosk_id)
            self._credentials[kiosk_id] = KioskCredential(kiosk_id, secret)
        return self._credentials[kiosk_id]

    def write_credential(self, kiosk_id: str, path: Path) -> KioskCredential:
        """Provision ``kiosk_id`` and save its credential file (what enrollment leaves on a kiosk)."""
        from sync.enroll import save_credential

        credential = self.kiosk_credential(kiosk_id)
        save_credential(path, credential, server_url=self.base_url)
        return credential

    def staff_token(self, username: str = "admin", role: str = "admin") -> str:
        """A session token of a staff account (created with a random password if missing)."""
        import secrets

        from server.auth.staff import StaffUser, ensure_staff, new_session

        key = (username, role)
        if key not in self._staff_tokens:
            assert self.app is not None, "start the server first"
            with self.app.state.db.connection() as conn:
                ensure_staff(conn, username, secrets.token_urlsafe(16), role)
                self._staff_tokens[key] = new_session(conn, StaffUser(username, role))  # type: ignore[arg-type]
        return self._staff_tokens[key]

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


class RouterServer:
    """One router (a provider sandbox, say) on 127.0.0.1:<free port>, served by uvicorn in a thread."""

    def __init__(self, router: APIRouter) -> None:
        app = FastAPI()
        app.include_router(router)
        self._sock = bind_socket()
        self.base_url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        config = uvicorn.Config(app, log_level="warning", lifespan="off", timeout_graceful_shutdown=2)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, name="router-server", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            assert self._thread.is_alive() and time.monotonic() < deadline, "router server did not start"
            time.sleep(0.01)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._sock.close()
