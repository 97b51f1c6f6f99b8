"""Logging: a rotating file under the data dir plus stderr, with a last-line privacy filter."""

from __future__ import annotations

import logging
import logging.handlers
import re
import sys
from pathlib import Path

# Resident ID numbers (15/18 chars) and payment codes (16-24 digits) never reach a log line,
# even if some code path forgets to mask them: the filter keeps the last four characters.
_SENSITIVE = re.compile(r"(?<![0-9A-Za-z])(\d{11,20})(\d{3}[0-9Xx])(?![0-9A-Za-z])")
# Mainland mobile numbers (11 digits, 1[3-9]...) keep the first three and last four, 138****5678,
# as on the slip. Too short to collide with the pattern above.
_PHONE = re.compile(r"(?<![0-9A-Za-z])(1[3-9][0-9])[0-9]{4}([0-9]{4})(?![0-9A-Za-z])")


class PrivacyFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = _SENSITIVE.sub(lambda m: "*" * len(m.group(1)) + m.group(2), message)
        masked = _PHONE.sub(r"\1****\2", masked)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def setup_logging(log_dir: Path, *, level: int = logging.INFO, to_stderr: bool = True) -> Path:
    log_dir.mkdir(parents=True, exist_ok=True)
    path = log_dir / "kiosk.log"
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(threadName)s] %(message)s")
    handlers: list[logging.Handler] = [
        logging.handlers.RotatingFileHandler(path, maxBytes=5_000_000, backupCount=5, encoding="utf-8")
    ]
    if to_stderr:
        handlers.append(logging.StreamHandler(sys.stderr))
    root = logging.getLogger()
    root.setLevel(level)
    for h in handlers:
        h.setFormatter(fmt)
        h.addFilter(PrivacyFilter())
        root.addHandler(h)
    logging.captureWarnings(True)
    for noisy in ("urllib3", "PIL", "escpos"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return path
