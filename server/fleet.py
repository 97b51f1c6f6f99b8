"""Kiosk fleet: heartbeats, the fleet overview, and a small command queue per kiosk.

Kiosks beat every ~15 s. The server keeps only the latest heartbeat per kiosk, stamped with its
own clock (``last_seen``): a kiosk's clock may be wrong, which is exactly what ``clock_offset_s``
(server time minus kiosk time) is there to show. Commands stay ``pending`` until the kiosk acks
them, and every heartbeat answer carries all pending ones, so a command queued while a kiosk was
offline (or whose answer was lost) is delivered after it reconnects. Acking is idempotent; the
kiosk must tolerate seeing a command again until its ack has landed.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path
from pydantic import AwareDatetime, BaseModel, Field, StringConstraints

from server import audit
from server.dbapi import Conn, write_tx
from server.deps import DbDep, SettingsDep
from server.errors import ApiError

logger = logging.getLogger(__name__)

# Two routers, mounted with different auth (server/app.py): what a kiosk calls for itself (signed
# requests) and what an operator calls (staff sessions).
router = APIRouter(prefix="/api/v1", tags=["fleet"])
operator_router = APIRouter(prefix="/api/v1", tags=["fleet"])

# Same alphabet as the kiosk_id of a payment, so one kiosk has one id everywhere.
KIOSK_ID_PATTERN = r"^[A-Za-z0-9._-]{1,32}$"
KioskId = Annotated[str, Path(pattern=KIOSK_ID_PATTERN)]
DeviceName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.:-]{1,40}$")]
# devices.base states; "busy" (e.g. printing) is working, not a fault.
DeviceState = Literal["unknown", "connecting", "ready", "busy", "unavailable", "error"]
HEALTHY_STATES = frozenset({"ready", "busy"})
Command = Literal["reload_config", "restart_app", "print_test_page"]


def _now() -> datetime:
    """Server time; a function so tests can move the clock."""
    return datetime.now(UTC)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


class Heartbeat(BaseModel):
    software_version: str = Field(min_length=1, max_length=64)
    device_states: dict[DeviceName, DeviceState] = Field(max_length=32)
    queue_depth: int = Field(ge=0, le=1_000_000)
    oldest_pending_age_s: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    # Aware only: a naive time can't be compared with the server's, so it is refused (422).
    kiosk_time: AwareDatetime


class CommandRequest(BaseModel):
    command: Command


def _command_view(row: Any) -> dict[str, Any]:
    return {
        "id": row["id"],
        "kiosk_id": row["kiosk_id"],
        "command": row["command"],
        "status": row["status"],
        "created_at": row["created_at"],
        "acked_at": row["acked_at"],
    }


def _pending(conn: Conn, kiosk_id: str) -> list[dict[str, Any]]:
    rows = conn.execute(
        "SELECT id, command, created_at FROM kiosk_commands WHERE kiosk_id = ? AND status = 'pending' ORDER BY id",
        (kiosk_id,),
    ).fetchall()
    return [{"id": r["id"], "command": r["command"], "created_at": r["created_at"]} for r in rows]


@router.post("/kiosks/{kiosk_id}/heartbeat")
def heartbeat(kiosk_id: KioskId, beat: Heartbeat, db: DbDep) -> dict[str, Any]:
    now = _now()
    offset = (now - beat.kiosk_time).total_seconds()
    with db.connection() as conn, write_tx(conn):
        known = conn.execute("SELECT 1 FROM kiosks WHERE kiosk_id = ?", (kiosk_id,)).fetchone() is not None
        conn.execute(
            "INSERT INTO kiosks(kiosk_id, software_version, device_states_json, queue_depth, oldest_pending_age_s,"
            " kiosk_time, clock_offset_s, first_seen, last_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT(kiosk_id) DO UPDATE SET software_version = excluded.software_version,"
            " device_states_json = excluded.device_states_json, queue_depth = excluded.queue_depth,"
            " oldest_pending_age_s = excluded.oldest_pending_age_s, kiosk_time = excluded.kiosk_time,"
            " clock_offset_s = excluded.clock_offset_s, last_seen = excluded.last_seen",
            (
                kiosk_id,
                beat.software_version,
                json.dumps(beat.device_states, sort_keys=True),
                beat.queue_depth,
                beat.oldest_pending_age_s,
                beat.kiosk_time.isoformat(),
                offset,
                _iso(now),
                _iso(now),
            ),
        )
        if not known:
            audit.append(
                conn, f"kiosk:{kiosk_id}", "kiosk.first_seen", {"kiosk_id": kiosk_id, "version": beat.software_version}
            )
            logger.info("kiosk %s seen for the first time (version %s)", kiosk_id, beat.software_version)
        commands = _pending(conn, kiosk_id)
    if abs(offset) > 2.0:
        # sync.md §7.11: alarm above 2 s; the kiosk is told its offset in the answer.
        logger.warning("kiosk %s clock is off by %.1f s", kiosk_id, offset)
    return {"server_time": _iso(now), "clock_offset_s": offset, "commands": commands}


@operator_router.get("/kiosks")
def list_kiosks(db: DbDep, settings: SettingsDep) -> list[dict[str, Any]]:
    now = _now()
    with db.connection() as conn:
        rows = conn.execute("SELECT * FROM kiosks ORDER BY kiosk_id").fetchall()
        pending = dict(
            conn.execute(
                "SELECT kiosk_id, count(*) FROM kiosk_commands WHERE status = 'pending' GROUP BY kiosk_id"
            ).fetchall()
        )
    kiosks = []
    for row in rows:
        age = (now - datetime.fromisoformat(row["last_seen"])).total_seconds()
        states: dict[str, str] = json.loads(row["device_states_json"])
        kiosks.append(
            {
                "kiosk_id": row["kiosk_id"],
                "online": age <= settings.kiosk_online_window_s,
                "last_seen": row["last_seen"],
                "seconds_since_seen": round(age, 3),
                "software_version": row["software_version"],
                "device_states": states,
                "device_faults": {name: state for name, state in states.items() if state not in HEALTHY_STATES},
                "queue_depth": row["queue_depth"],
                "oldest_pending_age_s": row["oldest_pending_age_s"],
                "clock_offset_s": row["clock_offset_s"],
                "pending_commands": int(pending.get(row["kiosk_id"], 0)),
            }
        )
    return kiosks


@operator_router.post("/kiosks/{kiosk_id}/commands", status_code=201)
def queue_command(kiosk_id: KioskId, req: CommandRequest, db: DbDep) -> dict[str, Any]:
    with db.connection() as conn, write_tx(conn):
        # Refusing unknown kiosks catches operator typos; a command for nobody would wait forever.
        if conn.execute("SELECT 1 FROM kiosks WHERE kiosk_id = ?", (kiosk_id,)).fetchone() is None:
            raise ApiError(404, "kiosk_not_found", f"no kiosk {kiosk_id} has sent a heartbeat")
        cur = conn.execute(
            "INSERT INTO kiosk_commands(kiosk_id, command, status, created_at)"
            " VALUES (?, ?, 'pending', ?) RETURNING id",
            (kiosk_id, req.command, _iso(_now())),
        )
        command_id = int(cur.fetchone()[0])
        detail = {"id": command_id, "kiosk_id": kiosk_id, "command": req.command}
        audit.append(conn, "operator", "command.queued", detail)
        row = conn.execute("SELECT * FROM kiosk_commands WHERE id = ?", (command_id,)).fetchone()
    logger.info("command %d %s queued for kiosk %s", command_id, req.command, kiosk_id)
    return _command_view(row)


@router.post("/kiosks/{kiosk_id}/commands/{command_id}/ack")
def ack_command(kiosk_id: KioskId, command_id: Annotated[int, Path(gt=0, le=2**63 - 1)], db: DbDep) -> dict[str, Any]:
    with db.connection() as conn, write_tx(conn):
        cur = conn.execute(
            "UPDATE kiosk_commands SET status = 'acked', acked_at = ?"
            " WHERE id = ? AND kiosk_id = ? AND status = 'pending'",
            (_iso(_now()), command_id, kiosk_id),
        )
        if cur.rowcount == 1:  # only the first ack is an event; repeats just answer the same
            audit.append(conn, f"kiosk:{kiosk_id}", "command.acked", {"id": command_id, "kiosk_id": kiosk_id})
        row = conn.execute(
            "SELECT * FROM kiosk_commands WHERE id = ? AND kiosk_id = ?", (command_id, kiosk_id)
        ).fetchone()
    if row is None:
        raise ApiError(404, "command_not_found", f"no command {command_id} for kiosk {kiosk_id}")
    return _command_view(row)
