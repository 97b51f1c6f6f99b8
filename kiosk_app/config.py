"""One TOML config file, validated at start.

An unknown key or a bad value stops start-up with a message naming the key
(``ConfigError("kiosk.idle_timeout_s: must be an integer between 15 and 600")``), so a typo
in the field never silently falls back to a default. No Qt here: the config is read before
the QApplication exists.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from devices.url import parse_device_url
from face.settings import DETECTORS, ENCODERS, FaceSettings
from kiosk_app.speech import VoiceSettings


class ConfigError(ValueError):
    """A config problem, its message names the offending key."""


Check = Callable[[Any], Any]


def _int(lo: int, hi: int) -> Check:
    def check(v: Any) -> int:
        if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
            raise ValueError(f"must be an integer between {lo} and {hi}")
        return v

    return check


def _float(lo: float, hi: float) -> Check:
    def check(v: Any) -> float:
        if isinstance(v, bool) or not isinstance(v, int | float) or not lo <= v <= hi:
            raise ValueError(f"must be a number between {lo} and {hi}")
        return float(v)

    return check


def _choice(*options: str) -> Check:
    def check(v: Any) -> str:
        if v not in options:
            raise ValueError(f"must be one of {', '.join(options)}")
        return str(v)

    return check


def _str(v: Any) -> str:
    if not isinstance(v, str) or not v.strip():
        raise ValueError("must be a non-empty string")
    return v


def _bool(v: Any) -> bool:
    if not isinstance(v, bool):
        raise ValueError("must be true or false")
    return v


def _str_list(v: Any) -> tuple[str, ...]:
    if not isinstance(v, list) or not all(isinstance(x, str) and x.strip() for x in v):
        raise ValueError("must be a list of non-empty strings")
    return tuple(v)


def _device_url(v: Any) -> str:
    parse_device_url(_str(v))  # raises ValueError naming the problem
    return str(v)


def _http_url(v: Any) -> str:
    if not isinstance(v, str) or not v.startswith(("http://", "https://")):
        raise ValueError("must be an http:// or https:// URL")
    return v.rstrip("/")


# section -> key -> validator; the single source of truth for what a config may hold.
SCHEMA: dict[str, dict[str, Check]] = {
    "kiosk": {
        "id": _str,
        "role": _choice("lobby", "cashier"),
        "hospital_name_zh": _str,
        "hospital_name_en": _str,
        "language": _choice("zh_CN", "en"),
        "elderly_mode": _bool,
        "idle_timeout_s": _int(15, 600),
        "idle_warning_s": _int(3, 60),
        "data_dir": _str,
    },
    "server": {
        "url": _http_url,
        "connect_timeout_s": _float(0.1, 30),
        "read_timeout_s": _float(0.5, 120),
        "heartbeat_interval_s": _float(1, 300),
        # The kiosk's credential from enrollment (python main.py --enroll); default <data_dir>/kiosk.credential
        "credential_file": _str,
    },
    "payment": {
        "poll_interval_s": _float(0.1, 30),
        "deadline_s": _float(5, 600),
    },
    "offline": {
        "registration": _bool,  # browse the cached catalog and queue "pending confirmation" bookings
        "filing": _bool,  # queue a first-time patient's record with the booking
        "max_rows": _int(100, 10_000_000),
        "max_mb": _int(1, 100_000),
        # While offline, /health is probed every N to 2N seconds (jittered, so a fleet does not probe in step).
        "probe_interval_s": _float(1, 600),
        "data_key_file": _str,  # AES key for the outbox and patient cache; default <data_dir>/kiosk-data.key
    },
    "devices.id_reader": {
        "url": _device_url,
        "enabled": _bool,
        "poll_interval_s": _float(0.05, 5),
        "wlt_decoder": _str,  # path of the reader vendor's WLT photo library (licensed, not shipped)
    },
    "devices.insurance_card": {"url": _device_url, "enabled": _bool},
    "devices.scanner": {"url": _device_url, "enabled": _bool, "suffix": _choice("CR", "LF", "CRLF", "TAB", "ANY")},
    "devices.printer": {"url": _device_url, "enabled": _bool, "profile": _str},
    "devices.camera": {"url": _device_url, "enabled": _bool, "fps": _float(1, 60)},
    "face": {
        "enabled": _bool,  # face verification at first-time filing (needs devices.camera enabled)
        "encoder": _choice(*ENCODERS),
        "encoder_model": _str,  # another model file for the encoder; default: the one installed with the kiosk
        "threshold": _float(0, 2),  # default: the encoder's own; calibrate with `python -m face.calibrate`
        "detector": _choice(*DETECTORS),
        "liveness_timeout_s": _float(2, 60),
        "challenge_actions": _int(1, 4),
        "retries": _int(0, 5),  # "try again" offers after a failed check, before only the staff path is left
        "template_key_file": _str,  # default <data_dir>/face-template.key; read via sync.credentials.resolve
        "keep_frames": _bool,  # debugging only: keeps captured frames on disk (a WARNING is logged at start)
    },
    "voice": {
        "enabled": _bool,  # spoken prompts through espeak-ng (Mandarin / English)
        "command": _str,
        "rate_wpm": _int(80, 400),
        "elderly_rate_wpm": _int(80, 400),
        "volume": _int(0, 200),
    },
    "diagnostics": {
        # PBKDF2-SHA256 hash of the technician PIN: "pbkdf2_sha256$<iterations>$<salt hex>$<hash hex>";
        # `python -m kiosk_app.diagnostics.pin` prints one. Never the PIN itself.
        "pin_hash": _str,
        # Staff ID cards that open diagnostics: PBKDF2 hashes of their ID numbers, same format
        # (`python -m kiosk_app.diagnostics.pin --staff-card` prints one). Never the number.
        "staff_cards": _str_list,
        "max_attempts": _int(3, 10),
        "lockout_s": _int(60, 3600),
    },
}


@dataclass(frozen=True)
class DeviceConfig:
    url: str
    enabled: bool = True
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Config:
    kiosk_id: str = "KIOSK-01"
    role: str = "lobby"
    hospital_name_zh: str = "示范医院"
    hospital_name_en: str = "Demo Hospital"
    language: str = "zh_CN"
    elderly_mode: bool = False
    idle_timeout_s: int = 60
    idle_warning_s: int = 10
    data_dir: Path = Path("var")
    server_url: str = "http://127.0.0.1:8700"
    connect_timeout_s: float = 3.05
    read_timeout_s: float = 10.0
    heartbeat_interval_s: float = 15.0
    credential_file: Path | None = None  # None: <data_dir>/kiosk.credential
    pay_poll_interval_s: float = 1.0
    pay_deadline_s: float = 90.0
    id_reader: DeviceConfig = DeviceConfig("serial:///dev/kiosk/idreader?baud=115200")
    scanner: DeviceConfig = DeviceConfig("serial:///dev/kiosk/scanner?baud=9600")
    printer: DeviceConfig = DeviceConfig("tcp://127.0.0.1:9100", options={"profile": "default-80mm"})
    insurance_card: DeviceConfig = DeviceConfig("pcsc://", enabled=False)
    camera: DeviceConfig = DeviceConfig("camera://0", enabled=False, options={"fps": 15.0})
    # Technician PIN hash (see SCHEMA["diagnostics"]); "" means diagnostics cannot be entered by PIN.
    diagnostics_pin_hash: str = ""
    diagnostics_staff_cards: tuple[str, ...] = ()
    diagnostics_max_attempts: int = 5
    diagnostics_lockout_s: int = 300
    offline_registration: bool = True
    offline_filing: bool = True
    outbox_max_rows: int = 100_000
    outbox_max_mb: int = 200
    offline_probe_interval_s: float = 30.0
    data_key_file: Path | None = None  # None: <data_dir>/kiosk-data.key
    face: FaceSettings = field(default_factory=FaceSettings)  # its files are placed in data_dir: see face_settings
    face_retries: int = 2
    voice: VoiceSettings = field(default_factory=VoiceSettings)

    @property
    def credential_path(self) -> Path:
        """Where the kiosk's signing credential lives (written by enrollment, mode 0600)."""
        return self.credential_file if self.credential_file is not None else self.data_dir / "kiosk.credential"

    @property
    def data_key_path(self) -> Path:
        """The key that seals the outbox and the recent-patient cache (created on first start, mode 0600)."""
        return self.data_key_file if self.data_key_file is not None else self.data_dir / "kiosk-data.key"

    @property
    def face_settings(self) -> FaceSettings:
        """``[face]`` with its files (model cache, templates, debug frames) in this kiosk's data_dir."""
        return replace(
            self.face,
            cache_dir=self.data_dir / "face-cache",
            template_db=self.data_dir / "face-templates.db",
            keep_frames_dir=self.data_dir / "face-debug",
        )

    def with_devices(self, *, id_reader: str, scanner: str, printer: str) -> Config:
        """The same config with other device URLs (the demo points them at emulators)."""
        return replace(
            self,
            id_reader=replace(self.id_reader, url=id_reader),
            scanner=replace(self.scanner, url=scanner),
            printer=replace(self.printer, url=printer),
        )


