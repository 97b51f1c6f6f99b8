"""The cashier window's service against the real server, the real local store and the printer emulator.

The settlement or refund key is in the journal before the request leaves; a lost answer is
resolved by the key, never by charging again; receipts print once; the end of the shift sends
the journal's count, is reconciled by the server, printed and exported.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from devices.emulators.idcard import sample_cards
from devices.printer import PROFILES, ReceiptPrinter
from kiosk_app.features.base import ServiceParts
from kiosk_app.features.cashier import commands as c
from kiosk_app.features.cashier.service import REFUNDED, REFUNDING, CashierService
from kiosk_app.features.payment import PayOutcome
from kiosk_app.flows.identify import Method, Patient
from kiosk_app.services.identify import PatientFinder
from kiosk_app.services.registration import PaySettings
from offline_cache import journal as J
from offline_cache.ids import uuid7
from offline_cache.journal import Journal
from offline_cache.store import Store
from server.auth.staff import create_staff
from server.bills.service import create_bill
from server.cashier.staff import add_cashier
from server.dbapi import write_tx
from sync.client import CashierShift, ServerClient, ServerTimeout, Settlement

ZHANG = sample_cards()["zhangsan"]
ITEMS = [
    {"code": "DA01", "name_zh": "阿莫西林胶囊", "name_en": "Amoxicillin", "category": "drug_a", "quantity": 1,
     "unit_cents": 3000},
    {"code": "EX11", "name_zh": "血常规", "name_en": "Blood count", "category": "exam", "quantity": 1,
     "unit_cents": 4000},
]  # fmt: skip
WECHAT_OK = "134567890123456780"
WECHAT_USERPAYING = "134567890123456786"


class LossyClient(ServerClient):
    """The real client; its next settlement answer can be lost after the server acted."""

    def __init__(self, *args: Any, journal: Journal, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.journal = journal
        self.lose_next = False
        self.keys_in_journal: list[bool] = []
        self.sent = 0

    def cashier_settle(self, token: str, **kw: Any) -> Settlement:
        rows = self.journal.store.read().query("SELECT 1 FROM transactions WHERE payment_key = ?", [kw["key"]])
        self.keys_in_journal.append(bool(list(rows)))
        self.sent += 1
        answer = super().cashier_settle(token, **kw)
        if self.lose_next:
            self.lose_next = False
            raise ServerTimeout("timeout", "the answer was lost")
        return answer


@dataclass
class Rig:
    service: CashierService
    client: LossyClient
    journal: Journal
    server: Any
    tmp: Path

    def run(self, cmd: object) -> tuple[str, tuple[Any, ...]]:
        """The flow event the outcome applies (progress events are recorded in ``progress``)."""
        seen: list[tuple[str, tuple[Any, ...]]] = []

        class Recorder:
            def __getattr__(self, name: str) -> Any:
                return lambda *args: seen.append((name, args)) or []

        self.progress: list[Any] = []
        self.service.execute(cmd, self.progress.append)(Recorder())
        return seen[0]

    def sign_in(self, staff_no: str = "1001", pin: str = "2580") -> CashierShift:
        event, (shift,) = self.run(c.SignIn(staff_no, pin))
        assert event == "signed_in"
        return shift  # type: ignore[no-any-return]

    def patient_with_bills(self, n: int = 1) -> Patient:
        ref = self.client.identify("resident", ZHANG.id_number, ZHANG.name, "M", "1980-01-01")
        with self.server.app.state.db.connection() as conn, write_tx(conn):
            for _ in range(n):
                create_bill(conn, patient_id=ref.patient_id, kind="prescription", title_zh="门诊处方",
                            title_en="Prescription", items=ITEMS)  # fmt: skip
        return Patient(ref.patient_id, "张*", "110***********0010", "", Method.ID_CARD)

    def quote(self, shift: CashierShift, patient: Patient) -> Any:
        event, (_visit, items) = self.run(c.LoadItems(1, shift, patient.patient_id))
        assert event == "items_loaded"
        bills = tuple((b.bill_id, b.version) for b in items.bills if b.status == "unpaid")[:1]  # one at a time
        event, (_visit, quote) = self.run(c.Quote(1, shift, uuid7(), patient.patient_id, bills, ()))
        assert event == "quoted"
        return quote

    def settle(self, shift: CashierShift, patient: Patient, channel: str, **how: Any) -> tuple[c.Settle, PayOutcome]:
        quote = self.quote(shift, patient)
        if channel == "cash":
            how.setdefault("tendered_cents", quote.self_pay_cents + 500)
        cmd = c.Settle(1, shift, uuid7(), patient, quote, channel, **how)
        event, (_visit, outcome) = self.run(cmd)
        assert event == "settled"
        return cmd, outcome


@pytest.fixture
def rig(tmp_path: Path, server, printer_emu) -> Iterator[Rig]:
    with server.app.state.db.connection() as conn:
        for username, staff_no, pin, supervisor in (("wang", "1001", "2580", False), ("li", "9001", "8642", True)):
            create_staff(conn, username, "long-enough-password", "cashier")
            add_cashier(conn, server.app.state.cipher, username=username, staff_no=staff_no, pin=pin,
                        supervisor=supervisor)  # fmt: skip
    store = Store(tmp_path / "kiosk.db")
    journal = Journal(store)
    client = LossyClient(server.base_url, kiosk_id="KC1", read_timeout=5, credential=server.kiosk_credential("KC1"),
                         journal=journal)  # fmt: skip
    parts = ServiceParts(
        client=client,
        journal=journal,
        printer=ReceiptPrinter(printer_emu.url, PROFILES["default-80mm"], timeout=2),
        finder=PatientFinder(client),
        kiosk_id="KC1",
        hospital_name="示范人民医院",
        pay=PaySettings(poll_interval_s=0.2, deadline_s=10),
        extra={"data_dir": tmp_path, "cashier_window": "3号窗口"},
    )
    try:
        yield Rig(CashierService(parts), client, journal, server, tmp_path)
    finally:
        client.close()
        store.close()


def test_cash_is_journalled_first_recorded_once_and_the_receipt_prints_once(rig: Rig, printer_emu) -> None:
    shift = rig.sign_in()
    assert shift.window_label == "3号窗口" and shift.token
    patient = rig.patient_with_bills()
    rig.client.lose_next = True  # the server records it, the answer never arrives
    cmd, outcome = rig.settle(shift, patient, "cash")
    assert outcome.status == "SUCCESS" and rig.client.keys_in_journal == [True]
    assert rig.client.sent == 1  # the key was asked about, not sent again
    row = rig.journal.get(cmd.txn_id)
    assert row is not None and row["state"] == J.PAID and row["kind"] == "cashier_settlement"
    details = json.loads(row["details"])
    assert details["shift_id"] == shift.shift_id and details["change_cents"] == 500
    states = [e["state"] for e in rig.journal.events(cmd.txn_id)]
    assert states.index(J.PAYING) < states.index(J.PAID)

    settlement = outcome.result
    assert isinstance(settlement, Settlement) and settlement.change_cents == 500
    receipt = c.PrintReceipt(1, shift, cmd.txn_id, patient, cmd.quote, settlement)
    assert rig.run(receipt) == ("printed", (1, True, ""))
    (job,) = printer_emu.wait_for_jobs(1)
    assert "门诊收费凭条" in job.text and "现金" in job.text and "找零" in job.text and "张*" in job.text
    assert ZHANG.name not in job.text and ZHANG.id_number not in job.text
    assert rig.run(receipt) == ("printed", (1, True, ""))  # the print-back record: never twice
    assert len(printer_emu.jobs) == 1


def test_a_code_payment_waits_for_the_phone(rig: Rig) -> None:
    shift = rig.sign_in()
    _cmd, outcome = rig.settle(shift, rig.patient_with_bills(), "code", auth_code=WECHAT_USERPAYING)
    assert outcome.status == "SUCCESS" and outcome.result.channel == "code"
    assert rig.progress  # "confirm on the phone" went to the screen meanwhile


def test_a_refused_settlement_and_a_signed_out_token(rig: Rig) -> None:
    shift = rig.sign_in()
    patient = rig.patient_with_bills()
    quote = rig.quote(shift, patient)
    cmd = c.Settle(1, shift, uuid7(), patient, quote, "card", pos_ref="12")  # too short for the server
    event, (_v, outcome) = rig.run(cmd)
    assert (event, outcome.status) == ("settled", "REFUSED")
    assert rig.journal.get(cmd.txn_id)["payment_status"] == "REFUSED"  # type: ignore[index]
    stale = CashierShift(**{**shift.__dict__, "token": "x" * 43})
    assert rig.run(c.LoadItems(1, stale, patient.patient_id)) == ("failed", ("server.rejected.cashier_signed_out",))


def test_refund_with_the_supervisor_then_close_the_shift(rig: Rig, printer_emu) -> None:
    shift = rig.sign_in()
    patient = rig.patient_with_bills(3)
    cash_cmd, cash = rig.settle(shift, patient, "cash")
    _card_cmd, card = rig.settle(shift, patient, "card", pos_ref="8899001")
    event, (_v, items) = rig.run(c.LoadItems(1, shift, patient.patient_id))
    paid = next(p for p in items.recent_payments if p.payment_key == cash_cmd.quote.key)

    wrong = c.Refund(1, shift, uuid7(), uuid7(), patient, paid, 1000, "多收费用", "1001", "2580")
    assert rig.run(wrong) == ("refund_finished", (1, "refused", None, "server.rejected.supervisor_not_approved"))
    refund = c.Refund(1, shift, uuid7(), uuid7(), patient, paid, 1000, "多收费用", "9001", "8642")
    event, (_v, outcome, made) = rig.run(refund)
    assert (event, outcome, made.status, made.approved_by) == ("refund_finished", "refunded", "refunded", "9001")
    states = [e["state"] for e in rig.journal.events(refund.txn_id)]
    assert states.index(REFUNDING) < states.index(REFUNDED)
    slip = c.PrintRefundSlip(1, shift, refund.txn_id, patient, paid, made)
    assert rig.run(slip) == ("printed", (1, True, ""))
    assert "退费凭条" in printer_emu.wait_for_jobs(1)[-1].text

    # A cash settlement the kiosk journalled whose request never reached the server, and one whose
    # outcome the kiosk never learned (the server has it): the close resolves the second, lists the first.
    lost = uuid7()
    rig.journal.create(lost, "cashier_settlement", patient_masked="张*", patient_ref=str(patient.patient_id))
    rig.journal.update(lost, J.PAYING, "settlement", payment_key="never-sent-" + lost[:8], amount_cents=700,
                       details={"shift_id": shift.shift_id, "channel": "cash"})  # fmt: skip
    rig.journal.update(cash_cmd.txn_id, J.PAYMENT_UNKNOWN, "kiosk deadline", payment_status="UNKNOWN")
    expected_cash = cash.result.amount_cents - 1000
    event, (report, exported, printed, key) = rig.run(c.CloseShift(shift, expected_cash))
    assert event == "shift_closed" and printed and key == ""
    assert rig.journal.get(cash_cmd.txn_id)["state"] == J.PAID  # type: ignore[index]
    assert report.totals["cash"].count == 1 and report.totals["card"].amount_cents == card.result.amount_cents
    assert report.refund_count == 1 and report.cash_difference_cents == 0
    assert [(m.kind, m.key) for m in report.mismatches] == [("missing_on_server", "never-sent-" + lost[:8])]
    assert not report.ok and report.shift.status == "closed"

    document = json.loads(Path(exported.json_path).read_text(encoding="utf-8"))
    assert document["report"]["shift"]["shift_id"] == shift.shift_id
    assert len(document["kiosk_ledger"]) == 5  # the refused refund too: the server ignores what was never taken
    rows = list(csv.reader(Path(exported.csv_path).read_text(encoding="utf-8").splitlines()))
    assert (
        rows[0][0] == "kind" and sum(r[0] == "settlement" for r in rows) == 2 and any(r[0] == "mismatch" for r in rows)
    )
    assert Path(exported.csv_path).parent == rig.tmp / "cashier-reports"
    job = printer_emu.wait_for_jobs(2)[-1]  # the refund slip, then the report
    assert "交班报表" in job.text and "终端有、中心无" in job.text


def test_the_report_prints_again_after_the_paper_ran_out(rig: Rig, printer_emu) -> None:
    shift = rig.sign_in()
    printer_emu.set_state(paper_end=True)
    event, (report, exported, printed, key) = rig.run(c.CloseShift(shift, 0))
    assert (event, printed, key) == ("shift_closed", False, "printer.paper_out") and exported is not None
    assert report.ok and report.transaction_count == 0
    printer_emu.set_state()
    assert rig.run(c.PrintReport(report)) == ("report_printed", (True, ""))
    assert rig.run(c.PrintReport(report)) == ("report_printed", (True, ""))  # printed: not again
    assert len(printer_emu.jobs) == 1
