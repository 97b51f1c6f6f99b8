"""What a ``camera://`` URL names, and the options it carries.

``camera://0``                          VideoCapture index 0 (V4L2 on Linux)
``camera:///dev/video0``                a V4L2 device node
``camera:///srv/clips/lobby.mp4``       a video file, played in real time like a live camera
``camera:///srv/clips/frames``          a folder of images (natural sort order), one per frame
``camera://rtsp://host:554/s?fps=10``   any URL OpenCV/FFmpeg opens (rtsp, http, …)

Options in the query: ``fps`` (target rate), ``width``, ``height``, ``loop`` (files and folders).
For a stream, query keys that are not options stay part of the stream's own URL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

OPTIONS = ("fps", "width", "height", "loop")
MAX_FPS = 240.0
MAX_SIZE = 16384
_STREAM = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


@dataclass(frozen=True)
class CameraOptions:
    fps: float | None = None  # None: the device's or file's own rate
    width: int | None = None
    height: int | None = None
    loop: bool = True  # a file standing in for a camera should not run dry

    def __post_init__(self) -> None:
        if self.fps is not None and not 0 < self.fps <= MAX_FPS:
            raise ValueError(f"camera fps {self.fps} is not in (0, {MAX_FPS:g}]")
        for name in ("width", "height"):
            size = getattr(self, name)
            if size is not None and not 0 < size <= MAX_SIZE:
                raise ValueError(f"camera {name} {size} is not in [1, {MAX_SIZE}]")


@dataclass(frozen=True, repr=False)
class CameraSpec:
    """``index`` for a VideoCapture index, else ``target`` is a path or a stream URL."""

    index: int | None
    target: str
    is_stream: bool
    options: CameraOptions

    @property
    def is_path(self) -> bool:
        return self.index is None and not self.is_stream

    @property
    def description(self) -> str:
        """Safe for logs: a stream's password is masked."""
        return f"index {self.index}" if self.index is not None else mask_url(self.target)

    def __repr__(self) -> str:
        return f"CameraSpec({self.description!r}, {self.options})"


def mask_url(url: str) -> str:
    """The URL with any stream password replaced, for logs, status and diagnostics."""
    return re.sub(r"(://[^/:@?#]*:)[^/@?#]*@", r"\1***@", url)


def _option(name: str, raw: str) -> float | int | bool:
    try:
        if name == "fps":
            return float(raw)
        if name in ("width", "height"):
            return int(raw)
    except ValueError:
        raise ValueError(f"camera option {name}={raw!r} is not a number") from None
    if raw.lower() in _TRUE:
        return True
    if raw.lower() in _FALSE:
        return False
    raise ValueError(f"camera option {name}={raw!r} must be true or false")


def parse_camera_url(url: str, defaults: CameraOptions | None = None) -> CameraSpec:
    """Parse ``url``; options in its query override ``defaults``. ``ValueError`` names the problem."""
    parts = urlsplit(url)
    if parts.scheme.lower() != "camera":
        raise ValueError(f"not a camera URL: {mask_url(url)!r}")
    values = dict(vars(defaults or CameraOptions()))
    kept: list[str] = []  # stream query pieces, raw, so their encoding is not changed
    for piece in filter(None, parts.query.split("&")):
        key, _, raw = piece.partition("=")
        if key in OPTIONS:
            values[key] = _option(key, unquote(raw))
        else:
            kept.append(piece)
    options = CameraOptions(**values)
    raw_target = parts.netloc + parts.path
    if _STREAM.match(raw_target):
        # The stream's own URL is handed to FFmpeg exactly as written (percent-escapes included).
        target = raw_target + ("?" + "&".join(kept) if kept else "")
        return CameraSpec(None, target, True, options)
    if kept:
        raise ValueError(f"unknown camera option(s) {', '.join(p.partition('=')[0] for p in kept)}")
    target = unquote(raw_target)
    if target.isdigit():
        return CameraSpec(int(target), "", False, options)
    if target.startswith("/"):
        return CameraSpec(None, target, False, options)
    raise ValueError(f"camera URL needs an index, an absolute path or a stream URL: {mask_url(url)!r}")
