"""Liveness: a random head-turn challenge judged from the five landmarks, plus passive cues.

What it stops: a printed photo or a photo on a phone held up and moved by hand (turned, tilted,
shifted, bent a little), a still image injected as the camera, and a video that does not turn
the way the random challenge asks. What it does not stop: a video replay or live deepfake that
follows the instructions, or a 3-D mask. RGB alone cannot; an NIR or depth camera can.

The turn is measured as the nose's affine coordinate ``a`` (face/geometry.py), which a flat
picture cannot change however it is moved. A passive cue catches the typical photo attack
early: the eye axis foreshortens (the picture is turned about its vertical axis) while ``a``
stays put, which no real head does ("flat"). Another fails identical consecutive frames
("still"): a frozen picture fed as the camera.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import numpy as np

from face.geometry import affine_pose
from face.types import LEFT_EYE, LEFT_MOUTH, RIGHT_EYE, RIGHT_MOUTH, Action, Face, Image

DIRECTION = {Action.TURN_LEFT: 1.0, Action.TURN_RIGHT: -1.0}  # the sign of the change in ``a``


@dataclass(frozen=True)
class LivenessLimits:
    turn: float = 0.20  # ``a`` must move this far from where the previous action left it (~20°)
    side: float = 0.06  # ...and end at least this far past the frontal baseline, on the asked side
    hold_frames: int = 2  # on that many frames in a row (one noisy landmark frame is not a turn)
    # A flat picture: the eye width shrinks to this share of its frontal value (turned ~35°)
    # while ``a`` stays within ``flat_max_turn`` of the baseline (a real head would be at ~0.3).
    flat_foreshortening: float = 0.80
    flat_max_turn: float = 0.10
    still_frames: int = 12  # this many identical face crops in a row: a frozen picture
    still_difference: float = 0.35  # mean absolute grey difference below which two crops are identical
    lost_frames: int = 15  # frames without the face before the challenge gives up ("no_face")


DEFAULT_LIMITS = LivenessLimits()


def random_actions(count: int, rng: random.Random | None = None) -> list[Action]:
    """Alternating turns with a random first one: a recording can only follow half the orders."""
    first = (rng or random.SystemRandom()).choice([Action.TURN_LEFT, Action.TURN_RIGHT])
    other = Action.TURN_RIGHT if first is Action.TURN_LEFT else Action.TURN_LEFT
    return [first if i % 2 == 0 else other for i in range(count)]


def eye_mouth_ratio(face: Face) -> float:
    """Eye distance over eye-to-mouth distance: shrinks when the face (or a photo) turns sideways."""
    lm = face.landmarks
    eyes = float(np.linalg.norm(lm[LEFT_EYE] - lm[RIGHT_EYE]))
    down = float(np.linalg.norm((lm[RIGHT_MOUTH] + lm[LEFT_MOUTH]) / 2 - (lm[RIGHT_EYE] + lm[LEFT_EYE]) / 2))
    return eyes / down if down > 0 else 0.0


@dataclass(frozen=True)
class Baseline:
    """The frontal pose measured while positioning: where the turns are counted from."""

    yaw: float
    ratio: float

    @classmethod
    def of(cls, faces: list[Face]) -> Baseline:
        poses = [p for p in (affine_pose(f.landmarks) for f in faces) if p is not None]
        yaw = float(np.median([p[0] for p in poses])) if poses else 0.0
        return cls(yaw, float(np.median([eye_mouth_ratio(f) for f in faces])) if faces else 1.0)


@dataclass
class ChallengeState:
    done: int = 0
    passed: bool = False
    failed: str = ""  # "", "timeout", "wrong_direction", "flat", "still", "no_face"


@dataclass
class Challenge:
    """Feed it every processed frame's face (or None) with a timestamp; read ``state``."""

    actions: list[Action]
    baseline: Baseline
    started_at: float
    timeout_s: float = 8.0
    limits: LivenessLimits = DEFAULT_LIMITS
    state: ChallengeState = field(default_factory=ChallengeState)
    _reference: float = field(init=False)
    _streak: int = 0
    _flat_streak: int = 0
    _still_streak: int = 0
    _lost: int = 0
    _last_crop: Image | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self._reference = self.baseline.yaw

    @property
    def current(self) -> Action | None:
        return self.actions[self.state.done] if self.state.done < len(self.actions) else None

    def seconds_left(self, now: float) -> float:
        return max(0.0, self.started_at + self.timeout_s - now)

    def update(self, now: float, face: Face | None, crop: Image | None = None) -> ChallengeState:
        state = self.state
        if state.passed or state.failed:
            return state
        if now - self.started_at > self.timeout_s:
            return self._fail("timeout")
        if face is None:
            self._lost += 1
            self._streak = 0
            return self._fail("no_face") if self._lost >= self.limits.lost_frames else state
        self._lost = 0
        if crop is not None and self._frozen(crop):
            return self._fail("still")
        pose = affine_pose(face.landmarks)
        if pose is None:
            self._streak = 0
            return state
        yaw = pose[0]
        if self._flat(face, yaw):
            return self._fail("flat")
        action = self.current
        assert action is not None
        sign = DIRECTION[action]
        lim = self.limits
        if state.done == 0 and -sign * (yaw - self.baseline.yaw) >= lim.turn:
            return self._fail("wrong_direction")
        if state.done > 0 and -sign * (yaw - self._reference) > 0:
            self._reference = yaw  # still coming back from the previous turn: count from its extreme
        moved = sign * (yaw - self._reference) >= lim.turn and sign * (yaw - self.baseline.yaw) >= lim.side
        self._streak = self._streak + 1 if moved else 0
        if self._streak >= lim.hold_frames:
            state.done += 1
            self._streak = 0
            self._reference = yaw
            state.passed = state.done == len(self.actions)
        return state

    # ---- Passive cues

    def _flat(self, face: Face, yaw: float) -> bool:
        lim = self.limits
        narrowed = eye_mouth_ratio(face) <= lim.flat_foreshortening * self.baseline.ratio
        unturned = abs(yaw - self.baseline.yaw) < lim.flat_max_turn
        self._flat_streak = self._flat_streak + 1 if narrowed and unturned else 0
        return self._flat_streak >= lim.hold_frames

    def _frozen(self, crop: Image) -> bool:
        last, self._last_crop = self._last_crop, crop
        if last is None or last.shape != crop.shape:
            self._still_streak = 0
            return False
        diff = float(np.mean(np.abs(last.astype(np.int16) - crop.astype(np.int16))))
        self._still_streak = self._still_streak + 1 if diff < self.limits.still_difference else 0
        return self._still_streak >= self.limits.still_frames

    def _fail(self, reason: str) -> ChallengeState:
        self.state.failed = reason
        return self.state
