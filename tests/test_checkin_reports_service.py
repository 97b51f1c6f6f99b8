"""The check-in and report services against the real server, the real local store and the real
printer driver on the printer emulator, with answers lost on the way back (the request reached the
server, the kiosk never heard): nothing is done twice, nothing is lost, every key is journalled first."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import pytest

from devices.printer import PROFILES, ReceiptPrinter
from kiosk_app.features.base import ServiceParts
from kiosk_app.features.checkin.flow import CheckInBooking, LoadAppointments
from kiosk_app.features.checkin.service import CheckinService
from kiosk_app.features.reports.flow import LoadReports, PrintReport, Undelivered
from kiosk_app.features.reports.service import CLAIMING, ReportsService
from kiosk_app.flows.identify import Patient
from kiosk_app.services.identify import PatientFinder
from offline_cache.ids import uuid7
from offline_cache.journal import Journal
from offline_cache.store import Store
from server.appointments import service as appointments
from server.patients import resident_check_digit
from server.seed import DEMO_PATIENTS
from server.settings import ServerSettings
from server.testing import ServerThread
from sync.client import ServerClient, ServerTimeout, ServerUnavailable


class LossyClient(ServerClient):
    """The real client; ``lose[name] = n`` makes the next n calls of ``name`` reach the server and
    then lose the answer (ServerTimeout), ``refuse[name] = n`` never send them (ServerUnavailable)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lose: dict[str, int] = {}
        self.refuse: dict[str, int] = {}
        self.calls: list[str] = []

    def _fault(self, name: str, call: Callable[[], Any]) -> Any:
        self.calls.append(name)
        if self.refuse.get(name, 0) > 0:
            self.refuse[name] -= 1
            raise ServerUnavailable("unavailable", "test: never sent")
        answer = call()
        if self.lose.get(name, 0) > 0:
            self.lose[name] -= 1
            raise ServerTimeout("timeout", "test: the answer was lost")
        return answer

    def check_in(self, *args: Any) -> Any:
        return self._fault("check_in", lambda: super(LossyClient, self).check_in(*args))

    def claim_report_print(self, *args: Any) -> Any:
        return self._fault("claim", lambda: super(LossyClient, self).claim_report_print(*args))

    def report_print_outcome(self, *args: Any) -> Any:
        return self._fault("outcome", lambda: super(LossyClient, self).report_print_outcome(*args))


