"""Runs the top-up flow's commands in a worker: the account, the payment, the receipt.

The payment goes through the shared pay-by-code loop (kiosk_app/features/payment.py): the key is
written to the journal before the request leaves; an unanswered request is asked about by key
(``top_up_status``), resent under the SAME key only when the server never saw it, and never
guessed. Offline, a top-up is refused before anything is sent: money cannot be queued.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime

from kiosk_app.features.base import FeatureService, Outcome, Progress, ServiceParts
from kiosk_app.features.payment import pay_until_final
from kiosk_app.features.topup.flow import LoadAccount, PrintTopUpReceipt, TopUp
from kiosk_app.features.topup.receipt import topup_receipt
from kiosk_app.services.receipts import print_once
from kiosk_app.services.registration import PaySettings
from offline_cache.ids import uuid7
from sync.client import ServerError, ServerTimeout, ServerUnavailable, TopUpResult

log = logging.getLogger(__name__)


class TopUpService(FeatureService):
    def __init__(self, parts: ServiceParts, sleep: Callable[[float], None] = time.sleep) -> None:
        super().__init__(parts.finder)
        self.client, self.journal, self.printer = parts.client, parts.journal, parts.printer
        self.kiosk_id, self.hospital_name, self.offline = parts.kiosk_id, parts.hospital_name, parts.offline
        self.pay_settings: PaySettings = parts.pay or PaySettings()
        self.sleep = sleep

    def run(self, cmd: object, progress: Progress) -> Outcome:
        match cmd:
            case LoadAccount(patient_id):
                return self._load(patient_id)
            case TopUp():
                return self._top_up(cmd, progress)
            case PrintTopUpReceipt():
                return self._print(cmd)
        raise TypeError(f"unknown command {cmd!r}")

    # ---- The account

    def _offline_now(self) -> bool:
        return self.offline is not None and bool(self.offline.uploader.offline)

    def _unreachable(self, err: ServerError) -> None:
        if self.offline is not None:
            self.offline.uploader.note_unreachable(err.code)

    def _load(self, patient_id: int) -> Outcome:
        if self._offline_now():
            return lambda f: f.account_unavailable()
        try:
            account = self.client.account(patient_id)
        except (ServerUnavailable, ServerTimeout) as err:
            self._unreachable(err)
            log.info("account of patient %d not loaded: %s", patient_id, err.code)
            return lambda f: f.account_unavailable()
        return lambda f: f.account_loaded(account)

    # ---- The payment: the shared pay-by-code loop (kiosk_app/features/payment.py)

    def _top_up(self, cmd: TopUp, progress: Progress) -> Outcome:
        if self._offline_now():
            log.info("offline: top-up refused before anything was sent")
            return lambda f: f.top_up_refused_offline()
        p = cmd.patient
        if cmd.first_attempt:
            self.journal.create(
                cmd.txn_id, "top_up", patient_masked=f"{p.name_masked} {p.id_masked}", patient_ref=str(p.patient_id)
            )
        key = uuid7()  # a new key per scanned code; pay_until_final journals it before the request
        outcome = pay_until_final(
            journal=self.journal,
            txn_id=cmd.txn_id,
            key=key,
            amount_cents=cmd.amount_cents,
            send=lambda: self.client.top_up(key, p.patient_id, cmd.amount_cents, cmd.auth_code),
            query=lambda: self.client.top_up_status(key),
            timings=self.pay_settings,
            progress=lambda result: progress(_progress(result)),
            unreachable=self._unreachable,
            sleep=self.sleep,
        )
        if outcome.status == "NOT_SENT":
            return lambda f: f.top_up_refused_offline()
        result: TopUpResult | None = outcome.result
        if outcome.status == "REFUSED":
            # The server refused before charging (limits changed, unknown patient): a definite failure.
            result = TopUpResult(key, "FAILED", outcome.error_code, "", p.patient_id, cmd.amount_cents, "", False, 0)
        return lambda f: f.top_up_finished(result)

    # ---- The receipt: printed once (journal print-back), reprinted only when nothing came out

    def _print(self, cmd: PrintTopUpReceipt) -> Outcome:
        receipt = topup_receipt(
            job_id=f"{cmd.txn_id}:topup",
            hospital=self.hospital_name,
            kiosk_id=self.kiosk_id,
            patient=cmd.patient,
            result=cmd.result,
            printed_at=datetime.now().strftime("%Y-%m-%d %H:%M"),
        )
        done = print_once(self.journal, self.printer, receipt, cmd.txn_id)
        return lambda f: f.printed(done.ok, done.tr_key)


def _progress(result: TopUpResult) -> Outcome:
    return lambda f: f.top_up_progress(result)
