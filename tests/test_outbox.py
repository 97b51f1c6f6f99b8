"""The kiosk's outbox, catalog cache and recent-patient cache, without a server."""

from __future__ import annotations

import json
import logging
import secrets
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from offline_cache import journal as J
from offline_cache.catalog import CatalogCache
from offline_cache.ids import uuid7
from offline_cache.offline_ops import CREATE_REGISTRATION, FILE_PATIENT, IdentityClaim, OfflineRegistrar
from offline_cache.outbox import CONFIRMED, PENDING, REJECTED, Caps, Outbox, QueueFull, Result
from offline_cache.patients import RecentPatients
from offline_cache.store import Store
from sync.fieldcrypto import FieldCipher

ID_NUMBER = "11010519491231002X"
CLAIM = IdentityClaim("resident", ID_NUMBER, "张三丰", "F", "1949-12-31")


@pytest.fixture
def store(tmp_path: Path):
    s = Store(tmp_path / "kiosk.db")
    yield s
    s.close()


@pytest.fixture
def cipher() -> FieldCipher:
    return FieldCipher(secrets.token_bytes(32), domain="kiosk")


def make(store: Store, cipher: FieldCipher, caps: Caps | None = None) -> tuple[Outbox, OfflineRegistrar]:
    outbox = Outbox(store, cipher, caps)
    return outbox, OfflineRegistrar(store, outbox, RecentPatients(store, cipher), "K1")


def queue(registrar: OfflineRegistrar, *, claim: IdentityClaim | None = None, slot_id: int = 7):
    return registrar.queue_registration(
        uuid7(),
        registration_key=uuid7(),
        slot_id=slot_id,
        patient_masked="张*丰 110105********002X",
        patient_id=None if claim else 42,
        claim=claim,
    )


def test_filing_and_registration_are_queued_in_order_with_their_dependency(store: Store, cipher: FieldCipher) -> None:
    outbox, registrar = make(store, cipher)
    q = queue(registrar, claim=CLAIM)
    ops = outbox.pending_batch(10)
    assert [op.kind for op in ops] == [FILE_PATIENT, CREATE_REGISTRATION]
    assert ops[1].depends_on == ops[0].key == q.filing_key
    assert ops[1].key == q.registration_key
    assert ops[1].body == {"patient_id": None, "patient_op": q.filing_key, "slot_id": 7, "provisional_no": "P-K1-0001"}
    txn = J.Journal(store).get(q.txn_id)
    assert txn is not None and txn["state"] == J.QUEUED and txn["provisional_no"] == "P-K1-0001"
    assert queue(registrar).provisional_no == "P-K1-0002"


def test_identity_data_is_sealed_at_rest(store: Store, cipher: FieldCipher) -> None:
    _, registrar = make(store, cipher)
    queue(registrar, claim=CLAIM)
    store.close()
    raw = (
        Path(store.path).read_bytes() + Path(f"{store.path}-wal").read_bytes()
        if Path(f"{store.path}-wal").exists()
        else Path(store.path).read_bytes()
    )
    assert ID_NUMBER.encode() not in raw
    assert "张三丰".encode() not in raw


def test_a_sealed_body_cannot_be_moved_to_another_row(store: Store, cipher: FieldCipher) -> None:
    outbox, registrar = make(store, cipher)
    queue(registrar, claim=CLAIM)
    a, b = outbox.pending_batch(2)
    store.write(
        lambda db: db.execute(
            "UPDATE outbox SET body = (SELECT body FROM outbox WHERE key = ?) WHERE key = ?", [a.key, b.key]
        )
    )
    with pytest.raises(ValueError):
        outbox.pending_batch(2)


def test_results_confirm_the_registration_and_remember_the_new_patient(store: Store, cipher: FieldCipher) -> None:
    outbox, registrar = make(store, cipher)
    q = queue(registrar, claim=CLAIM)
    assert q.filing_key is not None
    view = {"registration_id": 9, "reg_no": "R20261122000009", "amount_cents": 5000}
    done = outbox.record_results(
        [
            Result(q.filing_key, 201, {"patient_id": 77, "is_new": True}, None),
            Result(q.registration_key, 201, view, None),
        ]
    )
    assert done == 2
    txn = J.Journal(store).get(q.txn_id)
    assert txn is not None
    assert (txn["state"], txn["reg_no"], txn["registration_id"], txn["patient_ref"]) == (
        J.REGISTERED,
        "R20261122000009",
        "9",  # the journal keeps ids as text
        "77",
    )
    known = RecentPatients(store, cipher).find("resident", ID_NUMBER)
    assert known is not None and known.patient_id == 77 and known.id_masked == "110105********002X"
    assert outbox.stats().pending == 0
    # a duplicate answer for a final row changes nothing
    assert outbox.record_results([Result(q.registration_key, 409, None, "slot_full")]) == 0
    assert outbox.get(q.registration_key)["state"] == CONFIRMED  # type: ignore[index]


def test_a_rejection_is_final_and_425_stays_pending(store: Store, cipher: FieldCipher) -> None:
    outbox, registrar = make(store, cipher)
    q1, q2 = queue(registrar), queue(registrar)
    outbox.record_results(
        [
            Result(q1.registration_key, 409, None, "slot_full"),
            Result(q2.registration_key, 425, None, "dependency_unknown"),
        ]
    )
    assert outbox.get(q1.registration_key)["state"] == REJECTED  # type: ignore[index]
    row = outbox.get(q2.registration_key)
    assert row is not None and row["state"] == PENDING and row["attempts"] == 1
    txn = J.Journal(store).get(q1.txn_id)
    assert txn is not None and (txn["state"], txn["error_code"]) == (J.REJECTED, "slot_full")
    assert outbox.stats().rejected == 1


