"""Demo reports for the demo ID cards' patients: a few ready to print, one still pending.

All values are invented; the reference ranges are the common adult ones (WS/T 405-2012 for the
blood count), so the flags the printout shows are plausible. Seeded once per patient.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta
from typing import Any

from server.dbapi import Conn, write_tx
from server.reports.service import ReportKind, publish

logger = logging.getLogger(__name__)


def _row(item_zh: str, item_en: str, result: str, unit: str, ref: str, flag: str = "") -> dict[str, str]:
    return {"item_zh": item_zh, "item_en": item_en, "result": result, "unit": unit, "range": ref, "flag": flag}


CBC = {
    "specimen_zh": "静脉血",
    "specimen_en": "Venous blood",
    "rows": [
        _row("白细胞计数", "WBC", "6.2", "10^9/L", "3.5-9.5"),
        _row("红细胞计数", "RBC", "4.85", "10^12/L", "4.3-5.8"),
        _row("血红蛋白", "Hemoglobin", "148", "g/L", "130-175"),
        _row("血小板计数", "Platelets", "320", "10^9/L", "125-350"),
        _row("中性粒细胞百分比", "Neutrophils %", "72.5", "%", "40-75"),
        _row("淋巴细胞百分比", "Lymphocytes %", "18.1", "%", "20-50", "L"),
    ],
    "signed_by_zh": "检验科 刘检验师",
    "signed_by_en": "Laboratory, technologist Liu",
}

CHEST_DR = {
    "exam_zh": "胸部正位 DR",
    "exam_en": "Chest X-ray (PA), DR",
    "findings_zh": "双肺纹理清晰，未见明显实质性病变。心影大小、形态未见异常。双侧膈面光整，肋膈角锐利。",
    "findings_en": "Clear lung markings, no parenchymal lesion. Normal heart size and shape. "
    "Smooth diaphragm, sharp costophrenic angles.",
    "impression_zh": "心肺未见明显异常。",
    "impression_en": "No abnormality of heart or lungs.",
    "signed_by_zh": "放射科 吴医师",
    "signed_by_en": "Radiology, Dr Wu",
}

GLUCOSE_LIPIDS = {
    "specimen_zh": "静脉血（空腹）",
    "specimen_en": "Venous blood (fasting)",
    "rows": [
        _row("葡萄糖", "Glucose", "7.8", "mmol/L", "3.9-6.1", "H"),
        _row("总胆固醇", "Total cholesterol", "6.2", "mmol/L", "<5.2", "H"),
        _row("甘油三酯", "Triglycerides", "1.6", "mmol/L", "<1.7"),
        _row("高密度脂蛋白胆固醇", "HDL cholesterol", "1.1", "mmol/L", ">1.0"),
        _row("低密度脂蛋白胆固醇", "LDL cholesterol", "4.1", "mmol/L", "<3.4", "H"),
    ],
    "signed_by_zh": "检验科 刘检验师",
    "signed_by_en": "Laboratory, technologist Liu",
}

SPINE_DR = {
    "exam_zh": "腰椎正侧位 DR",
    "exam_en": "Lumbar spine X-ray (AP and lateral), DR",
    "findings_zh": "腰椎生理曲度变直，L4/5 椎间隙稍变窄，诸椎体边缘骨质增生。",
    "findings_en": "Straightened lumbar lordosis, slightly narrowed L4/5 disc space, marginal osteophytes.",
    "impression_zh": "腰椎退行性变。",
    "impression_en": "Degenerative changes of the lumbar spine.",
    "signed_by_zh": "放射科 吴医师",
    "signed_by_en": "Radiology, Dr Wu",
}

# (patient, kind, department, title zh, title en, days before today, ordered hh:mm, content; None = pending)
DEMO_REPORTS: tuple[tuple[str, ReportKind, str, str, str, int, str, dict[str, Any] | None], ...] = (
    ("zhangsan", "lab", "IM", "血常规", "Complete blood count", 1, "09:12", CBC),
    ("zhangsan", "imaging", "IM", "胸部X线检查", "Chest X-ray", 1, "09:40", CHEST_DR),
    ("zhangsan", "lab", "IM", "肝功能", "Liver function", 0, "08:05", None),
    ("elder", "lab", "TCM", "血糖血脂", "Glucose and lipids", 2, "08:30", GLUCOSE_LIPIDS),
    ("elder", "imaging", "ORTH", "腰椎X线检查", "Lumbar spine X-ray", 2, "10:15", SPINE_DR),
)


def seed_demo_reports(conn: Conn, patients: dict[str, int], today: date) -> int:
    """Publish :data:`DEMO_REPORTS` for patients who have no report yet; the number published."""
    published = 0
    with write_tx(conn):
        for key, kind, dept, title_zh, title_en, days_ago, hhmm, content in DEMO_REPORTS:
            patient_id = patients[key]
            if conn.execute(
                "SELECT 1 FROM reports WHERE patient_id = ? AND title_en = ?", (patient_id, title_en)
            ).fetchone():
                continue
            ordered = datetime.combine(today - timedelta(days=days_ago), time.fromisoformat(hhmm))
            ready = (ordered + timedelta(hours=3)).isoformat(timespec="minutes") if content is not None else None
            publish(
                conn,
                patient_id=patient_id,
                kind=kind,
                title_zh=title_zh,
                title_en=title_en,
                ordered_at=ordered.isoformat(timespec="minutes"),
                content=content,
                ready_at=ready,
                department_code=dept,
            )
            published += 1
    if published:
        logger.info("demo: %d reports for the demo patients", published)
    return published
