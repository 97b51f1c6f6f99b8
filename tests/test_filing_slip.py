"""The filing slip (建档凭条) through the real driver and the printer emulator's decoder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devices.emulators.escpos_decode import decode_escpos
from devices.errors import PaperOut
from devices.printer import PROFILES, Receipt, ReceiptPrinter, layout
from devices.printer.receipt import text_width
from kiosk_app.services.receipts import filing_slip, print_once
from offline_cache.journal import Journal
from offline_cache.store import Store
from server.visit_card import patient_id_of

PHONE = "13812345678"
CARD = "800000000425"  # patient 42


def _slip(**overrides: Any) -> Receipt:
    args: dict[str, Any] = {
        "job_id": "txn-1:slip",
        "hospital": "示例市第一人民医院",
        "kiosk_id": "KIOSK-07",
        "name_masked": "张*",
        "id_masked": "110***********0010",
        "phone": PHONE,
        "printed_at": "2030-05-06 09:30",
        "visit_card_no": CARD,
        "verification": "face",
    }
    return filing_slip(**(args | overrides))


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[Journal]:
    store = Store(tmp_path / "kiosk.db")
    yield Journal(store)
    store.close()


def test_the_number_used_here_is_a_valid_visit_card() -> None:
    assert patient_id_of(CARD) == 42


@pytest.mark.parametrize("profile", ["default-80mm", "default-58mm"])
def test_slip_prints_masked_identity_the_card_in_large_print_and_its_qr(printer_emu: Any, profile: str) -> None:
    ReceiptPrinter(printer_emu.url, PROFILES[profile], timeout=2).print_receipt(_slip())
    (job,) = printer_emu.wait_for_jobs(1)
    flat = job.text.replace("\n", "").replace(" ", "")
    assert "建档凭条" in flat and "示例市第一人民医院" in flat and "2030-05-06" in flat
    assert "张*" in flat and "110***********0010" in flat and "138****5678" in flat
    assert PHONE not in flat and "待确认" not in flat
    decoded = decode_escpos(job.raw)
    large = [line for line in decoded.lines if line.width == 2 and line.height == 2 and CARD in line.text]
    assert large and large[0].bold, "the visit-card number is printed in double size"
    if PROFILES[profile].supports_qr_native:
        assert job.qr == [f"HVC:{CARD}"]
    assert "?" not in job.text.replace(f"HVC:{CARD}", "")  # nothing lost to the code page


def test_pending_slip_has_a_provisional_number_and_no_visit_card_qr(printer_emu: Any) -> None:
    slip = _slip(visit_card_no=None, provisional_no="P-KIOSK-07-0003")
    ReceiptPrinter(printer_emu.url, PROFILES["default-80mm"], timeout=2).print_receipt(slip)
    (job,) = printer_emu.wait_for_jobs(1)
    flat = job.text.replace("\n", "").replace(" ", "")
    assert "待确认" in flat and "P-KIOSK-07-0003" in flat and "138****5678" in flat
    assert job.qr == ["PENDING:KIOSK-07:P-KIOSK-07-0003"]
    assert not any(q.startswith("HVC:") for q in job.qr)


def test_slip_needs_exactly_one_number() -> None:
    with pytest.raises(ValueError):
        _slip(provisional_no="P-1")
    with pytest.raises(ValueError):
        _slip(visit_card_no=None)


def test_an_already_masked_phone_stays_masked_and_the_layout_fits() -> None:
    slip = _slip(phone="138****5678")
    assert ("手机号 Phone", "138****5678") in slip.lines
    for columns in (32, 48):
        assert all(text_width(line) <= columns for line in layout(slip, columns))


def test_a_slip_prints_once_even_when_asked_twice(printer_emu: Any, journal: Journal) -> None:
    journal.create("txn-1", "filing", patient_masked="张* 110***********0010", patient_ref="42")
    printer = ReceiptPrinter(printer_emu.url, PROFILES["default-80mm"], timeout=2)
    assert print_once(journal, printer, _slip(), "txn-1").ok
    again = print_once(journal, printer, _slip(), "txn-1")
    assert again.ok  # it did print, once
    printer_emu.wait_for_jobs(1)
    assert len(printer_emu.jobs) == 1
    job = journal.print_job("txn-1:slip")
    assert job is not None and job["status"] == "printed" and PHONE not in str(job)


def test_a_failed_print_is_reported_and_retried_deliberately(journal: Journal) -> None:
    class Empty:
        def print_receipt(self, receipt: Receipt) -> None:
            raise PaperOut("no paper")

    journal.create("txn-2", "filing", patient_masked="张* 110***********0010", patient_ref="")
    failed = print_once(journal, Empty(), _slip(job_id="txn-2:slip"), "txn-2")
    assert not failed.ok and failed.tr_key == PaperOut.tr_key
    assert print_once(journal, None, _slip(job_id="txn-2:slip"), "txn-2").tr_key == "printer.unavailable"
