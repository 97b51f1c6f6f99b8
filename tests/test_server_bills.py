"""Bills: lock-then-pay with insurance pre-settlement, through the real server, on both stores.

Also Alipay bar-code payments through the same payment state machine as WeChat's.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest

from server.bills.insurance import BillLine, split
from server.bills.service import create_bill
from server.dbapi import write_tx

if TYPE_CHECKING:
    from conftest_server import Api

ALIPAY_PREFIX = "28" + "76543210987654"  # 16 digits; the 17th picks the Alipay sandbox outcome

ITEMS = [
    # 甲类 drug 30.00, 乙类 drug 2 x 12.50, 丙类 drug 8.00, a lab exam 40.00: total 103.00
    {
        "code": "DA01",
        "name_zh": "阿莫西林胶囊",
        "name_en": "Amoxicillin",
        "category": "drug_a",
        "quantity": 1,
        "unit_cents": 3000,
    },
    {
        "code": "DB07",
        "name_zh": "布洛芬缓释片",
        "name_en": "Ibuprofen SR",
        "category": "drug_b",
        "quantity": 2,
        "unit_cents": 1250,
    },
    {
        "code": "DC02",
        "name_zh": "维生素C泡腾片",
        "name_en": "Vitamin C",
        "category": "drug_c",
        "quantity": 1,
        "unit_cents": 800,
    },
    {
        "code": "EX11",
        "name_zh": "血常规",
        "name_en": "Blood count",
        "category": "exam",
        "quantity": 1,
        "unit_cents": 4000,
    },
]
TOTAL = 3000 + 2500 + 800 + 4000


def alipay_code(digit: int) -> str:
    return f"{ALIPAY_PREFIX}{digit}"


@pytest.fixture
def billing(api: Api) -> Iterator[Billing]:
    yield Billing(api)


class Billing:
    def __init__(self, api: Api) -> None:
        self.api = api
        self.patient_id = api.patient()

    def bill(self, items: list[dict[str, Any]] | None = None, patient_id: int | None = None) -> dict[str, Any]:
        assert self.api.srv.app is not None
        with self.api.srv.app.state.db.connection() as conn, write_tx(conn):
            bill_id = create_bill(
                conn,
                patient_id=patient_id or self.patient_id,
                kind="prescription",
                title_zh="门诊处方",
                title_en="Outpatient prescription",
                items=items or ITEMS,
            )
        r = self.api.get(f"/api/v1/bills/{bill_id}")
        assert r.status_code == 200, r.text
        return dict(r.json())

    def lock(self, bill: dict[str, Any], key: str, scheme: str | None = "employee", **over: Any) -> Any:
        body = {
            "payment_key": key,
            "patient_id": self.patient_id,
            "version": bill["version"],
            "insurance_scheme": scheme,
            "kiosk_id": "KIOSK-T1",
            **over,
        }
        return self.api.post(f"/api/v1/bills/{bill['bill_id']}/lock", body)

    def pay(self, bill: dict[str, Any], key: str, amount: int, code: str) -> Any:
        body = {
            "idempotency_key": key,
            "bill_id": bill["bill_id"],
            "amount_cents": amount,
            "auth_code": code,
            "kiosk_id": "KIOSK-T1",
        }
        return self.api.post("/api/v1/payments", body)

    def insurer_state(self, key: str) -> str:
        """The settlement's status in our database, checked against the insurer's own record."""
        row = self.api.sql("SELECT ref, status FROM insurance_settlements WHERE lock_key = ?", (key,))[0]
        assert self.api.srv.app is not None
        if row["status"] in ("settled", "cancelled"):
            assert self.api.srv.app.state.bills.insurance.states[row["ref"]] == row["status"]
        return str(row["status"])


def _error(r: Any) -> str:
    return str(r.json()["error"]["code"])


# -- the rule table ----------------------------------------------------------------------------------


def test_demo_rule_table_splits_by_category_and_scheme() -> None:
    lines = [BillLine(i["code"], i["category"], i["quantity"] * i["unit_cents"]) for i in ITEMS]
    # eligible = 3000*1.0 + 2500*0.9 + 800*0 + 4000*0.8 = 8450 cents; employee fund 70 % -> 59.15 yuan
    assert split("employee", lines)[0] == 5915
    assert split("resident", lines)[0] == int((Decimal("84.50") * Decimal("0.55")).quantize(Decimal("0.01")) * 100)
    assert split(None, lines)[0] == 0  # no card: all self-pay
    assert split("employee", [BillLine("X", "unmapped", 1000)])[0] == 0  # unknown categories are not covered


# -- lock, pay, settle ---------------------------------------------------------------------------------


def test_lock_presettles_and_payment_settles_the_bill(billing: Billing) -> None:
    bill = billing.bill()
    assert bill["total_cents"] == TOTAL and bill["status"] == "unpaid" and len(bill["items"]) == 4
    key = str(uuid.uuid4())
    r = billing.lock(bill, key)
    assert r.status_code == 201, r.text
    locked = r.json()
    assert (locked["status"], locked["insurance_cents"], locked["self_pay_cents"]) == ("locked", 5915, TOTAL - 5915)
    assert billing.lock(bill, key).json() == locked  # a retry with the same key: the same lock, 200
    assert billing.lock(bill, key).status_code == 200

    listed = billing.api.get(f"/api/v1/patients/{billing.patient_id}/bills").json()
    assert [b["bill_id"] for b in listed] == [bill["bill_id"]]

    r = billing.pay(bill, key, TOTAL - 5915, billing.api.wechat_code(0))
    assert r.status_code == 201 and r.json()["status"] == "SUCCESS", r.text
    assert r.json()["bill_status"] == "paid" and r.json()["bill_id"] == bill["bill_id"]
    assert billing.api.get(f"/api/v1/bills/{bill['bill_id']}").json()["status"] == "paid"
    assert billing.insurer_state(key) == "settled"
    assert billing.api.get(f"/api/v1/patients/{billing.patient_id}/bills").json() == []
    # paid is final: another lock is refused
    again = billing.lock(bill, str(uuid.uuid4()))
    assert again.status_code == 409 and _error(again) == "already_paid"


def test_second_attempt_is_refused_while_locked(billing: Billing) -> None:
    bill = billing.bill()
    assert billing.lock(bill, str(uuid.uuid4())).status_code == 201
    other = billing.lock(bill, str(uuid.uuid4()))
    assert other.status_code == 409 and _error(other) == "bill_locked"


def test_payment_must_match_the_lock_and_the_self_pay_share(billing: Billing) -> None:
    bill = billing.bill()
    key = str(uuid.uuid4())
    unlocked = billing.pay(bill, key, TOTAL, billing.api.wechat_code(0))
    assert unlocked.status_code == 409 and _error(unlocked) == "bill_not_locked"
    self_pay = billing.lock(bill, key).json()["self_pay_cents"]
    wrong = billing.pay(bill, key, TOTAL, billing.api.wechat_code(0))  # the whole bill, not the self-pay share
    assert wrong.status_code == 409 and _error(wrong) == "amount_mismatch"
    other_key = billing.pay(bill, str(uuid.uuid4()), self_pay, billing.api.wechat_code(0))
    assert other_key.status_code == 409 and _error(other_key) == "bill_not_locked"
    assert billing.api.sandbox_orders == 0  # none of these reached the provider
    assert billing.api.sql("SELECT count(*) FROM payments")[0][0] == 0  # nor were booked


def test_failed_payment_unlocks_and_cancels_the_presettlement(billing: Billing) -> None:
    bill = billing.bill()
    key = str(uuid.uuid4())
    self_pay = billing.lock(bill, key).json()["self_pay_cents"]
    r = billing.pay(bill, key, self_pay, billing.api.wechat_code(8))  # NOTENOUGH: definitive failure
    assert r.json()["status"] == "FAILED" and r.json()["bill_status"] == "unpaid"
    assert billing.insurer_state(key) == "cancelled"
    retry = str(uuid.uuid4())  # the patient tries again with another code: a new lock is allowed
    assert billing.lock(bill, retry).status_code == 201


def test_unclear_payment_keeps_the_lock_until_reversed(billing: Billing) -> None:
    bill = billing.bill()
    key = str(uuid.uuid4())
    self_pay = billing.lock(bill, key).json()["self_pay_cents"]
    r = billing.pay(bill, key, self_pay, billing.api.wechat_code(7))  # USERPAYING forever -> reverse
    assert r.json()["status"] == "PENDING"
    unlock = billing.api.post(f"/api/v1/bills/{bill['bill_id']}/unlock", {"payment_key": key})
    assert unlock.status_code == 409 and _error(unlock) == "payment_pending"
    final = billing.api.wait_final(key)
    assert (final["status"], final["bill_status"]) == ("REVERSED", "unpaid")
    assert billing.insurer_state(key) == "cancelled"


def test_expired_lock_is_taken_over_but_not_while_a_payment_is_unresolved(
    billing: Billing, monkeypatch: pytest.MonkeyPatch
) -> None:
    bill = billing.bill()
    first = str(uuid.uuid4())
    assert billing.lock(bill, first).status_code == 201
    later = datetime.now(UTC) + timedelta(seconds=301)
    monkeypatch.setattr("server.bills.service._now", lambda: later)
    second = str(uuid.uuid4())
    r = billing.lock(bill, second)
    assert r.status_code == 201 and r.json()["payment_key"] == second
    assert billing.insurer_state(first) == "cancelled"
    late = billing.pay(bill, first, r.json()["self_pay_cents"], billing.api.wechat_code(0))
    assert late.status_code == 409 and _error(late) == "bill_not_locked"  # the old attempt can't pay any more


def test_bill_changed_since_listed_is_refused(billing: Billing) -> None:
    bill = billing.bill()
    billing.api.sql("UPDATE bills SET version = version + 1 WHERE id = ?", (bill["bill_id"],), write=True)
    r = billing.lock(bill, str(uuid.uuid4()))
    assert r.status_code == 409 and _error(r) == "bill_changed"


def test_someone_elses_bill_looks_missing(billing: Billing) -> None:
    bill = billing.bill(patient_id=billing.api.patient())
    r = billing.lock(bill, str(uuid.uuid4()))
    assert r.status_code == 404 and _error(r) == "bill_not_found"


def test_fully_covered_bill_is_paid_by_the_lock(billing: Billing, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(__import__("server.bills.insurance", fromlist=["FUND_RATE"]).FUND_RATE, "employee", Decimal(1))
    bill = billing.bill(items=[ITEMS[0]])  # 甲类 only, 100 % fund: nothing left for the patient
    key = str(uuid.uuid4())
    r = billing.lock(bill, key)
    assert r.status_code == 201 and (r.json()["status"], r.json()["self_pay_cents"]) == ("paid", 0)
    assert billing.insurer_state(key) == "settled"


def test_insurer_failure_releases_the_lock(billing: Billing, monkeypatch: pytest.MonkeyPatch) -> None:
    assert billing.api.srv.app is not None

    def down(**_kw: Any) -> None:
        raise ConnectionError("insurer unreachable")

    monkeypatch.setattr(billing.api.srv.app.state.bills.insurance, "presettle", down)
    bill = billing.bill()
    r = billing.lock(bill, str(uuid.uuid4()))
    assert r.status_code == 502 and _error(r) == "insurance_unavailable"
    assert billing.api.get(f"/api/v1/bills/{bill['bill_id']}").json()["status"] == "unpaid"


# -- Alipay through the same state machine ----------------------------------------------------------


@pytest.mark.parametrize(("digit", "status"), [(0, "SUCCESS"), (8, "FAILED"), (6, "SUCCESS"), (7, "REVERSED")])
def test_alipay_bar_code_payment_outcomes(api: Api, digit: int, status: str) -> None:
    reg = api.register()
    key = str(uuid.uuid4())
    body = {**api.pay_body(reg, 0, key), "auth_code": alipay_code(digit)}
    r = api.post("/api/v1/payments", body)
    assert r.status_code == 201, r.text
    assert r.json()["channel"] == "alipay"
    final = api.wait_final(key)
    assert final["status"] == status
    assert final["registration_status"] == ("paid" if status == "SUCCESS" else "unpaid")
    assert api.srv.app is not None
    trade = api.srv.app.state.alipay_sandbox.trade(api.sql("SELECT out_trade_no FROM payments")[0][0])
    if status != "FAILED":  # a refused payment leaves no trade at Alipay
        assert trade is not None and trade.total_cents == reg["amount_cents"]


def test_alipay_lost_answer_is_found_by_query_and_charged_once(api: Api) -> None:
    reg = api.register()
    key = str(uuid.uuid4())
    r = api.post("/api/v1/payments", {**api.pay_body(reg, 0, key), "auth_code": alipay_code(9)})
    assert r.status_code == 201 and r.json()["status"] == "PENDING"
    assert api.wait_final(key)["status"] == "SUCCESS"
    assert api.srv.app is not None
    assert api.srv.app.state.alipay_sandbox.trade_count() == 1
