"""Offline outbox sync: a kiosk's queued operations, applied exactly once over at-least-once delivery.

While the server is unreachable a kiosk files patients and hands out "pending confirmation" slips,
queueing each action as an *op* with its own key. When it is back online it sends the queue, in
order, as many times as it takes (a lost answer means the batch is sent again). This module makes
every re-send harmless:

- Each op's result is stored under its key (table ``sync_ops``, server/sync_tables.py) together
  with a hash of what was asked, in the same transaction as the effect; a re-send of the same op is
  answered from the store (``replayed``), the same key with a different op is refused.
- A ``registration.create`` op books through :func:`server.registrations.create_in_tx` with the
  op key as the idempotency key, so a registration first tried online (answer lost) and then queued
  with the same key is replayed by that table, never booked twice.
- Final answers are stored; answers that may change are not: ``dependency_unknown`` (425, the op
  it depends on has not arrived yet) and server faults. A business rejection (slot full, expired,
  bad ID number...) is final and, because the patient holds a slip, files a staff worklist item.

The server's clock decides everything; the kiosk's ``claimed_at`` is only kept for staff. The
patient's name, ID number and phone (a ``patient.file`` body) are never stored here: only the hash.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Self

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field, StringConstraints, ValidationError, model_validator

from server import audit
from server.auth.kiosks import KIOSK_ID_PATTERN, require_kiosk
from server.crypto import FieldCipher
from server.dashboard.tables import add_work_item
from server.dbapi import Conn, utc_now, write_tx
from server.deps import CipherDep, DbDep
from server.errors import ApiError
from server.filing import FilingDetails, Verification, file_in_tx
from server.patient_store import filing_state
from server.patients import IdentifyRequest, find_or_create_patient, validate_identity
from server.registrations import IDEMPOTENCY_KEY_PATTERN, RegistrationRequest, create_in_tx
from server.schemas import SQLITE_MAX_INT, ErrorDetail, RowId, Text, error_responses

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/api/v1", tags=["sync"])

MAX_OPS = 200
OpKind = Literal["patient.file", "registration.create"]
OpKey = Annotated[str, StringConstraints(pattern=IDEMPOTENCY_KEY_PATTERN)]
KioskIdDep = Annotated[str, Depends(require_kiosk)]  # the same dependency as the router's: run once

_KIOSK_ID = re.compile(KIOSK_ID_PATTERN)

# Statuses that may change on a re-send, so they are answered but never stored.
_NOT_FINAL = frozenset({425})


# -- the envelope (validated as a whole: a bad envelope is the usual 422 for the request) -----------


class SyncOp(BaseModel):
    key: OpKey
    kind: OpKind
    depends_on: OpKey | None = Field(default=None, description="key of an earlier op of the same kiosk")
    claimed_at: Text = Field(
        max_length=64, description="the kiosk's own ISO timestamp: kept for staff, never used for decisions"
    )
    # Validated per op (not here), so one malformed op is a stored 422 instead of a batch refused forever.
    body: dict[str, Any] = Field(
        description="patient.file: the fields of POST /patients/identify, optionally with phone, verification "
        "and face_consent as in POST /patients/file; registration.create: "
        "{patient_id | patient_op (exactly one), slot_id, provisional_no}"
    )


class SyncRequest(BaseModel):
    ops: list[SyncOp] = Field(min_length=1, max_length=MAX_OPS, description="applied in this order")


class OpResult(BaseModel):
    key: str
    status: int = Field(description="201/200 applied; 4xx rejected (425: retry later); as the op's own endpoint")
    body: dict[str, Any] | None
    error: ErrorDetail | None
    replayed: bool = Field(description="the stored answer to an earlier delivery of this op; no new effect")


class SyncResponse(BaseModel):
    results: list[OpResult]
    server_time: str = Field(description="UTC, milliseconds; the server's clock is the one that counts")


# -- op bodies (validated per op) --------------------------------------------------------------------


class RegistrationOpBody(BaseModel):
    patient_id: RowId | None = None
    patient_op: OpKey | None = Field(default=None, description="key of a patient.file op of the same kiosk")
    slot_id: RowId
    provisional_no: Text = Field(min_length=1, max_length=64, description="printed on the kiosk's slip")

    @model_validator(mode="after")
    def _one_patient(self) -> Self:
        if (self.patient_id is None) == (self.patient_op is None):
            raise ValueError("give exactly one of patient_id and patient_op")
        return self


class FilingOpBody(IdentifyRequest):
    """A ``patient.file`` body. Kiosks before issue #6 queued the identity alone; those ops are
    still applied (identify only). With a phone it is a full filing, as ``POST /patients/file``."""

    phone: Text | None = Field(default=None, max_length=32)
    verification: Verification | None = None
    face_consent: bool = False

    @model_validator(mode="after")
    def _both_or_neither(self) -> Self:
        if (self.phone is None) != (self.verification is None):
            raise ValueError("give phone and verification together, or neither")
        return self

    def details(self) -> FilingDetails | None:
        if self.phone is None or self.verification is None:
            return None
        return FilingDetails(phone=self.phone, verification=self.verification, face_consent=self.face_consent)


OpBody = FilingOpBody | RegistrationOpBody


@dataclass(frozen=True)
class Outcome:
    status: int
    body: dict[str, Any] | None = None
    error: dict[str, str] | None = None

    @classmethod
    def rejected(cls, exc: ApiError) -> Outcome:
        return cls(exc.status, None, {"code": exc.code, "message": exc.message})

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


@dataclass(frozen=True)
class Batch:
    """What every op of one request shares."""

    conn: Conn
    cipher: FieldCipher
    kiosk_id: str
    received_at: str


def op_hash(op: SyncOp) -> str:
    """What a re-send must match: kind, dependency and body, not ``claimed_at`` (a kiosk may re-stamp it)."""
    canonical = json.dumps(
        {"kind": op.kind, "depends_on": op.depends_on, "body": op.body},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    # surrogatepass: JSON may carry lone surrogates; the op is still hashed (and then refused per op).
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


def _stored_outcome(row: Any) -> Outcome:
    """The answer kept in ``sync_ops`` for an op (its ``status`` and ``response_json`` columns)."""
    answer = json.loads(row["response_json"])
    return Outcome(int(row["status"]), answer["body"], answer["error"])


def _result(key: str, outcome: Outcome, *, replayed: bool) -> dict[str, Any]:
    return {"key": key, "status": outcome.status, "body": outcome.body, "error": outcome.error, "replayed": replayed}


def _validation_message(exc: ValidationError) -> str:
    # Like server/errors.py: where and what, never the submitted value (it may be a name or an ID number).
    parts = [f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in exc.errors()[:5]]
    return "; ".join(parts)


def _parse_body(op: SyncOp) -> OpBody:
    model: type[OpBody] = FilingOpBody if op.kind == "patient.file" else RegistrationOpBody
    try:
        body = model.model_validate(op.body)
    except ValidationError as exc:
        raise ApiError(422, "invalid_request", _validation_message(exc)) from None
    patient_op = body.patient_op if isinstance(body, RegistrationOpBody) else None
    if op.key in (op.depends_on, patient_op):  # would wait for itself forever
        raise ApiError(422, "invalid_request", "an op cannot depend on itself")
    return body


# -- dependencies ------------------------------------------------------------------------------------


def _dependency(batch: Batch, key: str) -> tuple[str, Outcome]:
    """(kind, stored outcome) of an op this kiosk sent earlier; 425 if it has not arrived, 409 if rejected."""
    row = batch.conn.execute(
        "SELECT kind, status, response_json FROM sync_ops WHERE key = ? AND kiosk_id = ?", (key, batch.kiosk_id)
    ).fetchone()
    if row is None:
        # Not stored, so a later batch (after the op it names) is evaluated afresh.
        raise ApiError(425, "dependency_unknown", f"op {key} has not reached the server yet")
    outcome = _stored_outcome(row)
    if not outcome.ok:
        raise ApiError(409, "dependency_rejected", f"op {key} was rejected")
    return str(row["kind"]), outcome


def _check_dependencies(batch: Batch, op: SyncOp, body: OpBody) -> int | None:
    """Raise if a dependency is missing or rejected; the patient_id a ``patient_op`` stands for."""
    if op.depends_on is not None:
        _dependency(batch, op.depends_on)
    if not isinstance(body, RegistrationOpBody) or body.patient_op is None:
        return None
    kind, outcome = _dependency(batch, body.patient_op)
    if kind != "patient.file" or outcome.body is None:
        raise ApiError(422, "invalid_request", f"patient_op {body.patient_op} is not a patient.file op")
    return int(outcome.body["patient_id"])


# -- effects -----------------------------------------------------------------------------------------


@contextmanager
def _savepoint(conn: Conn) -> Iterator[None]:
    """Undo a rejected op's writes, keep the batch's others. Other exceptions fail the whole batch."""
    conn.execute("SAVEPOINT sync_op")
    try:
        yield
    except ApiError:
        conn.execute("ROLLBACK TO SAVEPOINT sync_op")
        conn.execute("RELEASE SAVEPOINT sync_op")
        raise
    conn.execute("RELEASE SAVEPOINT sync_op")


def _apply(batch: Batch, op: SyncOp, body: OpBody, patient_from_op: int | None) -> Outcome:
    with _savepoint(batch.conn):
        if isinstance(body, FilingOpBody):
            return _file(batch, op, body)
        booked_for = body.patient_id if body.patient_id is not None else patient_from_op
        assert booked_for is not None  # RegistrationOpBody guarantees one of the two
        req = RegistrationRequest(idempotency_key=op.key, patient_id=booked_for, slot_id=body.slot_id)
        status, view = create_in_tx(batch.conn, req)  # 200 when an online attempt already booked it
        return Outcome(status, view)


def _file(batch: Batch, op: SyncOp, body: FilingOpBody) -> Outcome:
    details = body.details()
    if details is not None:
        # The op key is the filing's idempotency key: an online attempt whose answer was lost and
        # then queued under the same key is replayed (200), not filed twice.
        status, answer = file_in_tx(
            batch.conn, batch.cipher, kiosk_id=batch.kiosk_id, key=op.key, identity=body, details=details
        )
        return Outcome(status, answer)
    identity = validate_identity(body)
    patient_id, is_new = find_or_create_patient(batch.conn, batch.cipher, body.id_type, identity)
    card_no = filing_state(batch.conn, patient_id).visit_card_no
    return Outcome(201, {"patient_id": patient_id, "is_new": is_new, "visit_card_no": card_no})


def _evaluate(batch: Batch, op: SyncOp) -> Outcome:
    try:
        body = _parse_body(op)
        patient_from_op = _check_dependencies(batch, op, body)
        return _apply(batch, op, body, patient_from_op)
    except ApiError as exc:
        if exc.status >= 500:  # not the op's fault: fail the request, the kiosk retries the batch
            raise
        return Outcome.rejected(exc)


# -- storing a final outcome -------------------------------------------------------------------------


def _short_text(value: object) -> str | None:
    """A client string fit for a staff-facing detail: bounded and storable (no lone surrogates)."""
    if not isinstance(value, str):
        return None
    return value[:64].encode("utf-8", "replace").decode("utf-8")


def _row_id(value: object) -> int | None:
    return value if type(value) is int and 0 < value <= SQLITE_MAX_INT else None


def _file_for_staff(batch: Batch, op: SyncOp, code: str) -> None:
    """The patient left with a "pending confirmation" slip: a person must follow up. Never skipped."""
    common = {"kiosk_id": batch.kiosk_id, "code": code, "claimed_at": op.claimed_at}
    if op.kind == "patient.file":  # no name or ID number: the detail is shown to staff as it is
        add_work_item(batch.conn, "manual_review", "offline_sync", op.key, common)
        return
    # From the raw body: the op may have been rejected precisely because its body is malformed.
    detail = common | {
        "provisional_no": _short_text(op.body.get("provisional_no")),
        "slot_id": _row_id(op.body.get("slot_id")),
        "patient_id": _row_id(op.body.get("patient_id")),
    }
    add_work_item(batch.conn, "rebook", "offline_sync", op.key, detail)


def _audit_detail(op: SyncOp, outcome: Outcome) -> dict[str, Any]:
    detail: dict[str, Any] = {"key": op.key, "kind": op.kind, "status": outcome.status}
    if outcome.error is not None:
        detail["code"] = outcome.error["code"]
    for name in ("patient_id", "registration_id"):  # internal ids only, never names or ID numbers
        if outcome.body is not None and name in outcome.body:
            detail[name] = outcome.body[name]
    return detail


def _store(batch: Batch, op: SyncOp, digest: str, outcome: Outcome) -> None:
    batch.conn.execute(
        "INSERT INTO sync_ops(key, kiosk_id, kind, body_sha256, status, response_json, claimed_at, received_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            op.key,
            batch.kiosk_id,
            op.kind,
            digest,
            outcome.status,
            json.dumps({"body": outcome.body, "error": outcome.error}, ensure_ascii=False),
            op.claimed_at,
            batch.received_at,
        ),
    )
    action = "sync.op_applied" if outcome.ok else "sync.op_rejected"
    audit.append(batch.conn, f"kiosk:{batch.kiosk_id}", action, _audit_detail(op, outcome))
    if not outcome.ok:
        assert outcome.error is not None
        _file_for_staff(batch, op, outcome.error["code"])


# -- one op, one batch -------------------------------------------------------------------------------


def process_op(batch: Batch, op: SyncOp) -> dict[str, Any]:
    """The result for one op, applying and storing it when it is new; the caller owns the transaction."""
    digest = op_hash(op)
    stored = batch.conn.execute(
        "SELECT kiosk_id, body_sha256, status, response_json FROM sync_ops WHERE key = ?", (op.key,)
    ).fetchone()
    if stored is not None:
        if stored["kiosk_id"] != batch.kiosk_id or stored["body_sha256"] != digest:
            # Not stored: the key keeps its first meaning, and another kiosk learns nothing about it.
            refused = ApiError(422, "idempotency_key_reused", "this op key was used for another op")
            return _result(op.key, Outcome.rejected(refused), replayed=False)
        return _result(op.key, _stored_outcome(stored), replayed=True)
    outcome = _evaluate(batch, op)
    if outcome.status not in _NOT_FINAL:
        _store(batch, op, digest, outcome)
    return _result(op.key, outcome, replayed=False)


def apply_ops(conn: Conn, cipher: FieldCipher, kiosk_id: str, ops: list[SyncOp]) -> list[dict[str, Any]]:
    """Every op in order, in the caller's write transaction (one per request)."""
    batch = Batch(conn, cipher, kiosk_id, utc_now())
    return [process_op(batch, op) for op in ops]


