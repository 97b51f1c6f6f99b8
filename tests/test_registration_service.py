"""The registration service against the real server (loopback), the printer emulator and the
local store: commands run synchronously here and their outcomes drive a real flow."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from devices.emulators.idcard import sample_cards
from devices.printer import PROFILES, ReceiptPrinter
from kiosk_app.demo import DEMO_CODES
from kiosk_app.flows.registration import Command, PrintState, RegistrationFlow, Step
from kiosk_app.services.registration import Outcome, PaySettings, RegistrationService
from offline_cache import journal as J
from offline_cache.journal import Journal
from offline_cache.store import Store
from sync.client import ServerClient


class Harness:
    def __init__(self, service: RegistrationService, journal: Journal) -> None:
        self.service, self.journal = service, journal
        self.flow = RegistrationFlow()
        self.progress: list[Outcome] = []

    def run(self, commands: list[Command]) -> None:
        for cmd in commands:
            outcome = self.service.execute(cmd, self.progress.append)
            self.run(outcome(self.flow))

    def to_pay(self) -> None:
        self.run(self.flow.start())
        self.run(self.flow.card_read(sample_cards()["zhangsan"]))
        assert self.flow.step is Step.DEPARTMENT, self.flow.message
        self.run(self.flow.choose_department(self.flow.departments[0]))
        doctor = next(d for d in self.flow.doctors if d.slots_left > 0)
        self.run(self.flow.choose_doctor(doctor))
        self.run(self.flow.choose_slot(next(s for s in self.flow.slots if s.left > 0)))
        self.run(self.flow.confirm())
        assert self.flow.step is Step.PAY, self.flow.message


def make(
    tmp_path: Path, base_url: str, printer_url: str, *, read_timeout: float = 10, deadline: float = 30, server=None
):
    store = Store(tmp_path / "kiosk.db")
    journal = Journal(store)
    credential = server.kiosk_credential("K1") if server is not None else None
    client = ServerClient(base_url, kiosk_id="K1", connect_timeout=1, read_timeout=read_timeout, credential=credential)
    service = RegistrationService(
        client=client,
        journal=journal,
        printer=ReceiptPrinter(printer_url, PROFILES["default-80mm"], timeout=2),
        kiosk_id="K1",
        hospital_name="示范人民医院",
        pay=PaySettings(poll_interval_s=0.2, deadline_s=deadline),
    )
    return Harness(service, journal), store, client


@pytest.fixture
def harness(tmp_path: Path, server, printer_emu) -> Iterator[Harness]:
    h, store, client = make(tmp_path, server.base_url, printer_emu.url, server=server)
    yield h
    client.close()
    store.close()


def test_register_pay_print_journals_every_step(harness: Harness, printer_emu) -> None:
    harness.to_pay()
    harness.run(harness.flow.code_scanned(DEMO_CODES["success"]))
    f = harness.flow
    assert f.step is Step.RESULT and f.paid and f.print_state is PrintState.PRINTED
    row = harness.journal.get(f.txn_id)
    assert row is not None and row["state"] == J.PAID and row["payment_status"] == "SUCCESS"
    states = [e["state"] for e in harness.journal.events(f.txn_id)]
    assert states == [J.CREATED, J.REGISTERING, J.REGISTERED, J.PAYING, J.PAID]
    assert "110101" not in str(row) and "张三" not in str(row)  # only masked identity on disk
    (job,) = printer_emu.wait_for_jobs(1)
    assert f.registration is not None
    assert f.registration.reg_no in job.text and "挂号凭条" in job.text and "张*" in job.text
    assert "11010119800101" not in job.text
    assert job.qr == [f"REG:{f.registration.registration_id}:{f.registration.reg_no}"]


def test_a_receipt_never_prints_twice(harness: Harness, printer_emu) -> None:
    harness.to_pay()
    harness.run(harness.flow.code_scanned(DEMO_CODES["success"]))
    assert harness.flow.registration is not None and harness.flow.patient is not None
    from kiosk_app.flows.registration import PrintReceipt

    again = PrintReceipt(harness.flow.txn_id, harness.flow.patient, harness.flow.registration)
    harness.run([again])
    assert harness.flow.print_state is PrintState.PRINTED
    printer_emu.wait_for_jobs(1)
    assert len(printer_emu.jobs) == 1


def test_userpaying_reports_progress_then_succeeds(harness: Harness) -> None:
    harness.to_pay()
    harness.run(harness.flow.code_scanned(DEMO_CODES["userpaying"]))
    assert harness.flow.paid
    assert harness.progress, "the patient must be told to confirm on the phone"
    probe = RegistrationFlow(step=Step.PAYING)
    harness.progress[0](probe)
    assert probe.message == "pay.userpaying"
    states = [e["state"] for e in harness.journal.events(harness.flow.txn_id)]
    assert J.PAYMENT_PENDING in states and states[-1] == J.PAID


def test_never_confirmed_is_reversed_and_the_patient_may_scan_again(harness: Harness) -> None:
    harness.to_pay()
    harness.run(harness.flow.code_scanned(DEMO_CODES["never_confirmed"]))
    f = harness.flow
    assert f.step is Step.PAY and f.message.startswith("pay.failed") and not f.paid
    assert f.payment is not None and f.payment.status == "REVERSED"
    harness.run(f.code_scanned(DEMO_CODES["success"]))
    assert f.paid


def test_insufficient_balance_fails_cleanly(harness: Harness) -> None:
    harness.to_pay()
    harness.run(harness.flow.code_scanned(DEMO_CODES["insufficient"]))
    assert harness.flow.step is Step.PAY and harness.flow.message == "pay.failed.NOTENOUGH"
    row = harness.journal.get(harness.flow.txn_id)
    assert row is not None and row["state"] == J.PAYMENT_FAILED


def test_kiosk_timeout_on_pay_is_resolved_by_query_with_the_same_key(tmp_path: Path, server, printer_emu) -> None:
    # The server takes ~2 s to give up on the provider's lost answer; the kiosk gives up after 0.5 s,
    # so its POST times out and it must find the outcome by asking about the same key.
    h, store, client = make(tmp_path, server.base_url, printer_emu.url, read_timeout=0.5, server=server)
    try:
        h.to_pay()
        h.run(h.flow.code_scanned(DEMO_CODES["lost_response"]))
        assert h.flow.paid, h.flow.message
        row = h.journal.get(h.flow.txn_id)
        assert row is not None and row["state"] == J.PAID
        assert server.app.state.sandbox.order_count() == 1  # charged once, never twice
    finally:
        client.close()
        store.close()


def test_kiosk_deadline_leaves_an_unknown_payment_unguessed(tmp_path: Path, server, printer_emu) -> None:
    h, store, client = make(tmp_path, server.base_url, printer_emu.url, deadline=0.5, server=server)
    try:
        h.to_pay()
        h.run(h.flow.code_scanned(DEMO_CODES["never_confirmed"]))
        assert h.flow.step is Step.RESULT and h.flow.message == "pay.unknown" and not h.flow.paid
        row = h.journal.get(h.flow.txn_id)
        assert row is not None and row["state"] == J.PAYMENT_UNKNOWN and row["payment_key"]
    finally:
        client.close()
        store.close()


def test_paper_out_reports_and_keeps_the_registration(harness: Harness, printer_emu) -> None:
    harness.to_pay()
    printer_emu.set_state(paper_end=True)
    harness.run(harness.flow.code_scanned(DEMO_CODES["success"]))
    f = harness.flow
    assert f.paid and f.print_state is PrintState.FAILED and f.message == "printer.paper_out"
    job = harness.journal.print_job(f"{f.txn_id}:receipt")
    assert job is not None and job["status"] == J.PRINT_FAILED and job["error_code"] == "paper_out"
    assert printer_emu.jobs == []


def test_printer_not_answering(tmp_path: Path, server) -> None:
    from kiosk_app.demo import free_port

    h, store, client = make(tmp_path, server.base_url, f"tcp://127.0.0.1:{free_port()}", server=server)
    try:
        h.to_pay()
        h.run(h.flow.code_scanned(DEMO_CODES["success"]))
        assert h.flow.paid and h.flow.print_state is PrintState.FAILED
        assert h.flow.message in {"printer.offline", "device.unavailable", "device.timeout"}
    finally:
        client.close()
        store.close()


def test_server_down_gives_a_clear_message(tmp_path: Path, printer_emu) -> None:
    from kiosk_app.demo import free_port

    h, store, client = make(tmp_path, f"http://127.0.0.1:{free_port()}", printer_emu.url)
    try:
        h.run(h.flow.start())
        h.run(h.flow.card_read(sample_cards()["zhangsan"]))
        assert h.flow.step is Step.IDENTIFY and h.flow.message == "server.unavailable" and not h.flow.busy
    finally:
        client.close()
        store.close()


def test_unsupported_card_type_is_refused_with_a_message(harness: Harness) -> None:
    harness.run(harness.flow.start())
    harness.run(harness.flow.card_read(sample_cards()["foreigner_2023"]))
    assert harness.flow.step is Step.IDENTIFY and harness.flow.message.startswith("server.rejected")


def test_paper_out_then_reprint_prints_exactly_once(harness: Harness, printer_emu) -> None:
    harness.to_pay()
    printer_emu.set_state(paper_end=True)
    harness.run(harness.flow.code_scanned(DEMO_CODES["success"]))
    assert harness.flow.print_state is PrintState.FAILED
    printer_emu.set_state()  # staff refilled the paper
    harness.run(harness.flow.reprint())
    assert harness.flow.print_state is PrintState.PRINTED
    printer_emu.wait_for_jobs(1)
    harness.run(harness.flow.reprint())  # a second tap does nothing: it printed
    assert len(printer_emu.jobs) == 1
    job = harness.journal.print_job(f"{harness.flow.txn_id}:receipt")
    assert job is not None and job["status"] == J.PRINTED and job["attempts"] == 2
