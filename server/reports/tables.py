"""Schema v11 (with server/appointments/tables.py): lab and imaging reports and their print-back.

``reports`` is what the laboratory and radiology systems publish for a patient: pending until the
result is signed off, then ready with the lines a printed report carries. ``report_prints`` is the
print-back log the issue asks for: every print attempt under the kiosk's idempotency key (kept for
good), which kiosk, when, first copy or reprint and why, and what the printer did. A print counts
as done unless the kiosk reported that the printer failed: an attempt whose outcome never arrived
may have printed, so it counts (a reprint then needs a reason), never the other way round.
"""

from __future__ import annotations

from server.ddl import Statement

REPORTS_V11: tuple[Statement, ...] = (
    """CREATE TABLE IF NOT EXISTS reports (
    id INTEGER PRIMARY KEY,
    report_no TEXT NOT NULL UNIQUE,
    patient_id INTEGER NOT NULL REFERENCES patients(id),
    kind TEXT NOT NULL CHECK (kind IN ('lab', 'imaging')),
    department_code TEXT REFERENCES departments(code),
    title_zh TEXT NOT NULL,
    title_en TEXT NOT NULL,
    ordered_at TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'ready')),
    ready_at TEXT,
    -- the printed body: lab rows (item, result, unit, reference range, flag) or imaging text
    content_json TEXT NOT NULL DEFAULT '{}',
    -- prints that count (not failed at the printer); kept beside the log for the list screen
    print_count INTEGER NOT NULL DEFAULT 0 CHECK (print_count >= 0),
    last_printed_at TEXT,
    CHECK (status = 'pending' OR ready_at IS NOT NULL)
)""",
    "CREATE INDEX IF NOT EXISTS reports_by_patient ON reports(patient_id, ordered_at)",
    """CREATE TABLE IF NOT EXISTS report_prints (
    id INTEGER PRIMARY KEY,
    -- permanent: a kiosk may retry after a lost answer, so keys are never pruned
    idempotency_key TEXT NOT NULL UNIQUE,
    request_hash TEXT NOT NULL,
    report_id INTEGER NOT NULL REFERENCES reports(id),
    kiosk_id TEXT NOT NULL,
    copy_kind TEXT NOT NULL CHECK (copy_kind IN ('first', 'reprint')),
    copy_no INTEGER NOT NULL CHECK (copy_no > 0),  -- printed on the paper: copy 2 is a reprint
    reprint_reason TEXT,
    status TEXT NOT NULL CHECK (status IN ('claimed', 'printed', 'failed')),
    error_code TEXT,
    created_at TEXT NOT NULL,
    finished_at TEXT,
    CHECK (copy_kind = 'first' OR reprint_reason IS NOT NULL)
)""",
    "CREATE INDEX IF NOT EXISTS report_prints_by_report ON report_prints(report_id, status)",
)
