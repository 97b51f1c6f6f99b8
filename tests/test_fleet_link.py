"""The kiosk's heartbeats reach the real server, and a queued command is carried out and acked."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import requests

from kiosk_app.app import build
from kiosk_app.config import Config

WAIT_MS = 20_000


def test_heartbeat_reports_devices_and_a_queued_test_page_prints_once(
    qtbot, qapp, tmp_path: Path, server, id_reader_emu, scanner_emu, printer_emu
) -> None:
    config = replace(
        Config(data_dir=tmp_path, server_url=server.base_url, kiosk_id="KIOSK-FLEET-1"),
        heartbeat_interval_s=1.0,
    ).with_devices(id_reader=id_reader_emu.url, scanner=scanner_emu.url, printer=printer_emu.url)
    server.write_credential(config.kiosk_id, config.credential_path)  # what enrollment leaves
    k = build(config, qapp)
    k.start_devices()
    api = f"{server.base_url}/api/v1/kiosks"
    operator = {"Authorization": f"Bearer {server.staff_token('tech', 'technician')}"}
    try:

        def listed() -> dict | None:
            return next(
                (x for x in requests.get(api, headers=operator, timeout=5).json() if x["kiosk_id"] == "KIOSK-FLEET-1"),
                None,
            )

        qtbot.waitUntil(
            lambda: (row := listed()) is not None and row["device_states"].get("id_reader") == "ready", timeout=WAIT_MS
        )
        row = listed()
        assert row is not None and row["online"] and row["queue_depth"] == 0
        r = requests.post(
            f"{api}/KIOSK-FLEET-1/commands", json={"command": "print_test_page"}, headers=operator, timeout=5
        )
        assert r.status_code == 201
        # Commands are carried out on the GUI thread: wait with Qt's loop running, not blocked.
        qtbot.waitUntil(lambda: len(printer_emu.jobs) == 1, timeout=WAIT_MS)
        assert "打印测试" in printer_emu.jobs[0].text
        qtbot.waitUntil(lambda: (row := listed()) is not None and row["pending_commands"] == 0, timeout=WAIT_MS)
        qtbot.wait(2500)  # two more heartbeats: an acked command is not delivered again
        assert len(printer_emu.jobs) == 1
    finally:
        k.shutdown()
