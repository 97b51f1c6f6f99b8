"""The first-time filing state machine on its own: events in, commands out, no I/O."""

from __future__ import annotations

import numpy as np
import pytest

from devices.emulators.idcard import sample_cards
from face.types import Action, FrameReport, Hint, MatchResult, Phase, Quality, Template
from kiosk_app.flows.filing import (
    CancelCapture,
    FaceAvailability,
    Filed,
    FileRecord,
    FilingFlow,
    FilingStep,
    Lookup,
    LookupPatient,
    PrepareFace,
    PrintSlip,
    PrintState,
    StartCapture,
    mask_visit_card,
)

CARD = sample_cards()["zhangsan"]
FACE_OK = FaceAvailability(True)
REF = np.zeros((126, 102, 3), np.uint8)
TEMPLATE = Template("sface", np.ones(128, np.float32))
MATCH = MatchResult(True, 0.7, 0.36, "cosine")
NO_MATCH = MatchResult(False, 0.1, 0.36, "cosine", reason="below_threshold")
PHONE = "13800138000"


def at_consent(face: FaceAvailability = FACE_OK, retries: int = 2) -> FilingFlow:
    f = FilingFlow(retries=retries)
    f.start(face)
    assert f.card_read(CARD) == [LookupPatient(CARD)] and f.busy
    f.looked_up(Lookup(False))
    assert f.step is FilingStep.CONSENT and not f.busy
    return f


def at_face(retries: int = 2) -> FilingFlow:
    f = at_consent(retries=retries)
    assert f.choose_face() == [PrepareFace(CARD)] and f.busy
    (cmd,) = f.face_ready(REF)
    assert isinstance(cmd, StartCapture) and cmd.reference is REF
    assert f.step is FilingStep.FACE and f.capturing and f.attempts == 1
    return f


def type_phone(f: FilingFlow, digits: str = PHONE) -> None:
    for d in digits:
        f.phone_key(d)


def test_face_path_end_to_end() -> None:
    f = at_face()
    report = FrameReport(1, Phase.CHALLENGE, Quality(Hint.OK), action=Action.TURN_LEFT, actions_total=2)
    f.capture_report(report)
    assert f.report is report
    f.capture_done(True, "", TEMPLATE, MATCH)
    assert f.step is FilingStep.PHONE and f.verification == "face" and f.template is TEMPLATE
    assert f.reference is None and f.report is None  # the chip photo goes once the decision is made
    type_phone(f)
    (cmd,) = f.phone_submit()
    assert isinstance(cmd, FileRecord)
    assert cmd.verification == "face" and cmd.face_consent and cmd.template is TEMPLATE and cmd.phone == PHONE
    assert f.busy and not f.interruptible and f.home() == []  # the filing request is in flight
    assert f.record_filed(Filed("V000123")) == [
        PrintSlip(f.txn_id, f.name_masked, f.id_masked, Filed("V000123"), "face", "138****8000")
    ]
    assert f.step is FilingStep.RESULT and f.template is None and f.card is None and f.phone == ""
    f.printed(True)
    assert f.print_state is PrintState.PRINTED and f.reprint() == []


def test_staff_path_from_consent_files_as_staff_without_a_template() -> None:
    f = at_consent()
    assert f.choose_staff() == []
    assert f.step is FilingStep.PHONE and f.verification == "staff"
    type_phone(f)
    (cmd,) = f.phone_submit()
    assert isinstance(cmd, FileRecord)
    assert cmd.verification == "staff" and not cmd.face_consent and cmd.template is None


def test_staff_path_during_capture_stops_the_camera() -> None:
    f = at_face()
    assert f.choose_staff() == [CancelCapture()]
    assert f.reference is None and not f.capturing and f.verification == "staff"


def test_existing_record_shows_the_masked_card_and_drops_the_card() -> None:
    f = FilingFlow()
    f.start(FACE_OK)
    f.card_read(CARD)
    f.looked_up(Lookup(True, "V20261234"))
    assert f.step is FilingStep.ALREADY and f.card is None and f.message == "filing.already"
    assert mask_visit_card("V20261234") == "*****1234"
    assert f.back() == [] and f.step is FilingStep.ALREADY  # no back from here: only Home


@pytest.mark.parametrize(
    ("live", "reason", "template", "match", "key"),
    [
        (False, "timeout", None, None, "face.fail.timeout"),
        (False, "flat", None, None, "face.fail.flat"),
        (False, "still", None, None, "face.fail.still"),
        (False, "wrong_direction", None, None, "face.fail.wrong_direction"),
        (True, "", TEMPLATE, NO_MATCH, "face.fail.no_match"),
        (True, "", TEMPLATE, None, "face.fail.no_match"),  # live but never compared: not a pass
        (True, "", None, MATCH, "face.fail.no_match"),  # matched but no template: not a pass
    ],
)
def test_never_passes_silently(live: bool, reason: str, template, match, key: str) -> None:
    f = at_face()
    f.capture_done(live, reason, template, match)
    assert f.step is FilingStep.FACE_FAILED and f.message == key
    assert f.verification == "" and f.template is None
    assert f.phone_submit() == []  # cannot file from here without choosing the staff check


