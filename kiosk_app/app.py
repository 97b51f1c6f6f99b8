"""Assembles the kiosk from a config: store, server client, printer, flow shell, devices, window."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QApplication

from devices.idcard.photo import PhotoDecoder, decoder_from_config
from face.types import FrameReport
from kiosk_app.config import Config
from kiosk_app.controller import KioskController
from kiosk_app.diagnostics.context import DiagnosticsContext
from kiosk_app.face_bridge import Capture, CaptureFactory, FaceBridge
from kiosk_app.features import KNOWN as KNOWN_FEATURES
from kiosk_app.features import load as load_features
from kiosk_app.features.base import ServiceParts
from kiosk_app.fleet import FleetLink
from kiosk_app.flows.filing import FaceAvailability
from kiosk_app.hub import DeviceHub
from kiosk_app.i18n import Translations
from kiosk_app.idle import IdleWatcher
from kiosk_app.services.face import FaceSupport, template_store_factory
from kiosk_app.services.filing import FilingService
from kiosk_app.services.identify import PatientFinder
from kiosk_app.services.offline import OfflinePolicy, OfflineSupport
from kiosk_app.services.registration import PaySettings, RegistrationService
from kiosk_app.speech import Speaker
from kiosk_app.sync_status import SyncStatus
from kiosk_app.tasks import TaskManager
from kiosk_app.voice import VoicePrompts
from kiosk_app.wedge import WedgeFilter
from kiosk_app.window import DESIGN_SIZE, KioskWindow
from offline_cache.audit import AuditLog
from offline_cache.catalog import CatalogCache
from offline_cache.journal import Journal
from offline_cache.offline_ops import OfflineRegistrar
from offline_cache.outbox import Caps, Outbox
from offline_cache.patients import RecentPatients
from offline_cache.store import Store
from sync.client import ServerClient
from sync.credentials import is_systemd_copy, resolve, under_systemd
from sync.enroll import CredentialFileError, load_credential
from sync.fieldcrypto import FieldCipher, load_or_create_key
from sync.signing import KioskCredential
from sync.uploader import Uploader, UploaderSettings

log = logging.getLogger(__name__)

CASHIER_IDLE_S = 900


@dataclass
class Kiosk:
    config: Config
    store: Store
    journal: Journal
    client: ServerClient
    tasks: TaskManager
    controller: KioskController
    hub: DeviceHub
    idle: IdleWatcher
    translations: Translations
    window: KioskWindow
    audit: AuditLog | None = None
    wedge: WedgeFilter | None = None
    fleet: FleetLink | None = None
    offline: OfflineSupport | None = None
    sync_status: SyncStatus | None = None
    face: FaceSupport | None = None
    speaker: Speaker | None = None

    def start_devices(self) -> None:
        """Open the devices; called after the first paint so start-up is never held up by them."""
        self.hub.start()
        if self.face is not None and self.face.engine is not None:
            self.tasks.run(self.face.warm_up, lambda _: self.controller.sig_changed.emit())
        if self.fleet is not None:
            self.fleet.start()
        if self.offline is not None:
            self.offline.uploader.start()

    def shutdown(self) -> None:
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self.idle)
            if self.wedge is not None:
                app.removeEventFilter(self.wedge)
        self.idle.stop()
        self.translations.uninstall()
        if self.fleet is not None:
            self.fleet.stop()
        if self.offline is not None:
            self.offline.uploader.stop()
            self.offline.uploader.client.close()
        if self.controller.face is not None:
            self.controller.face.cancel()
        if self.speaker is not None:
            self.speaker.stop()
        self.hub.stop()
        self.tasks.shutdown(wait=True)
        self.client.close()
        self.store.close()
        self.window.close()


def build(
    config: Config,
    app: QApplication,
    *,
    config_path: Path | None = None,
    photo_decoder: PhotoDecoder | None = None,
    capture_factory: CaptureFactory | None = None,
    extra_features: tuple[str, ...] = (),
) -> Kiosk:
    """``config_path``: the TOML file diagnostics may write device URLs to (None: memory only).

    ``extra_features``: features loaded besides the role's own (the tour walks the cashier
    mode on a lobby kiosk). ``photo_decoder``: the ID card's chip-photo decoder (default: the vendor library named in
    the config); ``capture_factory``: what runs a face capture (default: face.capture, tests fake it).
    """
    store = Store(config.data_dir / "kiosk.db")
    journal = Journal(store)
    credential = load_kiosk_credential(config)
    client = server_client(config, credential)
    hub = DeviceHub(config)
    tasks = TaskManager()
    offline = build_offline(config, store, credential)
    sync_status = SyncStatus(offline.outbox, tasks)
    offline.uploader.on_status = sync_status.on_uploader_status
    service = RegistrationService(
        client=client,
        journal=journal,
        printer=hub.printer,
        kiosk_id=config.kiosk_id,
        hospital_name=config.hospital_name_zh,
        pay=PaySettings(config.pay_poll_interval_s, config.pay_deadline_s),
        offline=offline,
    )
    face = build_face(config, hub, photo_decoder)
    filing = FilingService(
        client=client,
        journal=journal,
        printer=hub.printer,
        kiosk_id=config.kiosk_id,
        hospital_name=config.hospital_name_zh,
        face=face,
        offline=offline,
    )
    parts = ServiceParts(
        client=client,
        journal=journal,
        printer=hub.printer,
        finder=PatientFinder(client, offline, face),
        kiosk_id=config.kiosk_id,
        hospital_name=config.hospital_name_zh,
        offline=offline,
        face=face,
        pay=PaySettings(config.pay_poll_interval_s, config.pay_deadline_s),
        extra={"data_dir": config.data_dir, "cashier_window": config.kiosk_id},
    )
    cashier = config.role == "cashier"
    wanted = {"cashier"} if cashier else {*KNOWN_FEATURES, *extra_features}
    features = [(feature, feature.service(parts)) for feature in load_features() if feature.name in wanted]
    if capture_factory is None and face is not None and face.engine is not None:
        capture_factory = real_capture_factory(face, hub.camera)
    controller = KioskController(
        service,
        tasks,
        lambda: hub.states,
        filing=filing,
        face=FaceBridge(capture_factory),
        face_availability=lambda: face.availability(hub.states.get("camera")) if face is not None else _no_face(),
        face_retries=config.face_retries,
        features=features,
        face_identify=lambda: face is not None and face.can_identify(hub.states.get("camera")),
        home_feature="cashier" if cashier else "",
    )
    hub.sig_card_read.connect(controller.on_card_read)
    hub.sig_scanned.connect(controller.on_scanned)
    hub.sig_insurance_card.connect(controller.on_insurance_card)
    hub.sig_device_error.connect(controller.on_device_error)
    hub.sig_state_changed.connect(controller.on_device_state)
    # Qt runs the most recently installed filter first: the idle watcher goes last so it still
    # sees the keystrokes of a wedge scanner that the wedge filter then swallows.
    wedge = WedgeFilter()
    app.installEventFilter(wedge)
    wedge.sig_scanned.connect(controller.on_scanned)
    # A cashier works the same screen all shift: the timeout only guards a window left signed in.
    idle_s = max(config.idle_timeout_s, CASHIER_IDLE_S) if cashier else config.idle_timeout_s
    idle = IdleWatcher(idle_s, config.idle_warning_s)
    app.installEventFilter(idle)
    hub.sig_card_read.connect(idle.touch)
    hub.sig_scanned.connect(idle.touch)
    hub.sig_insurance_card.connect(idle.touch)
    translations = Translations()
    translations.switch(config.language)
    diagnostics = DiagnosticsContext.create(
        config, store, tasks, hub, journal=journal, config_path=config_path, sync_status=sync_status
    )
    fleet = FleetLink(
        config.server_url,
        config.kiosk_id,
        hub=hub,
        journal=journal,
        controller=controller,
        tasks=tasks,
        interval_s=config.heartbeat_interval_s,
        credential=credential,
        outbox=offline.outbox,
    )
    window = KioskWindow(config, controller, translations, idle, hub, diagnostics, sync_status)
    window.resize(*_fit(app))
    if cashier:
        controller.start_feature("cashier")  # the window opens at the staff sign-in
    speaker = Speaker(config.voice)
    VoicePrompts(window, speaker, parent=window)
    return Kiosk(
        config,
        store,
        journal,
        client,
        tasks,
        controller,
        hub,
        idle,
        translations,
        window,
        diagnostics.audit,
        wedge,
        fleet,
        offline,
        sync_status,
        face,
        speaker,
    )


def build_face(config: Config, hub: DeviceHub, photo_decoder: PhotoDecoder | None) -> FaceSupport:
    """Face verification's parts; the engine only when the camera is on (OpenCV is costly to load)."""
    settings = config.face_settings
    decoder = photo_decoder or decoder_from_config(config.id_reader.options.get("wlt_decoder"))
    if settings.keep_frames:
        log.warning(
            "face.keep_frames is ON: captured face images are written to %s (debugging only)", settings.keep_frames_dir
        )
    engine = None
    if not settings.enabled:
        log.info("face verification is switched off ([face] enabled = false): filing offers the staff check only")
    elif not config.camera.enabled:
        log.info("face verification needs the camera ([devices.camera] enabled): filing offers the staff check only")
    else:
        try:
            from face.engine import FaceEngine

            engine = FaceEngine(settings)
        except Exception as err:  # noqa: BLE001 - without models the kiosk still files, by staff check
            log.error("face engine unavailable (%s): filing offers the staff check only", err)
    return FaceSupport(
        settings,
        engine,
        hub.camera,
        decoder,
        templates=template_store_factory(settings, config.data_dir),
    )


