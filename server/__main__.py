"""``python -m server --db PATH [--key PATH] [--host 127.0.0.1] [--port 8700] [--fast-payments]``."""

from __future__ import annotations

import argparse
import logging
import socket
import sys
from pathlib import Path

import uvicorn

from server.app import create_app
from server.crypto import KeyFileError
from server.settings import ServerSettings
from server.testing import bind_socket

logger = logging.getLogger(__name__)


class _AnnouncingServer(uvicorn.Server):
    """Prints one line once the socket is really serving, for scripts waiting on stdout."""

    announce = ""

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if not self.should_exit:
            print(self.announce, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m server", description="Hospital kiosk central server")
    parser.add_argument("--db", required=True, type=Path, help="SQLite file (created and seeded if missing)")
    parser.add_argument(
        "--key", type=Path, default=None, help="patient-data key (default: server.key beside --db, created if missing)"
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8700, help="0 picks a free port")
    parser.add_argument(
        "--fast-payments", action="store_true", help="demo/test timings: query 0.5 s, deadline 4 s, reverse after 1 s"
    )
    parser.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    args = parser.parse_args(argv)

    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        sock = bind_socket(args.host, args.port)
    except OSError as exc:
        print(f"cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 2
    settings = ServerSettings(db_path=args.db, key_path=args.key, host=args.host, port=sock.getsockname()[1])
    if args.fast_payments:
        settings = settings.with_fast_payments()
    try:
        app = create_app(settings)
    except KeyFileError as exc:
        sock.close()
        print(f"cannot start: {exc}", file=sys.stderr)
        return 2
    server = _AnnouncingServer(uvicorn.Config(app, log_level=args.log_level, timeout_graceful_shutdown=10))
    server.announce = f"server listening on {settings.base_url}"
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass  # uvicorn re-raises the captured Ctrl-C after a clean shutdown: that is a normal stop
    finally:
        sock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
