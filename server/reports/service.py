"""Lab and imaging reports: list, print once with a print-back record, reprint only with a reason.

A print is claimed before the kiosk prints (``claim_print``), under the kiosk's idempotency key,
and the answer carries what to print. The kiosk then reports what the printer did
(``record_outcome``). The rules:

- the first copy needs no reason; once a copy counts, another needs a reason (409
  ``already_printed`` without one) and is recorded as a reprint with it;
- a copy counts from its claim until the kiosk reports that the printer failed (paper out
  mid-report): an attempt whose outcome never arrived may well have printed, so it is never
  assumed lost. A failed copy stops counting, so the patient may print it again without a reason;
- the same key replays the claim (200) and never counts twice; the same key for another report,
  patient, kiosk or reason is 422 ``idempotency_key_reused``.

The request hash covers no personal data (ids, the kiosk and the reason code), so it is a plain
SHA-256, not a keyed one.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Mapping
from typing import Any, Literal

from server import audit
from server.dbapi import Conn, utc_now
from server.errors import ApiError

logger = logging.getLogger(__name__)

ReportKind = Literal["lab", "imaging"]

_SUMMARY = """
    SELECT r.id AS report_id, r.report_no, r.patient_id, r.kind, r.department_code,
           dep.name_zh AS department_name_zh, dep.name_en AS department_name_en,
           r.title_zh, r.title_en, r.ordered_at, r.status, r.ready_at, r.print_count, r.last_printed_at,
           r.content_json
    FROM reports r LEFT JOIN departments dep ON dep.code = r.department_code
"""


def _summary(row: Any) -> dict[str, Any]:
    return {
        "report_id": int(row["report_id"]),
        "report_no": row["report_no"],
        "kind": row["kind"],
        "department_code": row["department_code"],
        "department_name_zh": row["department_name_zh"],
        "department_name_en": row["department_name_en"],
        "title_zh": row["title_zh"],
        "title_en": row["title_en"],
        "ordered_at": row["ordered_at"],
        "status": row["status"],
        "ready_at": row["ready_at"],
        "print_count": int(row["print_count"]),
        "last_printed_at": row["last_printed_at"],
    }


def list_for_patient(conn: Conn, patient_id: int) -> list[dict[str, Any]]:
    """Every report of the patient, newest order first; LookupError for no such patient."""
    if conn.execute("SELECT 1 FROM patients WHERE id = ?", (patient_id,)).fetchone() is None:
        raise LookupError(patient_id)
    rows = conn.execute(_SUMMARY + " WHERE r.patient_id = ? ORDER BY r.ordered_at DESC, r.id DESC", (patient_id,))
    return [_summary(row) for row in rows.fetchall()]


def _request_hash(report_id: int, patient_id: int, kiosk_id: str, reason: str | None) -> str:
    return hashlib.sha256(json.dumps([report_id, patient_id, kiosk_id, reason]).encode()).hexdigest()


_PRINT = """
    SELECT idempotency_key, id, report_id, kiosk_id, copy_kind, copy_no, reprint_reason, status, error_code,
           created_at, finished_at
    FROM report_prints
"""


def _print_record(row: Any) -> dict[str, Any]:
    return {
        "key": row["idempotency_key"],
        "print_id": int(row["id"]),
        "report_id": int(row["report_id"]),
        "kiosk_id": row["kiosk_id"],
        "copy_kind": row["copy_kind"],
        "copy_no": int(row["copy_no"]),
        "reprint_reason": row["reprint_reason"],
        "status": row["status"],
        "error_code": row["error_code"],
        "claimed_at": row["created_at"],
        "finished_at": row["finished_at"],
    }


def _ticket(conn: Conn, key: str) -> dict[str, Any]:
    """A print as the kiosk needs it: the record and the whole report to put on paper."""
    record = _print_record(conn.execute(_PRINT + " WHERE idempotency_key = ?", (key,)).fetchone())
    row = conn.execute(_SUMMARY + " WHERE r.id = ?", (record["report_id"],)).fetchone()
    return record | {"report": _summary(row) | {"content": json.loads(row["content_json"])}}


def claim_print(
    conn: Conn, *, report_id: int, patient_id: int, key: str, kiosk_id: str, reason: str | None
) -> tuple[int, dict[str, Any]]:
    """Claim a copy (201) or replay the claim (200) in the caller's write transaction."""
    digest = _request_hash(report_id, patient_id, kiosk_id, reason)
    stored = conn.execute("SELECT request_hash FROM report_prints WHERE idempotency_key = ?", (key,)).fetchone()
    if stored is not None:
        if stored["request_hash"] != digest:
            raise ApiError(422, "idempotency_key_reused", "this key was used for another print request")
        return 200, _ticket(conn, key)

    report = conn.execute("SELECT patient_id, status, print_count FROM reports WHERE id = ?", (report_id,)).fetchone()
    if report is None or int(report["patient_id"]) != patient_id:
        raise ApiError(404, "report_not_found", f"no report {report_id} for this patient")
    if report["status"] != "ready":
        raise ApiError(409, "report_not_ready", "this report is not ready yet")
    counted = int(report["print_count"])
    if counted and reason is None:
        raise ApiError(409, "already_printed", "this report was printed; a reprint needs a reason")
    copy_kind = "reprint" if counted else "first"
    stamp = utc_now()
    conn.execute(
        "INSERT INTO report_prints(idempotency_key, request_hash, report_id, kiosk_id, copy_kind, copy_no,"
        " reprint_reason, status, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'claimed', ?)",
        (key, digest, report_id, kiosk_id, copy_kind, counted + 1, reason if counted else None, stamp),
    )
    conn.execute("UPDATE reports SET print_count = print_count + 1 WHERE id = ?", (report_id,))
    detail = {"report_id": report_id, "key": key, "copy_kind": copy_kind, "copy_no": counted + 1}
    audit.append(conn, f"kiosk:{kiosk_id}", "report.print_claimed", detail | ({"reason": reason} if counted else {}))
    logger.info("report %d: copy %d (%s) claimed by %s under %s", report_id, counted + 1, copy_kind, kiosk_id, key)
    return 201, _ticket(conn, key)


