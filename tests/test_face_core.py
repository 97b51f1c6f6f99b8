"""Face pieces without a camera: liveness on landmark tracks, the gallery, the template store."""

from __future__ import annotations

import os
import random
import sqlite3
import stat
from pathlib import Path

import numpy as np
import pytest

from face.gallery import Gallery, verify
from face.geometry import affine_pose
from face.liveness import Baseline, Challenge, random_actions
from face.settings import FaceSettings
from face.templates import TemplateStore, load_key
from face.types import Action, Face, Template
from sync.fieldcrypto import DecryptError

FRONT = np.array([[40, 50], [80, 50], [60, 72], [45, 92], [75, 92]], np.float32)


def head(yaw_deg: float, shift: tuple[float, float] = (0, 0)) -> Face:
    """Landmarks of a 3-D head turned by ``yaw_deg`` (to the person's left when positive): the
    nose stands 25 px in front of the eye–mouth plane, as on a real face at this scale."""
    pts3 = np.c_[FRONT - [60, 70], [0, 0, 25, 0, 0]]
    t = np.radians(yaw_deg)
    rot = np.array([[np.cos(t), 0, np.sin(t)], [0, 1, 0], [-np.sin(t), 0, np.cos(t)]])
    lm = (pts3 @ rot.T)[:, :2] + [60, 70] + np.array(shift)
    return Face((30.0, 30.0, 60.0, 80.0), lm.astype(np.float32))


def photo(yaw_deg: float) -> Face:
    """The same face printed on paper and turned: every point lies in one plane."""
    pts3 = np.c_[FRONT - [60, 70], np.zeros(5)]
    t = np.radians(yaw_deg)
    rot = np.array([[np.cos(t), 0, np.sin(t)], [0, 1, 0], [-np.sin(t), 0, np.cos(t)]])
    pts = pts3 @ rot.T
    f = 300.0
    lm = pts[:, :2] * (f / (f + pts[:, 2:3])) + [60, 70]  # with perspective
    return Face((30.0, 30.0, 60.0, 80.0), lm.astype(np.float32))


def run(challenge: Challenge, faces: list[Face | None], dt: float = 0.066) -> Challenge:
    t = challenge.started_at
    for face in faces:
        t += dt
        challenge.update(t, face)
    return challenge


def test_pose_of_a_photo_does_not_change_however_it_is_turned() -> None:
    front = affine_pose(photo(0).landmarks)
    turned = affine_pose(photo(40).landmarks)
    assert front is not None and turned is not None
    assert abs(turned[0] - front[0]) < 0.05
    real = affine_pose(head(30).landmarks)
    assert real is not None and real[0] - front[0] > 0.25  # a head turned left moves the nose right


def test_random_actions_alternate_and_start_either_way() -> None:
    starts = {random_actions(2, random.Random(seed))[0] for seed in range(20)}
    assert starts == {Action.TURN_LEFT, Action.TURN_RIGHT}
    assert random_actions(3, random.Random(1)) in (
        [Action.TURN_LEFT, Action.TURN_RIGHT, Action.TURN_LEFT],
        [Action.TURN_RIGHT, Action.TURN_LEFT, Action.TURN_RIGHT],
    )


def sweep(a: float, b: float, n: int = 8) -> list[float]:
    return list(np.linspace(a, b, n))


def test_a_head_following_the_challenge_passes() -> None:
    c = Challenge([Action.TURN_LEFT, Action.TURN_RIGHT], Baseline.of([head(0)]), started_at=0.0)
    run(c, [head(y) for y in sweep(0, 30) + sweep(30, -30, 12)])
    assert c.state.passed and not c.state.failed


def test_the_wrong_first_turn_fails() -> None:
    c = Challenge([Action.TURN_LEFT, Action.TURN_RIGHT], Baseline.of([head(0)]), started_at=0.0)
    run(c, [head(y) for y in sweep(0, -30)])
    assert c.state.failed == "wrong_direction"