@dataclass
class Rig:
    srv: ServerThread
    client: LossyClient
    journal: Journal
    checkin: CheckinService
    reports: ReportsService
    patient: Patient

    def sql(self, query: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        assert self.srv.app is not None
        with self.srv.app.state.db.connection() as conn:
            return [tuple(r) for r in conn.execute(query, params).fetchall()]


def run(service: Any, cmd: object) -> tuple[str, tuple[Any, ...]]:
    """Apply the outcome to a recorder: which flow event, with which arguments."""
    seen: list[tuple[str, tuple[Any, ...]]] = []

    class Recorder:
        def __getattr__(self, name: str) -> Any:
            return lambda *args: seen.append((name, args)) or []

    service.execute(cmd, lambda _o: None)(Recorder())
    return seen[0]


@pytest.fixture
def rig(tmp_path: Path, printer_emu: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Rig]:
    monkeypatch.setattr(appointments, "now", lambda: datetime.combine(date.today(), time(10, 0)))
    settings = replace(ServerSettings(db_path=tmp_path / "server" / "server.db"), seed_demo_patients=True)
    with ServerThread(settings.with_fast_payments()) as srv:
        store = Store(tmp_path / "kiosk.db")
        client = LossyClient(srv.base_url, kiosk_id="K1", read_timeout=5, credential=srv.kiosk_credential("K1"))
        journal = Journal(store)
        parts = ServiceParts(
            client=client,
            journal=journal,
            printer=ReceiptPrinter(printer_emu.url, PROFILES["default-80mm"], timeout=2),
            finder=PatientFinder(client, None),
            kiosk_id="K1",
            hospital_name="示范医院",
        )
        first17, name, sex, birth = DEMO_PATIENTS["zhangsan"]
        ref = client.identify("resident", first17 + resident_check_digit(first17), name, sex, birth)
        patient = Patient(ref.patient_id, "张*", "110***********0010")
        try:
            yield Rig(srv, client, journal, CheckinService(parts), ReportsService(parts), patient)
        finally:
            client.close()
            store.close()


def _report(rig: Rig, title_en: str) -> Any:
    event, (reports,) = run(rig.reports, LoadReports(rig.patient.patient_id))
    assert event == "reports_loaded"
    return next(r for r in reports if r.title_en == title_en)


def _print(rig: Rig, report: Any, *, key: str | None = None, reason: str | None = None, **kw: Any) -> PrintReport:
    return PrintReport(uuid7(), key or uuid7(), rig.patient, report, reason, **kw)


def _prints(rig: Rig) -> list[tuple[Any, ...]]:
    return rig.sql("SELECT copy_kind, copy_no, status, error_code FROM report_prints ORDER BY id")


def test_a_lost_claim_answer_is_asked_again_under_the_same_key_and_prints_once(rig: Rig, printer_emu: Any) -> None:
    report = _report(rig, "Complete blood count")
    rig.client.lose["claim"] = 1
    cmd = _print(rig, report)
    event, (report_id, copy) = run(rig.reports, cmd)
    assert event == "report_printed" and report_id == report.report_id and copy.status == "printed"
    assert rig.client.calls.count("claim") == 2  # the second one was a replay
    assert _prints(rig) == [("first", 1, "printed", None)] and len(printer_emu.jobs) == 1
    states = [e["state"] for e in rig.journal.events(cmd.txn_id)]
    assert states.index(CLAIMING) < states.index("printed")  # the key was stored before the claim left
    assert cmd.key in (rig.journal.get(cmd.txn_id) or {}).get("details", "")


def test_claim_answers_lost_twice_leave_the_key_for_the_next_try(rig: Rig, printer_emu: Any) -> None:
    report = _report(rig, "Complete blood count")
    rig.client.lose["claim"] = 2
    cmd = _print(rig, report)
    assert run(rig.reports, cmd) == ("failed", ("server.timeout",))
    assert len(printer_emu.jobs) == 0 and _prints(rig) == [("first", 1, "claimed", None)]
    # The flow keeps the key: the retry is a replay, no reason asked, one copy.
    event, _ = run(rig.reports, cmd)
    assert event == "report_printed" and _prints(rig) == [("first", 1, "printed", None)]
    assert len(printer_emu.jobs) == 1


def test_a_failed_copy_whose_failure_was_not_delivered_is_told_before_the_next_claim(
    rig: Rig, printer_emu: Any
) -> None:
    report = _report(rig, "Chest X-ray")
    printer_emu.fail_mid_job = 300
    rig.client.refuse["outcome"] = 1
    cmd = _print(rig, report)
    event, (report_id, key, undelivered) = run(rig.reports, cmd)
    assert event == "print_failed" and key == "printer.paper_out" and report_id == report.report_id
    assert undelivered == Undelivered(cmd.key, "paper_out")
    assert _prints(rig) == [("first", 1, "claimed", None)]  # the server still counts it
    assert rig.journal.print_job(f"report:{cmd.key}")["status"] == "failed"  # type: ignore[index]

    printer_emu.fail_mid_job = None
    printer_emu.set_state()
    event, _ = run(rig.reports, _print(rig, report, undelivered=undelivered))
    assert event == "report_printed"
    assert _prints(rig) == [("first", 1, "failed", "paper_out"), ("first", 1, "printed", None)]


def test_no_printer_or_no_paper_claims_nothing(rig: Rig, printer_emu: Any) -> None:
    report = _report(rig, "Complete blood count")
    printer_emu.set_state(paper_end=True)
    assert run(rig.reports, _print(rig, report)) == ("failed", ("printer.paper_out",))
    printer_emu.set_state(cover_open=True)
    assert run(rig.reports, _print(rig, report)) == ("failed", ("printer.cover_open",))
    rig.reports.printer = None
    assert run(rig.reports, _print(rig, report)) == ("failed", ("printer.unavailable",))
    assert _prints(rig) == [] and rig.client.calls.count("claim") == 0


def test_a_lost_check_in_answer_is_replayed_and_makes_one_registration(rig: Rig) -> None:
    event, (bookings,) = run(rig.checkin, LoadAppointments(rig.patient.patient_id))
    assert event == "appointments_loaded"
    due = next(a for a in bookings if a.checkin == "open" and not a.prepaid)
    rig.client.lose["check_in"] = 1
    cmd = CheckInBooking(uuid7(), uuid7(), rig.patient, due)
    event, (result,) = run(rig.checkin, cmd)
    assert event == "checked_in" and result.replayed and not result.paid
    assert rig.sql("SELECT count(*) FROM registrations") == [(1,)]
    row = rig.journal.get(cmd.txn_id)
    assert row is not None and row["registration_key"] == cmd.key and row["state"] == "registered"
    assert str(row["registration_id"]) == str(result.registration.registration_id)
    states = [e["state"] for e in rig.journal.events(cmd.txn_id)]
    assert states.index("registering") < states.index("registered")

    # Lost twice: the flow is told it is unknown; its retry under the same key replays again.
    other = next(a for a in bookings if a.checkin == "open" and a.prepaid)
    rig.client.lose["check_in"] = 2
    cmd = CheckInBooking(uuid7(), uuid7(), rig.patient, other)
    assert run(rig.checkin, cmd) == ("failed", ("server.timeout",))
    event, (result,) = run(rig.checkin, cmd)
    assert event == "checked_in" and result.paid and rig.sql("SELECT count(*) FROM registrations") == [(2,)]
