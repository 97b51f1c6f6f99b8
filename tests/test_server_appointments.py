"""Appointment check-in (预约取号) on both stores: listing, the check-in window, idempotency, paying
the fee through the ordinary payment flow, the demo bookings, and the client."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

import pytest

from server.appointments import service
from server.appointments.demo import DEMO_BOOKINGS
from server.appointments.service import CheckinWindow, book
from server.dbapi import IntegrityError, write_tx
from server.patients import resident_check_digit
from server.seed import DEMO_PATIENTS
from server.settings import ServerSettings
from server.testing import ServerThread
from sync.client import BusinessError, ServerClient

if TYPE_CHECKING:
    from conftest_server import Api

TODAY = date.today()
TEN = datetime.combine(TODAY, time(10, 0))


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[datetime]]:
    """The hospital clock the check-in window is judged by: ``clock[0] = ...`` moves it."""
    at = [TEN]
    monkeypatch.setattr(service, "now", lambda: at[0])
    yield at


def _slot(api: Api, start: str, *, doctor: str = "T01", day: date = TODAY, capacity: int = 3) -> int:
    """A slot of our own: by default of a doctor of the tests' (fee 20.00), whose day is empty."""
    if doctor == "T01":
        api.sql(
            "INSERT INTO doctors(code, department_code, name_zh, name_en, title_zh, title_en, fee_cents)"
            " VALUES ('T01', 'SURG', '测试医生', 'Test Doctor', '医师', 'Physician', 2000) ON CONFLICT DO NOTHING",
            write=True,
        )
    rows = api.sql(
        'INSERT INTO slots(doctor_code, date, start, "end", capacity, booked) VALUES (?, ?, ?, ?, ?, 0) RETURNING id',
        (doctor, day.isoformat(), start, "23:59", capacity),
        write=True,
    )
    return int(rows[0][0])


def _book(api: Api, patient_id: int, slot_id: int, **kw: Any) -> int:
    assert api.srv.app is not None
    with api.srv.app.state.db.connection() as conn, write_tx(conn):
        return book(conn, patient_id=patient_id, slot_id=slot_id, booked_via=kw.pop("via", "phone"), **kw)


def _list(api: Api, patient_id: int, day: date = TODAY) -> list[dict[str, Any]]:
    r = api.get(f"/api/v1/patients/{patient_id}/appointments", params={"date": day.isoformat()})
    assert r.status_code == 200, r.text
    return list(r.json())


def _checkin(api: Api, appointment_id: int, patient_id: int, key: str | None = None, **extra: Any) -> Any:
    body = {"key": key or str(uuid.uuid4()), "kiosk_id": "KIOSK-T1", "patient_id": patient_id} | extra
    return api.post(f"/api/v1/appointments/{appointment_id}/check-in", body)


def _code(r: Any) -> str:
    return str(r.json()["error"]["code"])


def _booked(api: Api, slot_id: int) -> int:
    return int(api.sql("SELECT booked FROM slots WHERE id = ?", (slot_id,))[0][0])


# -- listing ----------------------------------------------------------------------------------------


