"""Debian packaging (issue #8): the sources in packaging/debian, and the .debs build-deb.sh makes.

The fast tests read the sources (units, udev rules, maintainer scripts). The slow ones build the
three packages once (a venv with every dependency: a couple of minutes with a warm pip cache) and
check them with dpkg-deb and lintian.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from devices.base import DeviceKind
from devices.registry import KNOWN_USB

ROOT = Path(__file__).resolve().parent.parent
DEBIAN = ROOT / "packaging" / "debian"
KIOSK_UNIT = DEBIAN / "hospital-kiosk" / "lib" / "systemd" / "system" / "hospital-kiosk.service"
SERVER_UNIT = DEBIAN / "hospital-kiosk-server" / "lib" / "systemd" / "system" / "hospital-kiosk-server.service"
UDEV_RULES = DEBIAN / "hospital-kiosk" / "lib" / "udev" / "rules.d" / "60-hospital-kiosk.rules"
PACKAGES = ("hospital-kiosk-python", "hospital-kiosk", "hospital-kiosk-server")
CREDENTIALS = "/etc/hospital-kiosk/credentials"  # root 0700; the kiosk unit loads it whole
CREDENTIAL_ID = "hospital-kiosk"


def unit_settings(path: Path) -> dict[str, list[str]]:
    """Key -> every value it is given (systemd allows repeated keys such as After=)."""
    settings: dict[str, list[str]] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";", "[")):
            continue
        key, _, value = line.partition("=")
        settings.setdefault(key, []).append(value)
    return settings


# --- systemd units ----------------------------------------------------------------------------------


def test_kiosk_unit_runs_cage_on_tty1_with_watchdog_and_start_limit() -> None:
    s = unit_settings(KIOSK_UNIT)
    assert s["ExecStart"] == [
        "/usr/bin/cage -- /opt/hospital-kiosk/bin/kiosk --kiosk --config /etc/hospital-kiosk/kiosk.toml"
    ]
    assert s["User"] == ["kiosk"] and s["PAMName"] == ["login"] and s["TTYPath"] == ["/dev/tty1"]
    assert s["Type"] == ["notify"] and s["Restart"] == ["always"]
    assert int(s["WatchdogSec"][0]) > 0
    # the app is cage's child, so systemd must accept notifications from outside the main process
    assert s["NotifyAccess"] == ["all"]
    assert int(s["StartLimitBurst"][0]) > 1 and int(s["StartLimitIntervalSec"][0]) > 0
    assert "getty@tty1.service" in s["Conflicts"]
    # the whole root-only directory: a kiosk not enrolled yet (no kiosk.credential) still starts
    assert s["LoadCredential"] == [f"{CREDENTIAL_ID}:{CREDENTIALS}"]


def test_the_app_finds_each_secret_systemd_hands_over(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What systemd makes of the directory (``<id>_<file>``) is what sync/credentials.py looks up,
    for the file names the postinst creates and enrollment writes."""
    from sync.credentials import resolve

    postinst = (DEBIAN / "hospital-kiosk" / "DEBIAN" / "postinst").read_text()
    created = re.search(r"for key in ([\w. -]+); do", postinst)
    assert created is not None
    names = [*created.group(1).split(), "kiosk.credential"]
    assert names == ["kiosk-data.key", "face-template.key", "kiosk.credential"]
    for name in names:
        (tmp_path / f"{CREDENTIAL_ID}_{name}").write_bytes(b"x")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(tmp_path))
    for name in names:
        assert resolve(Path(CREDENTIALS) / name) == tmp_path / f"{CREDENTIAL_ID}_{name}"


def test_server_unit_takes_its_key_as_a_credential() -> None:
    s = unit_settings(SERVER_UNIT)
    assert s["User"] == ["kiosk-server"] and s["Restart"] == ["always"]
    assert s["LoadCredential"] == ["server-key:/etc/hospital-kiosk-server/credentials/server.key"]
    assert "--key %d/server-key" in s["ExecStart"][0]
    assert "postgresql.service" in " ".join(s["After"])


def test_no_secret_in_shipped_config() -> None:
    text = (ROOT / "config" / "kiosk.toml").read_text()
    assert not re.search(r"^\s*(credential_file|template_key_file|data_key_file)\s*=", text, re.M)
    env = (DEBIAN / "hospital-kiosk-server" / "etc" / "hospital-kiosk-server" / "server.env").read_text()
    assert not re.search(r"password|secret|://[^/\s]*:[^@\s]*@", env.split("KIOSK_SERVER_OPTS=")[-1], re.I)


