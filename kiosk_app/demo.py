"""Demo mode: the central server on loopback plus emulated devices at the wire.

The kiosk's real drivers talk to these emulators exactly as they would to hardware: the ID
reader and the scanner on pseudo-terminals, the printer over TCP. Nothing here is imported
outside demo mode, tests and the tour.
"""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import requests

from devices.emulators import pcsc_service
from devices.emulators.camera import CameraEmulator
from devices.emulators.idcard import IdCardEmulator, demo_photo, encode_text, sample_cards
from devices.emulators.printer import PrinterEmulator
from devices.emulators.scanner import ScannerEmulator
from devices.emulators.vpcd import VirtualSsCard
from devices.emulators.vpcd import sample_cards as sample_insurance_cards
from devices.idcard import IdCardData
from devices.idcard.parser import id_check_digit
from kiosk_app.config import Config, DeviceConfig
from sync.enroll import (
    CredentialFileError,
    EnrollmentError,
    load_credential,
    request_enrollment,
    save_credential,
    wait_for_approval,
)
from sync.signing import KioskAuth

log = logging.getLogger(__name__)

# The technician PIN of the demo only (a real kiosk's PIN hash comes from its own config).
DEMO_PIN = "2468"
# The demo server's staff account "admin" (created by --demo-admin-password; demo only).
DEMO_ADMIN_PASSWORD = "demo-admin-2468"

# Payment codes that select the server sandbox's behaviour (last digit, see server/payments/sandbox.py).
DEMO_CODES = {
    "success": "134567890123456780",
    "userpaying": "134567890123456786",
    "never_confirmed": "134567890123456787",
    "insufficient": "134567890123456788",
    "lost_response": "134567890123456789",
    "not_payment": "HOSPITAL-LEAFLET-42",
}


# A real person's clip for the face-verification demo. It lives beside the repository and is
# never copied into it or shipped: without it the demo plays a synthetic clip and filing offers
# the staff check only.
DEMO_FACE_CLIP = Path(__file__).resolve().parent.parent.parent / "shared" / "video" / "short_hamilton_clip.mp4"


FACE_CARDS = ("newpatient", "newpatient2")
# The demo cashier's staff ID card (server/cashier/demo.py: cashier 1001, PIN 2580). ``raw_text``
# cleared: the emulator would otherwise send the sample card's own text block.
STAFF_CARD = replace(sample_cards()["elder"], name="王收费", id_number="110105198503150019", raw_text=b"")


def first_time_cards() -> dict[str, IdCardData]:
    """Fictitious first-time patients (the demo server has never seen them): valid GB 11643
    check digits. ``newpatient`` and ``newpatient2`` get the clip's chip photo (the same face:
    a demo has one actor); ``newpatient_nophoto`` none, as on a kiosk without the WLT decoder."""
    cards = {
        "newpatient": IdCardData(
            name="李明",
            sex="1",
            nation="01",
            birth="19850707",
            address="北京市海淀区示例大街20号",
            id_number=resident_id("11010819850707003"),
            authority="北京市公安局海淀分局",
            valid_from="20150707",
            valid_to="20350707",
        ),
        "newpatient2": IdCardData(
            name="陈建国",
            sex="1",
            nation="01",
            birth="19780923",
            address="广东省广州市越秀区示例路66号",
            id_number=resident_id("44010419780923005"),
            authority="广州市公安局越秀分局",
            valid_from="20180923",
            valid_to="20380923",
        ),
        "newpatient_nophoto": IdCardData(
            name="赵丽华",
            sex="2",
            nation="01",
            birth="19920214",
            address="天津市和平区示例道8号",
            id_number=resident_id("12010119920214004"),
            authority="天津市公安局和平分局",
            valid_from="20120214",
            valid_to="20320214",
        ),
    }
    return {key: replace(c, raw_text=encode_text(c), photo_wlt=demo_photo(key)) for key, c in cards.items()}


def resident_id(first17: str) -> str:
    return first17 + id_check_digit(first17)