def test_retries_then_only_the_staff_path() -> None:
    f = at_face(retries=2)
    for attempt in (1, 2):
        f.capture_done(True, "", TEMPLATE, NO_MATCH)
        assert f.can_retry and f.attempts == attempt
        (cmd,) = f.retry()
        assert isinstance(cmd, StartCapture) and f.step is FilingStep.FACE
    f.capture_done(True, "", TEMPLATE, NO_MATCH)
    assert f.attempts == 3 and not f.can_retry and f.reference is None
    assert f.retry() == []
    f.choose_staff()
    assert f.step is FilingStep.PHONE and f.verification == "staff"


def test_zero_retries_goes_straight_to_staff_only() -> None:
    f = at_face(retries=0)
    f.capture_done(False, "timeout", None, None)
    assert not f.can_retry and f.retry() == []


def test_camera_trouble_is_not_the_patients_fault_and_leaves_the_staff_path() -> None:
    f = at_face()
    f.capture_done(False, "camera", None, None)
    assert f.step is FilingStep.CONSENT and not f.face.possible and f.message == "face.fail.camera"
    assert f.choose_face() == []


def test_face_unavailable_offers_only_staff() -> None:
    f = at_consent(FaceAvailability(False, "face.unavailable.camera"))
    assert f.message == "face.unavailable.camera"
    assert f.choose_face() == [] and f.step is FilingStep.CONSENT
    f = at_consent()
    f.choose_face()
    f.face_unavailable("face.unavailable.photo")  # no decoder for this card's photo
    assert f.step is FilingStep.CONSENT and not f.busy and not f.face.possible and f.reference is None


def test_phone_keypad_checks_mainland_mobile_numbers() -> None:
    f = at_consent()
    f.choose_staff()
    type_phone(f, "1280013800")
    f.phone_key("0")
    f.phone_key("9")  # a twelfth digit is ignored
    assert f.phone == "12800138000"
    assert f.phone_submit() == [] and f.message == "filing.phone_invalid"
    f.phone_delete()
    assert f.phone == "1280013800" and f.message == "filing.phone_invalid"
    f.phone_key("0")
    assert f.message == ""  # typing again clears the complaint
    f.phone = ""
    type_phone(f, "1380013800")
    assert f.phone_submit() == [] and f.message == "filing.phone_invalid"  # ten digits
    f.phone_key("0")
    assert len(f.phone_submit()) == 1


def test_back_steps_and_what_they_drop() -> None:
    f = at_face()
    assert f.back() == [CancelCapture()]
    assert f.step is FilingStep.CONSENT and f.reference is None and f.attempts == 0
    f.choose_staff()
    type_phone(f, "138")
    f.back()
    assert f.step is FilingStep.CONSENT and f.verification == ""
    f.back()
    assert f.step is FilingStep.IDENTIFY and f.card is None and f.name_masked == ""
    f.back()
    assert f.at_home and f.card is None


def test_home_and_idle_wipe_everything_including_the_camera() -> None:
    f = at_face()
    f.capture_report(FrameReport(1, Phase.POSITIONING, Quality(Hint.MOVE_CLOSER), preview=REF))
    assert f.home() == [CancelCapture()]
    assert f.at_home and f.reference is None and f.report is None and f.card is None
    assert f.retries == 2  # the configuration survives the wipe
    fresh = FilingFlow()
    assert {k: v for k, v in f.__dict__.items() if k != "face"} == {
        k: v for k, v in fresh.__dict__.items() if k != "face"
    }


def test_late_capture_events_are_ignored() -> None:
    f = at_face()
    f.home()
    f.capture_report(FrameReport(1, Phase.POSITIONING, Quality(Hint.OK)))
    f.capture_done(True, "", TEMPLATE, MATCH)
    assert f.at_home and f.report is None and f.template is None


def test_offline_lookup_and_pending_result() -> None:
    f = at_consent()
    f.offline = True
    f.choose_staff()
    type_phone(f)
    f.phone_submit()
    f.record_filed(Filed("P-K-0001", pending=True))
    assert f.message == "filing.pending_offline" and f.print_state is PrintState.PRINTING


def test_paper_out_offers_one_reprint() -> None:
    f = at_consent()
    f.choose_staff()
    type_phone(f)
    f.phone_submit()
    f.record_filed(Filed("V1"))
    f.printed(False, "printer.paper_out")
    assert f.print_state is PrintState.FAILED and f.message == "printer.paper_out"
    (cmd,) = f.reprint()
    assert isinstance(cmd, PrintSlip) and f.print_state is PrintState.PRINTING
    assert f.reprint() == []  # not again while printing


def test_describe_carries_no_identity() -> None:
    from kiosk_app.flows.filing import describe

    f = at_consent()
    text = repr(describe(f)) + repr(f)
    assert CARD.name not in text and CARD.id_number not in text
