"""Where frames come from: an OpenCV VideoCapture (index, device node, file, stream) or a folder of
images. Files and folders are paced on the monotonic clock so they behave like a live camera.

Every OpenCV failure leaves this module as a keyed ``DeviceError``; nothing here touches state or
threads, the ``Camera`` does.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path

import cv2

from devices.camera.errors import CameraEndOfStream, CameraLost, CameraNoFrames, CameraUnavailable
from devices.camera.frame import Image
from devices.camera.spec import MAX_FPS, CameraSpec

log = logging.getLogger(__name__)

VANISH_CHECK_S = 0.2  # paced waits look for the path this often: bounds how late an unplug is seen
MAX_READ_FAILURES = 3  # consecutive failed reads of a live device before it counts as lost
READ_RETRY_S = 0.05
STREAM_TIMEOUT_MS = 2000  # FFmpeg's own open/read timeouts, so a dead stream cannot block forever
DEFAULT_FILE_FPS = 25.0  # for containers that do not state a rate
DEFAULT_FOLDER_FPS = 15.0
MAX_CATCH_UP_S = 1.0  # behind by more than this (process stalled): skip ahead, do not fast-forward
IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff", ".ppm", ".pgm"})

Counter = Callable[[str, int], None]

_opencv_quietened = False


def _quiet_opencv() -> None:
    """OpenCV prints a WARN line to stderr for every failed open; reopening an unplugged camera every
    2 s would flood the journal with them, and our own log already says what happened."""
    global _opencv_quietened
    if _opencv_quietened:
        return
    _opencv_quietened = True
    logging_api = cv2.utils.logging
    if logging_api.getLogLevel() == logging_api.LOG_LEVEL_WARNING:  # leave a deliberate setting alone
        logging_api.setLogLevel(logging_api.LOG_LEVEL_ERROR)


def natural_key(name: str) -> list[int | str]:
    """frame2.jpg before frame10.jpg, as a person numbering files expects."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", name)]


def list_images(folder: Path) -> list[Path]:
    try:
        entries = [p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()]
    except OSError:
        return []
    return sorted(entries, key=lambda p: natural_key(p.name))


class Pacer:
    """Releases frames at a fixed rate on the monotonic clock, as a sensor would."""

    def __init__(self, fps: float) -> None:
        self.fps = fps
        self.period = 1.0 / fps
        self._due = 0.0

    def reset(self) -> None:
        """Call when a frame has just been delivered: the next one is due one period later."""
        self._due = time.monotonic() + self.period

    def wait(self, stop: threading.Event, check: Callable[[], None]) -> int | None:
        """Sleep until the next frame is due, calling ``check`` every ``VANISH_CHECK_S``.

        Returns how many frames were missed because we were late (the caller skips them so the
        picture stays in real time), or None if ``stop`` was set.
        """
        check()
        while (delay := self._due - time.monotonic()) > 0:
            if stop.wait(min(delay, VANISH_CHECK_S)):
                return None
            check()
        late = time.monotonic() - self._due
        missed = int(late / self.period)
        if late > MAX_CATCH_UP_S:
            self._due = time.monotonic() + self.period
        else:
            self._due += (missed + 1) * self.period
        return missed


def _fit(image: Image, width: int | None, height: int | None) -> Image:
    """Scale a file's frames to the configured size (one side given: keep the aspect ratio)."""
    if width is None and height is None:
        return image
    h, w = image.shape[:2]
    out_w = width or round(w * (height or h) / h)
    out_h = height or round(h * (width or w) / w)
    if (out_w, out_h) == (w, h):
        return image
    return cv2.resize(image, (out_w, out_h), interpolation=cv2.INTER_AREA)


class Source(ABC):
    """One open session with a frame source; not thread-safe, owned by one thread."""

    live: bool  # frames come at the device's pace (False: we pace them)
    nominal_fps: float = 0.0  # what the source claims; 0 if it does not say

    def __init__(self, spec: CameraSpec, count: Counter) -> None:
        self.spec = spec
        self._count = count

    @property
    def description(self) -> str:
        return self.spec.description

    @abstractmethod
    def open(self) -> Image:
        """Open and return the first frame; ``CameraUnavailable`` or ``CameraNoFrames``."""

    @abstractmethod
    def read(self, stop: threading.Event) -> Image | None:
        """The next frame, None if there is none this time (stopped, a transient failure).

        Raises ``CameraLost`` when the source has gone, ``CameraEndOfStream`` at the end of a
        file or folder played without ``loop``.
        """

    @abstractmethod
    def release(self) -> None:
        """Idempotent."""


