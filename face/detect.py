"""Face detection with 5 landmarks: YuNet (default) or dlib's HOG with YuNet landmarks.

Both return ``face.types.Face`` in the coordinates of the image they were given, largest
face first. Models load on first use, once, under a lock (never at import), and each net
runs under its own lock because neither OpenCV's nets nor dlib's scanner is re-entrant.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Protocol

import cv2
import numpy as np

from face import models
from face.settings import FaceSettings
from face.types import Face, Image

SCORE_THRESHOLD = 0.6  # opencv_zoo's YuNet default; lower lets in profile and blurred faces
NMS_THRESHOLD = 0.3
TOP_K = 50
LANDMARK_FACE_WIDTH = 160  # YuNet's landmarks do not improve beyond this face width
# Larger stills are downscaled: YuNet scores faces over ~400 px lower (0.77-0.83 at 1024 px vs
# 0.92-0.94 at 640 px on asian-dev), and faces in a 640 px photo stay well above its minimum size.
STILL_MAX_SIDE = 640
STILL_MIN_SIDE = 320  # smaller stills (ID-card chip photo ~102x126) are padded and upscaled to this


class Detector(Protocol):
    def detect(self, bgr: Image) -> list[Face]: ...


def as_bgr(img: Image) -> Image:
    """3-channel uint8: stills arrive as grayscale or BGRA (PNG) too."""
    if img.ndim == 2:
        return cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    if img.shape[2] == 4:
        return cv2.cvtColor(img, cv2.COLOR_BGRA2BGR)
    return img


def _largest_first(faces: list[Face]) -> list[Face]:
    return sorted(faces, key=lambda f: f.box[2] * f.box[3], reverse=True)


class YuNetDetector:
    def __init__(
        self,
        model: Path | None = None,
        score_threshold: float = SCORE_THRESHOLD,
        nms_threshold: float = NMS_THRESHOLD,
        top_k: int = TOP_K,
    ) -> None:
        self._model = model
        self._score = score_threshold
        self._nms = nms_threshold
        self._top_k = top_k
        self._net: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        # Caller holds self._lock.
        if self._net is None:
            path = self._model if self._model is not None else models.yunet_model()
            if not path.is_file():
                raise models.ModelError(f"YuNet model file missing: {path}")
            self._net = cv2.FaceDetectorYN.create(str(path), "", (320, 320), self._score, self._nms, self._top_k)
        return self._net

    def detect(self, bgr: Image) -> list[Face]:
        bgr = as_bgr(bgr)
        h, w = bgr.shape[:2]
        with self._lock:
            net = self._load()
            net.setInputSize((w, h))
            _, rows = net.detect(bgr)
        if rows is None:
            return []
        return _largest_first([_face(r) for r in rows])


def _face(row: Image) -> Face:
    """A Face from one YuNet row (box, 5 landmarks, score)."""
    x, y, w, h = (float(v) for v in row[:4])
    return Face((x, y, w, h), row[4:14].reshape(5, 2).astype(np.float32), float(row[14]))


class Landmarker:
    """5 landmarks for a face box from another detector, by running YuNet around the box.

    The ROI comes from the full-resolution frame (landmarks are only as sharp as the pixels)
    and is downscaled so the face is at most ~160 px wide, which keeps YuNet at ~1 ms.
    """

    PAD = 0.5  # of the box size on each side: YuNet needs the whole head and some background

    def __init__(self, yunet: YuNetDetector | None = None) -> None:
        self._yunet = yunet if yunet is not None else YuNetDetector()

    def refine(self, bgr_full: Image, box: tuple[float, float, float, float]) -> Face | None:
        bgr_full = as_bgr(bgr_full)
        H, W = bgr_full.shape[:2]
        x, y, w, h = box
        if w <= 0 or h <= 0:
            return None
        x0, y0 = max(0, int(x - self.PAD * w)), max(0, int(y - self.PAD * h))
        x1, y1 = min(W, int(np.ceil(x + w + self.PAD * w))), min(H, int(np.ceil(y + h + self.PAD * h)))
        if x1 - x0 < 2 or y1 - y0 < 2:
            return None
        roi = bgr_full[y0:y1, x0:x1]
        scale = min(1.0, LANDMARK_FACE_WIDTH / w)
        if scale < 1.0:
            roi = cv2.resize(roi, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        best: Face | None = None
        best_iou = 0.3  # below this YuNet found a different face (or none) near the box
        for f in self._yunet.detect(roi):
            full = f.scaled(1.0 / scale, (x0, y0))
            iou = _iou(full.box, box)
            if iou > best_iou:
                best, best_iou = full, iou
        return best


def _iou(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    ix = max(0.0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


class HogDetector:
    """dlib's frontal HOG detector; landmarks from ``Landmarker`` (never the 68-point model).

    HOG faces YuNet cannot place landmarks on are dropped: without landmarks nothing downstream
    (alignment, pose, liveness) can use them, and they are mostly HOG's false positives.
    """

    def __init__(self, upsample: int = 0, landmarker: Landmarker | None = None) -> None:
        self._upsample = upsample
        self._landmarker = landmarker if landmarker is not None else Landmarker()
        self._hog: Any = None
        self._lock = threading.Lock()

    def boxes(self, bgr: Image) -> list[tuple[tuple[float, float, float, float], float]]:
        """HOG boxes ``(x, y, w, h)`` with their detector scores, before landmarking."""
        gray = cv2.cvtColor(as_bgr(bgr), cv2.COLOR_BGR2GRAY)  # HOG works on luminance anyway
        with self._lock:
            if self._hog is None:
                import dlib

                self._hog = dlib.get_frontal_face_detector()
            rects, scores, _ = self._hog.run(gray, self._upsample, 0.0)
        return [
            ((float(r.left()), float(r.top()), float(r.width()), float(r.height())), float(s))
            for r, s in zip(rects, scores, strict=True)
        ]

    def detect(self, bgr: Image) -> list[Face]:
        faces = []
        for box, _ in self.boxes(bgr):
            f = self._landmarker.refine(bgr, box)
            if f is not None:
                faces.append(f)
        return _largest_first(faces)


def make_detector(settings: FaceSettings) -> Detector:
    if settings.detector == "yunet":
        return YuNetDetector(settings.detector_model)
    if settings.detector == "hog":
        return HogDetector(landmarker=Landmarker(YuNetDetector(settings.detector_model)))
    raise ValueError(f"unknown face detector {settings.detector!r} (expected 'yunet' or 'hog')")


def main_face(faces: list[Face], score_margin: float = 0.1) -> Face | None:
    """The photo's subject: the largest face among those detected about as confidently as the best.

    Plain "largest" picks YuNet's big low-score false positives (a shoulder, a dog) over the
    real face next to them (dev/person13/img41: 0.76 vs 0.95, slightly larger box).
    """
    if not faces:
        return None
    best = max(f.score for f in faces)
    return max((f for f in faces if f.score >= best - score_margin), key=lambda f: f.box[2] * f.box[3])


def detect_still(bgr: Image, detector: Detector) -> list[Face]:
    """Faces in a still photo of any size, in the photo's own coordinates.

    Large photos are downscaled (detection cost grows with area, faces stay big enough).
    Small ones are padded, because YuNet misses a face that fills the whole frame, then
    upscaled, because both detectors have a minimum face size (HOG's is ~80 px).
    """
    bgr = as_bgr(bgr)
    h, w = bgr.shape[:2]
    if max(h, w) > STILL_MAX_SIDE:
        s = STILL_MAX_SIDE / max(h, w)
        small = cv2.resize(bgr, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)
        return [f.scaled(1.0 / s) for f in detector.detect(small)]
    if min(h, w) >= STILL_MIN_SIDE:
        return detector.detect(bgr)
    pad_x, pad_y = w // 2, h // 2
    padded = cv2.copyMakeBorder(bgr, pad_y, pad_y, pad_x, pad_x, cv2.BORDER_REPLICATE)
    s = max(1.0, STILL_MIN_SIDE / min(h, w))
    big = cv2.resize(padded, None, fx=s, fy=s, interpolation=cv2.INTER_CUBIC)
    return [f.scaled(1.0 / s, (-pad_x, -pad_y)) for f in detector.detect(big)]
