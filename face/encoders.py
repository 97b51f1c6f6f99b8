"""Face encoders: a face in a full-resolution frame in, a fixed-length template vector out.

Two implementations behind one protocol, chosen by ``FaceSettings.encoder``:

* ``SFaceEncoder`` (default): OpenCV's ``FaceRecognizerSF`` aligns on the 5 YuNet landmarks and
  runs SFace, 128-d, cosine similarity. It is given the BGR frame and swaps to RGB itself,
  which is the convention SFace was trained with (feeding it BGR costs ~10 points of FNMR).
* ``DlibEncoder``: dlib's ResNet (or any dlib-format file), 128-d, Euclidean distance.

A threshold is only meaningful for the encoder (and model file) it was calibrated on, so each
encoder carries its own default and the template records the encoder's name.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Protocol

import cv2
import numpy as np

from face import models
from face.detect import Detector, as_bgr, detect_still, main_face
from face.settings import FaceSettings
from face.types import Face, Image, Template, Vector

# Chosen with `python -m face.evaluate` on shared/faces (dev: 61 photos of 13 Western public
# figures, 140 genuine / 1,690 impostor pairs; asian-dev: 322 photos of 40 East-Asian ones,
# 2,352 / 49,329 pairs), through encode_still as the kiosk does. The kiosk serves Chinese
# patients, so the East-Asian false-match rate decides; photos spanning years inflate FNMR.
# SFace cosine similarity, higher is more alike. At 0.45: asian-dev FNMR 21.2 %, FMR 0.008 %
# (4 pairs); dev FNMR 0 %, FMR 0 %. opencv_zoo's 0.363: asian-dev FNMR 8.3 % but FMR 0.24 %,
# and face.md's pooled East-Asian pairs 2.4 % (0.28 % at 0.45). 0.40: FNMR 12.6 %, FMR 0.059 %.
SFACE_THRESHOLD = 0.45
# dlib ResNet Euclidean distance, lower is more alike. At 0.40: asian-dev FNMR 48.0 %, FMR 0.12 %;
# dev FNMR 41.4 %, FMR 0 %. At 0.45: asian-dev FMR 1.46 %; dlib's usual 0.6: asian-dev FMR 35.3 %.
DLIB_THRESHOLD = 0.40


class Encoder(Protocol):
    name: str  # goes into every Template: templates of different encoders/models never compare
    dim: int
    metric: str  # "cosine" (similarity, higher is more alike) or "euclidean" (distance, lower is)
    threshold: float  # the effective one: the configured threshold or this encoder's default

    def encode(self, bgr_full: Image, face: Face) -> Vector: ...


class SFaceEncoder:
    dim = 128
    metric = "cosine"

    def __init__(
        self, model: Path | None = None, cache_dir: Path = Path("var/face-cache"), threshold: float | None = None
    ) -> None:
        self._source = model
        self._cache_dir = cache_dir
        self.name = "sface" if model is None else f"sface:{model.stem}"
        self.threshold = SFACE_THRESHOLD if threshold is None else threshold
        self._rec: Any = None
        self._lock = threading.Lock()  # one OpenCV net: not safe to run from two threads at once

    def encode(self, bgr_full: Image, face: Face) -> Vector:
        bgr = as_bgr(bgr_full)
        with self._lock:
            if self._rec is None:
                path = models.sface_model(self._cache_dir, self._source)
                self._rec = cv2.FaceRecognizerSF.create(str(path), "")
            aligned = self._rec.alignCrop(bgr, face.yunet_row())
            feat = self._rec.feature(aligned)
        v = np.asarray(feat, np.float32).reshape(-1)
        return (v / max(float(np.linalg.norm(v)), 1e-12)).astype(np.float32)


class DlibEncoder:
    dim = 128
    metric = "euclidean"
    ROI_PAD = 0.5  # of the box on each side: the 5-point predictor and chip extraction look beyond the box

    def __init__(self, model: Path | None = None, threshold: float | None = None) -> None:
        self._model = model
        self.name = "dlib" if model is None else f"dlib:{model.stem}"
        self.threshold = DLIB_THRESHOLD if threshold is None else threshold
        self._nets: tuple[Any, Any] | None = None
        self._lock = threading.Lock()

    def _load(self) -> tuple[Any, Any]:
        # Caller holds self._lock.
        if self._nets is None:
            import dlib

            files = models.dlib_models()
            resnet = self._model if self._model is not None else files.resnet
            if not resnet.is_file():
                raise models.ModelError(f"dlib face model file missing: {resnet}")
            self._nets = (
                dlib.shape_predictor(str(files.shape_predictor_5)),
                dlib.face_recognition_model_v1(str(resnet)),
            )
        return self._nets

    def encode(self, bgr_full: Image, face: Face) -> Vector:
        import dlib

        bgr = as_bgr(bgr_full)
        H, W = bgr.shape[:2]
        x, y, w, h = face.box
        # Only the region around the face is converted: a full-frame copy would cost more than the ROI.
        x0, y0 = max(0, int(x - self.ROI_PAD * w)), max(0, int(y - self.ROI_PAD * h))
        x1, y1 = min(W, int(x + w + self.ROI_PAD * w)), min(H, int(y + h + self.ROI_PAD * h))
        rgb = cv2.cvtColor(bgr[y0:y1, x0:x1], cv2.COLOR_BGR2RGB)  # a new, contiguous array, as dlib needs
        rect = dlib.rectangle(int(x) - x0, int(y) - y0, int(x + w) - x0, int(y + h) - y0)
        with self._lock:
            predictor, net = self._load()
            shape = predictor(rgb, rect)
            desc = net.compute_face_descriptor(rgb, shape, 1)
        return np.asarray(desc, np.float32).reshape(-1)


def make_encoder(settings: FaceSettings) -> Encoder:
    if settings.encoder == "sface":
        return SFaceEncoder(settings.encoder_model, settings.cache_dir, settings.threshold)
    if settings.encoder == "dlib":
        return DlibEncoder(settings.encoder_model, settings.threshold)
    raise ValueError(f"unknown face encoder {settings.encoder!r} (expected 'sface' or 'dlib')")


def score(metric: str, a: Vector, b: Vector) -> float:
    """Cosine similarity or Euclidean distance between two templates' vectors."""
    if metric == "cosine":
        return float(np.dot(a, b) / max(float(np.linalg.norm(a) * np.linalg.norm(b)), 1e-12))
    if metric == "euclidean":
        return float(np.linalg.norm(a - b))
    raise ValueError(f"unknown metric {metric!r}")


def accepts(metric: str, score: float, threshold: float) -> bool:
    if metric == "cosine":
        return score >= threshold
    if metric == "euclidean":
        return score <= threshold
    raise ValueError(f"unknown metric {metric!r}")


def encode_still(bgr: Image, detector: Detector, encoder: Encoder) -> tuple[Template | None, str]:
    """The template of a photo's main face (enrolment photo, ID-card chip), or ``(None, "no_face")``."""
    bgr = as_bgr(bgr)
    face = main_face(detect_still(bgr, detector))
    if face is None:
        return None, "no_face"
    return Template(encoder.name, encoder.encode(bgr, face)), ""