class VideoSource(Source):
    """cv2.VideoCapture on an index, a V4L2 node, a video file or a stream URL."""

    def __init__(self, spec: CameraSpec, count: Counter) -> None:
        super().__init__(spec, count)
        self._cap: cv2.VideoCapture | None = None
        self._params: list[int] = []
        self._watch: str | None = None  # path whose disappearance means unplugged
        self._max_failures = MAX_READ_FAILURES
        self._failures = 0
        self._since_rewind = 0
        self._pacer: Pacer | None = None
        linux = sys.platform.startswith("linux")
        # V4L2 explicitly: the default backend list ends with FFmpeg, which cannot open cameras here
        # and only adds a misleading warning.
        device_api = cv2.CAP_V4L2 if linux else cv2.CAP_ANY
        if spec.index is not None:
            self._api = device_api
            self.live = True
            if linux:
                self._watch = f"/dev/video{spec.index}"
        elif spec.is_stream:
            self._api = cv2.CAP_ANY
            self.live = True
            self._params = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, STREAM_TIMEOUT_MS,
                            cv2.CAP_PROP_READ_TIMEOUT_MSEC, STREAM_TIMEOUT_MS]
            # A read that timed out has already waited STREAM_TIMEOUT_MS: one is enough.
            self._max_failures = 1
        else:
            self._watch = spec.target
            self.live = spec.target.startswith("/dev/")
            self._api = device_api if self.live else cv2.CAP_ANY

    def open(self) -> Image:
        _quiet_opencv()
        if self._watch is not None and not os.path.exists(self._watch):
            # Checked first: cheaper than OpenCV probing every backend, and a clearer message.
            raise CameraUnavailable(f"{self.description}: no such device or file")
        target: int | str = self.spec.index if self.spec.index is not None else self.spec.target
        try:
            cap = cv2.VideoCapture(target, self._api, self._params)
            if not cap.isOpened():
                cap.release()
                raise CameraUnavailable(f"{self.description}: OpenCV cannot open it")
            self._cap = cap
            if self.live:
                self._request_mode(cap)
            self.nominal_fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
            ok, image = cap.read()
        except cv2.error as err:
            self.release()
            raise CameraUnavailable(f"{self.description}: {_brief(err)}") from err
        if not ok or image is None:
            self.release()
            raise CameraNoFrames(f"{self.description}: opened, but no frame could be read")
        if not self.live:
            native = self.nominal_fps if 0 < self.nominal_fps <= MAX_FPS else DEFAULT_FILE_FPS
            self._pacer = Pacer(native)
            self._pacer.reset()
            self._since_rewind = 1
        log.debug("camera %s open: %dx%d, %.2f fps claimed", self.description,
                  image.shape[1], image.shape[0], self.nominal_fps)
        return self._shape(image)

    def _request_mode(self, cap: cv2.VideoCapture) -> None:
        opts = self.spec.options
        for prop, value in ((cv2.CAP_PROP_FRAME_WIDTH, opts.width), (cv2.CAP_PROP_FRAME_HEIGHT, opts.height),
                            (cv2.CAP_PROP_FPS, opts.fps)):
            if value is not None and not cap.set(prop, float(value)):
                # Cameras offer fixed modes; a refusal is normal and the frames say what we got.
                log.info("camera %s declined property %d=%s", self.description, prop, value)

    def read(self, stop: threading.Event) -> Image | None:
        cap = self._cap
        if cap is None:
            raise CameraLost(f"{self.description}: not open")
        if self._pacer is not None:
            missed = self._pacer.wait(stop, self._check_present)
            if missed is None:
                return None
            if missed:
                self._skip(cap, min(missed, int(self._pacer.fps * MAX_CATCH_UP_S)))
                self._count("dropped", missed)
        else:
            self._check_present()
        try:
            ok, image = cap.read()
        except cv2.error as err:
            log.debug("camera %s read raised: %s", self.description, _brief(err))
            ok, image = False, None
        if ok and image is not None:
            self._failures = 0
            self._since_rewind += 1
            return self._shape(image)
        self._count("read_failures", 1)
        self._check_present()
        if not self.live:
            return self._shape(self._rewind(cap))
        self._failures += 1
        if self._failures >= self._max_failures:
            raise CameraLost(f"{self.description}: {self._failures} reads failed in a row")
        stop.wait(READ_RETRY_S)
        return None

    def _skip(self, cap: cv2.VideoCapture, n: int) -> None:
        for _ in range(n):
            try:
                ok = cap.grab()
            except cv2.error:
                ok = False
            if not ok:
                return  # the next read meets the end of the file and deals with it

    def _rewind(self, cap: cv2.VideoCapture) -> Image:
        """End of a file (it is still there): start again, or end the stream without ``loop``."""
        if self._since_rewind == 0:
            raise CameraLost(f"{self.description}: no frame since the last rewind")
        if not self.spec.options.loop:
            raise CameraEndOfStream(f"{self.description}: end of file")
        self._since_rewind = 0
        try:
            cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
            ok, image = cap.read()
        except cv2.error as err:
            raise CameraLost(f"{self.description}: rewind failed: {_brief(err)}") from err
        if not ok or image is None:
            raise CameraLost(f"{self.description}: no frame after rewinding")
        self._since_rewind = 1
        return image

    def _check_present(self) -> None:
        # An open file keeps reading after its path is removed (the descriptor outlives the name),
        # so an unplugged emulator or a pulled USB camera is noticed by its path.
        if self._watch is not None and not os.path.exists(self._watch):
            raise CameraLost(f"{self.description}: has gone")

    def _shape(self, image: Image) -> Image:
        if self.live:
            return image
        return _fit(image, self.spec.options.width, self.spec.options.height)

    def release(self) -> None:
        cap, self._cap = self._cap, None
        if cap is not None:
            try:
                cap.release()
            except cv2.error as err:
                log.debug("camera %s release: %s", self.description, _brief(err))


