"""Runs :class:`~kiosk_app.flows.identify.FindPatient` in a worker: server first, offline cache second.

A card (ID or insurance) is looked up with ``/patients/lookup``; a scanned or typed visit-card
number, an e-voucher token or an id from a face match with ``/patients/find``. Neither creates
a patient: someone with no record is offered filing (建档). When the server cannot be reached a
card holder who used this kiosk recently is still found in the local cache (by an HMAC of the ID
number); codes need the server (the e-voucher even needs the insurance platform behind it).
"""

from __future__ import annotations

import logging
from typing import Protocol

from face.types import Template
from kiosk_app.flows.identify import FindPatient, IdentifyByFace, Method, Patient
from kiosk_app.services.offline import OfflineSupport
from sync.client import FoundPatient, PatientLookup, ServerTimeout, ServerUnavailable

log = logging.getLogger(__name__)

CARDS = (Method.ID_CARD, Method.INSURANCE_CARD)
SERVER_METHOD = {Method.VISIT_CARD: "visit_card", Method.TYPED: "visit_card", Method.EVOUCHER: "evoucher",
                 Method.FACE: "patient"}  # fmt: skip


class NotFound(Exception):
    """No record for this identity: the flow offers filing."""


class FaceNoMatch(Exception):
    """No enrolled face with these phone digits is close enough (or two are too close to tell)."""


class FaceIdentifier(Protocol):
    """kiosk_app.services.face.FaceSupport: 1:N among this kiosk's templates with a second factor."""

    def identify(self, template: Template, digits: str) -> int | None: ...


class IdentifyClient(Protocol):
    def lookup_patient(self, id_type: str, id_number: str) -> PatientLookup: ...

    def find_patient(self, method: str, value: str) -> FoundPatient: ...


class PatientFinder:
    def __init__(
        self, client: IdentifyClient, offline: OfflineSupport | None = None, face: FaceIdentifier | None = None
    ) -> None:
        self.client, self.offline, self.face = client, offline, face

    def by_face(self, cmd: IdentifyByFace) -> Patient:
        """The patient whose consented template matches, among those enrolled with the same digits."""
        if self.face is None:
            raise FaceNoMatch
        patient_id = self.face.identify(cmd.template, cmd.digits)
        if patient_id is None:
            raise FaceNoMatch
        return self.find(FindPatient(Method.FACE, str(patient_id)))

    def find(self, cmd: FindPatient) -> Patient:
        """The patient, or :class:`NotFound`; server errors propagate as ``ServerError``."""
        if cmd.method in CARDS:
            return self._by_card(cmd)
        found = self.client.find_patient(SERVER_METHOD[cmd.method], cmd.value)
        if not found.found or found.patient_id is None:
            log.info("identify by %s: no record", cmd.method)
            raise NotFound
        log.info("identify by %s: patient_id=%d", cmd.method, found.patient_id)
        return Patient(found.patient_id, found.name_masked, found.id_masked, found.visit_card_no or "", cmd.method)

    def _by_card(self, cmd: FindPatient) -> Patient:
        offline = self.offline
        if offline is None or not offline.uploader.offline:
            try:
                found = self.client.lookup_patient(cmd.id_type, cmd.value)
            except (ServerUnavailable, ServerTimeout) as err:
                if offline is None:
                    raise
                offline.uploader.note_unreachable(err.code)
            else:
                if not found.found or found.patient_id is None:
                    log.info("identify by %s: no record", cmd.method)
                    raise NotFound
                if offline is not None:
                    offline.patients.remember(cmd.id_type, cmd.value, found.patient_id, cmd.name_masked, cmd.id_masked)
                visit_card = found.visit_card_no or ""
                return Patient(found.patient_id, cmd.name_masked, cmd.id_masked, visit_card, cmd.method)
        assert offline is not None
        known = offline.patients.find(cmd.id_type, cmd.value)
        if known is None:
            missing = ServerUnavailable("unavailable", "the patient is not in the offline cache")
            missing.tr_key = "identify.not_in_cache"
            raise missing
        log.info("offline: identified from the local cache")
        return Patient(known.patient_id, cmd.name_masked, cmd.id_masked, "", cmd.method)
