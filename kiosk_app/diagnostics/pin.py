"""The technician PIN: PBKDF2-SHA256 hashes and a gate that locks after too many wrong tries.

No Qt here. The config holds only the hash (``[diagnostics] pin_hash``), in the form
``pbkdf2_sha256$<iterations>$<salt hex>$<hash hex>``; ``python -m kiosk_app.diagnostics.pin``
asks for a PIN twice and prints the line to paste into the config.

:class:`PinGate` counts wrong tries in the local store, so switching the kiosk off and on
does not reset a lock-out. Checking a PIN takes ~0.2 s of CPU and writes to the store: call
:meth:`PinGate.try_pin` from a worker, never on the GUI thread.
"""

from __future__ import annotations

import getpass
import hashlib
import hmac
import logging
import math
import secrets
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import sqlite_utils

from offline_cache.journal import now
from offline_cache.store import Store

log = logging.getLogger(__name__)

ALGORITHM = "pbkdf2_sha256"
ITERATIONS = 600_000  # OWASP's 2023 figure for PBKDF2-HMAC-SHA256; ~0.2 s on a kiosk CPU
MIN_ITERATIONS = 200_000  # a stored hash weaker than this is refused
SALT_BYTES = 16
PIN_MIN, PIN_MAX = 4, 12


# ---- Hashing


def hash_pin(pin: str, *, iterations: int = ITERATIONS, salt: bytes | None = None) -> str:
    """``pbkdf2_sha256$<iterations>$<salt hex>$<hash hex>`` for ``pin`` with a random salt."""
    if iterations < MIN_ITERATIONS:
        raise ValueError(f"iterations must be at least {MIN_ITERATIONS}")
    salt = secrets.token_bytes(SALT_BYTES) if salt is None else salt
    digest = hashlib.pbkdf2_hmac("sha256", pin.encode("utf-8"), salt, iterations)
    return f"{ALGORITHM}${iterations}${salt.hex()}${digest.hex()}"


def parse_hash(stored: str) -> tuple[int, bytes, bytes] | None:
    """(iterations, salt, digest) of a well-formed stored hash, else None."""
    parts = stored.strip().split("$")
    if len(parts) != 4 or parts[0] != ALGORITHM:
        return None
    try:
        iterations, salt, digest = int(parts[1]), bytes.fromhex(parts[2]), bytes.fromhex(parts[3])
    except ValueError:
        return None
    if iterations < MIN_ITERATIONS or len(salt) < 8 or len(digest) != 32:
        return None
    return iterations, salt, digest


def verify_pin(pin: str, stored: str) -> bool:
    """Whether ``pin`` matches ``stored``; a malformed or too weak hash never matches."""
    parsed = parse_hash(stored)
    if parsed is None:
        return False
    iterations, salt, digest = parsed
    candidate = hashlib.pbkdf2_hmac("sha256", pin.encode("utf-8"), salt, iterations)
    return hmac.compare_digest(candidate, digest)


def valid_pin(pin: str) -> bool:
    """What the PIN pad and the CLI accept: 4 to 12 digits."""
    return pin.isascii() and pin.isdigit() and PIN_MIN <= len(pin) <= PIN_MAX


# ---- The gate


@dataclass(frozen=True)
class Attempt:
    """The outcome of one PIN entry."""

    ok: bool
    locked_for_s: float = 0.0  # > 0: the gate is locked for this long (now, or by this attempt)
    attempts_left: int = 0  # wrong tries left before a lock-out
    just_locked: bool = False  # this attempt caused the lock-out
    refused: bool = False  # not checked at all: locked, or no valid PIN hash configured

    @property
    def locked_minutes(self) -> int:
        return max(1, math.ceil(self.locked_for_s / 60))


