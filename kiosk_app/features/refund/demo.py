"""Demo and tests: a paid registration a patient can hand back (tomorrow, so inside any window).

Plain client calls, run off the Qt thread (the tour starts it in a thread and waits for it).
"""

from __future__ import annotations

import time
import uuid
from datetime import date, timedelta

from devices.idcard import IdCardData
from sync.client import Registration, ServerClient

_SEX = {"1": "M", "2": "F"}


def book_and_pay(client: ServerClient, card: IdCardData, auth_code: str, day: date | None = None) -> Registration:
    """Identify the card's patient, book the first free slot of ``day`` (tomorrow) and pay it."""
    day = day or date.today() + timedelta(days=1)
    birth = card.birth
    birth = f"{birth[:4]}-{birth[4:6]}-{birth[6:8]}" if len(birth) == 8 else birth
    patient = client.identify(card.card_type, card.id_number, card.name, _SEX.get(card.sex, card.sex), birth)
    for dept in client.departments():
        for doctor in client.doctors(dept.code, day):
            for slot in client.slots(doctor.code, day):
                if slot.left <= 0:
                    continue
                reg = client.create_registration(str(uuid.uuid4()), patient.patient_id, slot.slot_id)
                key = str(uuid.uuid4())
                result = client.pay(key, reg.registration_id, reg.amount_cents, auth_code)
                deadline = time.monotonic() + 30
                while not result.is_final and time.monotonic() < deadline:
                    time.sleep(0.3)
                    result = client.payment_status(key) or result
                if result.status != "SUCCESS":
                    raise RuntimeError(f"demo payment ended {result.status}")
                return reg
    raise RuntimeError(f"no free slot on {day}")
