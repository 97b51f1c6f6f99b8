"""The face capture end to end: the real camera driver reading a real person's frames (the face
puppet at the wire), the real models, the liveness challenge, and 1:1 against a chip photo."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator

import cv2
import numpy as np
import pytest

from tests.conftest import SHARED

CLIP = SHARED / "video" / "short_hamilton_clip.mp4"
pytestmark = pytest.mark.skipif(not CLIP.exists(), reason="shared/video is not beside the repo")


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> object:
    from face.engine import FaceEngine
    from face.settings import FaceSettings

    eng = FaceEngine(FaceSettings(cache_dir=tmp_path_factory.mktemp("face-cache")))
    eng.warm_up()
    return eng


@pytest.fixture
def puppet() -> Iterator[object]:
    from devices.emulators.face_puppet import FacePuppet

    with FacePuppet(CLIP) as p:
        yield p


@pytest.fixture
def camera(puppet: object) -> Iterator[object]:
    from devices.camera import Camera

    cam = Camera(puppet.url)  # type: ignore[attr-defined]
    cam.start()
    yield cam
    cam.stop()


class Patient:
    """Plays the patient: follows each action the screen asks for, like a person would."""

    def __init__(self, puppet: object, obey: bool = True) -> None:
        self.puppet, self.obey = puppet, obey
        self.reports: list[object] = []
        self.outcome: object = None
        self.done = threading.Event()

    def on_report(self, report: object) -> None:
        from face.types import Action

        self.reports.append(report)
        action = report.action  # type: ignore[attr-defined]
        if self.obey and action is not None:
            want = "turn_left" if action is Action.TURN_LEFT else "turn_right"
            if self.puppet.motion != want:  # type: ignore[attr-defined]
                self.puppet.act(want)  # type: ignore[attr-defined]

    def on_done(self, outcome: object) -> None:
        self.outcome = outcome
        self.done.set()


def run_capture(engine: object, camera: object, patient: Patient, reference: np.ndarray | None, seed: int) -> object:
    from face.capture import FaceCapture

    capture = FaceCapture(
        engine,  # type: ignore[arg-type]
        camera,  # type: ignore[arg-type]
        on_report=patient.on_report,
        on_done=patient.on_done,
        rng=random.Random(seed),
    )
    capture.start(reference)
    assert patient.done.wait(40), "the capture did not decide"
    capture.join(5)
    return patient.outcome


def chip_photo(puppet: object, engine: object) -> np.ndarray:
    from face.detect import detect_still, main_face

    def locate(frame: np.ndarray) -> tuple[float, float, float, float]:
        face = main_face(detect_still(frame, engine._load()[0]))  # type: ignore[attr-defined]
        assert face is not None
        return face.box

    jpeg = puppet.chip_photo(locate)  # type: ignore[attr-defined]
    image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None
    return image


@pytest.mark.parametrize("seed", [1, 2])  # 1 asks left first, 2 right first
def test_live_patient_passes_and_matches_the_chip_photo(
    engine: object, puppet: object, camera: object, seed: int
) -> None:
    from face.types import Phase

    patient = Patient(puppet)
    outcome = run_capture(engine, camera, patient, chip_photo(puppet, engine), seed)
    assert outcome.live, outcome.reason  # type: ignore[attr-defined]
    assert outcome.match is not None and outcome.match.matched, outcome.match  # type: ignore[attr-defined]
    assert outcome.template.dim == engine.encoder.dim  # type: ignore[attr-defined]
    phases = [r.phase for r in patient.reports]  # type: ignore[attr-defined]
    assert Phase.POSITIONING in phases and Phase.CHALLENGE in phases
    assert all(r.preview is not None and r.preview.shape[1] <= 480 for r in patient.reports)  # type: ignore[attr-defined]


def test_someone_else_is_live_but_does_not_match(engine: object, puppet: object, camera: object) -> None:
    """The same live session against another person's photo: live, and refused."""
    other = cv2.imread(str(SHARED / "faces" / "fixtures" / "obama-480p.jpg"))
    outcome = run_capture(engine, camera, Patient(puppet), other, seed=3)
    assert outcome.live  # type: ignore[attr-defined]
    assert outcome.match is not None and not outcome.match.matched  # type: ignore[attr-defined]


def test_a_photo_turned_in_front_of_the_camera_fails(engine: object, puppet: object, camera: object) -> None:
    puppet.act("photo")  # type: ignore[attr-defined]
    outcome = run_capture(engine, camera, Patient(puppet, obey=False), None, seed=1)
    assert not outcome.live  # type: ignore[attr-defined]
    assert outcome.reason in {"timeout", "flat"}  # type: ignore[attr-defined]
    assert outcome.template is None  # type: ignore[attr-defined]


def test_turning_the_wrong_way_fails(engine: object, puppet: object, camera: object) -> None:
    class Contrary(Patient):
        def on_report(self, report: object) -> None:
            from face.types import Action

            self.reports.append(report)
            if report.action is not None:  # type: ignore[attr-defined]
                want = "turn_right" if report.action is Action.TURN_LEFT else "turn_left"  # type: ignore[attr-defined]
                if self.puppet.motion != want:  # type: ignore[attr-defined]
                    self.puppet.act(want)  # type: ignore[attr-defined]

    outcome = run_capture(engine, camera, Contrary(puppet), None, seed=1)
    assert not outcome.live and outcome.reason == "wrong_direction"  # type: ignore[attr-defined]


def test_two_people_get_the_one_person_hint_and_no_challenge(engine: object, puppet: object, camera: object) -> None:
    from face.capture import FaceCapture
    from face.types import Hint, Phase

    puppet.act("two_people")  # type: ignore[attr-defined]
    patient = Patient(puppet, obey=False)
    capture = FaceCapture(engine, camera, on_report=patient.on_report, on_done=patient.on_done)  # type: ignore[arg-type]
    capture.start(None)
    deadline = time.monotonic() + 10
    while len(patient.reports) < 20 and time.monotonic() < deadline:
        time.sleep(0.05)
    capture.cancel()
    capture.join(5)
    assert not patient.done.is_set(), "cancel must not report an outcome"
    hints = {r.quality.hint for r in patient.reports[5:]}  # type: ignore[attr-defined]
    assert hints == {Hint.ONE_PERSON}
    assert {r.phase for r in patient.reports} == {Phase.POSITIONING}  # type: ignore[attr-defined]


def test_a_chip_photo_without_a_face_is_refused_at_once(engine: object, puppet: object, camera: object) -> None:
    blank = np.full((126, 102, 3), 200, np.uint8)
    outcome = run_capture(engine, camera, Patient(puppet), blank, seed=1)
    assert not outcome.live and outcome.reason == "no_reference"  # type: ignore[attr-defined]


def test_camera_gone_ends_the_capture(engine: object, puppet: object) -> None:
    class Silent:
        def wait_frame(self, timeout_s: float, newer_than: int = 0) -> None:
            time.sleep(min(timeout_s, 0.05))

    outcome = run_capture(engine, Silent(), Patient(puppet), None, seed=1)
    assert not outcome.live and outcome.reason == "camera"  # type: ignore[attr-defined]