def record_outcome(
    conn: Conn, *, key: str, kiosk_id: str | None, printed: bool, error_code: str | None
) -> dict[str, Any]:
    """What the printer did with a claimed copy; reporting the same outcome again answers the same.

    ``kiosk_id`` None skips the check that the reporting kiosk is the one that claimed the copy
    (signatures off, a lab bench only).
    """
    row = conn.execute(_PRINT + " WHERE idempotency_key = ?", (key,)).fetchone()
    if row is None:
        raise ApiError(404, "print_not_found", "no print under this key")
    if kiosk_id is not None and row["kiosk_id"] != kiosk_id:
        raise ApiError(403, "kiosk_mismatch", "only the kiosk that claimed a copy reports its outcome")
    wanted = "printed" if printed else "failed"
    if row["status"] != "claimed":
        if row["status"] != wanted:
            raise ApiError(409, "outcome_conflict", f"this print was already recorded as {row['status']}")
        return _print_record(row)
    stamp = utc_now()
    code = None if printed else (error_code or "printer_error")
    conn.execute(
        "UPDATE report_prints SET status = ?, error_code = ?, finished_at = ? WHERE id = ?",
        (wanted, code, stamp, row["id"]),
    )
    if printed:
        conn.execute("UPDATE reports SET last_printed_at = ? WHERE id = ?", (stamp, row["report_id"]))
    else:
        # The copy never reached the patient whole: it stops counting, so printing again needs no reason.
        conn.execute("UPDATE reports SET print_count = print_count - 1 WHERE id = ?", (row["report_id"],))
    detail = {"report_id": int(row["report_id"]), "key": key, "copy_no": int(row["copy_no"])}
    audit.append(conn, f"kiosk:{row['kiosk_id']}", f"report.{wanted}", detail | ({"error": code} if code else {}))
    logger.info("report %d copy %d under %s: %s %s", row["report_id"], row["copy_no"], key, wanted, code or "")
    return _print_record(conn.execute(_PRINT + " WHERE idempotency_key = ?", (key,)).fetchone())


def publish(
    conn: Conn,
    *,
    patient_id: int,
    kind: ReportKind,
    title_zh: str,
    title_en: str,
    ordered_at: str,
    content: Mapping[str, Any] | None = None,
    ready_at: str | None = None,
    department_code: str | None = None,
) -> int:
    """Record a report from the lab or radiology system (the feed, the demo seed, tests); caller owns the tx.

    Without ``ready_at`` the report is pending and ``content`` is ignored until :func:`mark_ready`.
    """
    status = "ready" if ready_at is not None else "pending"
    body = json.dumps(dict(content or {}) if ready_at is not None else {}, ensure_ascii=False)
    report_id = int(
        conn.execute(
            "INSERT INTO reports(report_no, patient_id, kind, department_code, title_zh, title_en, ordered_at, status,"
            " ready_at, content_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (
                f"tmp-{uuid.uuid4()}",
                patient_id,
                kind,
                department_code,
                title_zh,
                title_en,
                ordered_at,
                status,
                ready_at,
                body,
            ),
        ).fetchone()[0]
    )
    prefix = "L" if kind == "lab" else "X"
    conn.execute(
        "UPDATE reports SET report_no = ? WHERE id = ?",
        (f"{prefix}{ordered_at[:10].replace('-', '')}{report_id:06d}", report_id),
    )
    return report_id


def mark_ready(conn: Conn, report_id: int, content: Mapping[str, Any], ready_at: str) -> None:
    """The result was signed off: the report becomes printable. Caller owns the tx."""
    conn.execute(
        "UPDATE reports SET status = 'ready', ready_at = ?, content_json = ? WHERE id = ?",
        (ready_at, json.dumps(dict(content), ensure_ascii=False), report_id),
    )
