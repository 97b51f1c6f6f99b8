"""Runs the reprint flow's commands in a worker: read the journal, print a marked copy once."""

from __future__ import annotations

import logging
from datetime import datetime

from kiosk_app.features.base import FeatureService, Progress, ServiceParts
from kiosk_app.features.base import Outcome as Applied
from kiosk_app.features.reprint.flow import LoadPrints, Reprint
from kiosk_app.features.reprint.slip import reprint_slip
from kiosk_app.services.receipts import print_once
from offline_cache.reprints import next_reprint_job, recent_prints

log = logging.getLogger(__name__)


class ReprintService(FeatureService):
    def __init__(self, parts: ServiceParts) -> None:
        super().__init__(parts.finder)
        self.journal = parts.journal
        self.printer = parts.printer
        self.kiosk_id = parts.kiosk_id

    def run(self, cmd: object, progress: Progress) -> Applied:
        match cmd:
            case LoadPrints(patient_ref):
                records = recent_prints(self.journal, patient_ref)
                return lambda f: f.listed(records)
            case Reprint(record):
                nxt = next_reprint_job(self.journal, record.job_id)
                if nxt is None:
                    return lambda f: f.reprinted(False, "reprint.limit")
                job_id, copy_no = nxt
                slip = reprint_slip(
                    job_id=job_id,
                    record=record,
                    copy_no=copy_no,
                    kiosk_id=self.kiosk_id,
                    printed_at=datetime.now().strftime("%Y-%m-%d %H:%M"),
                )
                # The copy is claimed in the journal (under the original's transaction) before printing.
                printed = print_once(self.journal, self.printer, slip, record.txn_id)
                log.info("reprint %s of %s: %s", job_id, record.job_id, "printed" if printed.ok else printed.tr_key)
                return lambda f: f.reprinted(printed.ok, printed.tr_key, copy_no)
        raise TypeError(f"unknown command {cmd!r}")
