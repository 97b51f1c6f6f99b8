"""The cashier window (server/cashier/) on both stores: sign-in and shifts, lookup, settlements by
payment code, cash and card, supervisor-approved refunds, and the reconciled end-of-shift report."""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import requests

from server.auth.staff import create_staff
from server.bills.service import create_bill
from server.cashier import __main__ as cashier_cli
from server.cashier import shifts as shifts_module
from server.cashier import staff as staff_module
from server.cashier.demo import ensure_demo_cashiers
from server.cashier.staff import add_cashier
from server.crypto import FieldCipher, load_or_create_key
from server.db import open_database
from server.dbapi import write_tx
from server.errors import ApiError
from server.visit_card import visit_card_no
from sync.client import BusinessError, CashierItems, ChannelTotal, ServerClient
from sync.staffcard import staff_card_hash

if TYPE_CHECKING:
    from conftest_server import Api

CASHIER = ("1001", "2580")
OTHER_CASHIER = ("1002", "1357")
SUPERVISOR = ("9001", "8642")
CASHIER_CARD = "110105198001010011"
BASE = "/api/v1/cashier"
ITEMS = [
    {"code": "DA01", "name_zh": "阿莫西林胶囊", "name_en": "Amoxicillin", "category": "drug_a", "quantity": 1,
     "unit_cents": 3000},
    {"code": "DC02", "name_zh": "维生素C泡腾片", "name_en": "Vitamin C", "category": "drug_c", "quantity": 2,
     "unit_cents": 800},
]  # fmt: skip
TOTAL = 3000 + 1600