def test_the_list_shows_the_days_bookings_with_what_check_in_would_answer(api: Api, clock: list[datetime]) -> None:
    patient, other = api.patient(), api.patient()
    late = _book(api, patient, _slot(api, "09:40"))  # closed at 09:55
    due = _book(api, patient, _slot(api, "10:35", doctor="D04"))  # opened at 09:35
    early = _book(api, patient, _slot(api, "11:05"), via="wechat", prepaid=True)  # opens at 10:05
    cancelled = _book(api, patient, _slot(api, "10:45"), status="cancelled")
    _book(api, other, _slot(api, "10:40"))
    _book(api, patient, _slot(api, "10:50", day=TODAY + timedelta(days=1)))

    listed = _list(api, patient)
    assert [a["appointment_id"] for a in listed] == [late, due, cancelled, early]  # time order
    states = {a["appointment_id"]: (a["status"], a["checkin"]) for a in listed}
    assert states == {
        late: ("booked", "too_late"),
        due: ("booked", "open"),
        cancelled: ("cancelled", "closed"),
        early: ("booked", "too_early"),
    }
    first = listed[1]
    assert first["department_code"] == "SURG" and first["doctor_code"] == "D04" and first["fee_cents"] == 5000
    assert first["checkin_opens"] == f"{TODAY.isoformat()}T09:35"
    assert first["checkin_closes"] == f"{TODAY.isoformat()}T10:50"
    assert first["appt_no"] == f"A{TODAY:%Y%m%d}{due:06d}"
    assert first["registration_id"] is None and first["paid"] is None and first["queue_no"] is None
    assert listed[3]["prepaid"] is True and listed[3]["booked_via"] == "wechat"
    assert len(_list(api, patient, TODAY + timedelta(days=1))) == 1

    assert api.get("/api/v1/patients/999999/appointments").status_code == 404
    assert _code(api.get("/api/v1/patients/999999/appointments")) == "patient_not_found"
    assert api.get(f"/api/v1/patients/{patient}/appointments", params={"date": "tomorrow"}).status_code == 422


def test_a_live_booking_takes_its_place_in_the_slot_and_a_cancelled_one_none(api: Api) -> None:
    patient = api.patient()
    slot = _slot(api, "15:05", capacity=1)
    _book(api, patient, slot, status="cancelled")
    assert _booked(api, slot) == 0
    _book(api, patient, slot)
    assert _booked(api, slot) == 1
    with pytest.raises(IntegrityError):  # the slots table refuses an overbooking itself
        _book(api, api.patient(), slot)


# -- check-in ----------------------------------------------------------------------------------------


def test_check_in_makes_a_registration_the_payment_flow_pays_and_a_retry_replays(
    api: Api, clock: list[datetime]
) -> None:
    patient = api.patient()
    slot = _slot(api, "10:20", doctor="D04")
    appointment = _book(api, patient, slot)
    key = str(uuid.uuid4())

    r = _checkin(api, appointment, patient, key)
    assert r.status_code == 201, r.text
    first = r.json()
    assert first["appointment_id"] == appointment and first["paid"] is False and first["status"] == "unpaid"
    assert first["amount_cents"] == 5000 and first["department_code"] == "SURG" and first["start"] == "10:20"
    assert first["reg_no"] == f"R{TODAY:%Y%m%d}{first['registration_id']:06d}"
    assert first["queue_no"] >= 1
    assert _booked(api, slot) == 1  # the booking's place, not a second one

    again = _checkin(api, appointment, patient, key)
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first
    assert int(api.sql("SELECT count(*) FROM registrations WHERE patient_id = ?", (patient,))[0][0]) == 1
    assert int(api.sql("SELECT count(*) FROM audit_log WHERE action = 'appointment.checked_in'")[0][0]) == 1

    # The fee is paid exactly like a registration made at the kiosk.
    pay = api.pay_body(first, 0)
    assert api.post("/api/v1/payments", pay).status_code in (200, 201)
    assert api.wait_final(pay["idempotency_key"])["status"] == "SUCCESS"

    # A kiosk that lost the answer after the patient paid learns that it is paid: no second charge.
    replay = _checkin(api, appointment, patient, key).json()
    assert replay["paid"] is True and replay["status"] == "paid"
    assert {k: v for k, v in replay.items() if k not in ("paid", "status")} == {
        k: v for k, v in first.items() if k not in ("paid", "status")
    }
    (listed,) = _list(api, patient)
    assert listed["status"] == "checked_in" and listed["checkin"] == "done" and listed["paid"] is True
    assert listed["registration_id"] == first["registration_id"] and listed["queue_no"] == first["queue_no"]


