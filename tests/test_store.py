import sqlite3
import threading
from pathlib import Path

import pytest

from offline_cache import journal as J
from offline_cache.ids import uuid7
from offline_cache.journal import Journal
from offline_cache.store import Store


@pytest.fixture
def store(tmp_path: Path):
    s = Store(tmp_path / "kiosk.db")
    yield s
    s.close()


def test_wal_and_durable_settings(store: Store) -> None:
    conn = sqlite3.connect(store.path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()
    assert set(store.read().table_names()) >= {"transactions", "events", "print_jobs", "_migrations"}


def test_writes_are_serialised_and_atomic(store: Store) -> None:
    def add(db, i: int) -> None:
        db["events"].insert({"txn_id": None, "at": "t", "state": f"s{i}", "detail": ""})

    threads = [threading.Thread(target=lambda i=i: store.write(lambda db: add(db, i))) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert store.read().execute("SELECT count(*) FROM events").fetchone()[0] == 20

    def half_then_fail(db) -> None:
        add(db, 99)
        raise ValueError("boom")

    with pytest.raises(ValueError):
        store.write(half_then_fail)
    # the failed write left nothing behind
    assert store.read().execute("SELECT count(*) FROM events").fetchone()[0] == 20


def test_journal_records_every_step(store: Store) -> None:
    j = Journal(store)
    j.create("t1", "registration", patient_masked="张*三 110***********1234", patient_ref="P1")
    j.update("t1", J.REGISTERING, registration_key="k1", details={"department": "内科"})
    j.update("t1", J.PAYING, payment_key="p1", amount_cents=5000)
    row = j.get("t1")
    assert row is not None and row["state"] == J.PAYING and row["payment_key"] == "p1"
    assert [e["state"] for e in j.events("t1")] == [J.CREATED, J.REGISTERING, J.PAYING]


def test_survives_reopen(tmp_path: Path) -> None:
    s = Store(tmp_path / "k.db")
    Journal(s).create("t1", "registration", patient_masked="x", patient_ref="p")
    Journal(s).update("t1", J.PAYING, payment_key="key-1")
    s.close()
    s2 = Store(tmp_path / "k.db")
    try:
        row = Journal(s2).get("t1")
        assert row is not None and row["payment_key"] == "key-1"
    finally:
        s2.close()


def test_payment_keys_are_unique(store: Store) -> None:
    j = Journal(store)
    j.create("a", "registration", patient_masked="x", patient_ref="p")
    j.create("b", "registration", patient_masked="x", patient_ref="p")
    j.update("a", J.PAYING, payment_key="same")
    with pytest.raises(sqlite3.IntegrityError):
        j.update("b", J.PAYING, payment_key="same")


def test_print_job_never_prints_twice(store: Store) -> None:
    j = Journal(store)
    j.create("t", "registration", patient_masked="x", patient_ref="p")
    first = j.claim_print("t:receipt", "t", {"lines": []})
    assert first.allowed
    # a crash here (status "printing") must not lead to an automatic second copy
    assert not j.claim_print("t:receipt", "t", {}).allowed
    j.finish_print("t:receipt", ok=False, error_code="paper_out")
    assert j.claim_print("t:receipt", "t", {}).allowed  # a failed job may be retried
    j.finish_print("t:receipt", ok=True)
    again = j.claim_print("t:receipt", "t", {})
    assert not again.allowed and again.already_printed
    job = j.print_job("t:receipt")
    assert job is not None and job["attempts"] == 2


def test_uuid7_is_time_ordered_and_versioned() -> None:
    ids = [uuid7() for _ in range(50)]
    assert all(i[14] == "7" for i in ids)
    assert [i[:13] for i in ids] == sorted(i[:13] for i in ids)
    assert len(set(ids)) == 50


def test_close_is_idempotent_and_refuses_new_work(tmp_path: Path) -> None:
    s = Store(tmp_path / "k.db")
    s.close()
    s.close()
    with pytest.raises(RuntimeError):
        s.submit(lambda db: None)
