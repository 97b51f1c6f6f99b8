"""The per-frame quality gate: one face, big enough, centred, lit, frontal and sharp.

Each check maps to one :class:`~face.types.Hint` the screen turns into an instruction, in the
order a patient can act on them (step closer before looking straight). Limits are data, so a
deployment with another camera or mounting height can tune them without touching code.
"""

from __future__ import annotations

from dataclasses import dataclass

from face.geometry import affine_pose, brightness, face_crop, sharpness
from face.types import Face, Hint, Image, Quality


@dataclass(frozen=True)
class QualityLimits:
    min_face_fraction: float = 0.18  # face box width / frame width: smaller is "move closer"
    max_face_fraction: float = 0.65  # larger is "move back" (the chin and forehead leave the frame)
    min_eye_distance_px: float = 28.0  # below this the encoder sees too few pixels, whatever the camera
    centre_tolerance: float = 0.22  # face centre within this fraction of the frame from its centre
    max_yaw: float = 0.18  # |a| of face.geometry.affine_pose; ~0.5 is a 45° turn
    pitch_range: tuple[float, float] = (0.32, 0.85)  # b: nose between the eyes (0) and the mouth (1)
    min_sharpness: float = 25.0  # Laplacian variance of the face scaled to 112 px wide
    brightness_range: tuple[float, float] = (45.0, 215.0)
    # Faces smaller than this share of the largest are people passing behind, not a second patient.
    bystander_fraction: float = 0.6


DEFAULT_LIMITS = QualityLimits()


def relevant_faces(faces: list[Face], limits: QualityLimits) -> list[Face]:
    """The faces that count: the largest and any of a similar size (in decreasing size)."""
    if not faces:
        return []
    ordered = sorted(faces, key=lambda f: f.box[2], reverse=True)
    biggest = ordered[0].box[2]
    return [f for f in ordered if f.box[2] >= limits.bystander_fraction * biggest]


def assess(frame: Image, faces: list[Face], limits: QualityLimits = DEFAULT_LIMITS) -> Quality:
    """Judge one frame; ``faces`` are in ``frame``'s coordinates and carry landmarks."""
    people = relevant_faces(faces, limits)
    if not people:
        return Quality(Hint.NO_FACE)
    if len(people) > 1:
        return Quality(Hint.ONE_PERSON, faces=len(people))
    face = people[0]
    height, width = frame.shape[:2]
    x, y, w, h = face.box
    eyes = face.eye_distance
    pose = affine_pose(face.landmarks)
    yaw, pitch = pose if pose is not None else (0.0, 0.0)
    grey = face_crop(frame, face.box)
    sharp = sharpness(grey) if grey is not None else 0.0
    light = brightness(grey) if grey is not None else 0.0
    measures = {"faces": 1, "eye_distance": eyes, "yaw": yaw, "pitch": pitch, "sharpness": sharp, "brightness": light}

    def verdict(hint: Hint) -> Quality:
        return Quality(hint, **measures)  # type: ignore[arg-type]

    if w < limits.min_face_fraction * width or eyes < limits.min_eye_distance_px:
        return verdict(Hint.MOVE_CLOSER)
    if w > limits.max_face_fraction * width or h > 0.95 * height:
        return verdict(Hint.MOVE_BACK)
    cx, cy = x + w / 2, y + h / 2
    if abs(cx - width / 2) > limits.centre_tolerance * width or abs(cy - height / 2) > limits.centre_tolerance * height:
        return verdict(Hint.CENTER)
    if light < limits.brightness_range[0]:
        return verdict(Hint.TOO_DARK)
    if light > limits.brightness_range[1]:
        return verdict(Hint.TOO_BRIGHT)
    if pose is None or abs(yaw) > limits.max_yaw or not limits.pitch_range[0] <= pitch <= limits.pitch_range[1]:
        return verdict(Hint.LOOK_AT_CAMERA)
    if sharp < limits.min_sharpness:
        return verdict(Hint.HOLD_STILL)
    return verdict(Hint.OK)
