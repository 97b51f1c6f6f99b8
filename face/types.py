"""Data shared by the face pipeline's parts and its callers (the kiosk, the evaluator, the bench).

Images are OpenCV's BGR ``uint8`` arrays; coordinates are pixels of the full-resolution frame.
Landmarks follow YuNet's order, which is also what ``cv2.FaceRecognizerSF.alignCrop`` expects:
the person's right eye (the one on the image's left), left eye, nose tip, right and left mouth
corners.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt

Image: TypeAlias = npt.NDArray[Any]  # H×W×3 uint8 BGR
Vector: TypeAlias = npt.NDArray[np.float32]

RIGHT_EYE, LEFT_EYE, NOSE, RIGHT_MOUTH, LEFT_MOUTH = range(5)


@dataclass(frozen=True, eq=False)
class Face:
    """One detected face: box ``(x, y, w, h)``, 5 landmarks ``(5, 2)`` float32 and a score."""

    box: tuple[float, float, float, float]
    landmarks: npt.NDArray[np.float32]
    score: float = 1.0

    @property
    def eye_distance(self) -> float:
        return float(np.linalg.norm(self.landmarks[LEFT_EYE] - self.landmarks[RIGHT_EYE]))

    def yunet_row(self) -> npt.NDArray[np.float32]:
        """The 15-value row YuNet returns (box, 5 × (x, y), score): what ``alignCrop`` takes."""
        return np.concatenate([np.asarray(self.box, np.float32), self.landmarks.reshape(-1), [self.score]]).astype(
            np.float32
        )

    def scaled(self, factor: float, offset: tuple[float, float] = (0.0, 0.0)) -> Face:
        """This face in another image's coordinates: ``p * factor + offset``."""
        x, y, w, h = self.box
        ox, oy = offset
        box = (x * factor + ox, y * factor + oy, w * factor, h * factor)
        lm = (self.landmarks * factor + np.array(offset, np.float32)).astype(np.float32)
        return Face(box, lm, self.score)

    def __repr__(self) -> str:
        x, y, w, h = self.box
        return f"Face(box=({x:.0f},{y:.0f},{w:.0f},{h:.0f}), score={self.score:.2f})"


class Hint(enum.StrEnum):
    """What the patient should do, as a message key (kiosk_app/messages.py translates ``face.hint.*``)."""

    NO_FACE = "face.hint.no_face"
    ONE_PERSON = "face.hint.one_person"
    MOVE_CLOSER = "face.hint.move_closer"
    MOVE_BACK = "face.hint.move_back"
    CENTER = "face.hint.center"
    LOOK_AT_CAMERA = "face.hint.look_at_camera"
    HOLD_STILL = "face.hint.hold_still"
    TOO_DARK = "face.hint.too_dark"
    TOO_BRIGHT = "face.hint.too_bright"
    OK = "face.hint.ok"


class Action(enum.StrEnum):
    """One step of the liveness challenge, as a message key (``face.action.*``)."""

    TURN_LEFT = "face.action.turn_left"
    TURN_RIGHT = "face.action.turn_right"


class Phase(enum.StrEnum):
    POSITIONING = "positioning"  # quality gate: waiting for one good, frontal, sharp face
    CHALLENGE = "challenge"  # liveness: the patient follows the actions
    ENCODING = "encoding"  # liveness passed; the template is being computed
    PASSED = "passed"  # live and encoded (a match decision is separate)
    FAILED = "failed"  # liveness failed or timed out; ``reason`` says which


@dataclass(frozen=True)
class Quality:
    """The quality gate's verdict on one frame (every measure is kept for logs and tuning)."""

    hint: Hint
    faces: int = 0
    eye_distance: float = 0.0
    yaw: float = 0.0  # affine-invariant nose offset along the eye axis (see face/geometry.py)
    pitch: float = 0.0
    sharpness: float = 0.0
    brightness: float = 0.0

    @property
    def ok(self) -> bool:
        return self.hint is Hint.OK


@dataclass(frozen=True, eq=False)
class FrameReport:
    """What the capture reports for one processed frame, for the preview and its hints.

    ``preview`` is a small BGR copy for the screen (None when not asked for); ``face`` is in
    preview coordinates when a preview is present, else in frame coordinates.
    """

    seq: int
    phase: Phase
    quality: Quality
    face: Face | None = None
    action: Action | None = None  # the liveness action asked for now
    actions_done: int = 0
    actions_total: int = 0
    seconds_left: float = 0.0
    preview: Image | None = field(default=None, repr=False)
    reason: str = ""  # why FAILED: "timeout", "wrong_direction", "flat", "still", "no_face"


@dataclass(frozen=True, eq=False)
class Template:
    """A face template (never an image): the encoder that made it and its vector."""

    encoder: str
    vector: Vector = field(repr=False)

    @property
    def dim(self) -> int:
        return int(self.vector.shape[0])


@dataclass(frozen=True)
class MatchResult:
    """A 1:1 or 1:N decision. ``score`` is a similarity (cosine) or a distance (euclidean)."""

    matched: bool
    score: float
    threshold: float
    metric: str
    subject: str = ""  # 1:N: the winning subject, when ``matched``
    margin: float = 0.0  # 1:N: how far the best is ahead of the second best
    reason: str = ""  # "no_face", "below_threshold", "ambiguous", "no_candidates", ...
