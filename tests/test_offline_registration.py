"""Offline registration end to end: the real flow and service, the real server, the printer emulator.

"The network drops" is a client pointed at a closed port; "it is back" is the same client pointed
at the running server again. Everything else is production code.
"""

from __future__ import annotations

import secrets
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from devices.emulators.idcard import sample_cards
from devices.printer import PROFILES, ReceiptPrinter
from kiosk_app.demo import DEMO_CODES
from kiosk_app.flows.registration import Command, PrintState, RegistrationFlow, Step
from kiosk_app.services.offline import OfflinePolicy, OfflineSupport
from kiosk_app.services.registration import PaySettings, RegistrationService
from offline_cache import journal as J
from offline_cache.catalog import CatalogCache
from offline_cache.ids import uuid7
from offline_cache.journal import Journal
from offline_cache.offline_ops import OfflineRegistrar
from offline_cache.outbox import CONFIRMED, REJECTED, Caps, Outbox
from offline_cache.patients import RecentPatients
from offline_cache.store import Store
from sync.client import ServerClient
from sync.fieldcrypto import FieldCipher
from sync.uploader import Uploader

DEAD = "http://127.0.0.1:9"  # discard port: nothing listens, the connection is refused at once


@dataclass
class Kiosk:
    flow: RegistrationFlow
    service: RegistrationService
    journal: Journal
    offline: OfflineSupport
    client: ServerClient
    upload_client: ServerClient
    server_url: str

    def run(self, commands: list[Command]) -> None:
        for cmd in commands:
            outcome = self.service.execute(cmd, lambda _o: None)
            self.run(outcome(self.flow))

    def network(self, up: bool) -> None:
        for c in (self.client, self.upload_client):
            c.base_url = self.server_url if up else DEAD

    def to_confirm(self, card: str = "zhangsan", *, last_place: bool = False) -> None:
        self.run(self.flow.start())
        self.run(self.flow.card_read(sample_cards()[card]))
        assert self.flow.step is Step.DEPARTMENT, self.flow.message
        self.run(self.flow.choose_department(self.flow.departments[0]))
        doctor = next(d for d in self.flow.doctors if d.slots_left > 0)
        self.run(self.flow.choose_doctor(doctor))
        open_slots = [s for s in self.flow.slots if s.left > 0]
        slot = next((s for s in open_slots if s.left == 1), None) if last_place else open_slots[0]
        assert slot is not None, "the seed has no slot with exactly one place left"
        self.run(self.flow.choose_slot(slot))
        assert self.flow.step is Step.CONFIRM

    def drain(self) -> None:
        for _ in range(10):
            if not self.offline.outbox.stats().pending:
                return
            self.offline.uploader.drain_once()
        assert self.offline.outbox.stats().pending == 0


@pytest.fixture
def kiosk(tmp_path: Path, server, printer_emu) -> Iterator[Kiosk]:
    yield from make_kiosk(tmp_path, server, printer_emu)


def make_kiosk(tmp_path: Path, server, printer_emu, caps: Caps | None = None) -> Iterator[Kiosk]:
    store = Store(tmp_path / "kiosk.db")
    journal = Journal(store)
    cipher = FieldCipher(secrets.token_bytes(32), domain="kiosk")
    outbox = Outbox(store, cipher, caps)
    patients = RecentPatients(store, cipher)
    credential = server.kiosk_credential("K1")
    client = ServerClient(server.base_url, kiosk_id="K1", connect_timeout=1, read_timeout=5, credential=credential)
    upload_client = ServerClient(
        server.base_url, kiosk_id="K1", connect_timeout=1, read_timeout=5, credential=credential
    )
    catalog = CatalogCache(store)
    uploader = Uploader(outbox, upload_client, catalog=catalog)
    offline = OfflineSupport(
        outbox, catalog, patients, OfflineRegistrar(store, outbox, patients, "K1"), uploader, OfflinePolicy()
    )
    service = RegistrationService(
        client=client,
        journal=journal,
        printer=ReceiptPrinter(printer_emu.url, PROFILES["default-80mm"], timeout=2),
        kiosk_id="K1",
        hospital_name="示范人民医院",
        pay=PaySettings(poll_interval_s=0.2, deadline_s=10),
        offline=offline,
    )
    try:
        assert uploader.refresh_catalog()  # pulled while online, as the uploader does every few minutes
        yield Kiosk(RegistrationFlow(), service, journal, offline, client, upload_client, server.base_url)
    finally:
        client.close()
        upload_client.close()
        store.close()


