"""Bill payment (缴费), issue #7: several bills for one payment, and kiosk-shown QR payments, on both stores.

Through the real server and its WeChat / Alipay sandboxes; the "patient's phone" is the sandboxes'
test hooks (scan / pay the code the kiosk shows).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from server import schema
from server.bills.service import create_bill
from server.db import open_database
from server.dbapi import write_tx
from server.payments.qr_providers import QrCreated, QrQuery
from server.payments.wechat import Outcome
from server.testing import ServerThread
from sync.client import BusinessError, ServerClient

if TYPE_CHECKING:
    from conftest_server import Api

ALIPAY_CODE = "28765432109876540"

PRESCRIPTION = [
    {"code": "DA01", "name_zh": "阿莫西林胶囊", "name_en": "Amoxicillin", "category": "drug_a", "quantity": 1,
     "unit_cents": 3000},
    {"code": "DC02", "name_zh": "维生素C泡腾片", "name_en": "Vitamin C", "category": "drug_c", "quantity": 1,
     "unit_cents": 800},
]  # fmt: skip
LAB = [
    {"code": "EX11", "name_zh": "血常规", "name_en": "Blood count", "category": "exam", "quantity": 1,
     "unit_cents": 4000},
]  # fmt: skip


def _error(r: Any) -> str:
    return str(r.json()["error"]["code"])


class Desk:
    """A patient with bills, and the calls a kiosk makes for them (plain HTTP)."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.patient_id = api.patient()
        assert api.srv.app is not None
        self.app = api.srv.app

    def bill(self, items: list[dict[str, Any]] | None = None, kind: str = "prescription") -> dict[str, Any]:
        with self.app.state.db.connection() as conn, write_tx(conn):
            bill_id = create_bill(
                conn,
                patient_id=self.patient_id,
                kind=kind,
                title_zh="门诊处方" if kind == "prescription" else "检验申请",
                title_en="Prescription" if kind == "prescription" else "Lab order",
                items=items or PRESCRIPTION,
            )
        return dict(self.api.get(f"/api/v1/bills/{bill_id}").json())

    def lock(self, bills: list[dict[str, Any]], key: str | None = None, scheme: str | None = "employee") -> Any:
        body = {
            "payment_key": key or str(uuid.uuid4()),
            "patient_id": self.patient_id,
            "bills": [{"bill_id": b["bill_id"], "version": b["version"]} for b in bills],
            "insurance_scheme": scheme,
            "kiosk_id": "KIOSK-T1",
        }
        return self.api.post("/api/v1/bills/lock", body)

    def locked(self, bills: list[dict[str, Any]], key: str | None = None) -> dict[str, Any]:
        r = self.lock(bills, key)
        assert r.status_code == 201, r.text
        return dict(r.json())

    def pay_code(self, group: dict[str, Any], code: str, amount: int | None = None) -> Any:
        body = {
            "idempotency_key": group["payment_key"],
            "bill_id": group["bills"][0]["bill_id"],
            "amount_cents": group["self_pay_cents"] if amount is None else amount,
            "auth_code": code,
            "kiosk_id": "KIOSK-T1",
        }
        return self.api.post("/api/v1/payments", body)

    def qr(self, group: dict[str, Any], provider: str = "wechat", amount: int | None = None) -> Any:
        body = {
            "idempotency_key": group["payment_key"],
            "bill_id": group["bills"][-1]["bill_id"],  # any bill of the group names it
            "amount_cents": group["self_pay_cents"] if amount is None else amount,
            "provider": provider,
            "kiosk_id": "KIOSK-T1",
        }
        return self.api.post("/api/v1/payments/qr", body)

    def status(self, bill: dict[str, Any]) -> str:
        return str(self.api.get(f"/api/v1/bills/{bill['bill_id']}").json()["status"])

    def settlements(self, key: str) -> list[str]:
        rows = self.api.sql("SELECT status FROM insurance_settlements WHERE lock_key = ? ORDER BY bill_id", (key,))
        return [str(r[0]) for r in rows]

    def phone(self, provider: str, action: str, code_url: str) -> Any:
        """The patient's phone scans (or pays) the code on the kiosk's screen."""
        if provider == "wechat":
            return self.api.http.post(
                f"{self.api.base}/sandbox/wxpay/test/native/{action}", json={"code_url": code_url}, timeout=5
            )
        return self.api.http.post(
            f"{self.api.base}/sandbox/alipay/test/qr/{action}", json={"qr_code": code_url}, timeout=5
        )

    def wait(self, key: str, until: Callable[[dict[str, Any]], bool], timeout: float = 15.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            body = dict(self.api.get(f"/api/v1/payments/{key}").json())
            if until(body):
                return body
            time.sleep(0.1)
        raise AssertionError(f"payment {key} never got there: {body}")


@pytest.fixture
def desk(api: Api) -> Iterator[Desk]:
    yield Desk(api)


# -- several bills, one payment ------------------------------------------------------------------------


def test_one_payment_pays_every_bill_of_the_group(desk: Desk) -> None:
    a, b = desk.bill(PRESCRIPTION), desk.bill(LAB, kind="lab")
    group = desk.locked([a, b])
    # employee: fund 70 % of (3000*1.0 + 800*0) = 2100 and of 4000*0.8 = 2240
    assert (group["status"], group["total_cents"], group["insurance_cents"]) == ("locked", 7800, 2100 + 2240)
    assert group["self_pay_cents"] == 7800 - 4340 == sum(x["self_pay_cents"] for x in group["bills"])
    assert [x["bill_id"] for x in group["bills"]] == [a["bill_id"], b["bill_id"]]
    assert desk.lock([a, b], group["payment_key"]).status_code == 200  # a retry: the same lock
    r = desk.pay_code(group, desk.api.wechat_code(0))
    assert r.status_code == 201 and r.json()["status"] == "SUCCESS", r.text
    assert desk.status(a) == desk.status(b) == "paid"
    assert desk.settlements(group["payment_key"]) == ["settled", "settled"]
    assert desk.api.get(f"/api/v1/patients/{desk.patient_id}/bills").json() == []
    assert desk.api.get(f"/api/v1/bills/locks/{group['payment_key']}").json()["status"] == "paid"


def test_part_of_the_share_is_refused(desk: Desk) -> None:
    a, b = desk.bill(PRESCRIPTION), desk.bill(LAB, kind="lab")
    group = desk.locked([a, b])
    r = desk.pay_code(group, desk.api.wechat_code(0), amount=group["bills"][0]["self_pay_cents"])
    assert r.status_code == 409 and _error(r) == "amount_mismatch"
    assert desk.api.sandbox_orders == 0


def test_a_bill_paid_elsewhere_refuses_the_whole_selection(desk: Desk) -> None:
    a, b = desk.bill(PRESCRIPTION), desk.bill(LAB, kind="lab")
    paid = desk.locked([b])
    assert desk.pay_code(paid, desk.api.wechat_code(0)).json()["status"] == "SUCCESS"  # at the cashier, say
    r = desk.lock([a, b])
    assert r.status_code == 409 and _error(r) == "already_paid"
    assert desk.status(a) == "unpaid"  # all or none: the other bill was not left locked
    assert desk.api.sql("SELECT count(*) FROM insurance_settlements WHERE bill_id = ?", (a["bill_id"],))[0][0] == 0


def test_a_changed_bill_refuses_the_selection(desk: Desk) -> None:
    a, b = desk.bill(PRESCRIPTION), desk.bill(LAB, kind="lab")
    desk.api.sql("UPDATE bills SET version = version + 1 WHERE id = ?", (b["bill_id"],), write=True)
    r = desk.lock([a, b])
    assert r.status_code == 409 and _error(r) == "bill_changed"
    assert desk.status(a) == "unpaid"


def test_a_bill_locked_elsewhere_refuses_the_selection(desk: Desk) -> None:
    a, b = desk.bill(PRESCRIPTION), desk.bill(LAB, kind="lab")
    desk.locked([b])
    r = desk.lock([a, b])
    assert r.status_code == 409 and _error(r) == "bill_locked"


def test_the_key_names_one_selection(desk: Desk) -> None:
    a, b = desk.bill(PRESCRIPTION), desk.bill(LAB, kind="lab")
    group = desk.locked([a])
    other = desk.lock([a, b], group["payment_key"])
    assert other.status_code == 422 and _error(other) == "idempotency_key_reused"
    dup = desk.lock([a, a])
    assert dup.status_code == 422


def test_a_failed_payment_releases_the_group_and_its_key_cannot_lock_again(desk: Desk) -> None:
    a, b = desk.bill(PRESCRIPTION), desk.bill(LAB, kind="lab")
    group = desk.locked([a, b])
    r = desk.pay_code(group, desk.api.wechat_code(8))  # NOTENOUGH
    assert r.json()["status"] == "FAILED"
    assert desk.status(a) == desk.status(b) == "unpaid"
    assert desk.settlements(group["payment_key"]) == ["cancelled", "cancelled"]
    again = desk.lock([a, b], group["payment_key"])
    assert again.status_code == 409 and _error(again) == "lock_released"
    assert desk.lock([a, b]).status_code == 201  # a new key locks them again


def test_unlock_releases_the_group(desk: Desk) -> None:
    a, b = desk.bill(PRESCRIPTION), desk.bill(LAB, kind="lab")
    group = desk.locked([a, b])
    r = desk.api.post("/api/v1/bills/unlock", {"payment_key": group["payment_key"]})
    assert r.status_code == 200 and r.json()["status"] == "released"
    assert desk.status(a) == desk.status(b) == "unpaid"
    assert desk.settlements(group["payment_key"]) == ["cancelled", "cancelled"]
    assert desk.api.post("/api/v1/bills/unlock", {"payment_key": "never-locked-key"}).status_code == 404


def test_expired_lock_refuses_the_payment_and_is_taken_over_whole(desk: Desk, monkeypatch: pytest.MonkeyPatch) -> None:
    a, b, c = desk.bill(PRESCRIPTION), desk.bill(LAB, kind="lab"), desk.bill(LAB, kind="lab")
    old = desk.locked([a, b])
    later = datetime.now(UTC) + timedelta(seconds=301)
    monkeypatch.setattr("server.bills.service._now", lambda: later)
    late = desk.pay_code(old, desk.api.wechat_code(0))
    assert late.status_code == 409 and _error(late) == "bill_lock_expired"
    new = desk.locked([b, c])  # b was in the expired group: the old group is released as a whole
    assert new["status"] == "locked"
    assert desk.status(a) == "unpaid" and desk.settlements(old["payment_key"]) == ["cancelled", "cancelled"]
    assert desk.pay_code(old, desk.api.wechat_code(0)).status_code == 409
    assert desk.api.sandbox_orders == 0


def test_insurer_failure_on_one_bill_releases_all_and_cancels_the_others(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    insurer = desk.app.state.bills.insurance
    real = insurer.presettle
    calls: list[str] = []

    def second_fails(**kw: Any) -> Any:
        calls.append(kw["bill_no"])
        if len(calls) == 2:
            raise ConnectionError("insurer unreachable")
        return real(**kw)

    monkeypatch.setattr(insurer, "presettle", second_fails)
    a, b = desk.bill(PRESCRIPTION), desk.bill(LAB, kind="lab")
    r = desk.lock([a, b])
    assert r.status_code == 502 and _error(r) == "insurance_unavailable"
    assert desk.status(a) == desk.status(b) == "unpaid"
    first_ref = desk.api.sql("SELECT ref FROM insurance_settlements WHERE bill_id = ?", (a["bill_id"],))[0][0]
    assert insurer.states[first_ref] == "cancelled"  # the insurer does not keep a stray pre-settlement


def test_fully_covered_selection_is_paid_by_the_lock(desk: Desk, monkeypatch: pytest.MonkeyPatch) -> None:
    from server.bills import insurance

    monkeypatch.setitem(insurance.FUND_RATE, "employee", insurance.Decimal(1))
    only_a = [PRESCRIPTION[0]]
    a, b = desk.bill(only_a), desk.bill(only_a)
    group = desk.locked([a, b])
    assert (group["status"], group["self_pay_cents"]) == ("paid", 0)
    assert desk.status(a) == desk.status(b) == "paid"


# -- QR payments the kiosk shows ---------------------------------------------------------------------


@pytest.mark.parametrize("provider", ["wechat", "alipay"])
def test_patient_scans_the_kiosk_qr_and_pays(desk: Desk, provider: str) -> None:
    a, b = desk.bill(PRESCRIPTION), desk.bill(LAB, kind="lab")
    group = desk.locked([a, b])
    r = desk.qr(group, provider)
    assert r.status_code == 201, r.text
    qr = r.json()
    assert (qr["status"], qr["qr_state"], qr["channel"]) == ("PENDING", "awaiting_scan", provider)
    prefix = "weixin://wxpay/bizpayurl?pr=" if provider == "wechat" else "https://qr.alipay.com/"
    assert qr["code_url"].startswith(prefix)
    assert datetime.fromisoformat(qr["expires_at"]) > datetime.now(UTC)
    replay = desk.qr(group, provider)
    assert replay.status_code == 200 and replay.json()["code_url"] == qr["code_url"]
    assert desk.phone(provider, "scan", qr["code_url"]).status_code == 200
    desk.wait(group["payment_key"], lambda p: p["qr_state"] == "scanned")
    assert desk.phone(provider, "pay", qr["code_url"]).status_code == 200
    final = desk.wait(group["payment_key"], lambda p: p["status"] != "PENDING")
    assert (final["status"], final["bill_status"], final["code_url"]) == ("SUCCESS", "paid", None)
    assert desk.status(a) == desk.status(b) == "paid"
    assert desk.settlements(group["payment_key"]) == ["settled", "settled"]


def test_same_key_other_qr_request_is_refused(desk: Desk) -> None:
    group = desk.locked([desk.bill()])
    assert desk.qr(group, "wechat").status_code == 201
    other = desk.qr(group, "alipay")
    assert other.status_code == 422 and _error(other) == "idempotency_key_reused"


@pytest.mark.parametrize("provider", ["wechat", "alipay"])
def test_cancel_closes_the_order_and_releases_the_bill(desk: Desk, provider: str) -> None:
    bill = desk.bill()
    group = desk.locked([bill])
    qr = desk.qr(group, provider).json()
    r = desk.api.post(f"/api/v1/payments/{group['payment_key']}/cancel")
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["error_code"], r.json()["bill_status"]) == (
        "FAILED",
        "USER_CANCELLED",
        "unpaid",
    )
    assert desk.status(bill) == "unpaid" and desk.settlements(group["payment_key"]) == ["cancelled"]
    assert desk.phone(provider, "pay", qr["code_url"]).status_code == 409  # the phone can no longer pay it
    again = desk.api.post(f"/api/v1/payments/{group['payment_key']}/cancel")
    assert again.status_code == 200 and again.json()["error_code"] == "USER_CANCELLED"


@pytest.mark.parametrize("provider", ["wechat", "alipay"])
def test_cancel_after_the_patient_paid_answers_paid(desk: Desk, provider: str) -> None:
    bill = desk.bill()
    group = desk.locked([bill])
    qr = desk.qr(group, provider).json()
    assert desk.phone(provider, "pay", qr["code_url"]).status_code == 200
    r = desk.api.post(f"/api/v1/payments/{group['payment_key']}/cancel")  # before the kiosk's next poll
    assert (r.json()["status"], r.json()["bill_status"]) == ("SUCCESS", "paid")


def test_wechat_paid_between_query_and_close_is_honoured(desk: Desk, monkeypatch: pytest.MonkeyPatch) -> None:
    """closeorder answers ORDERPAID: the server confirms by query and answers SUCCESS."""
    bill = desk.bill()
    group = desk.locked([bill])
    qr = desk.qr(group, "wechat").json()
    provider = desk.app.state.qr_payments.providers["wechat"]
    real_query = provider.query
    raced: list[bool] = []

    def query_then_pay(otn: str) -> QrQuery:
        answer = real_query(otn)
        if not raced:  # the patient pays right after the server's first look
            raced.append(True)
            desk.app.state.payment_stack.wechat_native_sandbox.pay(otn)
        return answer

    monkeypatch.setattr(provider, "query", query_then_pay)
    r = desk.api.post(f"/api/v1/payments/{group['payment_key']}/cancel")
    assert r.json()["status"] == "SUCCESS" and desk.status(bill) == "paid"
    assert qr["code_url"]


def test_alipay_paid_in_the_instant_of_the_cancel_is_refunded_and_said_so(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    bill = desk.bill()
    group = desk.locked([bill])
    qr = desk.qr(group, "alipay").json()
    sandbox = desk.app.state.alipay_sandbox
    client = desk.app.state.qr_payments.providers["alipay"].client
    real_cancel = client.cancel

    def pay_then_cancel(otn: str) -> Any:
        sandbox.pay(sandbox.find_qr(qr["code_url"]))
        return real_cancel(otn)

    monkeypatch.setattr(client, "cancel", pay_then_cancel)
    r = desk.api.post(f"/api/v1/payments/{group['payment_key']}/cancel")
    assert (r.json()["status"], r.json()["error_code"]) == ("REVERSED", "REFUNDED_ON_CANCEL")
    otn = desk.api.sql("SELECT out_trade_no FROM payments WHERE idempotency_key = ?", (group["payment_key"],))[0][0]
    assert sandbox.trade(otn).refunded == group["self_pay_cents"]  # the money went back
    assert desk.status(bill) == "unpaid"


def test_unclear_close_stays_pending_until_the_provider_confirms(desk: Desk, monkeypatch: pytest.MonkeyPatch) -> None:
    from server.payments.qr_providers import CloseResult, QrClosed

    bill = desk.bill()
    group = desk.locked([bill])
    desk.qr(group, "wechat")
    provider = desk.app.state.qr_payments.providers["wechat"]
    real_close = provider.close
    fails = [1, 1]

    def flaky_close(otn: str) -> QrClosed:
        if fails:
            fails.pop()
            return QrClosed(CloseResult.RETRY, "SYSTEMERROR")
        return real_close(otn)

    monkeypatch.setattr(provider, "close", flaky_close)
    r = desk.api.post(f"/api/v1/payments/{group['payment_key']}/cancel")
    assert (r.json()["status"], r.json()["qr_state"]) == ("PENDING", "closing")
    unlock = desk.api.post("/api/v1/bills/unlock", {"payment_key": group["payment_key"]})
    assert unlock.status_code == 409 and _error(unlock) == "payment_pending"  # the bill stays held meanwhile
    final = desk.wait(group["payment_key"], lambda p: p["status"] != "PENDING")
    assert (final["status"], final["error_code"]) == ("FAILED", "USER_CANCELLED")
    assert desk.status(bill) == "unpaid"


@pytest.mark.parametrize("provider", ["wechat", "alipay"])
def test_unclear_order_creation_is_closed_not_guessed(
    desk: Desk, provider: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    qr_provider = desk.app.state.qr_payments.providers[provider]
    monkeypatch.setattr(qr_provider, "create", lambda **_kw: QrCreated(Outcome.UNKNOWN, None, "TIMEOUT"))
    bill = desk.bill()
    group = desk.locked([bill])
    r = desk.qr(group, provider)
    assert r.status_code == 201
    assert (r.json()["status"], r.json()["error_code"], r.json()["code_url"]) == ("FAILED", "QR_UNAVAILABLE", None)
    assert desk.status(bill) == "unpaid"


def test_refused_order_fails_at_once(desk: Desk, monkeypatch: pytest.MonkeyPatch) -> None:
    qr_provider = desk.app.state.qr_payments.providers["wechat"]
    monkeypatch.setattr(qr_provider, "create", lambda **_kw: QrCreated(Outcome.FAILED, None, "NOAUTH"))
    group = desk.locked([desk.bill()])
    r = desk.qr(group, "wechat")
    assert (r.json()["status"], r.json()["error_code"]) == ("FAILED", "NOAUTH")


def test_qr_needs_a_payable_target(desk: Desk) -> None:
    bill = desk.bill()
    unlocked = {"payment_key": str(uuid.uuid4()), "self_pay_cents": bill["total_cents"], "bills": [bill]}
    r = desk.qr(unlocked, "wechat")
    assert r.status_code == 409 and _error(r) == "bill_not_locked"
    group = desk.locked([bill])
    wrong = desk.qr(group, "wechat", amount=bill["total_cents"])
    assert wrong.status_code == 409 and _error(wrong) == "amount_mismatch"
    assert desk.api.sql("SELECT count(*) FROM payment_qr")[0][0] == 0


def test_registration_fee_by_qr(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    reg = api.register()
    key = str(uuid.uuid4())
    body = {
        "idempotency_key": key,
        "registration_id": reg["registration_id"],
        "amount_cents": reg["amount_cents"],
        "provider": "alipay",
        "kiosk_id": "KIOSK-T1",
    }
    qr = api.post("/api/v1/payments/qr", body).json()
    assert qr["status"] == "PENDING"
    assert api.http.post(f"{api.base}/sandbox/alipay/test/qr/pay", json={"qr_code": qr["code_url"]}).status_code == 200
    final = api.wait_final(key)
    assert (final["status"], final["registration_status"]) == ("SUCCESS", "paid")


def test_only_qr_payments_can_be_cancelled(api: Api) -> None:
    reg = api.register()
    body = api.pay_body(reg, 0)
    api.post("/api/v1/payments", body)
    r = api.post(f"/api/v1/payments/{body['idempotency_key']}/cancel")
    assert r.status_code == 409 and _error(r) == "not_cancellable"
    assert api.post("/api/v1/payments/no-such-key-000/cancel").status_code == 404


@pytest.fixture
def short_qr(fresh_settings: Callable[..., Any]) -> Iterator[Api]:
    from conftest_server import Api as ApiHelper  # the plugin module, only here: a second server

    with ServerThread(fresh_settings("short", qr_ttl_s=1.5)) as srv:
        helper = ApiHelper(srv)
        yield helper
        helper.close()


@pytest.mark.parametrize("provider", ["wechat", "alipay"])
def test_expired_code_is_closed_by_the_server(short_qr: Api, provider: str) -> None:
    desk = Desk(short_qr)
    bill = desk.bill()
    group = desk.locked([bill])
    qr = desk.qr(group, provider).json()
    final = desk.wait(group["payment_key"], lambda p: p["status"] != "PENDING", timeout=10)
    assert (final["status"], final["error_code"]) == ("FAILED", "QR_EXPIRED")
    assert desk.phone(provider, "pay", qr["code_url"]).status_code == 409
    assert desk.status(bill) == "unpaid"


# -- the kiosk's client ------------------------------------------------------------------------------


@pytest.fixture
def client(api: Api) -> Iterator[ServerClient]:
    with ServerClient(api.base, kiosk_id="KIOSK-T1", credential=api.credential) as c:
        yield c


def test_client_bill_flow(client: ServerClient, desk: Desk) -> None:
    a, b = desk.bill(PRESCRIPTION), desk.bill(LAB, kind="lab")
    bills = client.list_bills(desk.patient_id)
    assert [x.bill_id for x in bills] == [a["bill_id"], b["bill_id"]]
    assert bills[0].items[0].name_zh == "阿莫西林胶囊" and bills[0].total_cents == 3800
    key = str(uuid.uuid4())
    lock = client.lock_bills(key, desk.patient_id, [(x.bill_id, x.version) for x in bills], "employee")
    assert lock.status == "locked" and lock.self_pay_cents == 7800 - 4340 and not lock.replayed
    assert client.lock_bills(key, desk.patient_id, [(x.bill_id, x.version) for x in bills], "employee").replayed
    assert client.bill_lock(key) == lock and client.bill_lock("never-seen-key") is None
    qr = client.create_qr_payment(key, lock.self_pay_cents or 0, "wechat", bill_id=a["bill_id"])
    assert qr.qr_state == "awaiting_scan" and qr.code_url and not qr.is_final
    cancelled = client.cancel_payment(key)
    assert cancelled.is_final and cancelled.error_code == "USER_CANCELLED"
    with pytest.raises(BusinessError) as err:
        client.lock_bills(key, desk.patient_id, [(a["bill_id"], a["version"])], "employee")
    assert err.value.code == "idempotency_key_reused"
    key2 = str(uuid.uuid4())
    lock2 = client.lock_bills(key2, desk.patient_id, [(a["bill_id"], a["version"])], None)  # no insurance
    assert lock2.self_pay_cents == 3800 and lock2.insurance_cents == 0
    paid = client.pay_bill(key2, a["bill_id"], 3800, desk.api.wechat_code(0))
    assert paid.status == "SUCCESS"
    status = client.qr_payment_status(key2)
    assert status is not None and status.bill_status == "paid" and status.qr_state is None
    with pytest.raises(BusinessError) as err:
        client.lock_bill(str(uuid.uuid4()), desk.patient_id, a["bill_id"], a["version"], None)
    assert err.value.code == "already_paid" and err.value.tr_key == "server.rejected.already_paid"
    key3 = str(uuid.uuid4())
    client.lock_bill(key3, desk.patient_id, b["bill_id"], b["version"], None)
    assert client.unlock_bill(b["bill_id"], key3).status == "unpaid"


# -- schema v12 ----------------------------------------------------------------------------------------


def test_v12_keeps_settlements_and_lets_one_key_hold_several_bills(
    backend: str, database_url: str | None, tmp_path: Path
) -> None:
    db = open_database(database_url or tmp_path / "v10.db")
    with db.connection() as conn, write_tx(conn):
        schema.apply(conn, schema.BASELINE)
        schema.write_version(conn, schema.BASELINE_VERSION)
        schema.upgrade(conn, tuple(m for m in schema.MIGRATIONS if m.version < 12))
        conn.execute(
            "INSERT INTO patients(id_type, id_index, id_number_enc, name_enc, id_masked, sex, birth, created_at)"
            " VALUES ('resident', 'idx', ?, ?, '110***0010', 'M', '1980-01-01', '2020-01-01T00:00:00Z')",
            (b"x", b"y"),
        )
        patient = conn.execute("SELECT id FROM patients").fetchone()[0]
        first = create_bill(conn, patient_id=patient, kind="lab", title_zh="检验", title_en="Lab", items=LAB)
        second = create_bill(conn, patient_id=patient, kind="lab", title_zh="检验", title_en="Lab", items=LAB)
        conn.execute(
            "INSERT INTO insurance_settlements(bill_id, lock_key, scheme, status, created_at, updated_at)"
            " VALUES (?, 'old-key-0001', 'employee', 'settled', 'x', 'x')",
            (first,),
        )
    db.init()
    with db.connection() as conn, write_tx(conn):
        assert 12 in {int(r[0]) for r in conn.execute("SELECT version FROM schema_version")}
        assert conn.execute("SELECT bill_id, status FROM insurance_settlements").fetchall()[0][1] == "settled"
        conn.execute(
            "INSERT INTO insurance_settlements(bill_id, lock_key, scheme, status, created_at, updated_at)"
            " VALUES (?, 'old-key-0001', 'employee', 'presettling', 'x', 'x')",
            (second,),
        )
        assert conn.execute("SELECT count(*) FROM payment_qr").fetchone()[0] == 0
    db.close()