def test_queue_cap_warns_at_50_and_80_percent_and_refuses_at_90(
    store: Store, cipher: FieldCipher, caplog: pytest.LogCaptureFixture
) -> None:
    # each queued registration of a known patient is one outbox row
    outbox, registrar = make(store, cipher, Caps(max_rows=20, max_bytes=10**9))
    caplog.set_level(logging.WARNING, logger="offline_cache.outbox")
    for _ in range(17):  # the 18th row would reach 90 %
        queue(registrar)
    warnings = [r.getMessage() for r in caplog.records if "warning level" in r.getMessage()]
    assert len(warnings) == 2 and "50 %" in warnings[0] and "80 %" in warnings[1]
    assert outbox.stats().level == "warn80"
    before = store.read().execute("SELECT count(*) FROM transactions").fetchone()[0]
    with pytest.raises(QueueFull):
        queue(registrar)
    # refused whole: neither the business row nor an outbox row was written
    assert store.read().execute("SELECT count(*) FROM transactions").fetchone()[0] == before
    assert outbox.stats().pending == 17
    # draining makes room again
    outbox.record_results(
        [
            Result(op.key, 201, {"registration_id": 1, "reg_no": "R", "amount_cents": 1}, None)
            for op in outbox.pending_batch(5)
        ]
    )
    queue(registrar)


def test_byte_cap_counts_too(store: Store, cipher: FieldCipher) -> None:
    outbox, registrar = make(store, cipher, Caps(max_rows=10**6, max_bytes=2000))
    with pytest.raises(QueueFull):
        for _ in range(50):
            queue(registrar, claim=CLAIM)
    assert outbox.stats().pending_bytes <= 0.9 * 2000


def test_purge_removes_only_old_final_rows_and_zeroes_them(store: Store, cipher: FieldCipher) -> None:
    outbox, registrar = make(store, cipher)
    old, recent, pending = queue(registrar), queue(registrar), queue(registrar)
    outbox.record_results(
        [
            Result(k.registration_key, 201, {"registration_id": 1, "reg_no": "R", "amount_cents": 1}, None)
            for k in (old, recent)
        ]
    )
    store.write(
        lambda db: db.execute(
            "UPDATE outbox SET done_at = '2000-01-01T00:00:00+00:00' WHERE key = ?", [old.registration_key]
        )
    )
    assert outbox.purge(timedelta(days=30)) == 1
    keys = {r["key"] for r in store.read().query("SELECT key FROM outbox")}
    assert keys == {recent.registration_key, pending.registration_key}
    assert store.read().execute("PRAGMA secure_delete").fetchone()[0] == 1


def test_checkpoint_truncates_the_wal(store: Store, cipher: FieldCipher) -> None:
    _, registrar = make(store, cipher)
    for _ in range(20):
        queue(registrar)
    assert Path(f"{store.path}-wal").stat().st_size > 0
    busy, _, _ = store.checkpoint().result(timeout=10)
    assert busy == 0
    assert Path(f"{store.path}-wal").stat().st_size == 0
    assert store.integrity_check() == "ok"


SNAPSHOT = {
    "version": "v1",
    "date": "2026-11-22",
    "departments": [{"code": "IM", "name_zh": "内科", "name_en": "Internal medicine"}],
    "doctors": [
        {
            "code": "D1",
            "department_code": "IM",
            "name_zh": "王医生",
            "name_en": "Dr Wang",
            "title_zh": "主任医师",
            "title_en": "Chief physician",
            "fee_cents": 5000,
        }
    ],
    "slots": [
        {
            "slot_id": 7,
            "doctor_code": "D1",
            "date": "2026-11-22",
            "start": "08:00",
            "end": "08:30",
            "capacity": 2,
            "booked": 1,
        },
        {
            "slot_id": 8,
            "doctor_code": "D1",
            "date": "2026-11-22",
            "start": "08:30",
            "end": "09:00",
            "capacity": 2,
            "booked": 0,
        },
    ],
}


def test_catalog_cache_counts_this_kiosks_queued_bookings(store: Store, cipher: FieldCipher) -> None:
    catalog = CatalogCache(store)
    assert catalog.etag("2026-11-22") is None
    catalog.save(SNAPSHOT, '"v1"')
    assert catalog.etag("2026-11-22") == '"v1"' and catalog.etag("2026-11-23") is None
    assert [d.code for d in catalog.departments()] == ["IM"]
    assert catalog.doctors("IM", "2026-11-22")[0].slots_left == 3
    _, registrar = make(store, cipher)
    queue(registrar, slot_id=7)
    assert [s.left for s in catalog.slots("D1", "2026-11-22")] == [0, 2]
    assert catalog.doctors("IM", "2026-11-22")[0].slots_left == 2
    # a live answer freshens the cached count
    from sync.client import Slot

    catalog.observe_slots([Slot(8, "2026-11-22", "08:30", "09:00", 1)])
    assert [s.left for s in catalog.slots("D1", "2026-11-22")] == [0, 1]
    # a new pull replaces the catalog whole
    catalog.save({**SNAPSHOT, "slots": SNAPSHOT["slots"][1:]}, '"v2"')
    assert [s.slot_id for s in catalog.slots("D1", "2026-11-22")] == [8]


def test_recent_patients_store_no_id_number(store: Store, cipher: FieldCipher) -> None:
    patients = RecentPatients(store, cipher)
    patients.remember("resident", ID_NUMBER, 5, "张*丰", "110105********002X")
    assert patients.find("resident", ID_NUMBER.lower()) is not None
    assert patients.find("resident", "110105194912310037") is None
    rows = json.dumps(
        [list(r) for r in sqlite3.connect(store.path).execute("SELECT * FROM recent_patients")], default=repr
    )
    assert ID_NUMBER not in rows and "张*丰" not in rows