class PinGate:
    """``max_attempts`` wrong PINs lock the gate for ``lockout_s`` seconds, across restarts.

    ``clock`` is wall-clock seconds (the lock must survive a reboot, so not monotonic); a lock
    that looks longer than ``lockout_s`` (the clock was set back) is cut to ``lockout_s``.
    """

    def __init__(
        self,
        store: Store,
        pin_hash: str,
        *,
        max_attempts: int = 5,
        lockout_s: float = 300,
        clock: Callable[[], float] = time.time,
        name: str = "diagnostics",
    ) -> None:
        self.store, self.name = store, name
        self.max_attempts, self.lockout_s, self.clock = max_attempts, lockout_s, clock
        self._hash = pin_hash
        self._lock = threading.Lock()
        self._failures, self._locked_until = self._load()
        if pin_hash and not self.configured:
            log.error("diagnostics.pin_hash is malformed or under %d iterations: no PIN entry", MIN_ITERATIONS)

    # ---- Public API

    @property
    def configured(self) -> bool:
        """False when no usable PIN hash is configured: nobody can get in by PIN."""
        return parse_hash(self._hash) is not None

    def locked_for(self) -> float:
        """Seconds until the gate opens again; 0 when it is open."""
        with self._lock:
            return self._remaining(self.clock())

    def attempts_left(self) -> int:
        with self._lock:
            return max(0, self.max_attempts - self._failures)

    def try_pin(self, pin: str) -> Attempt:
        """Check one PIN (blocking: PBKDF2 plus a store write)."""
        with self._lock:
            t = self.clock()
            remaining = self._remaining(t)
            if remaining > 0:
                return Attempt(False, locked_for_s=remaining, refused=True)
            if not self.configured:
                return Attempt(False, attempts_left=self.max_attempts - self._failures, refused=True)
            if verify_pin(pin, self._hash):
                if self._failures:
                    self._failures = 0
                    self._save()
                return Attempt(True, attempts_left=self.max_attempts)
            self._failures += 1
            if self._failures >= self.max_attempts:
                self._failures, self._locked_until = 0, t + self.lockout_s
                self._save()
                log.warning("diagnostics PIN locked for %d s after %d wrong PINs", self.lockout_s, self.max_attempts)
                return Attempt(False, locked_for_s=float(self.lockout_s), just_locked=True)
            self._save()
            return Attempt(False, attempts_left=self.max_attempts - self._failures)

    # ---- Internals

    def _remaining(self, t: float) -> float:
        left = self._locked_until - t
        if left > self.lockout_s:  # the clock went backwards: never lock longer than lockout_s
            self._locked_until = t + self.lockout_s
            left = self.lockout_s
        return max(0.0, left)

    def _load(self) -> tuple[int, float]:
        rows = list(self.store.read().query("SELECT failures, locked_until FROM pin_gate WHERE name = ?", [self.name]))
        if not rows:
            return 0, 0.0
        return int(rows[0]["failures"]), float(rows[0]["locked_until"])

    def _save(self) -> None:
        row = {"name": self.name, "failures": self._failures, "locked_until": self._locked_until, "updated_at": now()}

        def op(db: sqlite_utils.Database) -> None:
            db.table("pin_gate").upsert(row, pk="name")

        self.store.write(op)


# ---- Command line: print a hash for the config


def staff_card_allowed(id_number: str, staff_cards: tuple[str, ...]) -> bool:
    """Whether an ID card's number is one of the configured staff cards (slow: call from a worker).

    The config holds PBKDF2 hashes only, so a leaked config does not list staff ID numbers in
    clear; an ID number has little entropy, so this slows guessing, it does not prevent it.
    """
    number = id_number.strip().upper()
    return bool(number) and any(verify_pin(number, stored) for stored in staff_cards)


def main(argv: list[str] | None = None) -> int:
    """Ask for a PIN twice (not echoed) and print the ``pin_hash`` line for the config."""
    if argv is None:
        argv = sys.argv[1:]
    if "--staff-card" in argv:
        return _staff_card_main()
    try:
        first = getpass.getpass(f"New technician PIN ({PIN_MIN}-{PIN_MAX} digits): ")
        second = getpass.getpass("Repeat the PIN: ")
    except (EOFError, KeyboardInterrupt):
        print("cancelled", file=sys.stderr)
        return 1
    if first != second:
        print("The two PINs differ; nothing was printed.", file=sys.stderr)
        return 1
    if not valid_pin(first):
        print(f"A PIN is {PIN_MIN} to {PIN_MAX} digits.", file=sys.stderr)
        return 1
    print("# put this under [diagnostics] in the kiosk's config file:", file=sys.stderr)
    print(f'pin_hash = "{hash_pin(first)}"')
    return 0


def _staff_card_main() -> int:
    """Ask for a staff member's ID number (not echoed) and print a ``staff_cards`` entry."""
    try:
        number = getpass.getpass("Staff ID card number: ").strip().upper()
    except (EOFError, KeyboardInterrupt):
        print("cancelled", file=sys.stderr)
        return 1
    if not 15 <= len(number) <= 18:
        print("An ID card number has 15 or 18 characters.", file=sys.stderr)
        return 1
    print("# add this to staff_cards = [...] under [diagnostics]:", file=sys.stderr)
    print(f'"{hash_pin(number)}",')
    return 0


if __name__ == "__main__":
    sys.exit(main())
