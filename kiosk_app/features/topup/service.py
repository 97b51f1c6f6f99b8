"""Runs the top-up flow's commands in a worker: the account, the payment, the receipt.

The payment follows the registration's pattern (kiosk_app/services/registration.py ``_pay``): the
key is written to the journal before the request leaves; an unanswered request is asked about by
key (``top_up_status``), resent under the SAME key only when the server never saw it, and never
guessed. Offline, a top-up is refused before anything is sent: money cannot be queued.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime

from kiosk_app.features.base import FeatureService, Outcome, Progress, ServiceParts
from kiosk_app.features.topup.flow import LoadAccount, PrintTopUpReceipt, TopUp
from kiosk_app.features.topup.receipt import topup_receipt
from kiosk_app.services.receipts import print_once
from kiosk_app.services.registration import PaySettings
from offline_cache import journal as J
from offline_cache.ids import uuid7
from sync.client import (
    FINAL_PAYMENT_STATES,
    BusinessError,
    ServerError,
    ServerTimeout,
    ServerUnavailable,
    TopUpResult,
)

log = logging.getLogger(__name__)

_JOURNAL_STATES = {"SUCCESS": J.PAID, "FAILED": J.PAYMENT_FAILED, "REVERSED": J.PAYMENT_FAILED}


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

    # ---- The payment

    def _top_up(self, cmd: TopUp, progress: Progress) -> Outcome:
        if self._offline_now():
            log.info("offline: top-up refused before anything was sent")
            return lambda f: f.top_up_refused_offline()
        p = cmd.patient
        if cmd.first_attempt:
            self.journal.create(
                cmd.txn_id, "top_up", patient_masked=f"{p.name_masked} {p.id_masked}", patient_ref=str(p.patient_id)
            )
        key = uuid7()
        # The key is durable before the request leaves: after a crash the kiosk can still ask about it.
        self.journal.update(cmd.txn_id, J.PAYING, payment_key=key, amount_cents=cmd.amount_cents)
        try:
            result = self._send(key, cmd, first=True)
        except ServerUnavailable as err:
            # Never connected, so nothing can have been charged: a definite "not paid".
            self._unreachable(err)
            self.journal.update(cmd.txn_id, J.PAYMENT_FAILED, "server unreachable", payment_status="NOT_SENT")
            return lambda f: f.top_up_refused_offline()
        deadline = time.monotonic() + self.pay_settings.deadline_s
        while (result is None or result.status not in FINAL_PAYMENT_STATES) and time.monotonic() < deadline:
            if result is not None:
                self.journal.update(cmd.txn_id, J.PAYMENT_PENDING, result.error_code or "", payment_status="PENDING")
                progress(_progress(result))
            self.sleep(self.pay_settings.poll_interval_s)
            try:
                result = self.client.top_up_status(key)
            except ServerError as err:  # still unknown: keep asking until the deadline
                log.info("top-up status query failed: %s", err.code)
                continue
            if result is None:
                # The server never saw this key, so nothing was charged: send it again, same key.
                result = self._send(key, cmd)
        final = result if result is not None and result.status in FINAL_PAYMENT_STATES else None
        self.journal.update(
            cmd.txn_id,
            _JOURNAL_STATES.get(final.status, J.PAYMENT_UNKNOWN) if final else J.PAYMENT_UNKNOWN,
            (final.error_code or "") if final else "kiosk deadline",
            payment_status=final.status if final else "UNKNOWN",
        )
        return lambda f: f.top_up_finished(final)

    def _send(self, key: str, cmd: TopUp, *, first: bool = False) -> TopUpResult | None:
        """One POST; None when the outcome is unknown. ``first``: ServerUnavailable is raised."""
        try:
            return self.client.top_up(key, cmd.patient.patient_id, cmd.amount_cents, cmd.auth_code)
        except BusinessError as err:
            # A definite refusal (limits, unknown patient): nothing was charged.
            return TopUpResult(key, "FAILED", err.code, err.message, cmd.patient.patient_id, cmd.amount_cents, "",
                               False, 0)  # fmt: skip
        except ServerUnavailable:
            if first:
                raise
            return None
        except ServerError as err:
            log.info("top-up request outcome unknown: %s", err.code)
            return None

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