@pytest.fixture
def verify_copies(tmp_path: Path) -> Iterator[list[Path]]:
    """The units with /opt/hospital-kiosk/bin pointed at stand-ins: verify checks every ExecStart
    binary exists, and the venv is not installed on the test machine."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    for name in ("kiosk", "kiosk-server", "cage"):
        stub = bindir / name
        stub.write_text("#!/bin/sh\n")
        stub.chmod(0o755)
    copies = []
    for unit in (KIOSK_UNIT, SERVER_UNIT):
        text = unit.read_text().replace("/opt/hospital-kiosk/bin/", f"{bindir}/")
        if not Path("/usr/bin/cage").exists():  # packaging/bootstrap.sh installs it; else a stand-in
            text = text.replace("/usr/bin/cage", f"{bindir}/cage")
        copy = tmp_path / unit.name
        copy.write_text(text)
        copies.append(copy)
    yield copies


def test_systemd_analyze_verify(verify_copies: list[Path]) -> None:
    tool = shutil.which("systemd-analyze")
    if tool is None:
        pytest.skip("systemd-analyze is not installed (Debian package systemd)")
    for unit in verify_copies:
        result = subprocess.run([tool, "verify", str(unit)], capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, f"{unit.name}: {result.stdout}{result.stderr}"
        assert "hospital-kiosk" not in result.stderr, result.stderr  # warnings about our units


# --- udev --------------------------------------------------------------------------------------------


def udev_rules() -> list[str]:
    return [ln for ln in UDEV_RULES.read_text().splitlines() if ln.strip() and not ln.startswith("#")]


def test_udev_rules_name_every_known_usb_device() -> None:
    rules = udev_rules()
    expected_link = {None: "kiosk/idreader", DeviceKind.SCANNER: "kiosk/scanner", DeviceKind.PRINTER: "kiosk/printer"}
    for entry in KNOWN_USB:
        vid = f'ATTRS{{idVendor}}=="{entry.vid:04x}"'
        matching = [r for r in rules if vid in r and f'SYMLINK+="{expected_link[entry.kind]}"' in r]
        if entry.pid is not None:
            matching = [r for r in matching if f'ATTRS{{idProduct}}=="{entry.pid:04x}"' in r]
        assert matching, f"no udev rule names {entry.description} /dev/{expected_link[entry.kind]}"


def test_udev_rules_grant_groups_the_kiosk_user_is_in() -> None:
    postinst = (DEBIAN / "hospital-kiosk" / "DEBIAN" / "postinst").read_text()
    user_groups = set(re.search(r"for group in ([\w ]+); do", postinst).group(1).split())  # type: ignore[union-attr]
    for rule in udev_rules():
        if "SYMLINK" in rule or "GROUP" in rule:
            group = re.search(r'GROUP="(\w+)"', rule)
            assert group and group.group(1) in user_groups, rule
            assert 'MODE="0660"' in rule, rule
            assert re.search(r'SUBSYSTEM=="(tty|usbmisc|usb|input)"', rule), rule


# --- maintainer scripts ------------------------------------------------------------------------------


def test_maintainer_scripts_are_valid_posix_shell() -> None:
    scripts = sorted(DEBIAN.glob("*/DEBIAN/p*"))
    assert len(scripts) == 8
    for script in scripts:
        if script.name.endswith(".in"):
            continue
        assert script.read_text().startswith("#!/bin/sh\n"), script
        result = subprocess.run(["sh", "-n", str(script)], capture_output=True, text=True)
        assert result.returncode == 0, f"{script}: {result.stderr}"


DEBOOTSTRAP_CACHE = Path("/var/tmp/hospital-kiosk-debootstrap-cache")  # the .debs, kept between runs
MIRROR = os.environ.get("KIOSK_DEBIAN_MIRROR", "http://deb.debian.org/debian")


@pytest.fixture(scope="module")
def debian_base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A minimal Debian 12 (debootstrap minbase): root, debootstrap and the mirror needed."""
    if os.geteuid() != 0:
        pytest.skip("debootstrap and chroot need root")
    if shutil.which("debootstrap") is None:
        pytest.skip("debootstrap is not installed (packaging/bootstrap.sh installs it)")
    root = tmp_path_factory.mktemp("chroot") / "root"
    DEBOOTSTRAP_CACHE.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        ["debootstrap", "--variant=minbase", f"--cache-dir={DEBOOTSTRAP_CACHE}", "bookworm", str(root), MIRROR],
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return root