def server_rows(server, sql: str, params: tuple[object, ...] = ()) -> list[sqlite3.Row]:
    conn = sqlite3.connect(server.settings.db_path)
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def test_a_first_time_patient_registers_offline_and_is_confirmed_later(kiosk: Kiosk, server, printer_emu) -> None:
    kiosk.network(up=False)
    kiosk.to_confirm()
    assert kiosk.flow.patient is not None and kiosk.flow.patient.claim is not None  # unknown here: filing queued
    kiosk.run(kiosk.flow.confirm())

    f = kiosk.flow
    assert f.step is Step.RESULT and f.message == "reg.pending_offline" and f.pending and not f.paid
    assert f.print_state is PrintState.PRINTED
    (slip,) = printer_emu.wait_for_jobs(1)
    assert "待确认" in slip.text and "P-K1-0001" in slip.text and "收费窗口" in slip.text
    assert "110101" not in slip.text.replace("110101**", "")  # masked only
    txn = kiosk.journal.get(f.txn_id)
    assert txn is not None and txn["state"] == J.QUEUED and txn["provisional_no"] == "P-K1-0001"
    assert kiosk.offline.outbox.stats().pending == 2  # the filing, then the registration
    assert kiosk.offline.uploader.offline is False or kiosk.offline.uploader.breaker.failures >= 1

    kiosk.run(kiosk.flow.home())  # the patient leaves with the slip; nothing is released
    kiosk.network(up=True)
    kiosk.drain()

    txn = kiosk.journal.get(txn["id"])
    assert txn is not None and txn["state"] == J.REGISTERED and txn["reg_no"].startswith("R")
    (reg,) = server_rows(server, "SELECT * FROM registrations WHERE reg_no = ?", (txn["reg_no"],))
    assert reg["status"] == "unpaid" and reg["idempotency_key"] == txn["registration_key"]
    # the patient is known locally now: the next offline visit needs no filing
    card = sample_cards()["zhangsan"]
    known = kiosk.offline.patients.find(card.card_type, card.id_number)
    assert known is not None and known.patient_id == reg["patient_id"]


def test_a_slot_taken_while_offline_becomes_a_worklist_task(kiosk: Kiosk, server) -> None:
    kiosk.network(up=False)
    kiosk.to_confirm(last_place=True)
    slot = kiosk.flow.slot
    assert slot is not None
    kiosk.run(kiosk.flow.confirm())
    assert kiosk.flow.pending
    key = kiosk.journal.get(kiosk.flow.txn_id)["registration_key"]  # type: ignore[index]
    provisional = kiosk.flow.registration.reg_no  # type: ignore[union-attr]

    # meanwhile another channel books the last place
    other = ServerClient(server.base_url, kiosk_id="K2", credential=server.kiosk_credential("K2"))
    patient = other.identify("resident", "310101194803150022", "王五", "F", "1948-03-15")
    other.create_registration(uuid7(), patient.patient_id, slot.slot_id)
    other.close()

    kiosk.network(up=True)
    kiosk.drain()
    row = kiosk.offline.outbox.get(key)
    assert row is not None and row["state"] == REJECTED and row["last_error"] == "slot_full"
    txn = kiosk.journal.get(kiosk.flow.txn_id)
    assert txn is not None and (txn["state"], txn["error_code"]) == (J.REJECTED, "slot_full")
    (task,) = server_rows(
        server,
        "SELECT * FROM worklist_items WHERE kind = 'rebook' AND source = 'offline_sync' AND reference = ?",
        (key,),
    )
    assert task["status"] == "open" and provisional in task["detail_json"]
    # the rejected registration never booked anything
    assert not server_rows(server, "SELECT 1 FROM registrations WHERE idempotency_key = ?", (key,))


