"""Fleet heartbeats and commands, the hash-chained audit log, and the kiosk's HeartbeatSender."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
import requests

from server import audit
from server.db import Store, write_tx
from server.dbapi import IntegrityError
from server.ddl import render
from server.schema import FLEET_AUDIT_V3
from server.settings import ServerSettings
from server.testing import ServerThread
from sync.heartbeat import HeartbeatSender, build_heartbeat

if TYPE_CHECKING:
    from conftest_server import Api

STATES = {"idcard": "ready", "printer": "error", "scanner": "busy"}


def _beat(api: Api, kiosk_id: str = "K-1", **overrides: Any) -> dict[str, Any]:
    body = build_heartbeat("1.2.3", STATES, 2, 4.5) | overrides
    r = api.post(f"/api/v1/kiosks/{kiosk_id}/heartbeat", body)
    assert r.status_code == 200, r.text
    return dict(r.json())


def _kiosk(api: Api, kiosk_id: str) -> dict[str, Any]:
    return next(k for k in api.get("/api/v1/kiosks").json() if k["kiosk_id"] == kiosk_id)


# -- heartbeats ------------------------------------------------------------------------------------


def test_heartbeat_is_stored_and_listed(api: Api) -> None:
    answer = _beat(api)
    assert answer["commands"] == [] and datetime.fromisoformat(answer["server_time"]).tzinfo is not None
    kiosk = _kiosk(api, "K-1")
    assert kiosk["online"] is True
    assert kiosk["software_version"] == "1.2.3" and kiosk["queue_depth"] == 2
    assert kiosk["oldest_pending_age_s"] == 4.5
    assert kiosk["device_faults"] == {"printer": "error"}  # busy is working, not a fault
    _beat(api, queue_depth=0, device_states={"printer": "ready"})
    kiosk = _kiosk(api, "K-1")
    assert kiosk["queue_depth"] == 0 and kiosk["device_faults"] == {}
    assert len(api.get("/api/v1/kiosks").json()) == 1


def test_kiosk_goes_offline_after_the_window(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    _beat(api)
    later = datetime.now(UTC) + timedelta(seconds=api.srv.settings.kiosk_online_window_s + 1)
    monkeypatch.setattr("server.fleet._now", lambda: later)  # the server runs in this process
    kiosk = _kiosk(api, "K-1")
    assert kiosk["online"] is False and kiosk["seconds_since_seen"] > 60


def test_clock_offset_is_server_minus_kiosk(api: Api) -> None:
    behind = _beat(api, kiosk_time=(datetime.now(UTC) - timedelta(seconds=120)).isoformat())
    assert 119 < behind["clock_offset_s"] < 125
    ahead = _beat(api, kiosk_time=(datetime.now(UTC) + timedelta(hours=1)).isoformat())
    assert -3601 < ahead["clock_offset_s"] < -3595
    assert _kiosk(api, "K-1")["clock_offset_s"] == ahead["clock_offset_s"]


@pytest.mark.parametrize(
    "change",
    [
        {"queue_depth": -1},
        {"queue_depth": "many"},
        {"kiosk_time": "2026-01-01T10:00:00"},  # naive: no offset can be computed
        {"kiosk_time": "yesterday"},
        {"device_states": {"printer": "on fire"}},
        {"device_states": ["printer"]},
        {"software_version": ""},
        {"oldest_pending_age_s": -3},
    ],
)
def test_nonsense_heartbeats_are_422(api: Api, change: dict[str, Any]) -> None:
    body = build_heartbeat("1.0", STATES, 0) | change
    r = api.post("/api/v1/kiosks/K-1/heartbeat", body)
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_request"
    assert api.post("/api/v1/kiosks/bad%20id!/heartbeat", build_heartbeat("1.0", STATES, 0)).status_code == 422


# -- commands --------------------------------------------------------------------------------------


def test_commands_are_delivered_until_acked(api: Api) -> None:
    _beat(api, "K-1")
    _beat(api, "K-2")
    r = api.post("/api/v1/kiosks/K-1/commands", {"command": "reload_config"})
    assert r.status_code == 201, r.text
    first = r.json()
    assert first["status"] == "pending" and first["command"] == "reload_config"
    second = api.post("/api/v1/kiosks/K-1/commands", {"command": "print_test_page"}).json()

    for _ in range(2):  # replayed on every heartbeat, e.g. after a reconnect
        assert [c["id"] for c in _beat(api, "K-1")["commands"]] == [first["id"], second["id"]]
    assert _beat(api, "K-2")["commands"] == []
    assert _kiosk(api, "K-1")["pending_commands"] == 2

    for _ in range(2):  # idempotent
        r = api.post(f"/api/v1/kiosks/K-1/commands/{first['id']}/ack")
        assert r.status_code == 200 and r.json()["status"] == "acked"
    assert [c["command"] for c in _beat(api, "K-1")["commands"]] == ["print_test_page"]
    # another kiosk can't ack it, and unknown ids are 404
    assert api.post(f"/api/v1/kiosks/K-2/commands/{second['id']}/ack").status_code == 404
    assert api.post("/api/v1/kiosks/K-1/commands/99999/ack").json()["error"]["code"] == "command_not_found"
    api.post(f"/api/v1/kiosks/K-1/commands/{second['id']}/ack")
    assert _beat(api, "K-1")["commands"] == []


def test_bad_commands_are_refused(api: Api) -> None:
    _beat(api, "K-1")
    r = api.post("/api/v1/kiosks/K-1/commands", {"command": "format_disk"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_request"
    assert api.post("/api/v1/kiosks/K-1/commands", {}).status_code == 422
    r = api.post("/api/v1/kiosks/NOBODY/commands", {"command": "restart_app"})
    assert r.status_code == 404 and r.json()["error"]["code"] == "kiosk_not_found"


# -- audit -----------------------------------------------------------------------------------------


def test_audit_chain_records_the_journey_and_verifies(api: Api) -> None:
    _beat(api, "K-1")
    _beat(api, "K-1")  # only the first sighting is audited
    cmd = api.post("/api/v1/kiosks/K-1/commands", {"command": "restart_app"}).json()
    api.post(f"/api/v1/kiosks/K-1/commands/{cmd['id']}/ack")
    api.post(f"/api/v1/kiosks/K-1/commands/{cmd['id']}/ack")
    reg = api.register()
    api.post(f"/api/v1/registrations/{reg['registration_id']}/cancel")
    reg = api.register()
    key = str(uuid.uuid4())
    assert api.post("/api/v1/payments", api.pay_body(reg, 0, key)).status_code == 201
    assert api.wait_final(key)["status"] == "SUCCESS"

    rows = [tuple(r) for r in api.sql("SELECT actor, action, detail FROM audit_log ORDER BY seq")]
    # credentials and staff accounts the test fixtures made are audited too; they are not this journey
    actions = [a for _, a, _ in rows if a != "kiosk.provisioned" and not a.startswith("staff.")]
    assert actions == [
        "kiosk.first_seen",
        "command.queued",
        "command.acked",
        "registration.created",
        "registration.cancelled",
        "registration.created",
        "payment.created",
        "payment.final",
    ]
    text = repr(rows)
    assert api.wechat_code(0) not in text and api.wechat_code(0)[-4:] not in text
    assert "测试患者" not in text and "110105" not in text
    assert api.get("/api/v1/audit/verify").json() == {
        "ok": True,
        "entries": len(rows),
        "first_bad": None,
        "truncated": False,
    }


def _tamper(api: Api, seq: int) -> None:
    """What an attacker with database access could do: drop the guard, edit, put the guard back."""
    edit = "UPDATE audit_log SET detail = '{\"amount_cents\":1}' WHERE seq = ?"
    if api.backend == "sqlite":
        guard = next(render(s, "sqlite") for s in FLEET_AUDIT_V3 if "audit_log_no_update" in render(s, "sqlite"))
        api.sql("DROP TRIGGER audit_log_no_update", write=True)
        api.sql(edit, (seq,), write=True)
        api.sql(guard, write=True)
    else:
        api.sql("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change", write=True)
        api.sql(edit, (seq,), write=True)
        api.sql("ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_change", write=True)


def test_tampered_row_is_reported_as_the_first_bad_seq(api: Api) -> None:
    for n in range(5):
        _beat(api, f"K-{n}")
    entries = len(api.sql("SELECT seq FROM audit_log"))
    assert api.get("/api/v1/audit/verify").json() == {
        "ok": True,
        "entries": entries,
        "first_bad": None,
        "truncated": False,
    }
    third = api.sql("SELECT seq FROM audit_log WHERE action = 'kiosk.first_seen' ORDER BY seq")[2][0]
    _tamper(api, third)
    assert api.get("/api/v1/audit/verify").json() == {
        "ok": False,
        "entries": entries,
        "first_bad": third,
        "truncated": False,
    }


def test_cutting_off_the_newest_entries_is_detected_by_the_anchor(api: Api) -> None:
    for n in range(4):
        _beat(api, f"K-{n}")
    assert api.srv.app is not None
    anchor = api.srv.app.state.audit_anchor
    with api.srv.app.state.db.connection() as conn:
        anchored = anchor.write(conn)
    assert anchored is not None and anchor.read() == anchored and anchor.path.exists()
    assert api.get("/api/v1/audit/verify").json()["ok"] is True
    last_two = [r[0] for r in api.sql("SELECT seq FROM audit_log ORDER BY seq DESC LIMIT 2")]
    delete = "DELETE FROM audit_log WHERE seq >= ?"
    if api.backend == "sqlite":
        api.sql("DROP TRIGGER audit_log_no_delete", write=True)
        api.sql(delete, (min(last_two),), write=True)
    else:
        api.sql("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change", write=True)
        api.sql(delete, (min(last_two),), write=True)
    body = api.get("/api/v1/audit/verify").json()
    # What is left is a perfectly valid chain; only the anchor shows that its end is gone.
    assert body["first_bad"] is None and (body["ok"], body["truncated"]) == (False, True)


def test_audit_log_is_append_only_in_the_database(store: Store) -> None:
    with store.connection() as conn:
        with write_tx(conn):
            audit.append(conn, "test", "one", {"n": 1})
            audit.append(conn, "test", "two", "plain | text")
        statements = ["UPDATE audit_log SET actor = 'x'", "DELETE FROM audit_log WHERE seq = 2"]
        if conn.dialect == "postgres":
            statements.append("TRUNCATE audit_log")  # PostgreSQL's TRUNCATE skips row triggers
        for sql in statements:
            with pytest.raises(IntegrityError, match="append-only"):
                conn.execute(sql)
        assert audit.verify(conn) == (True, None)
        first = conn.execute("SELECT prev_hash FROM audit_log WHERE seq = 1").fetchone()[0]
        assert first == "0" * 64
        with pytest.raises(RuntimeError):  # outside a transaction the chain could fork
            audit.append(conn, "test", "three", "x")


def test_deleting_a_middle_entry_breaks_the_chain(store: Store) -> None:
    with store.connection() as conn:
        with write_tx(conn):
            for n in range(4):
                audit.append(conn, "test", "step", {"n": n})
        if conn.dialect == "sqlite":
            conn.execute("DROP TRIGGER audit_log_no_delete")
        else:
            conn.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change")
        conn.execute("DELETE FROM audit_log WHERE seq = 2")
        assert audit.verify(conn) == (False, 3)


# -- the kiosk's sender ----------------------------------------------------------------------------


def _collect() -> dict[str, Any]:
    return {"software_version": "9.9", "device_states": {"printer": "ready"}, "queue_depth": 0}


def test_sender_delivers_commands_and_survives_the_server_going_down(
    api: Api, fresh_settings: Callable[..., ServerSettings]
) -> None:
    received: list[list[dict[str, Any]]] = []
    got = threading.Event()

    def on_commands(commands: list[dict[str, Any]]) -> None:
        received.append(commands)
        got.set()

    settings = fresh_settings("fleet")
    srv = ServerThread(settings).start()
    credential = srv.kiosk_credential("K-S")
    sender = HeartbeatSender(srv.base_url, "K-S", _collect, on_commands, interval_s=0.1, credential=credential)
    try:
        assert sender.beat_once() is True and sender.last_clock_offset_s is not None
        operator = {"Authorization": f"Bearer {srv.staff_token()}"}
        r = requests.post(
            f"{srv.base_url}/api/v1/kiosks/K-S/commands", json={"command": "reload_config"}, headers=operator, timeout=5
        )
        assert r.status_code == 201
        sender.start()
        assert got.wait(10), "no command delivered"
        command = received[0][0]
        assert command["command"] == "reload_config"
        assert sender.ack(command["id"]) is True and sender.ack(command["id"]) is True  # idempotent
        time.sleep(0.3)
        count = len(received)
        time.sleep(0.3)
        assert len(received) == count  # acked: not delivered any more

        srv.stop()  # the server goes away while the sender keeps beating
        failures = sender.failures
        deadline = time.monotonic() + 10
        while sender.failures < failures + 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert sender.failures >= failures + 3
        assert sender._thread is not None and sender._thread.is_alive()
        assert sender.ack(command["id"]) is False  # no exception either
    finally:
        sender.stop()
        srv.stop()
    assert not any(t.name == "heartbeat" for t in threading.enumerate())


def test_sender_never_raises_on_a_dead_server_or_bad_collect(closed_port_url: str) -> None:
    def broken_collect() -> dict[str, Any]:
        raise KeyError("printer")

    for collect in (_collect, broken_collect):
        sender = HeartbeatSender(closed_port_url, "K-X", collect, lambda _c: None, interval_s=0.05)
        sender.start()
        deadline = time.monotonic() + 5
        while sender.failures < 3 and time.monotonic() < deadline:
            time.sleep(0.02)
        sender.stop()
        assert sender.failures >= 3 and sender.sent == 0


def test_build_heartbeat_is_always_timezone_aware() -> None:
    body = build_heartbeat("1.0", {"printer": "ready"}, 3, kiosk_time=datetime(2026, 1, 1, 8, 0))
    assert datetime.fromisoformat(body["kiosk_time"]).tzinfo is not None
    assert body["queue_depth"] == 3 and body["oldest_pending_age_s"] is None
