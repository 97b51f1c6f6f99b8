"""Reconciliation end to end: real payments, each provider's sandbox bill (crafted), the stored report.

The sandboxes produce their bills in the official formats from the orders they really saw; the
test then makes the provider "remember" things differently: a charge we never recorded, another
amount, an order missing from the bill. Each must be reported as its own kind of finding.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import pytest

from server.payments.clock import china_today

if TYPE_CHECKING:
    from conftest_server import Api

ALIPAY_PREFIX = "28" + "76543210987654"


def _paid(api: Api, code: str) -> tuple[str, int]:
    """A registration paid with ``code``; returns (out_trade_no, amount_cents)."""
    reg = api.register()
    key = str(uuid.uuid4())
    r = api.post("/api/v1/payments", {**api.pay_body(reg, 0, key), "auth_code": code})
    assert r.status_code == 201, r.text
    assert api.wait_final(key)["status"] == "SUCCESS"
    otn = api.sql("SELECT out_trade_no FROM payments WHERE idempotency_key = ?", (key,))[0][0]
    return str(otn), int(reg["amount_cents"])


def _run(api: Api) -> dict[str, dict[str, Any]]:
    r = api.post("/api/v1/admin/reconciliation/runs", {"bill_date": china_today().isoformat()})
    assert r.status_code == 200, r.text
    return {row["provider"]: row for row in r.json()}


def test_each_kind_of_mismatch_is_found_and_filed(api: Api) -> None:
    assert api.srv.app is not None
    wechat, alipay = api.srv.app.state.sandbox, api.srv.app.state.alipay_sandbox
    changed, changed_cents = _paid(api, api.wechat_code(0))
    missing, _ = _paid(api, api.wechat_code(1))
    fine, _ = _paid(api, api.wechat_code(2))
    ali_ok, _ = _paid(api, f"{ALIPAY_PREFIX}0")

    wechat.add_bill_order("KGHOST000000001", 1234)  # money taken for an order we never recorded
    wechat.alter_order(changed, total_fee=changed_cents + 100)  # the provider saw another amount
    wechat.alter_order(missing, in_bill=False)  # we think it is paid; the bill lacks it

    results = _run(api)
    assert results["wechat"]["status"] == "findings" and results["wechat"]["findings"] == 3
    assert results["alipay"] == {**results["alipay"], "status": "ok", "findings": 0}

    stored = api.get("/api/v1/admin/reconciliation/runs", params={"bill_date": china_today().isoformat()}).json()
    report = next(r for r in stored if r["provider"] == "wechat")["report"]
    findings = {f["out_trade_no"]: f for p in report["providers"] for f in p["findings"]}
    assert findings["KGHOST000000001"]["kind"] == "paid_but_unknown"
    assert findings["KGHOST000000001"]["theirs"] == "12.34"
    assert findings[changed]["kind"] == "amount_mismatch"
    assert findings[missing]["kind"] == "known_but_unpaid"
    assert fine not in findings and ali_ok not in str(report)

    items = api.sql("SELECT reference, status FROM worklist_items WHERE source = 'reconciliation' ORDER BY id")
    assert sorted(r[0] for r in items) == sorted(findings) and {r[1] for r in items} == {"open"}
    # Re-running the day replaces its report and does not file the same items twice.
    _run(api)
    assert len(api.sql("SELECT id FROM reconciliation_runs")) == 2
    assert len(api.sql("SELECT id FROM worklist_items WHERE source = 'reconciliation'")) == 3
    assert alipay.trade_count() == 1


def test_a_truncated_bill_is_reported_as_failed_not_as_reconciled(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    assert api.srv.app is not None
    _paid(api, api.wechat_code(0))
    wechat = api.srv.app.state.sandbox
    full = wechat.bill_text
    monkeypatch.setattr(wechat, "bill_text", lambda *a, **k: "\r\n".join((full(*a, **k) or "").split("\r\n")[:-3]))
    results = _run(api)
    assert results["wechat"]["status"] == "failed" and "summary" in results["wechat"]["error"].lower()


def test_a_day_without_trades_reconciles_as_empty(api: Api) -> None:
    results = _run(api)
    assert {p: (r["status"], r["findings"]) for p, r in results.items()} == {"wechat": ("ok", 0), "alipay": ("ok", 0)}


def test_reconciliation_is_admin_only(api: Api) -> None:
    r = api.http.post(api.base + "/api/v1/admin/reconciliation/runs", json={"bill_date": "2026-01-01"}, timeout=10)
    assert r.status_code == 401
