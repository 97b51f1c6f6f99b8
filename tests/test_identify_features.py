"""The identification step every feature shares, and the feature flow contract, against the real server.

Identify by ID card, social-security card, visit-card QR (``HVC:``) and e-voucher (a token the
insurance platform sandbox issued); no record → filing is offered; a payment code or garbage at
the identify step is explained, not looked up; offline, a card used here before is still found.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

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