def test_a_checked_in_visit_whose_registration_was_cancelled_is_listed_closed(api: Api, clock: list[datetime]) -> None:
    patient = api.patient()
    appointment = _book(api, patient, _slot(api, "10:15"))
    reg = _checkin(api, appointment, patient).json()
    assert api.post(f"/api/v1/registrations/{reg['registration_id']}/cancel").status_code == 200
    (listed,) = _list(api, patient)
    assert (listed["status"], listed["checkin"], listed["paid"]) == ("checked_in", "closed", None)
    assert _code(_checkin(api, appointment, patient)) == "appointment_checked_in"  # not a second registration


def test_queue_numbers_follow_the_order_of_arrival_per_doctor(api: Api, clock: list[datetime]) -> None:
    patients = [api.patient() for _ in range(3)]
    numbers = []
    for i, patient in enumerate(patients):
        appointment = _book(api, patient, _slot(api, f"10:0{i + 1}", doctor="D22"))
        numbers.append(_checkin(api, appointment, patient).json()["queue_no"])
    assert numbers == sorted(numbers) and len(set(numbers)) == 3 and numbers[1] == numbers[0] + 1


def test_a_prepaid_booking_checks_in_paid_and_cannot_be_charged(api: Api, clock: list[datetime]) -> None:
    patient = api.patient()
    appointment = _book(api, patient, _slot(api, "10:25"), via="wechat", prepaid=True)
    r = _checkin(api, appointment, patient)
    assert r.status_code == 201 and r.json()["paid"] is True and r.json()["status"] == "paid"
    charge = api.post("/api/v1/payments", api.pay_body(r.json(), 0))
    assert charge.status_code == 409 and _code(charge) == "already_paid"
    assert api.sandbox_orders == 0


@pytest.mark.parametrize(
    ("at", "answer"),
    [
        (time(9, 29), "too_early"),
        (time(9, 30), None),  # the window opens 60 minutes before...
        (time(10, 45), None),  # ...and closes 15 minutes after the start
        (time(10, 46), "too_late"),
    ],
)
def test_the_check_in_window_edges(api: Api, clock: list[datetime], at: time, answer: str | None) -> None:
    patient = api.patient()
    appointment = _book(api, patient, _slot(api, "10:30"))
    clock[0] = datetime.combine(TODAY, at)
    r = _checkin(api, appointment, patient)
    if answer is None:
        assert r.status_code == 201, r.text
    else:
        assert r.status_code == 409 and _code(r) == answer
        (listed,) = _list(api, patient)
        assert listed["status"] == "booked" and listed["checkin"] == answer


def test_a_refusal_stores_nothing_so_the_same_key_works_once_the_window_opens(api: Api, clock: list[datetime]) -> None:
    patient = api.patient()
    appointment = _book(api, patient, _slot(api, "12:00"))
    key = str(uuid.uuid4())
    refused = _checkin(api, appointment, patient, key)
    assert refused.status_code == 409 and _code(refused) == "too_early"
    assert "11:00" in refused.json()["error"]["message"]
    assert api.sql("SELECT registration_id FROM appointments WHERE id = ?", (appointment,))[0][0] is None
    clock[0] = datetime.combine(TODAY, time(11, 5))
    assert _checkin(api, appointment, patient, key).status_code == 201


@contextmanager
def _server(api: Api, settings: ServerSettings) -> Iterator[Api]:
    """Another server (its own settings and database) with the same test helper."""
    with ServerThread(settings) as srv:
        other = type(api)(srv)
        try:
            yield other
        finally:
            other.close()


def test_the_window_is_configurable(api: Api, fresh_settings: Any, clock: list[datetime]) -> None:
    with _server(api, fresh_settings("narrow", checkin_open_before_min=20, checkin_close_after_min=0)) as narrow:
        patient = narrow.patient()
        soon = _book(narrow, patient, _slot(narrow, "10:25"))  # opens 10:05
        due = _book(narrow, patient, _slot(narrow, "10:15"))
        gone = _book(narrow, patient, _slot(narrow, "09:59"))  # closed at its start
        assert _code(_checkin(narrow, soon, patient)) == "too_early"
        assert _checkin(narrow, due, patient).status_code == 201
        assert _code(_checkin(narrow, gone, patient)) == "too_late"