def _summary(results: Sequence[Mapping[str, Any]]) -> str:
    counts = Counter(
        "replayed" if r["replayed"] else "applied" if 200 <= r["status"] < 300 else str(r["status"]) for r in results
    )
    return ", ".join(f"{name} {n}" for name, n in sorted(counts.items()))


@router.post("/sync/ops", response_model=SyncResponse, responses=error_responses(400, 422))
def sync_ops(req: SyncRequest, db: DbDep, cipher: CipherDep, kiosk_id: KioskIdDep) -> dict[str, Any]:
    """Apply a kiosk's queued ops in order; every op gets a result, re-sending a batch is harmless.

    Per op: ``replayed`` true for an op already stored (same key and content, same kiosk); 422
    ``idempotency_key_reused`` (not stored) for a key used differently; 425 ``dependency_unknown``
    (not stored: send it again after the op it depends on); 409 ``dependency_rejected``; otherwise
    the status and answer of the op's own endpoint, rejections included, stored for good.
    """
    # With signatures off (development only) the id is an unchecked header; it still has to be one.
    if not _KIOSK_ID.match(kiosk_id):
        raise ApiError(401, "unknown_kiosk", "send the kiosk's id (X-Kiosk-Id)")
    with db.connection() as conn, write_tx(conn):
        results = apply_ops(conn, cipher, kiosk_id, req.ops)
    logger.info("sync from kiosk %s: %d ops (%s)", kiosk_id, len(results), _summary(results))
    return {"results": results, "server_time": utc_now()}
