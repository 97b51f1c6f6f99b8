"""退号 at the kiosk, pure: identify → the patient's paid registrations → confirm → refund → result + slip.

No I/O here: events change the state and return commands that the service runs in a worker
(kiosk_app/features/refund/service.py). While the refund is in flight the flow cannot be left
(no Home, no idle timeout); the service writes the refund key to the journal before the request.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import ClassVar

from kiosk_app.features.base import FeatureFlow
from kiosk_app.flows.identify import Patient
from kiosk_app.flows.printing import PrintState
from offline_cache.ids import uuid7
from sync.client import RefundableRegistration, RefundResult

LIST = "refund.list"
CONFIRM = "refund.confirm"
REFUNDING = "refund.refunding"
DONE = "refund.done"


class Outcome(enum.StrEnum):
    REFUNDED = "refunded"  # the money is on its way back
    PENDING = "pending"  # the registration is cancelled; the provider is still moving the money
    FAILED = "failed"  # cancelled, but the provider refused: the cashier refunds by hand
    UNKNOWN = "unknown"  # the kiosk could not learn the answer; the server finishes it


@dataclass(frozen=True)
class LoadRefundable:
    patient_id: int


@dataclass(frozen=True)
class RefundRegistration:
    txn_id: str
    patient: Patient
    item: RefundableRegistration


@dataclass(frozen=True)
class PrintRefundSlip:
    txn_id: str
    patient: Patient
    item: RefundableRegistration
    outcome: Outcome
    refund: RefundResult | None
    refund_key: str


class RefundFlow(FeatureFlow):
    feature = "refund"
    BACK: ClassVar[dict[str, str]] = {LIST: "refund.identify", CONFIRM: LIST}
    UNINTERRUPTIBLE = frozenset({REFUNDING})

    def reset_feature(self) -> None:
        self.items: tuple[RefundableRegistration, ...] = ()
        self.loaded = False
        self.chosen: RefundableRegistration | None = None
        self.txn_id = ""
        self.refund_key = ""
        self.outcome: Outcome | None = None
        self.refund: RefundResult | None = None
        self.print_state = PrintState.NONE

    @property
    def refundable(self) -> tuple[RefundableRegistration, ...]:
        return tuple(item for item in self.items if item.refundable)

    # ---- Events

    def identified(self, patient: Patient) -> list[object]:
        self.step, self.busy = LIST, True
        return [LoadRefundable(patient.patient_id)]

    def listed(self, items: list[RefundableRegistration]) -> list[object]:
        if self.step != LIST:
            return []
        self.items, self.loaded, self.busy = tuple(items), True, False
        if not self.refundable and not self.message:  # a refusal that brought us back says more
            self.message = "refund.none" if not items else "refund.none_in_window"
        return []

    def choose(self, item: RefundableRegistration) -> list[object]:
        if self.step != LIST or self.busy:
            return []
        if not item.refundable:
            self.message = f"refund.blocked.{item.blocked_reason or 'unknown'}"
            return []
        self.chosen, self.step, self.message = item, CONFIRM, ""
        return []

    def confirm(self) -> list[object]:
        """The patient confirmed: from here the refund is in flight until the server answers."""
        if self.step != CONFIRM or self.busy or self.chosen is None or self.patient is None:
            return []
        self.txn_id = uuid7()
        self.step, self.busy, self.message = REFUNDING, True, ""
        return [RefundRegistration(self.txn_id, self.patient, self.chosen)]

    def refund_key_stored(self, key: str) -> list[object]:
        """The service journalled the key (shown on the slip if the answer never comes)."""
        self.refund_key = key
        return []

    def refund_finished(self, outcome: Outcome, refund: RefundResult | None) -> list[object]:
        if self.step != REFUNDING or self.chosen is None or self.patient is None:
            return []
        self.step, self.busy, self.outcome, self.refund = DONE, False, outcome, refund
        if refund is not None:
            self.refund_key = refund.refund_key
        self.message = {
            Outcome.REFUNDED: "",
            Outcome.PENDING: "refund.pending",
            Outcome.FAILED: "refund.failed",
            Outcome.UNKNOWN: "refund.unknown",
        }[outcome]
        return self._print()

    def refund_refused(self, key: str) -> list[object]:
        """The server refused (e.g. the window closed while the patient read the screen): nothing
        changed; back to a fresh list with the reason."""
        if self.step != REFUNDING or self.patient is None:
            return []
        self.step, self.chosen, self.message = LIST, None, key
        self.busy, self.loaded = True, False
        return [LoadRefundable(self.patient.patient_id)]

    def printed(self, ok: bool, key: str = "") -> list[object]:
        if self.step != DONE:
            return []
        self.print_state = PrintState.PRINTED if ok else PrintState.FAILED
        if not ok:
            self.message = key
        return []

    def reprint(self) -> list[object]:
        """After a failed print (paper out): try the same slip again; the journal prints it once."""
        if self.step != DONE or self.print_state is not PrintState.FAILED:
            return []
        return self._print()

    def failed(self, key: str) -> list[object]:
        if self.step == REFUNDING:
            # Not expected (the service turns every refund error into an outcome); keep the patient
            # on a screen that says "not confirmed" rather than pretending nothing happened.
            return self.refund_finished(Outcome.UNKNOWN, None) + self.notify(key)
        if self.step == DONE and self.print_state is PrintState.PRINTING:
            return self.printed(False, key)
        return super().failed(key)

    def _print(self) -> list[object]:
        if self.chosen is None or self.patient is None or self.outcome is None:
            return []
        self.print_state = PrintState.PRINTING
        return [PrintRefundSlip(self.txn_id, self.patient, self.chosen, self.outcome, self.refund, self.refund_key)]