def test_refusals_carry_their_own_codes(api: Api, clock: list[datetime]) -> None:
    patient, other = api.patient(), api.patient()
    cancelled = _book(api, patient, _slot(api, "10:10"), status="cancelled")
    missed = _book(api, patient, _slot(api, "10:11"))
    api.sql("UPDATE appointments SET status = 'no_show' WHERE id = ?", (missed,), write=True)
    mine = _book(api, patient, _slot(api, "10:12"))

    assert _code(_checkin(api, cancelled, patient)) == "appointment_cancelled"
    assert _code(_checkin(api, missed, patient)) == "appointment_no_show"
    r = _checkin(api, mine, other)  # another patient's booking: not found, nothing revealed
    assert r.status_code == 404 and _code(r) == "appointment_not_found"
    assert _code(_checkin(api, 987654, patient)) == "appointment_not_found"

    key = str(uuid.uuid4())
    assert _checkin(api, mine, patient, key).status_code == 201
    second = _checkin(api, mine, patient)  # another key: a second registration must not appear
    assert second.status_code == 409 and _code(second) == "appointment_checked_in"
    reused = _book(api, patient, _slot(api, "10:13"))
    r = _checkin(api, reused, patient, key)  # the key of another check-in
    assert r.status_code == 422 and _code(r) == "idempotency_key_reused"
    assert _checkin(api, mine, other, key).status_code == 422  # the same key, another patient
    assert int(api.sql("SELECT count(*) FROM registrations WHERE patient_id = ?", (patient,))[0][0]) == 1

    r = _checkin(api, reused, patient, kiosk_id="KIOSK-OTHER")
    assert r.status_code == 403 and _code(r) == "kiosk_mismatch"
    assert _checkin(api, reused, patient, key="short").status_code == 422


