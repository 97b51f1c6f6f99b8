"""Pose and image measures from the five landmarks, cheap enough for every frame.

Yaw and pitch come from the nose tip's *affine coordinates* in the frame spanned by the eyes and
the mouth: ``nose = eye_mid + a·(left_eye − right_eye) + b·(mouth_mid − eye_mid)``. Any affine
map leaves ``(a, b)`` unchanged, and a flat picture moved, tilted or turned in front of a camera
is seen (up to small perspective terms) through an affine map. A real head is not flat: the nose
stands out of the eye–mouth plane, so turning it moves ``a`` and nodding moves ``b``. The same
number is therefore the pose for the quality gate and the liveness challenge's 3-D check.
No 68-point model is needed (its training data excludes commercial use).
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

from face.types import LEFT_EYE, LEFT_MOUTH, NOSE, RIGHT_EYE, RIGHT_MOUTH, Image

# A face whose eye axis and eye–mouth axis are nearly parallel is a bad detection, not a pose.
_MIN_DETERMINANT = 1e-3


def affine_pose(landmarks: npt.NDArray[np.float32]) -> tuple[float, float] | None:
    """``(a, b)``: the nose's affine coordinates; ``a`` grows as the person turns to their left
    (the nose moves towards the image's right in an unmirrored frame). None if degenerate."""
    lm = landmarks.astype(np.float64)
    eye_mid = (lm[RIGHT_EYE] + lm[LEFT_EYE]) / 2
    u = lm[LEFT_EYE] - lm[RIGHT_EYE]
    v = (lm[RIGHT_MOUTH] + lm[LEFT_MOUTH]) / 2 - eye_mid
    basis = np.stack([u, v], axis=1)
    det = float(np.linalg.det(basis))
    scale = float(np.dot(u, u) + np.dot(v, v))
    if scale <= 0 or abs(det) / scale < _MIN_DETERMINANT:
        return None
    a, b = np.linalg.solve(basis, lm[NOSE] - eye_mid)
    return float(a), float(b)


def face_crop(image: Image, box: tuple[float, float, float, float], width: int = 112) -> Image | None:
    """The box as a grey crop scaled to ``width`` (so sharpness compares across distances)."""
    x, y, w, h = (round(v) for v in box)
    x0, y0 = max(x, 0), max(y, 0)
    x1, y1 = min(x + w, image.shape[1]), min(y + h, image.shape[0])
    if x1 - x0 < 8 or y1 - y0 < 8:
        return None
    crop = image[y0:y1, x0:x1]
    grey = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY) if crop.ndim == 3 else crop
    height = max(round(width * (y1 - y0) / (x1 - x0)), 8)
    return cv2.resize(grey, (width, height), interpolation=cv2.INTER_AREA)


def sharpness(grey: Image) -> float:
    """Variance of the Laplacian: low when the face is blurred by motion or focus."""
    return float(cv2.Laplacian(grey, cv2.CV_64F).var())


def brightness(grey: Image) -> float:
    return float(np.mean(grey))
