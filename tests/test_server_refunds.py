"""Refunds (退费) and 退号 on both stores: the provider's answers, never refunding twice, the window.

The WeChat and Alipay sandboxes play the providers; ``script_refunds`` makes the next refund's answer
lost, an error, a slow PROCESSING or a REFUNDCLOSE, so every unclear answer is seen resolved by the
refund query rather than by guessing.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest

from server.db import open_database
from server.dbapi import utc_now, write_tx
from server.payments.clock import china_today
from server.payments.wechat import WeChatPayClient
from server.settings import ServerSettings
from server.testing import ServerThread
from sync.client import BusinessError, ServerClient

if TYPE_CHECKING:
    from conftest_server import Api

ALIPAY_PREFIX = "28" + "76543210987654"  # 16 digits; the 17th picks the Alipay sandbox outcome
FINAL = {"refunded", "failed"}


def _paid(api: Api, *, code: str | None = None, day: date | None = None) -> dict[str, Any]:
    """A paid registration (on ``day``, default tomorrow: inside any refund window)."""
    reg = api.register(slot_id=_slot(api, day or date.today() + timedelta(days=1)))
    key = str(uuid.uuid4())
    body = api.pay_body(reg, 0, key) | ({"auth_code": code} if code else {})
    r = api.post("/api/v1/payments", body)
    assert r.status_code == 201, r.text
    assert api.wait_final(key)["status"] == "SUCCESS"
    return reg | {"payment_key": key}


def _slot(api: Api, day: date) -> int:
    for dept in api.get("/api/v1/departments").json():
        for doc in api.get(f"/api/v1/departments/{dept['code']}/doctors", params={"date": day.isoformat()}).json():
            for slot in api.get(f"/api/v1/doctors/{doc['code']}/slots", params={"date": day.isoformat()}).json():
                if slot["left"] >= 1 and slot["slot_id"] not in api._used_slots:
                    api._used_slots.add(slot["slot_id"])
                    return int(slot["slot_id"])
    raise AssertionError(f"no free slot on {day}")


def _refund(api: Api, payment_key: str, amount: int, key: str | None = None, **extra: Any) -> Any:
    body = {
        "refund_key": key or str(uuid.uuid4()),
        "amount_cents": amount,
        "reason": "测试退费",
        "kiosk_id": "KIOSK-T1",
    }
    return api.post(f"/api/v1/payments/{payment_key}/refunds", body | extra)


def _wait(api: Api, refund_key: str, timeout: float = 15.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = api.get(f"/api/v1/refunds/{refund_key}")
        assert r.status_code == 200, r.text
        if r.json()["status"] in FINAL:
            return dict(r.json())
        time.sleep(0.1)
    raise AssertionError(f"refund {refund_key} still open after {timeout} s")


def _out_trade_no(api: Api, payment_key: str) -> str:
    return str(api.sql("SELECT out_trade_no FROM payments WHERE idempotency_key = ?", (payment_key,))[0][0])


def _out_refund_no(api: Api, refund_key: str) -> str:
    return str(api.sql("SELECT out_refund_no FROM refunds WHERE refund_key = ?", (refund_key,))[0][0])


def _code(r: Any) -> str:
    return str(r.json()["error"]["code"])


def _left(api: Api, slot_id: int) -> int:
    return int(api.sql("SELECT capacity - booked FROM slots WHERE id = ?", (slot_id,))[0][0])


# -- refunds of a payment ------------------------------------------------------------------------


def test_full_refund_is_made_once_and_replayed(api: Api) -> None:
    reg = _paid(api)
    key = str(uuid.uuid4())
    r = _refund(api, reg["payment_key"], reg["amount_cents"], key)
    assert r.status_code == 201, r.text
    refund = r.json()
    assert refund["status"] == "refunded" and refund["refunded_at"]
    assert (refund["amount_cents"], refund["refundable_cents"], refund["channel"]) == (reg["amount_cents"], 0, "wechat")
    assert refund["requested_by"] == "kiosk:KIOSK-T1" and refund["approved_by"] is None

    again = _refund(api, reg["payment_key"], reg["amount_cents"], key)
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == refund
    other = _refund(api, reg["payment_key"], reg["amount_cents"] - 1, key)
    assert other.status_code == 422 and _code(other) == "idempotency_key_reused"
    assert api.get(f"/api/v1/refunds/{key}").json() == refund

    order = api.srv.app.state.sandbox.order(_out_trade_no(api, reg["payment_key"]))  # type: ignore[union-attr]
    assert order is not None and order.refunded == reg["amount_cents"] and len(order.refunds) == 1
    actions = [r[0] for r in api.sql("SELECT action FROM audit_log WHERE action LIKE 'refund.%' ORDER BY seq")]
    assert actions == ["refund.requested", "refund.final"]
    # A generic refund moves money only: the registration stays as it was.
    assert api.get(f"/api/v1/registrations/{reg['registration_id']}").json()["status"] == "paid"


def test_partial_refunds_never_exceed_the_payment(api: Api) -> None:
    reg = _paid(api)
    fee = reg["amount_cents"]
    first = _refund(api, reg["payment_key"], fee // 2)
    assert first.status_code == 201 and first.json()["refundable_cents"] == fee - fee // 2
    too_much = _refund(api, reg["payment_key"], fee - fee // 2 + 1)
    assert too_much.status_code == 409 and _code(too_much) == "refund_exceeds_refundable"
    rest = _refund(api, reg["payment_key"], fee - fee // 2, approved_by="supervisor1")
    assert rest.status_code == 201 and rest.json()["refundable_cents"] == 0
    assert rest.json()["approved_by"] == "supervisor1"
    one_more = _refund(api, reg["payment_key"], 1)
    assert one_more.status_code == 409 and _code(one_more) == "refund_exceeds_refundable"
    order = api.srv.app.state.sandbox.order(_out_trade_no(api, reg["payment_key"]))  # type: ignore[union-attr]
    assert order is not None and order.refunded == fee and len(order.refunds) == 2


def test_refund_rules(api: Api) -> None:
    reg = _paid(api)
    unknown = _refund(api, "no-such-payment-key", 100)
    assert unknown.status_code == 404 and _code(unknown) == "payment_not_found"
    for bad in (
        {"amount_cents": 0},
        {"amount_cents": -5},
        {"refund_key": "short"},
        {"reason": ""},
        {"approved_by": "a b"},
    ):
        r = _refund(api, reg["payment_key"], 100, **bad)
        assert r.status_code == 422, (bad, r.text)
    mismatch = _refund(api, reg["payment_key"], 100, kiosk_id="KIOSK-OTHER")
    assert mismatch.status_code == 403 and _code(mismatch) == "kiosk_mismatch"
    assert api.get("/api/v1/refunds/never-seen-key-1").status_code == 404

    failed_key = str(uuid.uuid4())
    other = api.register()
    r = api.post("/api/v1/payments", api.pay_body(other, 8, failed_key))  # NOTENOUGH: FAILED
    assert api.wait_final(failed_key)["status"] == "FAILED", r.text
    unpaid = _refund(api, failed_key, 100)
    assert unpaid.status_code == 409 and _code(unpaid) == "payment_not_paid"
    assert api.sql("SELECT count(*) FROM refunds")[0][0] == 0  # refusals store nothing


def test_a_top_up_is_not_refunded_as_a_payment(api: Api) -> None:
    """Its money sits in the prepaid account: a refund of the payment would pay it out twice."""
    key = str(uuid.uuid4())
    body = {
        "idempotency_key": key,
        "top_up_patient_id": api.patient(),
        "amount_cents": 10000,
        "auth_code": api.wechat_code(0),
        "kiosk_id": "KIOSK-T1",
    }
    r = api.post("/api/v1/payments", body)
    assert r.status_code == 201, r.text
    assert api.wait_final(key)["status"] == "SUCCESS"
    refused = _refund(api, key, 10000)
    assert refused.status_code == 409 and _code(refused) == "refund_top_up_unsupported"
    assert api.sql("SELECT count(*) FROM refunds")[0][0] == 0


# -- unclear answers are resolved by querying ------------------------------------------------------


@pytest.mark.parametrize("mode", ["lost", "error", "processing"])
def test_unclear_wechat_answers_end_refunded_exactly_once(api: Api, mode: str) -> None:
    reg = _paid(api)
    api.srv.app.state.sandbox.script_refunds(mode)  # type: ignore[union-attr]
    key = str(uuid.uuid4())
    r = _refund(api, reg["payment_key"], reg["amount_cents"], key)
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "pending"  # not guessed either way
    assert _wait(api, key)["status"] == "refunded"
    order = api.srv.app.state.sandbox.order(_out_trade_no(api, reg["payment_key"]))  # type: ignore[union-attr]
    assert order is not None and [x.out_refund_no for x in order.refunds] == [_out_refund_no(api, key)]
    assert order.refunded == reg["amount_cents"]


def test_a_closed_refund_fails_and_files_a_work_item(api: Api) -> None:
    reg = _paid(api)
    api.srv.app.state.sandbox.script_refunds("close")  # type: ignore[union-attr]
    key = str(uuid.uuid4())
    assert _refund(api, reg["payment_key"], reg["amount_cents"], key).status_code == 201
    final = _wait(api, key)
    assert (final["status"], final["error_code"]) == ("failed", "REFUNDCLOSE")
    assert final["refundable_cents"] == reg["amount_cents"]  # a failed refund takes nothing
    items = api.sql("SELECT kind, source, reference, status FROM worklist_items WHERE kind = 'refund'")
    assert [tuple(i) for i in items] == [("refund", "payment", _out_refund_no(api, key), "open")]
    # The money is still there to refund, under a new key.
    assert _refund(api, reg["payment_key"], reg["amount_cents"]).json()["status"] == "refunded"


def test_a_definitive_refusal_fails_at_once(api: Api) -> None:
    reg = _paid(api)
    otn = _out_trade_no(api, reg["payment_key"])
    api.srv.app.state.sandbox.alter_order(otn, total_fee=reg["amount_cents"] + 1)  # type: ignore[union-attr]
    r = _refund(api, reg["payment_key"], reg["amount_cents"])
    assert r.status_code == 201 and (r.json()["status"], r.json()["error_code"]) == ("failed", "PARAM_ERROR")


@pytest.mark.parametrize("mode", ["ok", "lost", "error"])
def test_alipay_refunds(api: Api, mode: str) -> None:
    reg = _paid(api, code=f"{ALIPAY_PREFIX}0")
    alipay = api.srv.app.state.alipay_sandbox  # type: ignore[union-attr]
    alipay.script_refunds(mode)
    key = str(uuid.uuid4())
    r = _refund(api, reg["payment_key"], reg["amount_cents"], key)
    assert r.status_code == 201, r.text
    assert r.json()["channel"] == "alipay"
    assert r.json()["status"] == ("refunded" if mode == "ok" else "pending")
    assert _wait(api, key)["status"] == "refunded"
    trade = alipay.trade(_out_trade_no(api, reg["payment_key"]))
    assert trade is not None and [x.out_request_no for x in trade.refunds] == [_out_refund_no(api, key)]


def test_open_refunds_are_resolved_after_a_restart(api: Api, fresh_settings: Callable[..., ServerSettings]) -> None:
    """A crash right after the refund row was committed: once before the provider was called, once
    after it refunded. The next start queries each and ends both refunded, neither twice."""
    pay_server = api.srv
    sandbox_url = pay_server.base_url + "/sandbox/wxpay"
    settings = fresh_settings("other", pay_base_url=sandbox_url)
    with ServerThread(settings) as other:
        helper = type(api)(other)
        regs = [_paid(helper), _paid(helper)]
        helper.close()
    otns = [_out_trade_no_in(settings, r["payment_key"]) for r in regs]
    s = pay_server.settings
    wx = WeChatPayClient(sandbox_url, appid=s.pay_appid, mch_id=s.pay_mch_id, key=s.merchant_key)
    fee = regs[1]["amount_cents"]
    assert wx.refund(out_trade_no=otns[1], out_refund_no="FCRASHDONE0001", total_fee=fee, refund_fee=fee).refund_id
    wx.close()
    db = open_database(settings.database_url or settings.db_path)
    with db.connection() as conn, write_tx(conn):
        for n, (reg, out_refund_no) in enumerate(zip(regs, ["FCRASHNEVERSENT", "FCRASHDONE0001"], strict=True)):
            payment_id = conn.execute(
                "SELECT id FROM payments WHERE idempotency_key = ?", (reg["payment_key"],)
            ).fetchone()[0]
            conn.execute(
                "INSERT INTO refunds(refund_key, request_hash, payment_id, amount_cents, reason, requested_by,"
                " kiosk_id, channel, out_refund_no, status, created_at, updated_at)"
                " VALUES (?, 'x', ?, ?, 'crash', 'kiosk:K1', 'K1', 'wechat', ?, 'requested', ?, ?)",
                (f"crash-refund-{n:04d}", payment_id, reg["amount_cents"], out_refund_no, utc_now(), utc_now()),
            )
    db.close()

    with ServerThread(settings) as restarted:
        helper = type(api)(restarted)
        done = [_wait(helper, f"crash-refund-{n:04d}") for n in range(2)]
        helper.close()
    assert [d["status"] for d in done] == ["refunded", "refunded"]
    sandbox = pay_server.app.state.sandbox  # type: ignore[union-attr]
    for otn, out_refund_no in zip(otns, ["FCRASHNEVERSENT", "FCRASHDONE0001"], strict=True):
        order = sandbox.order(otn)
        assert [x.out_refund_no for x in order.refunds] == [out_refund_no]  # never twice


def _out_trade_no_in(settings: ServerSettings, payment_key: str) -> str:
    db = open_database(settings.database_url or settings.db_path)
    try:
        with db.connection() as conn:
            row = conn.execute("SELECT out_trade_no FROM payments WHERE idempotency_key = ?", (payment_key,))
            return str(row.fetchone()[0])
    finally:
        db.close()


def test_refunds_are_reconciled_against_the_bills(api: Api) -> None:
    wechat_reg, alipay_reg, slow_reg = _paid(api), _paid(api, code=f"{ALIPAY_PREFIX}1"), _paid(api)
    assert _refund(api, wechat_reg["payment_key"], 100).json()["status"] == "refunded"
    assert _refund(api, alipay_reg["payment_key"], alipay_reg["amount_cents"]).json()["status"] == "refunded"
    api.srv.app.state.sandbox.script_refunds("processing")  # type: ignore[union-attr]
    assert _refund(api, slow_reg["payment_key"], 200).json()["status"] == "pending"
    # While it is PROCESSING neither side has moved the money: no finding either way.
    r = api.post("/api/v1/admin/reconciliation/runs", {"bill_date": china_today().isoformat()})
    assert r.status_code == 200, r.text
    assert {row["provider"]: (row["status"], row["findings"]) for row in r.json()} == {
        "wechat": ("ok", 0),
        "alipay": ("ok", 0),
    }
    stored = api.get("/api/v1/admin/reconciliation/runs", params={"bill_date": china_today().isoformat()}).json()
    refunds = {row["provider"]: row["report"]["providers"][0]["matched"]["refunds"] for row in stored}
    assert refunds["wechat"]["count"] == 1 and refunds["alipay"]["count"] == 1

    # A refund the bill shows but we still have open is a finding, not a silent match.
    refund_key = api.sql("SELECT refund_key FROM refunds WHERE status = 'pending'")[0][0]
    api.srv.app.state.sandbox.order(_out_trade_no(api, slow_reg["payment_key"])).refunds[0].ready_at = 0.0  # type: ignore[union-attr]
    assert _wait(api, refund_key)["status"] == "refunded"
    api.sql("UPDATE refunds SET status = 'pending' WHERE refund_key = ?", (refund_key,), write=True)
    r = api.post("/api/v1/admin/reconciliation/runs", {"bill_date": china_today().isoformat()})
    wechat = next(row for row in r.json() if row["provider"] == "wechat")
    assert (wechat["status"], wechat["findings"]) == ("findings", 1)
    kinds = api.sql("SELECT detail_json FROM worklist_items WHERE source = 'reconciliation'")
    assert len(kinds) == 1 and "refunded_but_unknown" in kinds[0][0]


# -- 退号 ------------------------------------------------------------------------------------------


def _refund_reg(api: Api, reg: dict[str, Any], key: str | None = None, **extra: Any) -> Any:
    body = {"refund_key": key or str(uuid.uuid4()), "kiosk_id": "KIOSK-T1"} | extra
    return api.post(f"/api/v1/registrations/{reg['registration_id']}/refund", body)


def _patient_of(api: Api, reg: dict[str, Any]) -> int:
    return int(api.sql("SELECT patient_id FROM registrations WHERE id = ?", (reg["registration_id"],))[0][0])


def test_registration_refund_cancels_returns_the_place_and_refunds(api: Api) -> None:
    reg = _paid(api)
    patient_id = _patient_of(api, reg)
    slot_id = int(api.sql("SELECT slot_id FROM registrations WHERE id = ?", (reg["registration_id"],))[0][0])
    left_before = _left(api, slot_id)
    listed = api.get(f"/api/v1/patients/{patient_id}/refundable-registrations").json()
    assert [(x["registration_id"], x["refundable"], x["blocked_reason"]) for x in listed] == [
        (reg["registration_id"], True, None)
    ]
    assert listed[0]["refundable_cents"] == reg["amount_cents"] and listed[0]["channel"] == "wechat"

    key = str(uuid.uuid4())
    r = _refund_reg(api, reg, key, patient_id=patient_id)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["registration"]["status"] == "cancelled"
    assert (body["refund"]["status"], body["refund"]["amount_cents"]) == ("refunded", reg["amount_cents"])
    assert body["refund"]["reason"] == "退号" and body["refund"]["registration_id"] == reg["registration_id"]
    assert _left(api, slot_id) == left_before + 1

    again = _refund_reg(api, reg, key, patient_id=patient_id)
    assert again.status_code == 200 and again.json() == body
    assert _left(api, slot_id) == left_before + 1  # the place went back once
    second = _refund_reg(api, reg, patient_id=patient_id)
    assert second.status_code == 409 and _code(second) == "registration_cancelled"
    assert api.get(f"/api/v1/patients/{patient_id}/refundable-registrations").json() == []
    reused = _refund_reg(api, _paid(api), key)
    assert reused.status_code == 422 and _code(reused) == "idempotency_key_reused"


def test_registration_refund_window(api: Api) -> None:
    reg = _paid(api)
    patient_id = _patient_of(api, reg)
    slot_id = api.sql("SELECT slot_id FROM registrations WHERE id = ?", (reg["registration_id"],))[0][0]
    soon = datetime.now() + timedelta(minutes=10)  # inside the 30 minutes before the start
    api.sql(
        "UPDATE slots SET date = ?, start = ? WHERE id = ?",
        (soon.date().isoformat(), f"{soon:%H:%M:%S}", slot_id),
        write=True,
    )
    listed = api.get(f"/api/v1/patients/{patient_id}/refundable-registrations").json()
    assert [(x["refundable"], x["blocked_reason"]) for x in listed] == [(False, "refund_window_closed")]
    r = _refund_reg(api, reg, patient_id=patient_id)
    assert r.status_code == 409 and _code(r) == "refund_window_closed"
    assert api.get(f"/api/v1/registrations/{reg['registration_id']}").json()["status"] == "paid"
    assert api.sql("SELECT count(*) FROM refunds")[0][0] == 0

    later = datetime.now() + timedelta(minutes=45)
    api.sql(
        "UPDATE slots SET date = ?, start = ? WHERE id = ?",
        (later.date().isoformat(), f"{later:%H:%M:%S}", slot_id),
        write=True,
    )
    assert _refund_reg(api, reg, patient_id=patient_id).status_code == 201


def test_registration_refund_refusals(api: Api) -> None:
    reg = _paid(api)
    patient_id = _patient_of(api, reg)
    stranger = _refund_reg(api, reg, patient_id=api.patient())
    assert stranger.status_code == 404 and _code(stranger) == "registration_not_found"
    missing = api.post("/api/v1/registrations/999999/refund", {"refund_key": str(uuid.uuid4()), "kiosk_id": "KIOSK-T1"})
    assert missing.status_code == 404 and _code(missing) == "registration_not_found"
    unpaid = api.register()
    r = _refund_reg(api, unpaid)
    assert r.status_code == 409 and _code(r) == "registration_not_paid"

    # Once the visit has begun (a check-in recorded on the registration) the kiosk can't refund it.
    api.sql("ALTER TABLE registrations ADD COLUMN checked_in_at TEXT", write=True)
    api.sql("UPDATE registrations SET checked_in_at = ? WHERE id = ?", (utc_now(), reg["registration_id"]), write=True)
    checked_in = _refund_reg(api, reg, patient_id=patient_id)
    assert checked_in.status_code == 409 and _code(checked_in) == "already_checked_in"
    listed = api.get(f"/api/v1/patients/{patient_id}/refundable-registrations").json()
    assert [x["blocked_reason"] for x in listed] == ["already_checked_in"]


def test_a_checked_in_booking_is_cancelled_with_its_registration(api: Api) -> None:
    """A booking made elsewhere, checked in at the kiosk (a registration on the booked place), paid,
    then handed back: the booking ends cancelled and its one place goes back to the slot."""
    from server.appointments import service as appointments

    patient_id = api.patient()
    slot_id = _slot(api, date.today() + timedelta(days=1))
    soon = datetime.now() + timedelta(minutes=45)  # check-in is open, 退号 still possible
    api.sql(
        "UPDATE slots SET date = ?, start = ? WHERE id = ?",
        (soon.date().isoformat(), f"{soon:%H:%M:%S}", slot_id),
        write=True,
    )
    left_before = _left(api, slot_id)
    with api.srv.app.state.db.connection() as conn, write_tx(conn):  # type: ignore[union-attr]
        appointment_id = appointments.book(conn, patient_id=patient_id, slot_id=slot_id, booked_via="phone")
    body = {"key": str(uuid.uuid4()), "kiosk_id": "KIOSK-T1", "patient_id": patient_id}
    r = api.post(f"/api/v1/appointments/{appointment_id}/check-in", body)
    assert r.status_code == 201, r.text
    reg = r.json()
    key = str(uuid.uuid4())
    assert api.post("/api/v1/payments", api.pay_body(reg, 0, key)).status_code == 201
    assert api.wait_final(key)["status"] == "SUCCESS"
    assert _left(api, slot_id) == left_before - 1  # the booking's one place

    r = _refund_reg(api, reg, patient_id=patient_id)
    assert r.status_code == 201 and r.json()["refund"]["status"] == "refunded", r.text
    status = api.sql("SELECT status FROM appointments WHERE id = ?", (appointment_id,))[0][0]
    assert status == "cancelled" and _left(api, slot_id) == left_before


def test_registration_refund_whose_provider_refuses_files_a_work_item(api: Api) -> None:
    reg = _paid(api)
    api.srv.app.state.sandbox.script_refunds("close")  # type: ignore[union-attr]
    r = _refund_reg(api, reg)
    assert r.status_code == 201 and r.json()["registration"]["status"] == "cancelled"
    final = _wait(api, r.json()["refund"]["refund_key"])
    assert final["status"] == "failed"
    assert api.sql("SELECT count(*) FROM worklist_items WHERE kind = 'refund' AND status = 'open'")[0][0] == 1


# -- the kiosk's client ----------------------------------------------------------------------------


def test_client_refund_calls(api: Api) -> None:
    reg, other = _paid(api), _paid(api)
    patient_id = _patient_of(api, reg)
    with ServerClient(api.base, kiosk_id="KIOSK-T1", credential=api.credential) as client:
        listed = client.refundable_registrations(patient_id)
        assert [(x.registration.registration_id, x.refundable) for x in listed] == [(reg["registration_id"], True)]
        key = str(uuid.uuid4())
        answer = client.refund_registration(key, reg["registration_id"], patient_id)
        assert answer.registration.status == "cancelled" and answer.refund.status == "refunded"
        assert not answer.refund.replayed and answer.refund.is_final
        replay = client.refund_registration(key, reg["registration_id"], patient_id)
        assert replay.refund.replayed and replay.refund.refund_key == key
        assert client.refund_status(key) == answer.refund
        assert client.refund_status("never-sent-key-01") is None
        with pytest.raises(BusinessError) as closed:
            client.refund_registration(str(uuid.uuid4()), reg["registration_id"], patient_id)
        assert closed.value.tr_key == "server.rejected.registration_cancelled"

        cashier = client.refund_payment(str(uuid.uuid4()), other["payment_key"], 100, "多收", approved_by="sup01")
        assert (cashier.status, cashier.approved_by, cashier.refundable_cents) == (
            "refunded",
            "sup01",
            other["amount_cents"] - 100,
        )
        with pytest.raises(BusinessError) as over:
            client.refund_payment(str(uuid.uuid4()), other["payment_key"], other["amount_cents"], "x")
        assert over.value.code == "refund_exceeds_refundable"
