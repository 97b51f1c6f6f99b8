"""Demo bills for the demo ID cards' patients: what a doctor ordered this morning, unpaid.

Invented items and prices (cents), in the insurer's categories so the pre-settlement shows
realistic shares: 甲类 drugs fully eligible, 乙类 partly, 丙类 not at all, exams and treatment in
between. Seeded once per patient (only when the patient has never had a bill).
"""

from __future__ import annotations

import logging
from typing import Any

from server.bills.service import create_bill
from server.dbapi import Conn, write_tx

logger = logging.getLogger(__name__)


def _item(code: str, zh: str, en: str, category: str, quantity: int, unit_cents: int) -> dict[str, Any]:
    return {"code": code, "name_zh": zh, "name_en": en, "category": category, "quantity": quantity,
            "unit_cents": unit_cents}  # fmt: skip


# patient key -> bills: (kind, department, title_zh, title_en, items)
DEMO_BILLS: dict[str, list[tuple[str, str, str, str, list[dict[str, Any]]]]] = {
    "zhangsan": [
        ("prescription", "IM", "内科处方", "Internal medicine prescription", [
            _item("DA01", "阿莫西林胶囊 0.25g×24", "Amoxicillin capsules 0.25 g ×24", "drug_a", 1, 2350),
            _item("DB07", "布洛芬缓释胶囊 0.3g×20", "Ibuprofen SR capsules 0.3 g ×20", "drug_b", 1, 1860),
            _item("DC02", "维生素C泡腾片", "Vitamin C effervescent tablets", "drug_c", 1, 1500),
        ]),
        ("lab", "IM", "检验申请：血常规、C反应蛋白", "Lab order: blood count, CRP", [
            _item("EX11", "血常规（五分类）", "Complete blood count", "exam", 1, 2500),
            _item("EX31", "C反应蛋白", "C-reactive protein", "exam", 1, 3000),
        ]),
        ("imaging", "IM", "检查申请：胸部DR", "Imaging order: chest X-ray", [
            _item("IM02", "胸部正位DR", "Chest X-ray (PA), DR", "exam", 1, 9000),
            _item("MT01", "胶片", "Film", "material", 1, 1500),
        ]),
    ],
    "elder": [
        ("prescription", "TCM", "中医科处方", "TCM prescription", [
            _item("DA11", "复方丹参滴丸", "Compound Danshen dripping pills", "drug_a", 2, 2680),
            _item("DB21", "阿托伐他汀钙片 20mg×7", "Atorvastatin 20 mg ×7", "drug_b", 2, 1890),
        ]),
        ("treatment", "TCM", "治疗：针灸", "Treatment: acupuncture", [
            _item("TR05", "普通针刺", "Acupuncture", "treatment", 3, 3500),
        ]),
    ],
}  # fmt: skip


def seed_demo_bills(conn: Conn, patients: dict[str, int]) -> int:
    """Open bills for the demo patients who never had one; the number of bills made."""
    made = 0
    with write_tx(conn):
        for key, bills in DEMO_BILLS.items():
            patient_id = patients.get(key)
            if patient_id is None or conn.execute("SELECT 1 FROM bills WHERE patient_id = ?", (patient_id,)).fetchone():
                continue
            for kind, department, title_zh, title_en, items in bills:
                create_bill(
                    conn,
                    patient_id=patient_id,
                    kind=kind,
                    title_zh=title_zh,
                    title_en=title_en,
                    items=items,
                    department_code=department,
                )
                made += 1
    if made:
        logger.info("demo: %d open bill(s) for the demo patients", made)
    return made
