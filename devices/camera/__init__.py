"""Camera driver (OpenCV VideoCapture): live cameras, video files, image folders and streams.

The emulator (a file or folder that can be unplugged) lives in ``devices.emulators.camera``.
"""

from devices.camera.capture import Camera, FrameListener
from devices.camera.errors import (
    CameraBadUrl,
    CameraEndOfStream,
    CameraError,
    CameraLost,
    CameraNoFrames,
    CameraTimeout,
    CameraUnavailable,
)
from devices.camera.frame import Frame, to_rgb
from devices.camera.spec import CameraOptions, CameraSpec, mask_url, parse_camera_url

__all__ = [
    "Camera",
    "CameraBadUrl",
    "CameraEndOfStream",
    "CameraError",
    "CameraLost",
    "CameraNoFrames",
    "CameraOptions",
    "CameraSpec",
    "CameraTimeout",
    "CameraUnavailable",
    "Frame",
    "FrameListener",
    "mask_url",
    "parse_camera_url",
    "to_rgb",
]
