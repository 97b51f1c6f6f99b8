"""``python -m server.cashier add``: give a staff account a cashier-window profile.

``python -m server.cashier add --db PATH [--database-url URL] [--key PATH] --username U --staff-no N
[--supervisor] [--card]`` reads the PIN from the first line of stdin (or a prompt), and with
``--card`` the staff member's ID number from the second line: only a keyed hash of it is stored.
Neither ever comes from the command line (it would show in ``ps`` and the shell history). The
account itself is made first with ``python -m server staff add --role cashier``.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from server.cashier.staff import add_cashier
from server.crypto import FieldCipher, KeyFileError, load_or_create_key
from server.db import open_database
from server.settings import ServerSettings
from sync.staffcard import staff_card_hash


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m server.cashier", description="Cashier window profiles")
    actions = parser.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", help="add a cashier profile (PIN on stdin; with --card, the ID number next)")
    add.add_argument("--db", required=True, type=Path, help="SQLite file (anchors the key file with PostgreSQL)")
    add.add_argument("--database-url", default=None, help="postgresql://... (instead of the SQLite file)")
    add.add_argument("--key", type=Path, default=None, help="the server key (default: server.key beside --db)")
    add.add_argument("--username", required=True, help="an existing staff account (role cashier or admin)")
    add.add_argument("--staff-no", required=True, help="the number typed at the window (3-12 digits)")
    add.add_argument("--supervisor", action="store_true", help="may approve refunds")
    add.add_argument("--card", action="store_true", help="also sign in with the staff member's ID card")
    return parser


def _secrets(card: bool) -> tuple[str, str | None]:
    if sys.stdin.isatty():
        pin = getpass.getpass("PIN (4-12 digits): ")
        number = getpass.getpass("ID number on the staff card: ") if card else None
        return pin, number
    lines = sys.stdin.read().splitlines()
    pin = lines[0].strip() if lines else ""
    number = lines[1].strip() if card and len(lines) > 1 else None
    return pin, number


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    pin, number = _secrets(args.card)
    if args.card and not number:
        print("error: --card needs the ID number on the second line of stdin", file=sys.stderr)
        return 2
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
            add_cashier(
                conn,
                cipher,
                username=args.username,
                staff_no=args.staff_no,
                pin=pin,
                supervisor=args.supervisor,
                card_hash=staff_card_hash(number) if number else None,
            )
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        db.close()
    role = "supervisor" if args.supervisor else "cashier"
    print(f"cashier profile {args.staff_no} ({role}) added to {args.username}{' with a staff card' if number else ''}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
