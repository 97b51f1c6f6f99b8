"""Demo bookings for the demo ID cards' patients, placed around the time the server starts.

Check-in is only open near a booking's time, and a demo may be started at any hour, so the
bookings are made relative to "now": two that can be checked in at once (one to pay at the kiosk,
one prepaid on WeChat), one too early, one cancelled. Each sits in a slot of its own, created for
it and full from the start (capacity 1), so the registration screens' places-left counts and the
slots of the first department (the tour's) stay as the schedule seed made them.

Started again later the same day, the demo marks its bookings whose window has closed as missed
(``no_show``, as the hospital's end-of-session job would) and books afresh.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from server.appointments.service import BookedVia, CheckinWindow, book
from server.dbapi import Conn, write_tx

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DemoBooking:
    patient: str  # a key of server.seed.DEMO_PATIENTS
    doctor_code: str  # never the first department's doctors (the tour registers there)
    minutes_from_now: int
    booked_via: BookedVia
    prepaid: bool = False
    cancelled: bool = False


DEMO_BOOKINGS = (
    DemoBooking("zhangsan", "D04", 20, "phone"),  # surgery, chief physician: pay 50.00 at the kiosk
    DemoBooking("zhangsan", "D11", 35, "wechat", prepaid=True),  # ophthalmology, paid when booked
    DemoBooking("zhangsan", "D13", 180, "web"),  # ENT this afternoon: too early to check in
    DemoBooking("elder", "D19", 25, "phone"),  # TCM, chief physician
    DemoBooking("elder", "D21", 40, "window", cancelled=True),
)


def _slot_start(at: datetime, minutes: int) -> datetime | None:
    """The booking's start: 5-minute steps, today only (None when it would fall after midnight)."""
    start = at + timedelta(minutes=minutes)
    start -= timedelta(minutes=start.minute % 5, seconds=start.second, microseconds=start.microsecond)
    return start if start.date() == at.date() else None


def _own_slot(conn: Conn, doctor_code: str, start: datetime, capacity: int) -> int:
    """A slot for the booking alone, moved on by 5 minutes while that time is taken."""
    for _ in range(12):
        day, hhmm = start.date().isoformat(), start.strftime("%H:%M")
        end = min(start + timedelta(minutes=30), start.replace(hour=23, minute=59))
        taken = conn.execute(
            "SELECT 1 FROM slots WHERE doctor_code = ? AND date = ? AND start = ?", (doctor_code, day, hhmm)
        ).fetchone()
        if taken is None:
            return int(
                conn.execute(
                    'INSERT INTO slots(doctor_code, date, start, "end", capacity, booked) VALUES (?, ?, ?, ?, ?, 0)'
                    " RETURNING id",
                    (doctor_code, day, hhmm, end.strftime("%H:%M"), capacity),
                ).fetchone()[0]
            )
        start += timedelta(minutes=5)
    raise RuntimeError(f"no free time for a demo slot of {doctor_code} near {start:%H:%M}")


def seed_demo_bookings(conn: Conn, patients: dict[str, int], window: CheckinWindow, at: datetime) -> int:
    """Book :data:`DEMO_BOOKINGS` unless the patients still have a booking open for check-in today."""
    today = at.date().isoformat()
    booked = 0
    with write_tx(conn):
        for key in sorted({b.patient for b in DEMO_BOOKINGS}):
            patient_id = patients[key]
            live = conn.execute(
                "SELECT a.id, s.doctor_code, s.date, s.start FROM appointments a JOIN slots s ON s.id = a.slot_id"
                " WHERE a.patient_id = ? AND a.status = 'booked' AND s.date = ?",
                (patient_id, today),
            ).fetchall()
            states = {row["id"]: window.state(row["date"], row["start"], at) for row in live}
            if "open" in states.values():
                continue
            stale = [appointment_id for appointment_id, state in states.items() if state == "too_late"]
            for appointment_id in stale:
                conn.execute("UPDATE appointments SET status = 'no_show' WHERE id = ?", (appointment_id,))
            waiting = {row["doctor_code"] for row in live if states[row["id"]] == "too_early"}
            for booking in (b for b in DEMO_BOOKINGS if b.patient == key and b.doctor_code not in waiting):
                start = _slot_start(at, booking.minutes_from_now)
                if start is None:
                    continue
                # A cancelled booking gave its place back; a slot without places keeps the counts unchanged.
                capacity = 0 if booking.cancelled else 1
                book(
                    conn,
                    patient_id=patient_id,
                    slot_id=_own_slot(conn, booking.doctor_code, start, capacity),
                    booked_via=booking.booked_via,
                    prepaid=booking.prepaid,
                    status="cancelled" if booking.cancelled else "booked",
                )
                booked += 1
    if booked:
        logger.info("demo: %d bookings for the demo patients around %s", booked, at.strftime("%H:%M"))
    return booked
