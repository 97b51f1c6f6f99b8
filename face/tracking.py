"""Detect on a downscaled frame every few frames, track in between, landmarks at full resolution.

Detection is the expensive step and a face barely moves between frames at 15 fps, so the
detector runs every ``detect_every`` frames (and whenever the track is lost) on a frame
downscaled to ``detect_width``; dlib's correlation tracker follows the box in between on the
same small frame. Landmarks are always refined on the full-resolution frame inside the box, so
the encoder and the pose never see the downscaled pixels.
"""

from __future__ import annotations

import logging
from typing import Any

import cv2

from face.detect import Detector, Landmarker
from face.quality import DEFAULT_LIMITS, QualityLimits, relevant_faces
from face.types import Face, Image

log = logging.getLogger(__name__)

MIN_TRACK_QUALITY = 7.0  # dlib's peak-to-side-lobe ratio; below it the tracker has lost the face


class FaceTracker:
    def __init__(
        self,
        detector: Detector,
        landmarker: Landmarker,
        *,
        detect_width: int = 320,
        detect_every: int = 5,
        limits: QualityLimits = DEFAULT_LIMITS,
    ) -> None:
        self.detector, self.landmarker = detector, landmarker
        self.detect_width, self.detect_every, self.limits = detect_width, max(detect_every, 1), limits
        self._tracker: Any = None
        self._since_detect = 0
        self._others: list[Face] = []  # other people seen at the last detection (full-res coordinates)
        self.detections = 0  # how often the detector ran (benchmarks, tests)

    def reset(self) -> None:
        self._tracker, self._since_detect, self._others = None, 0, []

    def update(self, frame: Image) -> list[Face]:
        """The tracked face first (landmarks refined at full resolution), then the others seen."""
        scale = min(1.0, self.detect_width / frame.shape[1])
        small = frame if scale == 1.0 else cv2.resize(frame, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        box: tuple[float, float, float, float] | None = None
        if self._tracker is not None and self._since_detect < self.detect_every:
            box = self._track(small, scale)
        if box is None:
            box = self._detect(small, scale)
        if box is None:
            return []
        face = self.landmarker.refine(frame, box)
        if face is None:
            self._tracker = None  # the box drifted off the face: detect again next frame
            return []
        return [face, *self._others]

    def _track(self, small: Image, scale: float) -> tuple[float, float, float, float] | None:
        quality = self._tracker.update(cv2.cvtColor(small, cv2.COLOR_BGR2RGB))
        self._since_detect += 1
        if quality < MIN_TRACK_QUALITY:
            return None
        p = self._tracker.get_position()
        return (p.left() / scale, p.top() / scale, p.width() / scale, p.height() / scale)

    def _detect(self, small: Image, scale: float) -> tuple[float, float, float, float] | None:
        import dlib  # loaded with the first detection, not at import: start-up stays fast

        self.detections += 1
        self._since_detect = 0
        faces = relevant_faces([f.scaled(1 / scale) for f in self.detector.detect(small)], self.limits)
        if not faces:
            self._tracker, self._others = None, []
            return None
        main, self._others = faces[0], faces[1:]
        x, y, w, h = (v * scale for v in main.box)
        self._tracker = dlib.correlation_tracker()
        self._tracker.start_track(
            cv2.cvtColor(small, cv2.COLOR_BGR2RGB), dlib.drectangle(x, y, x + w, y + h)
        )
        return main.box
