"""Sample data for the dashboard: kiosks in every state, payments in every status, reconciliation runs, work items.

For the dashboard tests, the browser test that takes the README screenshots, and trying the dashboard by hand.
Written straight into the database (not through the kiosk API, which wants signed requests). Needs the seeded
catalogue (``seed_demo``) for the registrations the payments belong to. Every identity is fictitious.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from server.crypto import FieldCipher
from server.dashboard.tables import add_work_item
from server.dbapi import Conn
from server.patient_store import insert_patient
from server.reconcile import LedgerEntry, ParsedBill, ProviderRecord, reconcile, render_html
from server.reconcile.report import LABELS

# (kiosk_id, version, devices, queue depth, oldest pending s, clock offset s, seen ago s)
KIOSKS = (
    ("KIOSK-01", "1.4.2", {"idcard": "ready", "printer": "ready", "scanner": "ready"}, 0, None, 0.2, 4),
    ("KIOSK-02", "1.4.2", {"idcard": "ready", "printer": "error", "scanner": "ready"}, 0, None, -0.4, 9),
    ("KIOSK-03", "1.4.1", {"idcard": "ready", "printer": "busy", "scanner": "ready"}, 7, 340.0, 3.8, 12),
    ("KIOSK-04", "1.3.9", {"idcard": "unavailable", "printer": "ready", "scanner": "ready"}, 2, 7300.0, 0.1, 7260),
)
# (kiosk, amount cents, status, error code, last 4 of the code, minutes ago); oldest first, as ids grow with time
PAYMENTS = (
    ("KIOSK-02", 3000, "SUCCESS", None, "2468", 63),
    ("KIOSK-03", 1800, "REVERSED", "USERPAYING", "5902", 47),
    ("KIOSK-01", 5000, "FAILED", "NOTENOUGH", "7710", 25),
    ("KIOSK-02", 2550, "SUCCESS", None, "0917", 11),
    ("KIOSK-01", 1200, "SUCCESS", None, "4821", 3),
    ("KIOSK-03", 1200, "PENDING", "USERPAYING", "3344", 1),
)
FICTITIOUS_ID = "11010519600101001X"  # checksum-valid, region 110105; nobody's


@dataclass(frozen=True)
class Sample:
    kiosk_ids: tuple[str, ...]
    out_trade_nos: tuple[str, ...]
    work_item_ids: tuple[int, ...]
    bill_date: str


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


def _kiosks(conn: Conn, now: datetime) -> None:
    for kiosk_id, version, devices, depth, oldest, offset, ago in KIOSKS:
        seen = now - timedelta(seconds=ago)
        conn.execute(
            "INSERT INTO kiosks(kiosk_id, software_version, device_states_json, queue_depth, oldest_pending_age_s,"
            " kiosk_time, clock_offset_s, first_seen, last_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (kiosk_id, version, json.dumps(devices), depth, oldest, _iso(seen), offset, _iso(seen), _iso(seen)),
        )
    conn.execute(
        "INSERT INTO kiosk_commands(kiosk_id, command, status, created_at) VALUES ('KIOSK-02', 'print_test_page',"
        " 'pending', ?)",
        (_iso(now),),
    )


def _payments(conn: Conn, cipher: FieldCipher, now: datetime) -> list[tuple[str, int, str]]:
    patient = conn.execute("SELECT id FROM patients WHERE id_index = ?", (cipher.blind_index(FICTITIOUS_ID),))
    row = patient.fetchone()
    patient_id = (
        int(row[0])
        if row
        else insert_patient(
            conn,
            cipher,
            id_type="resident",
            id_number=FICTITIOUS_ID,
            name="演示",
            sex="M",
            birth="1960-01-01",
            created_at=_iso(now),
        )
    )
    slots = conn.execute(
        "SELECT id FROM slots WHERE booked < capacity ORDER BY date, start LIMIT ?", (len(PAYMENTS),)
    ).fetchall()
    if len(slots) < len(PAYMENTS):
        raise RuntimeError("the sample payments need the seeded catalogue (seed_demo)")
    made = []
    stamp = f"{now:%y%m%d%H%M%S}"
    for i, ((kiosk, cents, status, error, last4, minutes), slot) in enumerate(zip(PAYMENTS, slots, strict=True)):
        at = _iso(now - timedelta(minutes=minutes))
        reg_status = "paid" if status == "SUCCESS" else "unpaid"
        conn.execute("UPDATE slots SET booked = booked + 1 WHERE id = ?", (slot[0],))
        reg_id = int(
            conn.execute(
                "INSERT INTO registrations(reg_no, patient_id, slot_id, status, amount_cents, idempotency_key,"
                " response_json, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, '{}', ?, ?) RETURNING id",
                (f"RDEMO{stamp}{i}", patient_id, slot[0], reg_status, cents, f"demo-reg-{stamp}-{i}", at, at),
            ).fetchone()[0]
        )
        out_trade_no = f"K{stamp}demo{i:04d}"
        conn.execute(
            "INSERT INTO payments(idempotency_key, request_hash, registration_id, amount_cents, auth_code_masked,"
            " channel, kiosk_id, status, out_trade_no, error_code, created_at, updated_at)"
            " VALUES (?, 'demo', ?, ?, ?, 'wechat', ?, ?, ?, ?, ?, ?)",
            (f"demo-pay-{stamp}-{i}", reg_id, cents, "*" * 14 + last4, kiosk, status, out_trade_no, error, at, at),
        )
        made.append((out_trade_no, cents, status))
    return made


def _reconciliation(conn: Conn, payments: list[tuple[str, int, str]], now: datetime) -> tuple[str, list[int]]:
    bill_date = (now + timedelta(hours=8)).date().isoformat()
    ledger = [LedgerEntry("wechat", no, cents, status) for no, cents, status in payments]
    paid = [(no, cents) for no, cents, status in payments if status == "SUCCESS"]
    records = [ProviderRecord("wechat", "payment", no, cents, True, "SUCCESS") for no, cents in paid[1:]]
    records[0] = ProviderRecord(
        "wechat", "payment", records[0].out_trade_no, records[0].amount_cents + 100, True, "SUCCESS"
    )
    records.append(ProviderRecord("wechat", "payment", f"K{now:%y%m%d}unknown0001", 1500, True, "SUCCESS"))
    report = reconcile(ledger, [ParsedBill("wechat", tuple(records), bill_date)], bill_date)
    clean = reconcile([], [ParsedBill("alipay", (), bill_date)], bill_date)
    runs = (
        (bill_date, "wechat", report, "findings" if report.findings else "ok", None),
        (bill_date, "alipay", clean, "ok", None),
    )
    for day, provider, rep, status, error in runs:
        conn.execute(
            "INSERT INTO reconciliation_runs(bill_date, provider, status, findings, error, report_json, report_html,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (day, provider, status, len(rep.findings), error, json.dumps(rep.to_dict()), render_html(rep), _iso(now)),
        )
    yesterday = (now + timedelta(hours=8) - timedelta(days=1)).date().isoformat()
    conn.execute(
        "INSERT INTO reconciliation_runs(bill_date, provider, status, findings, error, report_json, report_html,"
        " created_at) VALUES (?, 'wechat', 'failed', 0, ?, '{}', '', ?)",
        (yesterday, "bill download failed: provider answered SYSTEMERROR three times", _iso(now)),
    )
    items = [
        add_work_item(
            conn,
            "refund" if f.kind == "paid_but_unknown" else "manual_review",
            "reconciliation",
            f.out_trade_no,
            {"bill_date": bill_date, "provider": f.provider, "finding": LABELS[f.kind], "reason": f.reason},
        )
        for f in report.findings
    ]
    return bill_date, items


def seed_sample(conn: Conn, cipher: FieldCipher, now: datetime | None = None) -> Sample:
    """Insert the sample rows; the caller owns the write transaction. For an empty database (kiosk ids are fixed)."""
    now = now or datetime.now(UTC)
    _kiosks(conn, now)
    payments = _payments(conn, cipher, now)
    bill_date, items = _reconciliation(conn, payments, now)
    items.append(
        add_work_item(
            conn,
            "rebook",
            "offline_sync",
            "offline-op-7f3a",
            {
                "kiosk_id": "KIOSK-04",
                "operation": "registration",
                "reason": "slot_full",
                "registration": "R20261122000042",
            },
        )
    )
    return Sample(tuple(k[0] for k in KIOSKS), tuple(p[0] for p in payments), tuple(items), bill_date)