class ImageFolderSource(Source):
    """A folder of images in natural order, one per frame, at ``fps`` (default 15)."""

    live = False

    def __init__(self, spec: CameraSpec, count: Counter) -> None:
        super().__init__(spec, count)
        self._folder = Path(spec.target)
        self._files: list[Path] = []
        self._next = 0
        self.nominal_fps = spec.options.fps or DEFAULT_FOLDER_FPS
        self._pacer = Pacer(self.nominal_fps)

    def open(self) -> Image:
        if not self._folder.is_dir():
            raise CameraUnavailable(f"{self.description}: no such folder")
        self._files = list_images(self._folder)
        for i, path in enumerate(self._files):
            image = self._load(path)
            if image is not None:
                self._next = i + 1
                self._pacer.reset()
                return image
        raise CameraNoFrames(f"{self.description}: no readable image ({len(self._files)} files)")

    def read(self, stop: threading.Event) -> Image | None:
        missed = self._pacer.wait(stop, self._check_present)
        if missed is None:
            return None
        if missed:
            self._next += missed
            self._count("dropped", missed)
        for _ in range(max(len(self._files), 1)):
            if self._next >= len(self._files):
                if not self.spec.options.loop:
                    raise CameraEndOfStream(f"{self.description}: last image shown")
                self._files, self._next = list_images(self._folder), 0  # pick up added/removed files
                if not self._files:
                    self._check_present()
                    raise CameraLost(f"{self.description}: no images left")
            path = self._files[self._next]
            self._next += 1
            image = self._load(path)
            if image is not None:
                return image
            self._count("read_failures", 1)
            self._check_present()
        raise CameraLost(f"{self.description}: no image could be read")

    def _load(self, path: Path) -> Image | None:
        try:
            image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        except cv2.error as err:
            log.debug("camera %s: %s: %s", self.description, path.name, _brief(err))
            return None
        if image is None:
            return None
        return _fit(image, self.spec.options.width, self.spec.options.height)

    def _check_present(self) -> None:
        if not self._folder.is_dir():
            raise CameraLost(f"{self.description}: folder has gone")

    def release(self) -> None:
        self._files = []


def make_source(spec: CameraSpec, count: Counter) -> Source:
    """The right (unopened) source for ``spec``; decided at each reopen, as a path may change kind."""
    if spec.is_path and os.path.isdir(spec.target):
        return ImageFolderSource(spec, count)
    return VideoSource(spec, count)


def _brief(err: BaseException) -> str:
    # cv2.error texts span lines and carry OpenCV's build paths; one short line suits a log and a status.
    return " ".join(str(err).split())[:200] or type(err).__name__