def real_capture_factory(face: FaceSupport, camera: object) -> CaptureFactory:
    def make(on_report: Callable[[FrameReport], None], on_done: Callable[[Any], None]) -> Capture:
        from face.capture import FaceCapture

        return FaceCapture(face.engine, camera, on_report=on_report, on_done=on_done, preview_width=480)  # type: ignore[arg-type]

    return make


def _no_face() -> FaceAvailability:
    return FaceAvailability(False, "face.unavailable.disabled")


def server_client(config: Config, credential: KioskCredential | None) -> ServerClient:
    return ServerClient(
        config.server_url,
        kiosk_id=config.kiosk_id,
        connect_timeout=config.connect_timeout_s,
        read_timeout=config.read_timeout_s,
        credential=credential,
    )


def build_offline(config: Config, store: Store, credential: KioskCredential | None) -> OfflineSupport:
    """The outbox, catalog cache, patient cache and the uploader thread (not started yet)."""
    cipher = FieldCipher(load_or_create_key(resolve(config.data_key_path)), domain="kiosk")
    outbox = Outbox(store, cipher, Caps(max_rows=config.outbox_max_rows, max_bytes=config.outbox_max_mb * 2**20))
    patients = RecentPatients(store, cipher)
    catalog = CatalogCache(store)
    registrar = OfflineRegistrar(store, outbox, patients, config.kiosk_id)
    client = server_client(config, credential)  # its own: a ServerClient belongs to one thread
    probe = config.offline_probe_interval_s
    uploader = Uploader(outbox, client, catalog=catalog, settings=UploaderSettings(probe_interval_s=(probe, 2 * probe)))
    policy = OfflinePolicy(registration=config.offline_registration, filing=config.offline_filing)
    return OfflineSupport(outbox, catalog, patients, registrar, uploader, policy)


