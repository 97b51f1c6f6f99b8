"""One face capture: position → liveness challenge → encode → 1:1 against a reference photo.

Runs on its own thread ("face-capture") and reads the camera's newest frame each time round,
so a slow step costs frames, never latency. Templates of the chosen frames are computed by a
second worker while the preview goes on (dlib's encoder takes ~90 ms a frame without BLAS).
Reports go to ``on_report`` per processed frame and the decision to ``on_done`` once; both are
called on the capture thread and must hand over to their own thread.

Privacy: frames live only inside this object and are dropped when it finishes; the reference
photo is encoded first and dropped. With ``keep_frames`` (debugging only, off by default) the
frames used for the template are written to disk, and a warning says so every time.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import cv2

from face import liveness, quality
from face.engine import FaceEngine, average
from face.geometry import affine_pose, face_crop
from face.liveness import Baseline, Challenge, LivenessLimits, random_actions
from face.quality import QualityLimits, assess
from face.types import Face, FrameReport, Image, MatchResult, Phase, Quality, Template

log = logging.getLogger(__name__)

GOOD_FRAMES_TO_START = 5  # consecutive good frames before the challenge: the patient is settled
TEMPLATE_FRAMES = 3  # frontal frames averaged into the template
FRONTAL_TOLERANCE = 0.08  # |a − baseline| for a frame to count as frontal during the challenge
POSITIONING_TIMEOUT_S = 45.0  # nobody in front of the camera that long: give up
CAMERA_SILENCE_S = 3.0  # no frame that long: the camera is gone


class FrameSource(Protocol):
    """What the capture needs of a camera (devices.camera's ``Camera`` has it)."""

    def wait_frame(self, timeout_s: float, newer_than: int = 0) -> object | None: ...


@dataclass(frozen=True, eq=False)
class CaptureOutcome:
    live: bool
    reason: str  # "" when live; "timeout", "flat", "still", "wrong_direction", "no_face", "camera", "no_reference", ...
    template: Template | None = None
    match: MatchResult | None = None


class FaceCapture:
    def __init__(
        self,
        engine: FaceEngine,
        camera: FrameSource,
        *,
        on_report: Callable[[FrameReport], None],
        on_done: Callable[[CaptureOutcome], None],
        preview_width: int = 480,
        rng: random.Random | None = None,
        quality_limits: QualityLimits = quality.DEFAULT_LIMITS,
        liveness_limits: LivenessLimits = liveness.DEFAULT_LIMITS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.engine, self.camera = engine, camera
        self.on_report, self.on_done = on_report, on_done
        self.preview_width, self.rng = preview_width, rng
        self.quality_limits, self.liveness_limits, self.clock = quality_limits, liveness_limits, clock
        self._cancel = threading.Event()
        self._thread: threading.Thread | None = None
        self.frames_processed = 0

    # ---- Public API

    def start(self, reference_bgr: Image | None) -> None:
        if self._thread is not None:
            raise RuntimeError("a FaceCapture runs once")
        self._thread = threading.Thread(target=self._main, args=(reference_bgr,), name="face-capture", daemon=True)
        self._thread.start()

    def cancel(self) -> None:
        self._cancel.set()

    def join(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # ---- The capture thread

    def _main(self, reference_bgr: Image | None) -> None:
        encoder_pool = ThreadPoolExecutor(1, thread_name_prefix="face-encode")
        try:
            outcome = self._capture(reference_bgr, encoder_pool)
        except Exception:
            log.exception("face capture failed")
            outcome = CaptureOutcome(False, "error")
        finally:
            reference_bgr = None
            encoder_pool.shutdown(wait=True, cancel_futures=True)
        if not self._cancel.is_set():
            log.info(
                "face capture: live=%s reason=%s match=%s score=%s",
                outcome.live,
                outcome.reason or "-",
                None if outcome.match is None else outcome.match.matched,
                None if outcome.match is None else round(outcome.match.score, 3),
            )
            self.on_done(outcome)

    def _capture(self, reference_bgr: Image | None, pool: ThreadPoolExecutor) -> CaptureOutcome:
        reference: Template | None = None
        if reference_bgr is not None:
            reference, why = self.engine.encode_photo(reference_bgr)
            if reference is None:
                log.info("the reference photo has no usable face (%s)", why)
                return CaptureOutcome(False, "no_reference")
        tracker = self.engine.tracker()
        actions = random_actions(self.engine.settings.challenge_actions, self.rng)
        settled: list[Face] = []
        candidates: list[tuple[float, Future[Template], Image, Face]] = []
        challenge: Challenge | None = None
        seq, started, last_frame_at = 0, self.clock(), self.clock()
        while not self._cancel.is_set():
            frame = self.camera.wait_frame(0.5, newer_than=seq)
            now = self.clock()
            if frame is None:
                if now - last_frame_at > CAMERA_SILENCE_S:
                    return CaptureOutcome(False, "camera")
                continue
            last_frame_at = now
            seq = frame.seq  # type: ignore[attr-defined]
            image: Image = frame.image  # type: ignore[attr-defined]
            faces = tracker.update(image)
            quality = assess(image, faces, self.quality_limits)
            self.frames_processed += 1
            if challenge is None:
                if quality.ok:
                    settled.append(faces[0])
                    self._consider(candidates, pool, image, faces[0], quality, None)
                else:
                    settled.clear()
                if len(settled) >= GOOD_FRAMES_TO_START:
                    timeout = self.engine.settings.liveness_timeout_s
                    challenge = Challenge(actions, Baseline.of(settled), now, timeout, self.liveness_limits)
                elif now - started > POSITIONING_TIMEOUT_S:
                    return CaptureOutcome(False, "no_face")
                self._report(seq, Phase.POSITIONING, quality, image, faces, challenge, now)
                continue
            alone = quality.faces <= 1
            face = faces[0] if faces and alone else None
            crop = face_crop(image, face.box) if face is not None else None
            state = challenge.update(now, face, crop)
            if face is not None and quality.sharpness >= self.quality_limits.min_sharpness:
                self._consider(candidates, pool, image, face, quality, challenge.baseline)
            if state.failed:
                self._report(seq, Phase.FAILED, quality, image, faces, challenge, now, state.failed)
                return CaptureOutcome(False, state.failed)
            if state.passed:
                self._report(seq, Phase.ENCODING, quality, image, faces, challenge, now)
                return self._decide(candidates, reference)
            self._report(seq, Phase.CHALLENGE, quality, image, faces, challenge, now)
        return CaptureOutcome(False, "cancelled")

    def _consider(
        self,
        candidates: list[tuple[float, Future[Template], Image, Face]],
        pool: ThreadPoolExecutor,
        image: Image,
        face: Face,
        quality: Quality,
        baseline: Baseline | None,
    ) -> None:
        """Keep the sharpest frontal frames; their templates are computed in the encode worker."""
        pose = affine_pose(face.landmarks)
        if pose is None or (baseline is not None and abs(pose[0] - baseline.yaw) > FRONTAL_TOLERANCE):
            return
        if len(candidates) >= TEMPLATE_FRAMES and quality.sharpness <= min(c[0] for c in candidates):
            return
        if len(candidates) >= TEMPLATE_FRAMES:
            worst = min(range(len(candidates)), key=lambda i: candidates[i][0])
            candidates[worst][1].cancel()
            del candidates[worst]
        copy = image.copy()  # the camera's frame is shared and read-only; the worker needs its own
        candidates.append((quality.sharpness, pool.submit(self.engine.encode, copy, face), copy, face))

    def _decide(
        self, candidates: list[tuple[float, Future[Template], Image, Face]], reference: Template | None
    ) -> CaptureOutcome:
        templates = [c[1].result() for c in candidates if not c[1].cancelled()]
        if self.engine.settings.keep_frames:
            self._keep([c[2] for c in candidates])
        candidates.clear()  # the frames go now: only the template leaves this object
        if not templates:
            return CaptureOutcome(False, "no_face")
        template = average(templates)
        match = self.engine.verify(template, reference) if reference is not None else None
        return CaptureOutcome(True, "", template, match)

    def _keep(self, frames: list[Image]) -> None:
        folder: Path = self.engine.settings.keep_frames_dir
        folder.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        for i, image in enumerate(frames):
            cv2.imwrite(str(folder / f"{stamp}-{i}.jpg"), image)
        log.warning("face.keep_frames is ON: %d face images written to %s (debugging only)", len(frames), folder)

    def _report(
        self,
        seq: int,
        phase: Phase,
        quality: Quality,
        image: Image,
        faces: list[Face],
        challenge: Challenge | None,
        now: float,
        reason: str = "",
    ) -> None:
        if self._cancel.is_set():
            return
        preview, face = None, faces[0] if faces else None
        if self.preview_width:
            scale = min(1.0, self.preview_width / image.shape[1])
            preview = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
            face = face.scaled(scale) if face is not None else None
        done = challenge.state.done if challenge is not None else 0
        total = len(challenge.actions) if challenge is not None else self.engine.settings.challenge_actions
        self.on_report(
            FrameReport(
                seq=seq,
                phase=phase,
                quality=quality,
                face=face,
                action=challenge.current if challenge is not None and phase is Phase.CHALLENGE else None,
                actions_done=done,
                actions_total=total,
                seconds_left=challenge.seconds_left(now) if challenge is not None else 0.0,
                preview=preview,
                reason=reason,
            )
        )
