"""The day's catalog (departments, doctors, slots, fees) as last pulled, for browsing offline.

The server sends one day's catalog with a strong ETag; the kiosk asks again with
``If-None-Match`` and stores nothing when the answer is 304, so an unchanged catalog costs one
small request. Places left are the server's count at the pull minus the kiosk's own queued
registrations, so a kiosk offline for an hour does not offer the same last place twice; other
kiosks' bookings meanwhile are unknown, which is why an offline booking is only "pending
confirmation" until the server answers.
"""

from __future__ import annotations

from typing import Any

import sqlite_utils

from offline_cache import journal as J
from offline_cache.journal import now
from offline_cache.store import Store
from sync.client import Department, Doctor, Slot

# Places held by this kiosk's queued (unconfirmed) registrations, per slot.
_HELD = f"(SELECT count(*) FROM transactions t WHERE t.slot_id = s.slot_id AND t.state = '{J.QUEUED}')"


def get_state(db: sqlite_utils.Database, name: str) -> str | None:
    row = db.execute("SELECT value FROM sync_state WHERE name = ?", [name]).fetchone()
    return None if row is None else str(row[0])


def set_sync_state(db: sqlite_utils.Database, name: str, value: str) -> None:
    db.execute(
        "INSERT INTO sync_state(name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value",
        [name, value],
    )


class CatalogCache:
    def __init__(self, store: Store) -> None:
        self.store = store

    def etag(self, day: str) -> str | None:
        """The ETag of the stored catalog if it is ``day``'s, else None (pull it whole)."""
        db = self.store.read()
        return get_state(db, "catalog_etag") if get_state(db, "catalog_date") == day else None

    def pulled_at(self) -> str | None:
        return get_state(self.store.read(), "catalog_pulled_at")

    def save(self, snapshot: dict[str, Any], etag: str) -> None:
        """Replace the stored catalog with ``snapshot`` (the server's /catalog answer) in one transaction."""

        def op(db: sqlite_utils.Database) -> None:
            for table in ("catalog_departments", "catalog_doctors", "catalog_slots"):
                db.execute(f"DELETE FROM {table}")
            db.conn.executemany(
                "INSERT INTO catalog_departments(code, name_zh, name_en, sort) VALUES (?, ?, ?, ?)",
                [(d["code"], d["name_zh"], d["name_en"], i) for i, d in enumerate(snapshot["departments"])],
            )
            db.conn.executemany(
                "INSERT INTO catalog_doctors(code, department_code, name_zh, name_en, title_zh, title_en, fee_cents)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        d["code"],
                        d["department_code"],
                        d["name_zh"],
                        d["name_en"],
                        d["title_zh"],
                        d["title_en"],
                        int(d["fee_cents"]),
                    )
                    for d in snapshot["doctors"]
                ],
            )
            db.conn.executemany(
                'INSERT INTO catalog_slots(slot_id, doctor_code, date, start, "end", capacity, booked)'
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        int(s["slot_id"]),
                        s["doctor_code"],
                        s["date"],
                        s["start"],
                        s["end"],
                        int(s["capacity"]),
                        int(s["booked"]),
                    )
                    for s in snapshot["slots"]
                ],
            )
            set_sync_state(db, "catalog_etag", etag)
            set_sync_state(db, "catalog_date", str(snapshot["date"]))
            set_sync_state(db, "catalog_pulled_at", now())

        self.store.write(op)

    def observe_slots(self, slots: list[Slot]) -> None:
        """Fold places left from a live answer into the cache, so it is as fresh as the last look."""

        def op(db: sqlite_utils.Database) -> None:
            db.conn.executemany(
                "UPDATE catalog_slots SET booked = max(capacity - ?, 0) WHERE slot_id = ? AND date = ?",
                [(s.left, s.slot_id, s.date) for s in slots],
            )

        self.store.write(op)

    def adjust_booked(self, slot_id: int, delta: int) -> None:
        """This kiosk booked (+1) or released (-1) a place online: keep the cached count in step."""
        self.store.write(
            lambda db: db.execute(
                "UPDATE catalog_slots SET booked = min(max(booked + ?, 0), capacity) WHERE slot_id = ?",
                [delta, slot_id],
            )
        )

    # ---- Browsing (any thread), shaped like the server's answers

    def departments(self) -> list[Department]:
        rows = self.store.read().query("SELECT code, name_zh, name_en FROM catalog_departments ORDER BY sort, code")
        return [Department(**r) for r in rows]

    def doctors(self, department_code: str, day: str) -> list[Doctor]:
        rows = self.store.read().query(
            f"""SELECT d.code, d.name_zh, d.name_en, d.title_zh, d.title_en, d.fee_cents,
                       sum(max(s.capacity - s.booked - {_HELD}, 0)) AS slots_left
                FROM catalog_doctors d JOIN catalog_slots s ON s.doctor_code = d.code AND s.date = ?
                WHERE d.department_code = ? GROUP BY d.code ORDER BY d.fee_cents DESC, d.code""",
            [day, department_code],
        )
        return [Doctor(**r) for r in rows]

    def slots(self, doctor_code: str, day: str) -> list[Slot]:
        rows = self.store.read().query(
            f"""SELECT s.slot_id, s.date, s.start, s."end", max(s.capacity - s.booked - {_HELD}, 0) AS "left"
                FROM catalog_slots s WHERE s.doctor_code = ? AND s.date = ? ORDER BY s.start""",
            [doctor_code, day],
        )
        return [Slot(**r) for r in rows]
