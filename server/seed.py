"""A fictitious demo hospital: departments, doctors and one week of schedules from "today".

Deterministic: the same ``today`` always gives the same rows (per-doctor, per-day RNG seeded by
a string), so screenshots, tests and the demo script can rely on it. All names are invented.
Seeding happens only into an empty database, never over real data.
"""

from __future__ import annotations

import logging
import random
from datetime import date, datetime, timedelta

from server.appointments import service as appointment_service
from server.appointments.api import window_of
from server.appointments.demo import seed_demo_bookings
from server.bills.demo import seed_demo_bills
from server.crypto import FieldCipher
from server.dbapi import Conn, write_tx
from server.patients import find_or_create_patient, resident_check_digit
from server.reports.demo import seed_demo_reports
from server.settings import ServerSettings

logger = logging.getLogger(__name__)

DAYS = 7

DEPARTMENTS: list[tuple[str, str, str]] = [
    ("IM", "内科", "Internal Medicine"),
    ("SURG", "外科", "Surgery"),
    ("PED", "儿科", "Pediatrics"),
    ("OBGYN", "妇产科", "Obstetrics & Gynecology"),
    ("OPH", "眼科", "Ophthalmology"),
    ("ENT", "耳鼻喉科", "ENT (Otolaryngology)"),
    ("STOMA", "口腔科", "Stomatology"),
    ("DERM", "皮肤科", "Dermatology"),
    ("TCM", "中医科", "Traditional Chinese Medicine"),
    ("ORTH", "骨科", "Orthopedics"),
]

# title key -> (zh, en, fee in cents, patients per 30-minute slot)
TITLES: dict[str, tuple[str, str, int, int]] = {
    "chief": ("主任医师", "Chief Physician", 5000, 2),
    "associate": ("副主任医师", "Associate Chief Physician", 3000, 3),
    "attending": ("主治医师", "Attending Physician", 1500, 4),
}

# (code, department, name_zh, name_en, title). The first doctor listed for a department works
# every day, so every department always has someone to book.
DOCTORS: list[tuple[str, str, str, str, str]] = [
    ("D01", "IM", "林志远", "Lin Zhiyuan", "chief"),
    ("D02", "IM", "周雅琴", "Zhou Yaqin", "associate"),
    ("D03", "IM", "陈思睿", "Chen Sirui", "attending"),
    ("D04", "SURG", "赵承宇", "Zhao Chengyu", "chief"),
    ("D05", "SURG", "孙晓峰", "Sun Xiaofeng", "attending"),
    ("D06", "PED", "何婉清", "He Wanqing", "associate"),
    ("D07", "PED", "郭嘉禾", "Guo Jiahe", "attending"),
    ("D08", "PED", "韩素心", "Han Suxin", "chief"),
    ("D09", "OBGYN", "许慧兰", "Xu Huilan", "chief"),
    ("D10", "OBGYN", "宋依然", "Song Yiran", "attending"),
    ("D11", "OPH", "冯明远", "Feng Mingyuan", "associate"),
    ("D12", "OPH", "邓清扬", "Deng Qingyang", "attending"),
    ("D13", "ENT", "曹安和", "Cao Anhe", "associate"),
    ("D14", "ENT", "彭子墨", "Peng Zimo", "attending"),
    ("D15", "STOMA", "梁书瑶", "Liang Shuyao", "chief"),
    ("D16", "STOMA", "谢文博", "Xie Wenbo", "attending"),
    ("D17", "DERM", "唐若溪", "Tang Ruoxi", "associate"),
    ("D18", "DERM", "蒋一鸣", "Jiang Yiming", "attending"),
    ("D19", "TCM", "钱景山", "Qian Jingshan", "chief"),
    ("D20", "TCM", "沈墨白", "Shen Mobai", "associate"),
    ("D21", "ORTH", "陆振华", "Lu Zhenhua", "chief"),
    ("D22", "ORTH", "范嘉树", "Fan Jiashu", "attending"),
    ("D23", "IM", "叶知秋", "Ye Zhiqiu", "attending"),
    ("D24", "SURG", "苏念安", "Su Nian'an", "associate"),
]

# Chief pediatrician fully booked on the first day: the demo always shows a "full" doctor.
FULL_ON_FIRST_DAY = "D08"

MORNING = ("08:00", "12:00")
AFTERNOON = ("14:00", "17:30")
SLOT_MINUTES = 30


def half_hours(start: str, end: str) -> list[tuple[str, str]]:
    t = datetime.strptime(start, "%H:%M")
    stop = datetime.strptime(end, "%H:%M")
    out = []
    while t < stop:
        nxt = min(t + timedelta(minutes=SLOT_MINUTES), stop)
        out.append((t.strftime("%H:%M"), nxt.strftime("%H:%M")))
        t = nxt
    return out


