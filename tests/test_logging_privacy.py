import logging
from pathlib import Path

from kiosk_app.logsetup import PrivacyFilter, setup_logging


def test_id_numbers_and_payment_codes_are_masked_in_log_lines() -> None:
    rec = logging.LogRecord(
        "x",
        logging.INFO,
        __file__,
        1,
        "id %s code %s reg %s",
        ("11010119800101001X", "134567890123456780", "R20261122000001"),
        None,
    )
    PrivacyFilter().filter(rec)
    msg = rec.getMessage()
    assert "11010119800101001X" not in msg and "001X" in msg
    assert "134567890123456780" not in msg and "6780" in msg
    assert "R20261122000001" in msg  # registration numbers are not identity data


def test_log_file_is_written_masked(tmp_path: Path) -> None:
    root = logging.getLogger()
    before = list(root.handlers)
    try:
        path = setup_logging(tmp_path, to_stderr=False)
        logging.getLogger("t").warning("patient 110101198001010010 arrived")
        for h in root.handlers:
            h.flush()
        text = path.read_text(encoding="utf-8")
        assert "110101198001010010" not in text and "0010" in text
    finally:
        for h in list(root.handlers):
            if h not in before:
                root.removeHandler(h)
                h.close()
