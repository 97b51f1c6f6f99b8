"""What face verification needs on this kiosk, and whether it can work right now (no Qt).

The engine loads its models in a worker at start-up (``warm_up``); until that has succeeded, and
whenever the camera or the chip-photo decoder is missing, :meth:`FaceSupport.availability` says
why, and the consent screen offers only the staff alternative.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from devices.errors import DeviceState
from devices.idcard.photo import NoPhotoDecoder, PhotoDecoder, PhotoUnavailable
from face.settings import FaceSettings
from face.types import Image, Template
from kiosk_app.flows.filing import FaceAvailability

log = logging.getLogger(__name__)

DOWN = (DeviceState.UNAVAILABLE, DeviceState.ERROR)


class Engine(Protocol):
    def warm_up(self) -> None: ...


class Templates(Protocol):
    def save(self, subject: str, template: Template, *, consent_version: str, factor: str | None = None) -> None: ...

    def factor_tag(self, second_factor: str) -> str: ...

    def gallery(self, encoder: str, metric: str) -> Any: ...


@dataclass
class FaceSupport:
    settings: FaceSettings
    engine: Engine | None  # None: face verification is switched off or could not be built
    camera: Any | None  # devices.camera.Camera (has wait_frame); None: no camera configured
    decoder: PhotoDecoder = field(default_factory=NoPhotoDecoder)
    templates: Callable[[], Templates] | None = None  # opened on first use, in a worker
    _ready: threading.Event = field(default_factory=threading.Event)
    _failed: str = ""
    _store: Templates | None = None

    # ---- Start-up (worker)

    def warm_up(self) -> None:
        """Load the models; slow (about half a second), so never on the GUI thread."""
        if self.engine is None:
            return
        try:
            self.engine.warm_up()
        except Exception as err:  # noqa: BLE001 - a missing or corrupt model file must not take the kiosk down
            log.error("face engine could not load its models (%s): face verification is off", err)
            self._failed = "face.unavailable.engine"
            return
        self._ready.set()
        log.info("face engine ready (%s / %s)", self.settings.detector, self.settings.encoder)

    # ---- Queries (GUI thread: in-memory only)

    @property
    def ready(self) -> bool:
        return self._ready.is_set()

    def availability(self, camera_state: DeviceState | None) -> FaceAvailability:
        if not self.settings.enabled or self.engine is None:
            return FaceAvailability(False, "face.unavailable.disabled")
        if self.camera is None or camera_state in DOWN:
            return FaceAvailability(False, "face.unavailable.camera")
        if isinstance(self.decoder, NoPhotoDecoder):
            return FaceAvailability(False, "face.unavailable.photo")
        if self._failed:
            return FaceAvailability(False, self._failed)
        if not self.ready:
            return FaceAvailability(False, "face.unavailable.starting")
        return FaceAvailability(True)

    def can_identify(self, camera_state: DeviceState | None) -> bool:
        """Identification by face (1:N with the phone digits) can be offered: no chip photo needed."""
        ready = self.settings.enabled and self.engine is not None and self.ready and not self._failed
        return ready and self.camera is not None and camera_state not in DOWN and self.templates is not None

    # ---- Worker calls

    def reference(self, photo_wlt: bytes) -> Image:
        """The chip photo as a BGR image; ``PhotoUnavailable`` when it cannot be decoded."""
        import cv2  # loaded with the first face check, not at start-up
        import numpy as np

        data = self.decoder.decode(photo_wlt)
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        del data
        if image is None:
            raise PhotoUnavailable("the decoded chip photo is not an image")
        return image

    def identify(self, template: Template, digits: str) -> int | None:
        """1:N among the templates enrolled with these phone digits: the patient id, or None.

        A match needs the encoder's threshold and a margin over the second best (face/gallery.py):
        two enrolled look-alikes sharing the last four digits give None, never a guess.
        """
        if self.templates is None or self.engine is None:
            return None
        if self._store is None:
            self._store = self.templates()
        engine: Any = self.engine
        encoder = engine.encoder
        candidates = self._store.gallery(encoder.name, encoder.metric)
        result = engine.identify(template, candidates, self._store.factor_tag(digits))
        log.info("face 1:N: matched=%s reason=%s", result.matched, result.reason or "-")
        if not result.matched or not result.subject.startswith("patient:"):
            return None
        return int(result.subject.removeprefix("patient:"))

    def save_template(self, subject: str, template: Template, *, consent_version: str, factor: str) -> None:
        if self.templates is None:
            log.warning("no template store configured: the face template of %s is not kept", subject)
            return
        if self._store is None:
            self._store = self.templates()
        self._store.save(subject, template, consent_version=consent_version, factor=factor)


def template_store_factory(settings: FaceSettings, data_dir: Path) -> Callable[[], Templates]:
    def open_store() -> Templates:
        from face.templates import TemplateStore, load_key

        return TemplateStore(settings.template_db, load_key(settings, data_dir))

    return open_store
