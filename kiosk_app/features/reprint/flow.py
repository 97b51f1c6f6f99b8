"""Receipt reprint (补打), pure: identify → the patient's recent slips on this kiosk → reprint one.

Every copy is marked 补打 (REPRINT) and recorded as a print job of its own in the journal
(offline_cache/reprints.py), at most ``MAX_REPRINTS`` per slip: a reprint is never an accident.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from kiosk_app.features.base import FeatureFlow
from kiosk_app.flows.identify import Patient
from kiosk_app.flows.printing import PrintState
from offline_cache.reprints import PrintRecord

LIST = "reprint.list"
DONE = "reprint.done"


@dataclass(frozen=True)
class LoadPrints:
    patient_ref: str


@dataclass(frozen=True)
class Reprint:
    record: PrintRecord


class ReprintFlow(FeatureFlow):
    feature = "reprint"
    BACK: ClassVar[dict[str, str]] = {LIST: "reprint.identify", DONE: LIST}
    DEVICES: ClassVar[dict[str, str]] = {LIST: "printer"}

    def reset_feature(self) -> None:
        self.records: tuple[PrintRecord, ...] = ()
        self.loaded = False
        self.chosen: PrintRecord | None = None
        self.print_state = PrintState.NONE
        self.copy_no = 0

    def identified(self, patient: Patient) -> list[object]:
        self.step, self.busy = LIST, True
        return [LoadPrints(str(patient.patient_id))]

    def listed(self, records: list[PrintRecord]) -> list[object]:
        if self.step != LIST:
            return []
        self.records, self.loaded, self.busy = tuple(records), True, False
        if not records and not self.message:
            self.message = "reprint.none"
        return []

    def choose(self, record: PrintRecord) -> list[object]:
        if self.step != LIST or self.busy:
            return []
        if record.reprints_left <= 0:
            self.message = "reprint.limit"
            return []
        self.chosen, self.busy, self.message = record, True, ""
        self.print_state = PrintState.PRINTING
        return [Reprint(record)]

    def reprinted(self, ok: bool, key: str = "", copy_no: int = 0) -> list[object]:
        if self.chosen is None or self.step not in (LIST, DONE):
            return []
        self.step, self.busy = DONE, False
        self.print_state = PrintState.PRINTED if ok else PrintState.FAILED
        self.copy_no = copy_no
        self.message = key
        return []

    def again(self) -> list[object]:
        """Try the same copy again after a failure (paper out): the journal reuses its job id."""
        if self.step != DONE or self.busy or self.chosen is None or self.print_state is not PrintState.FAILED:
            return []
        self.busy, self.message, self.print_state = True, "", PrintState.PRINTING
        return [Reprint(self.chosen)]

    def leaving_step(self, step: str, target: str) -> list[object]:
        if step == DONE and self.patient is not None:
            # Back to a fresh list: the copies left have changed.
            self.chosen, self.print_state, self.busy = None, PrintState.NONE, True
            return [LoadPrints(str(self.patient.patient_id))]
        return []

    def failed(self, key: str) -> list[object]:
        if self.print_state is PrintState.PRINTING and self.chosen is not None:
            return self.reprinted(False, key)
        return super().failed(key)
