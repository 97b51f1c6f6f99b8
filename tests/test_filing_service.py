"""The filing service against the real server and the real local store: lookup, the journal's
key before the request, the template only after an online filing with consent, the offline queue,
and the slip's print-back record."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from devices.idcard.photo import MappedPhotoDecoder
from devices.printer import PROFILES, ReceiptPrinter
from face.settings import FaceSettings
from face.types import Template
from kiosk_app.demo import first_time_cards
from kiosk_app.flows.filing import (
    CONSENT_VERSION,
    Filed,
    FileRecord,
    Lookup,
    LookupPatient,
    PrepareFace,
    PrintSlip,
)
from kiosk_app.services.face import FaceSupport
from kiosk_app.services.filing import FILED, FilingService
from kiosk_app.services.offline import OfflinePolicy, OfflineSupport
from offline_cache import journal as J
from offline_cache.catalog import CatalogCache
from offline_cache.ids import uuid7
from offline_cache.journal import Journal
from offline_cache.offline_ops import FILE_PATIENT, OfflineRegistrar
from offline_cache.outbox import Outbox
from offline_cache.patients import RecentPatients
from offline_cache.store import Store
from sync.client import ServerClient
from sync.fieldcrypto import FieldCipher
from sync.uploader import Uploader

CARD = first_time_cards()["newpatient"]
TEMPLATE = Template("sface", np.ones(128, np.float32))


class FakeEngine:
    def warm_up(self) -> None:
        pass


class SavedTemplates:
    def __init__(self) -> None:
        self.saved: list[tuple[str, Template, str, str | None]] = []

    def save(self, subject: str, template: Template, *, consent_version: str, factor: str | None = None) -> None:
        self.saved.append((subject, template, consent_version, factor))


@dataclass
class Rig:
    service: FilingService
    journal: Journal
    offline: OfflineSupport
    templates: SavedTemplates
    decoder: MappedPhotoDecoder


def run(rig: Rig, cmd: object) -> tuple[str, tuple]:
    """Apply the outcome to a recorder: which flow event, with which arguments."""
    seen: list[tuple[str, tuple]] = []

    class Recorder:
        def __getattr__(self, name: str):
            return lambda *args: seen.append((name, args)) or []

    rig.service.execute(cmd)(Recorder())  # type: ignore[arg-type]
    return seen[0]


@pytest.fixture
def rig(tmp_path: Path, server, printer_emu) -> Iterator[Rig]:
    yield from make_rig(tmp_path, server.base_url, server.kiosk_credential("K1"), printer_emu)


def make_rig(tmp_path: Path, url: str, credential, printer_emu, upload_url: str = "") -> Iterator[Rig]:
    store = Store(tmp_path / "kiosk.db")
    journal = Journal(store)
    cipher = FieldCipher(secrets.token_bytes(32), domain="kiosk")
    outbox = Outbox(store, cipher)
    patients = RecentPatients(store, cipher)
    client = ServerClient(url, kiosk_id="K1", connect_timeout=0.5, read_timeout=5, credential=credential)
    upload = ServerClient(upload_url or url, kiosk_id="K1", connect_timeout=0.5, read_timeout=5, credential=credential)
    catalog = CatalogCache(store)
    offline = OfflineSupport(
        outbox,
        catalog,
        patients,
        OfflineRegistrar(store, outbox, patients, "K1"),
        Uploader(outbox, upload),
        OfflinePolicy(),
    )
    templates = SavedTemplates()
    decoder = MappedPhotoDecoder()
    face = FaceSupport(FaceSettings(), FakeEngine(), object(), decoder, templates=lambda: templates)
    service = FilingService(
        client=client,
        journal=journal,
        printer=ReceiptPrinter(printer_emu.url, PROFILES["default-80mm"], timeout=2),
        kiosk_id="K1",
        hospital_name="示范人民医院",
        face=face,
        offline=offline,
    )
    try:
        yield Rig(service, journal, offline, templates, decoder)
    finally:
        client.close()
        upload.close()
        store.close()


def file_cmd(verification: str = "face", template: Template | None = TEMPLATE) -> FileRecord:
    return FileRecord(uuid7(), CARD, "13800138000", verification, verification == "face", template)


def test_online_filing_keys_the_journal_first_and_stores_the_template(rig: Rig, printer_emu) -> None:
    assert run(rig, LookupPatient(CARD)) == ("looked_up", (Lookup(False),))
    cmd = file_cmd()
    event, (filed,) = run(rig, cmd)
    assert event == "record_filed" and isinstance(filed, Filed) and not filed.pending and filed.is_new
    row = rig.journal.get(cmd.txn_id)
    assert row is not None and row["state"] == FILED and row["patient_ref"]
    states = [e["state"] for e in rig.journal.events(cmd.txn_id)]
    assert states.index("filing") < states.index(FILED)  # the key was durable before the request
    assert '"filing_key"' in (row["details"] or "")
    ((subject, template, version, factor),) = rig.templates.saved
    assert subject == f"patient:{row['patient_ref']}" and template is TEMPLATE
    assert version == CONSENT_VERSION and factor == "8000"
    # Now the server knows the patient: a second visit shows the (masked on screen) visit card.
    assert run(rig, LookupPatient(CARD)) == ("looked_up", (Lookup(True, filed.visit_card_no),))
    # The slip prints once; a second attempt with the same job id is refused by the print-back record.
    slip = PrintSlip(cmd.txn_id, "李*", "110***********0031", filed, "face", "138****8000")
    assert run(rig, slip) == ("printed", (True,))
    (job,) = printer_emu.wait_for_jobs(1)
    assert filed.visit_card_no in job.text and "人脸核验" in job.text and CARD.id_number not in job.text
    assert "138****8000" in job.text and "13800138000" not in job.text
    assert run(rig, slip) == ("printed", (True, ""))
    assert len(printer_emu.jobs) == 1


def test_staff_filing_keeps_no_template(rig: Rig, printer_emu) -> None:
    cmd = file_cmd("staff", None)
    event, (filed,) = run(rig, cmd)
    assert event == "record_filed" and rig.templates.saved == []
    run(rig, PrintSlip(cmd.txn_id, "李*", "110***********0031", filed, "staff"))
    (job,) = printer_emu.wait_for_jobs(1)
    assert "人工核验" in job.text


def test_chip_photo_decodes_or_says_unavailable(rig: Rig) -> None:
    import cv2

    assert run(rig, PrepareFace(CARD)) == ("face_unavailable", ("face.unavailable.photo",))
    _, jpeg = cv2.imencode(".jpg", np.full((126, 102, 3), 128, np.uint8))
    rig.decoder.register(CARD.photo_wlt, jpeg.tobytes())
    event, (image,) = run(rig, PrepareFace(CARD))
    assert event == "face_ready" and image.shape == (126, 102, 3)


def test_offline_filing_is_queued_alone_with_a_provisional_number(tmp_path: Path, printer_emu) -> None:
    # Nothing listens on this port: the kiosk is offline.
    rigs = make_rig(tmp_path, "http://127.0.0.1:9", None, printer_emu)
    rig = next(rigs)
    try:
        assert run(rig, LookupPatient(CARD)) == ("looked_up", (Lookup(False, offline=True),))
        cmd = file_cmd()
        event, (filed,) = run(rig, cmd)
        assert event == "record_filed" and filed.pending and filed.visit_card_no.startswith("P-K1-")
        row = rig.journal.get(cmd.txn_id)
        assert row is not None and row["state"] == J.QUEUED and row["provisional_no"] == filed.visit_card_no
        ops = list(rig.offline.outbox.store.read().query("SELECT * FROM outbox"))
        assert [op["kind"] for op in ops] == [FILE_PATIENT] and ops[0]["txn_id"] == cmd.txn_id
        body = rig.offline.outbox.body(ops[0])
        assert body["phone"] == "13800138000" and body["verification"] == "face" and body["face_consent"]
        assert rig.templates.saved == []  # no patient id yet: the template is not kept
        run(rig, PrintSlip(cmd.txn_id, "李*", "110***********0031", filed, "face"))
        (job,) = printer_emu.wait_for_jobs(1)
        assert "待确认" in job.text and filed.visit_card_no in job.text
    finally:
        rigs.close()


def test_a_queued_filing_is_confirmed_when_the_network_is_back(tmp_path: Path, server, printer_emu) -> None:
    credential = server.kiosk_credential("K1")
    # The kiosk's own calls fail (offline); the uploader reaches the server once it is back.
    rigs = make_rig(tmp_path, "http://127.0.0.1:9", credential, printer_emu, upload_url=server.base_url)
    rig = next(rigs)
    try:
        cmd = file_cmd("staff", None)
        _, (filed,) = run(rig, cmd)
        assert filed.pending
        assert rig.offline.uploader.drain_once()
        row = rig.journal.get(cmd.txn_id)
        assert row is not None and row["state"] == FILED and row["patient_ref"]
        details = json.loads(row["details"])
        # The visit card from the answer joins what the kiosk recorded when it queued the filing.
        assert details["visit_card_no"] and details["verification"] == "staff" and details["filing_key"]
        assert rig.offline.patients.find(CARD.card_type, CARD.id_number) is not None
    finally:
        rigs.close()


def test_a_filing_in_flight_counts_as_unresolved_until_answered(rig: Rig) -> None:
    """A crash between the key and the answer leaves a ``filing`` row: the heartbeat reports it."""
    txn = uuid7()
    rig.journal.create(txn, "filing", patient_masked="李* 110***********0031", patient_ref="")
    rig.journal.update(txn, J.FILING, details={"filing_key": "k"})
    assert J.unresolved(rig.journal)[0] == 1
    rig.journal.update(txn, FILED)
    assert J.unresolved(rig.journal)[0] == 0
