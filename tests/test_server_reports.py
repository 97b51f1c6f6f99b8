"""Report printing (报告打印) on both stores: the list, one counted copy per report, reprints only with
a reason, replays that never count twice, failed copies that stop counting, and the client."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from server.dbapi import write_tx
from server.reports.demo import CBC, CHEST_DR, DEMO_REPORTS
from server.reports.service import mark_ready, publish
from sync.client import BusinessError, ServerClient

if TYPE_CHECKING:
    from conftest_server import Api


def _publish(api: Api, patient_id: int, *, ready: bool = True, kind: str = "lab", **kw: Any) -> int:
    assert api.srv.app is not None
    content = CBC if kind == "lab" else CHEST_DR
    with api.srv.app.state.db.connection() as conn, write_tx(conn):
        return publish(
            conn,
            patient_id=patient_id,
            kind=kind,  # type: ignore[arg-type]
            title_zh=kw.get("title_zh", "血常规"),
            title_en=kw.get("title_en", "Complete blood count"),
            ordered_at=kw.get("ordered_at", "2026-03-01T09:12"),
            content=content,
            ready_at="2026-03-01T12:00" if ready else None,
            department_code="IM",
        )


def _print(api: Api, report_id: int, patient_id: int, key: str | None = None, **extra: Any) -> Any:
    body = {"key": key or str(uuid.uuid4()), "kiosk_id": "KIOSK-T1", "patient_id": patient_id} | extra
    return api.post(f"/api/v1/reports/{report_id}/print", body)


def _outcome(api: Api, key: str, printed: bool, error_code: str | None = None) -> Any:
    return api.post(f"/api/v1/reports/prints/{key}/outcome", {"printed": printed, "error_code": error_code})


def _code(r: Any) -> str:
    return str(r.json()["error"]["code"])


def _report(api: Api, patient_id: int, report_id: int) -> dict[str, Any]:
    r = api.get(f"/api/v1/patients/{patient_id}/reports")
    assert r.status_code == 200, r.text
    return next(dict(x) for x in r.json() if x["report_id"] == report_id)


def _prints(api: Api, report_id: int) -> list[tuple[str, int, str | None, str]]:
    rows = api.sql(
        "SELECT copy_kind, copy_no, reprint_reason, status FROM report_prints WHERE report_id = ? ORDER BY id",
        (report_id,),
    )
    return [(r[0], int(r[1]), r[2], r[3]) for r in rows]


def test_the_list_shows_every_report_newest_first_with_its_state(api: Api) -> None:
    patient, other = api.patient(), api.patient()
    older = _publish(api, patient, ordered_at="2026-02-01T08:00")
    imaging = _publish(api, patient, kind="imaging", title_zh="胸部X线检查", title_en="Chest X-ray")
    pending = _publish(api, patient, ready=False, ordered_at="2026-03-02T08:00", title_en="Liver function")
    _publish(api, other)

    listed = api.get(f"/api/v1/patients/{patient}/reports").json()
    assert [r["report_id"] for r in listed] == [pending, imaging, older]
    assert [r["status"] for r in listed] == ["pending", "ready", "ready"]
    assert listed[0]["ready_at"] is None and listed[1]["ready_at"] == "2026-03-01T12:00"
    assert listed[1]["kind"] == "imaging" and listed[1]["report_no"] == f"X20260301{imaging:06d}"
    assert listed[2]["report_no"] == f"L20260201{older:06d}" and listed[2]["department_name_en"] == "Internal Medicine"
    assert all(r["print_count"] == 0 and r["last_printed_at"] is None for r in listed)
    assert "content" not in listed[1]  # the list carries no results: those come with a claimed copy
    r = api.get("/api/v1/patients/999999/reports")
    assert r.status_code == 404 and _code(r) == "patient_not_found"


def test_the_first_copy_prints_once_and_a_retry_replays_without_counting(api: Api) -> None:
    patient = api.patient()
    report = _publish(api, patient)
    key = str(uuid.uuid4())

    r = _print(api, report, patient, key)
    assert r.status_code == 201, r.text
    ticket = r.json()
    assert ticket["copy_kind"] == "first" and ticket["copy_no"] == 1 and ticket["status"] == "claimed"
    assert ticket["kiosk_id"] == "KIOSK-T1" and ticket["reprint_reason"] is None
    assert ticket["report"]["content"]["rows"][5] == {
        "item_zh": "淋巴细胞百分比",
        "item_en": "Lymphocytes %",
        "result": "18.1",
        "unit": "%",
        "range": "20-50",
        "flag": "L",
    }
    again = _print(api, report, patient, key)
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true" and again.json() == ticket
    assert _report(api, patient, report)["print_count"] == 1

    done = _outcome(api, key, True)
    assert done.status_code == 200 and done.json()["status"] == "printed" and done.json()["finished_at"]
    assert _outcome(api, key, True).json() == done.json()  # reported twice: the same answer
    listed = _report(api, patient, report)
    assert listed["print_count"] == 1 and listed["last_printed_at"] == done.json()["finished_at"]
    # The retry after the copy came out still replays; it is not a second copy.
    assert _print(api, report, patient, key).json()["status"] == "printed"
    assert _prints(api, report) == [("first", 1, None, "printed")]
    assert int(api.sql("SELECT count(*) FROM audit_log WHERE action = 'report.print_claimed'")[0][0]) == 1
    assert int(api.sql("SELECT count(*) FROM audit_log WHERE action = 'report.printed'")[0][0]) == 1


def test_a_second_copy_needs_a_reason_and_is_recorded_as_a_reprint(api: Api) -> None:
    patient = api.patient()
    report = _publish(api, patient)
    first = str(uuid.uuid4())
    assert _print(api, report, patient, first).status_code == 201
    # The outcome never arrived (kiosk lost power): the copy may have printed, so it still counts.
    refused = _print(api, report, patient)
    assert refused.status_code == 409 and _code(refused) == "already_printed"

    key = str(uuid.uuid4())
    r = _print(api, report, patient, key, reprint_reason="lost")
    assert r.status_code == 201 and r.json()["copy_kind"] == "reprint" and r.json()["copy_no"] == 2
    assert r.json()["reprint_reason"] == "lost"
    assert _outcome(api, key, True).status_code == 200
    assert _report(api, patient, report)["print_count"] == 2
    assert _prints(api, report) == [("first", 1, None, "claimed"), ("reprint", 2, "lost", "printed")]
    detail = api.sql("SELECT detail FROM audit_log WHERE action = 'report.print_claimed' ORDER BY seq DESC")[0][0]
    assert '"reason":"lost"' in detail and '"copy_kind":"reprint"' in detail

    # Same key with another reason, another report or another patient: a client bug, refused.
    assert _code(_print(api, report, patient, key, reprint_reason="damaged")) == "idempotency_key_reused"
    assert _print(api, _publish(api, patient), patient, key).status_code == 422
    assert _print(api, report, patient, reprint_reason="Lost!").status_code == 422  # codes only


def test_paper_out_mid_report_stops_the_copy_counting_so_it_prints_again_without_a_reason(api: Api) -> None:
    patient = api.patient()
    report = _publish(api, patient)
    failed = str(uuid.uuid4())
    assert _print(api, report, patient, failed).status_code == 201
    r = _outcome(api, failed, False, "paper_out")
    assert r.status_code == 200 and r.json()["status"] == "failed" and r.json()["error_code"] == "paper_out"
    assert _report(api, patient, report)["print_count"] == 0

    retry = _print(api, report, patient)  # no reason needed: no copy reached the patient
    assert retry.status_code == 201 and retry.json()["copy_kind"] == "first" and retry.json()["copy_no"] == 1
    assert _outcome(api, retry.json()["key"], True).status_code == 200
    assert _prints(api, report) == [("first", 1, None, "failed"), ("first", 1, None, "printed")]
    # The failed copy's outcome cannot be turned into "printed" afterwards, nor the other way.
    conflict = _outcome(api, failed, True)
    assert conflict.status_code == 409 and _code(conflict) == "outcome_conflict"
    assert _code(_outcome(api, retry.json()["key"], False, "paper_out")) == "outcome_conflict"
    assert _outcome(api, failed, False).json()["error_code"] == "paper_out"  # the same outcome: same answer
    assert _report(api, patient, report)["print_count"] == 1
    # A failure without a code is recorded as a printer error.
    third = _print(api, report, patient, reprint_reason="for_doctor").json()
    assert _outcome(api, third["key"], False).json()["error_code"] == "printer_error"


def test_refusals(api: Api) -> None:
    patient, other = api.patient(), api.patient()
    pending = _publish(api, patient, ready=False)
    r = _print(api, pending, patient)
    assert r.status_code == 409 and _code(r) == "report_not_ready"
    mine = _publish(api, patient)
    r = _print(api, mine, other)  # another patient's report: not found, nothing revealed
    assert r.status_code == 404 and _code(r) == "report_not_found"
    assert _code(_print(api, 987654, patient)) == "report_not_found"
    r = _print(api, mine, patient, kiosk_id="KIOSK-OTHER")
    assert r.status_code == 403 and _code(r) == "kiosk_mismatch"
    r = _outcome(api, "never-claimed-0001", True)
    assert r.status_code == 404 and _code(r) == "print_not_found"
    assert _outcome(api, "bad key", True).status_code == 422
    assert _print(api, mine, patient, error="x").status_code == 201  # unknown fields are ignored
    assert _report(api, patient, mine)["print_count"] == 1

    # Once the lab signs it off, the pending report prints.
    assert api.srv.app is not None
    with api.srv.app.state.db.connection() as conn, write_tx(conn):
        mark_ready(conn, pending, CBC, "2026-03-02T11:00")
    assert _print(api, pending, patient).status_code == 201


def test_only_the_kiosk_that_claimed_a_copy_reports_its_outcome(api: Api) -> None:
    patient = api.patient()
    report = _publish(api, patient)
    key = str(uuid.uuid4())
    assert _print(api, report, patient, key).status_code == 201
    with api.kiosk("KIOSK-T2") as other:
        r = other.post(f"{api.base}/api/v1/reports/prints/{key}/outcome", json={"printed": False}, timeout=10)
    assert r.status_code == 403 and _code(r) == "kiosk_mismatch"
    assert _report(api, patient, report)["print_count"] == 1


def test_two_kiosks_printing_the_same_report_at_once_make_one_first_copy(api: Api) -> None:
    patient = api.patient()
    report = _publish(api, patient)
    answers: list[int] = []
    barrier = threading.Barrier(5)

    def attempt() -> None:
        with api.session() as s:
            barrier.wait()
            body = {"key": str(uuid.uuid4()), "kiosk_id": "KIOSK-T1", "patient_id": patient}
            answers.append(s.post(f"{api.base}/api/v1/reports/{report}/print", json=body, timeout=10).status_code)

    threads = [threading.Thread(target=attempt) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(answers) == [201] + [409] * 4
    assert _prints(api, report) == [("first", 1, None, "claimed")]


def test_the_demo_reports_are_seeded_once(api: Api) -> None:
    from server.reports.demo import seed_demo_reports

    patients = {"zhangsan": api.patient(), "elder": api.patient()}
    assert api.srv.app is not None
    from datetime import date

    with api.srv.app.state.db.connection() as conn:
        assert seed_demo_reports(conn, patients, date(2026, 3, 5)) == len(DEMO_REPORTS)
        assert seed_demo_reports(conn, patients, date(2026, 3, 6)) == 0
    listed = api.get(f"/api/v1/patients/{patients['zhangsan']}/reports").json()
    assert [(r["title_en"], r["status"]) for r in listed] == [
        ("Liver function", "pending"),
        ("Chest X-ray", "ready"),
        ("Complete blood count", "ready"),
    ]
    elder = api.get(f"/api/v1/patients/{patients['elder']}/reports").json()
    ticket = _print(api, elder[-1]["report_id"], patients["elder"]).json()
    assert [row["flag"] for row in ticket["report"]["content"]["rows"]] == ["H", "H", "", "", "H"]


# -- the client ----------------------------------------------------------------------------------------


@pytest.fixture
def client(api: Api) -> Iterator[ServerClient]:
    with ServerClient(api.base, kiosk_id="KIOSK-T1", credential=api.credential) as c:
        yield c


def test_client_lists_claims_reports_outcomes_and_reprints(api: Api, client: ServerClient) -> None:
    patient = api.patient()
    lab, imaging = _publish(api, patient), _publish(api, patient, kind="imaging", ordered_at="2026-03-01T10:00")
    listed = client.reports(patient)
    assert [r.report_id for r in listed] == [imaging, lab] and listed[0].kind == "imaging"

    key = str(uuid.uuid4())
    ticket = client.claim_report_print(key, lab, patient)
    assert ticket.copy.copy_no == 1 and ticket.copy.status == "claimed" and not ticket.replayed
    assert ticket.report.title_en == "Complete blood count" and len(ticket.content.rows) == 6
    assert ticket.content.rows[5].flag == "L" and ticket.content.specimen_zh == "静脉血"
    assert client.claim_report_print(key, lab, patient).replayed
    failed = client.report_print_outcome(key, False, "paper_out")
    assert failed.status == "failed" and failed.error_code == "paper_out"

    again = client.claim_report_print(str(uuid.uuid4()), lab, patient)
    assert again.copy.copy_kind == "first"
    assert client.report_print_outcome(again.copy.key, True).status == "printed"
    with pytest.raises(BusinessError) as refused:
        client.claim_report_print(str(uuid.uuid4()), lab, patient)
    assert refused.value.code == "already_printed" and refused.value.tr_key == "server.rejected.already_printed"
    reprint = client.claim_report_print(str(uuid.uuid4()), lab, patient, reprint_reason="damaged")
    assert (
        reprint.copy.copy_kind == "reprint" and reprint.copy.copy_no == 2 and reprint.copy.reprint_reason == "damaged"
    )

    xray = client.claim_report_print(str(uuid.uuid4()), imaging, patient)
    assert xray.content.rows == () and xray.content.impression_en == "No abnormality of heart or lungs."