def test_two_kiosks_checking_in_the_same_booking_at_once_make_one_registration(api: Api, clock: list[datetime]) -> None:
    patient = api.patient()
    appointment = _book(api, patient, _slot(api, "10:30"))
    answers: list[int] = []
    barrier = threading.Barrier(6)

    def attempt() -> None:
        with api.session() as s:
            barrier.wait()
            body = {"key": str(uuid.uuid4()), "kiosk_id": "KIOSK-T1", "patient_id": patient}
            answers.append(
                s.post(f"{api.base}/api/v1/appointments/{appointment}/check-in", json=body, timeout=10).status_code
            )

    threads = [threading.Thread(target=attempt) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(answers) == [201] + [409] * 5
    assert int(api.sql("SELECT count(*) FROM registrations WHERE patient_id = ?", (patient,))[0][0]) == 1


# -- the demo's bookings ------------------------------------------------------------------------------


def _demo_patient(api: Api, key: str) -> int:
    first17, name, sex, birth = DEMO_PATIENTS[key]
    card = {"id_type": "resident", "id_number": first17 + resident_check_digit(first17)}
    r = api.post("/api/v1/patients/identify", card | {"name": name, "sex": sex, "birth": birth})
    assert r.status_code == 200 and r.json()["is_new"] is False  # the card on the reader meets the seeded record
    return int(r.json()["patient_id"])


def test_the_demo_patients_have_bookings_around_the_start_time(
    api: Api, fresh_settings: Any, clock: list[datetime]
) -> None:
    clock[0] = datetime.combine(TODAY, time(9, 2))
    settings = fresh_settings("demo", seed_demo_patients=True)
    plain = {s["slot_id"]: s["left"] for s in api.get("/api/v1/doctors/D04/slots").json()}

    def states(demo: Api, patient: int) -> list[tuple[str, str, str]]:
        return [(a["doctor_code"], a["status"], a["checkin"]) for a in _list(demo, patient)]

    with _server(api, settings) as demo:
        patient, elder = _demo_patient(demo, "zhangsan"), _demo_patient(demo, "elder")
        assert states(demo, patient) == [
            ("D04", "booked", "open"),
            ("D11", "booked", "open"),
            ("D13", "booked", "too_early"),
        ]
        due, prepaid, _early = _list(demo, patient)
        assert due["start"] == "09:20" and due["fee_cents"] == 5000 and not due["prepaid"] and prepaid["prepaid"]
        assert {a["doctor_code"]: a["checkin"] for a in _list(demo, elder)} == {"D19": "open", "D21": "closed"}
        # Their slots are their own and full: what the registration screens count does not change.
        slots = demo.get("/api/v1/doctors/D04/slots").json()
        assert [s["left"] for s in slots if s["start"] == "09:20"] == [0]
        assert sum(s["left"] for s in slots) == sum(plain.values())

    # Started again while they are still open: nothing new. Hours later: missed, and booked afresh.
    with _server(api, settings) as demo:
        assert len(_list(demo, patient)) == 3
    clock[0] += timedelta(hours=4)
    with _server(api, settings) as demo:
        listed = states(demo, patient)
        assert sorted(listed) == [
            ("D04", "booked", "open"),
            ("D04", "no_show", "closed"),
            ("D11", "booked", "open"),
            ("D11", "no_show", "closed"),
            ("D13", "booked", "too_early"),
            ("D13", "no_show", "closed"),  # 12:00 has passed too
        ]
    assert {b.patient for b in DEMO_BOOKINGS} <= set(DEMO_PATIENTS)


def test_the_demo_seed_is_off_unless_asked_for(api: Api) -> None:
    assert int(api.sql("SELECT count(*) FROM appointments")[0][0]) == 0
    assert int(api.sql("SELECT count(*) FROM patients")[0][0]) == 0


def test_window_arithmetic() -> None:
    window = CheckinWindow.minutes(60, 15)
    day = TODAY.isoformat()
    assert window.state(day, "10:00", datetime.combine(TODAY, time(8, 59, 59))) == "too_early"
    assert window.state(day, "10:00", datetime.combine(TODAY, time(10, 15))) == "open"
    assert window.state(day, "00:10", datetime.combine(TODAY - timedelta(days=1), time(23, 30))) == "open"
    assert window.state(day, "10:00", datetime.combine(TODAY + timedelta(days=1), time(9, 30))) == "too_late"


# -- the client ----------------------------------------------------------------------------------------


@pytest.fixture
def client(api: Api) -> Iterator[ServerClient]:
    with ServerClient(api.base, kiosk_id="KIOSK-T1", credential=api.credential) as c:
        yield c


def test_client_lists_checks_in_and_replays(api: Api, client: ServerClient, clock: list[datetime]) -> None:
    patient = api.patient()
    appointment = _book(api, patient, _slot(api, "10:25", doctor="D04"))
    early = _book(api, patient, _slot(api, "12:30"))
    (listed, later) = client.appointments(patient, TODAY)
    assert listed.appointment_id == appointment and listed.checkin == "open" and listed.fee_cents == 5000
    assert later.checkin == "too_early" and later.checkin_opens.endswith("T11:30")

    key = str(uuid.uuid4())
    checked = client.check_in(key, appointment, patient)
    assert not checked.replayed and not checked.paid and checked.queue_no >= 1
    assert checked.registration.amount_cents == 5000 and checked.registration.status == "unpaid"
    again = client.check_in(key, appointment, patient)
    assert again.replayed and again.registration.registration_id == checked.registration.registration_id

    with pytest.raises(BusinessError) as refused:
        client.check_in(str(uuid.uuid4()), early, patient)
    assert refused.value.code == "too_early" and refused.value.tr_key == "server.rejected.too_early"
