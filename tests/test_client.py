"""``sync.client.ServerClient`` against the real server, a closed port and a scripted stub."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterator
from datetime import date
from typing import TYPE_CHECKING

import pytest

from sync.client import (
    BusinessError,
    Department,
    PaymentResult,
    ServerClient,
    ServerError,
    ServerTimeout,
    ServerUnavailable,
)

if TYPE_CHECKING:
    from conftest_server import Api, StubServer



@pytest.fixture
def client(api: Api) -> Iterator[ServerClient]:
    with ServerClient(api.base, kiosk_id="KIOSK-T1", credential=api.credential) as c:
        yield c


def _wait_final(client: ServerClient, key: str, timeout: float = 20.0) -> PaymentResult:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = client.payment_status(key)
        assert result is not None
        if result.is_final:
            return result
        time.sleep(0.1)
    raise AssertionError("payment still pending")


def test_happy_path(client: ServerClient, api: Api, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    assert client.health() is True
    depts = client.departments()
    assert len(depts) >= 8 and isinstance(depts[0], Department)
    today = date.today()
    doctors = client.doctors("IM", today)
    doctor = next(d for d in doctors if d.slots_left > 0)
    slot = next(s for s in client.slots(doctor.code, today.isoformat()) if s.left > 0)

    person = api.new_patient_payload()
    patient = client.identify(**person)
    assert patient.is_new and client.identify(**person) == type(patient)(patient.patient_id, False)

    key = str(uuid.uuid4())
    reg = client.create_registration(key, patient.patient_id, slot.slot_id)
    assert reg.status == "unpaid" and reg.amount_cents == doctor.fee_cents and not reg.replayed
    assert reg.doctor_name_zh == doctor.name_zh and reg.start == slot.start
    again = client.create_registration(key, patient.patient_id, slot.slot_id)
    assert again.replayed and again.registration_id == reg.registration_id

    pay_key = str(uuid.uuid4())
    assert client.payment_status(pay_key) is None  # never seen: the POST did not arrive
    code = api.wechat_code(1)
    result = client.pay(pay_key, reg.registration_id, reg.amount_cents, code)
    assert (result.status, result.registration_status, result.is_final) == ("SUCCESS", "paid", True)
    assert client.payment_status(pay_key) == result
    assert code not in caplog.text and code[-4:] in caplog.text
    assert person["id_number"] not in caplog.text and person["name"] not in caplog.text


def test_pending_payment_then_poll(client: ServerClient, api: Api) -> None:
    reg = api.register()
    key = str(uuid.uuid4())
    first = client.pay(key, reg["registration_id"], reg["amount_cents"], api.wechat_code(7))
    assert first.status == "PENDING" and not first.is_final
    final = _wait_final(client, key)
    assert (final.status, final.registration_status) == ("REVERSED", "unpaid")


def test_business_errors_carry_code_and_tr_key(client: ServerClient, api: Api) -> None:
    reg = api.register()
    with pytest.raises(BusinessError) as exc:
        client.pay(str(uuid.uuid4()), reg["registration_id"], reg["amount_cents"] + 100, api.wechat_code(0))
    assert (exc.value.code, exc.value.status, exc.value.tr_key) == (
        "amount_mismatch",
        409,
        "server.rejected.amount_mismatch",
    )
    client.cancel_registration(reg["registration_id"])
    client.cancel_registration(reg["registration_id"])  # idempotent
    with pytest.raises(BusinessError) as exc:
        client.pay(str(uuid.uuid4()), reg["registration_id"], reg["amount_cents"], api.wechat_code(0))
    assert exc.value.code == "registration_cancelled"

    slot = api.free_slot()
    for _ in range(slot["left"]):
        api.register(slot_id=slot["slot_id"])
    with pytest.raises(BusinessError) as exc:
        client.create_registration(str(uuid.uuid4()), api.patient(), slot["slot_id"])
    assert exc.value.tr_key == "server.rejected.slot_full"
    with pytest.raises(BusinessError) as exc:
        client.identify("resident", "nonsense", "x", "M", "1990-01-01")
    assert exc.value.code == "invalid_id_number" and exc.value.status == 422


def test_server_down_is_unavailable_fast(closed_port_url: str) -> None:
    with ServerClient(closed_port_url, kiosk_id="K1") as client:
        started = time.monotonic()
        with pytest.raises(ServerUnavailable) as exc:
            client.departments()
        assert time.monotonic() - started < 1.0
        assert exc.value.tr_key == "server.unavailable"
        assert client.health() is False
        with pytest.raises(ServerUnavailable):
            client.pay("k" * 16, 1, 1500, "134567890123456780")


def test_unresolvable_host_is_unavailable() -> None:
    with ServerClient("http://no-such-host.invalid:8700", kiosk_id="K1") as client, pytest.raises(ServerUnavailable):
        client.departments()


def test_read_timeout_is_unknown_outcome(stub_http: StubServer) -> None:
    stub_http.routes["/api/v1/payments"] = stub_http.Route(body=b"{}", delay_s=5)
    with ServerClient(stub_http.base_url, kiosk_id="K1", read_timeout=0.3, pay_read_timeout=0.3) as client:
        started = time.monotonic()
        with pytest.raises(ServerTimeout) as exc:
            client.pay("k" * 16, 1, 1500, "134567890123456780")
        assert time.monotonic() - started < 2.0
        assert exc.value.tr_key == "server.timeout"


def test_connection_dropped_mid_request_is_unknown_outcome(stub_http: StubServer) -> None:
    stub_http.routes["/api/v1/registrations"] = stub_http.Route(drop=True)
    with ServerClient(stub_http.base_url, kiosk_id="K1") as client, pytest.raises(ServerTimeout) as exc:
        client.create_registration("k" * 16, 1, 1)
    assert exc.value.code == "connection_lost"


def test_html_500_and_garbage_are_server_errors(stub_http: StubServer) -> None:
    stub_http.routes["/api/v1/departments"] = stub_http.Route(
        status=500, body=b"<html><body>Internal Server Error</body></html>", content_type="text/html"
    )
    stub_http.routes["/api/v1/doctors/D01/slots"] = stub_http.Route(body=b"not json at all")
    stub_http.routes["/api/v1/departments/IM/doctors"] = stub_http.Route(body=b'[{"code": "D01"}]')
    stub_http.routes["/api/v1/patients/identify"] = stub_http.Route(status=502, body=b"bad gateway")
    with ServerClient(stub_http.base_url, kiosk_id="K1") as client:
        with pytest.raises(ServerError) as exc:
            client.departments()
        assert type(exc.value) is ServerError
        assert (exc.value.code, exc.value.status, exc.value.tr_key) == ("http_500", 500, "server.error")
        with pytest.raises(ServerError) as exc:
            client.slots("D01", "2030-01-01")
        assert exc.value.code == "bad_response"
        with pytest.raises(ServerError) as exc:
            client.doctors("IM", "2030-01-01")
        assert exc.value.code == "bad_response"
        with pytest.raises(ServerError) as exc:
            client.identify("resident", "1", "x", "M", "1990-01-01")
        assert type(exc.value) is ServerError and exc.value.status == 502
        assert client.health() is False  # 404 from the stub, no exception
