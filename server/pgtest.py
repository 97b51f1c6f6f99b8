"""A throw-away PostgreSQL cluster for tests and benches: ``initdb`` in a temp dir, loopback only.

Uses Debian's server binaries (``/usr/lib/postgresql/<N>/bin``, package ``postgresql``). The
server refuses to run as root, so under root the cluster runs as the ``postgres`` system user
the package creates. ``trust`` authentication on 127.0.0.1 only: nothing outside this machine
can reach it, and it is deleted when stopped.

``python -m server.pgtest`` starts one, prints its URL and waits for Ctrl-C (handy for
``python -m server --database-url ...`` by hand).
"""

from __future__ import annotations

import contextlib
import glob
import logging
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from types import TracebackType

logger = logging.getLogger(__name__)


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server binaries here (install the ``postgresql`` package)."""


def find_bindir() -> Path:
    override = os.environ.get("KIOSK_PG_BINDIR")
    candidates = [override] if override else sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for candidate in candidates:
        if candidate and (Path(candidate) / "initdb").exists():
            return Path(candidate)
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    raise PostgresUnavailable("PostgreSQL server binaries not found (apt install postgresql)")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PostgresCluster:
    """``with PostgresCluster() as pg: url = pg.create_database()``."""

    def __init__(self, *, port: int | None = None, fsync: bool = False) -> None:
        self.bindir = find_bindir()
        self.port = port or _free_port()
        # fsync off for tests only: a throw-away cluster has nothing to lose in a power cut.
        self.fsync = fsync
        self._tmp: str | None = None
        self._user: str | None = None
        self.started = False

    @property
    def datadir(self) -> Path:
        assert self._tmp is not None
        return Path(self._tmp) / "data"

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        cmd = [str(self.bindir / args[0]), *args[1:]]
        if self._user:
            cmd = ["runuser", "-u", self._user, "--", *cmd]
        return subprocess.run(cmd, check=check, capture_output=True, text=True, timeout=120)

    def start(self) -> PostgresCluster:
        self._tmp = tempfile.mkdtemp(prefix="kiosk-pg-")
        if os.geteuid() == 0:
            try:
                pw = pwd.getpwnam("postgres")
            except KeyError:
                raise PostgresUnavailable("running as root and there is no 'postgres' user to run the server") from None
            self._user = "postgres"
            os.chown(self._tmp, pw.pw_uid, pw.pw_gid)
        try:
            self._run("initdb", "-D", str(self.datadir), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-locale")
            options = [
                f"-p {self.port}",
                "-c listen_addresses=127.0.0.1",
                f"-c unix_socket_directories={self._tmp}",
                "-c max_connections=300",
                "-c shared_buffers=128MB",
            ]
            if not self.fsync:
                options += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
            self._run("pg_ctl", "-D", str(self.datadir), "-l", str(Path(self._tmp) / "log"), "-w", "-t", "60",
                      "-o", " ".join(options), "start")
        except subprocess.CalledProcessError as exc:
            log = Path(self._tmp) / "log"
            detail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            self._cleanup()
            raise RuntimeError(f"PostgreSQL failed to start: {exc.stderr or exc.stdout}\n{detail}") from None
        self.started = True
        logger.info("throw-away PostgreSQL on 127.0.0.1:%d", self.port)
        return self

    def create_database(self, name: str | None = None) -> str:
        """A new empty database; returns its URL."""
        import psycopg

        name = name or f"t_{uuid.uuid4().hex[:16]}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def drop_database(self, url: str) -> None:
        import psycopg

        name = url.rsplit("/", 1)[1]
        with contextlib.suppress(psycopg.Error), psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        if self.started:
            self._run("pg_ctl", "-D", str(self.datadir), "-m", "immediate", "-w", "stop", check=False)
            self.started = False
        self._cleanup()

    def _cleanup(self) -> None:
        if self._tmp:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def __enter__(self) -> PostgresCluster:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def main() -> int:
    logging.basicConfig(level="INFO")
    with PostgresCluster() as pg:
        print(pg.create_database("kiosk"), flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                time.sleep(3600)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