class Window:
    """A cashier window on the test server: kiosk KIOSK-T1 signed, plus the shift's token."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.token: str | None = None
        self.shift_id: int | None = None
        assert api.srv.app is not None
        self.state = api.srv.app.state
        with self.state.db.connection() as conn:
            for username, (staff_no, pin), supervisor, card in (
                ("cashier1", CASHIER, False, staff_card_hash(CASHIER_CARD)),
                ("cashier2", OTHER_CASHIER, False, None),
                ("super1", SUPERVISOR, True, None),
            ):
                create_staff(conn, username, "long-enough-password", "cashier")
                add_cashier(
                    conn, self.state.cipher, username=username, staff_no=staff_no, pin=pin,
                    supervisor=supervisor, card_hash=card,
                )  # fmt: skip

    def headers(self, token: str | None = None) -> dict[str, str]:
        token = token or self.token
        return {"X-Cashier-Token": token} if token else {}

    def post(self, path: str, body: Any, *, token: str | None = None, session: requests.Session | None = None) -> Any:
        http = session or self.api.http
        return http.post(self.api.base + BASE + path, json=body, headers=self.headers(token), timeout=15)

    def get(self, path: str, *, token: str | None = None, session: requests.Session | None = None) -> Any:
        http = session or self.api.http
        return http.get(self.api.base + BASE + path, headers=self.headers(token), timeout=15)

    def sign_in(self, who: tuple[str, str] = CASHIER, **extra: Any) -> Any:
        r = self.post("/shifts", {"staff_no": who[0], "pin": who[1], "window_label": "3号窗口"} | extra)
        if r.status_code in (200, 201):
            self.token, self.shift_id = r.json()["token"], r.json()["shift_id"]
        return r

    def bill(self, patient_id: int, items: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        with self.state.db.connection() as conn, write_tx(conn):
            bill_id = create_bill(
                conn, patient_id=patient_id, kind="prescription", title_zh="门诊处方",
                title_en="Outpatient prescription", items=items or ITEMS,
            )  # fmt: skip
        return dict(self.api.get(f"/api/v1/bills/{bill_id}").json())

    def quote(self, patient_id: int, bills: list[dict[str, Any]], regs: list[int] = (), **extra: Any) -> Any:  # type: ignore[assignment]
        body = {
            "key": extra.pop("key", None) or str(uuid.uuid4()),
            "shift_id": self.shift_id,
            "patient_id": patient_id,
            "bills": [{"bill_id": b["bill_id"], "version": b["version"]} for b in bills],
            "registration_ids": list(regs),
            "insurance_scheme": "employee",
        } | extra
        return self.post("/quotes", body)

    def settle(self, quote: dict[str, Any], channel: str, **extra: Any) -> Any:
        body = {
            "key": quote["key"],
            "shift_id": self.shift_id,
            "patient_id": quote["patient_id"],
            "bill_ids": [b["bill_id"] for b in quote["bills"]],
            "registration_ids": [r["registration_id"] for r in quote["registrations"]],
            "channel": channel,
            "amount_cents": quote["self_pay_cents"],
        }
        if channel == "cash":
            body["tendered_cents"] = (quote["self_pay_cents"] // 10000 + 1) * 10000
        if channel == "card":
            body["pos_ref"] = "POS-000123"
        return self.post("/settlements", body | extra)

    def paid_by(self, patient_id: int, channel: str, **extra: Any) -> dict[str, Any]:
        q = self.quote(patient_id, [self.bill(patient_id)])
        assert q.status_code == 200, q.text
        r = self.settle(q.json(), channel, **extra)
        assert r.status_code == 201, r.text
        return dict(r.json())

    def refund(self, payment_key: str, amount: int, who: tuple[str, str] = SUPERVISOR, **extra: Any) -> Any:
        body = {
            "refund_key": str(uuid.uuid4()),
            "shift_id": self.shift_id,
            "payment_key": payment_key,
            "amount_cents": amount,
            "reason": "患者要求退费",
            "supervisor_staff_no": who[0],
            "supervisor_pin": who[1],
        } | extra
        return self.post("/refunds", body)


@pytest.fixture
def window(api: Api) -> Iterator[Window]:
    yield Window(api)


def _code(r: Any) -> str:
    return str(r.json()["error"]["code"])


def _count(api: Api, query: str, params: tuple[Any, ...] = ()) -> int:
    return int(api.sql(query, params)[0][0])


# -- sign-in and shifts ----------------------------------------------------------------------------


def test_sign_in_opens_one_shift_per_window_and_resuming_rotates_the_token(api: Api, window: Window) -> None:
    first = window.sign_in()
    assert first.status_code == 201, first.text
    shift = first.json()
    assert (shift["staff_no"], shift["staff_name"], shift["kiosk_id"], shift["status"]) == (
        "1001", "cashier1", "KIOSK-T1", "open",
    )  # fmt: skip
    assert shift["window_label"] == "3号窗口" and len(shift["token"]) >= 40
    old_token = window.token

    again = window.sign_in()
    assert again.status_code == 200 and again.json()["shift_id"] == shift["shift_id"]
    assert window.get(f"/shifts/{shift['shift_id']}/report", token=old_token).status_code == 401
    by_card = window.post("/shifts", {"staff_card_hash": staff_card_hash(f" {CASHIER_CARD.lower()} ")})
    assert by_card.status_code == 200 and by_card.json()["shift_id"] == shift["shift_id"]
    window.token = by_card.json()["token"]
    assert window.get(f"/shifts/{shift['shift_id']}/report").status_code == 200

    # Only a hash of the token and of the PIN is stored.
    stored = api.sql("SELECT token_hash FROM cashier_shifts")[0][0]
    assert window.token not in stored and len(stored) == 64
    pin_hash = api.sql("SELECT pin_hash FROM cashier_staff WHERE staff_no = '1001'")[0][0]
    assert pin_hash.startswith("scrypt$") and CASHIER[1] not in pin_hash

    # One cashier per window, one window per cashier.
    taken = window.post("/shifts", {"staff_no": OTHER_CASHIER[0], "pin": OTHER_CASHIER[1]})
    assert taken.status_code == 409 and _code(taken) == "window_in_use"
    elsewhere = api.kiosk("KIOSK-T2")
    r = window.post("/shifts", {"staff_no": CASHIER[0], "pin": CASHIER[1]}, session=elsewhere)
    assert r.status_code == 409 and _code(r) == "shift_open_elsewhere"
    # The token is bound to the kiosk that signed in.
    stolen = window.get(f"/shifts/{shift['shift_id']}/report", session=elsewhere)
    assert stolen.status_code == 403 and _code(stolen) == "shift_kiosk_mismatch"
    elsewhere.close()
    assert _code(window.get(f"/shifts/{shift['shift_id']}/report", token="x" * 43)) == "cashier_signed_out"
    assert window.api.http.get(api.base + BASE + f"/shifts/{shift['shift_id']}/report").status_code == 401


def test_bad_sign_ins_look_alike_and_five_wrong_pins_lock_the_profile(
    api: Api, window: Window, monkeypatch: pytest.MonkeyPatch
) -> None:
    for body in (
        {"staff_no": "1001", "pin": "0000"},
        {"staff_no": "7777", "pin": "2580"},
        {"staff_card_hash": staff_card_hash("110105198001010022")},
    ):
        r = window.post("/shifts", body)
        assert r.status_code == 401 and _code(r) == "sign_in_failed", body
    for body in ({"staff_no": "1001"}, {"staff_no": "10", "pin": "2580"}, {"staff_card_hash": "ABC"}, {}):
        assert window.post("/shifts", body).status_code == 422, body

    for _ in range(4):  # one wrong PIN above, four more: locked
        assert window.post("/shifts", {"staff_no": "1001", "pin": "9999"}).status_code == 401
    assert window.sign_in().status_code == 401  # the right PIN, but locked
    card = window.post("/shifts", {"staff_card_hash": staff_card_hash(CASHIER_CARD)})
    assert card.status_code == 401  # the card does not get round the lock either
    details = [json.loads(r[0]) for r in api.sql("SELECT detail FROM audit_log WHERE action = 'cashier.pin_failed'")]
    assert any(d.get("locked_for_s") == 900 for d in details)
    assert {d["reason"] for d in details} >= {"bad_pin", "unknown_staff", "locked"}
    assert all("2580" not in str(d) and "9999" not in str(d) for d in details)

    later = datetime.now(UTC) + timedelta(minutes=16)
    monkeypatch.setattr(staff_module, "_now", lambda: later)
    assert window.sign_in().status_code == 201


def test_the_token_lapses_when_idle_and_on_sign_out(api: Api, window: Window, monkeypatch: pytest.MonkeyPatch) -> None:
    assert window.sign_in().status_code == 201
    report = f"/shifts/{window.shift_id}/report"
    later = datetime.now(UTC) + timedelta(minutes=25)
    monkeypatch.setattr(shifts_module, "_now", lambda: later)
    assert window.get(report).status_code == 200  # used within 30 min: slides on
    much_later = later + timedelta(minutes=31)
    monkeypatch.setattr(shifts_module, "_now", lambda: much_later)
    assert _code(window.get(report)) == "cashier_signed_out"
    monkeypatch.undo()

    assert window.sign_in().status_code == 200  # the same shift, resumed
    out = window.post(f"/shifts/{window.shift_id}/sign-out", {})
    assert out.status_code == 200 and out.json()["status"] == "open"
    assert window.get(report).status_code == 401
    assert window.sign_in().status_code == 200


# -- patient lookup --------------------------------------------------------------------------------


def test_lookup_by_visit_card_lists_open_items_with_masked_identity(api: Api, window: Window) -> None:
    window.sign_in()
    payload = api.new_patient_payload() | {"name": "欧阳小明"}
    patient_id = int(api.post("/api/v1/patients/identify", payload).json()["patient_id"])
    bill = window.bill(patient_id)
    reg = api.register(patient_id)

    r = window.post("/patients/lookup", {"visit_card_no": f" {visit_card_no(patient_id)} "})
    assert r.status_code == 200, r.text
    found = r.json()
    assert found["patient"]["name_masked"] == "欧**明" and "欧阳小明" not in r.text
    assert found["patient"]["id_masked"].startswith("110") and payload["id_number"] not in r.text
    assert [b["bill_id"] for b in found["bills"]] == [bill["bill_id"]]
    assert [g["registration_id"] for g in found["registrations"]] == [reg["registration_id"]]
    assert found["recent_payments"] == []
    assert window.post("/patients/lookup", {"patient_id": patient_id}).json() == found

    card = visit_card_no(patient_id)
    typo = card[:-1] + str((int(card[-1]) + 1) % 10)
    assert _code(window.post("/patients/lookup", {"visit_card_no": typo})) == "invalid_visit_card"
    assert _code(window.post("/patients/lookup", {"visit_card_no": visit_card_no(999_999)})) == "patient_not_found"
    assert window.post("/patients/lookup", {"visit_card_no": card}, token="t" * 43).status_code == 401


# -- settlements -----------------------------------------------------------------------------------


def test_cash_pays_bills_and_a_registration_together_exactly_once(api: Api, window: Window) -> None:
    window.sign_in()
    patient_id = api.patient()
    bills = [window.bill(patient_id), window.bill(patient_id)]
    reg = api.register(patient_id)
    q = window.quote(patient_id, bills, [reg["registration_id"]])
    assert q.status_code == 200, q.text
    quote = q.json()
    assert quote["bills_status"] == "locked" and 0 < quote["bills_self_pay_cents"] < 2 * TOTAL
    assert quote["self_pay_cents"] == quote["bills_self_pay_cents"] + reg["amount_cents"]
    assert quote["insurance_cents"] + quote["bills_self_pay_cents"] == 2 * TOTAL
    assert window.quote(patient_id, bills, [reg["registration_id"]], key=quote["key"]).json() == quote

    r = window.settle(quote, "cash", tendered_cents=quote["self_pay_cents"] + 1234)
    assert r.status_code == 201, r.text
    s = r.json()
    assert (s["status"], s["channel"], s["amount_cents"], s["change_cents"]) == (
        "SUCCESS", "cash", quote["self_pay_cents"], 1234,
    )  # fmt: skip
    assert {p["payment_key"] for p in s["payments"]} == {quote["key"], f"{quote['key']}:r{reg['registration_id']}"}
    for b in bills:
        assert api.get(f"/api/v1/bills/{b['bill_id']}").json()["status"] == "paid"
    assert api.get(f"/api/v1/registrations/{reg['registration_id']}").json()["status"] == "paid"
    rows = api.sql("SELECT channel, status, kiosk_id FROM payments WHERE idempotency_key LIKE ?", (quote["key"] + "%",))
    assert sorted(tuple(r) for r in rows) == [("cash", "SUCCESS", "KIOSK-T1")] * 2
    settled = api.sql("SELECT status FROM insurance_settlements WHERE lock_key = ?", (quote["key"],))
    assert [r[0] for r in settled] == ["settled", "settled"]

    again = window.settle(quote, "cash", tendered_cents=quote["self_pay_cents"] + 1234)
    assert again.status_code == 200 and again.json() == s and again.headers["Idempotent-Replayed"] == "true"
    other = window.settle(quote, "cash", tendered_cents=quote["self_pay_cents"])
    assert other.status_code == 422 and _code(other) == "idempotency_key_reused"
    assert _count(api, "SELECT count(*) FROM payments WHERE idempotency_key LIKE ?", (quote["key"] + "%",)) == 2
    assert _count(api, "SELECT count(*) FROM audit_log WHERE action = 'cashier.settled'") == 1
    # Paid elsewhere meanwhile: a new quote for the same bill is refused.
    assert _code(window.quote(patient_id, bills[:1])) == "already_paid"
    assert window.get(f"/settlements/{quote['key']}").json() == s


def test_refused_window_settlements_write_nothing(api: Api, window: Window) -> None:
    window.sign_in()
    patient_id = api.patient()
    quote = window.quote(patient_id, [window.bill(patient_id)]).json()
    wrong = window.settle(quote, "cash", amount_cents=quote["self_pay_cents"] - 1)
    assert wrong.status_code == 409 and _code(wrong) == "amount_mismatch"
    assert window.settle(quote, "card", pos_ref=None).status_code == 422
    assert window.settle(quote, "cash", tendered_cents=quote["self_pay_cents"] - 1).status_code == 422
    unquoted = window.settle(quote | {"key": str(uuid.uuid4())}, "card")
    assert unquoted.status_code == 409 and _code(unquoted) == "bill_not_locked"
    someone_else = api.patient()
    assert window.settle(quote | {"patient_id": someone_else}, "card").status_code == 404
    assert _count(api, "SELECT count(*) FROM cashier_settlements") == 0
    assert _count(api, "SELECT count(*) FROM payments") == 0

    card = window.settle(quote, "card")
    assert card.status_code == 201 and card.json()["pos_ref"] == "POS-000123"
    masked = api.sql("SELECT auth_code_masked FROM payments WHERE idempotency_key = ?", (quote["key"],))[0][0]
    assert masked.endswith("0123") and "POS-000123" not in masked


def test_a_payment_code_goes_through_the_payment_service(api: Api, window: Window) -> None:
    window.sign_in()
    patient_id = api.patient()
    quote = window.quote(patient_id, [window.bill(patient_id)]).json()
    r = window.settle(quote, "code", auth_code=api.wechat_code(6))  # USERPAYING, then paid
    assert r.status_code == 201 and r.json()["status"] == "PENDING"
    final = api.wait_final(quote["key"])
    assert final["status"] == "SUCCESS" and final["bill_status"] == "paid"
    s = window.get(f"/settlements/{quote['key']}").json()
    assert s["status"] == "SUCCESS" and s["payments"][0]["channel"] == "wechat"
    assert api.sandbox_orders == 1
    # A retry after a lost answer charges nothing new.
    assert window.settle(quote, "code", auth_code=api.wechat_code(6)).status_code == 200
    assert api.sandbox_orders == 1

    # A refused code: the settlement stays as FAILED and the bill is free again.
    quote2 = window.quote(patient_id, [window.bill(patient_id)]).json()
    failed = window.settle(quote2, "code", auth_code=api.wechat_code(8))
    assert failed.status_code == 201 and failed.json()["status"] == "FAILED"
    assert failed.json()["error_code"] == "NOTENOUGH"
    assert api.get(f"/api/v1/bills/{quote2['bills'][0]['bill_id']}").json()["status"] == "unpaid"

    # One code pays one order.
    reg = api.register(patient_id)
    both = window.quote(patient_id, [window.bill(patient_id)], [reg["registration_id"]]).json()
    assert window.settle(both, "code", auth_code=api.wechat_code(0)).status_code == 422


def test_a_payment_service_refusal_forgets_the_settlement(
    api: Api, window: Window, monkeypatch: pytest.MonkeyPatch
) -> None:
    window.sign_in()
    patient_id = api.patient()
    quote = window.quote(patient_id, [window.bill(patient_id)]).json()

    def refuse(_req: Any) -> Any:
        raise ApiError(409, "bill_lock_expired", "the lock expired")

    monkeypatch.setattr(window.state.payments, "create", refuse)
    r = window.settle(quote, "code", auth_code=api.wechat_code(0))
    assert r.status_code == 409 and _code(r) == "bill_lock_expired"
    assert _count(api, "SELECT count(*) FROM cashier_settlements") == 0
    monkeypatch.undo()
    ok = window.settle(quote, "code", auth_code=api.wechat_code(0))  # the same key, evaluated afresh
    assert ok.status_code == 201 and ok.json()["status"] == "SUCCESS"


def test_release_gives_the_quoted_bills_back(api: Api, window: Window) -> None:
    window.sign_in()
    patient_id = api.patient()
    bill = window.bill(patient_id)
    quote = window.quote(patient_id, [bill]).json()
    assert api.get(f"/api/v1/bills/{bill['bill_id']}").json()["status"] == "locked"
    r = window.post(f"/quotes/{quote['key']}/release", {})
    assert r.status_code == 200 and r.json()["status"] == "released"
    assert api.get(f"/api/v1/bills/{bill['bill_id']}").json()["status"] == "unpaid"


# -- refunds ---------------------------------------------------------------------------------------


def test_a_refund_needs_another_persons_supervisor_pin(api: Api, window: Window) -> None:
    window.sign_in()
    patient_id = api.patient()
    paid = window.paid_by(patient_id, "cash")
    key, amount = paid["key"], paid["amount_cents"]

    for who in (CASHIER, OTHER_CASHIER, (SUPERVISOR[0], "0000")):
        r = window.refund(key, amount, who)
        assert r.status_code == 403 and _code(r) == "supervisor_not_approved", who
    assert _count(api, "SELECT count(*) FROM cashier_refunds") == 0
    assert _count(api, "SELECT count(*) FROM refunds") == 0

    r = window.refund(key, amount - 100)
    assert r.status_code == 201, r.text
    refund = r.json()
    assert (refund["status"], refund["channel"], refund["approved_by"]) == ("refunded", "cash", "9001")
    assert api.sql("SELECT approved_by FROM refunds WHERE refund_key = ?", (refund["refund_key"],))[0][0] == "super1"
    again = window.refund(key, amount - 100, refund_key=refund["refund_key"])
    assert again.status_code == 200 and again.json() == refund
    assert window.get(f"/refunds/{refund['refund_key']}").json() == refund

    # The refund service's own rule: never more than was paid. Its refusal leaves nothing behind.
    too_much = window.refund(key, 101)
    assert too_much.status_code == 409 and _code(too_much) == "refund_exceeds_refundable"
    assert _count(api, "SELECT count(*) FROM cashier_refunds") == 1
    audit = [r[0] for r in api.sql("SELECT detail FROM audit_log WHERE action LIKE 'cashier.%'")]
    assert all(SUPERVISOR[1] not in d for d in audit)


def test_card_and_code_refunds(api: Api, window: Window) -> None:
    window.sign_in()
    patient_id = api.patient()
    card = window.paid_by(patient_id, "card")
    no_ref = window.refund(card["key"], card["amount_cents"])
    assert no_ref.status_code == 422 and _code(no_ref) == "pos_ref_required"
    r = window.refund(card["key"], card["amount_cents"], pos_ref="POSR-77")
    assert r.status_code == 201 and r.json()["status"] == "refunded" and r.json()["pos_ref"] == "POSR-77"

    code = window.paid_by(patient_id, "code", auth_code=api.wechat_code(1))
    r = window.refund(code["key"], code["amount_cents"])
    assert r.status_code == 201, r.text
    deadline = datetime.now(UTC) + timedelta(seconds=15)
    while window.get(f"/refunds/{r.json()['refund_key']}").json()["status"] != "refunded":
        assert datetime.now(UTC) < deadline, "the code refund never completed"
    assert window.get(f"/refunds/{r.json()['refund_key']}").json()["channel"] == "wechat"
    assert _code(window.refund("no-such-payment-key", 100)) == "payment_not_found"


# -- the end-of-shift report -----------------------------------------------------------------------


def test_report_totals_and_reconciliation_against_what_the_kiosk_counted(api: Api, window: Window) -> None:
    window.sign_in()
    patient_id = api.patient()
    cash1 = window.paid_by(patient_id, "cash")
    cash2 = window.paid_by(patient_id, "cash")
    card = window.paid_by(patient_id, "card")
    code = window.paid_by(patient_id, "code", auth_code=api.wechat_code(0))
    refund = window.refund(cash2["key"], 500).json()

    report = window.get(f"/shifts/{window.shift_id}/report").json()
    assert report["totals"]["cash"] == {"count": 2, "amount_cents": cash1["amount_cents"] + cash2["amount_cents"]}
    assert report["totals"]["card"] == {"count": 1, "amount_cents": card["amount_cents"]}
    assert report["totals"]["code"] == {"count": 1, "amount_cents": code["amount_cents"]}
    assert report["refunds"]["by_channel"]["cash"] == {"count": 1, "amount_cents": 500}
    assert report["transaction_count"] == 5
    assert report["cash"]["expected_cents"] == cash1["amount_cents"] + cash2["amount_cents"] - 500
    assert report["reconciliation"] == {"kiosk_reported": False, "mismatches": [], "ok": True}

    def entry(s: dict[str, Any], **over: Any) -> dict[str, Any]:
        return {"key": s["key"], "kind": "settlement", "channel": s["channel"], "amount_cents": s["amount_cents"],
                "status": "SUCCESS"} | over  # fmt: skip

    lost = {"key": "never-sent-0001", "kind": "settlement", "channel": "cash", "amount_cents": 700, "status": "SUCCESS"}
    refused = lost | {"key": "refused-code-01", "channel": "code", "status": "FAILED"}
    ledger = [
        entry(cash1),
        entry(cash2, amount_cents=cash2["amount_cents"] + 1),
        entry(code),
        {"key": refund["refund_key"], "kind": "refund", "channel": "cash", "amount_cents": 500, "status": "refunded"},
        lost,
        refused,
    ]  # the card settlement is missing from the kiosk's count
    counted = report["cash"]["expected_cents"] - 100
    r = window.post(f"/shifts/{window.shift_id}/close", {"ledger": ledger, "cash_counted_cents": counted})
    assert r.status_code == 200, r.text
    closed = r.json()
    assert closed["shift"]["status"] == "closed" and closed["totals"] == report["totals"]
    found = {(m["kind"], m["key"]) for m in closed["reconciliation"]["mismatches"]}
    assert found == {
        ("amount_differs", cash2["key"]),
        ("missing_on_server", "never-sent-0001"),
        ("missing_on_kiosk", card["key"]),
    }
    assert closed["cash"] == {"expected_cents": counted + 100, "counted_cents": counted, "difference_cents": -100}
    assert closed["reconciliation"]["ok"] is False

    # Closed: no more money at this shift, but its report stays readable and closing again changes nothing.
    patient_quote = window.quote(patient_id, [window.bill(patient_id)])
    assert patient_quote.status_code == 409 and _code(patient_quote) == "shift_closed"
    assert window.get(f"/shifts/{window.shift_id}/report").json()["reconciliation"] == closed["reconciliation"]
    again = window.post(f"/shifts/{window.shift_id}/close", {"ledger": [], "cash_counted_cents": 0})
    assert again.json()["cash"]["counted_cents"] == counted
    # The next sign-in opens a new shift with a clean slate.
    new = window.sign_in()
    assert new.status_code == 201 and new.json()["shift_id"] != closed["shift"]["shift_id"]
    clean = window.post(f"/shifts/{window.shift_id}/close", {"ledger": [], "cash_counted_cents": 0}).json()
    assert clean["reconciliation"] == {"kiosk_reported": True, "mismatches": [], "ok": True}
    assert clean["transaction_count"] == 0


# -- provisioning ----------------------------------------------------------------------------------


def test_profiles_from_the_command_line_and_the_demo(
    tmp_path: Path, database_url: str | None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db_path = tmp_path / "server.db"
    cipher = FieldCipher(load_or_create_key(tmp_path / "server.key"))
    db = open_database(database_url or db_path)
    db.init(cipher)
    try:
        with db.connection() as conn:
            create_staff(conn, "zhao", "long-enough-password", "cashier")
            create_staff(conn, "tech", "long-enough-password", "technician")
        where = ["--db", str(db_path)] + (["--database-url", database_url] if database_url else [])

        def run(stdin: str, *args: str) -> int:
            monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
            return cashier_cli.main(["add", *where, *args])

        assert run(f"4455\n{CASHIER_CARD}\n", "--username", "zhao", "--staff-no", "2002", "--card") == 0
        assert "2002" in capsys.readouterr().out
        assert run("4455\n", "--username", "tech", "--staff-no", "2003") == 2
        assert "cannot work a cashier window" in capsys.readouterr().err
        assert run("12\n", "--username", "zhao", "--staff-no", "2004") == 2  # a short PIN
        assert run("4455\n", "--username", "zhao", "--staff-no", "2005", "--card") == 2  # no card number

        with db.connection() as conn:
            row = conn.execute("SELECT pin_hash, card_index, supervisor FROM cashier_staff WHERE staff_no = '2002'")
            pin_hash, card_index, supervisor = row.fetchone()
            assert "4455" not in pin_hash and CASHIER_CARD not in card_index and supervisor == 0
            assert staff_module.check_card(conn, cipher, staff_card_hash(CASHIER_CARD)) is not None
            assert staff_module.check_pin(conn, "2002", "4455", purpose="sign_in") is not None
            assert ensure_demo_cashiers(conn, cipher) == 2 and ensure_demo_cashiers(conn, cipher) == 0
            boss = staff_module.check_pin(conn, "9001", "8642", purpose="approve_refund")
            assert boss is not None and boss.supervisor
    finally:
        db.close()


# -- the kiosk's client ----------------------------------------------------------------------------


def test_the_client_walks_a_shift(api: Api, window: Window) -> None:
    patient_id = api.patient()
    bill = window.bill(patient_id)
    reg = api.register(patient_id)
    with ServerClient(api.base, kiosk_id="KIOSK-T1", credential=api.credential) as client:
        with pytest.raises(BusinessError) as refused:
            client.cashier_sign_in(staff_no=CASHIER[0], pin="0000")
        assert refused.value.code == "sign_in_failed" and refused.value.tr_key == "server.rejected.sign_in_failed"
        shift = client.cashier_sign_in(card_hash=staff_card_hash(CASHIER_CARD), window_label="1号窗口")
        assert shift.staff_no == CASHIER[0] and not shift.resumed and shift.token and shift.token not in repr(shift)
        token = shift.token

        items = client.cashier_lookup(token, visit_card_no=visit_card_no(patient_id))
        assert isinstance(items, CashierItems) and items.patient.patient_id == patient_id
        assert [b.bill_id for b in items.bills] == [bill["bill_id"]]
        assert [r.registration_id for r in items.registrations] == [reg["registration_id"]]

        key = str(uuid.uuid4())
        quote = client.cashier_quote(token, key, shift.shift_id, patient_id, [(bill["bill_id"], bill["version"])],
                                     [reg["registration_id"]], "resident")  # fmt: skip
        assert quote.self_pay_cents == quote.bills_self_pay_cents + reg["amount_cents"]
        assert client.cashier_settlement(key) is None
        paid = client.cashier_settle(
            token, key=key, shift_id=shift.shift_id, patient_id=patient_id, bill_ids=[bill["bill_id"]],
            registration_ids=[reg["registration_id"]], channel="cash", amount_cents=quote.self_pay_cents,
            tendered_cents=quote.self_pay_cents + 50,
        )  # fmt: skip
        assert paid.status == "SUCCESS" and paid.is_final and paid.change_cents == 50 and not paid.replayed
        assert client.cashier_settlement(key) == paid

        refund = client.cashier_refund(
            token, refund_key=str(uuid.uuid4()), shift_id=shift.shift_id, payment_key=key, amount_cents=100,
            reason="多收", supervisor_staff_no=SUPERVISOR[0], supervisor_pin=SUPERVISOR[1],
        )  # fmt: skip
        assert refund.status == "refunded" and refund.is_final
        assert client.cashier_refund_status(refund.refund_key) == refund

        report = client.cashier_report(token, shift.shift_id)
        assert report.totals["cash"] == ChannelTotal(1, quote.self_pay_cents) and report.refund_cents == 100
        entry = {"key": key, "kind": "settlement", "channel": "cash", "amount_cents": paid.amount_cents}
        ledger = [
            entry | {"status": "SUCCESS"},
            {"key": refund.refund_key, "kind": "refund", "channel": "cash", "amount_cents": 100, "status": "refunded"},
        ]
        closed = client.cashier_close_shift(token, shift.shift_id, ledger, report.cash_expected_cents)
        assert closed.ok and closed.kiosk_reported and closed.mismatches == () and closed.shift.status == "closed"
        assert closed.raw["shift"]["shift_id"] == shift.shift_id
        with pytest.raises(BusinessError) as after:
            client.cashier_lookup(token, patient_id=patient_id)
        assert after.value.code == "shift_closed"