def load_kiosk_credential(config: Config) -> KioskCredential | None:
    """The enrollment credential, or None (logged loudly: the server refuses an unenrolled kiosk)."""
    path = resolve(config.credential_path)
    if under_systemd() and not is_systemd_copy(path) and not os.access(path, os.R_OK):
        # The unit hands over the credentials directory: no copy of the file means no enrollment
        # yet (the original is root-only, so opening it would only say "permission denied").
        credential = None
    else:
        try:
            credential = load_credential(path)
        except CredentialFileError as err:
            log.error("kiosk credential unusable: %s; enroll again with `python main.py --enroll`", err)
            return None
    if credential is None:
        log.error(
            "this kiosk is not enrolled: no credential at %s. The server will refuse its requests until it is; "
            "run `python main.py --enroll` (packaged: `sudo kiosk --enroll`, then restart the service) and have "
            "an admin approve the pairing code",
            config.credential_path,
        )
        return None
    if credential.kiosk_id != config.kiosk_id:
        log.error(
            "the credential at %s is for kiosk %s but this kiosk is configured as %s; the server will refuse "
            "payments; fix kiosk.id or enroll again",
            path,
            credential.kiosk_id,
            config.kiosk_id,
        )
    return credential


def _fit(app: QApplication) -> tuple[int, int]:
    """The 9:16 design size scaled to fit the screen's available height."""
    screen = app.primaryScreen()
    w, h = DESIGN_SIZE
    if screen is None:
        return w // 2, h // 2
    avail = screen.availableGeometry()
    scale = min(1.0, avail.height() * 0.95 / h, avail.width() * 0.95 / w)
    return max(360, int(w * scale)), max(640, int(h * scale))
