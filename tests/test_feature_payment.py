"""The shared pay-by-code step (kiosk_app/features/payment.py): the pure state and the worker loop."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from kiosk_app.features.payment import CodePay, PayOutcome, PayPhase, pay_until_final
from offline_cache import journal as J
from offline_cache.journal import Journal
from offline_cache.store import Store
from sync.client import BusinessError, ServerTimeout, ServerUnavailable

WECHAT = "134567890123456780"


@dataclass(frozen=True)
class Answer:
    status: str
    error_code: str | None = None


@dataclass
class Timings:
    poll_interval_s: float = 0.0
    deadline_s: float = 5.0


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[Journal]:
    store = Store(tmp_path / "kiosk.db")
    j = Journal(store)
    j.create("T1", "bill_payment", patient_masked="张*", patient_ref="1")
    yield j
    store.close()


# ---- flow side


def test_a_code_is_taken_once_and_only_a_payment_code() -> None:
    pay = CodePay()
    assert pay.scan("HVC:80000000042") is None and pay.message == "pay.not_payment_code"
    assert pay.scan(f" {WECHAT} ") == WECHAT and pay.phase is PayPhase.PAYING
    assert pay.scan(WECHAT) is None  # in flight: a second scan is ignored
    pay.progress(Answer("PENDING", "USERPAYING"))
    assert pay.message == "pay.userpaying"


@pytest.mark.parametrize(
    ("outcome", "phase", "message"),
    [
        (PayOutcome("SUCCESS"), PayPhase.PAID, "pay.success"),
        (PayOutcome("FAILED", "NOTENOUGH"), PayPhase.FAILED, "pay.failed.NOTENOUGH"),
        (PayOutcome("REVERSED"), PayPhase.FAILED, "pay.failed"),
        (PayOutcome("REFUSED", "bill_lock_expired"), PayPhase.FAILED, "server.rejected.bill_lock_expired"),
        (PayOutcome("NOT_SENT", "unavailable"), PayPhase.NOT_SENT, "pay.offline_cashier"),
        (PayOutcome("UNKNOWN"), PayPhase.UNKNOWN, "pay.unknown"),
    ],
)
def test_each_outcome_has_its_phase_and_message(outcome: PayOutcome, phase: PayPhase, message: str) -> None:
    pay = CodePay()
    pay.scan(WECHAT)
    pay.finish(outcome)
    assert (pay.phase, pay.message) == (phase, message)
    pay.retry()
    assert pay.phase is (PayPhase.WAITING if phase is PayPhase.FAILED else phase)


# ---- worker side, scripted answers


def _states(journal: Journal) -> list[str]:
    return [e["state"] for e in journal.events("T1")]


def test_pending_then_paid_is_journalled_and_reported(journal: Journal) -> None:
    answers = iter([Answer("PENDING", "USERPAYING"), Answer("SUCCESS")])
    seen: list[Answer] = []
    out = pay_until_final(
        journal=journal,
        txn_id="T1",
        key="K-0000001",
        amount_cents=1500,
        send=lambda: next(answers),
        query=lambda: next(answers),
        timings=Timings(),
        progress=seen.append,
    )
    assert out.status == "SUCCESS" and out.charged and seen == [Answer("PENDING", "USERPAYING")]
    row = journal.get("T1")
    assert row is not None and (row["state"], row["payment_key"], row["payment_status"]) == (
        J.PAID,
        "K-0000001",
        "SUCCESS",
    )
    assert _states(journal) == [J.CREATED, J.PAYING, J.PAYMENT_PENDING, J.PAID]


def test_a_lost_request_is_asked_about_and_resent_with_the_same_key(journal: Journal) -> None:
    sent: list[str] = []

    def send() -> Answer:
        sent.append("send")
        if len(sent) == 1:
            raise ServerTimeout("timeout")
        return Answer("SUCCESS")

    out = pay_until_final(
        journal=journal,
        txn_id="T1",
        key="K-0000002",
        amount_cents=100,
        send=send,
        query=lambda: None,  # the server never saw it
        timings=Timings(),
    )
    assert out.status == "SUCCESS" and sent == ["send", "send"]


def test_unreachable_server_charges_nothing(journal: Journal) -> None:
    told: list[str] = []

    def send() -> Answer:
        raise ServerUnavailable("unavailable")

    out = pay_until_final(
        journal=journal,
        txn_id="T1",
        key="K-0000003",
        amount_cents=100,
        send=send,
        query=lambda: None,
        timings=Timings(),
        unreachable=lambda e: told.append(e.code),
    )
    assert out.status == "NOT_SENT" and told == ["unavailable"]
    row = journal.get("T1")
    assert row is not None and (row["state"], row["payment_status"]) == (J.PAYMENT_FAILED, "NOT_SENT")


def test_a_refusal_is_definite(journal: Journal) -> None:
    def send() -> Answer:
        raise BusinessError("already_paid", "", 409)

    out = pay_until_final(
        journal=journal,
        txn_id="T1",
        key="K-0000004",
        amount_cents=100,
        send=send,
        query=lambda: None,
        timings=Timings(),
    )
    assert (out.status, out.error_code) == ("REFUSED", "already_paid")


def test_the_kiosk_deadline_leaves_it_unknown(journal: Journal) -> None:
    out = pay_until_final(
        journal=journal,
        txn_id="T1",
        key="K-0000005",
        amount_cents=100,
        send=lambda: Answer("PENDING"),
        query=lambda: Answer("PENDING"),
        timings=Timings(poll_interval_s=0.01, deadline_s=0.05),
    )
    assert out.status == "UNKNOWN"
    row = journal.get("T1")
    assert row is not None and row["state"] == J.PAYMENT_UNKNOWN and row["state"] in J.UNRESOLVED