def test_a_returning_patient_registers_offline_without_a_new_filing(kiosk: Kiosk) -> None:
    kiosk.to_confirm()  # online: identified by the server, remembered locally
    kiosk.run(kiosk.flow.home())
    kiosk.network(up=False)
    kiosk.to_confirm()
    assert kiosk.flow.patient is not None and kiosk.flow.patient.claim is None
    assert kiosk.flow.patient.patient_ref > 0
    kiosk.run(kiosk.flow.confirm())
    assert kiosk.flow.pending
    assert [op.kind for op in kiosk.offline.outbox.pending_batch(10)] == ["registration.create"]
    kiosk.network(up=True)
    kiosk.drain()
    row = kiosk.journal.get(kiosk.flow.txn_id)
    assert row is not None and row["state"] == J.REGISTERED


def test_qr_payment_is_refused_offline_and_the_place_is_kept(kiosk: Kiosk, server) -> None:
    kiosk.to_confirm()
    kiosk.run(kiosk.flow.confirm())
    assert kiosk.flow.step is Step.PAY  # online: booked, waiting for the payment code
    reg = kiosk.flow.registration
    assert reg is not None
    kiosk.network(up=False)
    kiosk.run(kiosk.flow.code_scanned(DEMO_CODES["success"]))
    assert kiosk.flow.step is Step.RESULT and kiosk.flow.message == "pay.offline_cashier"
    assert not kiosk.flow.paid and kiosk.flow.hold_kept
    assert kiosk.flow.home() == []  # leaving does not release the unpaid place
    kiosk.network(up=True)
    (row,) = server_rows(server, "SELECT status FROM registrations WHERE id = ?", (reg.registration_id,))
    assert row["status"] == "unpaid"
    assert not server_rows(server, "SELECT 1 FROM payments WHERE registration_id = ?", (reg.registration_id,))


def test_the_queue_cap_refuses_new_offline_registrations_at_90_percent(tmp_path: Path, server, printer_emu) -> None:
    gen = make_kiosk(tmp_path, server, printer_emu, caps=Caps(max_rows=20))
    kiosk = next(gen)
    try:
        kiosk.network(up=False)
        outbox = kiosk.offline.outbox
        registrar = kiosk.offline.registrar
        for _ in range(16):  # known patients: one row each
            registrar.queue_registration(
                uuid7(), registration_key=uuid7(), slot_id=1, patient_masked="x y", patient_id=1
            )
        assert outbox.stats().level == "warn80"
        kiosk.to_confirm()  # a first-time patient: filing + registration = rows 17 and 18 (90 %)
        kiosk.run(kiosk.flow.confirm())
        assert kiosk.flow.step is Step.CONFIRM and kiosk.flow.message == "offline.queue_full"
        assert outbox.stats().pending == 16
        assert kiosk.journal.get(kiosk.flow.txn_id)["state"] == J.FAILED  # type: ignore[index]
    finally:
        gen.close()


def test_confirmed_rows_carry_the_servers_answer(kiosk: Kiosk) -> None:
    kiosk.network(up=False)
    kiosk.to_confirm()
    kiosk.run(kiosk.flow.confirm())
    kiosk.network(up=True)
    kiosk.drain()
    rows = list(kiosk.offline.outbox.store.read().query("SELECT state, result_status FROM outbox ORDER BY seq"))
    assert [(r["state"], r["result_status"]) for r in rows] == [(CONFIRMED, 201), (CONFIRMED, 201)]
