"""The prepaid account (预交金), on both stores: balance, top-ups by payment code through the payment
state machine (paid at once, USERPAYING, lost answer, refused, reversed, crash), paying bills from
the account, replays, limits, the ledger's invariants and schema v13."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from server import schema
from server.accounts import ledger
from server.bills.service import create_bill
from server.db import Store, open_database
from server.dbapi import IntegrityError, utc_now, write_tx
from server.payments.wechat import WeChatPayClient
from server.settings import ServerSettings
from server.testing import ServerThread
from sync.client import Account, BusinessError, ServerClient

if TYPE_CHECKING:
    from conftest_server import Api

TOP_UPS, KIOSK = "/api/v1/accounts/top-ups", "KIOSK-T1"

ITEMS = [  # an insurer-covered drug and a self-paid one: the employee scheme splits them
    {"code": "DA01", "name_zh": "阿莫西林胶囊", "name_en": "Amoxicillin", "category": "drug_a", "quantity": 1,
     "unit_cents": 3000},
    {"code": "DC02", "name_zh": "维生素C泡腾片", "name_en": "Vitamin C", "category": "drug_c", "quantity": 1,
     "unit_cents": 800},
]  # fmt: skip


def _key() -> str:
    return str(uuid.uuid4())


def _error(r: Any) -> str:
    return str(r.json()["error"]["code"])


def _account(api: Api, patient_id: int) -> dict[str, Any]:
    r = api.get(f"/api/v1/patients/{patient_id}/account")
    assert r.status_code == 200, r.text
    return dict(r.json())


def _top_up(api: Api, patient_id: int, amount: int, digit: int, key: str | None = None, status: int = 201) -> Any:
    body = {
        "idempotency_key": key or _key(),
        "patient_id": patient_id,
        "amount_cents": amount,
        "auth_code": api.wechat_code(digit),
        "kiosk_id": KIOSK,
    }
    r = api.post(TOP_UPS, body)
    assert r.status_code == status, r.text
    return r.json()


def _wait_top_up(api: Api, key: str) -> dict[str, Any]:
    final = api.wait_final(key)  # through GET /payments: a top-up is a payment
    assert final["top_up_patient_id"] is not None
    r = api.get(f"{TOP_UPS}/{key}")
    assert r.status_code == 200, r.text
    return dict(r.json())


def _entries(api: Api, patient_id: int) -> list[Any]:
    return api.sql(
        "SELECT e.* FROM account_entries e JOIN accounts a ON a.id = e.account_id WHERE a.patient_id = ? ORDER BY e.id",
        (patient_id,),
    )


def _consistent(api: Api, patient_id: int) -> bool:
    assert api.srv.app is not None
    with api.srv.app.state.db.connection() as conn:
        return ledger.check(conn, patient_id)


def _bill(api: Api, patient_id: int) -> dict[str, Any]:
    assert api.srv.app is not None
    with api.srv.app.state.db.connection() as conn, write_tx(conn):
        bill_id = create_bill(
            conn, patient_id=patient_id, kind="prescription", title_zh="门诊处方", title_en="Prescription", items=ITEMS
        )
    return dict(api.get(f"/api/v1/bills/{bill_id}").json())


def _pay(api: Api, bill: dict[str, Any], patient_id: int, key: str, **over: Any) -> Any:
    body = {
        "idempotency_key": key,
        "patient_id": patient_id,
        "version": bill["version"],
        "verification": "face",
        "kiosk_id": KIOSK,
    } | over
    return api.post(f"/api/v1/bills/{bill['bill_id']}/pay-from-account", body)


def _lock(api: Api, bill: dict[str, Any], patient_id: int, key: str, scheme: str | None = "employee") -> Any:
    body = {"payment_key": key, "patient_id": patient_id, "version": bill["version"], "insurance_scheme": scheme,
            "kiosk_id": KIOSK}  # fmt: skip
    r = api.post(f"/api/v1/bills/{bill['bill_id']}/lock", body)
    assert r.status_code == 201, r.text
    return r.json()


# -- the balance ------------------------------------------------------------------------------------


def test_a_new_patient_has_an_empty_account_and_an_unknown_one_is_404(api: Api) -> None:
    patient_id = api.patient()
    view = _account(api, patient_id)
    assert (view["balance_cents"], view["entries"]) == (0, [])
    assert (view["top_up_min_cents"], view["top_up_max_cents"]) == (100, 500_000)
    assert api.sql("SELECT count(*) FROM accounts")[0][0] == 0  # reading opened nothing
    r = api.get("/api/v1/patients/999999/account")
    assert r.status_code == 404 and _error(r) == "patient_not_found"


# -- top-ups ----------------------------------------------------------------------------------------


def test_top_up_paid_at_once_is_credited_once_and_replayed(api: Api) -> None:
    patient_id, key = api.patient(), _key()
    first = _top_up(api, patient_id, 20_000, 0, key)
    assert (first["status"], first["credited"], first["balance_cents"]) == ("SUCCESS", True, 20_000)
    again = api.post(TOP_UPS, {"idempotency_key": key, "patient_id": patient_id, "amount_cents": 20_000,
                               "auth_code": api.wechat_code(0), "kiosk_id": KIOSK})  # fmt: skip
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first
    second = _top_up(api, patient_id, 5_000, 1)
    assert second["balance_cents"] == 25_000
    assert first == dict(api.get(f"{TOP_UPS}/{key}").json())  # the balance after *that* top-up, stable
    view = _account(api, patient_id)
    assert view["balance_cents"] == 25_000
    assert [(e["kind"], e["amount_cents"], e["balance_after_cents"], e["channel"]) for e in view["entries"]] == [
        ("top_up", 5_000, 25_000, "wechat"),
        ("top_up", 20_000, 20_000, "wechat"),
    ]
    assert api.sandbox_orders == 2 and len(_entries(api, patient_id)) == 2 and _consistent(api, patient_id)


def test_userpaying_top_up_is_credited_when_the_resolver_finds_it_paid(api: Api) -> None:
    patient_id, key = api.patient(), _key()
    pending = _top_up(api, patient_id, 10_000, 6, key)
    assert (pending["status"], pending["credited"], pending["balance_cents"]) == ("PENDING", False, 0)
    assert _account(api, patient_id)["balance_cents"] == 0  # nothing before the money is confirmed
    final = _wait_top_up(api, key)
    assert (final["status"], final["credited"], final["balance_cents"]) == ("SUCCESS", True, 10_000)
    assert len(_entries(api, patient_id)) == 1 and _consistent(api, patient_id)


def test_lost_answer_top_up_is_found_by_query_and_credited_once(api: Api) -> None:
    patient_id, key = api.patient(), _key()
    first = _top_up(api, patient_id, 30_000, 9, key)
    assert first["status"] in ("PENDING", "SUCCESS")
    final = _wait_top_up(api, key)
    assert (final["status"], final["balance_cents"]) == ("SUCCESS", 30_000)
    _top_up(api, patient_id, 30_000, 9, key, status=200)  # the kiosk's retry after its own timeout
    assert api.sandbox_orders == 1 and len(_entries(api, patient_id)) == 1
    assert _account(api, patient_id)["balance_cents"] == 30_000


@pytest.mark.parametrize(("digit", "status", "code"), [(8, "FAILED", "NOTENOUGH"), (7, "REVERSED", None)])
def test_refused_or_reversed_top_up_credits_nothing(api: Api, digit: int, status: str, code: str | None) -> None:
    patient_id, key = api.patient(), _key()
    _top_up(api, patient_id, 10_000, digit, key)
    final = _wait_top_up(api, key)
    assert (final["status"], final["credited"], final["balance_cents"]) == (status, False, 0)
    if code:
        assert final["error_code"] == code
    assert _entries(api, patient_id) == [] and _account(api, patient_id)["balance_cents"] == 0


def test_garbage_scan_is_failed_at_once_without_a_provider_call(api: Api) -> None:
    patient_id = api.patient()
    body = {"idempotency_key": _key(), "patient_id": patient_id, "amount_cents": 10_000,
            "auth_code": "https://example.invalid/not-a-code", "kiosk_id": KIOSK}  # fmt: skip
    r = api.post(TOP_UPS, body)
    assert r.status_code == 201 and (r.json()["status"], r.json()["error_code"]) == ("FAILED", "AUTH_CODE_INVALID")
    assert api.sandbox_orders == 0 and _account(api, patient_id)["balance_cents"] == 0


@pytest.mark.parametrize("amount", [99, 500_001])
def test_top_up_outside_the_limits_is_refused_before_any_charge(api: Api, amount: int) -> None:
    patient_id = api.patient()
    body = {"idempotency_key": _key(), "patient_id": patient_id, "amount_cents": amount,
            "auth_code": api.wechat_code(0), "kiosk_id": KIOSK}  # fmt: skip
    r = api.post(TOP_UPS, body)
    assert r.status_code == 422 and _error(r) == "amount_out_of_range"
    assert api.sandbox_orders == 0 and api.sql("SELECT count(*) FROM payments")[0][0] == 0


def test_top_up_for_an_unknown_patient_or_with_a_reused_key_is_refused(api: Api) -> None:
    r = api.post(TOP_UPS, {"idempotency_key": _key(), "patient_id": 987654, "amount_cents": 1000,
                           "auth_code": api.wechat_code(0), "kiosk_id": KIOSK})  # fmt: skip
    assert r.status_code == 404 and _error(r) == "patient_not_found"
    patient_id, key = api.patient(), _key()
    _top_up(api, patient_id, 1_000, 0, key)
    r = api.post(TOP_UPS, {"idempotency_key": key, "patient_id": patient_id, "amount_cents": 2_000,
                           "auth_code": api.wechat_code(0), "kiosk_id": KIOSK})  # fmt: skip
    assert r.status_code == 422 and _error(r) == "idempotency_key_reused"
    reg = api.register(patient_id)  # a registration's payment key is not a top-up
    paid = api.post("/api/v1/payments", api.pay_body(reg, 0))
    assert api.get(f"{TOP_UPS}/{paid.json()['idempotency_key']}").status_code == 404
    assert api.get(f"{TOP_UPS}/{_key()}").status_code == 404
    assert _account(api, patient_id)["balance_cents"] == 1_000


def test_a_resolver_and_a_request_finishing_together_credit_once(api: Api) -> None:
    patient_id, key = api.patient(), _key()
    _top_up(api, patient_id, 10_000, 7, key)  # stays PENDING until reversed: time to race on it
    payment_id = int(api.sql("SELECT id FROM payments WHERE idempotency_key = ?", (key,))[0][0])
    assert api.srv.app is not None
    service = api.srv.app.state.payments
    threads = [
        threading.Thread(target=service._finish, args=(payment_id, "SUCCESS", None, {"n": str(n)}, "T1"))
        for n in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    final = _wait_top_up(api, key)
    assert (final["status"], final["balance_cents"]) == ("SUCCESS", 10_000)
    assert len(_entries(api, patient_id)) == 1 and _consistent(api, patient_id)


def test_a_paid_top_up_left_pending_by_a_crash_is_credited_after_a_restart(
    api: Api, fresh_settings: Callable[..., ServerSettings]
) -> None:
    """The charge succeeded at the provider but the server died before it knew: never lose it."""
    sandbox_url = api.srv.base_url + "/sandbox/wxpay"
    settings = fresh_settings("other", pay_base_url=sandbox_url)
    with ServerThread(settings) as other:
        helper = type(api)(other)
        patient_id = helper.patient()
        helper.close()
    s = api.srv.settings
    wx = WeChatPayClient(sandbox_url, appid=s.pay_appid, mch_id=s.pay_mch_id, key=s.merchant_key)
    assert wx.micropay(out_trade_no="KCRASHTOPUP0001", total_fee=8_800, auth_code=api.wechat_code(0), body="t")
    wx.close()
    db = open_database(settings.database_url or settings.db_path)
    with db.connection() as conn, write_tx(conn):
        conn.execute(
            "INSERT INTO payments(idempotency_key, request_hash, top_up_patient_id, amount_cents, auth_code_masked,"
            " channel, kiosk_id, status, out_trade_no, created_at, updated_at)"
            " VALUES ('crash-top-up-1', 'x', ?, 8800, '**************5670', 'wechat', 'K1', 'PENDING',"
            " 'KCRASHTOPUP0001', ?, ?)",
            (patient_id, utc_now(), utc_now()),
        )
    db.close()
    with ServerThread(settings) as restarted:
        helper = type(api)(restarted)
        final = _wait_top_up(helper, "crash-top-up-1")
        assert (final["status"], final["credited"], final["balance_cents"]) == ("SUCCESS", True, 8_800)
        assert _account(helper, patient_id)["balance_cents"] == 8_800 and len(_entries(helper, patient_id)) == 1
        helper.close()


# -- paying bills from the account ------------------------------------------------------------------


def test_pay_a_locked_bill_from_the_account_in_one_go_and_replay(api: Api) -> None:
    patient_id, key = api.patient(), _key()
    _top_up(api, patient_id, 10_000, 0)
    bill = _bill(api, patient_id)
    locked = _lock(api, bill, patient_id, key)
    self_pay = locked["self_pay_cents"]
    assert 0 < self_pay < 3_800
    r = _pay(api, bill, patient_id, key)
    assert r.status_code == 201, r.text
    paid = r.json()
    assert (paid["bill_status"], paid["amount_cents"], paid["balance_cents"]) == ("paid", self_pay, 10_000 - self_pay)
    assert paid["insurance_cents"] == 3_800 - self_pay and paid["bill_ids"] == [bill["bill_id"]]
    again = _pay(api, bill, patient_id, key)
    assert again.status_code == 200 and again.json() == paid
    assert api.get(f"/api/v1/bills/{bill['bill_id']}").json()["status"] == "paid"
    settlement = api.sql("SELECT status FROM insurance_settlements WHERE lock_key = ?", (key,))[0][0]
    assert settlement == "settled"
    entries = _entries(api, patient_id)
    assert [(e["kind"], e["amount_cents"], e["verification"]) for e in entries][-1] == (
        "bill_payment", -self_pay, "face"
    )
    assert _account(api, patient_id)["entries"][0]["bill_no"] == bill["bill_no"]
    assert _consistent(api, patient_id) and api.sandbox_orders == 1  # only the top-up touched a provider
    other = _pay(api, bill, patient_id, _key())
    assert other.status_code == 409 and _error(other) == "already_paid"


def test_an_unlocked_bill_is_locked_and_paid_by_the_same_request(api: Api) -> None:
    patient_id, key = api.patient(), _key()
    _top_up(api, patient_id, 5_000, 0)
    bill = _bill(api, patient_id)
    r = _pay(api, bill, patient_id, key)  # no insurance card: the whole bill is self-pay
    assert r.status_code == 201, r.text
    assert (r.json()["amount_cents"], r.json()["balance_cents"]) == (3_800, 1_200)
    stale = _bill(api, patient_id)
    r = _pay(api, stale, patient_id, _key(), version=stale["version"] + 1)
    assert r.status_code == 409 and _error(r) == "bill_changed"
    assert _account(api, patient_id)["balance_cents"] == 1_200


def test_insufficient_balance_changes_nothing_and_the_lock_can_still_be_paid_by_code(api: Api) -> None:
    patient_id, key = api.patient(), _key()
    _top_up(api, patient_id, 100, 0)
    bill = _bill(api, patient_id)
    locked = _lock(api, bill, patient_id, key, scheme=None)
    r = _pay(api, bill, patient_id, key)
    assert r.status_code == 409 and _error(r) == "insufficient_balance"
    assert _account(api, patient_id)["balance_cents"] == 100 and len(_entries(api, patient_id)) == 1
    assert api.get(f"/api/v1/bills/{bill['bill_id']}").json()["status"] == "locked"
    body = {"idempotency_key": key, "bill_id": bill["bill_id"], "amount_cents": locked["self_pay_cents"],
            "auth_code": api.wechat_code(0), "kiosk_id": KIOSK}  # fmt: skip
    by_code = api.post("/api/v1/payments", body)
    assert by_code.status_code == 201 and by_code.json()["bill_status"] == "paid"
    r = _pay(api, bill, patient_id, key)  # the key now belongs to a payment by code
    assert r.status_code == 422 and _error(r) == "idempotency_key_reused"
    assert _account(api, patient_id)["balance_cents"] == 100


def test_someone_elses_bill_and_a_key_of_another_kind_are_refused(api: Api) -> None:
    owner, stranger = api.patient(), api.patient()
    _top_up(api, stranger, 10_000, 0)
    bill = _bill(api, owner)
    r = _pay(api, bill, stranger, _key())
    assert r.status_code == 404 and _error(r) == "bill_not_found"
    top_up_key = _key()
    _top_up(api, stranger, 1_000, 0, top_up_key)
    mine = _bill(api, stranger)
    r = _pay(api, mine, stranger, top_up_key)
    assert r.status_code == 422 and _error(r) == "idempotency_key_reused"
    assert _account(api, stranger)["balance_cents"] == 11_000


def test_two_kiosks_spending_one_balance_at_once_never_take_it_below_zero(api: Api) -> None:
    patient_id = api.patient()
    _top_up(api, patient_id, 5_000, 0)  # enough for one bill of 38.00, not for two
    bills = [_bill(api, patient_id) for _ in range(2)]
    answers: list[int] = []

    def pay(bill: dict[str, Any]) -> None:
        with api.session() as s:
            body = {"idempotency_key": _key(), "patient_id": patient_id, "version": bill["version"],
                    "verification": "pin", "kiosk_id": KIOSK}  # fmt: skip
            answers.append(s.post(f"{api.base}/api/v1/bills/{bill['bill_id']}/pay-from-account", json=body).status_code)

    threads = [threading.Thread(target=pay, args=(b,)) for b in bills]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(answers) == [201, 409]
    assert _account(api, patient_id)["balance_cents"] == 1_200 and _consistent(api, patient_id)


# -- the client --------------------------------------------------------------------------------------


def test_client_account_top_up_and_pay_bill_from_account(api: Api) -> None:
    patient_id = api.patient()
    bill = _bill(api, patient_id)
    with ServerClient(api.base, kiosk_id=KIOSK, credential=api.credential) as client:
        assert client.account(patient_id) == Account(patient_id, 0, (), 100, 500_000)
        key = _key()
        pending = client.top_up(key, patient_id, 10_000, api.wechat_code(6))
        assert pending.status == "PENDING" and not pending.is_final and not pending.credited
        assert client.top_up_status(_key()) is None
        deadline = time.monotonic() + 20
        status = client.top_up_status(key)
        while status is not None and not status.is_final and time.monotonic() < deadline:
            time.sleep(0.1)
            status = client.top_up_status(key)
        assert status is not None
        assert (status.status, status.credited, status.balance_cents) == ("SUCCESS", True, 10_000)
        pay_key = _key()
        paid = client.pay_bill_from_account(pay_key, bill["bill_id"], patient_id, bill["version"], "face")
        assert (paid.amount_cents, paid.balance_cents, paid.bill_status, paid.replayed) == (3_800, 6_200, "paid", False)
        again = client.pay_bill_from_account(pay_key, bill["bill_id"], patient_id, bill["version"], "face")
        assert again.replayed and again.balance_cents == 6_200 and again.bill_ids == (bill["bill_id"],)
        account = client.account(patient_id)
        assert account.balance_cents == 6_200
        assert [(e.kind, e.amount_cents) for e in account.entries] == [("bill_payment", -3_800), ("top_up", 10_000)]
        with pytest.raises(BusinessError) as err:
            client.top_up(_key(), patient_id, 50, api.wechat_code(0))
        assert err.value.tr_key == "server.rejected.amount_out_of_range"
        poor = _bill(api, patient_id)
        other = _bill(api, patient_id)
        client.pay_bill_from_account(_key(), poor["bill_id"], patient_id, poor["version"], "staff")
        with pytest.raises(BusinessError) as err:
            client.pay_bill_from_account(_key(), other["bill_id"], patient_id, other["version"], "face")
        assert err.value.code == "insufficient_balance" and err.value.status == 409


# -- the ledger and schema v13 -------------------------------------------------------------------------


def _patient_row(conn: Any) -> int:
    return int(
        conn.execute(
            "INSERT INTO patients(id_type, id_index, id_number_enc, name_enc, id_masked, sex, birth, created_at)"
            " VALUES ('resident', ?, ?, ?, '110***0010', 'M', '1980-01-01', '2020-01-01T00:00:00Z') RETURNING id",
            (_key(), b"x", b"y"),
        ).fetchone()[0]
    )


def test_ledger_is_append_only_and_never_negative(store: Store) -> None:
    with store.connection() as conn:
        with write_tx(conn):
            patient_id = _patient_row(conn)
            assert ledger.refund_to_account(
                conn, patient_id=patient_id, amount_cents=500, key="refund-0001", actor="t", bill_id=None, note="x"
            ) == 500
            # idempotent by key
            assert ledger.refund_to_account(
                conn, patient_id=patient_id, amount_cents=500, key="refund-0001", actor="t", bill_id=None, note="x"
            ) == 500
        assert ledger.balance(conn, patient_id) == 500 and ledger.check(conn, patient_id)
        for sql in ("UPDATE account_entries SET amount_cents = 5000", "DELETE FROM account_entries"):
            with pytest.raises(IntegrityError, match="append-only"), write_tx(conn):
                conn.execute(sql)
        with pytest.raises(IntegrityError), write_tx(conn):
            conn.execute("UPDATE accounts SET balance_cents = -1")
        with pytest.raises(Exception, match="insufficient"), write_tx(conn):
            ledger.post(conn, patient_id=patient_id, kind="bill_payment", amount_cents=-501, key="debit-0001",
                        request_hash="h", actor="t", bill_id=None, verification="pin")  # fmt: skip
        assert ledger.balance(conn, patient_id) == 500
        with write_tx(conn):  # a kept balance that drifted from its entries is caught
            conn.execute("UPDATE accounts SET balance_cents = 400")
        assert not ledger.check(conn, patient_id)


def test_payments_have_exactly_one_purpose(store: Store) -> None:
    with store.connection() as conn:
        with write_tx(conn):
            patient_id = _patient_row(conn)
            bill_id = create_bill(
                conn, patient_id=patient_id, kind="lab", title_zh="t", title_en="t", items=ITEMS[:1]
            )
        insert = (
            "INSERT INTO payments(idempotency_key, request_hash, bill_id, top_up_patient_id, amount_cents,"
            " auth_code_masked, channel, kiosk_id, status, out_trade_no, created_at, updated_at)"
            " VALUES (?, 'h', ?, ?, 100, '****', 'wechat', 'K', 'PENDING', ?, 't', 't')"
        )
        with write_tx(conn):
            conn.execute(insert, ("purpose-ok-1", None, patient_id, "OTN-OK-1"))
            conn.execute(insert, ("purpose-ok-2", bill_id, None, "OTN-OK-2"))
        for n, (bill, top) in enumerate([(None, None), (bill_id, patient_id)]):
            with pytest.raises(IntegrityError), write_tx(conn):
                conn.execute(insert, (f"purpose-bad-{n}", bill, top, f"OTN-BAD-{n}"))


def test_v13_keeps_existing_payments_and_other_features_columns(
    backend: str, database_url: str | None, tmp_path: Path
) -> None:
    db = open_database(database_url or tmp_path / "old.db")
    with db.connection() as conn, write_tx(conn):
        schema.apply(conn, schema.BASELINE)
        schema.write_version(conn, schema.BASELINE_VERSION)
        schema.upgrade(conn, tuple(m for m in schema.MIGRATIONS if m.version < 13))
        # another feature's column on payments (added before v13 here) must survive the rebuild
        conn.execute("ALTER TABLE payments ADD COLUMN someone_elses TEXT")
        patient_id = _patient_row(conn)
        conn.execute(
            "INSERT INTO bills(bill_no, patient_id, kind, title_zh, title_en, total_cents, status, created_at,"
            " updated_at) VALUES ('B1', ?, 'lab', 't', 't', 100, 'unpaid', 't', 't')",
            (patient_id,),
        )
        conn.execute(
            "INSERT INTO payments(idempotency_key, request_hash, bill_id, amount_cents, auth_code_masked, channel,"
            " kiosk_id, status, out_trade_no, created_at, updated_at, someone_elses)"
            " VALUES ('old-payment-1', 'h', 1, 100, '****', 'wechat', 'K', 'SUCCESS', 'OTN1', 't', 't', 'kept')"
        )
    db.init()
    with db.connection() as conn:
        row = conn.execute("SELECT * FROM payments WHERE idempotency_key = 'old-payment-1'").fetchone()
        assert (row["bill_id"], row["top_up_patient_id"], row["someone_elses"]) == (1, None, "kept")
        assert schema.read_version(conn) == schema.SCHEMA_VERSION
        with pytest.raises(IntegrityError), write_tx(conn):  # the unique key survived the rebuild too
            conn.execute(
                "INSERT INTO payments(idempotency_key, request_hash, bill_id, amount_cents, auth_code_masked,"
                " channel, kiosk_id, status, out_trade_no, created_at, updated_at)"
                " VALUES ('old-payment-1', 'h', 1, 100, '****', 'wechat', 'K', 'SUCCESS', 'OTN2', 't', 't')"
            )
        if backend == "sqlite":
            names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE tbl_name = 'payments'")}
            assert {"payments_by_bill", "payments_by_status", "payments_by_top_up"} <= names
    db.close()