def test_a_turned_photo_is_flat() -> None:
    c = Challenge([Action.TURN_LEFT, Action.TURN_RIGHT], Baseline.of([photo(0)]), started_at=0.0)
    run(c, [photo(y) for y in sweep(0, 45)])
    assert c.state.failed == "flat"


def test_a_still_face_times_out_and_a_lost_face_gives_up() -> None:
    c = Challenge([Action.TURN_LEFT], Baseline.of([head(0)]), started_at=0.0, timeout_s=1.0)
    run(c, [head(0, (i % 3, 0)) for i in range(30)])
    assert c.state.failed == "timeout"
    lost = Challenge([Action.TURN_LEFT], Baseline.of([head(0)]), started_at=0.0)
    run(lost, [None] * 20)
    assert lost.state.failed == "no_face"


def test_identical_frames_are_a_frozen_picture() -> None:
    c = Challenge([Action.TURN_LEFT], Baseline.of([head(0)]), started_at=0.0)
    crop = np.full((112, 112), 128, np.uint8)
    t = 0.0
    for _ in range(20):
        t += 0.066
        c.update(t, head(0), crop)
    assert c.state.failed == "still"


def unit(v: list[float]) -> np.ndarray:
    a = np.asarray(v, np.float32)
    return a / np.linalg.norm(a)


def test_gallery_scores_match_a_plain_computation() -> None:
    rng = np.random.default_rng(7)
    m = rng.normal(size=(500, 128)).astype(np.float32)
    p = rng.normal(size=128).astype(np.float32)
    g = Gallery.from_matrix("euclidean", m, [str(i) for i in range(500)])
    np.testing.assert_allclose(g.scores(p), np.linalg.norm(m - p, axis=1), rtol=1e-4)
    c = Gallery.from_matrix("cosine", m, [str(i) for i in range(500)])
    expect = (m / np.linalg.norm(m, axis=1, keepdims=True)) @ (p / np.linalg.norm(p))
    np.testing.assert_allclose(c.scores(p), expect, rtol=1e-4, atol=1e-6)
    assert c.nearest(m[42])[0] == 42 and g.nearest(m[42])[0] == 42


def test_one_to_n_needs_a_second_factor_and_a_margin() -> None:
    g = Gallery("cosine", 3)
    g.add("patient:1", unit([1, 0, 0]), factor="5678")
    g.add("patient:2", unit([0.99, 0.14, 0]), factor="5678")  # a near twin with the same last four digits
    g.add("patient:3", unit([0, 1, 0]), factor="1234")
    with pytest.raises(ValueError):
        g.search(unit([1, 0, 0]), 0.5, 0.05, None)
    assert g.search(unit([1, 0, 0]), 0.5, 0.05, "5678").reason == "ambiguous"
    hit = g.search(unit([0, 1, 0.1]), 0.5, 0.05, "1234")
    assert hit.matched and hit.subject == "patient:3"
    assert g.search(unit([0, 0, 1]), 0.5, 0.05, "1234").reason == "below_threshold"
    assert g.search(unit([1, 0, 0]), 0.5, 0.05, "0000").reason == "no_candidates"


def test_verify_refuses_templates_of_another_encoder() -> None:
    a, b = Template("sface", unit([1, 0, 0])), Template("dlib", unit([1, 0, 0]))
    assert verify(a, a, "cosine", 0.5).matched
    assert verify(a, b, "cosine", 0.5).reason == "encoder_mismatch"


