"""The models of one kiosk, loaded once and shared: detector, landmarker, encoder, threshold.

Nothing loads at construction: ``warm_up()`` does, in a worker at start-up, so the first patient
does not wait for it and the window's first paint is not delayed. Every call is thread-safe
(each net sits behind its own lock in face/detect.py and face/encoders.py).
"""

from __future__ import annotations

import logging
import threading
import time

import numpy as np

from face import gallery
from face.detect import Detector, Landmarker, make_detector
from face.encoders import Encoder, encode_still, make_encoder
from face.settings import FaceSettings
from face.templates import TemplateStore
from face.tracking import FaceTracker
from face.types import Face, Image, MatchResult, Template

log = logging.getLogger(__name__)


class FaceEngine:
    def __init__(self, settings: FaceSettings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._detector: Detector | None = None
        self._landmarker: Landmarker | None = None
        self._encoder: Encoder | None = None

    def _load(self) -> tuple[Detector, Landmarker, Encoder]:
        with self._lock:
            if self._detector is None or self._landmarker is None or self._encoder is None:
                started = time.perf_counter()
                self._detector = make_detector(self.settings)
                self._landmarker = Landmarker()
                self._encoder = make_encoder(self.settings)
                log.info(
                    "face models ready in %.2f s: detector %s, encoder %s (%s, threshold %.3f)",
                    time.perf_counter() - started,
                    self.settings.detector,
                    self._encoder.name,
                    self._encoder.metric,
                    self._encoder.threshold,
                )
            return self._detector, self._landmarker, self._encoder

    def warm_up(self) -> None:
        """Load the models and run each once (the first inference allocates its buffers)."""
        detector, _, encoder = self._load()
        blank = np.zeros((240, 320, 3), np.uint8)
        detector.detect(blank)
        landmarks = np.array([[120, 100], [200, 100], [160, 140], [130, 180], [190, 180]], np.float32)
        encoder.encode(blank, Face((80.0, 50.0, 160.0, 180.0), landmarks))

    @property
    def encoder(self) -> Encoder:
        return self._load()[2]

    def tracker(self) -> FaceTracker:
        detector, landmarker, _ = self._load()
        return FaceTracker(
            detector, landmarker, detect_width=self.settings.detect_width, detect_every=self.settings.detect_every
        )

    def encode(self, frame: Image, face: Face) -> Template:
        encoder = self.encoder
        return Template(encoder.name, encoder.encode(frame, face))

    def encode_photo(self, bgr: Image) -> tuple[Template | None, str]:
        """A still photo (the ID card's chip photo, an enrolment picture): its largest face."""
        detector, _, encoder = self._load()
        return encode_still(bgr, detector, encoder)

    def verify(self, probe: Template, reference: Template) -> MatchResult:
        encoder = self.encoder
        return gallery.verify(probe, reference, encoder.metric, encoder.threshold)

    def verify_claim(self, probe: Template, store: TemplateStore, subject: str) -> MatchResult:
        """1:1 against the template enrolled for an identity claimed by card or QR code."""
        encoder = self.encoder
        stored = store.load(subject)
        if stored is None:
            return MatchResult(False, float("nan"), encoder.threshold, encoder.metric, reason="not_enrolled")
        return self.verify(probe, stored.template)

    def identify(self, probe: Template, candidates: gallery.Gallery, factor_tag: str) -> MatchResult:
        """1:N, only among the templates enrolled with the same second factor, with a margin."""
        encoder = self.encoder
        return candidates.search(probe.vector, encoder.threshold, self.settings.margin, factor_tag)


def average(templates: list[Template]) -> Template:
    """Several frames' templates as one (better than jittering one frame, face.md §1.4)."""
    if not templates:
        raise ValueError("no templates to average")
    stacked = np.stack([t.vector for t in templates]).astype(np.float32)
    mean = stacked.mean(axis=0)
    if all(np.isclose(np.linalg.norm(t.vector), 1.0, atol=1e-3) for t in templates):
        mean = mean / max(float(np.linalg.norm(mean)), 1e-12)  # a cosine encoder's vectors stay unit length
    return Template(templates[0].encoder, mean.astype(np.float32))
