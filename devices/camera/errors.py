"""Camera failures as keyed device errors.

They reuse the generic ``device.*`` translation keys: a patient is told the same thing whether the
camera or another device is missing, while ``code`` tells a technician exactly what happened.
"""

from __future__ import annotations

from devices.errors import DeviceError, DeviceTimeout, DeviceUnavailable


class CameraError(DeviceError):
    """Opened but misbehaving (state ERROR): no decodable frame, an OpenCV failure mid-stream."""

    code = "camera_error"
    tr_key = "device.error"


class CameraNoFrames(CameraError):
    """The source opened but gave no frame: a corrupt file, an empty folder, a non-capture node."""

    code = "camera_no_frames"


class CameraUnavailable(DeviceUnavailable):
    """The source cannot be opened: no such index, path or stream (state UNAVAILABLE)."""

    code = "camera_unavailable"


class CameraBadUrl(CameraUnavailable):
    """The configured URL cannot name a camera; retrying will not help."""

    code = "camera_bad_url"


class CameraLost(CameraUnavailable):
    """A source that was delivering vanished: unplugged, file removed, reads failing."""

    code = "camera_lost"


class CameraEndOfStream(CameraUnavailable):
    """A file or folder played to its end with ``loop=false``."""

    code = "camera_end_of_stream"


class CameraTimeout(DeviceTimeout):
    """No frame within a self-test's timeout."""

    code = "camera_timeout"
