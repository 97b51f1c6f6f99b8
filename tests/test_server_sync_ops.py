"""The kiosk outbox's server side: POST /api/v1/sync/ops (exactly-once ops) and GET /api/v1/catalog."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any

import pytest
import requests

from server import sync_ops
from server.errors import ApiError

if TYPE_CHECKING:
    from conftest_server import Api

SYNC = "/api/v1/sync/ops"
CLAIMED = "2030-01-01T08:00:00.000+08:00"  # a kiosk clock far off: it must not matter


def _key() -> str:
    return str(uuid.uuid4())


def _op(kind: str, body: dict[str, Any], *, key: str | None = None, depends_on: str | None = None) -> dict[str, Any]:
    return {"key": key or _key(), "kind": kind, "depends_on": depends_on, "claimed_at": CLAIMED, "body": body}


def _file(api: Api, **kw: Any) -> dict[str, Any]:
    return _op("patient.file", api.new_patient_payload(), **kw)


def _book(
    slot_id: int,
    *,
    patient_id: int | None = None,
    patient_op: str | None = None,
    provisional_no: str = "P-0001",
    **kw: Any,
) -> dict[str, Any]:
    body = {"patient_id": patient_id, "patient_op": patient_op, "slot_id": slot_id, "provisional_no": provisional_no}
    return _op("registration.create", body, depends_on=kw.pop("depends_on", patient_op), **kw)


def _sync(api: Api, *ops: dict[str, Any], session: requests.Session | None = None) -> list[dict[str, Any]]:
    r = (session or api.http).post(api.base + SYNC, json={"ops": list(ops)}, timeout=10)
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"results", "server_time"}
    assert [res["key"] for res in body["results"]] == [op["key"] for op in ops]
    return list(body["results"])


def _stored(api: Api, key: str) -> dict[str, Any] | None:
    rows = api.sql("SELECT kiosk_id, kind, status, response_json, claimed_at FROM sync_ops WHERE key = ?", (key,))
    return None if not rows else {k: rows[0][k] for k in ("kiosk_id", "kind", "status", "response_json", "claimed_at")}


def _work_items(api: Api, reference: str) -> list[dict[str, Any]]:
    rows = api.sql("SELECT kind, source, detail_json FROM worklist_items WHERE reference = ?", (reference,))
    return [{"kind": r[0], "source": r[1], "detail": json.loads(r[2])} for r in rows]


def _registrations(api: Api, key: str) -> int:
    return int(api.sql("SELECT count(*) FROM registrations WHERE idempotency_key = ?", (key,))[0][0])


def _booked(api: Api, slot_id: int) -> int:
    return int(api.sql("SELECT booked FROM slots WHERE id = ?", (slot_id,))[0][0])


# -- applying and replaying ---------------------------------------------------------------------------


def test_filing_and_booking_in_one_batch_apply_once_and_replay(api: Api) -> None:
    slot = api.free_slot()
    patient = _file(api)
    booking = _book(slot["slot_id"], patient_op=patient["key"], provisional_no="P-0042")
    before = _booked(api, slot["slot_id"])

    r = api.http.post(api.base + SYNC, json={"ops": [patient, booking]}, timeout=10)
    assert r.status_code == 200
    # The kiosk measures its clock offset from the Date header; the body's server_time has milliseconds.
    assert abs((parsedate_to_datetime(r.headers["Date"]) - datetime.now(UTC)).total_seconds()) < 5
    assert datetime.fromisoformat(r.json()["server_time"]).utcoffset() is not None
    first = r.json()["results"]
    assert first[0] == {
        "key": patient["key"],
        "status": 201,
        # visit_card_no since issue #6, so the kiosk learns the number of a filing made offline
        "body": {
            "patient_id": first[0]["body"]["patient_id"],
            "is_new": True,
            "visit_card_no": first[0]["body"]["visit_card_no"],
        },
        "error": None,
        "replayed": False,
    }
    assert first[1]["status"] == 201 and first[1]["error"] is None and first[1]["replayed"] is False
    registration = first[1]["body"]
    assert registration["status"] == "unpaid" and registration["reg_no"].startswith("R")

    again = _sync(api, patient, booking)
    assert again == [res | {"replayed": True} for res in first]
    assert _registrations(api, booking["key"]) == 1
    assert _booked(api, slot["slot_id"]) == before + 1
    patient_id = api.sql("SELECT patient_id FROM registrations WHERE idempotency_key = ?", (booking["key"],))[0][0]
    assert patient_id == first[0]["body"]["patient_id"]

    stored = _stored(api, patient["key"])
    assert stored is not None and stored["kiosk_id"] == "KIOSK-T1" and stored["claimed_at"] == CLAIMED
    # Neither the name nor the ID number is kept by the sync: not in its table, the audit log or the worklist.
    secrets = (patient["body"]["name"], patient["body"]["id_number"])
    for table in ("sync_ops", "audit_log", "worklist_items"):
        dump = json.dumps([list(row) for row in api.sql(f"SELECT * FROM {table}")], ensure_ascii=False)
        assert not any(secret in dump for secret in secrets), table
    actions = [row[0] for row in api.sql("SELECT action FROM audit_log WHERE action LIKE 'sync.%'")]
    assert actions == ["sync.op_applied", "sync.op_applied"]  # the replay added nothing


def test_booking_by_patient_op_across_two_batches(api: Api) -> None:
    patient = _file(api)
    [filed] = _sync(api, patient)
    slot = api.free_slot()
    [booked] = _sync(api, _book(slot["slot_id"], patient_op=patient["key"]))
    assert booked["status"] == 201
    reg = api.sql("SELECT patient_id FROM registrations WHERE id = ?", (booked["body"]["registration_id"],))
    assert reg[0][0] == filed["body"]["patient_id"]


def test_filing_a_known_patient_is_not_new(api: Api) -> None:
    payload = api.new_patient_payload()
    known = api.post("/api/v1/patients/identify", payload).json()
    [filed] = _sync(api, _op("patient.file", payload))
    assert filed["status"] == 201
    assert filed["body"] == {"patient_id": known["patient_id"], "is_new": False} | {
        "visit_card_no": filed["body"]["visit_card_no"]
    }


def test_a_re_stamped_claimed_at_still_replays(api: Api) -> None:
    op = _file(api)
    [first] = _sync(api, op)
    [again] = _sync(api, op | {"claimed_at": "2031-02-03T04:05:06Z"})
    assert again == first | {"replayed": True}


# -- keys -----------------------------------------------------------------------------------------------


def test_a_key_reused_for_another_op_is_422_and_not_stored(api: Api) -> None:
    slot, other = api.free_slot(), api.free_slot()
    op = _book(slot["slot_id"], patient_id=api.patient())
    other_booked = _booked(api, other["slot_id"])
    [first] = _sync(api, op)
    assert first["status"] == 201
    changed = op | {"body": op["body"] | {"slot_id": other["slot_id"]}}
    [refused] = _sync(api, changed)
    assert refused["status"] == 422 and refused["error"]["code"] == "idempotency_key_reused"
    assert refused["body"] is None and refused["replayed"] is False
    assert _booked(api, other["slot_id"]) == other_booked
    # The original is untouched and still replays.
    stored = _stored(api, op["key"])
    assert stored is not None and stored["status"] == 201
    [again] = _sync(api, op)
    assert again == first | {"replayed": True}
    assert _registrations(api, op["key"]) == 1


def test_another_kiosk_cannot_use_or_depend_on_a_key(api: Api) -> None:
    op = _file(api)
    [first] = _sync(api, op)
    with api.kiosk("KIOSK-T2") as other:
        [refused] = _sync(api, op, session=other)
        slot = api.free_slot()
        [waiting] = _sync(api, _book(slot["slot_id"], patient_op=op["key"]), session=other)
    assert refused["status"] == 422 and refused["error"]["code"] == "idempotency_key_reused"
    # T1's op does not exist for T2: a dependency on it is unknown, not a way to borrow T1's patient.
    assert waiting["status"] == 425 and waiting["error"]["code"] == "dependency_unknown"
    stored = _stored(api, op["key"])
    assert stored is not None and stored["kiosk_id"] == "KIOSK-T1"
    assert api.sql("SELECT count(*) FROM sync_ops WHERE kiosk_id = 'KIOSK-T2'")[0][0] == 0
    assert _sync(api, op) == [first | {"replayed": True}]


def test_the_kiosk_in_the_body_is_not_the_one_that_counts(api: Api) -> None:
    # The signature check refuses a body naming another kiosk; the signer is the only kiosk id used.
    r = api.post(SYNC, {"ops": [_file(api)], "kiosk_id": "KIOSK-T9"})
    assert r.status_code == 403 and r.json()["error"]["code"] == "kiosk_mismatch"


# -- dependencies -----------------------------------------------------------------------------------------


def test_unknown_dependency_is_425_not_stored_and_applies_later(api: Api) -> None:
    slot = api.free_slot()
    patient = _file(api)
    booking = _book(slot["slot_id"], patient_op=patient["key"])
    follow_up = _file(api, depends_on=booking["key"])  # depends on an op that is itself waiting
    independent = _file(api)

    results = _sync(api, booking, follow_up, independent)
    assert [(r["status"], (r["error"] or {}).get("code")) for r in results] == [
        (425, "dependency_unknown"),
        (425, "dependency_unknown"),
        (201, None),
    ]
    assert _stored(api, booking["key"]) is None and _stored(api, follow_up["key"]) is None
    assert _work_items(api, booking["key"]) == []  # not final: nobody has to act yet

    results = _sync(api, patient, booking, follow_up, independent)
    assert [r["status"] for r in results] == [201, 201, 201, 201]
    assert [r["replayed"] for r in results] == [False, False, False, True]
    assert _registrations(api, booking["key"]) == 1


def test_a_rejected_dependency_is_409_stored_with_work_for_staff(api: Api) -> None:
    slot = api.free_slot()
    bad = _op("patient.file", api.new_patient_payload() | {"id_number": "110105199001010011"})  # wrong check digit
    booking = _book(slot["slot_id"], patient_op=bad["key"], provisional_no="P-0077")
    first = _sync(api, bad, booking)
    assert (first[0]["status"], first[0]["error"]["code"]) == (422, "invalid_id_number")
    assert (first[1]["status"], first[1]["error"]["code"]) == (409, "dependency_rejected")
    stored = _stored(api, booking["key"])
    assert stored is not None and stored["status"] == 409

    [review] = _work_items(api, bad["key"])
    assert review["kind"] == "manual_review" and review["source"] == "offline_sync"
    assert review["detail"] == {"kiosk_id": "KIOSK-T1", "code": "invalid_id_number", "claimed_at": CLAIMED}
    [rebook] = _work_items(api, booking["key"])
    assert rebook["kind"] == "rebook"
    assert rebook["detail"]["provisional_no"] == "P-0077" and rebook["detail"]["slot_id"] == slot["slot_id"]
    assert rebook["detail"]["code"] == "dependency_rejected"

    assert _sync(api, bad, booking) == [r | {"replayed": True} for r in first]
    assert len(_work_items(api, booking["key"])) == 1 and _registrations(api, booking["key"]) == 0


# -- business rejections ----------------------------------------------------------------------------------


def test_a_full_slot_is_409_stored_with_one_rebook_item(api: Api) -> None:
    slot = api.free_slot()
    for _ in range(slot["left"]):
        api.register(slot_id=slot["slot_id"])
    booking = _book(slot["slot_id"], patient_id=api.patient(), provisional_no="P-0100")
    [first] = _sync(api, booking)
    assert first["status"] == 409 and first["error"]["code"] == "slot_full" and first["body"] is None
    stored = _stored(api, booking["key"])
    assert stored is not None and stored["status"] == 409
    [item] = _work_items(api, booking["key"])
    assert item["kind"] == "rebook" and item["source"] == "offline_sync"
    assert item["detail"] | {"patient_id": None} == {
        "kiosk_id": "KIOSK-T1",
        "provisional_no": "P-0100",
        "slot_id": slot["slot_id"],
        "code": "slot_full",
        "claimed_at": CLAIMED,
        "patient_id": None,
    }

    # Final: a re-send replays the rejection even though the slot may have a place again by now.
    api.sql("UPDATE slots SET booked = booked - 1 WHERE id = ?", (slot["slot_id"],), write=True)
    [again] = _sync(api, booking)
    assert again == first | {"replayed": True}
    assert len(_work_items(api, booking["key"])) == 1 and _registrations(api, booking["key"]) == 0


def test_unknown_patient_and_slot_are_stored_rejections(api: Api) -> None:
    no_patient = _book(api.free_slot()["slot_id"], patient_id=987654321)
    no_slot = _book(987654321, patient_id=api.patient())
    results = _sync(api, no_patient, no_slot)
    assert [(r["status"], r["error"]["code"]) for r in results] == [(404, "patient_not_found"), (404, "slot_not_found")]
    assert [_work_items(api, op["key"])[0]["kind"] for op in (no_patient, no_slot)] == ["rebook", "rebook"]


def test_an_online_booking_retried_offline_with_its_key_is_replayed(api: Api) -> None:
    """The answer to POST /registrations was lost; the kiosk queued the same booking with the same key."""
    slot, patient_id, key = api.free_slot(), api.patient(), _key()
    online = api.post(
        "/api/v1/registrations", {"idempotency_key": key, "patient_id": patient_id, "slot_id": slot["slot_id"]}
    )
    assert online.status_code == 201
    booked = _booked(api, slot["slot_id"])

    [offline] = _sync(api, _book(slot["slot_id"], patient_id=patient_id, key=key))
    assert offline["status"] == 200 and offline["body"] == online.json() and offline["error"] is None
    assert _registrations(api, key) == 1 and _booked(api, slot["slot_id"]) == booked


def test_a_malformed_body_is_a_stored_422_and_the_rest_applies(api: Api) -> None:
    slot = api.free_slot()
    both = _book(slot["slot_id"], patient_id=1, patient_op="not-a-filed-op", provisional_no="P-0200")
    no_slot = _op("registration.create", {"patient_id": 1, "provisional_no": "P-0201"})
    nameless = _op("patient.file", {k: v for k, v in api.new_patient_payload().items() if k != "name"})
    good = _file(api)
    results = _sync(api, both, no_slot, nameless, good)
    assert [(r["status"], (r["error"] or {}).get("code")) for r in results] == [
        (422, "invalid_request"),
        (422, "invalid_request"),
        (422, "invalid_request"),
        (201, None),
    ]
    assert "name" in results[2]["error"]["message"]
    assert all(_stored(api, op["key"]) is not None for op in (both, no_slot, nameless))
    assert _work_items(api, both["key"])[0]["detail"]["provisional_no"] == "P-0200"
    assert _work_items(api, no_slot["key"])[0]["detail"]["slot_id"] is None
    assert _work_items(api, nameless["key"])[0]["kind"] == "manual_review"
    assert _sync(api, both, no_slot, nameless, good) == [r | {"replayed": True} for r in results]


def test_an_op_depending_on_itself_is_refused_for_good(api: Api) -> None:
    key = _key()
    [result] = _sync(api, _file(api, key=key, depends_on=key))
    assert result["status"] == 422 and result["error"]["code"] == "invalid_request"
    assert _stored(api, key) is not None


def test_a_rejection_leaves_no_partial_writes(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    """An ApiError after the op's writes: its savepoint is rolled back, the batch's other ops stay."""
    real = sync_ops.create_in_tx

    def book_then_refuse(conn: Any, req: Any) -> tuple[int, dict[str, Any]]:
        real(conn, req)
        raise ApiError(409, "refused_late", "refused after writing")

    slot = api.free_slot()
    booked = _booked(api, slot["slot_id"])
    patient = _file(api)
    booking = _book(slot["slot_id"], patient_op=patient["key"])
    monkeypatch.setattr(sync_ops, "create_in_tx", book_then_refuse)
    results = _sync(api, patient, booking)
    assert [r["status"] for r in results] == [201, 409]
    assert _registrations(api, booking["key"]) == 0 and _booked(api, slot["slot_id"]) == booked
    assert api.sql("SELECT count(*) FROM patients WHERE id = ?", (results[0]["body"]["patient_id"],))[0][0] == 1


def test_an_unexpected_error_fails_the_whole_batch(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    def crash(conn: Any, req: Any) -> tuple[int, dict[str, Any]]:
        raise RuntimeError("disk on fire")

    patient = _file(api)
    booking = _book(api.free_slot()["slot_id"], patient_op=patient["key"])
    monkeypatch.setattr(sync_ops, "create_in_tx", crash)
    r = api.post(SYNC, {"ops": [patient, booking]})
    assert r.status_code == 500 and r.json()["error"]["code"] == "internal_error"
    assert _stored(api, patient["key"]) is None  # the whole transaction rolled back: the kiosk retries it all
    monkeypatch.undo()
    # A new connection: uvicorn closes the one that carried the 500, and reusing it races with that close.
    with api.session() as fresh:
        assert [r["status"] for r in _sync(api, patient, booking, session=fresh)] == [201, 201]


# -- the envelope -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "ops",
    [
        [],
        [{"key": "short", "kind": "patient.file", "depends_on": None, "claimed_at": CLAIMED, "body": {}}],
        [{"key": "k" * 20, "kind": "payment.create", "depends_on": None, "claimed_at": CLAIMED, "body": {}}],
        [{"key": "k" * 20, "kind": "patient.file", "depends_on": "bad key!", "claimed_at": CLAIMED, "body": {}}],
        [{"key": "k" * 20, "kind": "patient.file", "depends_on": None, "claimed_at": CLAIMED, "body": []}],
        [{"key": f"key-{i:08d}", "kind": "patient.file", "claimed_at": CLAIMED, "body": {}} for i in range(201)],
    ],
    ids=["empty", "bad-key", "unknown-kind", "bad-depends-on", "body-not-object", "too-many"],
)
def test_a_bad_envelope_is_422_for_the_request(api: Api, ops: list[dict[str, Any]]) -> None:
    r = api.post(SYNC, {"ops": ops})
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_request"
    assert api.sql("SELECT count(*) FROM sync_ops")[0][0] == 0


def test_unsigned_sync_is_refused(api: Api) -> None:
    r = requests.post(api.base + SYNC, json={"ops": [_file(api)]}, timeout=10)
    assert r.status_code == 401


# -- the day's catalog ------------------------------------------------------------------------------------


def test_catalog_etag_304_and_a_new_version_after_a_booking(api: Api) -> None:
    r = api.get("/api/v1/catalog")
    assert r.status_code == 200
    catalog = r.json()
    assert set(catalog) == {"version", "date", "departments", "doctors", "slots"}
    assert r.headers["ETag"] == f'"{catalog["version"]}"'
    assert catalog["date"] == datetime.now().date().isoformat()
    assert {s["date"] for s in catalog["slots"]} == {catalog["date"]}
    assert {d["code"] for d in catalog["doctors"]} == {s["doctor_code"] for s in catalog["slots"]}
    assert {d["department_code"] for d in catalog["doctors"]} <= {d["code"] for d in catalog["departments"]}

    same = api.get("/api/v1/catalog", headers={"If-None-Match": r.headers["ETag"]})
    assert same.status_code == 304 and same.content == b"" and same.headers["ETag"] == r.headers["ETag"]
    weak = api.get("/api/v1/catalog", headers={"If-None-Match": f'"other", W/{r.headers["ETag"]}'})
    assert weak.status_code == 304

    reg = api.register()
    changed = api.get("/api/v1/catalog", headers={"If-None-Match": r.headers["ETag"]})
    assert changed.status_code == 200 and changed.json()["version"] != catalog["version"]
    slot_id = api.sql("SELECT slot_id FROM registrations WHERE id = ?", (reg["registration_id"],))[0][0]
    before = {s["slot_id"]: s["booked"] for s in catalog["slots"]}
    after = {s["slot_id"]: s["booked"] for s in changed.json()["slots"]}
    assert after[slot_id] == before[slot_id] + 1


def test_catalog_of_another_day(api: Api) -> None:
    r = api.get("/api/v1/catalog", params={"date": "2001-01-01"})
    assert r.status_code == 200 and r.json()["doctors"] == [] and r.json()["slots"] == []
    assert len(r.json()["departments"]) >= 8
    assert api.get("/api/v1/catalog", params={"date": "someday"}).status_code == 422
