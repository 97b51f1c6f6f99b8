"""First-time filing (建档) on both stores: /patients/lookup, /patients/file, the offline op, schema v10."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from kiosk_app.logsetup import PrivacyFilter
from server import schema
from server.db import open_database
from server.dbapi import IntegrityError, write_tx
from server.patient_store import read_phone
from server.visit_card import luhn_digit, patient_id_of, visit_card_no
from sync.client import BusinessError, FiledPatient, PatientLookup, ServerClient

if TYPE_CHECKING:
    from conftest_server import Api

LOOKUP, FILE, SYNC = "/api/v1/patients/lookup", "/api/v1/patients/file", "/api/v1/sync/ops"
PHONE = "13912345678"


def _filing(api: Api, **overrides: Any) -> dict[str, Any]:
    body = api.new_patient_payload() | {
        "idempotency_key": str(uuid.uuid4()),
        "phone": PHONE,
        "verification": "face",
        "face_consent": True,
    }
    return body | overrides


def _file(api: Api, body: dict[str, Any], status: int = 201) -> dict[str, Any]:
    r = api.post(FILE, body)
    assert r.status_code == status, r.text
    return dict(r.json())


def _lookup(api: Api, body: dict[str, Any]) -> dict[str, Any]:
    r = api.post(LOOKUP, {"id_type": body["id_type"], "id_number": body["id_number"]})
    assert r.status_code == 200, r.text
    return dict(r.json())


def _error_code(r: Any) -> str:
    return str(r.json()["error"]["code"])


def _count(api: Api, query: str, params: tuple[Any, ...] = ()) -> int:
    return int(api.sql(query, params)[0][0])


# -- the visit-card number ------------------------------------------------------------------------


def test_visit_card_numbers_carry_a_luhn_digit_that_catches_a_typo() -> None:
    numbers = {visit_card_no(i) for i in range(1, 2001)}
    assert len(numbers) == 2000
    assert luhn_digit("7992739871") == "3"  # the textbook example
    card = visit_card_no(1234)
    assert patient_id_of(card) == 1234 and card.startswith("80")
    for i, ch in enumerate(card):
        typo = card[:i] + str((int(ch) + 1) % 10) + card[i + 1 :]
        assert patient_id_of(typo) is None
    assert patient_id_of("") is None and patient_id_of("８" + card[1:]) is None


# -- lookup and filing ----------------------------------------------------------------------------


def test_lookup_before_and_after_identify_and_filing(api: Api) -> None:
    body = _filing(api)
    assert _lookup(api, body) == {"found": False, "patient_id": None, "visit_card_no": None, "filed": False}
    assert _count(api, "SELECT count(*) FROM patients") == 0  # the lookup created nothing

    identified = api.post(
        "/api/v1/patients/identify",
        api.new_patient_payload() | {k: body[k] for k in ("id_type", "id_number", "name", "sex", "birth")},
    ).json()
    before = _lookup(api, body)
    assert before["found"] and not before["filed"] and before["patient_id"] == identified["patient_id"]
    assert patient_id_of(before["visit_card_no"]) == identified["patient_id"]

    filed = _file(api, body)
    assert filed == {"patient_id": identified["patient_id"], "visit_card_no": before["visit_card_no"], "is_new": False}
    assert _lookup(api, body) == {
        "found": True,
        "patient_id": filed["patient_id"],
        "visit_card_no": filed["visit_card_no"],
        "filed": True,
    }


def test_filing_creates_once_and_replays_the_same_key(api: Api) -> None:
    body = _filing(api)
    first = _file(api, body)
    assert first["is_new"] is True and patient_id_of(first["visit_card_no"]) == first["patient_id"]
    r = api.post(FILE, body)
    assert r.status_code == 200 and r.json() == first and r.headers["Idempotent-Replayed"] == "true"
    # Blanks around the phone and a lower-case id are the same request, normalised.
    same = body | {"phone": f" {PHONE} ", "id_number": body["id_number"].lower()}
    assert _file(api, same, 200) == first
    assert (
        _count(api, "SELECT count(*) FROM patient_filings WHERE idempotency_key = ?", (body["idempotency_key"],)) == 1
    )
    assert _count(api, "SELECT count(*) FROM audit_log WHERE action = 'patient.filed'") == 1
    # A later filing of the same person under a new key completes the same record.
    again = _file(api, body | {"idempotency_key": str(uuid.uuid4()), "verification": "staff", "face_consent": False})
    assert again == first | {"is_new": False}
    row = api.sql("SELECT verification, face_consent, filed_at FROM patients WHERE id = ?", (first["patient_id"],))[0]
    assert row[0] == "staff" and row[1] == 0 and row[2] is not None


@pytest.mark.parametrize(
    "change",
    [
        {"phone": "13900000000"},
        {"verification": "staff"},
        {"face_consent": False, "verification": "card"},
        {"name": "别人"},
    ],
)
def test_same_key_with_other_content_is_422(api: Api, change: dict[str, Any]) -> None:
    body = _filing(api)
    first = _file(api, body)
    r = api.post(FILE, body | change)
    assert r.status_code == 422 and _error_code(r) == "idempotency_key_reused"
    assert _file(api, body, 200) == first  # the key kept its first meaning


def test_the_same_key_from_another_kiosk_is_422(api: Api) -> None:
    body = _filing(api)
    _file(api, body)
    with api.kiosk("KIOSK-T2") as other:
        r = other.post(api.base + FILE, json=body, timeout=10)
    assert r.status_code == 422 and _error_code(r) == "idempotency_key_reused"


@pytest.mark.parametrize(
    "phone", ["12345678901", "1391234567", "139123456789", "１３９１２３４５６７８", "+8613912345678", "139-1234-5678"]
)
def test_bad_phone_is_422_and_files_nothing(api: Api, phone: str) -> None:
    r = api.post(FILE, _filing(api, phone=phone))
    assert r.status_code == 422 and _error_code(r) == "invalid_phone"
    assert phone not in r.text
    assert _count(api, "SELECT count(*) FROM patients") == 0


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"verification": "fingerprint"}, "invalid_request"),
        ({"verification": "face", "face_consent": False}, "face_consent_required"),
        ({"id_number": "110105196001010011"}, "invalid_id_number"),
        ({"id_type": "passport"}, "unsupported_id_type"),
        ({"sex": "F"}, "id_mismatch"),
        ({"idempotency_key": "short"}, "invalid_request"),
    ],
)
def test_invalid_filings_are_422(api: Api, change: dict[str, Any], code: str) -> None:
    r = api.post(FILE, _filing(api, **change))
    assert r.status_code == 422 and _error_code(r) == code, r.text
    assert _count(api, "SELECT count(*) FROM patient_filings") == 0


def test_lookup_rejects_a_bad_number(api: Api) -> None:
    r = api.post(LOOKUP, {"id_type": "resident", "id_number": "110105196001010011"})
    assert r.status_code == 422 and _error_code(r) == "invalid_id_number"


def test_filing_needs_a_signed_kiosk(api: Api) -> None:
    import requests

    for path in (FILE, LOOKUP):
        r = requests.post(api.base + path, json=_filing(api), timeout=10)
        assert r.status_code == 401, path


def test_visit_cards_are_unique_and_valid(api: Api) -> None:
    cards = [_file(api, _filing(api))["visit_card_no"] for _ in range(5)]
    assert len(set(cards)) == 5 and all(patient_id_of(c) is not None for c in cards)
    stored = [row[0] for row in api.sql("SELECT visit_card_no FROM patients ORDER BY id")]
    assert stored == cards
    with pytest.raises(IntegrityError):
        api.sql("UPDATE patients SET visit_card_no = ? WHERE visit_card_no = ?", (cards[0], cards[1]), write=True)


def test_phone_is_encrypted_at_rest_and_never_audited(api: Api) -> None:
    body = _filing(api)
    filed = _file(api, body)
    secrets = (PHONE, body["name"], body["id_number"])
    for table in ("patients", "patient_filings", "audit_log"):
        dump = json.dumps(
            [
                [v.hex() if isinstance(v, bytes | memoryview) else v for v in row]
                for row in api.sql(f"SELECT * FROM {table}")
            ],
            ensure_ascii=False,
            default=str,
        )
        assert not any(s in dump for s in secrets), table
    audit = api.sql("SELECT actor, detail FROM audit_log WHERE action = 'patient.filed'")
    assert audit[0][0] == "kiosk:KIOSK-T1" and "138" not in audit[0][1] and "****" not in audit[0][1]
    assert api.srv.app is not None
    with api.srv.app.state.db.connection() as conn:
        assert read_phone(conn, api.srv.app.state.cipher, filed["patient_id"]) == PHONE
    if api.backend == "sqlite":
        raw = b"".join(p.read_bytes() for p in api.srv.settings.db_path.parent.glob("server.db*"))
        assert len(raw) > 10_000  # the database file itself (and its WAL) was read
        for secret in secrets:
            assert secret.encode() not in raw and secret.encode("utf-16-le") not in raw


# -- the offline op -------------------------------------------------------------------------------


def _file_op(body: dict[str, Any], key: str | None = None) -> dict[str, Any]:
    fields = {k: v for k, v in body.items() if k != "idempotency_key"}
    return {
        "key": key or str(uuid.uuid4()),
        "kind": "patient.file",
        "depends_on": None,
        "claimed_at": "2030-01-01T08:00:00+08:00",
        "body": fields,
    }


def _sync(api: Api, *ops: dict[str, Any]) -> list[dict[str, Any]]:
    r = api.post(SYNC, {"ops": list(ops)})
    assert r.status_code == 200, r.text
    return list(r.json()["results"])


def test_an_offline_filing_with_a_phone_is_applied_exactly_once(api: Api) -> None:
    op = _file_op(_filing(api))
    (first,) = _sync(api, op)
    assert first["status"] == 201 and first["body"]["is_new"] is True
    patient_id = first["body"]["patient_id"]
    assert patient_id_of(first["body"]["visit_card_no"]) == patient_id
    (again,) = _sync(api, op)
    assert again == first | {"replayed": True}
    assert _count(api, "SELECT count(*) FROM patient_filings WHERE idempotency_key = ?", (op["key"],)) == 1
    assert _count(api, "SELECT count(*) FROM audit_log WHERE action = 'patient.filed'") == 1
    assert _lookup(api, op["body"])["filed"] is True
    assert api.srv.app is not None
    with api.srv.app.state.db.connection() as conn:
        assert read_phone(conn, api.srv.app.state.cipher, patient_id) == PHONE


def test_an_online_filing_retried_offline_with_its_key_is_replayed(api: Api) -> None:
    body = _filing(api)
    online = _file(api, body)  # the kiosk never saw this answer, then queued the same key
    (queued,) = _sync(api, _file_op(body, key=body["idempotency_key"]))
    assert queued["status"] == 200 and queued["body"] == online and queued["replayed"] is False
    assert _count(api, "SELECT count(*) FROM patient_filings") == 1


def test_an_op_queued_before_issue_6_still_files_without_a_phone(api: Api) -> None:
    (result,) = _sync(api, _file_op(api.new_patient_payload()))
    assert result["status"] == 201 and patient_id_of(result["body"]["visit_card_no"]) == result["body"]["patient_id"]
    assert _count(api, "SELECT count(*) FROM patient_filings") == 0
    assert _count(api, "SELECT count(*) FROM patients WHERE filed_at IS NULL") == 1


@pytest.mark.parametrize(
    ("change", "code"),
    [({"verification": None}, "invalid_request"), ({"phone": "139"}, "invalid_phone")],
)
def test_a_bad_offline_filing_is_a_stored_rejection(api: Api, change: dict[str, Any], code: str) -> None:
    body = {k: v for k, v in (_filing(api) | change).items() if v is not None}
    (result,) = _sync(api, _file_op(body))
    assert result["status"] == 422 and result["error"]["code"] == code
    assert _count(api, "SELECT count(*) FROM patients") == 0


# -- the client -----------------------------------------------------------------------------------


@pytest.fixture
def client(api: Api) -> Iterator[ServerClient]:
    with ServerClient(api.base, kiosk_id="KIOSK-T1", credential=api.credential) as c:
        yield c


def test_client_lookup_and_file(client: ServerClient, api: Api, caplog: pytest.LogCaptureFixture) -> None:
    p = api.new_patient_payload()
    assert client.lookup_patient(p["id_type"], p["id_number"]) == PatientLookup(False, None, None, False)
    key = str(uuid.uuid4())
    args = (key, p["id_type"], p["id_number"], p["name"], p["sex"], p["birth"], PHONE, "face", True)
    with caplog.at_level(logging.DEBUG):
        filed = client.file_patient(*args)
        assert client.file_patient(*args) == filed  # safe to repeat with the same key
    assert isinstance(filed, FiledPatient) and filed.is_new
    assert client.lookup_patient(p["id_type"], p["id_number"]) == PatientLookup(
        True, filed.patient_id, filed.visit_card_no, True
    )
    assert PHONE not in caplog.text and "139****5678" in caplog.text
    assert p["id_number"] not in caplog.text and p["name"] not in caplog.text
    with pytest.raises(BusinessError) as err:
        client.file_patient(str(uuid.uuid4()), *args[1:6], "1391234567", "face", True)
    assert err.value.code == "invalid_phone" and err.value.tr_key == "server.rejected.invalid_phone"


def test_log_filter_masks_phone_numbers() -> None:
    rec = logging.LogRecord(
        "x", logging.INFO, __file__, 1, "phone %s id %s card %s", (PHONE, "11010119800101001X", "800000000425"), None
    )
    PrivacyFilter().filter(rec)
    msg = rec.getMessage()
    assert PHONE not in msg and "139****5678" in msg and "11010119800101001X" not in msg
    assert "800000000425" in msg  # a visit-card number is not a phone


# -- schema v10 -----------------------------------------------------------------------------------


def test_v10_upgrades_a_v8_store_and_gives_existing_patients_a_card(
    backend: str, database_url: str | None, tmp_path: Path
) -> None:
    db = open_database(database_url or tmp_path / "old.db")
    with db.connection() as conn, write_tx(conn):
        schema.apply(conn, schema.BASELINE)
        schema.write_version(conn, schema.BASELINE_VERSION)
        schema.upgrade(conn, tuple(m for m in schema.MIGRATIONS if m.version <= 8))
        conn.execute(
            "INSERT INTO patients(id_type, id_index, id_number_enc, name_enc, id_masked, sex, birth, created_at)"
            " VALUES ('resident', 'idx', ?, ?, '110***0010', 'M', '1980-01-01', '2020-01-01T00:00:00Z')",
            (b"x", b"y"),
        )
    db.init()  # no cipher: the fake row is not readable, and need not be here
    with db.connection() as conn:
        row = conn.execute("SELECT id, visit_card_no, filed_at FROM patients").fetchone()
        assert row[1] == visit_card_no(int(row[0])) and row[2] is None
        assert schema.read_version(conn) == schema.SCHEMA_VERSION
    db.close()


def test_a_reserved_lower_migration_still_runs_after_a_higher_one(
    backend: str, database_url: str | None, tmp_path: Path
) -> None:
    db = open_database(database_url or tmp_path / "gap.db")
    db.init()
    # A number below the newest that no migration uses (refunds took the reserved 9 in issue #7).
    gap = min(set(range(schema.BASELINE_VERSION + 1, schema.SCHEMA_VERSION)) - {m.version for m in schema.MIGRATIONS})
    late = schema.Migration(gap, "test: landed after a higher one", ("CREATE TABLE late_nine (x INTEGER)",))
    migrations = tuple(sorted((*schema.MIGRATIONS, late), key=lambda m: m.version))
    with db.connection() as conn, write_tx(conn):
        assert [m.version for m in schema.pending(conn, migrations)] == [gap]
        assert schema.upgrade(conn, migrations) == [gap]
        assert schema.upgrade(conn, migrations) == []
        conn.execute("INSERT INTO late_nine(x) VALUES (1)")
    db.close()


# -- the kiosk's side of an offline filing ---------------------------------------------------------


def test_a_filing_queued_on_the_kiosk_reaches_the_server_once_and_learns_its_card(api: Api, tmp_path: Path) -> None:
    import secrets as random_bytes

    from offline_cache import journal as J
    from offline_cache.offline_ops import FILED, IdentityClaim, OfflineRegistrar
    from offline_cache.outbox import Outbox, Result
    from offline_cache.patients import RecentPatients
    from offline_cache.store import Store
    from sync.fieldcrypto import FieldCipher

    p = api.new_patient_payload()
    claim = IdentityClaim(p["id_type"], p["id_number"], p["name"], p["sex"], p["birth"], PHONE, "staff", False)
    assert PHONE not in repr(claim) and p["id_number"] not in repr(claim)
    store = Store(tmp_path / "kiosk.db")
    try:
        cipher = FieldCipher(random_bytes.token_bytes(32), domain="kiosk")
        outbox = Outbox(store, cipher)
        registrar = OfflineRegistrar(store, outbox, RecentPatients(store, cipher), "K1")
        with pytest.raises(ValueError):
            registrar.queue_filing(
                "t0", claim=IdentityClaim(p["id_type"], p["id_number"], p["name"], "M", "x"), patient_masked=""
            )
        queued = registrar.queue_filing("t1", claim=claim, patient_masked="测* 110***********0010")
        assert queued.provisional_no == "P-K1-0001"
        (op,) = outbox.pending_batch(10)
        assert op.body["phone"] == PHONE and PHONE.encode() not in (tmp_path / "kiosk.db").read_bytes()
        for _ in range(2):  # the first answer is lost: the uploader sends the op again
            (answer,) = _sync(api, op.wire())
        outbox.record_results([Result(op.key, answer["status"], answer["body"], None, answer["replayed"])])
        txn = J.Journal(store).get("t1")
        assert txn is not None and txn["state"] == FILED and txn["patient_ref"] == str(answer["body"]["patient_id"])
        assert json.loads(txn["details"]) == {"visit_card_no": answer["body"]["visit_card_no"]}
        assert _count(api, "SELECT count(*) FROM patient_filings") == 1
        assert _lookup(api, p)["filed"] is True
    finally:
        store.close()