def _sessions(doctor_code: str, first_of_dept: bool, day: date) -> list[tuple[str, str]]:
    """Which half-days a doctor works on ``day``; fewer doctors at the weekend."""
    rng = random.Random(f"sessions-{doctor_code}-{day.isoformat()}")
    weekend = day.weekday() >= 5
    roll = rng.random()
    if first_of_dept:
        return [MORNING] if weekend else [MORNING, AFTERNOON]
    if roll < (0.6 if weekend else 0.2):
        return []  # day off
    if roll < 0.75:
        return [MORNING, AFTERNOON]
    return [MORNING] if roll < 0.88 else [AFTERNOON]


def seed_if_empty(conn: Conn, today: date | None = None) -> bool:
    """Insert the demo hospital when there are no departments; returns whether it seeded."""
    today = today or date.today()
    with write_tx(conn):
        if conn.execute("SELECT count(*) FROM departments").fetchone()[0]:
            return False
        conn.executemany(
            "INSERT INTO departments(code, name_zh, name_en, sort_order) VALUES (?, ?, ?, ?)",
            [(code, zh, en, i) for i, (code, zh, en) in enumerate(DEPARTMENTS)],
        )
        for code, dept, name_zh, name_en, title in DOCTORS:
            title_zh, title_en, fee, _capacity = TITLES[title]
            conn.execute(
                "INSERT INTO doctors(code, department_code, name_zh, name_en, title_zh, title_en, fee_cents)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (code, dept, name_zh, name_en, title_zh, title_en, fee),
            )
    logger.info("seeded demo hospital: %d departments, %d doctors", len(DEPARTMENTS), len(DOCTORS))
    extend_schedules(conn, today)
    return True


def extend_schedules(conn: Conn, today: date | None = None) -> int:
    """Give every day of the coming week that has no schedule one, so a demo database started
    again next month still has today's slots. Days already scheduled are left alone."""
    today = today or date.today()
    days = [today + timedelta(days=offset) for offset in range(DAYS)]
    slot_rows = []
    with write_tx(conn):
        scheduled = {
            row[0] for row in conn.execute("SELECT DISTINCT date FROM slots WHERE date >= ?", (today.isoformat(),))
        }
        seen_dept: set[str] = set()
        for code, dept, _zh, _en, title in DOCTORS:
            capacity = TITLES[title][3]
            first_of_dept = dept not in seen_dept
            seen_dept.add(dept)
            for day in days:
                if day.isoformat() in scheduled:
                    continue
                rng = random.Random(f"booked-{code}-{day.isoformat()}")
                for session in _sessions(code, first_of_dept, day):
                    for start, end in half_hours(*session):
                        roll = rng.random()
                        if (code == FULL_ON_FIRST_DAY and day == today) or roll < 0.08:
                            booked = capacity  # a few slots already taken by other channels
                        elif roll < 0.35:
                            booked = rng.randint(1, capacity - 1)
                        else:
                            booked = 0
                        slot_rows.append((code, day.isoformat(), start, end, capacity, booked))
        conn.executemany(
            'INSERT INTO slots(doctor_code, date, start, "end", capacity, booked) VALUES (?, ?, ?, ?, ?, ?)',
            slot_rows,
        )
    if slot_rows:
        logger.info("scheduled %d demo slots from %s", len(slot_rows), today.isoformat())
    return len(slot_rows)


# -- the demo's patients (the people on the demo ID cards) ---------------------------------------------

# The same fictitious people as devices/emulators/idcard.sample_cards (and the insurance cards of
# devices/emulators/vpcd): key -> (first 17 digits of the ID number, name, sex, birth). Known to
# the demo server from the start, so the demo has bookings and reports to show for them.
DEMO_PATIENTS: dict[str, tuple[str, str, str, str]] = {
    "zhangsan": ("11010119800101001", "张三", "M", "1980-01-01"),
    "elder": ("31010119480315002", "王秀英", "F", "1948-03-15"),
}


def ensure_demo_patients(conn: Conn, cipher: FieldCipher) -> dict[str, int]:
    """The demo patients' ids, creating the records that are missing (as ``/patients/identify`` would)."""
    ids = {}
    with write_tx(conn):
        for key, (first17, name, sex, birth) in DEMO_PATIENTS.items():
            id_number = first17 + resident_check_digit(first17)
            identity = (id_number, name, sex, birth)
            ids[key], _ = find_or_create_patient(conn, cipher, "resident", identity)
    return ids


def seed_demo_patients(conn: Conn, cipher: FieldCipher, settings: ServerSettings) -> dict[str, int]:
    """Demo only (``seed_demo_patients``): the demo patients with bookings around now, reports and bills."""
    patients = ensure_demo_patients(conn, cipher)
    at = appointment_service.now()  # looked up at call time: tests move the clock
    seed_demo_bookings(conn, patients, window_of(settings), at)
    seed_demo_reports(conn, patients, at.date())
    seed_demo_bills(conn, patients)
    return patients
