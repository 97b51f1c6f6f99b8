"""Demo only: a cashier and a supervisor for the window, created when the demo server starts.

Their PINs are printed in the demo's log and README; a real hospital creates profiles with
``python -m server.cashier add`` and never runs this.
"""

from __future__ import annotations

import logging
import secrets

from server.auth.staff import ensure_staff
from server.cashier.staff import add_cashier
from server.crypto import FieldCipher
from server.dbapi import Conn
from sync.staffcard import staff_card_hash

logger = logging.getLogger(__name__)

# (username, staff number, PIN, supervisor, ID number of the staff card or None). Fictitious people;
# the cashier's card is a checksum-valid number the demo's ID-card emulator can present.
DEMO_CASHIERS: tuple[tuple[str, str, str, bool, str | None], ...] = (
    ("cashier-wang", "1001", "2580", False, "110105198503150019"),
    ("supervisor-li", "9001", "8642", True, None),
)


def ensure_demo_cashiers(conn: Conn, cipher: FieldCipher) -> int:
    """Create the demo profiles that are missing; how many were created."""
    made = 0
    for username, staff_no, pin, supervisor, card in DEMO_CASHIERS:
        if conn.execute("SELECT 1 FROM cashier_staff WHERE staff_no = ?", (staff_no,)).fetchone() is not None:
            continue
        ensure_staff(conn, username, secrets.token_urlsafe(16), "cashier")
        add_cashier(
            conn,
            cipher,
            username=username,
            staff_no=staff_no,
            pin=pin,
            supervisor=supervisor,
            card_hash=staff_card_hash(card) if card else None,
        )
        made += 1
    if made:
        logger.warning("demo: created %d cashier window profile(s) with known PINs (demo only)", made)
    return made
