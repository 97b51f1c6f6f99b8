"""The identification step every feature shares, and the feature flow contract, against the real server.

Identify by ID card, social-security card, visit-card QR (``HVC:``) and e-voucher (a token the
insurance platform sandbox issued); no record → filing is offered; a payment code or garbage at
the identify step is explained, not looked up; offline, a card used here before is still found.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest
import requests

from devices.emulators.idcard import sample_cards
from devices.sscard.records import InsuranceCardData
from kiosk_app.features.base import FeatureFlow, FeatureService
from kiosk_app.flows.identify import FindPatient, Method, Patient, find_by_code, visit_card_number
from kiosk_app.services.identify import NotFound, PatientFinder
from sync.client import BusinessError, ServerClient

ZHANG = sample_cards()["zhangsan"]
ELDER = sample_cards()["elder"]


# ---- Pure: codes and the flow contract


def test_codes_are_told_apart() -> None:
    assert visit_card_number("HVC:800000000127") == "800000000127"
    assert visit_card_number("hvc:800000000127\r") == "800000000127"
    assert visit_card_number("HVC:12ab") is None
    found = find_by_code("HVC:800000000127")
    assert isinstance(found, FindPatient) and found.method is Method.VISIT_CARD
    token = "ECT" + "A" * 32
    found = find_by_code(token)
    assert isinstance(found, FindPatient) and found.method is Method.EVOUCHER and found.value == token
    assert find_by_code("134567890123456789") == "identify.payment_code_here"  # a WeChat payment code
    assert find_by_code("hello world") == "identify.unknown_code"
    assert token not in repr(found)  # the token is a credential: never in a log line


class DemoFlow(FeatureFlow):
    feature = "demo"
    BACK: ClassVar[dict[str, str]] = {"demo.list": "demo.identify"}

    def reset_feature(self) -> None:
        self.loaded: list[str] = []

    def identified(self, patient: Patient) -> list[Any]:
        self.step, self.busy = "demo.list", True
        return ["load"]


def test_feature_flow_identifies_then_continues() -> None:
    flow = DemoFlow()
    assert flow.at_home and flow.start() == [] and flow.step == "demo.identify" and flow.has_back
    assert flow.code_scanned("134567890123456789") == [] and flow.message == "identify.payment_code_here"
    (cmd,) = flow.card_read(ZHANG)
    assert isinstance(cmd, FindPatient) and cmd.method is Method.ID_CARD and flow.busy and flow.message == ""
    assert cmd.name_masked == "张*" and ZHANG.id_number not in repr(cmd)
    assert flow.card_read(ZHANG) == []  # a second read while looking up is ignored
    assert flow.patient_found(Patient(7, "张*", "110***********0010")) == ["load"]
    assert flow.step == "demo.list" and flow.patient is not None
    flow.busy = False
    assert flow.back() == [] and flow.step == "demo.identify" and flow.patient is None
    assert flow.back() == [] and flow.at_home


def test_no_record_offers_filing_and_home_forgets() -> None:
    flow = DemoFlow()
    flow.start()
    flow.card_read(ELDER)
    flow.patient_not_found()
    assert flow.offer_filing and flow.message == "identify.not_found" and not flow.busy
    card = InsuranceCardData(card_number="A1", name="王秀英", id_number=ELDER.id_number)
    (cmd,) = flow.insurance_card_read(card)  # try again with the other card
    assert cmd.method is Method.INSURANCE_CARD and cmd.value == ELDER.id_number and not flow.offer_filing
    flow.home()
    assert flow.at_home and flow.patient is None and flow.ident.method is None


# ---- Against the real server


@dataclass
class Rig:
    client: ServerClient
    finder: PatientFinder
    base_url: str


@pytest.fixture
def rig(server) -> Iterator[Rig]:
    client = ServerClient(server.base_url, kiosk_id="K1", credential=server.kiosk_credential("K1"))
    try:
        yield Rig(client, PatientFinder(client), server.base_url)
    finally:
        client.close()


def file_zhang(client: ServerClient) -> Any:
    return client.file_patient(
        "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", "resident", ZHANG.id_number, ZHANG.name, "M", "1980-01-01",
        "13800138000", "staff", False,
    )  # fmt: skip


def test_find_by_card_visit_card_and_evoucher(rig: Rig) -> None:
    filed = file_zhang(rig.client)
    by_card = rig.finder.find(FindPatient(Method.ID_CARD, ZHANG.id_number, "resident", "张*", "110***********0010"))
    assert by_card.patient_id == filed.patient_id and by_card.visit_card_no == filed.visit_card_no
    by_qr = find_by_code(f"HVC:{filed.visit_card_no}")
    assert isinstance(by_qr, FindPatient)
    patient = rig.finder.find(by_qr)
    # Masked by the server exactly as the kiosk masks: 张* and 110***********NNNN.
    assert (patient.patient_id, patient.name_masked) == (filed.patient_id, "张*")
    assert patient.id_masked == ZHANG.id_number[:3] + "*" * 11 + ZHANG.id_number[-4:]
    issued = {"patient_id": filed.patient_id}
    token = requests.post(f"{rig.base_url}/sandbox/insurance/evoucher", json=issued, timeout=5)
    voucher = find_by_code(token.json()["token"])
    assert isinstance(voucher, FindPatient) and voucher.method is Method.EVOUCHER
    assert rig.finder.find(voucher).patient_id == filed.patient_id


def test_unknown_identities_are_not_found_and_bad_numbers_refused(rig: Rig) -> None:
    with pytest.raises(NotFound):
        rig.finder.find(FindPatient(Method.ID_CARD, ELDER.id_number, "resident"))
    with pytest.raises(NotFound):
        rig.finder.find(FindPatient(Method.EVOUCHER, "ECT" + "0" * 32))  # never issued (or expired)
    with pytest.raises(NotFound):
        rig.finder.find(FindPatient(Method.VISIT_CARD, "800000099997"))  # well formed, nobody has it
    with pytest.raises(BusinessError) as err:
        rig.finder.find(FindPatient(Method.VISIT_CARD, "800000000127"))  # wrong check digit (12 is ...128)
    assert err.value.code == "invalid_visit_card"


class DemoService(FeatureService):
    def run(self, cmd: Any, progress: Any) -> Any:
        return lambda f: f.notify(f"ran {cmd}")


def test_the_service_turns_finding_into_flow_events(rig: Rig) -> None:
    file_zhang(rig.client)
    service = DemoService(rig.finder)
    flow = DemoFlow()
    flow.start()
    (cmd,) = flow.card_read(ZHANG)
    assert service.execute(cmd, lambda o: None)(flow) == ["load"] and flow.step == "demo.list"
    flow = DemoFlow()
    flow.start()
    (cmd,) = flow.card_read(ELDER)
    service.execute(cmd, lambda o: None)(flow)
    assert flow.offer_filing
    flow.ident.phase = flow.ident.phase.WAITING
    (cmd,) = flow.code_scanned("HVC:800000000127")
    service.execute(cmd, lambda o: None)(flow)  # the server's 422 becomes a message, not a crash
    assert flow.message == "server.rejected.invalid_visit_card" and not flow.busy and flow.step == "demo.identify"


# ---- By face: the phone's last four digits, then the live face (1:N with a second factor)


def test_face_identification_steps() -> None:
    from face.types import Template
    from kiosk_app.flows.filing import CancelCapture, StartCapture
    from kiosk_app.flows.identify import IdentifyByFace

    flow = DemoFlow()
    flow.start(face_ok=False)
    assert flow.choose_face() == [] and flow.step == "demo.identify"  # no camera / models: not offered
    flow.start(face_ok=True)
    flow.choose_face()
    assert flow.step == "demo.face" and flow.has_back
    for digit in "80001":
        flow.face_digit(digit)
    assert flow.ident.digits == "8000"  # four, no more
    (start,) = flow.face_submit()
    assert isinstance(start, StartCapture) and start.reference is None
    assert flow.back() == [CancelCapture()] and flow.step == "demo.identify"  # Back stops the camera
    flow.choose_face()
    for digit in "8000":
        flow.face_digit(digit)
    flow.face_submit()
    flow.capture_done(False, "flat", None)  # a photo held up: back to the cards, with the reason
    assert flow.step == "demo.identify" and flow.message == "face.fail.flat"
    flow.choose_face()
    for digit in "8000":
        flow.face_digit(digit)
    flow.face_submit()
    template = Template("sface", np.ones(128, np.float32))
    (cmd,) = flow.capture_done(True, "", template)
    assert isinstance(cmd, IdentifyByFace) and cmd.digits == "8000" and "8000" not in repr(cmd) and flow.busy
    flow.face_not_matched()
    assert flow.step == "demo.identify" and flow.message == "identify.face_no_match" and not flow.busy


FACES = Path(__file__).resolve().parents[2] / "shared" / "faces" / "dev"


@pytest.mark.skipif(not FACES.is_dir(), reason="shared face data not present")
def test_face_finds_the_enrolled_patient_only_with_the_right_digits(rig: Rig, tmp_path: Path) -> None:
    import cv2

    from face.engine import FaceEngine
    from face.settings import FaceSettings
    from kiosk_app.flows.identify import IdentifyByFace
    from kiosk_app.services.face import FaceSupport, template_store_factory
    from kiosk_app.services.identify import FaceNoMatch

    settings = FaceSettings(cache_dir=tmp_path / "cache", template_db=tmp_path / "templates.db")
    engine = FaceEngine(settings)
    support = FaceSupport(settings, engine, camera=object(), templates=template_store_factory(settings, tmp_path))
    support.warm_up()

    def encode(person: str, index: int = 0) -> Any:
        photo = sorted((FACES / person).glob("*.jpg"))[index]
        template, why = engine.encode_photo(cv2.imread(str(photo)))
        assert template is not None, why
        return template

    filed = file_zhang(rig.client)  # person01's face stands for 张三 here
    enrolled = {f"patient:{filed.patient_id}": encode("person01"), "patient:999": encode("person02")}
    for subject, template in enrolled.items():
        support.save_template(subject, template, consent_version="1", factor="8000")
    finder = PatientFinder(rig.client, None, support)
    probe = encode("person01", -1)  # another photo of the same person
    patient = finder.by_face(IdentifyByFace(probe, "8000"))
    assert (patient.patient_id, patient.name_masked, patient.method) == (filed.patient_id, "张*", Method.FACE)
    with pytest.raises(FaceNoMatch):
        finder.by_face(IdentifyByFace(probe, "1234"))  # right face, wrong digits: not even compared
    with pytest.raises(FaceNoMatch):
        finder.by_face(IdentifyByFace(encode("person03"), "8000"))  # not enrolled
