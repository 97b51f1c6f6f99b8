"""The server's command line.

``python -m server --db PATH [--database-url URL] [--key PATH] [--host 127.0.0.1] [--port 8700]
[--fast-payments] [--demo-admin-password PW]`` serves. Administration subcommands:

``python -m server staff add --db PATH [--database-url URL] --username U --role admin|cashier|technician
[--password-file FILE]`` creates a staff account; the password is read from the file or from stdin
(first line), never from the command line (it would show in ``ps`` and the shell history).

``python -m server kiosk add --db PATH [--database-url URL] [--key PATH] --kiosk-id ID`` provisions a
kiosk without the enrollment flow and prints its secret once (store it in the kiosk's credential file).
"""

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


def _admin_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m server", description="Hospital kiosk server administration")
    groups = parser.add_subparsers(dest="group", required=True)
    staff_cmd = groups.add_parser("staff", help="staff accounts").add_subparsers(dest="action", required=True)
    kiosk_cmd = groups.add_parser("kiosk", help="kiosk credentials").add_subparsers(dest="action", required=True)
    staff_add = staff_cmd.add_parser("add", help="create a staff account (password from stdin or --password-file)")
    kiosk_add = kiosk_cmd.add_parser("add", help="provision a kiosk credential and print its secret once")
    for sub in (staff_add, kiosk_add):
        sub.add_argument("--db", required=True, type=Path, help="SQLite file (anchors the key file with PostgreSQL)")
        sub.add_argument("--database-url", default=None, help="postgresql://... (instead of the SQLite file)")
        sub.add_argument("--key", type=Path, default=None, help="the server key (default: server.key beside --db)")
    staff_add.add_argument("--username", required=True)
    staff_add.add_argument("--role", required=True, choices=["admin", "cashier", "technician"])
    staff_add.add_argument("--password-file", type=Path, default=None, help="file whose first line is the password")
    kiosk_add.add_argument("--kiosk-id", required=True)
    return parser


def admin(argv: list[str]) -> int:
    from server.auth.kiosks import provision_kiosk
    from server.auth.staff import create_staff
    from server.crypto import FieldCipher, load_or_create_key
    from server.db import open_database

    args = _admin_parser().parse_args(argv)
    settings = ServerSettings(db_path=args.db, database_url=args.database_url, key_path=args.key)
    try:
        cipher = FieldCipher(load_or_create_key(settings.resolved_key_path))
    except KeyFileError as exc:
        print(f"cannot start: {exc}", file=sys.stderr)
        return 2
    db = open_database(settings.database_url or settings.db_path)
    try:
        db.init(cipher)
        with db.connection() as conn:
            if args.group == "staff":
                if args.password_file is not None:
                    lines = args.password_file.read_text(encoding="utf-8").splitlines()
                else:
                    if sys.stdin.isatty():
                        import getpass

                        lines = [getpass.getpass("password: ")]
                    else:
                        lines = sys.stdin.read().splitlines()
                password = lines[0] if lines else ""
                create_staff(conn, args.username, password, args.role)
                print(f"staff account {args.username} ({args.role}) created")
            else:
                secret = provision_kiosk(conn, cipher, args.kiosk_id)
                print(f"kiosk {args.kiosk_id} provisioned; its secret (shown once): {secret}")
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        db.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in ("staff", "kiosk"):
        return admin(argv)
    parser = argparse.ArgumentParser(
        prog="python -m server",
        description="Hospital kiosk central server (administration: python -m server staff|kiosk add --help)",
    )
    parser.add_argument("--db", required=True, type=Path, help="SQLite file (created and seeded if missing)")
    parser.add_argument(
        "--database-url", default=None, help="postgresql://user:pw@host/db: keep the data in PostgreSQL instead"
    )
    parser.add_argument(
        "--key", type=Path, default=None, help="patient-data key (default: server.key beside --db, created if missing)"
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8700, help="0 picks a free port")
    parser.add_argument(
        "--fast-payments", action="store_true", help="demo/test timings: query 0.5 s, deadline 4 s, reverse after 1 s"
    )
    parser.add_argument(
        "--demo-admin-password",
        default=None,
        help="DEMO ONLY: create the staff account 'admin' with this password at start if missing",
    )
    parser.add_argument(
        "--demo-patients",
        action="store_true",
        help="DEMO ONLY: the demo ID cards' patients, with bookings around the start time and lab/imaging reports",
    )
    parser.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    args = parser.parse_args(argv)

    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        sock = bind_socket(args.host, args.port)
    except OSError as exc:
        print(f"cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 2
    settings = ServerSettings(
        db_path=args.db,
        database_url=args.database_url,
        key_path=args.key,
        host=args.host,
        port=sock.getsockname()[1],
        demo_admin_password=args.demo_admin_password,
        seed_demo_patients=args.demo_patients,
    )
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