def _software_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("hospital-kiosk")
    except PackageNotFoundError:
        return "unknown"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class DemoEnvironment:
    """Starts and stops everything the demo needs; ``config`` points the kiosk at it."""

    def __init__(self, base: Config, data_dir: Path, *, face_clip: Path | None = None) -> None:
        self.base, self.data_dir = base, data_dir
        self.id_reader = IdCardEmulator()
        self.scanner = ScannerEmulator()
        self.printer = PrinterEmulator()
        self.camera = CameraEmulator()  # a synthetic clip unless the real-face clip is there
        self.face_clip = face_clip if face_clip is not None else DEMO_FACE_CLIP
        self.puppet: Any = None  # devices.emulators.face_puppet.FacePuppet when the clip is there
        self.chip_photo: bytes | None = None
        self.cards = {**sample_cards(), **first_time_cards(), "staff": STAFF_CARD}
        self.insurance_cards = sample_insurance_cards()
        self.insurance: VirtualSsCard | None = None
        self._pcscd_started = False
        self.server: subprocess.Popen[bytes] | None = None
        self.server_url = ""
        self.credential_path: Path | None = None
        self.port = 0

    def start(self) -> Config:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.server_url = f"http://127.0.0.1:{self.port}"
        self._spawn_server()
        self.id_reader.start()
        self.scanner.start()
        self.printer.start()
        camera = self._start_camera()
        config = self.base.with_devices(
            id_reader=self.id_reader.url, scanner=self.scanner.url, printer=self.printer.url
        )
        from kiosk_app.diagnostics.pin import hash_pin

        config = replace(
            config,
            server_url=self.server_url,
            data_dir=self.data_dir,
            credential_file=None,  # the demo kiosk's own, in the demo's data directory
            camera=camera,
            insurance_card=self._start_insurance(),
            diagnostics_pin_hash=hash_pin(DEMO_PIN),
            offline_probe_interval_s=3.0,  # "Restore the network" shows its effect within seconds
        )
        if self.wait_for_server():
            try:
                self.enroll_kiosk(config)
            except (EnrollmentError, CredentialFileError, requests.RequestException) as err:
                log.error("demo: enrolling the kiosk failed (%s); the server will refuse its requests", err)
        return config

    def _start_camera(self) -> DeviceConfig:
        """The face puppet on the real-face clip if it is there, else the synthetic clip."""
        if self.face_clip.is_file():
            try:
                from devices.emulators.face_puppet import FacePuppet

                self.puppet = FacePuppet(self.face_clip).start()
                self.chip_photo = self.puppet.chip_photo(_locate_face)
            except Exception as err:  # noqa: BLE001 - the demo goes on with the staff check only
                log.warning(
                    "demo: the face clip %s could not be used (%s); filing offers the staff check only",
                    self.face_clip,
                    err,
                )
                if self.puppet is not None:
                    self.puppet.stop()
                self.puppet, self.chip_photo = None, None
            else:
                log.info(
                    "demo: camera plays the face clip %s (not copied); card 'newpatient' has its chip photo",
                    self.face_clip,
                )
                return DeviceConfig(self.puppet.url, True, {"fps": 25.0})
        else:
            log.warning(
                "demo: no face clip at %s: the camera plays a synthetic clip and filing offers the staff check only",
                self.face_clip,
            )
        self.camera.start()
        return DeviceConfig(self.camera.url, True, {"fps": 15.0})

    def place_card(self, key: str) -> None:
        """Put a demo card on the reader; the first-time patient's carries the clip's chip photo."""
        photo = self.chip_photo if key in FACE_CARDS else None
        self.id_reader.place_card(self.cards[key], photo=photo)

    def identity_code(self, key: str, kind: str) -> str:
        """The QR a demo patient shows the scanner: ``visit_card`` (``HVC:``) or ``evoucher`` (sandbox token).

        Blocking (two requests to the local demo server): call it from a worker or a test.
        """
        credential = load_credential(self.credential_path) if self.credential_path else None
        if credential is None:
            raise EnrollmentError("the demo kiosk is not enrolled yet")
        auth, card = KioskAuth.from_credential(credential), self.cards[key]
        birth = f"{card.birth[:4]}-{card.birth[4:6]}-{card.birth[6:]}"
        claim = {"id_type": card.card_type, "id_number": card.id_number, "name": card.name,
                 "sex": {"1": "M", "2": "F"}.get(card.sex, "M"), "birth": birth}  # fmt: skip
        r = requests.post(f"{self.server_url}/api/v1/patients/identify", json=claim, auth=auth, timeout=5)
        r.raise_for_status()
        patient_id = r.json()["patient_id"]
        if kind == "evoucher":
            issue = {"patient_id": patient_id}
            r = requests.post(f"{self.server_url}/sandbox/insurance/evoucher", json=issue, timeout=5)
            r.raise_for_status()
            return str(r.json()["token"])
        find = {"method": "patient", "value": str(patient_id)}
        r = requests.post(f"{self.server_url}/api/v1/patients/find", json=find, auth=auth, timeout=5)
        r.raise_for_status()
        return f"HVC:{r.json()['visit_card_no']}"

    def scan_identity(self, key: str, kind: str) -> None:
        """Demo panel: the patient holds their visit card / e-voucher under the scanner (in a thread)."""

        def show() -> None:
            try:
                self.scanner.scan(self.identity_code(key, kind))
            except (requests.RequestException, EnrollmentError) as err:
                log.warning("demo: no %s code for %s: %s", kind, key, err)

        threading.Thread(target=show, name="demo-identity-code", daemon=True).start()

    def act(self, motion: str) -> None:
        """What the patient in front of the camera does (face puppet motions); no-op without the clip."""
        if self.puppet is not None:
            self.puppet.act(motion)

    def _spawn_server(self) -> None:
        log_file = (self.data_dir / "server.log").open("ab")
        self.server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "server",
                "--db",
                str(self.data_dir / "server.db"),
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--fast-payments",
                "--demo-patients",  # bookings, bills and reports for the demo cards
                "--demo-admin-password",
                DEMO_ADMIN_PASSWORD,
            ],
            stdout=log_file,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        log_file.close()

    def cut_network(self) -> None:
        """Demo: the hospital system becomes unreachable (its process stops; its data stays)."""
        if self.server is not None and self.server.poll() is None:
            log.warning("demo: hospital network cut (server stopped)")
            self.server.terminate()  # not waited for: this runs on the GUI thread

    def restore_network(self) -> None:
        """Demo: the hospital system is back on the same address; the kiosk's outbox drains."""
        if self.server is not None and self.server.poll() is None:
            return
        if self.server is not None:
            try:
                self.server.wait(5)
            except subprocess.TimeoutExpired:
                self.server.kill()
        log.warning("demo: hospital network restored (server started)")
        self._spawn_server()

    def enroll_kiosk(self, config: Config) -> None:
        """Enroll the demo kiosk through the real flow: request, approve as admin, poll, save.

        A credential left by an earlier demo run is kept if the server still accepts it.
        """
        log.warning(
            "demo: admin dashboard at %s/dashboard (user admin, password %s: demo only)",
            self.server_url,
            DEMO_ADMIN_PASSWORD,
        )
        path = config.credential_path
        self.credential_path = path
        existing = load_credential(path)
        if existing is not None and existing.kiosk_id == config.kiosk_id:
            r = requests.get(
                f"{self.server_url}/api/v1/departments", auth=KioskAuth.from_credential(existing), timeout=5
            )
            if r.ok:
                log.info("demo: kiosk %s is enrolled already", config.kiosk_id)
                return
        enrollment = request_enrollment(self.server_url, config.kiosk_id, _software_version())
        log.info("demo: kiosk %s asks to enroll, pairing code %s", config.kiosk_id, enrollment.display_code)
        with requests.Session() as admin:
            r = admin.post(
                f"{self.server_url}/api/v1/staff/login",
                json={"username": "admin", "password": DEMO_ADMIN_PASSWORD},
                timeout=10,
            )
            if r.status_code != 200:
                raise EnrollmentError(f"demo admin login failed: HTTP {r.status_code}")
            r = admin.post(
                f"{self.server_url}/api/v1/admin/enrollments/approve",
                json={"pairing_code": enrollment.pairing_code},
                timeout=10,
            )
            if r.status_code != 200:
                raise EnrollmentError(f"demo approval failed: HTTP {r.status_code}")
            admin.post(f"{self.server_url}/api/v1/staff/logout", timeout=10)
        credential = wait_for_approval(self.server_url, enrollment, first_delay_s=0.1, max_delay_s=1.0)
        if credential is None:
            raise EnrollmentError("the demo enrollment expired")
        save_credential(path, credential, server_url=self.server_url)
        log.info("demo: kiosk %s enrolled", config.kiosk_id)

    def _start_insurance(self) -> DeviceConfig:
        """A virtual social-security card behind pcscd, if this machine can run one."""
        config, self._pcscd_started = pcsc_service.virtual_reader()
        if config is None:
            log.warning("demo without an insurance-card reader: %s", pcsc_service.last_reason())
            return DeviceConfig("pcsc://", enabled=False)
        self.insurance = VirtualSsCard(port=config.port)
        self.insurance.start()
        return DeviceConfig(f"pcsc://{config.reader_name()}", True)

    def wait_for_server(self, timeout: float = 30) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.server is not None and self.server.poll() is not None:
                log.error("demo server exited with %s; see %s", self.server.returncode, self.data_dir / "server.log")
                return False
            try:
                if requests.get(f"{self.server_url}/health", timeout=1).ok:
                    return True
            except requests.RequestException:
                time.sleep(0.2)
        return False

    def stop(self) -> None:
        for emulator in (self.id_reader, self.scanner, self.printer, self.camera, self.insurance, self.puppet):
            if emulator is not None:
                emulator.stop()
        self.chip_photo = None
        if self._pcscd_started:
            pcsc_service.stop_pcscd()
        if self.server is not None and self.server.poll() is None:
            self.server.terminate()
            try:
                self.server.wait(10)
            except subprocess.TimeoutExpired:
                self.server.kill()


def _locate_face(frame: Any) -> tuple[float, float, float, float]:
    """The face box in a clip frame (for cutting the demo card's chip photo)."""
    from face.detect import YuNetDetector, detect_still, main_face

    face = main_face(detect_still(frame, YuNetDetector()))
    if face is None:
        raise ValueError("no face in the chip frame")
    return face.box