@pytest.fixture
def debian_root(debian_base: Path, tmp_path: Path) -> Path:
    """A fresh copy of the minimal Debian for each test: none sees another's maintainer scripts."""
    root = tmp_path / "root"
    subprocess.run(["cp", "-a", str(debian_base), str(root)], check=True)
    return root


def in_root(root: Path, *cmd: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "DEBIAN_FRONTEND": "noninteractive", "LC_ALL": "C"}
    return subprocess.run(["chroot", str(root), *cmd], capture_output=True, text=True, timeout=1800, env=env)


@pytest.mark.slow
def test_postinst_creates_the_user_and_purge_removes_it_in_a_chroot(debian_root: Path) -> None:
    """postinst configure: the kiosk user in the device groups, its state directory, the template
    key; a second configure keeps the key; postrm purge removes all of them."""
    root = debian_root
    for name in ("postinst", "postrm"):
        shutil.copy(DEBIAN / "hospital-kiosk" / "DEBIAN" / name, root / "tmp" / f"kiosk.{name}")
    if not (root / "usr" / "sbin" / "adduser").exists():
        result = in_root(root, "apt-get", "install", "-y", "-qq", "adduser")
        assert result.returncode == 0, result.stderr
    result = in_root(root, "sh", "/tmp/kiosk.postinst", "configure", "")
    assert result.returncode == 0, result.stderr
    passwd = (root / "etc" / "passwd").read_text()
    assert re.search(r"^kiosk:x:\d+:\d+:hospital kiosk[^:]*:/var/lib/hospital-kiosk:/usr/sbin/nologin$", passwd, re.M)
    groups = in_root(root, "id", "-nG", "kiosk").stdout.split()
    # minbase has no "input" group (udev creates it); every group that exists is joined
    assert {"kiosk", "dialout", "plugdev", "video", "lp"} <= set(groups), groups
    state = root / "var" / "lib" / "hospital-kiosk"
    assert state.is_dir() and state.stat().st_mode & 0o777 == 0o750
    keys = [root / CREDENTIALS.lstrip("/") / name for name in ("kiosk-data.key", "face-template.key")]
    for key in keys:
        assert key.stat().st_size == 32 and key.stat().st_mode & 0o077 == 0 and key.stat().st_uid == 0
    assert keys[0].read_bytes() != keys[1].read_bytes()
    before = [key.read_bytes() for key in keys]
    assert in_root(root, "sh", "/tmp/kiosk.postinst", "configure", "0.1.0-1").returncode == 0
    assert [key.read_bytes() for key in keys] == before  # an upgrade never replaces a key

    result = in_root(root, "sh", "/tmp/kiosk.postrm", "purge")
    assert result.returncode == 0, result.stderr
    assert not re.search(r"^kiosk:", (root / "etc" / "passwd").read_text(), re.M)
    assert not re.search(r"^kiosk:", (root / "etc" / "group").read_text(), re.M)
    assert not state.exists() and not (root / "etc" / "hospital-kiosk").exists()