def _flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, dict[str, Any]]:
    """Turn nested TOML tables into {"devices.printer": {...}} sections."""
    out: dict[str, dict[str, Any]] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            scalars = {k: v for k, v in value.items() if not isinstance(v, Mapping)}
            if scalars or name in SCHEMA:
                out[name] = scalars
            out.update(_flatten({k: v for k, v in value.items() if isinstance(v, Mapping)}, f"{name}."))
        else:
            raise ConfigError(f"{name}: unknown key (top-level keys must be tables)")
    return out


def validate(data: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Check every key against SCHEMA; return the validated sections."""
    sections = _flatten(data)
    checked: dict[str, dict[str, Any]] = {}
    for section, values in sections.items():
        if section not in SCHEMA:
            raise ConfigError(f"{section}: unknown section")
        for key, value in values.items():
            check = SCHEMA[section].get(key)
            if check is None:
                raise ConfigError(f"{section}.{key}: unknown key")
            try:
                checked.setdefault(section, {})[key] = check(value)
            except ValueError as err:
                raise ConfigError(f"{section}.{key}: {err}") from err
    kiosk = checked.get("kiosk", {})
    if kiosk.get("idle_warning_s", 10) >= kiosk.get("idle_timeout_s", 60):
        raise ConfigError("kiosk.idle_warning_s: must be shorter than kiosk.idle_timeout_s")
    return checked


def _device(base: DeviceConfig, values: Mapping[str, Any]) -> DeviceConfig:
    options = dict(base.options)
    options.update({k: v for k, v in values.items() if k not in ("url", "enabled")})
    return DeviceConfig(values.get("url", base.url), values.get("enabled", base.enabled), options)


def _optional_path(value: str | None, base_dir: Path | None) -> Path | None:
    """A configured file path, relative ones taken from ``base_dir``; None when not configured."""
    if value is None:
        return None
    path = Path(value)
    return base_dir / path if base_dir is not None and not path.is_absolute() else path


def from_mapping(data: Mapping[str, Any], *, base_dir: Path | None = None) -> Config:
    s = validate(data)
    d = Config()
    k, srv, pay = s.get("kiosk", {}), s.get("server", {}), s.get("payment", {})
    data_dir = Path(k.get("data_dir", str(d.data_dir)))
    if base_dir is not None and not data_dir.is_absolute():
        data_dir = base_dir / data_dir
    off = s.get("offline", {})
    credential_file = _optional_path(srv.get("credential_file"), base_dir)
    data_key_file = _optional_path(off.get("data_key_file"), base_dir)
    return Config(
        kiosk_id=k.get("id", d.kiosk_id),
        role=k.get("role", d.role),
        hospital_name_zh=k.get("hospital_name_zh", d.hospital_name_zh),
        hospital_name_en=k.get("hospital_name_en", d.hospital_name_en),
        language=k.get("language", d.language),
        elderly_mode=k.get("elderly_mode", d.elderly_mode),
        idle_timeout_s=k.get("idle_timeout_s", d.idle_timeout_s),
        idle_warning_s=k.get("idle_warning_s", d.idle_warning_s),
        data_dir=data_dir,
        server_url=srv.get("url", d.server_url),
        connect_timeout_s=srv.get("connect_timeout_s", d.connect_timeout_s),
        read_timeout_s=srv.get("read_timeout_s", d.read_timeout_s),
        heartbeat_interval_s=srv.get("heartbeat_interval_s", d.heartbeat_interval_s),
        credential_file=credential_file,
        pay_poll_interval_s=pay.get("poll_interval_s", d.pay_poll_interval_s),
        pay_deadline_s=pay.get("deadline_s", d.pay_deadline_s),
        id_reader=_device(d.id_reader, s.get("devices.id_reader", {})),
        scanner=_device(d.scanner, s.get("devices.scanner", {})),
        printer=_device(d.printer, s.get("devices.printer", {})),
        insurance_card=_device(d.insurance_card, s.get("devices.insurance_card", {})),
        camera=_device(d.camera, s.get("devices.camera", {})),
        diagnostics_pin_hash=s.get("diagnostics", {}).get("pin_hash", d.diagnostics_pin_hash),
        diagnostics_staff_cards=s.get("diagnostics", {}).get("staff_cards", d.diagnostics_staff_cards),
        diagnostics_max_attempts=s.get("diagnostics", {}).get("max_attempts", d.diagnostics_max_attempts),
        diagnostics_lockout_s=s.get("diagnostics", {}).get("lockout_s", d.diagnostics_lockout_s),
        offline_registration=off.get("registration", d.offline_registration),
        offline_filing=off.get("filing", d.offline_filing),
        outbox_max_rows=off.get("max_rows", d.outbox_max_rows),
        outbox_max_mb=off.get("max_mb", d.outbox_max_mb),
        offline_probe_interval_s=off.get("probe_interval_s", d.offline_probe_interval_s),
        data_key_file=data_key_file,
        face=_face(s.get("face", {}), base_dir),
        face_retries=s.get("face", {}).get("retries", d.face_retries),
        voice=VoiceSettings(**s.get("voice", {})),
    )


def _face(values: Mapping[str, Any], base_dir: Path | None) -> FaceSettings:
    d = FaceSettings()
    return FaceSettings(
        enabled=values.get("enabled", d.enabled),
        encoder=values.get("encoder", d.encoder),
        encoder_model=_optional_path(values.get("encoder_model"), base_dir),
        threshold=values.get("threshold", d.threshold),
        detector=values.get("detector", d.detector),
        liveness_timeout_s=values.get("liveness_timeout_s", d.liveness_timeout_s),
        challenge_actions=values.get("challenge_actions", d.challenge_actions),
        template_key_file=_optional_path(values.get("template_key_file"), base_dir),
        keep_frames=values.get("keep_frames", d.keep_frames),
    )


def load(path: Path) -> Config:
    """Read and validate a TOML file; every failure is a ConfigError with a clear message."""
    path = path.resolve()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as err:
        raise ConfigError(f"config file not found: {path}") from err
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: not valid TOML: {err}") from err
    return from_mapping(raw, base_dir=path.parent.parent if path.parent.name == "config" else path.parent)
