"""A patient's face for the camera emulator, made from a real clip: it does what it is asked.

The camera driver reads an image folder (``camera://<dir>``) in a loop and re-lists it at the
end of each pass. The puppet points that folder, a symlink, at one of several frame sets cut
from a real video of a person, so a test or the demo panel can make the "patient" look at the
camera, turn left or right, step away, bring a second person, or hold up a printed photo that
is turned about in front of the camera (the attack the liveness check must stop).

Frames are written to a temporary directory when the puppet starts and removed when it stops;
nothing from the clip is kept or shipped. The default frame ranges fit the face_recognition
project's ``short_hamilton_clip.mp4`` (a man facing the camera from frame 83, turning to his
right over frames 95–120); another clip needs its own :class:`ClipScript`.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from devices.camera.frame import Image

log = logging.getLogger(__name__)

MOTIONS = ("front", "turn_left", "turn_right", "away", "two_people", "photo")


@dataclass(frozen=True)
class ClipScript:
    """Which frames of the clip show what (inclusive ranges)."""

    front: tuple[int, int] = (84, 93)  # looking at the camera
    turn_right: tuple[int, int] = (95, 121)  # from frontal to about 45° to his right
    away: tuple[int, int] = (2, 16)  # the same person far away, with the audience in view
    chip_frame: int = 90  # the frame the demo ID card's chip photo is cut from
    # The part of the frame a kiosk camera would see (x, y, w, h) of a person at arm's length;
    # the clip was shot from the back of a hall.
    crop: tuple[int, int, int, int] = (60, 3, 340, 255)
    size: tuple[int, int] = (640, 480)


def read_frames(clip: Path, last: int) -> list[Image]:
    cap = cv2.VideoCapture(str(clip))
    frames: list[Image] = []
    try:
        while len(frames) <= last:
            ok, image = cap.read()
            if not ok:
                break
            frames.append(image)
    finally:
        cap.release()
    if len(frames) <= last:
        raise ValueError(f"{clip}: {len(frames)} frames, the script needs {last + 1}")
    return frames


def ping_pong(frames: list[Image]) -> list[Image]:
    """Forth and back, so a loop has no jump (a jump looks like a new face to the tracker)."""
    return frames + frames[-2:0:-1]


def photo_attack(face_frame: Image, count: int = 40) -> list[Image]:
    """A printed photo of ``face_frame`` held in front of the camera and turned about its vertical
    axis by up to ±40°, shifted and tilted, as a hand would: perspective warps of one picture."""
    h, w = face_frame.shape[:2]
    background = np.full_like(face_frame, 90)
    f = float(w)  # a typical webcam: focal length about the image width
    corners = np.array([[-w / 2, -h / 2], [w / 2, -h / 2], [w / 2, h / 2], [-w / 2, h / 2]], np.float64)
    depth = 1.2 * f  # held close: strong perspective, the hardest case for the flat-picture check
    out = []
    for i in range(count):
        t = i / max(count - 1, 1)
        yaw = np.radians(40 * np.sin(2 * np.pi * t))
        pitch = np.radians(8 * np.sin(4 * np.pi * t))
        shift = np.array([20 * np.sin(2 * np.pi * t), 10 * np.cos(2 * np.pi * t)])
        r_yaw = np.array([[np.cos(yaw), 0, np.sin(yaw)], [0, 1, 0], [-np.sin(yaw), 0, np.cos(yaw)]])
        r_pitch = np.array([[1, 0, 0], [0, np.cos(pitch), -np.sin(pitch)], [0, np.sin(pitch), np.cos(pitch)]])
        pts3 = np.c_[corners * depth / f, np.zeros(4)] @ (r_pitch @ r_yaw).T + np.array([0, 0, depth])
        projected = pts3[:, :2] * (f / pts3[:, 2:3]) + np.array([w / 2, h / 2]) + shift
        src = (corners + np.array([w / 2, h / 2])).astype(np.float32)
        matrix = cv2.getPerspectiveTransform(src, projected.astype(np.float32))
        warped = cv2.warpPerspective(face_frame, matrix, (w, h), borderValue=(90, 90, 90))
        mask = cv2.warpPerspective(np.full((h, w), 255, np.uint8), matrix, (w, h)) > 0
        frame = background.copy()
        frame[mask] = warped[mask]
        out.append(frame)
    return out


def _fit(frame: Image, size: tuple[int, int]) -> Image:
    return cv2.resize(frame, size, interpolation=cv2.INTER_AREA)


def _side_by_side(frame: Image) -> Image:
    """Two people in front of the kiosk: the frame and its mirror image, each at half size."""
    h, w = frame.shape[:2]
    half = cv2.resize(frame, (w // 2, h // 2), interpolation=cv2.INTER_AREA)
    canvas = np.full_like(frame, 60)
    canvas[h // 4 : h // 4 + h // 2] = np.hstack([half, cv2.flip(half, 1)])
    return canvas


def chip_photo(frame: Image, box: tuple[float, float, float, float]) -> bytes:
    """An ID-card-like chip photo of the face in ``box``: head and shoulders, 102×126, JPEG."""
    x, y, w, h = box
    cx, cy = x + w / 2, y + h / 2
    half_w = w * 0.85
    half_h = half_w * 126 / 102
    x0, y0 = int(max(cx - half_w, 0)), int(max(cy - half_h * 0.9, 0))
    x1, y1 = int(min(cx + half_w, frame.shape[1])), int(min(cy + half_h * 1.1, frame.shape[0]))
    crop = cv2.resize(frame[y0:y1, x0:x1], (102, 126), interpolation=cv2.INTER_AREA)
    ok, jpeg = cv2.imencode(".jpg", crop, [cv2.IMWRITE_JPEG_QUALITY, 80])
    if not ok:
        raise RuntimeError("cannot encode the chip photo")
    return jpeg.tobytes()


class FacePuppet:
    """``start()`` cuts the frame sets; ``url`` is the camera URL; ``act(motion)`` switches."""

    # The clip's own rate: a switch of motion takes effect within one pass (~1 s at this rate).
    def __init__(self, clip: Path, script: ClipScript = ClipScript(), *, fps: float = 25.0) -> None:
        self.clip, self.script, self.fps = Path(clip), script, fps
        self._dir: Path | None = None
        self.motion = ""
        self._chip_frame: Image | None = None

    def start(self) -> FacePuppet:
        s = self.script
        frames = read_frames(self.clip, max(s.front[1], s.turn_right[1], s.away[1], s.chip_frame))
        x, y, w, h = s.crop
        near = [cv2.resize(f[y : y + h, x : x + w], s.size, interpolation=cv2.INTER_CUBIC) for f in frames]
        cut = lambda r: near[r[0] : r[1] + 1]  # noqa: E731
        right = cut(s.turn_right) + [near[s.turn_right[1]]] * 4  # hold the turn a moment
        front = ping_pong(cut(s.front))
        sets = {
            "front": front,
            "turn_right": right,
            "turn_left": [cv2.flip(f, 1) for f in right],  # his right turn, mirrored, is a left turn
            "away": ping_pong([_fit(f, s.size) for f in frames[s.away[0] : s.away[1] + 1]]),
            "two_people": [_side_by_side(f) for f in front],
            "photo": photo_attack(near[s.chip_frame]),
        }
        self._chip_frame = near[s.chip_frame]
        self._dir = Path(tempfile.mkdtemp(prefix="face-puppet-"))
        for name, images in sets.items():
            folder = self._dir / name
            folder.mkdir()
            for i, image in enumerate(images):
                cv2.imwrite(str(folder / f"{i:04d}.jpg"), image, [cv2.IMWRITE_JPEG_QUALITY, 90])
        self.act("front")
        return self

    def stop(self) -> None:
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None
        self._chip_frame = None

    def __enter__(self) -> FacePuppet:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def path(self) -> Path:
        if self._dir is None:
            raise RuntimeError("face puppet not started")
        return self._dir / "camera"

    @property
    def url(self) -> str:
        return f"camera://{self.path}?fps={self.fps:g}&loop=true"

    def act(self, motion: str) -> None:
        """Switch what the camera sees; the driver picks it up at the end of its current pass."""
        if motion not in MOTIONS:
            raise ValueError(f"unknown motion {motion!r}; one of {', '.join(MOTIONS)}")
        link = self.path
        tmp = link.with_name(f".camera.{os.getpid()}.tmp")
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(link.parent / motion, target_is_directory=True)
        os.replace(tmp, link)  # atomic: the driver never sees the folder missing
        self.motion = motion
        log.info("face puppet: %s", motion)

    def chip_photo(self, locate: object) -> bytes:
        """The chip photo for the demo card. ``locate(frame) -> box`` finds the face (face.detect)."""
        if self._chip_frame is None:
            raise RuntimeError("face puppet not started")
        box = locate(self._chip_frame)  # type: ignore[operator]
        return chip_photo(self._chip_frame, box)