# --- the built packages (slow) -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("deb")
    result = subprocess.run(
        ["bash", str(ROOT / "packaging" / "build-deb.sh")],
        env={**os.environ, "OUT": str(out)},
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    debs = {p.name.split("_")[0]: p for p in out.glob("*.deb")}
    assert set(debs) == set(PACKAGES), sorted(debs)
    return debs


def control(deb: Path) -> dict[str, str]:
    text = subprocess.run(["dpkg-deb", "-f", str(deb)], capture_output=True, text=True, check=True).stdout
    fields: dict[str, str] = {}
    key = ""
    for line in text.splitlines():
        if line.startswith(" ") and key:
            fields[key] += "\n" + line
        else:
            key, _, value = line.partition(": ")
            fields[key] = value
    return fields


def deb_file(deb: Path, member: str) -> str:
    with_ctrl = subprocess.run(["dpkg-deb", "--ctrl-tarfile", str(deb)], capture_output=True, check=True).stdout
    return subprocess.run(
        ["tar", "-xOf", "-", f"./{member}"], input=with_ctrl, capture_output=True, check=True
    ).stdout.decode()


@pytest.mark.slow
def test_control_fields(built: dict[str, Path]) -> None:
    version = control(built["hospital-kiosk"])["Version"]
    assert built["hospital-kiosk"].name == f"hospital-kiosk_{version}_amd64.deb"
    kiosk = control(built["hospital-kiosk"])
    depends = {d.strip().split(" ")[0] for d in kiosk["Depends"].split(",")}
    assert {"hospital-kiosk-python", "cage", "pcscd", "fonts-noto-cjk", "espeak-ng", "libxkbcommon0"} <= depends
    assert f"hospital-kiosk-python (= {version})" in kiosk["Depends"]
    py = control(built["hospital-kiosk-python"])
    assert py["Depends"].startswith("python3.11") and py["Architecture"] == "amd64"
    server = control(built["hospital-kiosk-server"])
    assert "postgresql" in server["Recommends"]
    for deb in built.values():
        fields = control(deb)
        assert fields["Maintainer"] and fields["Description"] and int(fields["Installed-Size"]) > 0


@pytest.mark.slow
def test_conffiles(built: dict[str, Path]) -> None:
    assert deb_file(built["hospital-kiosk"], "conffiles").split() == ["/etc/hospital-kiosk/kiosk.toml"]
    assert deb_file(built["hospital-kiosk-server"], "conffiles").split() == ["/etc/hospital-kiosk-server/server.env"]


@pytest.mark.slow
def test_shipped_config_validates_with_state_in_var_lib(built: dict[str, Path], tmp_path: Path) -> None:
    subprocess.run(["dpkg-deb", "-x", str(built["hospital-kiosk"]), str(tmp_path)], check=True)
    from kiosk_app.config import load

    config = load(tmp_path / "etc" / "hospital-kiosk" / "kiosk.toml")
    assert config.data_dir == Path("/var/lib/hospital-kiosk")
    # every secret in the directory the unit loads as credentials, none in the state directory
    secrets = [config.credential_path, config.data_key_path, config.face.template_key_file]
    assert secrets == [Path(CREDENTIALS) / n for n in ("kiosk.credential", "kiosk-data.key", "face-template.key")]


@pytest.mark.slow
def test_packaged_venv_runs_kiosk_version(built: dict[str, Path], tmp_path: Path) -> None:
    """The venv's scripts point at /opt/hospital-kiosk; run its python from the unpacked tree."""
    subprocess.run(["dpkg-deb", "-x", str(built["hospital-kiosk-python"]), str(tmp_path)], check=True)
    venv = tmp_path / "opt" / "hospital-kiosk"
    assert (venv / "bin" / "kiosk").read_text().startswith("#!/opt/hospital-kiosk/bin/python\n")
    assert "/usr/bin" in (venv / "pyvenv.cfg").read_text()
    assert os.readlink(venv / "bin" / "python3.11") == "/usr/bin/python3.11"
    code = "import sys; sys.argv = ['kiosk', '--version']; from kiosk_app.main import main; sys.exit(main())"
    result = subprocess.run([str(venv / "bin" / "python"), "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"kiosk {control(built['hospital-kiosk'])['Version'].split('-')[0]}"


@pytest.mark.slow
def test_lintian(built: dict[str, Path]) -> None:
    """Errors and warnings fail; each override is justified in its overrides file."""
    lintian = shutil.which("lintian")
    if lintian is None:
        pytest.skip("lintian is not installed (packaging/bootstrap.sh installs it)")
    result = subprocess.run(
        [lintian, "--fail-on", "error,warning", *map(str, built.values())],
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_install_and_purge_in_a_chroot(debian_root: Path, built: dict[str, Path]) -> None:
    """apt installs the three packages with their dependencies in a fresh Debian 12; the user and
    directories exist, the shipped config validates, kiosk --version runs; purge removes them."""
    root = debian_root
    debs = root / "tmp" / "debs"
    debs.mkdir(exist_ok=True)
    for deb in built.values():
        shutil.copy(deb, debs / deb.name)
    policy = root / "usr" / "sbin" / "policy-rc.d"  # no service starts inside the chroot
    policy.write_text("#!/bin/sh\nexit 101\n")
    policy.chmod(0o755)
    shutil.copy("/etc/resolv.conf", root / "etc" / "resolv.conf")
    assert in_root(root, "apt-get", "update", "-qq").returncode == 0
    result = in_root(root, "sh", "-c", "apt-get install -y -qq --no-install-recommends /tmp/debs/*.deb")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]

    assert re.search(r"^kiosk:", (root / "etc" / "passwd").read_text(), re.M)
    assert re.search(r"^kiosk-server:", (root / "etc" / "passwd").read_text(), re.M)
    assert (root / "var" / "lib" / "hospital-kiosk").is_dir()
    assert (root / "var" / "lib" / "hospital-kiosk-server").is_dir()
    assert (root / "etc" / "hospital-kiosk-server" / "credentials" / "server.key").stat().st_size == 32
    assert (root / "etc" / "systemd" / "system" / "multi-user.target.wants" / "hospital-kiosk.service").is_symlink()
    version = in_root(root, "/opt/hospital-kiosk/bin/kiosk", "--version")
    assert version.returncode == 0, version.stderr
    assert version.stdout.strip() == "kiosk " + control(built["hospital-kiosk"])["Version"].split("-")[0]
    check = (
        "from pathlib import Path; from kiosk_app.config import load; "
        "print(load(Path('/etc/hospital-kiosk/kiosk.toml')).data_dir)"
    )
    config = in_root(root, "/opt/hospital-kiosk/bin/python", "-c", check)
    assert config.returncode == 0 and config.stdout.strip() == "/var/lib/hospital-kiosk", config.stderr
    server = in_root(root, "/opt/hospital-kiosk/bin/kiosk-server", "--help")
    assert server.returncode == 0, server.stderr
    check_secrets_as_the_kiosk_user(root)

    result = in_root(root, "apt-get", "purge", "-y", "-qq", *PACKAGES)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    for path in (
        "opt/hospital-kiosk",
        "etc/hospital-kiosk",
        "etc/hospital-kiosk-server",
        "var/lib/hospital-kiosk",
        "var/lib/hospital-kiosk-server",
        "lib/systemd/system/hospital-kiosk.service",
        "lib/udev/rules.d/60-hospital-kiosk.rules",
    ):
        assert not (root / path).exists(), path
    passwd = (root / "etc" / "passwd").read_text()
    assert not re.search(r"^kiosk(-server)?:", passwd, re.M)
    assert not list((root / "etc" / "systemd" / "system").rglob("hospital-kiosk*"))


def check_secrets_as_the_kiosk_user(root: Path) -> None:
    """The user kiosk cannot open the root-only secrets; given the copies systemd would make
    (``LoadCredential=hospital-kiosk:<dir>``: ``<id>_<file>``, 0400, owned by the service user;
    no systemd runs in the chroot, so the copy is made here) the packaged app reads its keys
    from them and reports the kiosk as not enrolled yet rather than failing."""
    assert in_root(root, "runuser", "-u", "kiosk", "--", "cat", f"{CREDENTIALS}/kiosk-data.key").returncode != 0
    run = "/run/credentials/hospital-kiosk.service"
    copy = (
        f"mkdir -p {run} && for f in {CREDENTIALS}/*; do "
        f'install -m 0400 -o kiosk -g kiosk "$f" "{run}/{CREDENTIAL_ID}_$(basename "$f")"; done'
    )
    assert in_root(root, "sh", "-c", copy).returncode == 0
    code = (
        "from pathlib import Path\n"
        "from kiosk_app.app import load_kiosk_credential\n"
        "from kiosk_app.config import load\n"
        "from face.templates import load_key\n"
        "from sync.credentials import resolve\n"
        "from sync.fieldcrypto import load_or_create_key\n"
        "c = load(Path('/etc/hospital-kiosk/kiosk.toml'))\n"
        "data = load_or_create_key(resolve(c.data_key_path))\n"
        "face = load_key(c.face_settings, c.data_dir)\n"
        "print(len(data), len(face), data != face, load_kiosk_credential(c))\n"
    )
    result = in_root(
        root, "runuser", "-u", "kiosk", "--", "env", f"CREDENTIALS_DIRECTORY={run}",
        "/opt/hospital-kiosk/bin/python", "-c", code,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["32", "32", "True", "None"], result.stdout + result.stderr
    assert "not enrolled" in result.stderr
