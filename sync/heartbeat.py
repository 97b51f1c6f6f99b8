"""Kiosk heartbeats to the central server (no Qt): status up, pending commands down.

A daemon thread posts ``build_heartbeat(**collect())`` every ``interval_s``. Every request has a
(connect, read) timeout and nothing raises out of the thread: a failed beat is logged and the next
interval simply tries again, so a server outage costs nothing but log lines. The answer's pending
commands go to ``on_commands`` (called on the heartbeat thread). The server repeats a command in
every answer until it is acknowledged, so the caller must act on each command id once and then
call ``ack(command_id)``; the sender never acks by itself, because only the caller knows when a
command has really been carried out.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import requests

from sync.signing import KioskAuth, KioskCredential

logger = logging.getLogger(__name__)

API = "/api/v1"


def build_heartbeat(
    software_version: str,
    device_states: dict[str, str],
    queue_depth: int,
    oldest_pending_age_s: float | None = None,
    kiosk_time: datetime | None = None,
) -> dict[str, Any]:
    """The JSON body of one heartbeat; ``kiosk_time`` defaults to now, always timezone-aware."""
    moment = kiosk_time if kiosk_time is not None else datetime.now(UTC)
    if moment.tzinfo is None:
        moment = moment.astimezone()  # a naive time is local time; the server refuses naive ones
    return {
        "software_version": software_version,
        "device_states": dict(device_states),
        "queue_depth": int(queue_depth),
        "oldest_pending_age_s": oldest_pending_age_s,
        "kiosk_time": moment.isoformat(timespec="milliseconds"),
    }


def _error_code(r: requests.Response) -> str:
    try:
        return str(r.json()["error"]["code"])
    except (ValueError, KeyError, TypeError):
        return "unknown"


class HeartbeatSender:
    """``collect()`` returns the keyword arguments of ``build_heartbeat`` (kiosk_time optional)."""

    def __init__(
        self,
        client_base_url: str,
        kiosk_id: str,
        collect: Callable[[], dict[str, Any]],
        on_commands: Callable[[list[dict[str, Any]]], None],
        interval_s: float = 15.0,
        *,
        connect_timeout_s: float = 3.0,
        read_timeout_s: float = 5.0,
        credential: KioskCredential | None = None,
    ) -> None:
        self._base = client_base_url.rstrip("/")
        self.kiosk_id = kiosk_id
        self._collect = collect
        self._on_commands = on_commands
        self.interval_s = interval_s
        self._timeout = (connect_timeout_s, read_timeout_s)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # ack() may come from another thread (the UI) while a beat is in flight; Session isn't thread-safe.
        self._http = requests.Session()
        if credential is not None:
            self._http.auth = KioskAuth.from_credential(credential)  # signed at send time, per request
        self._http_lock = threading.Lock()
        # Read by diagnostics; written only by the heartbeat thread.
        self.sent = 0
        self.failures = 0
        self.last_clock_offset_s: float | None = None
        self.last_auth_error: str | None = None  # e.g. "kiosk_revoked", for diagnostics

    def start(self) -> HeartbeatSender:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="heartbeat", daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop and join; an in-flight request ends within its timeouts."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                logger.error("heartbeat thread did not stop within %.1f s", timeout)
            self._thread = None
        with self._http_lock:
            self._http.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.beat_once()
            self._stop.wait(self.interval_s)

    def beat_once(self) -> bool:
        """One heartbeat; True if the server answered it. Never raises."""
        try:
            body = build_heartbeat(**self._collect())
        except Exception:  # the caller's collect() is buggy: say so loudly, keep the thread alive
            logger.exception("collecting the heartbeat failed")
            self.failures += 1
            return False
        url = f"{self._base}{API}/kiosks/{self.kiosk_id}/heartbeat"
        try:
            with self._http_lock:
                r = self._http.post(url, json=body, timeout=self._timeout)
            if r.status_code in (401, 403):
                code = _error_code(r)
                self.last_auth_error = code
                raise ValueError(f"HTTP {r.status_code} {code}: the server refuses this kiosk's credential")
            if r.status_code != 200:
                raise ValueError(f"HTTP {r.status_code}")
            self.last_auth_error = None
            answer = r.json()
            commands = list(answer.get("commands") or [])
            self.last_clock_offset_s = float(answer["clock_offset_s"])
        except (requests.RequestException, ValueError, KeyError, TypeError, AttributeError) as exc:
            # An outage or an odd answer: expected now and then, so one line, no traceback.
            self.failures += 1
            logger.warning("heartbeat failed (%s: %s); next try in %.0f s", type(exc).__name__, exc, self.interval_s)
            return False
        self.sent += 1
        if commands:
            try:
                self._on_commands(commands)
            except Exception:  # the caller's bug: log it, keep beating; the commands come again
                logger.exception("on_commands raised")
        return True

    def ack(self, command_id: int) -> bool:
        """Acknowledge a command once carried out; True if the server recorded it. Never raises."""
        url = f"{self._base}{API}/kiosks/{self.kiosk_id}/commands/{int(command_id)}/ack"
        try:
            with self._http_lock:
                r = self._http.post(url, timeout=self._timeout)
        except requests.RequestException as exc:
            logger.warning("ack of command %s failed (%s); it will come again", command_id, type(exc).__name__)
            return False
        if r.status_code != 200:
            logger.warning("ack of command %s answered HTTP %d", command_id, r.status_code)
        return r.status_code == 200
