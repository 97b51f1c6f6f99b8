"""A camera the real driver opens by URL: a symlink to a video file or an image folder.

The driver reads it with the same VideoCapture (or image folder) code it uses in the field, and
paces it like a live camera. ``unplug()`` removes the link, so the device disappears exactly as a
pulled USB camera's node does; ``replug()`` puts it back.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import quote, urlencode

import cv2
import numpy as np

from devices.camera.frame import Image

log = logging.getLogger(__name__)

# Codecs opencv-python-headless can write with its bundled FFmpeg; MJPG in AVI works everywhere.
_FOURCC = {".avi": "MJPG", ".mp4": "mp4v", ".mkv": "MJPG"}


def pattern_frame(index: int, size: tuple[int, int] = (320, 240)) -> Image:
    """A BGR picture that changes every frame: a moving disc, a moving box and the frame number."""
    width, height = size
    ramp = np.linspace(40, 200, width, dtype=np.uint8)
    image = np.empty((height, width, 3), np.uint8)
    image[:] = ramp[None, :, None]
    image[..., 0] = 255 - image[..., 0]  # blue falls where red rises: colour order is visible
    x = int((index * 7) % max(width - 40, 1)) + 20
    y = height // 2 + int(height / 4 * np.sin(index / 5))
    cv2.circle(image, (x, y), max(min(width, height) // 10, 4), (0, 200, 255), -1)
    bx = width - 20 - int((index * 5) % max(width - 60, 1)) - 40
    cv2.rectangle(image, (bx, 10), (bx + 40, 50), (255, 255, 255), -1)
    cv2.putText(image, str(index), (10, height - 12), cv2.FONT_HERSHEY_SIMPLEX,
                max(height / 240, 0.4), (0, 0, 0), 2, cv2.LINE_AA)
    return image


def make_test_video(path: str | os.PathLike[str], frames: int = 30, size: tuple[int, int] = (320, 240),
                    fps: float = 15) -> Path:
    """Write a synthetic clip (``.avi`` MJPG is the most portable; ``.mp4`` uses mp4v)."""
    out = Path(path)
    fourcc = _FOURCC.get(out.suffix.lower())
    if fourcc is None:
        raise ValueError(f"make_test_video writes .avi, .mp4 or .mkv, not {out.suffix!r}")
    writer = cv2.VideoWriter(str(out), cv2.VideoWriter.fourcc(*fourcc), float(fps), size)
    if not writer.isOpened():
        raise RuntimeError(f"OpenCV cannot write {fourcc} to {out}")
    try:
        for i in range(frames):
            writer.write(pattern_frame(i, size))
    finally:
        writer.release()
    return out


def make_test_images(folder: str | os.PathLike[str], count: int = 10, size: tuple[int, int] = (320, 240),
                     suffix: str = ".jpg") -> list[Path]:
    """Write ``frame_1.jpg`` … ``frame_<count>.jpg`` (numbered without padding, to test natural order)."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(1, count + 1):
        path = out / f"frame_{i}{suffix}"
        if not cv2.imwrite(str(path), pattern_frame(i, size)):
            raise RuntimeError(f"OpenCV cannot write {path}")
        paths.append(path)
    return paths


class CameraEmulator:
    """Serves ``source`` (a video file or a folder of images) at ``<dir>/camera0<suffix>``.

    Without a source it writes a synthetic clip of ``frames`` frames at ``fps``, so a demo needs
    no media. ``options`` (fps, width, height, loop) are added to the URL's query.
    """

    def __init__(
        self,
        source: str | os.PathLike[str] | None = None,
        *,
        directory: str | os.PathLike[str] | None = None,
        name: str = "camera0",
        options: Mapping[str, object] | None = None,
        frames: int = 60,
        fps: float = 15,
    ) -> None:
        self.source = Path(source).resolve() if source is not None else None
        self._directory = Path(directory) if directory is not None else None
        self._own_dir: Path | None = None  # a temporary directory we created and must remove
        self._name = name
        self._options = dict(options or {})
        self._frames, self._fps = frames, fps
        self._link: Path | None = None
        self._target: Path | None = None

    def start(self) -> CameraEmulator:
        if self._link is not None:
            return self
        directory = self._directory
        if directory is None:
            directory = self._own_dir = Path(tempfile.mkdtemp(prefix="camera-emu-"))
        target = self.source
        if target is None:
            target = make_test_video(directory / "synthetic.avi", self._frames, fps=self._fps)
        elif not target.exists():
            self.stop()
            raise FileNotFoundError(f"camera emulator source {target} does not exist")
        # Keep the suffix: FFmpeg guesses some containers by it.
        self._target = target
        self._link = directory / (self._name + ("" if target.is_dir() else target.suffix))
        self.replug()
        return self

    def stop(self) -> None:
        """Idempotent; removes the link (and the temporary directory if we made one)."""
        if self._link is not None:
            self.unplug()
        self._link = None
        if self._own_dir is not None:
            shutil.rmtree(self._own_dir, ignore_errors=True)
            self._own_dir = None

    def __enter__(self) -> CameraEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def path(self) -> Path:
        if self._link is None:
            raise RuntimeError("camera emulator not started")
        return self._link

    @property
    def url(self) -> str:
        query = urlencode({k: str(v).lower() if isinstance(v, bool) else v for k, v in self._options.items()})
        return f"camera://{quote(str(self.path))}" + (f"?{query}" if query else "")

    @property
    def plugged(self) -> bool:
        return self._link is not None and self._link.is_symlink()

    def unplug(self) -> None:
        """The camera disappears: the path the driver opened is gone."""
        if self._link is not None:
            self._link.unlink(missing_ok=True)
            log.info("camera emulator %s unplugged", self._link.name)

    def replug(self) -> None:
        if self._link is None or self._target is None:
            raise RuntimeError("camera emulator not started")
        if not self._link.is_symlink():
            self._link.symlink_to(self._target, target_is_directory=self._target.is_dir())
            log.info("camera emulator %s plugged in -> %s", self._link.name, self._target.name)
