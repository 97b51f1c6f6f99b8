"""The 退号 and reprint services against the real server, the real local store and the printer emulator.

The refund key is in the journal before the request leaves; a lost answer is resolved by asking
for the refund by its key (and sending the same key again only when the server never saw it);
the slip prints once, with masked identity only; a reprint is marked and capped.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from devices.emulators.idcard import sample_cards
from devices.printer import PROFILES, ReceiptPrinter
from kiosk_app.demo import DEMO_CODES
from kiosk_app.features.base import ServiceParts
from kiosk_app.features.refund.demo import book_and_pay
from kiosk_app.features.refund.flow import LoadRefundable, Outcome, PrintRefundSlip, RefundRegistration
from kiosk_app.features.refund.service import REFUND_REFUSED, REFUNDED, REFUNDING, RefundService
from kiosk_app.features.reprint.flow import LoadPrints, Reprint
from kiosk_app.features.reprint.service import ReprintService
from kiosk_app.flows.identify import Patient
from kiosk_app.services.identify import PatientFinder
from kiosk_app.services.registration import PaySettings
from offline_cache.journal import Journal
from offline_cache.store import Store
from server.dbapi import write_tx
from sync.client import RegistrationRefund, ServerClient, ServerTimeout

ZHANG = sample_cards()["zhangsan"]


class LossyClient(ServerClient):
    """The real client, whose next 退号 answer is lost: after the server acted (``acted``) or before."""

    def __init__(self, *args: Any, journal: Journal, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.journal = journal
        self.lose: str | None = None
        self.keys_seen_in_journal: list[bool] = []
        self.sent: list[str] = []

    def refund_registration(self, refund_key: str, registration_id: int, patient_id: int) -> RegistrationRefund:
        rows = self.journal.store.read().query(
            "SELECT details FROM transactions WHERE details LIKE ?", [f"%{refund_key}%"]
        )
        self.keys_seen_in_journal.append(bool(list(rows)))
        self.sent.append(refund_key)
        lose, self.lose = self.lose, None
        if lose == "before":
            raise ServerTimeout("connection_lost", "dropped before the server read it")
        answer = super().refund_registration(refund_key, registration_id, patient_id)
        if lose == "acted":
            raise ServerTimeout("timeout", "the answer was lost")
        return answer


@dataclass
class Rig:
    refunds: RefundService
    reprints: ReprintService
    client: LossyClient
    journal: Journal


@pytest.fixture
def rig(tmp_path: Path, server, printer_emu) -> Iterator[Rig]:
    store = Store(tmp_path / "kiosk.db")
    journal = Journal(store)
    credential = server.kiosk_credential("K1")
    client = LossyClient(server.base_url, kiosk_id="K1", read_timeout=5, credential=credential, journal=journal)
    parts = ServiceParts(
        client=client,
        journal=journal,
        printer=ReceiptPrinter(printer_emu.url, PROFILES["default-80mm"], timeout=2),
        finder=PatientFinder(client),
        kiosk_id="K1",
        hospital_name="示范人民医院",
        pay=PaySettings(poll_interval_s=0.2, deadline_s=10),
    )
    try:
        yield Rig(RefundService(parts), ReprintService(parts), client, journal)
    finally:
        client.close()
        store.close()


def run(service: Any, cmd: object) -> tuple[str, tuple[Any, ...]]:
    """The flow event the outcome applies (progress events are recorded and dropped)."""
    seen: list[tuple[str, tuple[Any, ...]]] = []

    class Recorder:
        def __getattr__(self, name: str) -> Any:
            return lambda *args: seen.append((name, args)) or []

    service.execute(cmd, lambda outcome: None)(Recorder())
    return seen[0]


def _patient(client: ServerClient) -> Patient:
    ref = client.identify("resident", ZHANG.id_number, ZHANG.name, "M", "1980-01-01")
    return Patient(ref.patient_id, "张*", "110***********0010")


def _refund(rig: Rig) -> tuple[RefundRegistration, tuple[Any, ...]]:
    patient = _patient(rig.client)
    event, (items,) = run(rig.refunds, LoadRefundable(patient.patient_id))
    assert event == "listed"
    item = next(i for i in items if i.refundable)
    cmd = RefundRegistration(str(uuid.uuid4()), patient, item)
    event, args = run(rig.refunds, cmd)
    assert event == "refund_finished", (event, args)
    return cmd, args


def test_refund_keys_the_journal_first_and_prints_a_masked_slip_once(rig: Rig, printer_emu) -> None:
    reg = book_and_pay(rig.client, ZHANG, DEMO_CODES["success"])
    cmd, (outcome, refund) = _refund(rig)
    assert outcome is Outcome.REFUNDED and refund.registration_id == reg.registration_id
    assert rig.client.keys_seen_in_journal == [True]
    row = rig.journal.get(cmd.txn_id)
    assert row is not None and row["state"] == REFUNDED and row["patient_ref"] == str(cmd.patient.patient_id)
    states = [e["state"] for e in rig.journal.events(cmd.txn_id)]
    assert states.index(REFUNDING) < states.index(REFUNDED)
    assert rig.client.refund_status(refund.refund_key).status == "refunded"  # type: ignore[union-attr]
    assert rig.client.refundable_registrations(cmd.patient.patient_id) == []

    slip = PrintRefundSlip(cmd.txn_id, cmd.patient, cmd.item, outcome, refund, refund.refund_key)
    assert run(rig.refunds, slip) == ("printed", (True, ""))
    (job,) = printer_emu.wait_for_jobs(1)
    assert "退号凭条" in job.text and "张*" in job.text and reg.reg_no in job.text and "原路退回" in job.text
    assert ZHANG.name not in job.text and ZHANG.id_number not in job.text
    assert run(rig.refunds, slip) == ("printed", (True, ""))  # the print-back record: not twice
    assert len(printer_emu.jobs) == 1


@pytest.mark.parametrize("lose", ["acted", "before"])
def test_a_lost_answer_is_resolved_by_the_key_never_by_a_second_refund(rig: Rig, server, lose: str) -> None:
    book_and_pay(rig.client, ZHANG, DEMO_CODES["success"])
    rig.client.lose = lose
    _, (outcome, refund) = _refund(rig)
    assert outcome is Outcome.REFUNDED and refund is not None
    # "before": the server never saw it, so the SAME key went again; "acted": it was only asked about.
    assert rig.client.sent == [refund.refund_key] * (2 if lose == "before" else 1)
    with server.app.state.db.connection() as conn:
        assert conn.execute("SELECT count(*) FROM refunds").fetchone()[0] == 1


def test_a_closed_window_is_refused_and_nothing_changes(rig: Rig, server) -> None:
    reg = book_and_pay(rig.client, ZHANG, DEMO_CODES["success"])
    patient = _patient(rig.client)
    (item,) = rig.client.refundable_registrations(patient.patient_id)
    soon = datetime.now() + timedelta(minutes=5)  # the slot moves to today, minutes away
    with server.app.state.db.connection() as conn, write_tx(conn):
        conn.execute(
            "UPDATE slots SET date = ?, start = ? WHERE id = (SELECT slot_id FROM registrations WHERE id = ?)",
            (soon.date().isoformat(), f"{soon:%H:%M:%S}", reg.registration_id),
        )
    cmd = RefundRegistration(str(uuid.uuid4()), patient, item)
    assert run(rig.refunds, cmd) == ("refund_refused", ("server.rejected.refund_window_closed",))
    row = rig.journal.get(cmd.txn_id)
    assert row is not None and row["state"] == REFUND_REFUSED and row["error_code"] == "refund_window_closed"
    assert rig.client.refundable_registrations(patient.patient_id)[0].blocked_reason == "refund_window_closed"


def test_reprint_marks_each_copy_and_stops_at_the_limit(rig: Rig, printer_emu) -> None:
    book_and_pay(rig.client, ZHANG, DEMO_CODES["success"], day=date.today() + timedelta(days=2))
    cmd, (outcome, refund) = _refund(rig)
    run(rig.refunds, PrintRefundSlip(cmd.txn_id, cmd.patient, cmd.item, outcome, refund, refund.refund_key))
    event, (records,) = run(rig.reprints, LoadPrints(str(cmd.patient.patient_id)))
    assert event == "listed" and [r.job_id for r in records] == [f"{cmd.txn_id}:refund-slip"]
    assert run(rig.reprints, LoadPrints("999999")) == ("listed", ([],))  # nobody else's slips
    assert run(rig.reprints, Reprint(records[0])) == ("reprinted", (True, "", 1))
    printer_emu.set_state(paper_end=True)  # a copy that fails does not count
    event, (ok, key, copy_no) = run(rig.reprints, Reprint(records[0]))
    assert (event, ok, copy_no) == ("reprinted", False, 2) and key.startswith("printer.")
    printer_emu.set_state()
    assert run(rig.reprints, Reprint(records[0])) == ("reprinted", (True, "", 2))
    assert run(rig.reprints, Reprint(records[0])) == ("reprinted", (False, "reprint.limit"))
    jobs = printer_emu.wait_for_jobs(3)
    assert "补打" not in jobs[0].text
    assert all("补打" in j.text and "REPRINT" in j.text for j in jobs[1:]) and "Copy 2 of 2" in jobs[2].text
    assert ZHANG.id_number not in jobs[2].text and ZHANG.name not in jobs[2].text
    prints = rig.journal.store.read().query("SELECT job_id, status, attempts FROM print_jobs ORDER BY job_id")
    assert [(r["job_id"].rsplit(":", 1)[-1], r["status"], r["attempts"]) for r in prints] == [
        ("refund-slip", "printed", 1),
        ("1", "printed", 1),
        ("2", "printed", 2),  # the failed try and the good one: one record
    ]
    _, (again,) = run(rig.reprints, LoadPrints(str(cmd.patient.patient_id)))
    assert again[0].reprints_left == 0


def test_offline_the_refund_is_refused_before_anything_is_sent(rig: Rig, server) -> None:
    book_and_pay(rig.client, ZHANG, DEMO_CODES["success"])
    patient = _patient(rig.client)
    (item,) = rig.client.refundable_registrations(patient.patient_id)
    rig.refunds.offline = SimpleNamespace(uploader=SimpleNamespace(offline=True))
    cmd = RefundRegistration(str(uuid.uuid4()), patient, item)
    assert run(rig.refunds, cmd) == ("refund_refused", ("refund.offline",))
    assert rig.client.sent == [] and rig.journal.get(cmd.txn_id) is None
    assert rig.client.refundable_registrations(patient.patient_id)[0].refundable  # nothing changed
