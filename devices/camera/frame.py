"""One captured picture, as OpenCV gives it (BGR), with where it sits in time."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeAlias

import cv2
import numpy as np
import numpy.typing as npt

Image: TypeAlias = npt.NDArray[Any]


@dataclass(frozen=True, eq=False, repr=False)
class Frame:
    """A frame shared by every consumer: ``image`` is read-only, copy it before drawing on it."""

    image: Image  # H×W×3 uint8, BGR
    seq: int  # 1, 2, 3… for the life of the Camera object, across reconnects
    timestamp: float  # time.monotonic() when the frame was captured

    @property
    def width(self) -> int:
        return int(self.image.shape[1])

    @property
    def height(self) -> int:
        return int(self.image.shape[0])

    def __repr__(self) -> str:
        # The default repr would print the pixels (a patient's face) into logs and tracebacks.
        return f"Frame(seq={self.seq}, {self.width}x{self.height}, t={self.timestamp:.3f})"


def freeze(image: Image) -> Image:
    """Mark an image read-only, so one subscriber cannot scribble on what the others see."""
    image.flags.writeable = False
    return image


def to_rgb(frame: Frame | Image) -> Image:
    """A new C-contiguous RGB copy (what face models and Qt images expect); BGR, BGRA or grey in."""
    image = frame.image if isinstance(frame, Frame) else frame
    if image.ndim == 2:
        rgb = cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)
    elif image.shape[2] == 4:
        rgb = cv2.cvtColor(image, cv2.COLOR_BGRA2RGB)
    else:
        rgb = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
    return np.ascontiguousarray(rgb)