def test_template_store_encrypts_binds_and_deletes(tmp_path: Path) -> None:
    key = load_key(FaceSettings(), tmp_path)
    assert stat.S_IMODE(os.stat(tmp_path / "face-template.key").st_mode) == 0o600
    store = TemplateStore(tmp_path / "t.db", key)
    vec = unit([0.25, -0.5, 0.75, 0.1])
    store.save("patient:7", Template("sface", vec), consent_version="2026-12-v1", factor="5678")
    store.save("patient:8", Template("sface", unit([1, 0, 0, 0])), consent_version="2026-12-v1")
    loaded = store.load("patient:7")
    assert loaded is not None and loaded.consent_version == "2026-12-v1"
    np.testing.assert_array_equal(loaded.template.vector, vec)
    gallery = store.gallery("sface", "cosine")
    assert gallery.search(vec, 0.9, 0.05, store.factor_tag("5678")).subject == "patient:7"
    store.close()

    raw = (tmp_path / "t.db").read_bytes()
    assert vec.tobytes() not in raw and b"5678" not in raw
    db = sqlite3.connect(tmp_path / "t.db")
    db.execute("UPDATE templates SET subject = 'patient:9' WHERE subject = 'patient:7'")  # a swapped row
    db.commit()
    db.close()
    store = TemplateStore(tmp_path / "t.db", key)
    with pytest.raises(DecryptError):
        store.load("patient:9")
    assert store.delete("patient:8") and store.load("patient:8") is None and not store.delete("patient:8")
    store.close()
    with pytest.raises(DecryptError):
        TemplateStore(tmp_path / "t.db", os.urandom(32)).load("patient:9")


def test_template_key_from_a_systemd_credential(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "face-template-key").write_bytes(b"k" * 32)
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(tmp_path))
    assert load_key(FaceSettings(), tmp_path / "data") == b"k" * 32
    assert not (tmp_path / "data" / "face-template.key").exists()


FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "faces" / "fixtures"


@pytest.mark.skipif(not FIXTURES.exists(), reason="shared/faces is not beside the repo")
@pytest.mark.parametrize(
    ("name", "hint"),
    # Not dogs_no_face.jpg: YuNet takes one dog's face for a person's (score 0.85); the match refuses it.
    [("two_people.jpg", "face.hint.one_person"), ("obama-480p.jpg", "")],
)
def test_quality_hints_on_real_photos(name: str, hint: str) -> None:
    import cv2

    from face.detect import Landmarker, YuNetDetector
    from face.quality import assess
    from face.tracking import FaceTracker

    image = cv2.imread(str(FIXTURES / name))
    assert image is not None
    tracker = FaceTracker(YuNetDetector(), Landmarker(), detect_width=480)
    quality = assess(image, tracker.update(image))
    if hint:
        assert quality.hint.value == hint
    else:  # one frontal face: nothing about the number of people or pose to complain of
        assert quality.faces == 1 and abs(quality.yaw) < 0.18, quality


def test_an_empty_frame_asks_for_a_face() -> None:
    from face.detect import Landmarker, YuNetDetector
    from face.quality import assess
    from face.tracking import FaceTracker

    empty = np.full((480, 640, 3), 90, np.uint8)
    assert assess(empty, FaceTracker(YuNetDetector(), Landmarker()).update(empty)).hint.value == "face.hint.no_face"


@pytest.mark.skipif(not FIXTURES.exists(), reason="shared/faces is not beside the repo")
def test_a_small_face_far_away_is_asked_to_come_closer() -> None:
    import cv2

    from face.detect import Landmarker, YuNetDetector
    from face.quality import assess
    from face.tracking import FaceTracker

    face = cv2.imread(str(FIXTURES / "obama-240p.jpg"))
    assert face is not None
    canvas = np.full((720, 1280, 3), 120, np.uint8)
    canvas[240 : 240 + face.shape[0], 500 : 500 + face.shape[1]] = face
    tracker = FaceTracker(YuNetDetector(), Landmarker(), detect_width=640)
    assert assess(canvas, tracker.update(canvas)).hint.value == "face.hint.move_closer"


def test_templates_cli_deletes_on_request(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from face.templates import main

    store = TemplateStore(tmp_path / "t.db", os.urandom(32))
    store.save("patient:1", Template("sface", unit([1, 0])), consent_version="v1")
    store.save("patient:2", Template("sface", unit([0, 1])), consent_version="v1")
    store.close()
    db = ["--db", str(tmp_path / "t.db")]
    assert main([*db, "delete", "patient:1"]) == 0
    assert main([*db, "delete", "patient:1"]) == 1  # already gone: say so
    assert main([*db, "count"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "1"
    assert main([*db, "delete-all"]) == 0 and main([*db, "count"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "0"
